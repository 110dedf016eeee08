/*
 * mm_http: see mm_http.h. libcurl's easy interface, one handle per host:
 * libcurl keeps the connection and the cookie engine of that handle, and
 * gives TLS verification, content decoding and timeouts that a
 * hand-written client would have to get right itself.
 */
#include "mm_http.h"

#include <curl/curl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "mm_buf.h"

struct mm_http_s {
        CURL *curl;
        char *base; /* without a trailing slash */
        char *user_agent, *ca_file;
        mm_http_opts_t o; /* strings point at the copies above */
        int have_session;
        int64_t last_request_ms; /* monotonic; -1 before the first */
        unsigned seed;
        unsigned long nreq;
        mm_buf_t body;
        size_t cap;            /* body cap of the request in progress */
        size_t received;       /* body bytes offered by libcurl, kept or not */
        long long content_len; /* Content-Length of the last response, -1: none */
        char retry_after[64];
        char content_type[128];
};

/* One HTTP exchange. */
typedef struct exchange_s {
        long status;      /* 0 when no answer */
        const char *what; /* the on_status name */
        mm_http_fail_t fail;
        long retry_after_ms; /* -1: none */
        char err[CURL_ERROR_SIZE + 64];
} exchange_t;

static int64_t now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int mm_http_global_init(void) {
        return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void mm_http_global_cleanup(void) {
        curl_global_cleanup();
}

static size_t on_body(char *p, size_t size, size_t n, void *arg) {
        mm_http_t *h = arg;
        h->received += size * n;
        /* Returning less than given makes libcurl fail with CURLE_WRITE_ERROR. */
        if (mm_buf_append(&h->body, p, size * n) != 0)
                return 0;
        return size * n;
}

/* Copies a header's value (after `skip` bytes of name and colon) into out. */
static void header_value(const char *p, size_t len, size_t skip, char *out, size_t cap) {
        size_t i = skip, k = 0;
        while (i < len && (p[i] == ' ' || p[i] == '\t'))
                i++;
        while (i < len && p[i] != '\r' && p[i] != '\n' && k + 1 < cap)
                out[k++] = p[i++];
        out[k] = '\0';
}

static size_t on_header(char *p, size_t size, size_t n, void *arg) {
        mm_http_t *h = arg;
        size_t len = size * n;
        char v[32];
        if (len > 5 && !strncmp(p, "HTTP/", 5)) {
                /* a new response (after a redirect): its own headers only */
                h->content_len = -1;
                h->content_type[0] = '\0';
                h->retry_after[0] = '\0';
        } else if (len > 12 && !strncasecmp(p, "Retry-After:", 12)) {
                header_value(p, len, 12, h->retry_after, sizeof(h->retry_after));
        } else if (len > 13 && !strncasecmp(p, "Content-Type:", 13)) {
                header_value(p, len, 13, h->content_type, sizeof(h->content_type));
        } else if (len > 15 && !strncasecmp(p, "Content-Length:", 15)) {
                char *end;
                header_value(p, len, 15, v, sizeof(v));
                long long cl = strtoll(v, &end, 10);
                h->content_len = end != v && *end == '\0' && cl >= 0 ? cl : -1;
        }
        return len;
}

long mm_http_backoff_ms(int attempt, long base_ms, long max_ms, long retry_after_ms,
                        unsigned *seed) {
        long ceiling = base_ms > 0 ? base_ms : 1;
        for (int i = 0; i < attempt && ceiling < max_ms; i++)
                ceiling *= 2;
        if (ceiling > max_ms)
                ceiling = max_ms;
        /* half fixed, half random: retries of many hosts spread out */
        long d = ceiling / 2 + (long)(rand_r(seed) % (unsigned)(ceiling / 2 + 1));
        return retry_after_ms > d ? retry_after_ms : d;
}

long mm_http_parse_retry_after(const char *v, long long now) {
        if (!v)
                return -1;
        while (*v == ' ')
                v++;
        char *end;
        long s = strtol(v, &end, 10);
        if (end != v && *end == '\0' && s >= 0)
                return s > 86400 ? 86400L * 1000 : s * 1000;
        time_t t = curl_getdate(v, NULL);
        if (t == (time_t)-1)
                return -1;
        long long d = (long long)t - now;
        return d <= 0 ? 0 : d > 86400 ? 86400L * 1000 : (long)(d * 1000);
}

/* A stop request ends a transfer in progress (libcurl calls this about
 * once a second, and on every chunk). */
static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un) {
        const mm_http_t *h = arg;
        (void)dt;
        (void)dn;
        (void)ut;
        (void)un;
        return h->o.stop && *h->o.stop ? 1 : 0;
}

