/*
 * mm_http: a polite HTTP GET client for one host, on libcurl.
 *
 * One mm_http_t per host: one curl handle (its connection is reused), one
 * in-memory cookie jar, and the host's own pacing and backoff, so a slow
 * or failing host delays nobody else. What it does on every request:
 *   - TLS verification on (peer and host name), gzip/deflate accepted;
 *   - connect and total timeouts; a response size cap (a larger body is
 *     cut off and reported as MM_HTTP_TOO_LARGE, whatever the server said
 *     about its length);
 *   - a User-Agent naming the project and the operator's contact;
 *   - at most one request at a time and at least min_interval_ms between
 *     two requests to the host;
 *   - exponential backoff with full jitter on timeouts, refused or broken
 *     connections, 5xx and 429, honouring Retry-After (seconds or an HTTP
 *     date), up to `retries` retries; a Retry-After longer than
 *     max_retry_after_ms ends the attempt at once (the host is retried in
 *     its next cycle);
 *   - sessions: FirstAgenda answers its API only inside a session that
 *     `GET /` opens with a cookie, and redirects (3xx) otherwise. The first
 *     API request does the handshake; a redirect from the API drops the
 *     jar, redoes the handshake and repeats the request once.
 * Not thread-safe: one thread uses an mm_http_t at a time.
 */
#ifndef MM_HTTP_H
#define MM_HTTP_H

#include <signal.h>
#include <stddef.h>

typedef struct mm_http_s mm_http_t;

/* Why a request failed. */
typedef enum mm_http_fail_e {
        MM_HTTP_OK = 0,
        MM_HTTP_TRANSIENT, /* timeouts, connection faults, 5xx, 429, redirect loop: retry later */
        MM_HTTP_PERMANENT, /* another 4xx (404 for a withdrawn Id, ...) */
        MM_HTTP_TOO_LARGE  /* the body passed max_bytes */
} mm_http_fail_t;

/* Options of a client; strings are copied by mm_http_new. */
typedef struct mm_http_opts_s {
        const char *user_agent;  /* required */
        long connect_timeout_ms; /* e.g. 10000 */
        long timeout_ms;         /* whole request, e.g. 60000 */
        size_t max_bytes;        /* body cap, e.g. 16 MiB */
        int retries;             /* retries of one request after the first try */
        long backoff_base_ms;    /* first backoff ceiling, e.g. 1000 */
        long backoff_max_ms;     /* backoff ceiling, e.g. 60000 */
        long max_retry_after_ms; /* longest Retry-After waited for, e.g. 120000 */
        long min_interval_ms;    /* pause between two requests to the host, e.g. 1000 */
        const char *ca_file;     /* extra CA bundle, or NULL for the system's */
        volatile sig_atomic_t
                *stop; /* when set non-zero, sleeps end and requests fail; may be NULL */
        /* Called once per HTTP answer or transport failure with the status
         * ("200", "302", "500", "timeout", "connect", "too_large", "error");
         * may be NULL. */
        void (*on_status)(void *arg, const char *status);
        void *on_status_arg;
} mm_http_opts_t;

/* A response body: malloc'd, NUL-terminated; the caller frees `body`. */
typedef struct mm_http_response_s {
        long status;
        char *body;
        size_t len;
        mm_http_fail_t fail;
        char content_type[128]; /* of the last response, "" when none */
        /* the body's size: its length, or when it was too large the
         * Content-Length announced, else the bytes counted before giving up;
         * -1 when nothing was received */
        long long size;
} mm_http_response_t;

/* Global libcurl set-up; call once before any thread starts. Returns 0 or -1. */
int mm_http_global_init(void);
void mm_http_global_cleanup(void);

/* A client for the site at `base_url` ("https://dagsordener.x.dk", no
 * trailing slash needed). Returns NULL with errstr filled on failure. */
mm_http_t *mm_http_new(const char *base_url, const mm_http_opts_t *opts, char *errstr,
                       size_t errstr_size);

/* Frees the client; NULL is allowed. */
void mm_http_destroy(mm_http_t *h);

/* GETs the API path `path` ("/api/agenda/udvalgsliste") inside a session,
 * with retries as described above. Returns 0 with a 2xx body in *out
 * (caller frees out->body), or -1 with errstr filled and out->fail saying
 * why (out->body is NULL then). */
int mm_http_get_api(mm_http_t *h, const char *path, mm_http_response_t *out, char *errstr,
                    size_t errstr_size);

/* GETs the file at `path` ("/vis/pdf/bilag/{Id}?redirectDirectlyToPdf=
 * true") inside the session, following redirects (to the file's storage),
 * with a body cap of `max_bytes` for this request (not the client's) and
 * the same retries as mm_http_get_api. A redirect that ends on an HTML page
 * (a login page) redoes the handshake once. Returns 0 with the body in
 * *out (caller frees out->body), or -1 with errstr filled and out->fail
 * saying why; with MM_HTTP_TOO_LARGE out->size is the size announced or
 * counted, and nothing past the cap was kept. */
int mm_http_get_file(mm_http_t *h, const char *path, size_t max_bytes, mm_http_response_t *out,
                     char *errstr, size_t errstr_size);

/* Forgets the session cookie (the next API request does the handshake). */
void mm_http_reset_session(mm_http_t *h);

/* Number of requests sent (handshakes and retries included). */
unsigned long mm_http_request_count(const mm_http_t *h);

/* The delay before retry number `attempt` (0 = the first retry): a random
 * value in [ceiling/2, ceiling] with ceiling = min(max_ms, base_ms *
 * 2^attempt), and never less than `retry_after_ms` (-1: none). `seed` is
 * the caller's rand_r state. */
long mm_http_backoff_ms(int attempt, long base_ms, long max_ms, long retry_after_ms,
                        unsigned *seed);

/* A Retry-After header value in ms: delta seconds ("120") or an HTTP date
 * ("Wed, 21 Oct 2026 07:28:00 GMT", relative to `now`, 0 when past).
 * Returns -1 when `v` is NULL or neither. */
long mm_http_parse_retry_after(const char *v, long long now);

#endif /* MM_HTTP_H */
