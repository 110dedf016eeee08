/*
 * mm_worker: the consumer side of minutes-worker. A stateless member of a
 * Kafka consumer group: consumes raw documents, extracts and parses them,
 * and writes the records together with the consumed offsets to PostgreSQL
 * in one transaction per batch (exactly-once effect). Documents that cannot
 * be extracted or parsed go to the dead-letter topic with error headers.
 *
 * The consumer loop follows librdkafka's examples/consumer.c.
 */
#include "mm_worker.h"

#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <malloc.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "mm_classify.h"
#include "mm_envelope.h"
#include "mm_attempts.h"
#include "mm_extract.h"
#include "mm_isolate.h"
#include "mm_sandbox.h"
#include "mm_kafka.h"
#include "mm_log.h"
#include "mm_metrics.h"
#include "mm_parser.h"
#include "mm_pipe.h"
#include "mm_source.h"
#include "mm_store.h"
#include "mm_text.h"

#ifndef MM_VERSION
#define MM_VERSION "0.0.0"
#endif

static int64_t now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A message dead-lettered in the current batch. */
struct mm_worker_s;
static int stop_deadline_passed(struct mm_worker_s *w);
static void heartbeat(struct mm_worker_s *w);

typedef struct dlq_entry_s {
        rd_kafka_message_t *msg; /* owned: the original message */
        char code[64];
        char reason[512];
        const char *stage; /* "extract" | "parse" | "store" */
        char timestamp[40];
        uint64_t id;       /* identifies the entry in delivery reports */
        int delivered;     /* 1 once the DLQ delivery report said OK */
        int failed;        /* 1 if the last delivery report said error */
        int permanent;     /* the last error will not go away by retrying */
        int in_flight;     /* produced, delivery report not yet served */
        int headers_only;  /* the copy carries no value (see produce_dlq) */
        char last_err[64]; /* name of the last delivery error */
} dlq_entry_t;

/* A partition assigned (or re-seeked) before its offset in PostgreSQL could
 * be read or the seek succeeded: it stays paused until service_pending
 * loads the offset and seeks it. */
typedef struct pending_s {
        char topic[256];
        int32_t partition;
        int64_t offset; /* seek here (a rewind), or PENDING_FROM_PG */
} pending_t;
#define PENDING_FROM_PG (-1001)

/* A message PostgreSQL refused (found by writing documents one by one).
 * The batch is re-read from Kafka; on the second pass the message is
 * dead-lettered with stage "store" (or only skipped if its DLQ copy is
 * already acknowledged). */
typedef struct poison_s {
        char topic[256];
        int32_t partition;
        int64_t offset;
        char reason[512];
} poison_t;

/* A consumed message in the read-ahead stage (mm_pipe): its attempt is
 * counted, and it is extracted and parsed, on the pipe's thread while this
 * thread may be writing the previous batch; it is then taken back in
 * consumption order (integrate) and joins the batch. PREP_REFUSED: its
 * attempt could not be counted; PREP_RETRY: the sandbox could not run or
 * finish for a reason outside it (extract_transient); both are rewound to
 * and tried again later, never dead-lettered. */
typedef enum { PREP_DOC, PREP_DLQ, PREP_REFUSED, PREP_RETRY } prep_kind_t;
typedef struct prep_s {
        rd_kafka_message_t *msg; /* owned */
        prep_kind_t kind;
        json_t *doc;       /* PREP_DOC: the batch record (owned) */
        char *doc_text;    /* PREP_DOC: its text for the write (mm_store_doc_text), or NULL */
        const char *stage; /* PREP_DLQ: "extract" | "parse" */
        char code[64];     /* PREP_DLQ */
        char reason[512];  /* PREP_DLQ: why; PREP_REFUSED, PREP_RETRY: the error */
        int pg_down;       /* not counted: PostgreSQL was unreachable */
        int64_t polled_at; /* now_ms() when it was consumed */
} prep_t;

typedef struct mm_worker_s {
        char masked_pg[1024];             /* the PostgreSQL URL with secrets masked, for logs */
        int closed;                       /* the consumer was closed by mm_worker_run */
        const volatile sig_atomic_t *run; /* cleared by the caller to stop */
        const char *group, *topic, *dlq_topic;
        size_t batch_size;
        int64_t batch_ms, shutdown_ms, retry_max_ms;
        size_t max_doc_bytes;
        size_t max_batch_bytes, batch_bytes; /* message bytes held by the batch */
        size_t dl_payload_cap;               /* bytes of a dead letter kept in SQL */
        int64_t rebalance_wait_ms;           /* bound of a wait inside a rebalance callback */
        int64_t liveness_ms;                 /* liveness-timeout-ms (0: off) */
        int64_t dlq_down_since;              /* 0 while dead letters are delivered */
        mm_classify_t *cls;                  /* kommune names of envelopes */
        mm_attempts_t *attempts;             /* which input crashed a worker (mm_attempts.h) */

        rd_kafka_t *consumer, *producer;
        mm_store_t *store;
        /* The read-ahead stage and what only its thread uses: the parser,
         * and a connection of its own for counting attempts. */
        mm_pipe_t *pipe;
        size_t ahead_bytes; /* message bytes in the pipe */
        int trim_due;       /* malloc_trim once idle (clear_batch) */
        mm_store_t *count_store;
        mm_parser_t *parser;
        mm_metrics_t *metrics; /* may be NULL */

        mm_store_batch_t *batch;
        /* The batch written last, its documents not yet freed: freeing
         * them takes 10-40 ms a batch, done while PostgreSQL works on the
         * next batch's documents (free_spent, mm_store_set_wait_cb). */
        mm_store_batch_t *spent;
        int spent_full, spent_big;
        size_t batch_msgs;
        int64_t batch_started;
        dlq_entry_t *dlq;
        size_t ndlq, capdlq;
        uint64_t next_dlq_id;

        poison_t *poison;
        size_t npoison, cappoison;
        pending_t *pending;
        size_t npending, cappending;
        int64_t pending_next_try, pending_backoff;
        int64_t rewind_backoff; /* grows while attempts cannot be counted */

        int paused;         /* all assigned partitions paused (DB down) */
        int in_flush;       /* flush_batch is running (rebalance guard) */
        int64_t stop_at;    /* graceful shutdown deadline, 0 while running */
        volatile int fatal; /* fatal librdkafka error seen */
} worker_t;

/* Liveness (/healthz): the main loop turns, and the read-ahead stage is
 * not stuck in one message for longer than the liveness timeout (its
 * count can wait on a hung PostgreSQL, as a batch write can). */
static void heartbeat(worker_t *w) {
        if (w->liveness_ms <= 0 || mm_pipe_busy_ms(w->pipe) < w->liveness_ms)
                mm_metrics_heartbeat(w->metrics);
}

/* 1 once a stop was requested and the graceful-stop deadline has passed.
 * The deadline starts with the first signal, wherever the worker is. */
static int stop_deadline_passed(worker_t *w) {
        if (*w->run && !w->fatal)
                return 0;
        if (!w->stop_at) {
                w->stop_at = now_ms() + w->shutdown_ms;
                mm_log(MM_LOG_INFO, "stop requested: finishing within %lld ms",
                       (long long)w->shutdown_ms);
        }
        return now_ms() >= w->stop_at;
}

/* ---------- callbacks ---------- */

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
        worker_t *w = opaque;
        if (err == RD_KAFKA_RESP_ERR__FATAL) {
                char fatal[512];
                rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
                mm_log(MM_LOG_ERROR, "fatal librdkafka error in %s: %s: %s", rd_kafka_name(rk),
                       rd_kafka_err2name(orig), fatal);
                w->fatal = 1; /* ends mm_worker_run's loop */
                return;
        }
        /* Transient: librdkafka retries by itself. */
        mm_log(MM_LOG_WARN, "librdkafka error in %s: %s: %s", rd_kafka_name(rk),
               rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

static int stats_cb(rd_kafka_t *rk, char *json, size_t json_len, void *opaque) {
        (void)rk;
        worker_t *w = opaque;
        char err[256];
        if (mm_metrics_update_stats(w->metrics, json, json_len, err, sizeof(err)) != 0)
                mm_log(MM_LOG_DEBUG, "stats: %s", err);
        return 0;
}

int mm_worker_dlq_error_permanent(int err) {
        switch ((rd_kafka_resp_err_t)err) {
        case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
        case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
        case RD_KAFKA_RESP_ERR_INVALID_RECORD:
        case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
        case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
        case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
        case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
        case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
        case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
        case RD_KAFKA_RESP_ERR_POLICY_VIOLATION:
                return 1;
        default:
                return 0;
        }
}

static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
        (void)rk;
        worker_t *w = opaque;
        /* The message opaque is the entry's id, not a pointer: entries move
         * (realloc, revoked partitions) and may be gone by the report. */
        uint64_t id = (uint64_t)(uintptr_t)m->_private;
        dlq_entry_t *e = NULL;
        for (size_t i = 0; i < w->ndlq; i++)
                if (w->dlq[i].id == id)
                        e = &w->dlq[i];
        if (!e)
                return;
        e->in_flight = 0;
        if (m->err) {
                e->failed = 1;
                e->permanent = mm_worker_dlq_error_permanent(m->err);
                snprintf(e->last_err, sizeof(e->last_err), "%s", rd_kafka_err2name(m->err));
                mm_log_msg(MM_LOG_WARN, rd_kafka_topic_name(e->msg->rkt), e->msg->partition,
                           e->msg->offset, "dead-letter delivery failed (%s): %s",
                           e->permanent ? "permanent" : "transient", rd_kafka_err2str(m->err));
        } else {
                e->delivered = 1;
                e->failed = 0;
        }
}

/* ---------- helpers ---------- */

static void iso_now(char *buf, size_t size) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        char day[32];
        strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf, size, "%s.%03dZ", day, (int)(ts.tv_nsec / 1000000L) % 1000);
}

/* Sleeps up to `ms` while serving the consumer (rebalances, errors).
 * Messages that arrive meanwhile (only possible for unpaused partitions)
 * are handed to `on_msg`. Returns early when a stop is requested. */
static void pump(worker_t *w, int timeout_ms);

static void serve_for(worker_t *w, int64_t ms) {
        int64_t end = now_ms() + ms;
        while (!w->fatal) {
                heartbeat(w); /* retrying a batch is alive */
                int64_t left = end - now_ms();
                if (left <= 0)
                        break;
                pump(w, (int)(left < 100 ? left : 100));
                rd_kafka_poll(w->producer, 0);
                if (stop_deadline_passed(w))
                        break;
        }
}

/* Where a partition with no offset in PostgreSQL starts: its first
 * offset, asked of the broker here (waiting until `end` at most). A
 * logical "beginning" would do, but librdkafka 2.0.2 resolves it for a
 * partition it has only just created by a timer that first fires 500 ms
 * later ("no current leader for partition"): half a second lost when a
 * group starts. If the broker does not answer, the logical beginning; if
 * the first offset moves on before the fetch, auto.offset.reset=earliest
 * applies. */