/* Handle settings that never change. */
static int setup_handle(mm_http_t *h) {
        CURL *c = h->curl;
        int bad = 0;
        bad |= curl_easy_setopt(c, CURLOPT_USERAGENT, h->user_agent) != CURLE_OK;
        bad |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK;
        bad |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK;
        if (h->ca_file)
                bad |= curl_easy_setopt(c, CURLOPT_CAINFO, h->ca_file) != CURLE_OK;
        bad |= curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "") != CURLE_OK;
        bad |= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, h->o.connect_timeout_ms) != CURLE_OK;
        bad |= curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, h->o.timeout_ms) != CURLE_OK;
        bad |= curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)h->o.max_bytes) !=
               CURLE_OK;
        bad |= curl_easy_setopt(c, CURLOPT_COOKIEFILE, "") !=
               CURLE_OK; /* cookie engine, in memory */
        bad |= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
        bad |= curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK;
        bad |= curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L) != CURLE_OK;
        bad |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
        bad |= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK;
        bad |= curl_easy_setopt(c, CURLOPT_WRITEDATA, h) != CURLE_OK;
        bad |= curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK;
        bad |= curl_easy_setopt(c, CURLOPT_HEADERDATA, h) != CURLE_OK;
        bad |= curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress) != CURLE_OK;
        bad |= curl_easy_setopt(c, CURLOPT_XFERINFODATA, h) != CURLE_OK;
        bad |= curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L) != CURLE_OK;
        return bad ? -1 : 0;
}

mm_http_t *mm_http_new(const char *base_url, const mm_http_opts_t *opts, char *errstr,
                       size_t errstr_size) {
        mm_http_t *h = calloc(1, sizeof(*h));
        if (!h) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        h->o = *opts;
        h->base = strdup(base_url);
        h->user_agent = strdup(opts->user_agent ? opts->user_agent : "minutes-ingest");
        h->ca_file = opts->ca_file ? strdup(opts->ca_file) : NULL;
        h->curl = curl_easy_init();
        h->last_request_ms = -1;
        h->seed = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)h;
        h->cap = opts->max_bytes;
        if (!h->base || !h->user_agent || (opts->ca_file && !h->ca_file) || !h->curl) {
                snprintf(errstr, errstr_size, "out of memory");
                mm_http_destroy(h);
                return NULL;
        }
        size_t bl = strlen(h->base);
        while (bl > 0 && h->base[bl - 1] == '/')
                h->base[--bl] = '\0';
        mm_buf_set_max(&h->body, opts->max_bytes);
        if (setup_handle(h) != 0) {
                snprintf(errstr, errstr_size, "libcurl refused an option (too old a libcurl?)");
                mm_http_destroy(h);
                return NULL;
        }
        return h;
}

void mm_http_destroy(mm_http_t *h) {
        if (!h)
                return;
        if (h->curl)
                curl_easy_cleanup(h->curl);
        mm_buf_release(&h->body);
        free(h->base);
        free(h->user_agent);
        free(h->ca_file);
        free(h);
}

void mm_http_reset_session(mm_http_t *h) {
        curl_easy_setopt(h->curl, CURLOPT_COOKIELIST, "ALL");
        h->have_session = 0;
}

unsigned long mm_http_request_count(const mm_http_t *h) {
        return h->nreq;
}

static int stopped(const mm_http_t *h) {
        return h->o.stop && *h->o.stop;
}

/* Sleeps `ms`, in steps so that a stop request ends it. -1 when stopped. */
static int nap(const mm_http_t *h, long ms) {
        int64_t end = now_ms() + ms;
        for (;;) {
                if (stopped(h))
                        return -1;
                int64_t left = end - now_ms();
                if (left <= 0)
                        return 0;
                struct timespec ts = {0, (long)(left > 100 ? 100 : left) * 1000000L};
                nanosleep(&ts, NULL);
        }
}

