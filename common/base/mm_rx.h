/*
 * mm_rx: a thin wrapper over PCRE2 (8-bit, UTF, JIT-compiled where the
 * system allows it, else interpreted) so the rest of the parser works with
 * patterns from data tables without repeating the PCRE2 boilerplate.
 */
#ifndef MM_RX_H
#define MM_RX_H

#include <stddef.h>

typedef struct mm_rx_s mm_rx_t;
typedef struct mm_rx_match_s mm_rx_match_t;

#define MM_RX_CASELESS 1
#define MM_RX_ANCHORED 2

/* Compiles `pattern` (UTF-8, UCP). Returns NULL and fills errstr on a
 * pattern error. */
mm_rx_t *mm_rx_new(const char *pattern, int flags, char *errstr, size_t errstr_size);

/* Frees a pattern. `rx` may be NULL. */
void mm_rx_destroy(mm_rx_t *rx);

/* Match state, one per thread of use (it holds the capture vector). */
mm_rx_match_t *mm_rx_match_new(void);

/* Frees match state. `m` may be NULL. */
void mm_rx_match_destroy(mm_rx_match_t *m);

/* Searches s[start..len). Returns 1 on a match (capture offsets are then
 * available through mm_rx_group*), 0 when there is none. */
int mm_rx_exec(const mm_rx_t *rx, mm_rx_match_t *m, const char *s, size_t len, size_t start);

/* Byte span of capture group `n` (0 = whole match) of the last successful
 * exec. Returns 0 and sets *b,*e, or -1 if the group did not take part. */
int mm_rx_group(const mm_rx_match_t *m, int n, size_t *b, size_t *e);

/* Same for a named group of `rx`. */
int mm_rx_named(const mm_rx_t *rx, const mm_rx_match_t *m, const char *name, size_t *b, size_t *e);

/* How many patterns of this process could not be JIT-compiled (they run
 * in the PCRE2 interpreter instead; the first failure is logged once). */
int mm_rx_jit_failures(void);

#endif /* MM_RX_H */
