/*
 * mm_sandbox: a function on untrusted input in a limited child. See
 * mm_sandbox.h.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pipe2, close_range */
#endif
#include "mm_sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* What the child writes to the pipe before the data. */
enum { WIRE_OWN = 0, WIRE_MEMORY = 1 };
typedef struct wire_s {
        int32_t kind; /* WIRE_OWN: the function's result; WIRE_MEMORY: an allocation failed */
        int32_t rc;
        char code[MM_SANDBOX_CODE_SIZE];
        char errstr[MM_SANDBOX_ERRSTR_SIZE];
        uint64_t aux_len;
        unsigned char aux[MM_SANDBOX_AUX_SIZE];
        uint64_t len;
} wire_t;

static volatile sig_atomic_t g_in_child;
static volatile sig_atomic_t g_cancel_gen; /* mm_sandbox_cancel counts up */
static volatile sig_atomic_t g_shutdown;

int mm_sandbox_in_child(void) {
        return g_in_child != 0;
}

int mm_sandbox_cpu_limit(long seconds) {
        struct rlimit r;
        if (!g_in_child || seconds <= 0 || getrlimit(RLIMIT_CPU, &r) != 0)
                return -1;
        rlim_t want = (rlim_t)seconds;
        if (r.rlim_max != RLIM_INFINITY && want >= r.rlim_max)
                want = r.rlim_max > 1 ? r.rlim_max - 1 : 1;
        r.rlim_cur = want;
        return setrlimit(RLIMIT_CPU, &r) == 0 ? 0 : -1;
}

void mm_sandbox_cancel(void) {
        g_cancel_gen = g_cancel_gen + 1;
}

void mm_sandbox_shutdown(int on) {
        g_shutdown = on != 0;
}

void mm_sandbox_result_clear(mm_sandbox_result_t *res) {
        if (res == NULL)
                return;
        free(res->data);
        memset(res, 0, sizeof *res);
}

static void set_result(mm_sandbox_result_t *res, const char *code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void set_result(mm_sandbox_result_t *res, const char *code, const char *fmt, ...) {
        res->rc = -1;
        snprintf(res->code, sizeof res->code, "%s", code);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(res->errstr, sizeof res->errstr, fmt, ap);
        va_end(ap);
}

/* ------------------------------------------------------------------ */
/* The child                                                           */
/* ------------------------------------------------------------------ */

static bool write_all(int fd, const void *p, size_t n) {
        const char *c = p;
        while (n > 0) {
                ssize_t w = write(fd, c, n);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        return false;
                c += w;
                n -= (size_t)w;
        }
        return true;
}

/* The virtual size of this process in bytes (/proc/self/statm). */
static size_t self_vm(void) {
        FILE *f = fopen("/proc/self/statm", "re");
        if (f == NULL)
                return 0;
        unsigned long v = 0;
        size_t vm = fscanf(f, "%lu", &v) == 1 ? v * (size_t)sysconf(_SC_PAGESIZE) : 0;
        fclose(f);
        return vm;
}

/* The child's state for its fault handler (set before the function runs). */
static int g_child_fd = -1;
static volatile sig_atomic_t g_child_writing;
static size_t g_child_probe; /* bytes of the probe mapping */
static bool g_child_as_limited;

/* True if the address space has no room left for a probe mapping: the
 * child is at its RLIMIT_AS. mmap is a plain system call. */
static bool address_space_full(void) {
        if (!g_child_as_limited)
                return false;
        void *p = mmap(NULL, g_child_probe, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                       -1, 0);
        if (p == MAP_FAILED)
                return errno == ENOMEM;
        munmap(p, g_child_probe);
        return false;
}

/* A fault signal in the child. If an allocation failed (errno ENOMEM, or no
 * room left at RLIMIT_AS), the child reports the memory limit itself and
 * exits; otherwise the signal takes its default course (SA_RESETHAND) and
 * the caller sees a crash. Only async-signal-safe calls. */
static void child_fault(int sig) {
        int e = errno;
        if (!g_child_writing && (e == ENOMEM || address_space_full())) {
                wire_t w;
                memset(&w, 0, sizeof w);
                w.kind = WIRE_MEMORY;
                w.rc = -1;
                g_child_writing = 1;
                if (write_all(g_child_fd, &w, sizeof w))
                        _exit(0);
                _exit(120);
        }
        raise(sig);
}

static void child_handlers(void) {
        static char altstack[64 * 1024]; /* a stack overflow is a SIGSEGV too */
        stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
        sigaltstack(&ss, NULL);
        static const int faults[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS};
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = child_fault;
        sa.sa_flags = SA_ONSTACK | SA_RESETHAND | SA_NODEFER;
        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++)
                sigaction(faults[i], &sa, NULL);
}

