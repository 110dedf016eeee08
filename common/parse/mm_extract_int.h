/*
 * mm_extract_int: the small helpers that mm_extract.c and
 * mm_extract_html.c share (internal to the extraction module).
 */
#ifndef MM_EXTRACT_INT_H
#define MM_EXTRACT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* Writes code `c` into code (may be NULL) and the formatted sentence into
 * errstr (may be NULL). */
void mm_extract_set_error(char *code, size_t code_size, char *errstr, size_t errstr_size,
                          const char *c, const char *fmt, ...)
        __attribute__((format(printf, 6, 7)));

static inline bool mm_extract_is_ws(unsigned char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static inline unsigned char mm_extract_lower(unsigned char c) {
        return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* Case-insensitive prefix test on a length-bounded buffer. */
static inline bool mm_extract_has_prefix_ci(const char *p, size_t n, const char *prefix) {
        size_t k = strlen(prefix);
        if (n < k)
                return false;
        for (size_t i = 0; i < k; i++)
                if (mm_extract_lower((unsigned char)p[i]) !=
                    mm_extract_lower((unsigned char)prefix[i]))
                        return false;
        return true;
}

/* Finds `needle` in p[0..n), or NULL. */
const char *mm_extract_find_bytes(const char *p, size_t n, const char *needle);

/* Skips a UTF-8 BOM, white space, <?xml ...?> and <!-- ... --> at p
 * (before end); returns where the content starts. */
const char *mm_extract_skip_prolog(const char *p, const char *end);

#endif /* MM_EXTRACT_INT_H */