static int64_t first_offset(rd_kafka_t *rk, const rd_kafka_topic_partition_t *p, int64_t end) {
        int64_t lo = -1, hi = -1, left = end - now_ms();
        if (left <= 0)
                return RD_KAFKA_OFFSET_BEGINNING;
        rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(
                rk, p->topic, p->partition, &lo, &hi, (int)(left < 1000 ? left : 1000));
        if (e || lo < 0) {
                mm_log_msg(MM_LOG_DEBUG, p->topic, p->partition, -1,
                           "first offset not known (%s): starting at the logical beginning",
                           rd_kafka_err2str(e));
                return RD_KAFKA_OFFSET_BEGINNING;
        }
        return lo;
}

/* Pauses (or resumes) `parts` on a copy of the list: librdkafka writes
 * each partition's result into the list it is given, and `parts` goes on
 * to an assign call. */
static void set_paused(rd_kafka_t *rk, const rd_kafka_topic_partition_list_t *parts, int paused) {
        if (parts->cnt == 0)
                return;
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_copy(parts);
        if (paused)
                rd_kafka_pause_partitions(rk, l);
        else
                rd_kafka_resume_partitions(rk, l);
        rd_kafka_topic_partition_list_destroy(l);
}

static void pause_all(worker_t *w) {
        rd_kafka_topic_partition_list_t *a = NULL;
        if (rd_kafka_assignment(w->consumer, &a) == RD_KAFKA_RESP_ERR_NO_ERROR && a) {
                if (a->cnt > 0)
                        rd_kafka_pause_partitions(w->consumer, a);
                rd_kafka_topic_partition_list_destroy(a);
        }
        w->paused = 1;
        mm_log(MM_LOG_WARN, "paused all partitions until PostgreSQL is back");
}

static int is_pending(const worker_t *w, const char *topic, int32_t partition) {
        for (size_t i = 0; i < w->npending; i++)
                if (w->pending[i].partition == partition && !strcmp(w->pending[i].topic, topic))
                        return 1;
        return 0;
}

typedef struct cancel_arg_s {
        const char *topic;
        int32_t partition;
        int64_t from;
} cancel_arg_t;

static int ahead_matches(const void *job, void *arg) {
        const prep_t *j = job;
        const cancel_arg_t *a = arg;
        return j->msg->partition == a->partition && (a->from < 0 || j->msg->offset >= a->from) &&
               !strcmp(rd_kafka_topic_name(j->msg->rkt), a->topic);
}

/* Drops the read-ahead of `partition` from offset `from` on (negative: all
 * of it): the partition is about to be sought or given away, so those
 * messages come again (here or at the next owner). */
static void cancel_ahead(worker_t *w, const char *topic, int32_t partition, int64_t from) {
        if (!w->pipe)
                return;
        cancel_arg_t a = {topic, partition, from};
        size_t n = mm_pipe_cancel_if(w->pipe, ahead_matches, &a);
        if (n)
                mm_log_msg(MM_LOG_DEBUG, topic, partition, from,
                           "%zu read-ahead messages dropped: they come again", n);
}

/* Keeps `topic`/`partition` paused until it is sought (service_pending):
 * to `offset`, or (PENDING_FROM_PG) to its offset stored in PostgreSQL
 * once that can be read. Pausing also drops the messages librdkafka has
 * already fetched for it. */
static void add_pending_at(worker_t *w, const char *topic, int32_t partition, int64_t offset) {
        if (is_pending(w, topic, partition))
                return;
        if (w->npending == w->cappending) {
                size_t cap = w->cappending ? w->cappending * 2 : 8;
                pending_t *n = realloc(w->pending, cap * sizeof(*n));
                if (!n) {
                        mm_log(MM_LOG_ERROR, "out of memory");
                        abort();
                }
                w->pending = n;
                w->cappending = cap;
        }
        cancel_ahead(w, topic, partition, offset); /* PENDING_FROM_PG (< 0): all */
        pending_t *p = &w->pending[w->npending++];
        snprintf(p->topic, sizeof(p->topic), "%s", topic);
        p->partition = partition;
        p->offset = offset;
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, topic, partition);
        rd_kafka_pause_partitions(w->consumer, l);
        rd_kafka_topic_partition_list_destroy(l);
        w->pending_next_try = 0;
        w->pending_backoff = 100;
}

static void add_pending(worker_t *w, const char *topic, int32_t partition) {
        add_pending_at(w, topic, partition, PENDING_FROM_PG);
}

static void remove_pending(worker_t *w, const char *topic, int32_t partition) {
        for (size_t i = 0; i < w->npending; i++)
                if (w->pending[i].partition == partition && !strcmp(w->pending[i].topic, topic)) {
                        w->pending[i] = w->pending[--w->npending];
                        return;
                }
}

static void resume_all(worker_t *w) {
        rd_kafka_topic_partition_list_t *a = NULL;
        if (rd_kafka_assignment(w->consumer, &a) == RD_KAFKA_RESP_ERR_NO_ERROR && a) {
                /* partitions whose offset is not known yet stay paused */
                for (int i = a->cnt - 1; i >= 0; i--)
                        if (is_pending(w, a->elems[i].topic, a->elems[i].partition))
                                rd_kafka_topic_partition_list_del_by_idx(a, i);
                if (a->cnt > 0)
                        rd_kafka_resume_partitions(w->consumer, a);
                rd_kafka_topic_partition_list_destroy(a);
        }
        w->paused = 0;
        mm_log(MM_LOG_INFO, "resumed all partitions");
}

/* Loads the offset of one partition from PostgreSQL, retrying with backoff
 * while the database is unavailable, for at most `max_ms` (bounded: it runs
 * inside rebalance callbacks). Returns -1 (and *off unchanged) when the time
 * is up or the worker is stopping. */
static int load_offset_retry(worker_t *w, const char *topic, int32_t partition, int64_t *off,
                             int64_t max_ms) {
        int64_t backoff = 100, end = now_ms() + max_ms;
        char err[512];
        for (;;) {
                heartbeat(w); /* retrying is alive */
                if (mm_store_load_offset(w->store, w->group, topic, partition, off, err,
                                         sizeof(err)) == 0) {
                        mm_metrics_set_db_ok(w->metrics, 1);
                        return 0;
                }
                mm_metrics_set_db_ok(w->metrics, 0);
                mm_metrics_add_db_retry(w->metrics);
                int64_t left = end - now_ms();
                mm_log_msg(MM_LOG_WARN, topic, partition, -1, "cannot read stored offset%s: %s",
                           left > 0 ? ", retrying" : "; the partition stays paused until it can",
                           err);
                if (!*w->run || w->fatal || left <= 0)
                        return -1;
                usleep((useconds_t)(backoff < left ? backoff : left) * 1000);
                backoff = backoff * 2 > w->retry_max_ms ? w->retry_max_ms : backoff * 2;
        }
}

/* Seeks one partition to `off` (-1: the beginning), dropping its
 * read-ahead. Returns 0 or -1. */
static int seek_one(worker_t *w, const char *topic, int32_t partition, int64_t off) {
        cancel_ahead(w, topic, partition, -1);
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, topic, partition)->offset =
                off >= 0 ? off : RD_KAFKA_OFFSET_BEGINNING;
        int rc = 0;
        rd_kafka_error_t *e = rd_kafka_seek_partitions(w->consumer, l, 5000);
        if (e) {
                mm_log_msg(MM_LOG_WARN, topic, partition, off, "seek failed: %s",
                           rd_kafka_error_string(e));
                rd_kafka_error_destroy(e);
                rc = -1;
        } else if (l->elems[0].err) {
                mm_log_msg(MM_LOG_WARN, topic, partition, off, "seek failed: %s",
                           rd_kafka_err2str(l->elems[0].err));
                rc = -1;
        }
        rd_kafka_topic_partition_list_destroy(l);
        return rc;
}

/* Loads and seeks the pending partitions (with backoff between rounds);
 * resumes each one that is done, unless all partitions are paused. */
static void service_pending(worker_t *w) {
        if (!w->npending || now_ms() < w->pending_next_try)
                return;
        char err[512];
        for (size_t i = 0; i < w->npending;) {
                pending_t p = w->pending[i];
                int64_t off = p.offset;
                if ((p.offset == PENDING_FROM_PG &&
                     mm_store_load_offset(w->store, w->group, p.topic, p.partition, &off, err,
                                          sizeof(err)) != 0) ||
                    seek_one(w, p.topic, p.partition, off) != 0) {
                        i++;
                        continue;
                }
                mm_log_msg(MM_LOG_INFO, p.topic, p.partition, off, "partition sought to %s",
                           p.offset == PENDING_FROM_PG ? "the offset stored in PostgreSQL"
                                                       : "the input not yet counted");
                remove_pending(w, p.topic, p.partition);
                if (!w->paused) {
                        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
                        rd_kafka_topic_partition_list_add(l, p.topic, p.partition);
                        rd_kafka_resume_partitions(w->consumer, l);
                        rd_kafka_topic_partition_list_destroy(l);
                }
        }
        w->pending_next_try = now_ms() + w->pending_backoff;
        w->pending_backoff =
                w->pending_backoff * 2 > w->retry_max_ms ? w->retry_max_ms : w->pending_backoff * 2;
        /* paused for rewinds only (no batch to retry): go on */
        if (!w->npending && w->paused && !w->batch_msgs && !w->in_flush)
                resume_all(w);
}

static void drop_partition_from_batch(worker_t *w, const char *topic, int32_t partition) {
        cancel_ahead(w, topic, partition, -1);
        mm_store_batch_drop_partition(w->batch, topic, partition);
        size_t j = 0;
        for (size_t i = 0; i < w->ndlq; i++) {
                dlq_entry_t *e = &w->dlq[i];
                if (e->msg->partition == partition &&
                    !strcmp(rd_kafka_topic_name(e->msg->rkt), topic)) {
                        rd_kafka_message_destroy(e->msg);
                        continue;
                }
                w->dlq[j++] = *e;
        }
        w->ndlq = j;
        /* poison entries of a revoked partition belong to its next owner */
        j = 0;
        for (size_t i = 0; i < w->npoison; i++)
                if (!(w->poison[i].partition == partition && !strcmp(w->poison[i].topic, topic)))
                        w->poison[j++] = w->poison[i];
        w->npoison = j;
        remove_pending(w, topic, partition);
        if (mm_store_batch_partition_count(w->batch) == 0 && w->ndlq == 0) {
                w->batch_msgs = 0;
                w->batch_bytes = 0;
        }
}

static int flush_batch(worker_t *w, int max_attempts);

/* Where each assigned partition starts: PostgreSQL's offset, else its
 * first offset; state[i] = 0 PostgreSQL's, 1 not known yet (assigned
 * unset, sought later by service_pending), 2 PostgreSQL has none.
 * Bounded: rebalance-wait-ms for all of them. */
