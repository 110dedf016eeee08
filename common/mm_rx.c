#define PCRE2_CODE_UNIT_WIDTH 8
#include "mm_rx.h"

#include "mm_log.h"

#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>

struct mm_rx_s {
        pcre2_code *code;
        int jit; /* JIT-compiled: matched through pcre2_jit_match */
};

struct mm_rx_match_s {
        pcre2_match_data *md;
        int rc;
};

static int jit_failures; /* JIT compilations refused in this process */

/* JIT is an optimisation: where it is refused, pcre2_match runs the
 * interpreter on the same compiled pattern, with the same results. The
 * usual cause is a sandbox that forbids writable+executable memory
 * (systemd's MemoryDenyWriteExecute=yes: see deploy/systemd/). Said once
 * per process, not per pattern. */
static int jit_compile(pcre2_code *code) {
        int rc = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
        if (rc == 0)
                return 1;
        if (__atomic_fetch_add(&jit_failures, 1, __ATOMIC_RELAXED) == 0) {
                PCRE2_UCHAR msg[160];
                pcre2_get_error_message(rc, msg, sizeof(msg));
                mm_log(MM_LOG_INFO,
                       "PCRE2 JIT unavailable (%s): regular expressions run in the interpreter",
                       (char *)msg);
        }
        return 0;
}

int mm_rx_jit_failures(void) {
        return __atomic_load_n(&jit_failures, __ATOMIC_RELAXED);
}

mm_rx_t *mm_rx_new(const char *pattern, int flags, char *errstr, size_t errstr_size) {
        uint32_t opts = PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK;
        int err;
        PCRE2_SIZE erroff;
        mm_rx_t *rx;

        if (flags & MM_RX_CASELESS)
                opts |= PCRE2_CASELESS;
        if (flags & MM_RX_ANCHORED)
                opts |= PCRE2_ANCHORED;
        rx = calloc(1, sizeof(*rx));
        if (!rx) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        rx->code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, opts, &err, &erroff,
                                 NULL);
        if (!rx->code) {
                PCRE2_UCHAR msg[160];
                pcre2_get_error_message(err, msg, sizeof(msg));
                snprintf(errstr, errstr_size, "pattern \"%s\" at %zu: %s", pattern, (size_t)erroff,
                         (char *)msg);
                free(rx);
                return NULL;
        }
        rx->jit = jit_compile(rx->code);
        return rx;
}

void mm_rx_destroy(mm_rx_t *rx) {
        if (!rx)
                return;
        pcre2_code_free(rx->code);
        free(rx);
}

mm_rx_match_t *mm_rx_match_new(void) {
        mm_rx_match_t *m = calloc(1, sizeof(*m));
        if (!m)
                return NULL;
        m->md = pcre2_match_data_create(32, NULL);
        if (!m->md) {
                free(m);
                return NULL;
        }
        return m;
}

void mm_rx_match_destroy(mm_rx_match_t *m) {
        if (!m)
                return;
        pcre2_match_data_free(m->md);
        free(m);
}

int mm_rx_exec(const mm_rx_t *rx, mm_rx_match_t *m, const char *s, size_t len, size_t start) {
        /* Input is validated UTF-8 before it reaches any pattern. The
         * parser calls this a few hundred thousand times per megabyte, on
         * short lines: pcre2_jit_match skips pcre2_match's argument checks
         * (a third of the cost of such a call), so the one check that can
         * fail here is made first. */
        if (start > len)
                m->rc = PCRE2_ERROR_BADOFFSET;
        else if (rx->jit)
                m->rc = pcre2_jit_match(rx->code, (PCRE2_SPTR)s, len, start, PCRE2_NO_UTF_CHECK,
                                        m->md, NULL);
        else
                m->rc = pcre2_match(rx->code, (PCRE2_SPTR)s, len, start, PCRE2_NO_UTF_CHECK, m->md,
                                    NULL);
        /* The JIT's stack (32 KiB) is smaller than the interpreter's heap
         * limit: a deep match that overflows it is not a non-match. */
        if (m->rc == PCRE2_ERROR_JIT_STACKLIMIT)
                m->rc = pcre2_match(rx->code, (PCRE2_SPTR)s, len, start,
                                    PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, m->md, NULL);
        return m->rc > 0;
}

int mm_rx_group(const mm_rx_match_t *m, int n, size_t *b, size_t *e) {
        PCRE2_SIZE *ov;

        if (m->rc <= 0 || n < 0 || n >= m->rc)
                return -1;
        ov = pcre2_get_ovector_pointer(m->md);
        if (ov[2 * n] == PCRE2_UNSET)
                return -1;
        *b = ov[2 * n];
        *e = ov[2 * n + 1];
        return 0;
}

int mm_rx_named(const mm_rx_t *rx, const mm_rx_match_t *m, const char *name, size_t *b, size_t *e) {
        int n = pcre2_substring_number_from_name(rx->code, (PCRE2_SPTR)name);
        if (n < 0)
                return -1;
        return mm_rx_group(m, n, b, e);
}
