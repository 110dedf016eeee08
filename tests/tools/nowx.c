/*
 * nowx: runs a program the way systemd's MemoryDenyWriteExecute=yes does:
 * a seccomp filter makes mmap() of writable+executable memory and
 * mprotect()/pkey_mprotect() to executable fail with EPERM (the same rules
 * as systemd's seccomp_memory_deny_write_execute()). Used by the test
 * parser_jit_fallback: PCRE2's JIT needs such memory, so under nowx every
 * pattern must fall back to the interpreter.
 *
 *   nowx PROGRAM [ARG...]
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define NOWX_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NOWX_ARCH AUDIT_ARCH_AARCH64
#else
#error "nowx: add this architecture's AUDIT_ARCH_ value"
#endif

/* The low 32 bits of argument n (little endian: the first word). */
#define ARG_LO(n) (offsetof(struct seccomp_data, args) + 8 * (n))

#define DENY_IF_BITS(sysno, argn, bits)                                                            \
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (sysno), 0, 4),                                        \
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(argn)),                                  \
                BPF_STMT(BPF_ALU | BPF_AND | BPF_K, (bits)),                                       \
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (bits), 0, 1),                                 \
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),         \
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))

int main(int argc, char **argv) {
        if (argc < 2) {
                fprintf(stderr, "usage: nowx PROGRAM [ARG...]\n");
                return 2;
        }
        struct sock_filter filter[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NOWX_ARCH, 1, 0),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                DENY_IF_BITS(__NR_mmap, 2, PROT_WRITE | PROT_EXEC),
                DENY_IF_BITS(__NR_mprotect, 2, PROT_EXEC),
                DENY_IF_BITS(__NR_pkey_mprotect, 2, PROT_EXEC),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog prog = {(unsigned short)(sizeof(filter) / sizeof(filter[0])), filter};
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
            prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
                fprintf(stderr, "nowx: cannot install the seccomp filter: %s\n", strerror(errno));
                return 2;
        }
        execvp(argv[1], argv + 1);
        fprintf(stderr, "nowx: %s: %s\n", argv[1], strerror(errno));
        return 127;
}