static void start_offsets(worker_t *w, rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts,
                          int *state) {
        int64_t end = now_ms() + w->rebalance_wait_ms;
        for (int i = 0; i < parts->cnt; i++) {
                rd_kafka_topic_partition_t *p = &parts->elems[i];
                int64_t off = -1, left = end - now_ms();
                if (load_offset_retry(w, p->topic, p->partition, &off, left > 0 ? left : 0) != 0) {
                        p->offset = RD_KAFKA_OFFSET_INVALID;
                        state[i] = 1;
                        continue;
                }
                p->offset = off >= 0 ? off : first_offset(rk, p, end);
                state[i] = off >= 0 ? 0 : 2;
                mm_log_msg(MM_LOG_INFO, p->topic, p->partition, off, "assigned; starting at %s",
                           off >= 0 ? "offset stored in PostgreSQL" : "the beginning");
        }
}

/* Lets lag tools see PostgreSQL's offsets even if no message follows:
 * stores them (state 0, see start_offsets); auto-commit sends them to
 * Kafka. Not a first offset: nothing of that partition is done yet. */
static void store_pg_offsets(rd_kafka_t *rk, const rd_kafka_topic_partition_list_t *parts,
                             const int *state) {
        rd_kafka_topic_partition_list_t *st = rd_kafka_topic_partition_list_new(parts->cnt);
        for (int i = 0; i < parts->cnt; i++)
                if (state[i] == 0)
                        rd_kafka_topic_partition_list_add(st, parts->elems[i].topic,
                                                          parts->elems[i].partition)
                                ->offset = parts->elems[i].offset;
        if (st->cnt > 0) {
                rd_kafka_resp_err_t se = rd_kafka_offsets_store(rk, st);
                if (se)
                        mm_log(MM_LOG_DEBUG, "storing assigned offsets: %s", rd_kafka_err2str(se));
        }
        rd_kafka_topic_partition_list_destroy(st);
}

/* Assigns `parts` at the offsets stored in PostgreSQL, the source of
 * truth; a partition whose offset cannot be read in time is assigned
 * paused and sought later (service_pending). */
static void assign_parts(worker_t *w, rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts,
                         int cooperative, rd_kafka_error_t **error, rd_kafka_resp_err_t *ret_err) {
        int *state = calloc((size_t)(parts->cnt > 0 ? parts->cnt : 1), sizeof(int));
        if (!state) {
                mm_log(MM_LOG_ERROR, "out of memory");
                abort();
        }
        start_offsets(w, rk, parts, state);
        /* librdkafka keeps a partition's pause flag across a revoke and a
         * later re-assignment: set it explicitly either way, and before
         * assigning. Set after, it outdates the offset lookup that the
         * assignment starts (for the beginning), and librdkafka retries
         * that lookup only 500 ms later: half a second lost on every
         * assignment. */
        set_paused(rk, parts, w->paused);
        if (cooperative)
                *error = rd_kafka_incremental_assign(rk, parts);
        else
                *ret_err = rd_kafka_assign(rk, parts);
        /* A partition this client had never seen has no pause flag to set
         * before its assignment: pause it now. */
        if (w->paused)
                set_paused(rk, parts, 1);
        if (!*error && !*ret_err)
                store_pg_offsets(rk, parts, state);
        for (int i = 0; i < parts->cnt; i++)
                if (state[i] == 1)
                        add_pending(w, parts->elems[i].topic, parts->elems[i].partition);
        free(state);
}

/* 1 if `parts` leave this worker other partitions: a cooperative
 * rebalance that moves some of them to another member. */
static int revoke_is_partial(rd_kafka_t *rk, const rd_kafka_topic_partition_list_t *parts) {
        rd_kafka_topic_partition_list_t *a = NULL;
        int partial = 0;
        if (rd_kafka_assignment(rk, &a) == RD_KAFKA_RESP_ERR_NO_ERROR && a) {
                partial = a->cnt > parts->cnt;
                rd_kafka_topic_partition_list_destroy(a);
        }
        return partial;
}

/* When all its partitions go (close, eager rebalance), the worker commits
 * what the batch holds; if that is not possible now, it drops their part
 * of the batch (the next owner re-reads from the offset stored in
 * PostgreSQL). Bounded: one attempt; dead letters wait at most
 * rebalance-wait-ms; PostgreSQL at most statement_timeout.
 * When only some go (a cooperative rebalance, e.g. a worker joins), their
 * part of the batch is dropped without that write: the new owner cannot
 * start before this callback returns, and the write took 1.5-3 s a batch,
 * twice the time the group took to form otherwise. It re-reads them from
 * PostgreSQL's offset; the messages this worker keeps stay in the batch. */
static void revoke_parts(worker_t *w, rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts,
                         int cooperative, rd_kafka_error_t **error, rd_kafka_resp_err_t *ret_err) {
        int partial = cooperative && revoke_is_partial(rk, parts);
        if (!partial && !w->in_flush && w->batch_msgs > 0)
                flush_batch(w, 1);
        for (int i = 0; i < parts->cnt; i++) {
                drop_partition_from_batch(w, parts->elems[i].topic, parts->elems[i].partition);
                /* its last input leaves without a verdict: never counted */
                mm_attempts_release(w->attempts, w->store, parts->elems[i].topic,
                                    parts->elems[i].partition);
                mm_log_msg(MM_LOG_INFO, parts->elems[i].topic, parts->elems[i].partition, -1,
                           partial ? "revoked (moved to another member; its messages in the "
                                     "batch are left to it)"
                                   : "revoked");
        }
        if (cooperative)
                *error = rd_kafka_incremental_unassign(rk, parts);
        else
                *ret_err = rd_kafka_assign(rk, NULL);
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque) {
        worker_t *w = opaque;
        const char *proto = rd_kafka_rebalance_protocol(rk); /* NULL before the first join */
        int cooperative = proto && !strcmp(proto, "COOPERATIVE");
        rd_kafka_error_t *error = NULL;
        rd_kafka_resp_err_t ret_err = RD_KAFKA_RESP_ERR_NO_ERROR;
        mm_metrics_add_rebalance(w->metrics);

        if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
                assign_parts(w, rk, parts, cooperative, &error, &ret_err);
        } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
                revoke_parts(w, rk, parts, cooperative, &error, &ret_err);
        } else {
                mm_log(MM_LOG_ERROR, "rebalance failed: %s", rd_kafka_err2str(err));
                rd_kafka_assign(rk, NULL);
        }
        if (error) {
                mm_log(MM_LOG_ERROR, "incremental assign/unassign failed: %s",
                       rd_kafka_error_string(error));
                rd_kafka_error_destroy(error);
        } else if (ret_err) {
                mm_log(MM_LOG_ERROR, "assign failed: %s", rd_kafka_err2str(ret_err));
        }
        rd_kafka_topic_partition_list_t *a = NULL;
        if (rd_kafka_assignment(rk, &a) == RD_KAFKA_RESP_ERR_NO_ERROR && a) {
                mm_metrics_set_assigned(w->metrics, a->cnt);
                rd_kafka_topic_partition_list_destroy(a);
        }
}

/* ---------- per message ---------- */

static void add_dlq(worker_t *w, rd_kafka_message_t *msg, const char *stage, const char *code,
                    const char *reason) {
        if (w->ndlq == w->capdlq) {
                size_t cap = w->capdlq ? w->capdlq * 2 : 16;
                dlq_entry_t *n = realloc(w->dlq, cap * sizeof(*n));
                if (!n) {
                        mm_log(MM_LOG_ERROR, "out of memory");
                        abort();
                }
                w->dlq = n;
                w->capdlq = cap;
        }
        dlq_entry_t *e = &w->dlq[w->ndlq++];
        memset(e, 0, sizeof(*e));
        e->msg = msg;
        e->id = ++w->next_dlq_id;
        e->stage = stage;
        snprintf(e->code, sizeof(e->code), "%s", code);
        snprintf(e->reason, sizeof(e->reason), "%s", reason);
        /* reasons may quote document bytes: keep them valid UTF-8 (a Kafka
         * header reader and the dead_letters text column need it) */
        if (!mm_text_utf8_valid(e->reason, strlen(e->reason)))
                for (char *c = e->reason; *c; c++)
                        if ((unsigned char)*c >= 0x80)
                                *c = '?';
        reason = e->reason;
        iso_now(e->timestamp, sizeof(e->timestamp));
        /* The SQL record (table dead_letters) commits with the batch. */
        mm_store_dead_letter_t dl = {
                .topic = rd_kafka_topic_name(msg->rkt),
                .partition = msg->partition,
                .offset = msg->offset,
                .key = msg->key,
                .key_len = msg->key_len,
                .stage = stage,
                .code = code,
                .reason = reason,
                .delivery = "full",
                .byte_length = msg->len,
                .payload = msg->payload,
                .payload_len = msg->len,
        };
        mm_envelope_sha256_hex(msg->payload, msg->len, dl.sha256);
        if (mm_store_batch_add_dead_letter(w->batch, &dl) != 0) {
                mm_log(MM_LOG_ERROR, "out of memory");
                abort();
        }
        mm_metrics_add_dead_letter(w->metrics, code);
        const char *kv[] = {"stage", stage, "code", code, NULL};
        mm_log_kv(MM_LOG_WARN, rd_kafka_topic_name(msg->rkt), msg->partition, msg->offset, kv,
                  "dead-lettered: %s", reason);
}

/* The official name of the envelope's municipality ("Århus" -> "Aarhus
 * Kommune"), through the parser's kommune table; an unknown name is kept
 * as it is, with a warning. Borrowed string. */
static const char *envelope_kommune(worker_t *w, const rd_kafka_message_t *msg,
                                    const mm_envelope_t *env) {
        const char *m = mm_envelope_municipality(env);
        const char *k = mm_envelope_kommune(w->cls, m);
        if (k)
                return k;
        mm_log_msg(MM_LOG_WARN, rd_kafka_topic_name(msg->rkt), msg->partition, msg->offset,
                   "envelope municipality \"%.100s\" is not a known kommune: kept as it is", m);
        return m;
}

/* ---------- read-ahead: runs on the pipe's thread ---------- */

/* Counts an attempt at the risky steps (extraction, the adapters,
 * parsing) before taking them (protocol: mm_attempts.h). Returns the
 * answer; REFUSED makes the job PREP_REFUSED (the main thread rewinds to
 * it: never processed uncounted, it might crash again, unseen). */
static mm_attempt_t prep_count(worker_t *w, prep_t *j) {
        const rd_kafka_message_t *msg = j->msg;
        const char *topic = rd_kafka_topic_name(msg->rkt);
        mm_attempt_t a = mm_attempts_begin(w->attempts, w->count_store, topic, msg->partition,
                                           msg->offset, j->reason, sizeof(j->reason));
        if (a == MM_ATTEMPT_UNCOUNTED) {
                mm_log_msg(MM_LOG_DEBUG, topic, msg->partition, msg->offset,
                           "attempt not counted (PostgreSQL unreachable): %s", j->reason);
                j->pg_down = 1;
                j->reason[0] = '\0';
        } else if (a == MM_ATTEMPT_REFUSED) {
                j->kind = PREP_REFUSED;
        } else if (a == MM_ATTEMPT_SUSPECT) {
                mm_log_msg(MM_LOG_WARN, topic, msg->partition, msg->offset,
                           "workers disappeared with this input in flight: testing it in the "
                           "sandbox");
        }
        return a;
}

