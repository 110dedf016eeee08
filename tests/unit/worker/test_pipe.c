/* Unit tests of mm_pipe, the worker's read-ahead stage: jobs come back in
 * the order they went in, the bound holds, a cancelled job is passed by
 * without running, take waits at most its timeout, and destroy hands every
 * job not taken back to the free function. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "mm_pipe.h"

typedef struct job_s {
        int id;
        int ran;
        int wait_gate; /* the job waits until the gate opens */
} job_t;

static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static int gate_open = 1;
static int freed;

static void set_gate(int open) {
        pthread_mutex_lock(&gate_lock);
        gate_open = open;
        pthread_mutex_unlock(&gate_lock);
}

static void work(void *job, void *opaque) {
        job_t *j = job;
        int *order = opaque;
        for (;;) {
                pthread_mutex_lock(&gate_lock);
                int open = gate_open || !j->wait_gate;
                pthread_mutex_unlock(&gate_lock);
                if (open)
                        break;
                usleep(1000);
        }
        j->ran = ++*order; /* only the pipe's thread writes *order */
}

static void free_job(void *job) {
        freed++;
        free(job);
}

static job_t *new_job(int id, int wait_gate) {
        job_t *j = calloc(1, sizeof(*j));
        assert_non_null(j);
        j->id = id;
        j->wait_gate = wait_gate;
        return j;
}

static void test_order_and_bound(void **state) {
        (void)state;
        int order = 0;
        char err[128];
        mm_pipe_t *p = mm_pipe_new(work, &order, 4, err, sizeof(err));
        assert_non_null(p);
        for (int i = 0; i < 4; i++)
                assert_int_equal(mm_pipe_submit(p, new_job(i, 0)), 0);
        job_t *extra = new_job(99, 0);
        assert_int_equal(mm_pipe_submit(p, extra), -1); /* bounded */
        free(extra);
        assert_int_equal(mm_pipe_count(p), 4);
        for (int i = 0; i < 4; i++) {
                int cancelled = -1;
                job_t *j = mm_pipe_take(p, 5000, &cancelled);
                assert_non_null(j);
                assert_int_equal(j->id, i);
                assert_int_equal(j->ran, i + 1); /* run in order, one at a time */
                assert_int_equal(cancelled, 0);
                free(j);
        }
        assert_int_equal(mm_pipe_count(p), 0);
        assert_null(mm_pipe_take(p, 10, NULL)); /* nothing queued */
        mm_pipe_destroy(p, free_job);
}

static int is_odd(const void *job, void *arg) {
        (void)arg;
        return ((const job_t *)job)->id % 2;
}

static void test_cancel_and_timeout(void **state) {
        (void)state;
        int order = 0;
        char err[128];
        set_gate(0);
        mm_pipe_t *p = mm_pipe_new(work, &order, 8, err, sizeof(err));
        assert_non_null(p);
        assert_int_equal(mm_pipe_submit(p, new_job(0, 1)), 0); /* blocks the thread */
        for (int i = 1; i < 5; i++)
                assert_int_equal(mm_pipe_submit(p, new_job(i, 0)), 0);
        /* the oldest job is not finished: take waits its timeout, then NULL */
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        assert_null(mm_pipe_take(p, 50, NULL));
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double waited = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        assert_true(waited >= 0.04);
        /* stuck in job 0: liveness sees it (the thread may start it late) */
        int64_t busy = 0;
        for (int i = 0; i < 500 && busy < 40; i++) {
                busy = mm_pipe_busy_ms(p);
                usleep(10000);
        }
        assert_true(busy >= 40);
        assert_int_equal(mm_pipe_cancel_if(p, is_odd, NULL), 2); /* jobs 1 and 3 */
        assert_int_equal(mm_pipe_cancel_if(p, is_odd, NULL), 0); /* marked once */
        set_gate(1);
        int expect_ran[5] = {1, 0, 2, 0, 3};
        for (int i = 0; i < 5; i++) {
                int cancelled = -1;
                job_t *j = mm_pipe_take(p, 5000, &cancelled);
                assert_non_null(j);
                assert_int_equal(j->id, i);
                assert_int_equal(cancelled, i % 2);
                assert_int_equal(j->ran, expect_ran[i]); /* a cancelled job never ran */
                free(j);
        }
        assert_int_equal(mm_pipe_busy_ms(p), 0); /* idle */
        mm_pipe_destroy(p, free_job);
}

static void test_destroy_frees_the_rest(void **state) {
        (void)state;
        int order = 0;
        char err[128];
        freed = 0;
        set_gate(0);
        mm_pipe_t *p = mm_pipe_new(work, &order, 8, err, sizeof(err));
        assert_non_null(p);
        assert_int_equal(mm_pipe_submit(p, new_job(0, 1)), 0);
        assert_int_equal(mm_pipe_submit(p, new_job(1, 0)), 0);
        assert_int_equal(mm_pipe_submit(p, new_job(2, 0)), 0);
        usleep(20000); /* the thread is inside job 0 */
        set_gate(1);
        mm_pipe_destroy(p, free_job); /* waits for job 0, runs no other */
        assert_int_equal(freed, 3);
        assert_true(order <= 3);
        /* a NULL pipe is an empty one that accepts nothing */
        assert_int_equal(mm_pipe_count(NULL), 0);
        assert_null(mm_pipe_take(NULL, 0, NULL));
        job_t dummy = {0};
        assert_int_equal(mm_pipe_submit(NULL, &dummy), -1);
        mm_pipe_destroy(NULL, free_job);
}

int main(void) {
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_order_and_bound),
                                           cmocka_unit_test(test_cancel_and_timeout),
                                           cmocka_unit_test(test_destroy_frees_the_rest)};
        return cmocka_run_group_tests(tests, NULL, NULL);
}