static void child_limits(const mm_sandbox_limits_t *lim, size_t vm_before) {
        struct rlimit r = {0, 0};
        setrlimit(RLIMIT_CORE, &r);
        r.rlim_cur = (rlim_t)(lim->cpu_start > 0 && lim->cpu_start < lim->cpu_seconds
                                      ? lim->cpu_start
                                      : lim->cpu_seconds);
        r.rlim_max = (rlim_t)lim->cpu_seconds + 1; /* SIGXCPU, then SIGKILL */
        setrlimit(RLIMIT_CPU, &r);
#if !defined(__SANITIZE_ADDRESS__) && !defined(MM_NO_RLIMIT_AS)
        /* The child starts as a copy of the caller, so its budget is added
         * to the caller's address space. (Not under ASan, whose shadow
         * memory needs terabytes of address space.) */
        r.rlim_cur = r.rlim_max = (rlim_t)(vm_before + lim->max_memory);
        g_child_as_limited = setrlimit(RLIMIT_AS, &r) == 0;
        g_child_probe = lim->max_memory / 16 > (1u << 20) ? lim->max_memory / 16 : (1u << 20);
#else
        (void)vm_before;
#endif
}

/* Only stdio and the pipe (as fd 3) stay open; default signal actions. */
static int child_setup(int wfd, pid_t parent) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the caller */
        if (getppid() != parent)          /* it died before prctl */
                _exit(122);
        static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGXCPU, SIGUSR1, SIGUSR2};
        for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
                signal(sigs[i], SIG_DFL);
        signal(SIGPIPE, SIG_IGN);
        sigset_t none;
        sigemptyset(&none);
        pthread_sigmask(SIG_SETMASK, &none, NULL);
        if (wfd != 3) {
                if (dup2(wfd, 3) < 0)
                        _exit(121);
                wfd = 3;
        }
        close_range(4, ~0U, 0);
        /* the function may print to stderr; another thread of the caller may
         * have held stderr's lock at the fork, so the child gets its own FILE */
        FILE *err = fdopen(2, "w");
        if (err != NULL)
                stderr = err;
        /* if memory runs out anyway (a cgroup limit), the kernel kills the
         * child, not the caller; that is then no verdict on the input */
        int oom = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
        if (oom >= 0) {
                if (write(oom, "1000", 4) != 4) { /* best effort */
                }
                close(oom);
        }
        return wfd;
}

/* The child: never returns. Only this thread exists in it. */
static void child_main(int wfd, const mm_sandbox_limits_t *lim, size_t vm_before, pid_t parent,
                       mm_sandbox_fn_t *fn, void *arg) {
        g_in_child = 1;
        wfd = child_setup(wfd, parent);
        g_child_fd = wfd;
        child_limits(lim, vm_before);
        child_handlers();
        mm_sandbox_result_t res;
        memset(&res, 0, sizeof res);
        fn(arg, &res);
        wire_t w;
        memset(&w, 0, sizeof w);
        w.kind = WIRE_OWN;
        w.rc = res.rc == 0 ? 0 : -1;
        /* under RLIMIT_AS a failed allocation is the memory limit */
        if (w.rc != 0 && !strcmp(res.code, "out_of_memory"))
                w.kind = WIRE_MEMORY;
        memcpy(w.code, res.code, sizeof w.code);
        memcpy(w.errstr, res.errstr, sizeof w.errstr);
        w.code[sizeof w.code - 1] = w.errstr[sizeof w.errstr - 1] = '\0';
        w.len = w.rc == 0 ? res.len : 0;
        w.aux_len = res.aux_len <= sizeof w.aux ? res.aux_len : 0;
        memcpy(w.aux, res.aux, (size_t)w.aux_len);
        g_child_writing = 1;
        bool ok = write_all(wfd, &w, sizeof w) && (w.len == 0 || write_all(wfd, res.data, res.len));
        _exit(ok ? 0 : 120); /* no atexit handlers, no stdio flush */
}

