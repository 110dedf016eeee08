/*
 * mm_str: substring search tuned for the parser's case: short needles in
 * short lines, where glibc's memmem spends more on set-up than on search.
 */
#ifndef MM_STR_H
#define MM_STR_H

#include <stddef.h>
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

#endif /* MM_STR_H */