static void prep_dlq(prep_t *j, const char *stage, const char *code, const char *reason) {
        j->kind = PREP_DLQ;
        j->stage = stage;
        snprintf(j->code, sizeof(j->code), "%s", code);
        snprintf(j->reason, sizeof(j->reason), "%s", reason);
}

static json_t *json_str_or_null(const char *s) {
        return s ? json_string(s) : json_null();
}

/* The stored text as a JSON string: UTF-8, Windows-1252 decoded as the
 * parser does. NULL if it cannot be decoded. */
static json_t *raw_text_json(const mm_source_result_t *res) {
        if (mm_text_utf8_valid(res->text, res->text_len))
                return json_stringn_nocheck(res->text, res->text_len);
        char err[256];
        json_t *raw = NULL;
        mm_text_t *t = mm_text_new(res->text, res->text_len, NULL, NULL, 0, NULL, err, sizeof(err));
        if (t) {
                size_t slen = 0;
                const char *src = mm_text_source(t, &slen);
                raw = json_stringn(src, slen);
                mm_text_destroy(t);
        }
        return raw;
}

/* The batch record of one parsed message: envelope fields, the raw text
 * and the parse. Ownership of `raw` and `parsed` passes here. */
static json_t *doc_record(const rd_kafka_message_t *msg, const mm_envelope_t *env, const char *sha,
                          size_t dlen, const char *type_name, json_t *raw, json_t *parsed) {
        json_t *doc = json_object();
        const char *ct = mm_envelope_content_type(env);
        json_object_set_new(doc, "sha256", json_string(sha));
        json_object_set_new(doc, "content_type", json_string(ct ? ct : type_name));
        json_object_set_new(doc, "source_url", json_str_or_null(mm_envelope_source_url(env)));
        json_object_set_new(doc, "external_id", json_str_or_null(mm_envelope_document_id(env)));
        json_object_set_new(doc, "ce_id", json_str_or_null(mm_envelope_ce_id(env)));
        json_object_set_new(doc, "ce_source", json_str_or_null(mm_envelope_ce_source(env)));
        json_object_set_new(doc, "ce_type", json_str_or_null(mm_envelope_ce_type(env)));
        json_object_set_new(doc, "ce_time", json_str_or_null(mm_envelope_ce_time(env)));
        json_object_set_new(doc, "topic", json_string(rd_kafka_topic_name(msg->rkt)));
        json_object_set_new(doc, "partition", json_integer(msg->partition));
        json_object_set_new(doc, "offset", json_integer(msg->offset));
        json_object_set_new(doc, "byte_length", json_integer((json_int_t)dlen));
        json_object_set_new(doc, "raw_text", raw);
        json_object_set_new(doc, "parse", parsed);
        return doc;
}

/* Extracts and parses one message into j->doc, or says why it is a dead
 * letter (PREP_DLQ) or must be tried again (PREP_RETRY). A suspect (see
 * mm_attempts.h) runs every risky step in the sandbox. */
static void prep_parse(worker_t *w, prep_t *j, int suspect) {
        rd_kafka_message_t *msg = j->msg; /* headers are read lazily: not const */
        char err[512];
        mm_envelope_header_t hdrs[64];
        size_t nh = mm_kafka_headers(msg, hdrs, 64);
        mm_envelope_t *env = mm_envelope_new(msg->payload, msg->len, hdrs, nh, err, sizeof(err));
        if (!env) {
                prep_dlq(j, "extract", "envelope_invalid", err);
                return;
        }
        size_t dlen = 0;
        const char *data = mm_envelope_data(env, &dlen);
        if (dlen > w->max_doc_bytes) {
                snprintf(err, sizeof(err), "document of %zu bytes is over the limit of %zu bytes",
                         dlen, w->max_doc_bytes);
                mm_envelope_destroy(env);
                prep_dlq(j, "extract", "too_large", err);
                return;
        }

        mm_extract_limits_t lim;
        mm_extract_get_limits(&lim);
        if (suspect && !lim.sandbox) { /* no sandbox to test it in: as before 011 */
                mm_envelope_destroy(env);
                prep_dlq(j, "extract", "extract_crash",
                         "workers disappeared with this input in flight max-crashes times "
                         "(extract-sandbox is off, so it cannot be tested)");
                return;
        }
        /* The source adapter (text, HTML, PDF or an export) makes the model;
         * exports (and a suspect's every step) under the sandbox's limits. */
        mm_source_result_t res;
        mm_parse_error_t perr;
        int64_t t0 = now_ms();
        int prc = mm_isolate_parse(w->parser, data, dlen, mm_envelope_content_type(env),
                                   suspect ? MM_ISOLATE_ALL : MM_ISOLATE_EXPORTS, &res, &perr);
        mm_metrics_observe_parse(w->metrics, (double)(now_ms() - t0) / 1000.0);
        if (prc != 0 && mm_isolate_transient(perr.code)) {
                mm_envelope_destroy(env);
                j->kind = PREP_RETRY;
                snprintf(j->reason, sizeof(j->reason), "%s", perr.reason);
                mm_source_result_clear(&res);
                return;
        }
        if (prc != 0) {
                mm_envelope_destroy(env);
                prep_dlq(j, res.stage ? res.stage : "parse",
                         perr.code[0] ? perr.code : "parse_error",
                         perr.reason[0] ? perr.reason : "the parser rejected the document");
                mm_source_result_clear(&res);
                return;
        }
        json_t *parsed = res.doc;
        res.doc = NULL; /* ownership passed to parsed */
        const char *type_name = res.adapter;
        /* An export without a publication time: the event's time. */
        mm_source_default_published_at(parsed, mm_envelope_ce_time(env));
        mm_metrics_observe_confidence(w->metrics, json_object_get(parsed, "document"));
        json_t *raw = raw_text_json(&res);
        mm_source_result_clear(&res);
        if (!raw) {
                json_decref(parsed);
                mm_envelope_destroy(env);
                prep_dlq(j, "extract", "encoding", "text cannot be decoded to UTF-8");
                return;
        }
        /* Envelope metadata wins over what the parser inferred. */
        json_t *pdoc = json_object_get(parsed, "document");
        /* minutes-submit sends "unknown" when it knows none: that names no
         * kommune, so it never replaces one or keys a meeting */
        const char *em = mm_envelope_municipality(env);
        if (json_is_object(pdoc) && em && *em && strcasecmp(em, "unknown") != 0) {
                json_object_set_new(pdoc, "municipality",
                                    json_string(envelope_kommune(w, msg, env)));
                json_object_set_new(pdoc, "municipality_source", json_string("envelope"));
        }
        /* the meeting's key: an export needs its kommune, keys are bounded */
        if (mm_source_check_identity(parsed, &perr) != 0) {
                json_decref(parsed);
                json_decref(raw);
                mm_envelope_destroy(env);
                prep_dlq(j, "parse", perr.code, perr.reason);
                return;
        }
        char sha[65];
        mm_envelope_sha256_hex(data, dlen, sha);
        j->doc = doc_record(msg, env, sha, dlen, type_name, raw, parsed);
        /* ownership of raw and parsed passed to j->doc */
        /* rendered here, off the write's critical path (NULL: at write time) */
        j->doc_text = mm_store_doc_text(j->doc);
        j->kind = PREP_DOC;
        mm_envelope_destroy(env);
}

/* 1 if the sandbox found evidence against a suspect input. */
static int convicted(const prep_t *j) {
        return j->kind == PREP_DLQ &&
               (!strcmp(j->code, "extract_crash") || !strcmp(j->code, "extract_limit"));
}

/* The pipe's work on one consumed message (mm_pipe_fn_t): count, work,
 * then settle the attempt as mm_attempts.h says. */
static void prep_message(void *job, void *opaque) {
        worker_t *w = opaque;
        prep_t *j = job;
        mm_attempt_t a = prep_count(w, j);
        if (a == MM_ATTEMPT_REFUSED)
                return;
        prep_parse(w, j, a == MM_ATTEMPT_SUSPECT);
        if (j->kind == PREP_RETRY)
                mm_attempts_abandon(w->attempts, w->count_store);
        else if (a == MM_ATTEMPT_SUSPECT && convicted(j))
                mm_attempts_convicted(w->attempts);
        else
                mm_attempts_done(w->attempts);
}

/* ---------- read-ahead: the main thread's side ---------- */

static void free_prep(void *job) {
        prep_t *j = job;
        if (!j)
                return;
        if (j->msg)
                rd_kafka_message_destroy(j->msg);
        json_decref(j->doc);
        free(j->doc_text);
        free(j);
}

/* 1 while the read-ahead stage may take another message: at most
 * batch-size messages and half of batch-max-bytes (a parsed document takes
 * a few times its bytes; the batch being written holds its own). */
static int ahead_room(const worker_t *w) {
        return mm_pipe_count(w->pipe) < w->batch_size && w->ahead_bytes < w->max_batch_bytes / 2;
}

static int batch_full(const worker_t *w) {
        return w->batch_msgs >= w->batch_size || w->batch_bytes >= w->max_batch_bytes;
}

/* Hands a consumed message to the read-ahead stage. Ownership of `msg`
 * passes here. */
static void process_message(worker_t *w, rd_kafka_message_t *msg) {
        const char *topic = rd_kafka_topic_name(msg->rkt);
        /* fetched before its partition was paused for a seek: comes again */
        if (w->npending && is_pending(w, topic, msg->partition)) {
                rd_kafka_message_destroy(msg);
                return;
        }
        prep_t *j = calloc(1, sizeof(*j));
        if (!j) {
                mm_log(MM_LOG_ERROR, "out of memory");
                abort();
        }
        j->msg = msg;
        j->polled_at = now_ms();
        size_t len = msg->len;
        if (mm_pipe_submit(w->pipe, j) != 0) {
                /* The stage is full (only when a poll had to be served with
                 * no room, e.g. while a batch is retried): rewind to it. */
                int64_t off = msg->offset;
                j->msg = NULL;
                free_prep(j);
                rd_kafka_message_destroy(msg);
                add_pending_at(w, topic, msg->partition, off);
                return;
        }
        w->ahead_bytes += len;
}

/* The count of an input's attempt was refused (PREP_REFUSED), or the
 * sandbox could not run or finish it (PREP_RETRY): rewind to it, pause,
 * and try again after a backoff. */
