/*
 * mm_pipe: an ordered read-ahead stage with one background thread.
 *
 * The caller submits jobs in order; one thread runs `fn` on each in turn;
 * the caller takes finished jobs back in the order it submitted them. The
 * worker uses it to extract and parse the next messages while its own
 * thread writes the previous batch to PostgreSQL: parsing and writing
 * overlap, and every decision about a message (batch, dead letter, offset)
 * is still taken by the caller's thread, in the message order.
 *
 * A job may be cancelled while it waits (mm_pipe_cancel_if): the thread
 * then passes it by without calling `fn` (the caller still takes it back
 * and sees the flag). All functions but the constructor are meant for the
 * one thread that owns the pipe; `fn` runs on the pipe's thread. Every
 * function takes a NULL pipe as an empty one that accepts nothing.
 */
#ifndef MM_PIPE_H
#define MM_PIPE_H

#include <stddef.h>
#include <stdint.h>

typedef struct mm_pipe_s mm_pipe_t;

/* The pipe's work on one job, run on the pipe's thread. `job` is the
 * pointer given to mm_pipe_submit; `opaque` the one given to mm_pipe_new. */
typedef void(mm_pipe_fn_t)(void *job, void *opaque);

/* Starts the thread. `max_jobs` (at least 1) bounds the jobs submitted and
 * not yet taken back. Returns NULL and fills errstr on failure. */
mm_pipe_t *mm_pipe_new(mm_pipe_fn_t *fn, void *opaque, size_t max_jobs, char *errstr,
                       size_t errstr_size);

/* Stops the thread after its current job and frees the pipe. Jobs not
 * taken back are passed to `free_job` (may be NULL) in order, run or not.
 * `p` may be NULL. */
void mm_pipe_destroy(mm_pipe_t *p, void (*free_job)(void *job));

/* Queues `job` (not NULL; ownership passes to the pipe until it is taken
 * back). Returns 0, or -1 when max_jobs are queued already. */
int mm_pipe_submit(mm_pipe_t *p, void *job);

/* The oldest job if the thread has finished it (or passed it by):
 * ownership returns to the caller. Waits up to `timeout_ms` (0: no wait)
 * for it; NULL if it is not finished by then or nothing is queued.
 * `*cancelled` (may be NULL) is set to 1 if the job was cancelled (see
 * mm_pipe_cancel_if), else 0. */
void *mm_pipe_take(mm_pipe_t *p, int timeout_ms, int *cancelled);

/* Jobs submitted and not yet taken back. */
size_t mm_pipe_count(const mm_pipe_t *p);

/* Calls `pred(job, arg)` on every job not yet taken back, oldest first;
 * where it returns non-zero, the job is marked cancelled (if the thread has
 * not started it, `fn` is never called for it). Returns how many it marked. */
size_t mm_pipe_cancel_if(mm_pipe_t *p, int (*pred)(const void *job, void *arg), void *arg);

/* How long (ms) the thread has been inside `fn` on its current job; 0 when
 * it is idle. For liveness: a job that never returns stalls the pipe. */
int64_t mm_pipe_busy_ms(mm_pipe_t *p);

#endif
