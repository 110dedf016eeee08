/*
 * mm_poll_metrics: minutes-source's Prometheus metrics, per kommune,
 * served through mm_metrics' HTTP server (mm_metrics_set_hooks).
 * Thread-safe: every polling thread records into the same registry.
 *
 * Families (used by deploy/prometheus/alerts.yml and deploy/grafana):
 *   mm_source_build_info{version}                        gauge 1
 *   mm_source_silence_threshold_seconds                  gauge (option silent-days)
 *   mm_source_last_success_timestamp_seconds{kommune}    gauge: last complete poll
 *                                                        (from the shared state, so
 *                                                        every replica agrees)
 *   mm_source_last_poll_timestamp_seconds{kommune}       gauge: last poll by this process
 *   mm_source_latest_release_timestamp_seconds{kommune}  gauge: newest ReleasedDate listed
 *   mm_source_consecutive_failures{kommune}              gauge: polls in a row that failed
 *   mm_source_requests_total{kommune,status}             counter: HTTP answers ("200",
 *                                                        "429", ...) and failures
 *                                                        ("timeout", "connect", ...)
 *   mm_source_publications_total{kommune}                counter: messages delivered
 *   mm_source_errors_total{kommune,kind}                 counter: listing, fetch, invalid,
 *                                                        too_large, kafka, state
 *   mm_source_state_up                                   gauge 0/1: last state round trip
 */
#ifndef MM_POLL_METRICS_H
#define MM_POLL_METRICS_H

#include <stddef.h>

typedef struct mm_poll_metrics_s mm_poll_metrics_t;

/* A registry for the kommuner `names` (n of them; copied). Returns NULL on
 * allocation failure. */
mm_poll_metrics_t *mm_poll_metrics_new(const char *const *names, size_t n,
                                       double silence_threshold_s);

/* Frees the registry; NULL is allowed. */
void mm_poll_metrics_destroy(mm_poll_metrics_t *pm);

/* Recording; `pm` may be NULL, an unknown kommune is ignored. */
void mm_poll_metrics_request(mm_poll_metrics_t *pm, const char *kommune, const char *status);
void mm_poll_metrics_published(mm_poll_metrics_t *pm, const char *kommune);
void mm_poll_metrics_error(mm_poll_metrics_t *pm, const char *kommune, const char *kind);
/* An attachment produced: `result` "produced" (with its bytes) or the
 * reason of an empty record ("too_large", "http_404", ...). */
void mm_poll_metrics_attachment(mm_poll_metrics_t *pm, const char *kommune, const char *result,
                                unsigned long long bytes);
void mm_poll_metrics_poll(mm_poll_metrics_t *pm, const char *kommune, double now, int ok,
                          int failures);
void mm_poll_metrics_last_success(mm_poll_metrics_t *pm, const char *kommune, double t);
void mm_poll_metrics_latest_release(mm_poll_metrics_t *pm, const char *kommune, double t);
void mm_poll_metrics_state_up(mm_poll_metrics_t *pm, int up);

/* The exposition text (malloc'd, NUL-terminated; length in *len, which
 * may be NULL), or NULL on allocation failure. Has the signature of
 * mm_metrics_hooks_t.render (arg is the registry). */
char *mm_poll_metrics_render(void *pm, size_t *len);

/* /readyz: ready while the state database answers. Has the signature of
 * mm_metrics_hooks_t.ready. */
int mm_poll_metrics_ready(void *pm, char *why, size_t why_size);

#endif /* MM_POLL_METRICS_H */
