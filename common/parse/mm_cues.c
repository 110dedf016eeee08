#include "mm_cues.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The signs PCRE2's caseless UTF matching takes for s, k and å: a text
 * holding one may match a word that it does not spell. Bits above the
 * words. */
static const char *const signs[] = {"\xc5\xbf", "\xe2\x84\xaa", "\xe2\x84\xab"};
#define NSIGNS    3
#define SIGN_BITS (((1ull << NSIGNS) - 1) << MM_CUES_MAX)

struct mm_cues_s {
        char *word[MM_CUES_MAX + NSIGNS];
        size_t len[MM_CUES_MAX + NSIGNS];
        size_t n;              /* words, signs not counted */
        int exact;             /* mm_cues_new_exact: bytes as they are */
        uint64_t byfirst[256]; /* the words and signs a byte starts (either case) */
        /* The first two bytes of every word, folded loosely (see loose):
         * a bit per pair, so most bytes of a text are passed over at the
         * cost of two look-ups. */
        uint64_t pair[65536 / 64];
        unsigned char loose[256];
};

/* The byte u[i] folded as PCRE2's caseless matching sees it: A-Z, and the
 * second byte of a Latin-1 capital (U+00C0-U+00DE but ×), to small. A
 * word never starts inside a character, so u[i - 1] is only looked at
 * within a word. */
static unsigned char fold_at(const unsigned char *u, size_t i) {
        unsigned char c = u[i];
        if (c >= 'A' && c <= 'Z')
                return (unsigned char)(c + 32);
        if (i && u[i - 1] == 0xC3 && c >= 0x80 && c <= 0x9E && c != 0x97)
                return (unsigned char)(c + 0x20);
        return c;
}

/* A byte folded without looking at the byte before it: A-Z to small, and
 * every byte 0x80-0x9E (but 0x97) up by 0x20, as the second byte of a
 * Latin-1 capital is. Where fold_at makes two texts equal, so does this,
 * so a pair absent in its terms is absent. */
static void loose_table(mm_cues_t *c) {
        for (int b = 0; b < 256; b++)
                c->loose[b] = (unsigned char)((b >= 'A' && b <= 'Z') ||
                                                              (b >= 0x80 && b <= 0x9E && b != 0x97)
                                                      ? b + 0x20
                                                      : b);
}

static void set_pair(mm_cues_t *c, unsigned key) {
        c->pair[key >> 6] |= 1ull << (key & 63);
}

static int put(mm_cues_t *c, size_t k, const char *w, size_t n) {
        if (!(c->word[k] = malloc(n + 1)))
                return -1;
        memcpy(c->word[k], w, n);
        c->word[k][n] = '\0';
        c->len[k] = n;
        if (c->exact) {
                c->byfirst[(unsigned char)w[0]] |= 1ull << k;
                return 0;
        }
        unsigned first = c->loose[(unsigned char)w[0]];
        if (n >= 2)
                set_pair(c, first | (unsigned)c->loose[(unsigned char)w[1]] << 8);
        for (unsigned x = 0; n == 1 && x < 256; x++)
                set_pair(c, first | x << 8);
        c->byfirst[(unsigned char)w[0]] |= 1ull << k;
        if (w[0] >= 'a' && w[0] <= 'z')
                c->byfirst[(unsigned char)w[0] - 32] |= 1ull << k;
        return 0;
}

mm_cues_t *mm_cues_new(void) {
        mm_cues_t *c = calloc(1, sizeof(*c));
        if (c)
                loose_table(c);
        for (size_t i = 0; c && i < NSIGNS; i++)
                if (put(c, MM_CUES_MAX + i, signs[i], strlen(signs[i]))) {
                        mm_cues_destroy(c);
                        return NULL;
                }
        return c;
}

mm_cues_t *mm_cues_new_exact(void) {
        mm_cues_t *c = calloc(1, sizeof(*c));
        if (c)
                c->exact = 1;
        return c;
}

void mm_cues_destroy(mm_cues_t *c) {
        if (!c)
                return;
        for (size_t i = 0; i < MM_CUES_MAX + NSIGNS; i++)
                free(c->word[i]);
        free(c);
}

/* Is w[0..n) a word as the table must write it: lower-case letters (ASCII
 * or Latin-1) and other printable ASCII but the comma? */
