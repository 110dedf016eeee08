/*
 * mm_attempts: which input crashed the worker. The protocol, in one place.
 *
 * Why: a worker that dies in the middle of an input comes back (or another
 * one takes the partition) and reads that input again. If the input itself
 * kills workers, that is a crash loop that stalls its partition for ever.
 * So every input is counted in PostgreSQL before the risky steps
 * (extraction, the adapters, parsing), and an input that was in flight
 * when workers died is suspected. A suspicion is no verdict: only a crash
 * with evidence against the input counts, and the evidence comes from the
 * sandbox, never from the bare fact that a worker died.
 *
 * Storage (schemas/002, 011): per (group, topic, partition) the input a
 * worker counted last and how often it was counted without being settled
 * (input_attempts; inputs counted twice also in input_crashes). A worker
 * handles one input at a time on one thread, so "counted without being
 * settled" means "a worker disappeared while it was in flight".
 *
 * The life of one input on the worker's read-ahead thread:
 *   1. mm_attempts_begin counts it (and settles the previous input as
 *      passed, in the same statement). Its answer:
 *        MM_ATTEMPT_GO         work on it as usual;
 *        MM_ATTEMPT_SUSPECT    workers disappeared max-crashes times with it
 *                              in flight: run every risky step in the
 *                              sandbox (mm_isolate, MM_ISOLATE_ALL). The
 *                              sandbox's verdict is the evidence: a crash
 *                              or a limit there dead-letters it
 *                              (extract_crash, extract_limit); a clean run
 *                              stores it, whatever killed the workers (an
 *                              OOM kill of the whole container, SIGKILL,
 *                              a node lost) was not the input. With
 *                              extract-sandbox off there is nothing to test
 *                              it in: it is dead-lettered as extract_crash,
 *                              as before;
 *        MM_ATTEMPT_UNCOUNTED  PostgreSQL is unreachable: work on it
 *                              uncounted (its batch cannot commit, so the
 *                              re-read counts it);
 *        MM_ATTEMPT_REFUSED    PostgreSQL answers but refuses the count:
 *                              do not work on it; rewind to it and retry.
 *   2. Then exactly one of:
 *        mm_attempts_done      the steps ended (stored or dead-lettered on
 *                              its own merits): settled as passed at the
 *                              next begin, or by release;
 *        mm_attempts_convicted the sandbox found evidence (SUSPECT run that
 *                              crashed or hit a limit): the count stays, so
 *                              a re-read before its dead letter commits is
 *                              suspected again;
 *        mm_attempts_abandon   the steps were given up for a reason of the
 *                              system (extract_transient: no fork, killed
 *                              from outside, cancelled): this count is
 *                              withdrawn at once.
 * On the main thread, when the worker lets inputs go without a verdict:
 *        mm_attempts_release   a graceful stop (SIGTERM, rolling deploy,
 *                              scale-down), a rebalance or a revoke: the
 *                              last input of those partitions is settled
 *                              now, passed if its steps ended, withdrawn
 *                              if they were in flight (and the sandbox run
 *                              in progress is cancelled). So none of these
 *                              ever counts against an input.
 * Batches also clear the counts of the inputs they commit
 * (mm_store_write_batch). What still counts is a worker that disappears
 * with the input in flight (a crash, SIGKILL, an OOM kill); max-crashes of
 * those make the input a suspect, and only the sandbox convicts it.
 *
 * All functions are thread-safe (one mutex); begin, done, convicted and
 * abandon are called by the read-ahead thread with its own store, release
 * by the main thread with the main store.
 */
#ifndef MM_ATTEMPTS_H
#define MM_ATTEMPTS_H

#include <stddef.h>
#include <stdint.h>

#include "mm_store.h"

typedef struct mm_attempts_s mm_attempts_t;

/* The answer of mm_attempts_begin: one meaning per value (see above). */
typedef enum mm_attempt_e {
        MM_ATTEMPT_GO = 0,
        MM_ATTEMPT_SUSPECT = 1,
        MM_ATTEMPT_UNCOUNTED = 2,
        MM_ATTEMPT_REFUSED = 3,
} mm_attempt_t;

/* New tracker for consumer group `group` (copied). max_crashes <= 0 turns
 * counting off (begin always says GO). NULL when out of memory. */
mm_attempts_t *mm_attempts_new(const char *group, int max_crashes);

/* Frees `a` (may be NULL). */
void mm_attempts_destroy(mm_attempts_t *a);

/* Counts input topic/partition/offset on `st` (borrowed). For REFUSED and
 * UNCOUNTED `errstr` says why. */
mm_attempt_t mm_attempts_begin(mm_attempts_t *a, mm_store_t *st, const char *topic,
                               int32_t partition, int64_t offset, char *errstr, size_t errstr_size);

/* The input of the last begin ended (stored or dead-lettered). */
void mm_attempts_done(mm_attempts_t *a);

/* The input of the last begin was convicted by the sandbox: keep its count. */
void mm_attempts_convicted(mm_attempts_t *a);

/* The input of the last begin was given up for a reason of the system:
 * withdraw its count now on `st`. */
void mm_attempts_abandon(mm_attempts_t *a, mm_store_t *st);

/* A graceful stop (topic NULL: every partition) or a revoke of
 * topic/partition: settles the last input if it belongs there, on `st`
 * (skipped, with a log line, when `st` is not connected). */
void mm_attempts_release(mm_attempts_t *a, mm_store_t *st, const char *topic, int32_t partition);

#endif /* MM_ATTEMPTS_H */
