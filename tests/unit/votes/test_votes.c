/*
 * Unit tests of mm_votes (issue 21), driven by the table of invented
 * decisions in tests/fixtures/votes/sentences.tsv: each row is a decision
 * text and the vote events and reservations it must give, in a compact
 * form (see the table's header). Run with the fixture directory as the
 * only argument.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mm_buf.h"
#include "mm_cues.h"
#include "mm_votes.h"

static const char *fixtures;

/* Appends the strings of array a, separated by ",". */
static void put_list(mm_buf_t *b, json_t *a) {
        for (size_t i = 0; i < json_array_size(a); i++) {
                if (i)
                        mm_buf_putc(b, ',');
                mm_buf_puts(b, json_string_value(json_array_get(a, i)));
        }
}

static void put_group(mm_buf_t *b, const char *key, json_t *o) {
        json_t *c = json_object_get(o, "count"), *ps = json_object_get(o, "parties"),
               *ms = json_object_get(o, "members");
        if (json_is_null(c) && !json_array_size(ps) && !json_array_size(ms))
                return;
        if (b->len && b->p[b->len - 1] != ' ')
                mm_buf_putc(b, ' ');
        mm_buf_puts(b, key);
        if (json_is_integer(c))
                mm_buf_printf(b, "=%lld", (long long)json_integer_value(c));
        if (json_array_size(ps)) {
                mm_buf_putc(b, ':');
                put_list(b, ps);
        }
        if (json_array_size(ms)) {
                mm_buf_puts(b, ":+");
                put_list(b, ms);
        }
}

/* The compact form of votes and reservations. */
static char *render(json_t *votes, json_t *res) {
        mm_buf_t b = MM_BUF_INIT;
        char *out = NULL;
        static const char *const sides[] = {"for", "against", "abstain"};
        for (size_t i = 0; i < json_array_size(votes); i++) {
                if (i)
                        mm_buf_puts(&b, " ; ");
                for (int s = 0; s < 3; s++)
                        put_group(&b, sides[s],
                                  json_object_get(json_array_get(votes, i), sides[s]));
        }
        for (size_t i = 0; i < json_array_size(res); i++) {
                json_t *r = json_array_get(res, i);
                json_object_set_new(r, "count", json_null());
                put_group(&b, "R", r);
        }
        mm_buf_putc(&b, '\0');
        assert_int_equal(mm_buf_take(&b, &out, NULL), 0);
        return out;
}

/* "\n" in the table is a line break. */
static char *unescape(const char *s) {
        char *out = malloc(strlen(s) + 1), *o = out;
        assert_non_null(out);
        for (; *s; s++) {
                if (s[0] == '\\' && s[1] == 'n') {
                        *o++ = '\n';
                        s++;
                } else {
                        *o++ = *s;
                }
        }
        *o = '\0';
        return out;
}

static void test_sentences(void **state) {
        const mm_votes_t *v = *state;
        char path[4096], line[8192];
        int rows = 0, bad = 0;
        snprintf(path, sizeof(path), "%s/sentences.tsv", fixtures);
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        while (fgets(line, sizeof(line), f)) {
                line[strcspn(line, "\r\n")] = '\0';
                char *tab = strchr(line, '\t');
                if (line[0] == '#' || !tab)
                        continue;
                *tab = '\0';
                char *text = unescape(line);
                json_t *votes = NULL, *res = NULL;
                assert_int_equal(mm_votes_extract(v, text, strlen(text), "approved", &votes, &res),
                                 0);
                char *got = render(votes, res);
                if (strcmp(got, tab + 1)) {
                        fprintf(stderr, "votes: %s\n  want: %s\n  got:  %s\n", line, tab + 1, got);
                        bad++;
                }
                rows++;
                free(got);
                free(text);
                json_decref(votes);
                json_decref(res);
        }
        fclose(f);
        assert_true(rows >= 40);
        assert_int_equal(bad, 0);
}

/* The JSON of every event has the model's keys, and a lone event takes
 * its result from the item's outcome when its own sentence says none. */
static void test_model(void **state) {
        const mm_votes_t *v = *state;
        const char *text = "Indstillingen blev ikke godkendt.\nFor stemte: A og V.";
        json_t *votes = NULL, *res = NULL;
        assert_int_equal(mm_votes_extract(v, text, strlen(text), "rejected", &votes, &res), 0);
        assert_int_equal(json_array_size(votes), 1);
        json_t *e = json_array_get(votes, 0);
        assert_string_equal(json_string_value(json_object_get(e, "result")), "rejected");
        assert_true(json_is_null(json_object_get(e, "motion")));
        assert_true(json_is_null(json_object_get(json_object_get(e, "against"), "count")));
        assert_int_equal(json_array_size(res), 0);
        json_decref(votes);
        json_decref(res);
        /* No text at all */
        assert_int_equal(mm_votes_extract(v, NULL, 0, NULL, &votes, &res), 0);
        assert_int_equal(json_array_size(votes), 0);
        json_decref(votes);
        json_decref(res);
}

