/*
 * The cue words of the data tables (issue 20's speed): votes.tsv,
 * history.tsv, outcomes.tsv and noise.tsv name, per pattern, words of which every
 * match holds one, and mm_cues skips a pattern on a text without them.
 * A wrong word would lose matches silently, so this test matches every
 * pattern of those tables against every line and sentence of the texts
 * it is given (the fixtures also in capitals) and fails where a pattern
 * matches a text that holds none of its cue words.
 *
 *   test_cues FIXTURE_DIR [SHARED_CORPUS_DIR]
 *
 * The texts are the repository's invented fixtures, and the real
 * documents of ../shared/corpus when it is present.
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mm_buf.h"
#include "mm_cues.h"
#include "mm_rx.h"
#include "mm_table.h"
#include "mm_votes.h"
#include "mm_text.h"

typedef struct rule_s {
        const char *table;
        size_t row;
        mm_rx_t *rx;
        uint64_t need;
        int table_no; /* its table's cues in cues[] */
} rule_t;

static rule_t rules[512];
static size_t nrules;
static mm_cues_t *cues[4]; /* one per table, as each module has its own */
static int ntables;
static mm_rx_match_t *match;
static long texts, matched, bad;
static int capitals = 1; /* also check the texts in capitals */

/* exact: the table's patterns match with case (noise.tsv), and so do its cues */
static int load(const char *name, int patcol, int cuecol, int exact) {
        char err[512];
        mm_table_t *t = mm_table_load(name, cuecol + 1, err, sizeof(err));
        mm_buf_t num = MM_BUF_INIT;
        mm_cues_t *cu = cues[ntables] = exact ? mm_cues_new_exact() : mm_cues_new();
        if (!cu)
                return -1;
        if (!t) {
                /* rows without cues (votes.tsv's numbers) have fewer columns */
                t = mm_table_load(name, patcol + 1, err, sizeof(err));
                if (!t) {
                        fprintf(stderr, "%s: %s\n", name, err);
                        return -1;
                }
        }
        mm_buf_puts(&num, "(?:\\d{1,3}(?!\\d)|(?:");
        for (size_t i = 0, k = 0; i < mm_table_rows(t); i++)
                if (!strcmp(mm_table_get(t, i, 0), "number")) {
                        mm_buf_puts(&num, k++ ? "|" : "");
                        mm_buf_puts(&num, mm_table_get(t, i, 2));
                }
        mm_buf_puts(&num, ")(?![\\p{L}]))");
        for (size_t i = 0; i < mm_table_rows(t) && nrules < 512; i++) {
                const char *pat = mm_table_get(t, i, patcol);
                const char *cue = mm_table_get(t, i, cuecol);
                if (!strcmp(name, "votes") && !strcmp(mm_table_get(t, i, 0), "number"))
                        continue;
                rule_t *r = &rules[nrules];
                char *full = mm_votes_expand(pat, mm_buf_cstr(&num));
                r->table = name;
                r->row = i + 1;
                r->table_no = ntables;
                if (!full || mm_cues_add(cu, cue, pat, &r->need, err, sizeof(err)) ||
                    !(r->rx = mm_rx_new(full, exact ? 0 : MM_RX_CASELESS, err, sizeof(err)))) {
                        fprintf(stderr, "%s row %zu: %s\n", name, i + 1, full ? err : "no memory");
                        free(full);
                        return -1;
                }
                free(full);
                nrules++;
        }
        mm_buf_release(&num);
        mm_table_destroy(t);
        ntables++;
        return 0;
}

static void check(const char *s, size_t n) {
        uint64_t have[4];
        for (int k = 0; k < ntables; k++)
                have[k] = mm_cues_find(cues[k], s, n);
        texts++;
        for (size_t i = 0; i < nrules; i++) {
                if (!mm_rx_exec(rules[i].rx, match, s, n, 0))
                        continue;
                matched++;
                if (!mm_cues_may(rules[i].need, have[rules[i].table_no])) {
                        fprintf(stderr,
                                "%s.tsv data row %zu matches a text without its cues: %.*s\n",
                                rules[i].table, rules[i].row, (int)(n < 200 ? n : 200), s);
                        bad++;
                }
        }
}

/* Each line, each of its sentences (". "), and the same in capitals. */
static void check_text(char *s, size_t n) {
        for (size_t a = 0; a < n;) {
                char *e = memchr(s + a, '\n', n - a);
                size_t ln = e ? (size_t)(e - (s + a)) : n - a;
                char *l = s + a;
                check(l, ln);
                for (size_t b = 0, c = 0; c <= ln; c++)
                        if (c == ln || (l[c] == '.' && c + 1 < ln && l[c + 1] == ' ')) {
                                if (b || c < ln)
                                        check(l + b, c - b);
                                b = c + 1;
                        }
                a += ln + 1;
        }
        if (!capitals)
                return;
        /* capitals: ASCII and Latin-1 */
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                if (c >= 'a' && c <= 'z')
                        s[i] = (char)(c - 32);
                else if (c == 0xC3 && i + 1 < n && (unsigned char)s[i + 1] >= 0xA0 &&
                         (unsigned char)s[i + 1] <= 0xBE && (unsigned char)s[i + 1] != 0xB7)
                        s[i + 1] = (char)((unsigned char)s[i + 1] - 0x20), i++;
        }
        for (size_t a = 0; a < n;) {
                char *e = memchr(s + a, '\n', n - a);
                size_t ln = e ? (size_t)(e - (s + a)) : n - a;
                check(s + a, ln);
                a += ln + 1;
        }
}

static int visit(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        (void)ftw;
        const char *dot = strrchr(path, '.');
        if (type != FTW_F || !dot || st->st_size > (16 << 20) ||
            (strcmp(dot, ".txt") && strcmp(dot, ".md") && strcmp(dot, ".html") &&
             strcmp(dot, ".json") && strcmp(dot, ".xml") && strcmp(dot, ".tsv")))
                return 0;
        FILE *f = fopen(path, "rb");
        if (!f)
                return 0;
        char *buf = malloc((size_t)st->st_size + 1);
        size_t n = buf ? fread(buf, 1, (size_t)st->st_size, f) : 0;
        fclose(f);
        if (buf && mm_text_utf8_valid(buf, n))
                check_text(buf, n);
        free(buf);
        return 0;
}

int main(int argc, char **argv) {
        if (argc < 2) {
                fprintf(stderr, "usage: test_cues FIXTURE_DIR [SHARED_CORPUS_DIR]\n");
                return 2;
        }
        if (!(match = mm_rx_match_new()) || load("votes", 2, 3, 0) || load("history", 0, 1, 0) ||
            load("outcomes", 1, 2, 0) || load("noise", 0, 2, 1))
                return 1;
        nftw(argv[1], visit, 16, FTW_PHYS);
        long own = matched;
        struct stat sb;
        capitals = 0; /* the real texts as they are: 370 Greve meetings take time */
        if (argc > 2 && stat(argv[2], &sb) == 0)
                nftw(argv[2], visit, 16, FTW_PHYS);
        else
                printf("skipped: ../shared not present (the fixtures only)\n");
        printf("%zu patterns, %ld texts, %ld matches (%ld in the fixtures), %ld without cues\n",
               nrules, texts, matched, own, bad);
        for (size_t i = 0; i < nrules; i++)
                mm_rx_destroy(rules[i].rx);
        mm_rx_match_destroy(match);
        for (int k = 0; k < ntables; k++)
                mm_cues_destroy(cues[k]);
        /* The fixtures must exercise the patterns, or the test shows nothing. */
        return bad || own < 200 ? 1 : 0;
}
