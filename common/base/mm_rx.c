#define PCRE2_CODE_UNIT_WIDTH 8
#include "mm_rx.h"

#include "mm_log.h"

#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mm_rx_s {
        pcre2_code *code;
        int jit;                  /* JIT-compiled: matched through pcre2_jit_match */
        int anchored;             /* compiled with MM_RX_ANCHORED */
        uint32_t minlen;          /* no match is shorter (in characters, so bytes) */
        int nfirst;               /* bytes set in `first`, 0 when unknown */
        unsigned char first[256]; /* bytes a match can start with */
        unsigned char first1;     /* the byte, when nfirst is 1 */
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

/* Fills rx->first from what PCRE2's own study knows: the bytes a match can
 * start with (its start bitmap, or its one first code unit with the other
 * ASCII case of a letter, as a caseless first unit matches both). PCRE2
 * skips ahead with the same facts; mm_rx_exec uses them to spare the call
 * on the many lines where the pattern cannot start at all. PCRE2 keeps no
 * start bytes for an anchored pattern: they are read from an unanchored
 * compile of it (an anchored match is one of its matches). Patterns that
 * can match the empty string, or start bytes inside a UTF-8 sequence,
 * leave the table unused. */
static void set_first(mm_rx_t *rx, const char *pattern, uint32_t opts) {
        pcre2_code *probe = rx->code;
        const uint8_t *bitmap = NULL;
        uint32_t type = 0, unit = 0;
        int err;
        PCRE2_SIZE erroff;

        if (opts & PCRE2_ANCHORED)
                probe = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                                      opts & ~(uint32_t)PCRE2_ANCHORED, &err, &erroff, NULL);
        if (!probe)
                return;
        if (pcre2_pattern_info(probe, PCRE2_INFO_MINLENGTH, &rx->minlen) ||
            pcre2_pattern_info(probe, PCRE2_INFO_FIRSTCODETYPE, &type))
                rx->minlen = type = 0;
        if (rx->minlen > 0 && type == 0 &&
            !pcre2_pattern_info(probe, PCRE2_INFO_FIRSTBITMAP, &bitmap) && bitmap)
                for (int c = 0; c < 256; c++)
                        rx->first[c] = (bitmap[c / 8] >> (c % 8)) & 1;
        else if (rx->minlen > 0 && type == 1 &&
                 !pcre2_pattern_info(probe, PCRE2_INFO_FIRSTCODEUNIT, &unit) && unit < 0x80) {
                rx->first[unit] = 1;
                if ((unit | 32) >= 'a' && (unit | 32) <= 'z')
                        rx->first[unit ^ 32] = 1;
        }
        if (probe != rx->code)
                pcre2_code_free(probe);
        for (int c = 0; c < 256; c++)
                if (rx->first[c]) {
                        rx->nfirst++;
                        rx->first1 = (unsigned char)c;
                }
        for (int c = 0x80; c < 0xC0; c++)
                if (rx->first[c])
                        rx->nfirst = 0;
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
        rx->anchored = (flags & MM_RX_ANCHORED) != 0;
        set_first(rx, pattern, opts);
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

/* Where a match of rx in s[start..len) can start: the first byte there
 * that may begin one, or len when there is none. */
static size_t first_start(const mm_rx_t *rx, const char *s, size_t len, size_t start) {
        if (rx->nfirst == 1) {
                const char *q = memchr(s + start, rx->first1, len - start);
                return q ? (size_t)(q - s) : len;
        }
        while (start < len && !rx->first[(unsigned char)s[start]])
                start++;
        return start;
}

int mm_rx_exec(const mm_rx_t *rx, mm_rx_match_t *m, const char *s, size_t len, size_t start) {
        /* The parser calls this a few hundred thousand times per megabyte,
         * on short lines, and most calls find nothing. A match needs
         * minlen bytes and one of the bytes in rx->first to start with:
         * without them there is no call at all, and a search starts at the
         * first such byte (PCRE2 lets \b and lookbehinds see the bytes
         * before the start offset, so the result is the same). */
        if (start > len) {
                m->rc = PCRE2_ERROR_BADOFFSET;
                return 0;
        }
        if (len - start < rx->minlen) {
                m->rc = PCRE2_ERROR_NOMATCH;
                return 0;
        }
        if (rx->nfirst && rx->anchored && !rx->first[(unsigned char)s[start]]) {
                m->rc = PCRE2_ERROR_NOMATCH;
                return 0;
        }
        if (rx->nfirst && !rx->anchored && (start = first_start(rx, s, len, start)) == len) {
                m->rc = PCRE2_ERROR_NOMATCH;
                return 0;
        }
        /* Input is validated UTF-8 before it reaches any pattern;
         * pcre2_jit_match skips pcre2_match's argument checks (a third of
         * the cost of a short call). */
        if (rx->jit)
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
