/*
 * mm_metrics: the worker's Prometheus metrics and health endpoints.
 *
 * One mm_metrics_t per worker process. The worker records values with the
 * mm_metrics_add_* / observe_* / set_* calls below (thread-safe, cheap: a
 * mutex and a few additions), and mm_metrics_start() serves them over HTTP
 * with libmicrohttpd on its own thread:
 *
 *   GET /metrics   Prometheus text exposition format 0.0.4
 *   GET /healthz   liveness: 200 "ok", or 503 when the worker's main loop
 *                  has not turned (mm_metrics_heartbeat) for longer than the
 *                  liveness timeout. Armed by the first heartbeat, so the
 *                  start-up wait for PostgreSQL does not count.
 *   GET /readyz    200 "ready" when assigned partitions > 0 and the
 *                  database is reachable, else 503 with the reason
 *
 * Every recording function accepts m == NULL and then does nothing, so the
 * worker can run without metrics (no --metrics-port).
 *
 * Metric families (names are used by deploy/grafana and deploy/prometheus).
 * The namespace is mm_, not minutes_: promtool's linter reads a name part
 * "minutes" as a non-base time unit and rejects every such metric.
 *   mm_worker_build_info{version}             gauge, always 1
 *   mm_worker_start_time_seconds              gauge, unix time
 *   mm_messages_consumed_total                counter
 *   mm_documents_written_total                counter
 *   mm_dead_letters_total{code}               counter
 *   mm_parse_seconds                          histogram
 *   mm_db_batch_seconds                       histogram
 *   mm_db_retries_total                       counter
 *   mm_db_paused_seconds_total                counter
 *   mm_db_up                                  gauge 0/1
 *   mm_db_systemic_errors_total               counter
 *   mm_dlq_up                                 gauge 0/1
 *   mm_rebalances_total                       counter
 *   mm_assigned_partitions                    gauge
 *   mm_ready                                  gauge 0/1
 *   mm_consumer_lag{topic,partition}          gauge (from stats)
 *   mm_partition_high_watermark{topic,partition}   gauge (from stats)
 *   mm_partition_committed_offset{topic,partition} gauge (from stats)
 *   mm_stats_errors_total                     counter
 *   mm_main_loop_last_turn_age_seconds        gauge (time since the last heartbeat)
 *   mm_documents_low_confidence_total{municipality}  counter (confidence below
 *                                             the low-confidence threshold)
 *   mm_attachments_total{result}              counter (stored, skipped, failed,
 *                                             duplicate; docs/attachments.md)
 *   mm_extract_pages_total{kind}              counter (attachment, document)
 *   mm_extract_ocr_pages_total{kind}          counter
 *   mm_extract_ocr_seconds_total{kind}        counter
 */
#ifndef MM_METRICS_H
#define MM_METRICS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "mm_config.h"

typedef struct mm_metrics_s mm_metrics_t;

/* Defaults of the config keys liveness-timeout-ms and low-confidence. */
#define MM_METRICS_LIVENESS_TIMEOUT_MS 60000
#define MM_METRICS_LOW_CONFIDENCE      0.6

/* Creates the metric registry (not yet serving). `version` is the value of
 * the build_info label; NULL means MM_VERSION (or "unknown").
 * Returns NULL with errstr filled on failure. The caller owns the result
 * and frees it with mm_metrics_destroy(). */
mm_metrics_t *mm_metrics_new(const char *version, char *errstr, size_t errstr_size);

/* Stops the HTTP server (if started) and frees everything. `m` may be NULL. */
void mm_metrics_destroy(mm_metrics_t *m);

/* Starts serving on `port` (0 = an ephemeral port, see mm_metrics_port()).
 * `bind_addr` is an IPv4 literal such as "127.0.0.1", or NULL for all
 * IPv4 interfaces. Returns 0, or -1 with errstr filled (port in use,
 * already started, ...). `m` must not be NULL. */
int mm_metrics_start(mm_metrics_t *m, const char *bind_addr, int port, char *errstr,
                     size_t errstr_size);

/* The port actually bound, or -1 when not serving. `m` may be NULL. */
int mm_metrics_port(const mm_metrics_t *m);

/* Counters. Call after the event happened. */
void mm_metrics_add_consumed(mm_metrics_t *m, uint64_t n);      /* per message polled */
void mm_metrics_add_written(mm_metrics_t *m, uint64_t n);       /* per document committed to PG */
void mm_metrics_add_db_retry(mm_metrics_t *m);                  /* per retried DB operation */
void mm_metrics_add_db_paused(mm_metrics_t *m, double seconds); /* time consumption was paused */
void mm_metrics_add_rebalance(mm_metrics_t *m);                 /* per assign/revoke callback */

/* Counts one dead-lettered message with its error code (e.g. the parser's
 * "not_minutes", or a worker code). `code` may be NULL ("unknown"); codes
 * are copied. Only [a-z0-9_] are kept; after 64 distinct codes further new
 * codes are counted as "other". */
void mm_metrics_add_dead_letter(mm_metrics_t *m, const char *code);

/* Attachments (issue 22) of a committed batch: rows with text stored
 * (inserted or replaced), rows without text because the producer skipped
 * the bytes or extraction failed, and deliveries whose sha256 was stored
 * already. Rendered as mm_attachments_total{result=...}. */