/* The transport failure of a libcurl result. */
static void classify_curl(mm_http_t *h, CURLcode rc, exchange_t *x) {
        x->fail = MM_HTTP_TRANSIENT;
        if (rc == CURLE_FILESIZE_EXCEEDED ||
            (rc == CURLE_WRITE_ERROR && h->body.err == MM_BUF_ELIMIT)) {
                x->fail = MM_HTTP_TOO_LARGE;
                x->what = "too_large";
        } else if (rc == CURLE_OPERATION_TIMEDOUT) {
                x->what = "timeout";
        } else if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST) {
                x->what = "connect";
        } else {
                x->what = "error";
        }
}

/* One GET of base + path; the body stays in h->body. */
static void exchange(mm_http_t *h, const char *path, int follow, exchange_t *x) {
        char url[2048], cerr[CURL_ERROR_SIZE] = "";
        memset(x, 0, sizeof(*x));
        x->retry_after_ms = -1;
        snprintf(url, sizeof(url), "%s%s", h->base, path);
        if (h->last_request_ms >= 0)
                nap(h, (long)(h->last_request_ms + h->o.min_interval_ms - now_ms()));
        mm_buf_release(&h->body);
        mm_buf_set_max(&h->body, h->cap);
        h->received = 0;
        h->content_len = -1;
        h->retry_after[0] = '\0';
        h->content_type[0] = '\0';
        curl_easy_setopt(h->curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)h->cap);
        curl_easy_setopt(h->curl, CURLOPT_URL, url);
        curl_easy_setopt(h->curl, CURLOPT_FOLLOWLOCATION, follow ? 1L : 0L);
        curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, cerr);
        h->nreq++;
        CURLcode rc = curl_easy_perform(h->curl);
        h->last_request_ms = now_ms();
        curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, NULL);
        if (rc != CURLE_OK) {
                classify_curl(h, rc, x);
                snprintf(x->err, sizeof(x->err), "GET %s: %s", path,
                         cerr[0] ? cerr : curl_easy_strerror(rc));
        } else {
                curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &x->status);
                x->retry_after_ms = mm_http_parse_retry_after(
                        h->retry_after[0] ? h->retry_after : NULL, (long long)time(NULL));
                x->fail = x->status >= 200 && x->status < 300    ? MM_HTTP_OK
                          : x->status == 429 || x->status >= 500 ? MM_HTTP_TRANSIENT
                          : x->status >= 400                     ? MM_HTTP_PERMANENT
                                                                 : MM_HTTP_OK;
                if (x->fail != MM_HTTP_OK)
                        snprintf(x->err, sizeof(x->err), "GET %s: HTTP %ld", path, x->status);
        }
        if (h->o.on_status) {
                char st[16];
                if (!x->what)
                        snprintf(st, sizeof(st), "%ld", x->status);
                h->o.on_status(h->o.on_status_arg, x->what ? x->what : st);
        }
}

/* Opens a session: GET / (redirects followed, cookies kept). A site
 * whose front page is missing (4xx) may still answer its API: the API
 * request says (a redirect there ends in an error after one more try). */
static void handshake(mm_http_t *h, exchange_t *x) {
        mm_http_reset_session(h);
        exchange(h, "/", 1, x);
        if (x->fail == MM_HTTP_PERMANENT)
                x->fail = MM_HTTP_OK;
        else if (x->fail == MM_HTTP_OK && (x->status < 200 || x->status >= 300)) {
                x->fail = MM_HTTP_TRANSIENT;
                snprintf(x->err, sizeof(x->err), "GET /: HTTP %ld after redirects", x->status);
        }
        if (x->fail == MM_HTTP_OK)
                h->have_session = 1;
}

/* One try of an API request, with the handshake when there is no session
 * and once more after a redirect. */
static void try_api(mm_http_t *h, const char *path, exchange_t *x) {
        for (int redirects = 0;; redirects++) {
                if (!h->have_session) {
                        handshake(h, x);
                        if (x->fail != MM_HTTP_OK)
                                return;
                }
                exchange(h, path, 0, x);
                if (x->fail != MM_HTTP_OK || x->status < 300 || x->status >= 400)
                        return;
                /* 3xx: the session is gone; a login page is no answer */
                h->have_session = 0;
                if (redirects >= 1) {
                        x->fail = MM_HTTP_TRANSIENT;
                        snprintf(x->err, sizeof(x->err),
                                 "GET %s: HTTP %ld (redirect) even after a new session", path,
                                 x->status);
                        return;
                }
        }
}

