/*
 * mm_poll_metrics: see mm_poll_metrics.h.
 */
#include "mm_poll_metrics.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm_buf.h"

#define MAX_STATUSES 16
#define MAX_KINDS    8

typedef struct counter_s {
        char name[16];
        uint64_t n;
} counter_t;

typedef struct kommune_s {
        char *name;
        double last_success, last_poll, latest_release;
        int failures;
        uint64_t published;
        counter_t status[MAX_STATUSES];
        size_t nstatus;
        counter_t kinds[MAX_KINDS];
        size_t nkinds;
        counter_t att[MAX_KINDS]; /* attachments by result: produced, too_large, http_404 ... */
        size_t natt;
        uint64_t att_bytes;
} kommune_t;

struct mm_poll_metrics_s {
        pthread_mutex_t lock;
        kommune_t *k;
        size_t n;
        double silence;
        int state_up;
};

mm_poll_metrics_t *mm_poll_metrics_new(const char *const *names, size_t n,
                                       double silence_threshold_s) {
        mm_poll_metrics_t *pm = calloc(1, sizeof(*pm));
        if (!pm)
                return NULL;
        pthread_mutex_init(&pm->lock, NULL);
        pm->k = calloc(n ? n : 1, sizeof(*pm->k));
        pm->silence = silence_threshold_s;
        pm->state_up = 1;
        if (!pm->k) {
                mm_poll_metrics_destroy(pm);
                return NULL;
        }
        for (size_t i = 0; i < n; i++) {
                pm->k[i].name = strdup(names[i]);
                if (!pm->k[i].name) {
                        mm_poll_metrics_destroy(pm);
                        return NULL;
                }
                pm->n++;
        }
        return pm;
}

void mm_poll_metrics_destroy(mm_poll_metrics_t *pm) {
        if (!pm)
                return;
        for (size_t i = 0; i < pm->n; i++)
                free(pm->k[i].name);
        free(pm->k);
        pthread_mutex_destroy(&pm->lock);
        free(pm);
}

static kommune_t *find(mm_poll_metrics_t *pm, const char *kommune) {
        for (size_t i = 0; i < pm->n; i++)
                if (!strcmp(pm->k[i].name, kommune))
                        return &pm->k[i];
        return NULL;
}

/* Adds one to the counter `name` of list c (n used, max room); the last
 * slot takes every further name as "other". */
static void count(counter_t *c, size_t *n, size_t max, const char *name) {
        for (size_t i = 0; i < *n; i++)
                if (!strcmp(c[i].name, name)) {
                        c[i].n++;
                        return;
                }
        if (*n + 1 < max) {
                snprintf(c[*n].name, sizeof(c[*n].name), "%s", name);
                c[(*n)++].n = 1;
                return;
        }
        if (*n + 1 == max) {
                snprintf(c[*n].name, sizeof(c[*n].name), "other");
                (*n)++;
        }
        c[max - 1].n++;
}

#define WITH_KOMMUNE(pm, kommune, stmt)                                                            \
        do {                                                                                       \
                if (!(pm) || !(kommune))                                                           \
                        return;                                                                    \
                pthread_mutex_lock(&(pm)->lock);                                                   \
                kommune_t *k = find((pm), (kommune));                                              \
                if (k) {                                                                           \
                        stmt;                                                                      \
                }                                                                                  \
                pthread_mutex_unlock(&(pm)->lock);                                                 \
        } while (0)

void mm_poll_metrics_request(mm_poll_metrics_t *pm, const char *kommune, const char *status) {
        WITH_KOMMUNE(pm, kommune, count(k->status, &k->nstatus, MAX_STATUSES, status));
}

void mm_poll_metrics_published(mm_poll_metrics_t *pm, const char *kommune) {
        WITH_KOMMUNE(pm, kommune, k->published++);
}

void mm_poll_metrics_error(mm_poll_metrics_t *pm, const char *kommune, const char *kind) {
        WITH_KOMMUNE(pm, kommune, count(k->kinds, &k->nkinds, MAX_KINDS, kind));
}

void mm_poll_metrics_attachment(mm_poll_metrics_t *pm, const char *kommune, const char *result,
                                unsigned long long bytes) {
        WITH_KOMMUNE(pm, kommune, {
                count(k->att, &k->natt, MAX_KINDS, result);
                k->att_bytes += bytes;
        });
}

void mm_poll_metrics_poll(mm_poll_metrics_t *pm, const char *kommune, double now, int ok,
                          int failures) {
        WITH_KOMMUNE(pm, kommune, {
                k->last_poll = now;
                if (ok)
                        k->last_success = now;
                k->failures = failures;
        });
}

void mm_poll_metrics_last_success(mm_poll_metrics_t *pm, const char *kommune, double t) {
        WITH_KOMMUNE(pm, kommune, if (t > k->last_success) k->last_success = t);
}

void mm_poll_metrics_latest_release(mm_poll_metrics_t *pm, const char *kommune, double t) {
        WITH_KOMMUNE(pm, kommune, k->latest_release = t);
}

void mm_poll_metrics_state_up(mm_poll_metrics_t *pm, int up) {
        if (!pm)
                return;
        pthread_mutex_lock(&pm->lock);
        pm->state_up = up;
        pthread_mutex_unlock(&pm->lock);
}