static void refused_count(worker_t *w, const rd_kafka_message_t *msg, int kind, const char *err) {
        const char *topic = rd_kafka_topic_name(msg->rkt);
        if (kind == PREP_REFUSED)
                mm_metrics_set_db_ok(w->metrics, 0);
        mm_log_msg(MM_LOG_WARN, topic, msg->partition, msg->offset,
                   kind == PREP_REFUSED
                           ? "cannot count the attempt on this input, rewinding to it: %s"
                           : "not the input's fault, rewinding to it to try again: %s",
                   err);
        add_pending_at(w, topic, msg->partition, msg->offset);
        w->rewind_backoff = w->rewind_backoff ? w->rewind_backoff * 2 : 100;
        if (w->rewind_backoff > w->retry_max_ms)
                w->rewind_backoff = w->retry_max_ms;
        w->pending_backoff = w->rewind_backoff;
        w->pending_next_try = now_ms() + w->rewind_backoff;
        if (!w->paused)
                pause_all(w);
}

/* Takes one message back from the read-ahead stage, in consumption order,
 * into the batch: its offset, and its record or its dead letter. */
static void integrate(worker_t *w, prep_t *j, int cancelled) {
        rd_kafka_message_t *msg = j->msg;
        const char *topic = rd_kafka_topic_name(msg->rkt);
        w->ahead_bytes -= msg->len <= w->ahead_bytes ? msg->len : w->ahead_bytes;
        if (cancelled || (w->npending && is_pending(w, topic, msg->partition))) {
                free_prep(j); /* its partition was sought or given away */
                return;
        }
        if (j->pg_down)
                mm_metrics_set_db_ok(w->metrics, 0);
        if (j->kind == PREP_REFUSED || j->kind == PREP_RETRY) {
                refused_count(w, msg, (int)j->kind, j->reason);
                free_prep(j);
                return;
        }
        w->rewind_backoff = 0;
        if (mm_store_batch_add_offset(w->batch, topic, msg->partition, msg->offset) != 0) {
                mm_log(MM_LOG_ERROR, "out of memory");
                abort();
        }
        /* batch-ms bounds how long a message waits from its consumption:
         * one read ahead during a long write starts its batch late */
        if (w->batch_msgs++ == 0)
                w->batch_started = j->polled_at;
        w->batch_bytes += msg->len;
        mm_metrics_add_consumed(w->metrics, 1);
        j->msg = NULL; /* ownership of msg passes to add_dlq, or it is destroyed below */
        for (size_t i = 0; i < w->npoison; i++) {
                poison_t *p = &w->poison[i];
                if (p->partition == msg->partition && p->offset == msg->offset &&
                    !strcmp(p->topic, topic)) {
                        add_dlq(w, msg, "store", "db_rejected", p->reason);
                        w->poison[i] = w->poison[--w->npoison];
                        free_prep(j);
                        return;
                }
        }
        if (j->kind == PREP_DLQ) {
                add_dlq(w, msg, j->stage, j->code, j->reason);
                free_prep(j);
                return;
        }
        int arc = mm_store_batch_add_doc_text(w->batch, j->doc, j->doc_text);
        j->doc = NULL; /* ownership of doc and text passed to the batch */
        j->doc_text = NULL;
        if (arc != 0) {
                mm_log(MM_LOG_ERROR, "out of memory");
                abort();
        }
        mm_log_msg(MM_LOG_DEBUG, topic, msg->partition, msg->offset, "parsed");
        rd_kafka_message_destroy(msg);
        free_prep(j);
}

/* Takes back the finished messages, in order, while the batch has room;
 * waits up to `wait_ms` for the oldest one. */
static void integrate_ready(worker_t *w, int wait_ms) {
        while (mm_pipe_count(w->pipe) > 0 && !batch_full(w)) {
                int cancelled = 0;
                prep_t *j = mm_pipe_take(w->pipe, wait_ms, &cancelled);
                if (!j)
                        return;
                wait_ms = 0;
                integrate(w, j, cancelled);
        }
}

/* A polled message or event: a message goes to the read-ahead stage, an
 * error is logged (but the end of a partition). Ownership of `msg` passes. */
static void take_polled(worker_t *w, rd_kafka_message_t *msg) {
        if (!msg->err) {
                process_message(w, msg);
                return;
        }
        if (msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                mm_log(MM_LOG_WARN, "consumer: %s", rd_kafka_message_errstr(msg));
        rd_kafka_message_destroy(msg);
}

/* One turn of consumption: takes back finished messages; polls Kafka for
 * the next one while the read-ahead stage has room (waiting up to
 * `timeout_ms` only when no finished message could join the batch);
 * otherwise waits a little for the oldest message in the stage. */
static void pump(worker_t *w, int timeout_ms) {
        integrate_ready(w, 0);
        /* a message in the stage could still join the batch */
        int can_take = mm_pipe_count(w->pipe) > 0 && !batch_full(w);
        /* while a batch is retried (paused), polls serve rebalances only */
        if (ahead_room(w) || w->paused) {
                rd_kafka_message_t *msg =
                        rd_kafka_consumer_poll(w->consumer, can_take ? 0 : timeout_ms);
                if (msg) {
                        take_polled(w, msg); /* ownership passes */
                        return;
                }
        }
        if (can_take)
                integrate_ready(w, timeout_ms < 5 ? timeout_ms : 5);
}

/* Hands the read-ahead stage what Kafka has ready, up to its bound,
 * without waiting: work for its thread while this one writes a batch. */
static void fill_ahead(worker_t *w) {
        while (ahead_room(w) && !w->fatal) {
                rd_kafka_message_t *msg = rd_kafka_consumer_poll(w->consumer, 0);
                if (!msg)
                        return;
                take_polled(w, msg); /* ownership passes */
        }
}

/* ---------- batch flush ---------- */

/* Produces one dead-letter copy: the original key, value and headers plus
 * the error headers. A header-only copy (after a permanent refusal of the
 * full one, e.g. MSG_SIZE_TOO_LARGE) carries no value; its reason says the
 * original bytes are in table dead_letters. */
static void produce_one(worker_t *w, dlq_entry_t *e) {
        e->failed = 0;
        rd_kafka_message_t *m = e->msg;
        rd_kafka_headers_t *orig = NULL, *h;
        if (rd_kafka_message_headers(m, &orig) == RD_KAFKA_RESP_ERR_NO_ERROR && orig &&
            !e->headers_only)
                h = rd_kafka_headers_copy(orig);
        else
                h = rd_kafka_headers_new(10);
        char part[16], off[32], len[32];
        snprintf(part, sizeof(part), "%d", (int)m->partition);
        snprintf(off, sizeof(off), "%lld", (long long)m->offset);
        snprintf(len, sizeof(len), "%zu", m->len);
        rd_kafka_header_add(h, "minutes.error.code", -1, e->code, -1);
        rd_kafka_header_add(h, "minutes.error.reason", -1, e->reason, -1);
        rd_kafka_header_add(h, "minutes.error.stage", -1, e->stage, -1);
        rd_kafka_header_add(h, "minutes.source.topic", -1, rd_kafka_topic_name(m->rkt), -1);
        rd_kafka_header_add(h, "minutes.source.partition", -1, part, -1);
        rd_kafka_header_add(h, "minutes.source.offset", -1, off, -1);
        rd_kafka_header_add(h, "minutes.worker.version", -1, MM_VERSION, -1);
        rd_kafka_header_add(h, "minutes.error.timestamp", -1, e->timestamp, -1);
        if (e->headers_only) {
                rd_kafka_header_add(h, "minutes.dlq.headers_only", -1, "true", -1);
                rd_kafka_header_add(h, "minutes.source.length", -1, len, -1);
        }
        rd_kafka_resp_err_t perr;
        void *value = e->headers_only ? NULL : m->payload;
        size_t value_len = e->headers_only ? 0 : m->len;
        for (;;) {
                perr = rd_kafka_producev(
                        w->producer, RD_KAFKA_V_TOPIC(w->dlq_topic),
                        RD_KAFKA_V_KEY(m->key, m->key_len), RD_KAFKA_V_VALUE(value, value_len),
                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h),
                        RD_KAFKA_V_OPAQUE((void *)(uintptr_t)e->id), RD_KAFKA_V_END);
                if (perr != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                        break;
                rd_kafka_poll(w->producer, 100);
        }
        if (!perr)
                e->in_flight = 1;
        if (perr) {
                rd_kafka_headers_destroy(h);
                e->failed = 1;
                e->permanent = mm_worker_dlq_error_permanent(perr);
                snprintf(e->last_err, sizeof(e->last_err), "%s", rd_kafka_err2name(perr));
                mm_log_msg(MM_LOG_WARN, rd_kafka_topic_name(m->rkt), m->partition, m->offset,
                           "dead-letter produce failed: %s", rd_kafka_err2str(perr));
        }
        /* on success the headers belong to the producer */
}

/* A full copy was refused for good: the next copy carries only headers,
 * and the SQL record says so. A header-only copy refused for good (no
 * topic, no ACL) cannot be helped by retrying: the worker stops with a
 * fatal log rather than spin with paused partitions. */
static void downgrade_refused(worker_t *w, dlq_entry_t *e) {
        rd_kafka_message_t *m = e->msg;
        if (!e->headers_only) {
                e->headers_only = 1;
                size_t l = strlen(e->reason);
                snprintf(e->reason + l, sizeof(e->reason) - l,
                         " [the dead-letter topic refused the copy (%s); the original bytes are "
                         "kept in table dead_letters]",
                         e->last_err);
                mm_store_batch_set_delivery(w->batch, rd_kafka_topic_name(m->rkt), m->partition,
                                            m->offset, "headers_only");
                mm_log_msg(MM_LOG_WARN, rd_kafka_topic_name(m->rkt), m->partition, m->offset,
                           "dead-letter topic %s refused the copy (%s): sending a header-only "
                           "copy; the original bytes are kept in table dead_letters",
                           w->dlq_topic, e->last_err);
                return;
        }
        mm_log_msg(MM_LOG_ERROR, rd_kafka_topic_name(m->rkt), m->partition, m->offset,
                   "FATAL: dead-letter topic %s refuses even a header-only copy (%s): check that "
                   "the topic exists and this worker may write to it; stopping",
                   w->dlq_topic, e->last_err);
        w->fatal = 1;
}

/* Readiness follows the DLQ: red while dead letters cannot be delivered. */
static void set_dlq_state(worker_t *w, int ok) {
        if (ok && w->dlq_down_since) {
                mm_log(MM_LOG_INFO, "dead letters are delivered again");
                w->dlq_down_since = 0;
        } else if (!ok && !w->dlq_down_since) {
                w->dlq_down_since = now_ms();
        }
        mm_metrics_set_dlq_ok(w->metrics, ok);
}

/* Produces every DLQ entry not yet delivered and waits for the reports,
 * at most `max_ms` (0 = until the shutdown deadline). Returns 0 when all
 * are delivered. */
static int produce_dlq(worker_t *w, int64_t max_ms) {
        int64_t end = max_ms > 0 ? now_ms() + max_ms : 0;
        for (size_t i = 0; i < w->ndlq; i++) {
                dlq_entry_t *e = &w->dlq[i];
                if (e->delivered || e->in_flight)
                        continue;
                if (e->failed && e->permanent)
                        downgrade_refused(w, e);
                if (w->fatal)
                        return -1;
                e->permanent = 0;
                produce_one(w, e);
        }
        /* Wait for every delivery report of this batch. */
        for (;;) {
                size_t pending = 0, failed = 0;
                for (size_t i = 0; i < w->ndlq; i++) {
                        if (w->dlq[i].failed)
                                failed++;
                        else if (!w->dlq[i].delivered)
                                pending++;
                }
                if (!pending)
                        return failed ? -1 : 0;
                int64_t left = end ? end - now_ms() : 1000;
                if (left <= 0)
                        return -1;
                rd_kafka_flush(w->producer, (int)(left < 1000 ? left : 1000));
                if (w->fatal || stop_deadline_passed(w))
                        return -1;
        }
}

/* Mirrors the offsets just committed to PostgreSQL into Kafka, for lag
 * tools: they are stored (rd_kafka_offsets_store) and committed now; a
 * commit that fails (e.g. during a rebalance) is repeated by librdkafka's
 * auto-commit of stored offsets, which never runs ahead of PostgreSQL. */
static void commit_kafka(worker_t *w, int async) {
        size_t n = mm_store_batch_partition_count(w->batch);
        if (!n)
                return;
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)n);
        for (size_t i = 0; i < n; i++) {
                const char *t;
                int32_t p;
                int64_t first, next;
                mm_store_batch_partition(w->batch, i, &t, &p, &first, &next);
                rd_kafka_topic_partition_list_add(l, t, p)->offset = next;
        }
        /* Partitions no longer assigned fail with _STATE: nothing to do. */
        rd_kafka_offsets_store(w->consumer, l);
        rd_kafka_resp_err_t err = rd_kafka_commit(w->consumer, NULL, async);
        if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
                mm_log(MM_LOG_WARN, "Kafka offset commit failed (PostgreSQL holds the truth): %s",
                       rd_kafka_err2str(err));
        rd_kafka_topic_partition_list_destroy(l);
}

