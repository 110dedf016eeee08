/*
 * mm_pipe: an ordered read-ahead stage with one background thread (see
 * mm_pipe.h). A ring of slots: [head, head + count) are the jobs not yet
 * taken back, [head, next) the ones the thread has finished or passed by.
 */
#include "mm_pipe.h"

#include <errno.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct slot_s {
        void *job;
        int cancelled;
} slot_t;

struct mm_pipe_s {
        mm_pipe_fn_t *fn;
        void *opaque;
        slot_t *slots;
        size_t cap;
        size_t head;           /* oldest job not taken back */
        size_t count;          /* jobs not taken back */
        size_t done;           /* of those, finished (from head on) */
        int running;           /* the thread is inside fn (slot head + done) */
        int64_t running_since; /* monotonic ms when it entered fn */
        int stop;
        pthread_mutex_t lock;
        pthread_cond_t work;     /* a job was queued, or stop */
        pthread_cond_t finished; /* a job was finished */
        pthread_t thread;
};

static int64_t mono_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *pipe_main(void *arg) {
        mm_pipe_t *p = arg;
        pthread_mutex_lock(&p->lock);
        for (;;) {
                while (!p->stop && p->done == p->count)
                        pthread_cond_wait(&p->work, &p->lock);
                if (p->stop)
                        break;
                slot_t *s = &p->slots[(p->head + p->done) % p->cap];
                if (!s->cancelled) {
                        p->running = 1;
                        p->running_since = mono_ms();
                        void *job = s->job;
                        pthread_mutex_unlock(&p->lock);
                        p->fn(job, p->opaque); /* the slot stays: take waits for done */
                        pthread_mutex_lock(&p->lock);
                        p->running = 0;
                }
                p->done++;
                pthread_cond_broadcast(&p->finished);
        }
        pthread_mutex_unlock(&p->lock);
        return NULL;
}

mm_pipe_t *mm_pipe_new(mm_pipe_fn_t *fn, void *opaque, size_t max_jobs, char *errstr,
                       size_t errstr_size) {
        mm_pipe_t *p = calloc(1, sizeof(*p));
        if (!p || !fn) {
                free(p);
                snprintf(errstr, errstr_size, "%s", fn ? "out of memory" : "no job function");
                return NULL;
        }
        p->fn = fn;
        p->opaque = opaque;
        p->cap = max_jobs ? max_jobs : 1;
        p->slots = calloc(p->cap, sizeof(*p->slots));
        if (!p->slots) {
                free(p);
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        pthread_mutex_init(&p->lock, NULL);
        pthread_cond_init(&p->work, NULL);
        pthread_cond_init(&p->finished, NULL);
        int rc = pthread_create(&p->thread, NULL, pipe_main, p);
        if (rc != 0) {
                snprintf(errstr, errstr_size, "pthread_create: %s", strerror(rc));
                pthread_cond_destroy(&p->finished);
                pthread_cond_destroy(&p->work);
                pthread_mutex_destroy(&p->lock);
                free(p->slots);
                free(p);
                return NULL;
        }
        return p;
}

void mm_pipe_destroy(mm_pipe_t *p, void (*free_job)(void *job)) {
        if (!p)
                return;
        pthread_mutex_lock(&p->lock);
        p->stop = 1;
        pthread_cond_broadcast(&p->work);
        pthread_mutex_unlock(&p->lock);
        pthread_join(p->thread, NULL);
        for (size_t i = 0; i < p->count; i++)
                if (free_job)
                        free_job(p->slots[(p->head + i) % p->cap].job);
        pthread_cond_destroy(&p->finished);
        pthread_cond_destroy(&p->work);
        pthread_mutex_destroy(&p->lock);
        free(p->slots);
        free(p);
}

int mm_pipe_submit(mm_pipe_t *p, void *job) {
        if (!p)
                return -1;
        pthread_mutex_lock(&p->lock);
        if (p->count == p->cap || !job) {
                pthread_mutex_unlock(&p->lock);
                return -1;
        }
        slot_t *s = &p->slots[(p->head + p->count) % p->cap];
        s->job = job;
        s->cancelled = 0;
        p->count++;
        pthread_cond_signal(&p->work);
        pthread_mutex_unlock(&p->lock);
        return 0;
}

/* Waits on `finished` until `deadline` (CLOCK_REALTIME, as the condition
 * variable's default clock). Returns 0, or ETIMEDOUT. */
static int wait_until(mm_pipe_t *p, const struct timespec *deadline) {
        return pthread_cond_timedwait(&p->finished, &p->lock, deadline);
}

void *mm_pipe_take(mm_pipe_t *p, int timeout_ms, int *cancelled) {
        if (!p)
                return NULL;
        struct timespec deadline;
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += timeout_ms / 1000;
        deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
                deadline.tv_sec++;
                deadline.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&p->lock);
        while (p->count > 0 && p->done == 0 && timeout_ms > 0)
                if (wait_until(p, &deadline) == ETIMEDOUT)
                        break;
        void *job = NULL;
        if (p->count > 0 && p->done > 0) {
                slot_t *s = &p->slots[p->head];
                job = s->job;
                if (cancelled)
                        *cancelled = s->cancelled;
                s->job = NULL;
                p->head = (p->head + 1) % p->cap;
                p->count--;
                p->done--;
        }
        pthread_mutex_unlock(&p->lock);
        return job;
}

size_t mm_pipe_count(const mm_pipe_t *p) {
        /* only the owner changes count (submit, take): no lock needed here */
        return p ? p->count : 0;
}

size_t mm_pipe_cancel_if(mm_pipe_t *p, int (*pred)(const void *job, void *arg), void *arg) {
        size_t n = 0;
        if (!p)
                return 0;
        pthread_mutex_lock(&p->lock);
        for (size_t i = 0; i < p->count; i++) {
                slot_t *s = &p->slots[(p->head + i) % p->cap];
                if (!s->cancelled && pred(s->job, arg)) {
                        s->cancelled = 1;
                        n++;
                }
        }
        pthread_mutex_unlock(&p->lock);
        return n;
}

int64_t mm_pipe_busy_ms(mm_pipe_t *p) {
        if (!p)
                return 0;
        pthread_mutex_lock(&p->lock);
        int64_t ms = p->running ? mono_ms() - p->running_since : 0;
        pthread_mutex_unlock(&p->lock);
        return ms;
}