/* ------------------------------------------------------------------ */
/* The caller                                                          */
/* ------------------------------------------------------------------ */

static int64_t mono_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* How reading the child's output ended. */
enum { READ_EOF = 0, READ_TIMEOUT, READ_CANCELLED, READ_TOO_LONG, READ_ERROR };

typedef struct reader_s {
        wire_t w;
        size_t got_w, got_data;
        char *data;
} reader_t;

/* Reads what is ready into `r`; READ_EOF at the end of the output, -1 to
 * go on, or an error. */
static int read_some(int fd, reader_t *r, size_t max_data) {
        char *dst;
        size_t room;
        if (r->got_w < sizeof r->w) {
                dst = (char *)&r->w + r->got_w;
                room = sizeof r->w - r->got_w;
        } else {
                if (r->w.rc != 0)
                        r->w.len = 0; /* only EOF may follow */
                if (r->w.len > max_data)
                        return READ_TOO_LONG;
                if (r->data == NULL && (r->data = malloc((size_t)r->w.len + 1)) == NULL)
                        return READ_ERROR;
                dst = r->data + r->got_data;
                room = (size_t)r->w.len - r->got_data;
                if (room == 0)
                        room = 1; /* only EOF may follow; a byte more is an error */
        }
        ssize_t n = read(fd, dst, room);
        if (n < 0 && errno == EINTR)
                return -1;
        if (n < 0)
                return READ_ERROR;
        if (n == 0)
                return READ_EOF;
        if (r->got_w < sizeof r->w)
                r->got_w += (size_t)n;
        else if (r->got_data + (size_t)n > r->w.len)
                return READ_ERROR;
        else
                r->got_data += (size_t)n;
        return -1;
}