/* Moves the body of a successful exchange into out. 0, or -1 (memory). */
static int take_body(mm_http_t *h, mm_http_response_t *out, char *errstr, size_t errstr_size) {
        char *p = NULL;
        size_t n = 0;
        if (mm_buf_take(&h->body, &p, &n) != 0 || (!p && !(p = strdup("")))) {
                snprintf(errstr, errstr_size, "out of memory");
                out->fail = MM_HTTP_TRANSIENT;
                return -1;
        }
        out->body = p;
        out->len = n;
        out->size = (long long)n;
        return 0;
}

/* What a response said about itself, for the caller. */
static void describe(const mm_http_t *h, mm_http_response_t *out) {
        snprintf(out->content_type, sizeof(out->content_type), "%s", h->content_type);
        /* over the cap: the size announced, else the bytes counted before giving up */
        out->size = h->content_len >= 0 ? h->content_len : (long long)h->received;
}

/* One request with retries and backoff; `try` does one try of it. */
static int get_with_retries(mm_http_t *h, const char *path,
                            void (*try)(mm_http_t *, const char *, exchange_t *),
                            mm_http_response_t *out, char *errstr, size_t errstr_size) {
        exchange_t x;
        memset(out, 0, sizeof(*out));
        out->size = -1;
        for (int attempt = 0;; attempt++) {
                if (stopped(h)) {
                        snprintf(errstr, errstr_size, "GET %s: stopped", path);
                        out->fail = MM_HTTP_TRANSIENT;
                        return -1;
                }
                try(h, path, &x);
                out->status = x.status;
                describe(h, out);
                if (x.fail == MM_HTTP_OK)
                        return take_body(h, out, errstr, errstr_size);
                mm_buf_release(&h->body);
                out->fail = x.fail;
                if (x.fail != MM_HTTP_TRANSIENT || attempt >= h->o.retries) {
                        snprintf(errstr, errstr_size, "%s%s", x.err,
                                 x.fail == MM_HTTP_TRANSIENT ? " (retries exhausted)" : "");
                        return -1;
                }
                if (x.retry_after_ms > h->o.max_retry_after_ms) {
                        snprintf(errstr, errstr_size, "%s: Retry-After %ld s is too long", x.err,
                                 x.retry_after_ms / 1000);
                        return -1;
                }
                long d = mm_http_backoff_ms(attempt, h->o.backoff_base_ms, h->o.backoff_max_ms,
                                            x.retry_after_ms, &h->seed);
                if (nap(h, d) != 0)
                        continue; /* reports "stopped" above */
        }
}

int mm_http_get_api(mm_http_t *h, const char *path, mm_http_response_t *out, char *errstr,
                    size_t errstr_size) {
        h->cap = h->o.max_bytes;
        return get_with_retries(h, path, try_api, out, errstr, errstr_size);
}

/* One try of a file request: inside the session, redirects followed. A
 * redirect that ends on an HTML page is a login page (the session is
 * gone): the handshake is redone and the request repeated once. */
static void try_file(mm_http_t *h, const char *path, exchange_t *x) {
        for (int relogin = 0;; relogin++) {
                if (!h->have_session) {
                        handshake(h, x);
                        if (x->fail != MM_HTTP_OK)
                                return;
                }
                exchange(h, path, 1, x);
                long redirects = 0;
                curl_easy_getinfo(h->curl, CURLINFO_REDIRECT_COUNT, &redirects);
                if (x->fail != MM_HTTP_OK || redirects == 0 ||
                    strncasecmp(h->content_type, "text/html", 9))
                        return;
                h->have_session = 0;
                if (relogin >= 1) {
                        x->fail = MM_HTTP_TRANSIENT;
                        snprintf(x->err, sizeof(x->err),
                                 "GET %s: redirected to an HTML page even after a new session",
                                 path);
                        return;
                }
        }
}

int mm_http_get_file(mm_http_t *h, const char *path, size_t max_bytes, mm_http_response_t *out,
                     char *errstr, size_t errstr_size) {
        h->cap = max_bytes;
        int rc = get_with_retries(h, path, try_file, out, errstr, errstr_size);
        h->cap = h->o.max_bytes;
        return rc;
}