/* After a fence or an isolation: seek the batch's partitions to the
 * offsets in PostgreSQL. A partition whose offset cannot be read or whose
 * seek fails stays paused (pending) until service_pending manages it:
 * consuming on from where it is would skip the batch's messages. */
static void reseek_batch_partitions(worker_t *w) {
        size_t n = mm_store_batch_partition_count(w->batch);
        for (size_t i = 0; i < n; i++) {
                const char *t;
                int32_t p;
                int64_t first, next, off = -1;
                mm_store_batch_partition(w->batch, i, &t, &p, &first, &next);
                if (load_offset_retry(w, t, p, &off, w->rebalance_wait_ms) != 0 ||
                    seek_one(w, t, p, off) != 0)
                        add_pending(w, t, p);
        }
}

/* Frees the spent batch's documents (see worker_t.spent). Also the store's
 * wait callback: it must not use the store. */
static void free_spent(void *arg) {
        worker_t *w = arg;
        if (!w->spent_full)
                return;
        mm_store_batch_clear(w->spent);
        w->spent_full = 0;
        /* see clear_batch: give the memory back once the worker is idle */
        if (w->spent_big)
                w->trim_due = 1;
}

static void clear_batch(worker_t *w) {
        int big = w->batch_bytes >= 1024u * 1024;
        for (size_t i = 0; i < w->ndlq; i++)
                rd_kafka_message_destroy(w->dlq[i].msg);
        w->ndlq = 0;
        /* the written (or dropped) batch becomes the spent one, freed
         * later; the spent one, freed now if it was not yet, the next */
        free_spent(w);
        mm_store_batch_t *b = w->batch;
        w->batch = w->spent;
        w->spent = b;
        w->spent_full = 1;
        w->spent_big = big;
        w->batch_msgs = 0;
        w->batch_bytes = 0;
        if (w->capdlq > 64) {
                free(w->dlq);
                w->dlq = NULL;
                w->capdlq = 0;
        }
        /* After a batch of 1 MiB or more is freed (free_spent), give the
         * memory back once the worker is idle (trim_if_idle): glibc raises
         * its mmap threshold after freeing a big block, so later big blocks
         * would stay in the heap, and one huge input would keep the
         * worker's RSS up long after it passed. Not at once: malloc_trim
         * walks the heap (0.1-0.5 s after a batch of a few hundred
         * documents), time the database would wait for the next batch. */
}

/* Gives freed memory back to the system (see clear_batch) when nothing
 * is waiting: no batch and nothing read ahead. */
static void trim_if_idle(worker_t *w) {
        if (w->batch_msgs == 0 && mm_pipe_count(w->pipe) == 0)
                free_spent(w); /* idle: no write is coming to free it */
        if (w->trim_due && w->batch_msgs == 0 && mm_pipe_count(w->pipe) == 0) {
                malloc_trim(0);
                w->trim_due = 0;
        }
}

/* PostgreSQL refused the batch for its data. Writes the documents one by
 * one (without offsets) to find the refused ones, remembers those as
 * poison, dead-letters the batch's DLQ copies, and re-reads the batch's
 * partitions from the offsets stored in PostgreSQL: on the second pass the
 * good documents are duplicates (nothing new is written), the poison is
 * dead-lettered, and the offsets advance in one transaction as usual.
 * Returns 0 when done, -1 on a transient failure (retry the batch). */
static int add_poison(worker_t *w, json_t *d, const char *err) {
        const char *topic = json_string_value(json_object_get(d, "topic"));
        int32_t partition = (int32_t)json_integer_value(json_object_get(d, "partition"));
        int64_t offset = json_integer_value(json_object_get(d, "offset"));
        for (size_t i = 0; i < w->npoison; i++)
                if (w->poison[i].partition == partition && w->poison[i].offset == offset &&
                    !strcmp(w->poison[i].topic, topic ? topic : ""))
                        return 0; /* already known (an earlier, partial isolation) */
        if (w->npoison == w->cappoison) {
                size_t cap = w->cappoison ? w->cappoison * 2 : 8;
                poison_t *np = realloc(w->poison, cap * sizeof(*np));
                if (!np)
                        return -1;
                w->poison = np;
                w->cappoison = cap;
        }
        poison_t *p = &w->poison[w->npoison++];
        snprintf(p->topic, sizeof(p->topic), "%s", topic ? topic : "");
        p->partition = partition;
        p->offset = offset;
        snprintf(p->reason, sizeof(p->reason), "PostgreSQL refused the document: %.400s", err);
        mm_log_msg(MM_LOG_WARN, p->topic, p->partition, p->offset, "%s", p->reason);
        return 0;
}

/* Writes each document of the batch alone (alone[i]: its class, errs[i]:
 * its error) and returns the verdict (mm_store_isolation_verdict: the
 * number of documents at fault, 0 systemic (logged), -1 transient) with
 * fault[]. */
static int isolation_verdict(worker_t *w, size_t n, int *alone, char (*errs)[512], int *fault) {
        char err[1024];
        size_t nrefused = 0;
        for (size_t i = 0; i < n; i++) {
                alone[i] = mm_store_write_single(w->store, w->group, w->batch, i, err, sizeof(err));
                if (alone[i] != MM_STORE_OK && alone[i] != MM_STORE_ERR_DATA &&
                    alone[i] != MM_STORE_ERR_LIMIT)
                        return -1; /* not a document's fault: retry */
                nrefused += alone[i] != MM_STORE_OK;
                snprintf(errs[i], sizeof(errs[i]), "%.500s", err);
        }
        /* every document refused alone: a minimal valid document (written
         * and rolled back) decides whether the refusal is the database's */
        int prc = n > 0 && nrefused == n ? mm_store_probe(w->store, w->group, err, sizeof(err))
                                         : MM_STORE_OK;
        if (prc == MM_STORE_ERR_TRANSIENT)
                return -1;
        int v = mm_store_isolation_verdict(alone, n, prc, fault);
        if (v == 0)
                mm_log(MM_LOG_WARN,
                       "isolation: %zu of %zu documents fail alone%s: the refusal is systemic, "
                       "retrying the batch",
                       nrefused, n, nrefused ? " and so does a minimal valid document" : "");
        return v;
}

/* Returns 0 when done (poison found and remembered, batch re-read), 1 when
 * the refusal is systemic after all (every document fails alone, or none
 * does: retry the batch as it is), -1 on a transient failure. A data error
 * or a program limit (an index row too large) that a document gives alone
 * is that document's fault. */
static int isolate_rejected(worker_t *w) {
        size_t n = mm_store_batch_doc_count(w->batch);
        int *alone = calloc(n ? n : 1, sizeof(int)), *bad = calloc(n ? n : 1, sizeof(int));
        char(*errs)[512] = calloc(n ? n : 1, sizeof(*errs));
        int nbad = alone && bad && errs ? isolation_verdict(w, n, alone, errs, bad) : -1;
        free(alone);
        if (nbad <= 0) {
                free(bad);
                free(errs);
                return nbad == 0 ? 1 : -1;
        }
        int rc = 0;
        for (size_t i = 0; i < n && rc == 0; i++)
                if (bad[i])
                        rc = add_poison(w, mm_store_batch_doc(w->batch, i), errs[i]);
        free(bad);
        free(errs);
        if (rc != 0)
                return -1;
        /* DLQ copies of this batch are acknowledged; on the re-read they are
         * dead-lettered again (at-least-once on the DLQ, as documented; the
         * dead_letters table keeps one row). */
        reseek_batch_partitions(w);
        clear_batch(w);
        return 0;
}

/* The batch is in PostgreSQL (written at `t0`, `ins` documents inserted,
 * `dup` duplicates): metrics and log, then the async Kafka commit and an
 * empty batch. */
static void batch_written(worker_t *w, size_t ins, size_t dup, int64_t t0) {
        mm_metrics_observe_db_batch(w->metrics, (double)(now_ms() - t0) / 1000.0);
        mm_metrics_set_db_ok(w->metrics, 1);
        mm_metrics_add_written(w->metrics, ins);
        mm_log(MM_LOG_INFO,
               "batch committed: messages %zu, inserted %zu, duplicates %zu, "
               "dead-lettered %zu, %lld ms",
               w->batch_msgs, ins, dup, w->ndlq, (long long)(now_ms() - t0));
        commit_kafka(w, *w->run ? 1 : 0);
        clear_batch(w);
}

/* One attempt of flush_batch: dead letters first (acknowledged), then the
 * records and offsets in one PostgreSQL transaction. Returns 0 when the
 * batch is done with (written, fenced and dropped, or its refused
 * documents isolated for a re-read), 1 when it is kept for a retry. */
