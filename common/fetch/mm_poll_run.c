/*
 * mm_poll_run: the scheduler of minutes-source (see mm_poll.h).
 *
 * Every host is a slot with its own HTTP client and its own due time.
 * Threads take due slots; a slot is polled by one thread at a time (busy)
 * and, across processes, by the holder of its advisory lock. The shared
 * state decides whether a locked host is due: next_poll_at when polling
 * for ever; with --once, whether another process polled it since this one
 * started (then it is that process's).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mm_log.h"
#include "mm_poll.h"

typedef struct slot_s {
        const mm_poll_host_t *h;
        mm_http_t *http;
        mm_poll_metrics_t *metrics; /* for the HTTP status callback */
        double due;                 /* wall clock */
        int busy, taken, failed;
} slot_t;

typedef struct run_s {
        const mm_poll_run_opts_t *o;
        slot_t *s;
        size_t n;
        pthread_mutex_t mu;
        double start;
        int running; /* threads still running */
        unsigned seed;
} run_t;

static double wall(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void nap_ms(long ms) {
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
}

static int stopping(const run_t *r) {
        return r->o->poll.stop && *r->o->poll.stop;
}

static void on_status(void *arg, const char *status) {
        slot_t *s = arg;
        mm_poll_metrics_request(s->metrics, s->h->kommune, status);
}

/* The next slot for this thread, marked busy; NULL when there is none
 * (once: every slot taken; for ever: none due, or stopping). */
static slot_t *take(run_t *r) {
        slot_t *best = NULL;
        double now = wall();
        pthread_mutex_lock(&r->mu);
        for (size_t i = 0; i < r->n; i++) {
                slot_t *s = &r->s[i];
                if (s->busy || (r->o->once ? s->taken : s->due > now))
                        continue;
                if (!best || s->due < best->due)
                        best = s;
        }
        if (best)
                best->busy = best->taken = 1;
        pthread_mutex_unlock(&r->mu);
        return best;
}

static void release(run_t *r, slot_t *s, double due, int failed) {
        pthread_mutex_lock(&r->mu);
        s->busy = 0;
        s->due = due;
        s->failed = failed;
        pthread_mutex_unlock(&r->mu);
}

/* Seconds until a host that failed `failures` times in a row is polled
 * again: doubling from a minute, never more than the interval. */
static double retry_in(run_t *r, int failures) {
        double cap = r->o->interval_s;
        pthread_mutex_lock(&r->mu);
        long ms = mm_http_backoff_ms(failures > 0 ? failures - 1 : 0, 60000,
                                     (long)(cap * 1000 > 60000 ? cap * 1000 : 60000), -1, &r->seed);
        pthread_mutex_unlock(&r->mu);
        return ms / 1000.0 < cap ? ms / 1000.0 : cap;
}

/* Is the locked host due? Else *due says when it is. */
static int is_due(run_t *r, const mm_poll_host_state_t *hs, double *due) {
        double now = wall();
        if (r->o->once) {
                *due = now;
                return hs->last_poll < r->start; /* else polled by another since we started */
        }
        /* look again within a minute: another poller that dies leaves its
         * hosts' next_poll_at behind, and they are ours when it passes */
        double recheck = now + (r->o->interval_s < 60 ? r->o->interval_s : 60);
        *due = hs->next_poll < recheck ? hs->next_poll : recheck;
        return hs->next_poll <= now + 1;
}

/* Polls a locked, due host and records the outcome. Returns the seconds
 * until it is due again. */
static double poll_locked(run_t *r, slot_t *s, mm_poll_state_t *st,
                          const mm_poll_host_state_t *hs) {
        mm_poll_result_t res;
        char err[512];
        const mm_poll_host_t *h = s->h;
        mm_log(MM_LOG_INFO, "%s: polling %s", h->kommune, h->base_url);
        int rc = mm_poll_host(&r->o->poll, h, s->http, st, &res);
        if (rc != 0 && stopping(r)) {
                /* not the host's fault: its schedule stays, another poller takes it */
                mm_log(MM_LOG_INFO, "%s: poll stopped: %zu produced", h->kommune, res.produced);
                s->failed = 1;
                return 0;
        }
        int failures = rc == 0 ? 0 : hs->failures + 1;
        double next = rc == 0 ? r->o->interval_s : retry_in(r, failures);
        const char *error = rc != 0 ? res.error : NULL;
        if (mm_poll_state_host_done(st, h->host, error, next, r->o->poller_id,
                                    res.listed ? (int)res.listed : -1, err, sizeof(err)) != 0) {
                mm_log(MM_LOG_ERROR, "%s: %s", h->kommune, err);
                mm_poll_metrics_error(r->o->poll.metrics, h->kommune, "state");
        }
        mm_poll_metrics_poll(r->o->poll.metrics, h->kommune, wall(), rc == 0, failures);
        s->failed = rc != 0 || res.entry_errors > 0 || res.att_errors > 0;
        mm_log(rc                                   ? MM_LOG_ERROR
               : res.entry_errors || res.att_errors ? MM_LOG_WARN
                                                    : MM_LOG_INFO,
               "%s: %s: %zu listed, %zu fetched, %zu produced, %zu unchanged, %d entry errors;"
               " attachments: %zu fetched, %zu produced, %zu skipped, %zu errors%s%s",
               h->kommune, rc ? "poll failed" : "polled", res.listed, res.fetched, res.produced,
               res.unchanged, res.entry_errors, res.att_fetched, res.att_produced, res.att_skipped,
               res.att_errors, res.error[0] ? ": " : "", res.error);
        return next;
}

/* Locks, checks and polls one slot with the session `st`. */
static void poll_slot(run_t *r, slot_t *s, mm_poll_state_t *st) {
        char err[512];
        int got = 0, failed = 0;
        double due = wall() + (r->o->interval_s < 60 ? r->o->interval_s : 60);
        mm_poll_host_state_t hs;
        if (mm_poll_state_try_lock(st, s->h->host, &got, err, sizeof(err)) != 0) {
                mm_log(MM_LOG_ERROR, "%s: %s", s->h->kommune, err);
                mm_poll_metrics_error(r->o->poll.metrics, s->h->kommune, "state");
                release(r, s, due, 1);
                return;
        }
        if (!got) {
                /* another process polls it now: its outcome, for this one's metrics */
                mm_log(MM_LOG_DEBUG, "%s: polled by another process", s->h->kommune);
                if (mm_poll_state_host_read(st, s->h->host, &hs, err, sizeof(err)) == 0)
                        mm_poll_metrics_last_success(r->o->poll.metrics, s->h->kommune,
                                                     hs.last_success);
                release(r, s, due, 0);
                return;
        }
        if (mm_poll_state_host_begin(st, s->h->host, s->h->kommune, &hs, err, sizeof(err)) != 0) {
                mm_log(MM_LOG_ERROR, "%s: %s", s->h->kommune, err);
                failed = 1;
        } else {
                mm_poll_metrics_last_success(r->o->poll.metrics, s->h->kommune, hs.last_success);
                if (is_due(r, &hs, &due)) {
                        s->failed = 0;
                        due = wall() + poll_locked(r, s, st, &hs);
                        failed = s->failed;
                }
        }
        if (mm_poll_state_unlock(st, s->h->host, err, sizeof(err)) != 0)
                mm_log(MM_LOG_ERROR, "%s: %s", s->h->kommune, err);
        release(r, s, due, failed);
}

/* A usable state session in *st (made or reconnected); 0 or -1. */
static int session(run_t *r, mm_poll_state_t **st) {
        char err[512];
        if (*st && mm_poll_state_ok(*st)) {
                mm_poll_metrics_state_up(r->o->poll.metrics, 1);
                return 0;
        }
        mm_poll_state_destroy(*st);
        *st = mm_poll_state_new(r->o->pg, err, sizeof(err));
        mm_poll_metrics_state_up(r->o->poll.metrics, *st != NULL);
        if (!*st)
                mm_log(MM_LOG_ERROR, "%s", err);
        return *st ? 0 : -1;
}

static void *thread_main(void *arg) {
        run_t *r = arg;
        mm_poll_state_t *st = NULL;
        while (!stopping(r)) {
                slot_t *s = take(r);
                if (!s) {
                        if (r->o->once)
                                break;
                        nap_ms(200);
                        continue;
                }
                if (session(r, &st) != 0) {
                        mm_poll_metrics_error(r->o->poll.metrics, s->h->kommune, "state");
                        release(r, s, wall() + 10, 1);
                        if (!r->o->once)
                                nap_ms(1000);
                        continue;
                }
                poll_slot(r, s, st);
        }
        mm_poll_state_destroy(st);
        pthread_mutex_lock(&r->mu);
        r->running--;
        pthread_mutex_unlock(&r->mu);
        return NULL;
}

/* One HTTP client per host. */
static int make_slots(run_t *r, const mm_poll_host_t *hosts, char *err, size_t esz) {
        for (size_t i = 0; i < r->n; i++) {
                slot_t *s = &r->s[i];
                mm_http_opts_t ho = r->o->poll.http;
                s->h = &hosts[i];
                s->metrics = r->o->poll.metrics;
                s->due = r->start;
                ho.on_status = on_status;
                ho.on_status_arg = s;
                s->http = mm_http_new(hosts[i].base_url, &ho, err, esz);
                if (!s->http)
                        return -1;
        }
        return 0;
}

static void free_slots(run_t *r) {
        for (size_t i = 0; i < r->n; i++)
                mm_http_destroy(r->s[i].http);
        free(r->s);
}

/* Starts the threads and waits for them, beating. */
static int run_threads(run_t *r, char *err, size_t esz) {
        int nt = r->o->threads > 0 ? r->o->threads : 1;
        pthread_t *t = calloc((size_t)nt, sizeof(*t));
        if (!t) {
                snprintf(err, esz, "out of memory");
                return -1;
        }
        int started = 0;
        for (int i = 0; i < nt; i++) {
                pthread_mutex_lock(&r->mu);
                r->running++;
                pthread_mutex_unlock(&r->mu);
                if (pthread_create(&t[i], NULL, thread_main, r) != 0) {
                        pthread_mutex_lock(&r->mu);
                        r->running--;
                        pthread_mutex_unlock(&r->mu);
                        break;
                }
                started++;
        }
        for (;;) {
                pthread_mutex_lock(&r->mu);
                int running = r->running;
                pthread_mutex_unlock(&r->mu);
                if (running == 0)
                        break;
                if (r->o->beat)
                        r->o->beat(r->o->beat_arg);
                nap_ms(200);
        }
        for (int i = 0; i < started; i++)
                pthread_join(t[i], NULL);
        free(t);
        if (started == 0) {
                snprintf(err, esz, "cannot start a polling thread");
                return -1;
        }
        return 0;
}

int mm_poll_run(const mm_poll_run_opts_t *o, const mm_poll_host_t *hosts, size_t n, int *failed,
                char *errstr, size_t errstr_size) {
        run_t r;
        memset(&r, 0, sizeof(r));
        r.o = o;
        r.n = n;
        r.start = wall();
        r.seed = (unsigned)time(NULL);
        r.s = calloc(n ? n : 1, sizeof(*r.s));
        if (!r.s) {
                snprintf(errstr, errstr_size, "out of memory");
                return -1;
        }
        pthread_mutex_init(&r.mu, NULL);
        int rc = make_slots(&r, hosts, errstr, errstr_size);
        if (rc == 0)
                rc = run_threads(&r, errstr, errstr_size);
        int nfailed = 0;
        for (size_t i = 0; i < n && rc == 0; i++) {
                if (failed)
                        failed[i] = r.s[i].failed;
                nfailed += r.s[i].failed;
        }
        free_slots(&r);
        pthread_mutex_destroy(&r.mu);
        return rc != 0 ? -1 : o->once ? nfailed : 0;
}
