/*
 * mm_worker: the consumer side of minutes-worker. Joins the consumer group,
 * parses every raw document, writes records and offsets to PostgreSQL in one
 * transaction per batch, and dead-letters what cannot be parsed. The program
 * (worker/main.c) owns the options table, the signal handlers and
 * --migrate; this module owns everything between Kafka and PostgreSQL.
 */
#ifndef MM_WORKER_H
#define MM_WORKER_H

#include <signal.h>
#include <stddef.h>

#include "mm_config.h"

typedef struct mm_worker_s mm_worker_t;

/* Creates a worker from `cfg` (the options of worker/main.c): the
 * PostgreSQL store (not yet connected), the parser, the metrics server when
 * metrics-port is set, the DLQ producer and the consumer. `run` is the flag
 * the caller's signal handler clears to ask for a graceful stop; it must
 * outlive the worker, and so must `cfg` (its strings are used). Returns NULL and
 * fills errstr on a bad option (e.g. an unknown -X key). */
mm_worker_t *mm_worker_new(const mm_config_t *cfg, const volatile sig_atomic_t *run, char *errstr,
                           size_t errstr_size);

/* Connects to PostgreSQL (retrying with backoff), subscribes, and consumes
 * until *run is cleared or librdkafka reports a fatal error; then finishes
 * the batch, commits and closes the consumer within shutdown-timeout-ms.
 * Returns the process exit status: 0 after a clean stop, 1 on a fatal
 * error or a failed consumer close. Call at most once. */
int mm_worker_run(mm_worker_t *w);

/* 1 if a dead-letter delivery error `err` (an rd_kafka_resp_err_t) will
 * not go away by retrying the same copy (message too large, unknown topic,
 * authorization): the worker then sends a header-only copy, and stops with
 * a fatal log if that is refused too. */
int mm_worker_dlq_error_permanent(int err);

/* Frees the worker, closing the consumer first if mm_worker_run did not.
 * `w` may be NULL. */
void mm_worker_destroy(mm_worker_t *w);

#endif /* MM_WORKER_H */