static int write_batch_once(worker_t *w) {
        char err[1024];
        int step = produce_dlq(w, w->rebalance_wait_ms);
        set_dlq_state(w, step == 0 || w->ndlq == 0);
        if (step != 0) {
                mm_log(MM_LOG_WARN, "dead-letter topic not acknowledged yet");
                return 1;
        }
        size_t ins = 0, dup = 0;
        int64_t t0 = now_ms();
        step = mm_store_write_batch_dl(w->store, w->group, w->batch, w->dl_payload_cap, &ins, &dup,
                                       err, sizeof(err));
        if (step == MM_STORE_OK) {
                batch_written(w, ins, dup, t0);
                return 0;
        }
        if (step == MM_STORE_ERR_FENCED) {
                mm_log(MM_LOG_WARN,
                       "batch fenced (another consumer already wrote these "
                       "offsets): dropping it and re-seeking: %s",
                       err);
                reseek_batch_partitions(w);
                clear_batch(w);
                return 0;
        }
        if (step == MM_STORE_ERR_DATA || step == MM_STORE_ERR_LIMIT) {
                mm_log(MM_LOG_ERROR, "PostgreSQL refused the batch: %s", err);
                int iso = isolate_rejected(w);
                if (iso == 0)
                        return 0;
                if (iso != 1)
                        return 1; /* isolation itself failed: retry, not systemic */
        }
        /* Systemic: keep the batch, pause, back off, readiness red, retry. */
        mm_metrics_set_db_ok(w->metrics, 0);
        mm_metrics_add_db_systemic_error(w->metrics);
        mm_log(MM_LOG_WARN,
               "PostgreSQL cannot take the batch (not the documents' "
               "fault): keeping it and retrying: %s",
               err);
        return 1;
}

/* Writes the current batch: dead letters first (acknowledged), then the
 * records and offsets in one PostgreSQL transaction, then an async Kafka
 * commit. On a transient failure the partitions are paused and the write
 * is retried with exponential backoff (at most `max_attempts` times; 0 =
 * until it works or the shutdown deadline passes). Returns 0 when the
 * batch is written (or was fenced and dropped), -1 if it is still pending. */
static int flush_batch(worker_t *w, int max_attempts) {
        if (w->batch_msgs == 0)
                return 0;
        w->in_flush = 1;
        int64_t backoff = 100;
        int attempts = 0, rc = -1;
        int64_t paused_since = 0;
        for (;;) {
                if (w->fatal)
                        break;
                attempts++;
                if (write_batch_once(w) == 0) {
                        rc = 0;
                        break;
                }
                mm_metrics_add_db_retry(w->metrics);
                if (max_attempts && attempts >= max_attempts)
                        break;
                if (stop_deadline_passed(w))
                        break;
                if (!w->paused) {
                        pause_all(w);
                        paused_since = now_ms();
                }
                mm_log(MM_LOG_INFO, "retrying batch in %lld ms", (long long)backoff);
                serve_for(w, backoff);
                backoff = backoff * 2 > w->retry_max_ms ? w->retry_max_ms : backoff * 2;
        }
        if (w->paused && rc == 0) {
                resume_all(w);
                if (paused_since)
                        mm_metrics_add_db_paused(w->metrics,
                                                 (double)(now_ms() - paused_since) / 1000.0);
        }
        w->in_flush = 0;
        return rc;
}

/* ---------- set-up ---------- */

static rd_kafka_t *make_consumer(worker_t *w, const mm_config_t *cfg, char *err, size_t errsz) {
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        char cid[128], host[64] = "host";
        gethostname(host, sizeof(host) - 1);
        snprintf(cid, sizeof(cid), "minutes-worker-%s-%d", host, (int)getpid());
        if (mm_kafka_conf_set(conf, "bootstrap.servers", mm_config_get_str(cfg, "brokers"), err,
                              errsz) ||
            mm_kafka_conf_set(conf, "group.id", w->group, err, errsz) ||
            mm_kafka_conf_set(conf, "client.id", cid, err, errsz) ||
            mm_kafka_conf_set(conf, "partition.assignment.strategy", "cooperative-sticky", err,
                              errsz) ||
            /* a member learns of a rebalance from its next heartbeat, and a
             * joining worker waits for every member twice: 1 s instead of
             * librdkafka's 3 s formed a group of two in 3 s, not 6-10 s.
             * -X overrides. */
            mm_kafka_conf_set(conf, "heartbeat.interval.ms", "1000", err, errsz) ||
            /* auto-commit only commits offsets we stored after a PostgreSQL
             * commit (see commit_kafka): it retries failed commits */
            mm_kafka_conf_set(conf, "enable.auto.commit", "true", err, errsz) ||
            mm_kafka_conf_set(conf, "auto.commit.interval.ms", "1000", err, errsz) ||
            mm_kafka_conf_set(conf, "enable.auto.offset.store", "false", err, errsz) ||
            mm_kafka_conf_set(conf, "auto.offset.reset", "earliest", err, errsz) ||
            /* bounded memory (issue 10): librdkafka's prefetch queue and
             * fetch responses default to 64 MiB and 50 MiB; a bigger message
             * still comes through (one at a time). -X overrides. */
            mm_kafka_conf_set(conf, "queued.max.messages.kbytes", "8192", err, errsz) ||
            mm_kafka_conf_set(conf, "fetch.max.bytes", "8388608", err, errsz) ||
            (w->metrics &&
             mm_kafka_conf_set(conf, "statistics.interval.ms", "10000", err, errsz)) ||
            mm_kafka_conf_apply(conf, cfg, err, errsz)) {
                rd_kafka_conf_destroy(conf);
                return NULL;
        }
        rd_kafka_conf_set_opaque(conf, w);
        rd_kafka_conf_set_error_cb(conf, error_cb);
        rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
        rd_kafka_conf_set_log_cb(conf, mm_kafka_log_cb);
        if (w->metrics)
                rd_kafka_conf_set_stats_cb(conf, stats_cb);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, errsz);
        if (!rk) {
                rd_kafka_conf_destroy(conf);
                return NULL;
        }
        conf = NULL; /* owned by rk now */
        rd_kafka_poll_set_consumer(rk);
        return rk;
}

static rd_kafka_t *make_producer(worker_t *w, const mm_config_t *cfg, char *err, size_t errsz) {
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        if (mm_kafka_conf_set(conf, "bootstrap.servers", mm_config_get_str(cfg, "brokers"), err,
                              errsz) ||
            mm_kafka_conf_set(conf, "client.id", "minutes-worker-dlq", err, errsz) ||
            mm_kafka_conf_set(conf, "enable.idempotence", "true", err, errsz) ||
            mm_kafka_conf_set(conf, "message.max.bytes", "104857600", err, errsz) ||
            mm_kafka_conf_set(conf, "linger.ms", "5", err, errsz) ||
            /* bounded: a copy not delivered by then fails and is retried by
             * flush_batch (with readiness red) instead of waiting 300 s */
            mm_kafka_conf_set(conf, "message.timeout.ms", mm_config_get_str(cfg, "dlq-timeout-ms"),
                              err, errsz)) {
                rd_kafka_conf_destroy(conf);
                return NULL;
        }
        /* -X applies to the producer too, but consumer-only keys would only
         * produce warnings there: pass the ones the producer understands. */
        for (size_t i = 0; i < mm_config_kafka_count(cfg); i++) {
                const char *k = mm_config_kafka_key(cfg, i);
                if (!strncmp(k, "group.", 6) || !strncmp(k, "session.", 8) ||
                    !strncmp(k, "heartbeat.", 10) || !strncmp(k, "auto.", 5) ||
                    !strncmp(k, "enable.auto", 11) || !strncmp(k, "partition.assignment", 20) ||
                    !strncmp(k, "max.poll", 8) || !strncmp(k, "fetch.", 6) ||
                    !strncmp(k, "queued.", 7) || !strcmp(k, "isolation.level") ||
                    !strcmp(k, "enable.partition.eof") || !strcmp(k, "check.crcs"))
                        continue;
                if (mm_kafka_conf_set(conf, k, mm_config_kafka_value(cfg, i), err, errsz)) {
                        rd_kafka_conf_destroy(conf);
                        return NULL;
                }
        }
        rd_kafka_conf_set_opaque(conf, w);
        rd_kafka_conf_set_error_cb(conf, error_cb);
        rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
        rd_kafka_conf_set_log_cb(conf, mm_kafka_log_cb);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, errsz);
        if (!rk) {
                rd_kafka_conf_destroy(conf);
                return NULL;
        }
        return rk;
}

/* A store (one connection) with the pg-* limits of `cfg`. */
static mm_store_t *new_store(const mm_config_t *cfg, const char *pg, char *errstr,
                             size_t errstr_size) {
        mm_store_t *st = mm_store_new(pg, errstr, errstr_size);
        if (st)
                mm_store_set_limits(st, mm_config_get_int(cfg, "pg-connect-timeout-s"),
                                    mm_config_get_int(cfg, "pg-keepalives-idle-s"),
                                    mm_config_get_int(cfg, "pg-statement-timeout-ms"),
                                    mm_config_get_int(cfg, "pg-lock-timeout-ms"));
        return st;
}

/* The worker's settings from `cfg`, with the floors the loop relies on
 * (a batch of at least one message and one byte, a retry cap of at least
 * 100 ms, rebalance waits of at least 100 ms). */
static void read_settings(worker_t *w, const mm_config_t *cfg) {
        w->group = mm_config_get_str(cfg, "group");
        w->topic = mm_config_get_str(cfg, "topic");
        w->dlq_topic = mm_config_get_str(cfg, "dlq-topic");
        w->batch_size = (size_t)(mm_config_get_int(cfg, "batch-size") > 0
                                         ? mm_config_get_int(cfg, "batch-size")
                                         : 1);
        w->batch_ms = mm_config_get_int(cfg, "batch-ms");
        w->shutdown_ms = mm_config_get_int(cfg, "shutdown-timeout-ms");
        w->retry_max_ms = mm_config_get_int(cfg, "retry-max-ms") > 100
                                  ? mm_config_get_int(cfg, "retry-max-ms")
                                  : 100;
        w->max_doc_bytes = (size_t)mm_config_get_int(cfg, "max-doc-bytes");
        w->max_batch_bytes = (size_t)mm_config_get_int(cfg, "batch-max-bytes");
        if (w->max_batch_bytes == 0)
                w->max_batch_bytes = 1;
        w->dl_payload_cap = (size_t)mm_config_get_int(cfg, "dead-letter-max-bytes");
        w->liveness_ms = mm_config_get_int(cfg, "liveness-timeout-ms");
        w->rebalance_wait_ms = mm_config_get_int(cfg, "rebalance-wait-ms");
        if (w->rebalance_wait_ms < 100)
                w->rebalance_wait_ms = 100;
}

/* The processing parts: the PostgreSQL store (not connected yet), the
 * kommune table, extraction, the parser, the batches, the read-ahead
 * stage and its own store. Returns 0, or -1 with `errstr` set (the parts
 * made so far are freed by mm_worker_destroy). */
