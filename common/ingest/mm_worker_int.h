/*
 * mm_worker_int.h: what the files of the worker module share (mm_worker.c:
 * set-up, main loop, stop; mm_worker_rebalance.c: assignment, revocation,
 * pausing, the pending list; mm_worker_ahead.c: the read-ahead stage;
 * mm_worker_batch.c: writing a batch; mm_worker_dlq.c: dead letters). Not
 * part of the public interface (mm_worker.h). The states these functions
 * move a partition and the worker through: docs/worker-states.md.
 */
#ifndef MM_WORKER_INT_H
#define MM_WORKER_INT_H

#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "mm_attempts.h"
#include "mm_classify.h"
#include "mm_config.h"
#include "mm_metrics.h"
#include "mm_parser.h"
#include "mm_pipe.h"
#include "mm_store.h"
#include "mm_worker.h"

static inline int64_t now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A message dead-lettered in the current batch. */
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
/* PREP_ATT: an attachment (mm_worker_attach.c): j->doc is its record for
 * attachment_texts; with att_dlq set its bytes also go to the dead-letter
 * topic (stage, code, reason), see docs/attachments.md. */
typedef enum { PREP_DOC, PREP_DLQ, PREP_REFUSED, PREP_RETRY, PREP_ATT } prep_kind_t;
typedef struct prep_s {
        rd_kafka_message_t *msg; /* owned */
        prep_kind_t kind;
        json_t *doc;       /* PREP_DOC: the batch record (owned) */
        char *doc_text;    /* PREP_DOC: its text for the write (mm_store_doc_text), or NULL */
        const char *stage; /* PREP_DLQ: "extract" | "parse" */
        char code[64];     /* PREP_DLQ */
        char reason[512];  /* PREP_DLQ: why; PREP_REFUSED, PREP_RETRY: the error */
        int pg_down;       /* not counted: PostgreSQL was unreachable */
        int att_dlq;       /* PREP_ATT: dead-letter the message too */
        int64_t polled_at; /* now_ms() when it was consumed */
} prep_t;

typedef struct mm_worker_s {
        char masked_pg[1024];             /* the PostgreSQL URL with secrets masked, for logs */
        int closed;                       /* the consumer was closed by mm_worker_run */
        const volatile sig_atomic_t *run; /* cleared by the caller to stop */
        const char *group, *topic, *dlq_topic;
        const char *att_topic; /* attachments topic, NULL when attachments are off */
        const char *att_route; /* attachments-topic: its messages are attachments, also when
                                  it is the --topic of a worker for attachments only */
        int att_topic_missing; /* logged once: the attachments topic does not exist */
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

/* mm_worker.c */
void mm_worker_heartbeat(worker_t *w);
int mm_worker_stop_deadline_passed(worker_t *w);
void mm_worker_serve_for(worker_t *w, int64_t ms);

/* mm_worker_rebalance.c */
void mm_worker_pause_all(worker_t *w);
int mm_worker_is_pending(const worker_t *w, const char *topic, int32_t partition);
void mm_worker_add_pending_at(worker_t *w, const char *topic, int32_t partition, int64_t offset);
void mm_worker_add_pending(worker_t *w, const char *topic, int32_t partition);
void mm_worker_resume_all(worker_t *w);
int mm_worker_load_offset_retry(worker_t *w, const char *topic, int32_t partition, int64_t *off,
                                int64_t max_ms);
int mm_worker_seek_one(worker_t *w, const char *topic, int32_t partition, int64_t off);
void mm_worker_service_pending(worker_t *w);
void mm_worker_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                            rd_kafka_topic_partition_list_t *parts, void *opaque);

/* mm_worker_ahead.c */
void mm_worker_prep_message(void *job, void *opaque);
void mm_worker_free_prep(void *job);
void mm_worker_pump(worker_t *w, int timeout_ms);
void mm_worker_fill_ahead(worker_t *w);

/* mm_worker_attach.c */
void mm_worker_prep_attachment(worker_t *w, prep_t *j, int suspect);
int mm_worker_is_attachment(worker_t *w, rd_kafka_message_t *msg);

/* mm_worker_batch.c */
void mm_worker_commit_kafka(worker_t *w, int async);
void mm_worker_free_spent(void *arg);
void mm_worker_clear_batch(worker_t *w);
void mm_worker_trim_if_idle(worker_t *w);
int mm_worker_flush_batch(worker_t *w, int max_attempts);

/* mm_worker_dlq.c */
void mm_worker_dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque);
void mm_worker_add_dlq(worker_t *w, rd_kafka_message_t *msg, const char *stage, const char *code,
                       const char *reason);
void mm_worker_set_dlq_state(worker_t *w, int ok);
int mm_worker_produce_dlq(worker_t *w, int64_t max_ms);

#endif /* MM_WORKER_INT_H */
