/*
 * mm_attempts: which input crashed the worker. See mm_attempts.h for the
 * protocol.
 */
#include "mm_attempts.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm_log.h"
#include "mm_sandbox.h"

/* The state of the last input counted. */
enum { LAST_NONE = 0, LAST_IN_FLIGHT, LAST_PASSED };

struct mm_attempts_s {
        pthread_mutex_t lock;
        char *group;
        int max_crashes;
        int state;
        char topic[256];
        int32_t partition;
        int64_t offset;
};

mm_attempts_t *mm_attempts_new(const char *group, int max_crashes) {
        mm_attempts_t *a = calloc(1, sizeof(*a));
        if (!a)
                return NULL;
        a->group = strdup(group ? group : "");
        if (!a->group) {
                free(a);
                return NULL;
        }
        pthread_mutex_init(&a->lock, NULL);
        a->max_crashes = max_crashes;
        return a;
}

void mm_attempts_destroy(mm_attempts_t *a) {
        if (!a)
                return;
        pthread_mutex_destroy(&a->lock);
        free(a->group);
        free(a);
}

mm_attempt_t mm_attempts_begin(mm_attempts_t *a, mm_store_t *st, const char *topic,
                               int32_t partition, int64_t offset, char *errstr,
                               size_t errstr_size) {
        if (a->max_crashes <= 0)
                return MM_ATTEMPT_GO;
        pthread_mutex_lock(&a->lock);
        int prev = a->state == LAST_PASSED;
        int n = mm_store_input_attempt(st, a->group, topic, partition, offset,
                                       prev ? a->topic : NULL, a->partition, a->offset, errstr,
                                       errstr_size);
        if (n >= 0) {
                snprintf(a->topic, sizeof(a->topic), "%s", topic);
                a->partition = partition;
                a->offset = offset;
                a->state = LAST_IN_FLIGHT;
        }
        pthread_mutex_unlock(&a->lock);
        if (n < 0)
                return mm_store_connected(st) ? MM_ATTEMPT_REFUSED : MM_ATTEMPT_UNCOUNTED;
        /* n counts this attempt: n - 1 workers disappeared with it in flight */
        return n - 1 >= a->max_crashes ? MM_ATTEMPT_SUSPECT : MM_ATTEMPT_GO;
}

void mm_attempts_done(mm_attempts_t *a) {
        pthread_mutex_lock(&a->lock);
        if (a->state == LAST_IN_FLIGHT)
                a->state = LAST_PASSED;
        pthread_mutex_unlock(&a->lock);
}

void mm_attempts_convicted(mm_attempts_t *a) {
        pthread_mutex_lock(&a->lock);
        if (a->state == LAST_IN_FLIGHT)
                a->state = LAST_NONE;
        pthread_mutex_unlock(&a->lock);
}

/* Settles the last input (locked); state NONE afterwards. */
static void settle_locked(mm_attempts_t *a, mm_store_t *st, const char *why) {
        int passed = a->state == LAST_PASSED;
        char err[512];
        if (!mm_store_connected(st)) {
                mm_log_msg(MM_LOG_WARN, a->topic, a->partition, a->offset,
                           "%s: PostgreSQL unreachable, the input's count is not settled", why);
        } else if (mm_store_input_settle(st, a->group, a->topic, a->partition, a->offset, passed,
                                         err, sizeof(err)) != 0) {
                mm_log_msg(MM_LOG_WARN, a->topic, a->partition, a->offset,
                           "%s: the input's count is not settled: %s", why, err);
        } else {
                mm_log_msg(MM_LOG_DEBUG, a->topic, a->partition, a->offset, "%s: attempt %s", why,
                           passed ? "settled as passed" : "withdrawn");
        }
        a->state = LAST_NONE;
}

void mm_attempts_abandon(mm_attempts_t *a, mm_store_t *st) {
        pthread_mutex_lock(&a->lock);
        if (a->state == LAST_IN_FLIGHT)
                settle_locked(a, st, "input put aside");
        pthread_mutex_unlock(&a->lock);
}

void mm_attempts_release(mm_attempts_t *a, mm_store_t *st, const char *topic, int32_t partition) {
        pthread_mutex_lock(&a->lock);
        int mine = a->state != LAST_NONE &&
                   (!topic || (a->partition == partition && !strcmp(a->topic, topic)));
        if (mine) {
                if (a->state == LAST_IN_FLIGHT)
                        mm_sandbox_cancel(); /* its run ends now, as transient */
                settle_locked(a, st, topic ? "partition revoked" : "stopping");
        }
        pthread_mutex_unlock(&a->lock);
}
