/*
 * mm_sandbox: runs a function on untrusted input in a forked child with
 * CPU, address-space and wall-time limits, passes its result back over a
 * pipe, and says whose fault it was when the child did not finish.
 *
 * Used for PDF and HTML extraction (mm_extract) and for the export
 * adapters (mm_isolate). One child per call, no exec: the child is a copy
 * of the caller with only the calling thread. It sets RLIMIT_CPU,
 * RLIMIT_AS (the caller's address space + max_memory; not under ASan) and
 * RLIMIT_CORE 0, asks for SIGKILL if the caller dies, keeps only stdio and
 * the pipe, raises its oom_score_adj to 1000, runs the function, writes a
 * header and the function's bytes, and _exits. The caller always reaps it
 * (wait4), so no zombie and no fd is left.
 *
 * Whose fault (the verdict): the input is blamed only on evidence from the
 * child itself.
 *   - CPU: the child's own CPU time (ru_utime + ru_stime from wait4)
 *     reached cpu_seconds, ended by SIGXCPU or the hard limit's SIGKILL.
 *   - Memory: an allocation failed in the child, reported by the child: the
 *     function's own "out_of_memory" error, or a fatal signal (abort() after
 *     a failed new/g_malloc, a NULL dereference) caught in the child while
 *     errno is ENOMEM or the address space has no room left for a probe
 *     mapping.
 *   - Crash: the child died of a fault signal of its own (SIGSEGV, SIGBUS,
 *     SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS) with no sign of a limit.
 * Anything else is not the input's fault and is to be retried: no pipe or
 * no process (fd or task limit), a SIGKILL under the CPU limit (a cgroup
 * OOM kill, an operator), a termination signal from outside, the wall
 * deadline passed while the CPU time stayed under the limit (CPU
 * throttling, a hang), a cancellation, or a broken pipe. The wall deadline
 * is 2 x cpu_seconds + 5 s, extended by as much (at most 3 times) while
 * the child still gets at least 5 % of a CPU: a slowed child is given the
 * time to reach its CPU limit, a hung one is not.
 * The input is never run in the caller instead: that would lift the
 * limits.
 *
 * Runs of one process are serialised (a mutex around fork, read and wait):
 * a fork copies only the calling thread, and another thread inside a run
 * at that moment could leave the child a held lock or the other child's
 * pipe. The worker runs them on one thread, so this costs it nothing.
 */
#ifndef MM_SANDBOX_H
#define MM_SANDBOX_H

#include <stddef.h>

/* Codes written to mm_sandbox_result_t.code by the verdicts below. */
#define MM_SANDBOX_CODE_LIMIT     "extract_limit"
#define MM_SANDBOX_CODE_CRASH     "extract_crash"
#define MM_SANDBOX_CODE_TRANSIENT "extract_transient"

/* How a run ended: one meaning per value. */
typedef enum mm_sandbox_status_e {
        MM_SANDBOX_DONE = 0,      /* the child finished and reported: `res` holds the
                                     function's own result (rc 0 with data, or rc -1
                                     with its code and errstr) */
        MM_SANDBOX_LIMIT = 1,     /* the child's own CPU time or address space reached
                                     its limit, or its output passed max_output: the
                                     input's fault (code extract_limit) */
        MM_SANDBOX_CRASH = 2,     /* the child died of a fault of its own: the input's
                                     fault (code extract_crash) */
        MM_SANDBOX_TRANSIENT = 3, /* not finished for a reason outside the input: try
                                     again later (code extract_transient) */
} mm_sandbox_status_t;

typedef struct mm_sandbox_limits_s {
        long cpu_seconds;  /* RLIMIT_CPU of the child (> 0) */
        size_t max_memory; /* address space the child may add to the caller's */
        size_t max_output; /* bytes of data the child may pass back */
        long cpu_start;    /* > 0: the soft CPU limit the child starts with,
                              below cpu_seconds; the function may raise it
                              up to cpu_seconds (mm_sandbox_cpu_limit).
                              0: cpu_seconds from the start */
} mm_sandbox_limits_t;

#define MM_SANDBOX_CODE_SIZE   32u
#define MM_SANDBOX_ERRSTR_SIZE 256u
/* Bytes of fixed-size side information (e.g. mm_extract_info_t) a child
 * may pass back beside its data, on success and on a failure it reports. */
#define MM_SANDBOX_AUX_SIZE 1024u

/* A run's result. In the child the function fills rc, code, errstr and
 * data/len (data malloc'd, may be NULL when len is 0), and may fill aux
 * (aux_len bytes, at most MM_SANDBOX_AUX_SIZE). In the caller, data is a
 * malloc'd copy with a NUL after the last byte (NULL unless DONE with
 * bytes), freed by mm_sandbox_result_clear; aux holds the child's aux
 * when DONE (aux_len 0 otherwise). */
typedef struct mm_sandbox_result_s {
        int rc;
        char code[MM_SANDBOX_CODE_SIZE];
        char errstr[MM_SANDBOX_ERRSTR_SIZE];
        char *data;
        size_t len;
        unsigned char aux[MM_SANDBOX_AUX_SIZE];
        size_t aux_len;
} mm_sandbox_result_t;

/* The function run in the child. `arg` is the one given to mm_sandbox_run
 * (the child sees the caller's memory as it was at the fork). */
typedef void(mm_sandbox_fn_t)(void *arg, mm_sandbox_result_t *res);

/* Runs `fn(arg)` in a child within `lim` and fills `res` (zeroed first).
 * Returns how the run ended (see mm_sandbox_status_t); for every status
 * but DONE, res->rc is -1 and res->code/errstr say why. */
mm_sandbox_status_t mm_sandbox_run(const mm_sandbox_limits_t *lim, mm_sandbox_fn_t *fn, void *arg,
                                   mm_sandbox_result_t *res);

/* Frees res->data and zeroes `res` (may be NULL). */
void mm_sandbox_result_clear(mm_sandbox_result_t *res);

/* 1 in a sandbox child (where nested runs call the function directly:
 * the child's limits already hold), else 0. */
int mm_sandbox_in_child(void);

/* In a sandbox child: sets the soft CPU limit (RLIMIT_CPU) to `seconds`
 * of the child's CPU time, at most its hard limit less one second (the
 * limit the run was started with). Lets a run start with a lower limit
 * for its first part and raise it for a later one (mm_extract: the text
 * layer within extract-cpu-seconds, OCR within ocr-seconds more).
 * Returns 0, or -1 outside a child or when setrlimit fails. */
int mm_sandbox_cpu_limit(long seconds);

/* Ends the run in progress, if any, as MM_SANDBOX_TRANSIENT (its child is
 * killed): its input is put aside for a reason of the system (a revoked
 * partition). Any thread; async-signal-safe. */
void mm_sandbox_cancel(void);

/* on = 1: ends the run in progress and every later one at once as
 * MM_SANDBOX_TRANSIENT (the process is stopping); on = 0 lifts it. Any
 * thread; async-signal-safe. */
void mm_sandbox_shutdown(int on);

#endif /* MM_SANDBOX_H */