/* CPU time (ms) the child `pid` has used so far (/proc/<pid>/stat), or -1. */
static int64_t child_cpu_ms(pid_t pid) {
        char path[64], buf[1024];
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        FILE *f = fopen(path, "re");
        if (f == NULL)
                return -1;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        const char *rp = strrchr(buf, ')'); /* the name may hold spaces */
        unsigned long long ut = 0, st = 0;
        if (rp == NULL ||
            sscanf(rp + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
                return -1;
        long hz = sysconf(_SC_CLK_TCK);
        return hz > 0 ? (int64_t)((ut + st) * 1000ULL / (unsigned long long)hz) : -1;
}

/* The wall deadline of a run: 2 x cpu_seconds + 5 s. When it passes while
 * the child still gets CPU (at least 5 % of the period: it is slowed, e.g.
 * throttled, not hung), it is extended by one period, at most 3 times; the
 * CPU limit stops a child that burns CPU in any case. */
typedef struct deadline_s {
        int64_t at, period, cpu_at_last;
        int extensions;
} deadline_t;

static bool extend_deadline(deadline_t *d, pid_t pid) {
        int64_t cpu = child_cpu_ms(pid);
        if (d->extensions >= 3 || cpu < 0 || (cpu - d->cpu_at_last) * 20 < d->period)
                return false;
        d->cpu_at_last = cpu;
        d->extensions++;
        d->at += d->period;
        return true;
}

/* Reads the child's header and data until EOF, the wall deadline or a
 * cancellation (looked at every 100 ms). */
static int read_child(int fd, pid_t pid, deadline_t *dl, int cancel_gen, reader_t *r,
                      size_t max_data) {
        for (;;) {
                if (g_shutdown || g_cancel_gen != cancel_gen)
                        return READ_CANCELLED;
                int64_t left = dl->at - mono_ms();
                if (left <= 0 && !extend_deadline(dl, pid))
                        return READ_TIMEOUT;
                if (left <= 0)
                        continue;
                struct pollfd pfd = {fd, POLLIN, 0};
                int pr = poll(&pfd, 1, left > 100 ? 100 : (int)left);
                if (pr < 0 && errno == EINTR)
                        continue;
                if (pr < 0)
                        return READ_ERROR;
                if (pr == 0)
                        continue;
                int rc = read_some(fd, r, max_data);
                if (rc >= 0)
                        return rc;
        }
}

static bool is_fault_signal(int sig) {
        return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE ||
               sig == SIGABRT || sig == SIGTRAP || sig == SIGSYS;
}

/* The verdict on a child that did not report a result of its own. */
static mm_sandbox_status_t verdict(int status, const struct rusage *ru, int how,
                                   const mm_sandbox_limits_t *lim, mm_sandbox_result_t *res) {
        int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
        int64_t cpu_ms = (int64_t)ru->ru_utime.tv_sec * 1000 + ru->ru_utime.tv_usec / 1000 +
                         (int64_t)ru->ru_stime.tv_sec * 1000 + ru->ru_stime.tv_usec / 1000;
        /* The kernel checks RLIMIT_CPU against its precise run time, while
         * wait4's ru_utime + ru_stime came out 10-15 % lower on a loaded
         * machine: a child with 80 % of its budget used counts as having
         * reached it. SIGXCPU is sent by the kernel at the soft limit. */
        bool cpu_spent = cpu_ms * 10 >= (int64_t)lim->cpu_seconds * 1000 * 8 || sig == SIGXCPU;
        if (how == READ_CANCELLED) {
                set_result(res, MM_SANDBOX_CODE_TRANSIENT,
                           "the sandboxed run was cancelled (stopping, or the partition moved)");
                return MM_SANDBOX_TRANSIENT;
        }
        if (how == READ_ERROR) {
                set_result(res, MM_SANDBOX_CODE_TRANSIENT,
                           "reading the sandboxed child's output failed, retried");
                return MM_SANDBOX_TRANSIENT;
        }
        if (how == READ_TOO_LONG) {
                set_result(res, MM_SANDBOX_CODE_LIMIT,
                           "the sandboxed output is longer than %zu bytes", lim->max_output);
                return MM_SANDBOX_LIMIT;
        }
        if ((sig == SIGXCPU || sig == SIGKILL || how == READ_TIMEOUT) && cpu_spent) {
                if (lim->cpu_start > 0 && lim->cpu_start < lim->cpu_seconds)
                        set_result(res, MM_SANDBOX_CODE_LIMIT,
                                   "the sandboxed child used its CPU limit of %ld s "
                                   "(extract-cpu-seconds; up to %ld s once it OCRs) after %lld ms",
                                   lim->cpu_start, lim->cpu_seconds, (long long)cpu_ms);
                else
                        set_result(res, MM_SANDBOX_CODE_LIMIT,
                                   "the sandboxed child used its CPU limit of %ld s "
                                   "(extract-cpu-seconds)",
                                   lim->cpu_seconds);
                return MM_SANDBOX_LIMIT;
        }
        if (how == READ_TIMEOUT) {
                set_result(res, MM_SANDBOX_CODE_TRANSIENT,
                           "the sandboxed child passed its wall time (2 x extract-cpu-seconds + "
                           "5 s = %ld s, extended while it got CPU) after %lld ms of CPU: CPU "
                           "throttling or a hang, retried",
                           2 * lim->cpu_seconds + 5, (long long)cpu_ms);
                return MM_SANDBOX_TRANSIENT;
        }
        if (how == READ_EOF && is_fault_signal(sig)) {
                set_result(res, MM_SANDBOX_CODE_CRASH,
                           "the sandboxed child crashed with signal %d (%s)", sig, strsignal(sig));
                return MM_SANDBOX_CRASH;
        }
        if (sig != 0)
                set_result(res, MM_SANDBOX_CODE_TRANSIENT,
                           "the sandboxed child was killed from outside by signal %d (%s) after "
                           "%lld ms of CPU (a cgroup OOM kill?), retried",
                           sig, strsignal(sig), (long long)cpu_ms);
        else
                set_result(res, MM_SANDBOX_CODE_TRANSIENT,
                           "the sandboxed child exited with status %d and no result, retried",
                           WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        return MM_SANDBOX_TRANSIENT;
}

/* Turns a complete report of the child into the result. */
static mm_sandbox_status_t reported(reader_t *r, const mm_sandbox_limits_t *lim,
                                    mm_sandbox_result_t *res) {
        if (r->w.kind == WIRE_MEMORY) {
                set_result(res, MM_SANDBOX_CODE_LIMIT,
                           "an allocation failed in the sandboxed child: memory limit of %zu MB "
                           "(extract-max-memory)",
                           lim->max_memory >> 20);
                return MM_SANDBOX_LIMIT;
        }
        r->w.code[sizeof r->w.code - 1] = r->w.errstr[sizeof r->w.errstr - 1] = '\0';
        res->rc = r->w.rc == 0 ? 0 : -1;
        memcpy(res->code, r->w.code, sizeof res->code);
        memcpy(res->errstr, r->w.errstr, sizeof res->errstr);
        if (r->w.aux_len <= sizeof res->aux) {
                res->aux_len = (size_t)r->w.aux_len;
                memcpy(res->aux, r->w.aux, res->aux_len);
        }
        if (res->rc == 0) {
                if (r->data == NULL)
                        r->data = malloc(1);
                if (r->data == NULL) {
                        set_result(res, MM_SANDBOX_CODE_TRANSIENT, "out of memory in the caller");
                        return MM_SANDBOX_TRANSIENT;
                }
                r->data[r->got_data] = '\0';
                res->data = r->data; /* ownership passed to res */
                res->len = r->got_data;
                r->data = NULL;
        }
        return MM_SANDBOX_DONE;
}

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

static pid_t do_fork(void) {
#ifdef MM_SANDBOX_TEST_HOOKS
        /* Test builds only: fork fails as at a task limit. */
        const char *f = getenv("MM_SANDBOX_TEST_FAIL_FORK");
        if (f != NULL && *f == '1') {
                errno = EAGAIN;
                return -1;
        }
#endif
        return fork();
}

static mm_sandbox_status_t run_locked(const mm_sandbox_limits_t *lim, mm_sandbox_fn_t *fn,
                                      void *arg, mm_sandbox_result_t *res) {
        int cancel_gen = g_cancel_gen;
        if (g_shutdown) {
                set_result(res, MM_SANDBOX_CODE_TRANSIENT, "the process is stopping");
                return MM_SANDBOX_TRANSIENT;
        }
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) != 0) {
                set_result(res, MM_SANDBOX_CODE_TRANSIENT, "no pipe for the sandbox (%s), retried",
                           strerror(errno));
                return MM_SANDBOX_TRANSIENT;
        }
        size_t vm_before = self_vm();
        pid_t self = getpid();
        pid_t pid = do_fork();
        if (pid == 0)
                child_main(fds[1], lim, vm_before, self, fn, arg);
        int fork_errno = errno;
        close(fds[1]);
        if (pid < 0) {
                close(fds[0]);
                set_result(res, MM_SANDBOX_CODE_TRANSIENT,
                           "no process for the sandbox (%s), retried", strerror(fork_errno));
                return MM_SANDBOX_TRANSIENT;
        }
        reader_t r;
        memset(&r, 0, sizeof r);
        deadline_t dl = {0, (2 * lim->cpu_seconds + 5) * 1000, 0, 0};
        dl.at = mono_ms() + dl.period;
        int how = read_child(fds[0], pid, &dl, cancel_gen, &r, lim->max_output);
        close(fds[0]);
        if (how != READ_EOF)
                kill(pid, SIGKILL);
        int status = 0;
        struct rusage ru;
        memset(&ru, 0, sizeof ru);
        while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR)
                ;
        mm_sandbox_status_t st;
        if (how == READ_EOF && r.got_w == sizeof r.w && r.got_data == (size_t)r.w.len &&
            WIFEXITED(status) && WEXITSTATUS(status) == 0)
                st = reported(&r, lim, res);
        else
                st = verdict(status, &ru, how, lim, res);
        free(r.data);
        return st;
}

mm_sandbox_status_t mm_sandbox_run(const mm_sandbox_limits_t *lim, mm_sandbox_fn_t *fn, void *arg,
                                   mm_sandbox_result_t *res) {
        memset(res, 0, sizeof *res);
        pthread_mutex_lock(&g_lock);
        mm_sandbox_status_t st = run_locked(lim, fn, arg, res);
        pthread_mutex_unlock(&g_lock);
        return st;
}