void mm_metrics_add_attachments(mm_metrics_t *m, uint64_t stored, uint64_t skipped, uint64_t failed,
                                uint64_t duplicates);

/* One extraction's pages, OCRed pages and OCR time (mm_extract_info_t);
 * `kind` is "attachment" or "document" (anything else counts as
 * "document"). Rendered as mm_extract_pages_total, mm_extract_ocr_pages_total
 * and mm_extract_ocr_seconds_total, each with label kind. */
void mm_metrics_add_extract(mm_metrics_t *m, const char *kind, int pages, int ocr_pages,
                            double ocr_seconds);

/* Histograms, in seconds. */
void mm_metrics_observe_parse(mm_metrics_t *m, double seconds);    /* one mm_parser_parse */
void mm_metrics_observe_db_batch(mm_metrics_t *m, double seconds); /* one batch transaction */

/* Gauges and readiness inputs. */
void mm_metrics_set_assigned(mm_metrics_t *m, int partitions); /* after every rebalance */
void mm_metrics_set_db_ok(mm_metrics_t *m, int ok); /* 1 after a successful DB round trip,
                                                     * 0 on a connection fault */

/* 0 while dead letters cannot be delivered (readiness goes red), 1 again
 * once they are. Starts at 1. */
void mm_metrics_set_dlq_ok(mm_metrics_t *m, int ok);

/* Counts one database error that is no document's fault (systemic). */
void mm_metrics_add_db_systemic_error(mm_metrics_t *m);

/* Ready = assigned partitions > 0, db ok and dead letters deliverable. `m` may be NULL (returns 0). */
int mm_metrics_is_ready(mm_metrics_t *m);

/* Feeds one librdkafka statistics JSON document (the `json`, `json_len`
 * arguments of the stats_cb; set statistics.interval.ms, e.g. 10000).
 * Replaces the per-partition lag/offset gauges with the partitions in this
 * document (see mm_lag_stats_parse). Does not take ownership of `json`;
 * the stats_cb should return 0 so librdkafka frees it.
 * Returns 0, or -1 with errstr filled (and mm_stats_errors_total
 * incremented) on malformed JSON. `m` may be NULL (returns 0). */
int mm_metrics_update_stats(mm_metrics_t *m, const char *json, size_t json_len, char *errstr,
                            size_t errstr_size);

/* Reads the config keys of this module from `cfg`, whose table must have
 * them (worker/main.c): liveness-timeout-ms (integer, ms, 0 = /healthz
 * never fails) and low-confidence (a number in [0, 1], as a string).
 * Returns 0, or -1 with errstr filled for a bad value. `m` may be NULL
 * (returns 0). */
int mm_metrics_configure(mm_metrics_t *m, const mm_config_t *cfg, char *errstr, size_t errstr_size);

/* Liveness: the worker's main loop calls this on every turn. `m` may be
 * NULL. */
void mm_metrics_heartbeat(mm_metrics_t *m);

/* 1 while the main loop turned within the liveness timeout (or has not
 * turned yet, or the timeout is 0); 0 otherwise, with the reason in `why`
 * (may be NULL). `m` may be NULL (returns 1). */
int mm_metrics_is_live(mm_metrics_t *m, char *why, size_t why_size);

/* Sets the liveness timeout in ms (0 = off). `m` may be NULL. */
void mm_metrics_set_liveness_timeout(mm_metrics_t *m, int64_t ms);

/* Replaces the monotonic clock (ms) used for liveness; NULL restores it.
 * For tests. `m` must not be NULL. */
void mm_metrics_set_clock(mm_metrics_t *m, int64_t (*now_ms)(void));

/* Sets the low-confidence threshold. `m` may be NULL. */
void mm_metrics_set_low_confidence(mm_metrics_t *m, double threshold);

/* Counts a parsed document whose "confidence" is below the threshold in
 * mm_documents_low_confidence_total, labelled with its "municipality"
 * ("unknown" when absent; after 128 distinct values, "other"). `document` is
 * the "document" object of minutes-parse's output; it is only read, and
 * may be NULL or lack a numeric confidence (then nothing is counted). `m`
 * may be NULL. */
void mm_metrics_observe_confidence(mm_metrics_t *m, const json_t *document);

/* Another program's endpoints on this server (minutes-source): `render`
 * returns the whole /metrics body (malloc'd, its length in *len; NULL on
 * allocation failure) instead of the worker's families, and `ready` (may
 * be NULL) answers /readyz: 1 ready, else 0 with the reason in `why`.
 * Both run on the server's thread with `arg`. /healthz stays the
 * heartbeat's. Call before mm_metrics_start. */
typedef struct mm_metrics_hooks_s {
        char *(*render)(void *arg, size_t *len);
        int (*ready)(void *arg, char *why, size_t why_size);
        void *arg;
} mm_metrics_hooks_t;
void mm_metrics_set_hooks(mm_metrics_t *m, const mm_metrics_hooks_t *hooks);

/* Renders the exposition text (what GET /metrics returns). Returns a new
 * NUL-terminated string the caller frees with free(), and its length in
 * *len (len may be NULL); NULL on allocation failure. `m` must not be NULL. */
char *mm_metrics_render(mm_metrics_t *m, size_t *len);

#endif /* MM_METRICS_H */
