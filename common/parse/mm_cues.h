/*
 * mm_cues: a pre-filter of literal words for tables of patterns.
 *
 * A pattern of a data table ("\bmed\s+{N}\s+stemmer ...") can only match
 * a text that holds one of the words the table names for it ("stemmer"):
 * the words are the pattern's necessary condition, kept as data beside it.
 * mm_cues_find reads a text once and says which words it holds; a caller
 * then runs only the patterns that may match. The test is exact for the
 * way PCRE2 matches caselessly in UTF mode: ASCII and the Latin-1 capitals
 * (Æ Ø Å É ...) are folded, and a text that holds one of the signs PCRE2
 * also takes for s, k or å (U+017F, U+212A, U+212B) holds every word.
 * For patterns matched with case (noise.tsv), mm_cues_new_exact compares
 * the words byte for byte.
 */
#ifndef MM_CUES_H
#define MM_CUES_H

#include <stddef.h>
#include <stdint.h>

typedef struct mm_cues_s mm_cues_t;

/* Words per mm_cues_t (bits of a mask). */
#define MM_CUES_MAX 60

/* An empty set of words, or NULL when memory ran out. */
mm_cues_t *mm_cues_new(void);

/* As mm_cues_new, for patterns matched with case: words are compared byte
 * for byte ("Kommune" is not "kommune"), and may hold capitals. */
mm_cues_t *mm_cues_new_exact(void);

/* Frees `c` (may be NULL). */
void mm_cues_destroy(mm_cues_t *c);

/* Adds the words of `list` (comma-separated, lower-case unless the set is
 * exact; "*" or NULL for none) that `pattern` needs, and sets *need to
 * their bits (0 for none: the pattern is always run). Each word must be
 * written in `pattern` as it stands (caselessly unless exact), which
 * catches a misspelt word. Returns 0, or -1 with errstr filled (a word not
 * lower-case or not in the pattern, more than MM_CUES_MAX words). */
int mm_cues_add(mm_cues_t *c, const char *list, const char *pattern, uint64_t *need, char *errstr,
                size_t errstr_size);

/* The bits of the words s[0..n) holds (every bit when it holds one of the
 * signs above). `c` may be NULL: every bit. */
uint64_t mm_cues_find(const mm_cues_t *c, const char *s, size_t n);

/* May a pattern that needs `need` match a text that holds `have`? */
static inline int mm_cues_may(uint64_t need, uint64_t have) {
        return !need || (need & have) != 0;
}

#endif /* MM_CUES_H */
