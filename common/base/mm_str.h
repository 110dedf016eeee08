/*
 * mm_str: substring search tuned for the parser's case: short needles in
 * short lines, where glibc's memmem spends more on set-up than on search.
 */
#ifndef MM_STR_H
#define MM_STR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Finds needle[0..nl) in hay[0..hl). Returns a pointer into hay or NULL.
 * nl must be at least 1. */
static inline const char *mm_str_find(const char *hay, size_t hl, const char *needle, size_t nl) {
        const char *p = hay, *end = hay + hl;
        if (nl > hl)
                return NULL;
        while ((size_t)(end - p) >= nl &&
               (p = memchr(p, needle[0], (size_t)(end - p) - nl + 1)) != NULL) {
                if (!memcmp(p + 1, needle + 1, nl - 1))
                        return p;
                p++;
        }
        return NULL;
}

/* Whether one of the 8 bytes of w is below n (1 <= n <= 128). Exact about
 * whether there is one, not about which (the "hasless" bit trick): it lets
 * a scan step over 8 bytes of ordinary text at a time. */
static inline int mm_str_word_has_below(uint64_t w, unsigned n) {
        return ((w - 0x0101010101010101ull * n) & ~w & 0x8080808080808080ull) != 0;
}

/* Whether one of the 8 bytes of w is c. */
static inline int mm_str_word_has_byte(uint64_t w, unsigned char c) {
        uint64_t x = w ^ (0x0101010101010101ull * c);
        return ((x - 0x0101010101010101ull) & ~x & 0x8080808080808080ull) != 0;
}

/* Whether one of the 8 bytes of w is an ASCII byte strictly between lo and
 * hi (lo <= 127, hi <= 128): per byte, on its low 7 bits, without carries
 * between bytes. */
static inline int mm_str_word_has_between(uint64_t w, unsigned lo, unsigned hi) {
        const uint64_t ones = 0x0101010101010101ull, low7 = w & (ones * 127);
        return ((ones * (127 + hi) - low7) & ~w & (low7 + ones * (127 - lo)) & (ones * 128)) != 0;
}

/* The next 8 bytes at p as a word (any alignment). */
static inline uint64_t mm_str_word(const char *p) {
        uint64_t w;
        memcpy(&w, p, sizeof(w));
        return w;
}

#endif /* MM_STR_H */