static void family(mm_buf_t *b, const char *name, const char *type, const char *help) {
        mm_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Appends `s` escaped as a label value. */
static void label(mm_buf_t *b, const char *s) {
        for (; *s; s++) {
                if (*s == '\\' || *s == '"')
                        mm_buf_putc(b, '\\');
                if (*s == '\n')
                        mm_buf_puts(b, "\\n");
                else
                        mm_buf_putc(b, *s);
        }
}

/* One gauge per kommune; `off` is the double's offset in kommune_t. Only
 * kommuner with a value (> 0) get a sample: a missing series is no time. */
static void per_kommune(mm_buf_t *b, const mm_poll_metrics_t *pm, const char *name, size_t off) {
        for (size_t i = 0; i < pm->n; i++) {
                double v = *(const double *)((const char *)&pm->k[i] + off);
                if (v <= 0)
                        continue;
                mm_buf_printf(b, "%s{kommune=\"", name);
                label(b, pm->k[i].name);
                mm_buf_printf(b, "\"} %.3f\n", v);
        }
}

static void counters(mm_buf_t *b, const char *name, const char *lname, const kommune_t *k,
                     const counter_t *c, size_t n) {
        for (size_t i = 0; i < n; i++) {
                mm_buf_printf(b, "%s{kommune=\"", name);
                label(b, k->name);
                mm_buf_printf(b, "\",%s=\"%s\"} %llu\n", lname, c[i].name,
                              (unsigned long long)c[i].n);
        }
}

static void render_counts(mm_buf_t *b, const mm_poll_metrics_t *pm) {
        family(b, "mm_source_consecutive_failures", "gauge", "Polls in a row that failed.");
        for (size_t i = 0; i < pm->n; i++) {
                mm_buf_puts(b, "mm_source_consecutive_failures{kommune=\"");
                label(b, pm->k[i].name);
                mm_buf_printf(b, "\"} %d\n", pm->k[i].failures);
        }
        family(b, "mm_source_publications_total", "counter",
               "Publications produced to the raw topic (delivery confirmed).");
        for (size_t i = 0; i < pm->n; i++) {
                mm_buf_puts(b, "mm_source_publications_total{kommune=\"");
                label(b, pm->k[i].name);
                mm_buf_printf(b, "\"} %llu\n", (unsigned long long)pm->k[i].published);
        }
        family(b, "mm_source_requests_total", "counter",
               "HTTP requests to the kommune, by status or transport failure.");
        for (size_t i = 0; i < pm->n; i++)
                counters(b, "mm_source_requests_total", "status", &pm->k[i], pm->k[i].status,
                         pm->k[i].nstatus);
        family(b, "mm_source_attachments_total", "counter",
               "Attachments produced (delivery confirmed), by result: produced (the bytes) or "
               "the reason of an empty record (too_large, http_404, ...).");
        for (size_t i = 0; i < pm->n; i++)
                counters(b, "mm_source_attachments_total", "result", &pm->k[i], pm->k[i].att,
                         pm->k[i].natt);
        family(b, "mm_source_attachment_bytes_total", "counter",
               "Bytes of the attachments produced.");
        for (size_t i = 0; i < pm->n; i++) {
                mm_buf_puts(b, "mm_source_attachment_bytes_total{kommune=\"");
                label(b, pm->k[i].name);
                mm_buf_printf(b, "\"} %llu\n", (unsigned long long)pm->k[i].att_bytes);
        }
        family(b, "mm_source_errors_total", "counter", "Poll errors, by kind.");
        for (size_t i = 0; i < pm->n; i++)
                counters(b, "mm_source_errors_total", "kind", &pm->k[i], pm->k[i].kinds,
                         pm->k[i].nkinds);
}

char *mm_poll_metrics_render(void *arg, size_t *len) {
        mm_poll_metrics_t *pm = arg;
        mm_buf_t b = MM_BUF_INIT;
        char *out;
        pthread_mutex_lock(&pm->lock);
        family(&b, "mm_source_build_info", "gauge", "Build information of minutes-source.");
        mm_buf_printf(&b, "mm_source_build_info{version=\"%s\"} 1\n", MM_VERSION);
        family(&b, "mm_source_silence_threshold_seconds", "gauge",
               "A kommune that released nothing for longer is silent (option silent-days).");
        mm_buf_printf(&b, "mm_source_silence_threshold_seconds %.0f\n", pm->silence);
        family(&b, "mm_source_state_up", "gauge", "1 if the last state round trip succeeded.");
        mm_buf_printf(&b, "mm_source_state_up %d\n", pm->state_up);
        family(&b, "mm_source_last_success_timestamp_seconds", "gauge",
               "Last complete poll of the kommune (any poller), unix time.");
        per_kommune(&b, pm, "mm_source_last_success_timestamp_seconds",
                    offsetof(kommune_t, last_success));
        family(&b, "mm_source_last_poll_timestamp_seconds", "gauge",
               "Last poll of the kommune by this process, unix time.");
        per_kommune(&b, pm, "mm_source_last_poll_timestamp_seconds",
                    offsetof(kommune_t, last_poll));
        family(&b, "mm_source_latest_release_timestamp_seconds", "gauge",
               "Newest ReleasedDate in the kommune's listing, unix time.");
        per_kommune(&b, pm, "mm_source_latest_release_timestamp_seconds",
                    offsetof(kommune_t, latest_release));
        render_counts(&b, pm);
        pthread_mutex_unlock(&pm->lock);
        if (mm_buf_take(&b, &out, len))
                return NULL;
        return out;
}

int mm_poll_metrics_ready(void *arg, char *why, size_t why_size) {
        mm_poll_metrics_t *pm = arg;
        pthread_mutex_lock(&pm->lock);
        int up = pm->state_up;
        pthread_mutex_unlock(&pm->lock);
        if (!up)
                snprintf(why, why_size, "not ready: the state database does not answer");
        return up;
}