static int open_processing(worker_t *w, const mm_config_t *cfg, char *errstr, size_t errstr_size) {
        char err[1024];
        const char *pg = mm_config_get_str(cfg, "pg");
        char masked[1024];
        mm_config_mask_secret(pg ? pg : "(PG* environment)", masked, sizeof(masked));
        snprintf(w->masked_pg, sizeof(w->masked_pg), "%s", masked);
        w->store = new_store(cfg, pg, errstr, errstr_size);
        if (!w->store)
                return -1;
        mm_store_set_wait_cb(w->store, free_spent, w);
        w->cls = mm_classify_new(err, sizeof(err));
        if (!w->cls) {
                snprintf(errstr, errstr_size, "kommune table: %s", err);
                return -1;
        }
        mm_extract_global_init();
        /* extraction limits and sandbox (extract-* options, max-doc-bytes) */
        if (mm_extract_configure(cfg, err, sizeof(err)) != 0) {
                snprintf(errstr, errstr_size, "%s", err);
                return -1;
        }
        w->parser = mm_parser_new(w->max_doc_bytes, err, sizeof(err));
        if (!w->parser) {
                snprintf(errstr, errstr_size, "parser: %s", err);
                return -1;
        }
        w->batch = mm_store_batch_new();
        w->spent = mm_store_batch_new();
        if (!w->batch || !w->spent) {
                snprintf(errstr, errstr_size, "out of memory");
                return -1;
        }
        /* the read-ahead stage counts attempts on a connection of its own */
        w->count_store = new_store(cfg, pg, errstr, errstr_size);
        if (!w->count_store)
                return -1;
        w->attempts = mm_attempts_new(w->group, (int)mm_config_get_int(cfg, "max-crashes"));
        if (!w->attempts) {
                snprintf(errstr, errstr_size, "out of memory");
                return -1;
        }
        w->pipe = mm_pipe_new(prep_message, w, w->batch_size, err, sizeof(err));
        if (!w->pipe) {
                snprintf(errstr, errstr_size, "read-ahead: %s", err);
                return -1;
        }
        return 0;
}

/* The metrics endpoint, if metrics-port is set. Before the Kafka clients:
 * make_consumer asks for statistics only when there are metrics. Returns
 * 0, or -1 with `errstr` set. */
static int start_metrics(worker_t *w, const mm_config_t *cfg, char *errstr, size_t errstr_size) {
        char err[1024];
        long long mport = mm_config_get_int(cfg, "metrics-port");
        if (mport <= 0)
                return 0;
        w->metrics = mm_metrics_new(MM_VERSION, err, sizeof(err));
        if (!w->metrics || mm_metrics_configure(w->metrics, cfg, err, sizeof(err)) != 0 ||
            mm_metrics_start(w->metrics, mm_config_get_str(cfg, "metrics-bind"), (int)mport, err,
                             sizeof(err)) != 0) {
                snprintf(errstr, errstr_size, "metrics: %s", err);
                return -1;
        }
        mm_log(MM_LOG_INFO, "metrics on port %d", mm_metrics_port(w->metrics));
        return 0;
}

/* The Kafka clients: the dead-letter producer, then the consumer. Returns
 * 0, or -1 with `errstr` set. */
static int make_clients(worker_t *w, const mm_config_t *cfg, char *errstr, size_t errstr_size) {
        char err[1024];
        w->producer = make_producer(w, cfg, err, sizeof(err));
        if (!w->producer) {
                snprintf(errstr, errstr_size, "producer: %s", err);
                return -1;
        }
        w->consumer = make_consumer(w, cfg, err, sizeof(err));
        if (!w->consumer) {
                snprintf(errstr, errstr_size, "consumer: %s", err);
                return -1;
        }
        return 0;
}

mm_worker_t *mm_worker_new(const mm_config_t *cfg, const volatile sig_atomic_t *run, char *errstr,
                           size_t errstr_size) {
        worker_t *w = calloc(1, sizeof(*w));
        if (!w) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        w->run = run;
        read_settings(w, cfg);
        if (open_processing(w, cfg, errstr, errstr_size) != 0 ||
            start_metrics(w, cfg, errstr, errstr_size) != 0 ||
            make_clients(w, cfg, errstr, errstr_size) != 0) {
                mm_worker_destroy(w);
                return NULL;
        }
        return w;
}

/* Connects PostgreSQL before the worker joins the group, retrying with
 * backoff (it may be starting). Returns 1 once connected; 0 if the worker
 * was stopped first, with the run's exit code in `*exit_code`. */
static int connect_store(worker_t *w, int *exit_code) {
        char err[1024];
        int64_t backoff = 100;
        int rc = MM_STORE_ERR_TRANSIENT;
        /* connected, and the schema is the one this worker writes through */
        while (*w->run && !w->fatal &&
               (rc = mm_store_connect(w->store, err, sizeof(err)) != 0
                             ? MM_STORE_ERR_TRANSIENT
                             : mm_store_check_schema(w->store, err, sizeof(err))) != MM_STORE_OK &&
               rc != MM_STORE_ERR_SCHEMA) {
                mm_log(MM_LOG_WARN, "PostgreSQL %s not reachable, retrying in %lld ms: %s",
                       w->masked_pg, (long long)backoff, err);
                usleep((useconds_t)backoff * 1000);
                backoff = backoff * 2 > w->retry_max_ms ? w->retry_max_ms : backoff * 2;
        }
        if (rc == MM_STORE_ERR_SCHEMA) {
                mm_log(MM_LOG_ERROR, "refusing to start: %s", err);
                *exit_code = 1;
                return 0;
        }
        if (!*w->run || w->fatal) {
                mm_log(MM_LOG_INFO, "stopped before PostgreSQL was reachable");
                *exit_code = w->fatal ? 1 : 0;
                return 0;
        }
        mm_metrics_set_db_ok(w->metrics, 1);
        return 1;
}

/* Subscribes the consumer to the input topic. Returns 0, or -1 (logged). */
static int subscribe_topic(worker_t *w) {
        rd_kafka_topic_partition_list_t *subs = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(subs, w->topic, RD_KAFKA_PARTITION_UA);
        rd_kafka_resp_err_t kerr = rd_kafka_subscribe(w->consumer, subs);
        rd_kafka_topic_partition_list_destroy(subs);
        if (kerr) {
                mm_log(MM_LOG_ERROR, "subscribe to %s failed: %s", w->topic,
                       rd_kafka_err2str(kerr));
                return -1;
        }
        return 0;
}

/* The main loop until the caller stops the worker or a fatal error:
 * consume into the batch, serve the producer and the paused partitions,
 * and write the batch when it is full (messages or bytes) or old enough. */
static void consume_loop(worker_t *w) {
        while (*w->run && !w->fatal) {
                heartbeat(w); /* liveness: /healthz */
                int timeout = 100;
                if (w->batch_msgs > 0) {
                        int64_t left = w->batch_started + w->batch_ms - now_ms();
                        timeout = left <= 0 ? 0 : (left < 100 ? (int)left : 100);
                }
                pump(w, timeout);
                rd_kafka_poll(w->producer, 0);
                service_pending(w);
                trim_if_idle(w);
                if (w->batch_msgs > 0 &&
                    (w->batch_msgs >= w->batch_size || w->batch_bytes >= w->max_batch_bytes ||
                     now_ms() - w->batch_started >= w->batch_ms)) {
                        fill_ahead(w); /* the stage parses while the batch is written */
                        flush_batch(w, 0);
                }
        }
}

static int any_job(const void *job, void *arg) {
        (void)job;
        (void)arg;
        return 1;
}

/* Graceful stop: finish the batch, commit, close within the deadline.
 * Returns the run's exit code. */
static int stop_gracefully(worker_t *w) {
        int exit_code = 0;
        stop_deadline_passed(w); /* starts the deadline if not yet running */
        /* The read-ahead is re-read in any case: skip what has not started,
         * and end a sandboxed run in progress (and refuse later ones) now,
         * rather than hold the stop for a slow document. Its input is put
         * aside uncounted (mm_attempts.h). */
        mm_pipe_cancel_if(w->pipe, any_job, NULL);
        mm_sandbox_shutdown(1);
        if (!w->fatal) {
                mm_log(MM_LOG_INFO, "stopping: finishing the current batch (messages: %zu)",
                       w->batch_msgs);
                if (flush_batch(w, 0) != 0)
                        mm_log(MM_LOG_WARN,
                               "batch not written before the deadline; it will be re-read");
        }
        /* The read-ahead stage: its messages were never part of a batch
         * (they are re-read); stop its thread, free them before closing. */
        mm_pipe_destroy(w->pipe, free_prep);
        w->pipe = NULL;
        /* the last input counted leaves without a verdict: never counted */
        mm_attempts_release(w->attempts, w->store, NULL, 0);
        /* Dead-letter copies still in flight belong to batch entries that are
         * about to be freed: purge them and serve their delivery reports now
         * (their offsets were not committed, so they will be re-read). */
        rd_kafka_purge(w->producer, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_flush(w->producer, 1000);
        rd_kafka_resp_err_t kerr = rd_kafka_consumer_close(w->consumer);
        if (kerr) {
                mm_log(MM_LOG_ERROR, "consumer close failed: %s", rd_kafka_err2str(kerr));
                exit_code = 1;
        } else {
                mm_log(MM_LOG_INFO, "consumer closed");
        }
        clear_batch(w);
        int64_t left = w->stop_at - now_ms();
        rd_kafka_flush(w->producer, (int)(left > 0 ? left : 0));
        w->closed = 1;
        if (w->fatal)
                exit_code = 1;
        return exit_code;
}

int mm_worker_run(mm_worker_t *w) {
        int exit_code = 0;
        /* Kafka clients first (a bad -X stops start-up at once), then PostgreSQL
         * before joining the group (retry: it may be starting). */
        if (!connect_store(w, &exit_code))
                return exit_code;
        if (subscribe_topic(w) != 0)
                return 1;
        mm_log(MM_LOG_INFO, "started: group %s, topic %s, dlq %s, PostgreSQL %s", w->group,
               w->topic, w->dlq_topic, w->masked_pg);
        consume_loop(w);
        return stop_gracefully(w);
}

void mm_worker_destroy(mm_worker_t *w) {
        if (!w)
                return;
        mm_pipe_destroy(w->pipe, free_prep); /* before any rd_kafka_destroy */
        w->pipe = NULL;
        if (w->consumer && !w->closed)
                rd_kafka_consumer_close(w->consumer);
        if (w->batch)
                clear_batch(w);
        if (w->consumer)
                rd_kafka_destroy(w->consumer);
        if (w->producer)
                rd_kafka_destroy(w->producer);
        mm_store_batch_destroy(w->batch);
        mm_store_batch_destroy(w->spent);
        free(w->dlq);
        free(w->poison);
        free(w->pending);
        mm_classify_destroy(w->cls);
        mm_store_destroy(w->store);
        mm_store_destroy(w->count_store);
        mm_attempts_destroy(w->attempts);
        mm_parser_destroy(w->parser);
        mm_metrics_destroy(w->metrics);
        free(w);
}