/* mm_votes_item on an item object, through the shared instance. */
static void test_item(void **state) {
        (void)state;
        json_t *it = json_object();
        const char *d = "Godkendt med 9 stemmer mod 2. Ø tog forbehold.";
        mm_votes_item(it, d, strlen(d), "approved");
        assert_int_equal(json_array_size(json_object_get(it, "votes")), 1);
        assert_int_equal(json_array_size(json_object_get(it, "reservations")), 1);
        mm_votes_item(it, NULL, 0, "none");
        assert_int_equal(json_array_size(json_object_get(it, "votes")), 0);
        json_decref(it);
}

/* A long decision of vote lines keeps at most 32 events. */
static void test_bounded(void **state) {
        const mm_votes_t *v = *state;
        mm_buf_t b = MM_BUF_INIT;
        for (int i = 0; i < 500; i++)
                mm_buf_printf(&b, "For stemte: A.\nImod stemte: (V), %d. Hansen (C).\n", i);
        json_t *votes = NULL, *res = NULL;
        assert_int_equal(mm_votes_extract(v, b.p, b.len, NULL, &votes, &res), 0);
        assert_int_equal(json_array_size(votes), 32);
        json_decref(votes);
        json_decref(res);
        mm_buf_release(&b);
}

/* One line of 100,000 vote sentences without a full stop, and a decision
 * of 2 MB: read up to the limits (a clause of 2 KiB, 64 KiB of text), so
 * the work stays linear. */
static void test_long_line(void **state) {
        const mm_votes_t *v = *state;
        mm_buf_t b = MM_BUF_INIT;
        for (int i = 0; i < 100000; i++)
                mm_buf_puts(&b, "A stemte imod, V stemte for, ");
        json_t *votes = NULL, *res = NULL;
        assert_int_equal(mm_votes_extract(v, b.p, b.len, NULL, &votes, &res), 0);
        assert_int_equal(json_array_size(votes), 0);
        json_decref(votes);
        json_decref(res);
        mm_buf_reset(&b);
        for (int i = 0; i < 100000; i++)
                mm_buf_puts(&b, "Med 9 stemmer mod 2 blev det godkendt. A stemte imod.\n");
        assert_int_equal(mm_votes_extract(v, b.p, b.len, NULL, &votes, &res), 0);
        assert_int_equal(json_array_size(votes), 32);
        json_decref(votes);
        json_decref(res);
        mm_buf_release(&b);
}

/* s with the variant k applied: 0 as it is, 1 in capitals (ASCII and
 * Latin-1), 2-4 with every s, k or å written as the sign PCRE2 also takes
 * for it (U+017F, U+212A, U+212B). The caller frees it. */
static char *variant(const char *s, int k) {
        static const char *const from[] = {"s", "k", "\xc3\xa5"};
        static const char *const to[] = {"\xc5\xbf", "\xe2\x84\xaa", "\xe2\x84\xab"};
        mm_buf_t b = MM_BUF_INIT;
        char *out = NULL;
        for (const unsigned char *u = (const unsigned char *)s; *u; u++) {
                if (k == 1 && *u >= 'a' && *u <= 'z') {
                        mm_buf_putc(&b, (char)(*u - 32));
                } else if (k == 1 && *u == 0xC3 && u[1] >= 0xA0 && u[1] <= 0xBE && u[1] != 0xB7) {
                        mm_buf_putc(&b, (char)*u);
                        mm_buf_putc(&b, (char)(*++u - 0x20));
                } else if (k >= 2 && !strncmp((const char *)u, from[k - 2], strlen(from[k - 2]))) {
                        mm_buf_puts(&b, to[k - 2]);
                        u += strlen(from[k - 2]) - 1;
                } else {
                        mm_buf_putc(&b, (char)*u);
                }
        }
        assert_int_equal(mm_buf_take(&b, &out, NULL), 0);
        mm_buf_release(&b);
        return out;
}

