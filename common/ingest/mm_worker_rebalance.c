/*
 * mm_worker_rebalance: partitions coming and going. Assignment (offsets
 * from PostgreSQL), revocation (the batch is flushed or its partitions
 * dropped), pausing while PostgreSQL is down, and the pending list of
 * partitions whose offset could not be read or sought yet
 * (docs/worker-states.md).
 */
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

#include "mm_worker_int.h"

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

void mm_worker_pause_all(worker_t *w) {
        rd_kafka_topic_partition_list_t *a = NULL;
        if (rd_kafka_assignment(w->consumer, &a) == RD_KAFKA_RESP_ERR_NO_ERROR && a) {
                if (a->cnt > 0)
                        rd_kafka_pause_partitions(w->consumer, a);
                rd_kafka_topic_partition_list_destroy(a);
        }
        w->paused = 1;
        mm_log(MM_LOG_WARN, "paused all partitions until PostgreSQL is back");
}

int mm_worker_is_pending(const worker_t *w, const char *topic, int32_t partition) {
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

/* Keeps `topic`/`partition` paused until it is sought (mm_worker_service_pending):
 * to `offset`, or (PENDING_FROM_PG) to its offset stored in PostgreSQL
 * once that can be read. Pausing also drops the messages librdkafka has
 * already fetched for it. */
void mm_worker_add_pending_at(worker_t *w, const char *topic, int32_t partition, int64_t offset) {
        if (mm_worker_is_pending(w, topic, partition))
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

void mm_worker_add_pending(worker_t *w, const char *topic, int32_t partition) {
        mm_worker_add_pending_at(w, topic, partition, PENDING_FROM_PG);
}

static void remove_pending(worker_t *w, const char *topic, int32_t partition) {
        for (size_t i = 0; i < w->npending; i++)
                if (w->pending[i].partition == partition && !strcmp(w->pending[i].topic, topic)) {
                        w->pending[i] = w->pending[--w->npending];
                        return;
                }
}

void mm_worker_resume_all(worker_t *w) {
        rd_kafka_topic_partition_list_t *a = NULL;
        if (rd_kafka_assignment(w->consumer, &a) == RD_KAFKA_RESP_ERR_NO_ERROR && a) {
                /* partitions whose offset is not known yet stay paused */
                for (int i = a->cnt - 1; i >= 0; i--)
                        if (mm_worker_is_pending(w, a->elems[i].topic, a->elems[i].partition))
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
int mm_worker_load_offset_retry(worker_t *w, const char *topic, int32_t partition, int64_t *off,
                                int64_t max_ms) {
        int64_t backoff = 100, end = now_ms() + max_ms;
        char err[512];
        for (;;) {
                mm_worker_heartbeat(w); /* retrying is alive */
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
int mm_worker_seek_one(worker_t *w, const char *topic, int32_t partition, int64_t off) {
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
void mm_worker_service_pending(worker_t *w) {
        /* Paused for a rewind whose partition was then revoked (its pending
         * entry went with it): nothing is left to retry, so nothing would
         * ever resume the partitions assigned since; go on. */
        if (!w->npending && w->paused && !w->batch_msgs && !w->in_flush) {
                mm_worker_resume_all(w);
                return;
        }
        if (!w->npending || now_ms() < w->pending_next_try)
                return;
        char err[512];
        for (size_t i = 0; i < w->npending;) {
                pending_t p = w->pending[i];
                int64_t off = p.offset;
                if ((p.offset == PENDING_FROM_PG &&
                     mm_store_load_offset(w->store, w->group, p.topic, p.partition, &off, err,
                                          sizeof(err)) != 0) ||
                    mm_worker_seek_one(w, p.topic, p.partition, off) != 0) {
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
                mm_worker_resume_all(w);
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

/* Where each assigned partition starts: PostgreSQL's offset, else its
 * first offset; state[i] = 0 PostgreSQL's, 1 not known yet (assigned
 * unset, sought later by mm_worker_service_pending), 2 PostgreSQL has none.
 * Bounded: rebalance-wait-ms for all of them. */
static void start_offsets(worker_t *w, rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts,
                          int *state) {
        int64_t end = now_ms() + w->rebalance_wait_ms;
        for (int i = 0; i < parts->cnt; i++) {
                rd_kafka_topic_partition_t *p = &parts->elems[i];
                int64_t off = -1, left = end - now_ms();
                if (mm_worker_load_offset_retry(w, p->topic, p->partition, &off,
                                                left > 0 ? left : 0) != 0) {
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
 * paused and sought later (mm_worker_service_pending). */
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
                        mm_worker_add_pending(w, parts->elems[i].topic, parts->elems[i].partition);
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
                mm_worker_flush_batch(w, 1);
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

void mm_worker_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
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
