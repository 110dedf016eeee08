/*
 * mm_poll: one poll of one kommune's FirstAgenda publishing API, and the
 * scheduler that polls many kommuner (minutes-source).
 *
 * One poll (mm_poll_host): GET the listing (mm_firstagenda_listing,
 * strict); for every entry that is new, or whose Navn, ReleasedDate or
 * Afsluttet changed, or whose last fetch failed: GET the publication and,
 * when its sha256 differs from the last one produced, produce it to the
 * raw topic as a CloudEvent (content type application/vnd.firstagenda+json,
 * the kommune in the envelope, ReleasedDate as the event time) keyed by
 * kommune + committee Id + meeting start, so every publication of a meeting
 * lands in one partition in release order. The entry's state advances only
 * after the delivery report (mm_poll_state). A body that is not JSON is not
 * produced until it failed max_attempts times; then it goes anyway, so the
 * worker dead-letters it (export_invalid) and it is kept.
 *
 * The scheduler (mm_poll_run): `threads` threads share the kommuner; each
 * kommune has its own HTTP client (cookie jar, pacing, backoff) and its own
 * schedule, so a slow or failing host delays no other. Before polling, a
 * thread takes the host's PostgreSQL advisory lock; a host held by another
 * process, or already polled by another since (this cycle / next_poll_at),
 * is left to it.
 */
#ifndef MM_POLL_H
#define MM_POLL_H

#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stddef.h>

#include "mm_http.h"
#include "mm_poll_metrics.h"
#include "mm_poll_state.h"

/* One kommune to poll. */
typedef struct mm_poll_host_s {
        const char *kommune;  /* name in the envelope, the key and the metrics */
        const char *host;     /* the state's key (the API host name) */
        const char *base_url; /* "https://" + host, or --base-url */
} mm_poll_host_t;

typedef struct mm_poll_opts_s {
        mm_http_opts_t http; /* on_status is set per host by mm_poll_run */
        rd_kafka_t *rk;      /* the producer; its dr_msg_cb must be mm_poll_delivery_cb */
        const char *topic;
        const char *ce_source;      /* CloudEvents source prefix, e.g. "minutes-source" */
        int max_attempts;           /* fetches of an invalid body before it is produced anyway */
        mm_poll_metrics_t *metrics; /* may be NULL */
        volatile sig_atomic_t *stop;
        /* Attachments (issue 22): with `attachments` set, the Bilag of each
         * fetched publication are registered and every attachment not yet
         * produced is fetched (mm_http_get_file, body cap
         * attachment_max_bytes) and produced to attachments_topic. */
        int attachments;
        const char *attachments_topic;
        size_t attachment_max_bytes;
        long attachments_per_poll; /* at most this many attachment fetches a poll; 0: all */
} mm_poll_opts_t;

/* The outcome of one poll of one host. */
typedef struct mm_poll_result_s {
        int failed;       /* the host could not be polled (listing, transient, Kafka, state) */
        int entry_errors; /* entries that could not be fetched or were not produced */
        size_t listed, fetched, produced, unchanged;
        /* attachments: requested, produced with bytes, produced as skipped,
         * failed fetches left for a later cycle */
        size_t att_fetched, att_produced, att_skipped, att_errors;
        char error[512]; /* the first error, "" when none */
} mm_poll_result_t;

/* The producer's delivery-report callback (rd_kafka_conf_set_dr_msg_cb):
 * mm_poll waits on each message's report before advancing the state. */
void mm_poll_delivery_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque);

/* Polls one host, whose advisory lock the caller holds, through `http`
 * (the host's client) and `st`. Fills *res. Returns 0 when the host was
 * polled (entry errors possible), -1 when it failed (res->error says
 * why). */
int mm_poll_host(const mm_poll_opts_t *o, const mm_poll_host_t *h, mm_http_t *http,
                 mm_poll_state_t *st, mm_poll_result_t *res);

/* Produces one message to `topic` (value copied) and waits for its
 * delivery report: the caller's state may advance after a 0. `hd` belongs
 * to librdkafka afterwards, or is destroyed on failure. Returns 0, or -1
 * with errstr filled. (Shared by the publication and attachment passes.) */
int mm_poll_produce(const mm_poll_opts_t *o, const char *topic, const char *key, const void *value,
                    size_t len, rd_kafka_headers_t *hd, char *errstr, size_t errstr_size);

/* The ReleasedDate `t` with at most 6 fraction digits into out (the API
 * writes 7; RFC 3339 allows any number, the store reads microseconds). */
void mm_poll_micro_time(const char *t, char *out, size_t cap);

/* Registers the attachments named by the publication `body` of entry
 * `entry_id` (message key `meeting_key`, ReleasedDate `released`), then
 * records that it is done. Returns 0, or -1 when the state failed
 * (res->failed set). A body whose Bilag cannot be read registers none. */
int mm_poll_attach_register(const mm_poll_opts_t *o, const mm_poll_host_t *h, mm_poll_state_t *st,
                            const char *entry_id, const char *meeting_key, const char *released,
                            const char *body, size_t len, mm_poll_result_t *res);

/* Fetches and produces every attachment of the host not produced yet
 * (mm_attach_decide says what a failure means). A transient failure ends
 * the pass (the host is in trouble: res->failed). Returns 0 or -1. */
int mm_poll_attach_pass(const mm_poll_opts_t *o, const mm_poll_host_t *h, mm_http_t *http,
                        mm_poll_state_t *st, mm_poll_result_t *res);

typedef struct mm_poll_run_opts_s {
        mm_poll_opts_t poll;
        const char *pg;          /* state database conninfo */
        int threads;             /* polling threads (each with its own database session) */
        double interval_s;       /* time between two polls of a host */
        int once;                /* 1: one cycle over every host, then return */
        const char *poller_id;   /* recorded as polled_by */
        void (*beat)(void *arg); /* called about every 200 ms while running; may be NULL */
        void *beat_arg;
} mm_poll_run_opts_t;

/* Polls `hosts` (n of them) until *o->poll.stop is set, or for one cycle
 * with o->once. With once, failed[i] (n flags, may be NULL) is set to 1
 * for every host that failed or had entry errors. Returns the number of
 * hosts that failed in the last cycle (once), 0 (not once), or -1 with
 * errstr filled when it cannot start. */
int mm_poll_run(const mm_poll_run_opts_t *o, const mm_poll_host_t *hosts, size_t n, int *failed,
                char *errstr, size_t errstr_size);

#endif /* MM_POLL_H */