static int valid_word(const char *w, size_t n, int exact) {
        const unsigned char *u = (const unsigned char *)w;
        for (size_t i = 0; exact && i < n; i++)
                if (u[i] <= ' ' || u[i] == 0x7F || u[i] == ',')
                        return 0;
        for (size_t i = 0; !exact && i < n; i++) {
                if (u[i] == 0xC3 && i + 1 < n && u[i + 1] >= 0xA0 && u[i + 1] <= 0xBF &&
                    u[i + 1] != 0xB7) {
                        i++;
                        continue;
                }
                if (u[i] <= ' ' || u[i] >= 0x7F || u[i] == ',' || (u[i] >= 'A' && u[i] <= 'Z'))
                        return 0;
        }
        return n > 0;
}

/* Does the folded pattern hold the word? */
static int in_pattern(const char *pattern, const char *w, size_t n, int exact) {
        const unsigned char *p = (const unsigned char *)pattern;
        size_t pn = strlen(pattern);
        if (exact)
                return memmem(pattern, pn, w, n) != NULL;
        for (size_t i = 0; i + n <= pn; i++) {
                size_t j = 0;
                while (j < n && fold_at(p, i + j) == (unsigned char)w[j])
                        j++;
                if (j == n)
                        return 1;
        }
        return 0;
}

int mm_cues_add(mm_cues_t *c, const char *list, const char *pattern, uint64_t *need, char *errstr,
                size_t errstr_size) {
        *need = 0;
        if (!list || !strcmp(list, "*"))
                return 0;
        for (const char *s = list; *s;) {
                const char *comma = strchr(s, ',');
                size_t n = comma ? (size_t)(comma - s) : strlen(s);
                size_t k = 0;
                while (k < c->n && (c->len[k] != n || memcmp(c->word[k], s, n)))
                        k++;
                if (!valid_word(s, n, c->exact) || !in_pattern(pattern, s, n, c->exact)) {
                        snprintf(errstr, errstr_size,
                                 "cue \"%.*s\" is not lower-case or not in \"%s\"", (int)n, s,
                                 pattern);
                        return -1;
                }
                if (k == c->n && k == MM_CUES_MAX) {
                        snprintf(errstr, errstr_size, "more than %d cue words", MM_CUES_MAX);
                        return -1;
                }
                if (k == c->n) {
                        if (put(c, k, s, n)) {
                                snprintf(errstr, errstr_size, "out of memory");
                                return -1;
                        }
                        c->n++;
                }
                *need |= 1ull << k;
                s = comma ? comma + 1 : s + n;
        }
        return 0;
}

/* Is the word k at u[i..n)? */
static int word_at(const mm_cues_t *c, int k, const unsigned char *u, size_t n, size_t i) {
        size_t j = 0, wn = c->len[k];
        const unsigned char *w = (const unsigned char *)c->word[k];
        if (wn > n - i)
                return 0;
        while (j < wn && fold_at(u, i + j) == w[j])
                j++;
        return j == wn;
}

/* mm_cues_find of an exact set: a byte that starts no word costs a look-up. */
static uint64_t find_exact(const mm_cues_t *c, const unsigned char *u, size_t n) {
        uint64_t have = 0;
        for (size_t i = 0; i < n; i++) {
                uint64_t cand = c->byfirst[u[i]];
                if (__builtin_expect(!cand, 1))
                        continue;
                for (cand &= ~have; cand; cand &= cand - 1) {
                        int k = __builtin_ctzll(cand);
                        const unsigned char *w = (const unsigned char *)c->word[k];
                        size_t j = 1, wn = c->len[k];
                        if (wn > n - i)
                                continue;
                        while (j < wn && u[i + j] == w[j])
                                j++;
                        if (j == wn)
                                have |= 1ull << k;
                }
        }
        return have;
}

uint64_t mm_cues_find(const mm_cues_t *c, const char *s, size_t n) {
        const unsigned char *u = (const unsigned char *)s;
        uint64_t have = 0;
        if (!c)
                return ~0ull;
        if (!n)
                return 0;
        if (c->exact)
                return find_exact(c, u, n);
        const unsigned char *lo = c->loose;
        const uint64_t *pair = c->pair;
        unsigned prev = lo[u[0]];
        for (size_t i = 0; i < n; i++) {
                /* a 1-byte word has every pair: the 0 after the end is one */
                unsigned next = i + 1 < n ? lo[u[i + 1]] : 0;
                unsigned key = prev | next << 8;
                prev = next;
                if (__builtin_expect(!((pair[key >> 6] >> (key & 63)) & 1), 1))
                        continue;
                for (uint64_t cand = c->byfirst[u[i]] & ~have; cand; cand &= cand - 1)
                        if (word_at(c, __builtin_ctzll(cand), u, n, i))
                                have |= cand & -cand;
        }
        return have & SIGN_BITS ? ~0ull : have;
}