/* The votes and reservations of text as one JSON string. */
static char *dump(const mm_votes_t *v, const char *text) {
        json_t *votes = NULL, *res = NULL;
        assert_int_equal(mm_votes_extract(v, text, strlen(text), "approved", &votes, &res), 0);
        json_t *both = json_pack("[oo]", votes, res);
        char *out = json_dumps(both, JSON_COMPACT);
        json_decref(both);
        assert_non_null(out);
        return out;
}

/* The cue words' pre-filter (mm_cues, the cues columns of votes.tsv and
 * history.tsv) changes nothing: every decision of sentences.tsv, in
 * capitals and with the signs PCRE2 takes for s, k and å, gives the same
 * votes as a run of every rule on every clause. */
static void test_prefilter(void **state) {
        const mm_votes_t *v = *state;
        char err[256], path[4096], line[8192];
        mm_votes_t *all = mm_votes_new(err, sizeof(err));
        assert_non_null(all);
        mm_votes_set_prefilter(all, 0);
        snprintf(path, sizeof(path), "%s/sentences.tsv", fixtures);
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        int rows = 0, bad = 0, voted = 0;
        while (fgets(line, sizeof(line), f)) {
                line[strcspn(line, "\r\n")] = '\0';
                char *tab = strchr(line, '\t');
                if (line[0] == '#' || !tab)
                        continue;
                *tab = '\0';
                char *text = unescape(line);
                for (int k = 0; k < 5; k++) {
                        char *t = variant(text, k), *a = dump(v, t), *b = dump(all, t);
                        if (strcmp(a, b)) {
                                fprintf(stderr, "pre-filter: %s\n  with:    %s\n  without: %s\n", t,
                                        a, b);
                                bad++;
                        }
                        voted += strcmp(a, "[[],[]]") != 0;
                        rows++;
                        free(t);
                        free(a);
                        free(b);
                }
                free(text);
        }
        fclose(f);
        mm_votes_destroy(all);
        assert_true(rows >= 200);
        assert_true(voted >= rows / 2);
        assert_int_equal(bad, 0);
}

/* mm_cues on its own: caseless words, the signs, and a word that its
 * pattern does not hold. */
static void test_cues(void **state) {
        (void)state;
        char err[256];
        uint64_t stem = 0, raad = 0, none = 1, bad = 0;
        mm_cues_t *c = mm_cues_new();
        assert_non_null(c);
        assert_int_equal(mm_cues_add(c, "stem", "\\bstemte\\b", &stem, err, sizeof(err)), 0);
        assert_int_equal(
                mm_cues_add(c, "rådet,udvalg", "(Byrådet|udvalg)", &raad, err, sizeof(err)), 0);
        assert_int_equal(mm_cues_add(c, "*", "x", &none, err, sizeof(err)), 0);
        assert_int_equal(none, 0);
        assert_int_equal(mm_cues_add(c, "stemmr", "\\bstemmer\\b", &bad, err, sizeof(err)), -1);
        assert_int_equal(mm_cues_add(c, "Stem", "stem", &bad, err, sizeof(err)), -1);
        assert_true(mm_cues_may(stem, mm_cues_find(c, "A STEMTE imod", 13)));
        assert_false(mm_cues_may(stem, mm_cues_find(c, "Godkendt.", 9)));
        assert_true(mm_cues_may(raad, mm_cues_find(c,
                                                   "BYR\xc3\x85"
                                                   "DET",
                                                   8)));
        assert_false(mm_cues_may(raad, mm_cues_find(c,
                                                    "BYR\xc3\x86"
                                                    "DET",
                                                    8)));
        assert_true(mm_cues_may(stem, mm_cues_find(c, "\xc5\xbftemte", 7)));
        assert_true(mm_cues_may(stem, mm_cues_find(NULL, "", 0)));
        assert_true(mm_cues_may(0, 0));
        mm_cues_destroy(c);
}

static int setup(void **state) {
        char err[256];
        mm_votes_t *v = mm_votes_new(err, sizeof(err));
        if (!v)
                fprintf(stderr, "mm_votes_new: %s\n", err);
        *state = v;
        return v ? 0 : -1;
}

static int teardown(void **state) {
        mm_votes_destroy(*state);
        return 0;
}

int main(int argc, char **argv) {
        if (argc < 2) {
                fprintf(stderr, "usage: test_votes FIXTURE_DIR\n");
                return 2;
        }
        fixtures = argv[1];
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sentences), cmocka_unit_test(test_model),
                cmocka_unit_test(test_item),      cmocka_unit_test(test_bounded),
                cmocka_unit_test(test_long_line), cmocka_unit_test(test_prefilter),
                cmocka_unit_test(test_cues),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
