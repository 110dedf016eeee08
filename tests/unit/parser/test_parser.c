/*
 * Unit tests of the parser modules, driven by the fixture tables in
 * tests/fixtures/parser/ (one row a case). Run with the fixture directory
 * as the only argument.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm_classify.h"
#include "mm_date.h"
#include "mm_parser.h"
#include "mm_rx.h"
#include "mm_text.h"

static const char *fixtures;

/* Decodes \n \t \\ and \xHH in place; returns the new length. */
static size_t unescape(char *s) {
        char *w = s;
        for (char *r = s; *r; r++) {
                if (*r == '\\' && r[1]) {
                        r++;
                        if (*r == 'n')
                                *w++ = '\n';
                        else if (*r == 't')
                                *w++ = '\t';
                        else if (*r == 'x' && r[1] && r[2]) {
                                char hex[3] = {r[1], r[2], 0};
                                *w++ = (char)strtol(hex, NULL, 16);
                                r += 2;
                        } else
                                *w++ = *r;
                } else
                        *w++ = *r;
        }
        *w = '\0';
        return (size_t)(w - s);
}

/* Calls fn(cols, ncols) for every data row of fixtures/name. */
typedef void (*row_fn)(char **cols, int ncols, int lineno);
static int each_row(const char *name, row_fn fn) {
        char path[1024], line[65536];
        int lineno = 0, rows = 0;
        snprintf(path, sizeof(path), "%s/%s", fixtures, name);
        FILE *fp = fopen(path, "r");
        if (!fp)
                fail_msg("cannot open %s", path);
        while (fgets(line, sizeof(line), fp)) {
                char *cols[8];
                int n = 0;
                size_t l = strlen(line);
                lineno++;
                if (l && line[l - 1] == '\n')
                        line[--l] = '\0';
                if (line[0] == '#' || !line[0])
                        continue;
                char *p = line;
                while (p && n < 8) {
                        char *tab = strchr(p, '\t');
                        if (tab)
                                *tab = '\0';
                        cols[n++] = p;
                        p = tab ? tab + 1 : NULL;
                }
                fn(cols, n, lineno);
                rows++;
        }
        fclose(fp);
        return rows;
}

/* ---- dates and times ---- */

static void date_row(char **c, int n, int ln) {
        int y, m, d;
        char got[16] = "none";
        assert_true(n >= 2);
        unescape(c[0]);
        if (!mm_date_find(c[0], strlen(c[0]), &y, &m, &d, NULL, NULL))
                snprintf(got, sizeof(got), "%04d-%02d-%02d", y, m, d);
        if (strcmp(got, c[1]))
                fail_msg("dates.tsv:%d \"%s\": want %s got %s", ln, c[0], c[1], got);
}

static void test_dates(void **state) {
        (void)state;
        assert_true(each_row("dates.tsv", date_row) > 10);
}

static void time_row(char **c, int n, int ln) {
        int h, mi;
        char got[16] = "none";
        assert_true(n >= 3);
        unescape(c[0]);
        if (!mm_time_find(c[0], strlen(c[0]), atoi(c[1]), &h, &mi, NULL, NULL))
                snprintf(got, sizeof(got), "%02d:%02d", h, mi);
        if (strcmp(got, c[2]))
                fail_msg("times.tsv:%d \"%s\": want %s got %s", ln, c[0], c[2], got);
}

static void test_times(void **state) {
        (void)state;
        assert_true(each_row("times.tsv", time_row) > 5);
}

/* ---- normalisation ---- */

static mm_rx_t *noise_rx[2];
static mm_rx_match_t *match;

static void norm_row(char **c, int n, int ln) {
        char errstr[256], got[4096] = "";
        size_t len = unescape(c[0]);
        const char *want = n > 1 ? c[1] : "";
        char wbuf[4096];
        snprintf(wbuf, sizeof(wbuf), "%s", want);
        unescape(wbuf);
        static const int drop[2] = {0, 1};
        mm_text_t *t = mm_text_new(c[0], len, noise_rx, drop, 2, match, errstr, sizeof(errstr));
        assert_non_null(t);
        for (size_t i = 0; i < mm_text_nlines(t); i++) {
                const mm_line_t *l = mm_text_line(t, i);
                if (l->blank)
                        continue;
                if (got[0])
                        strncat(got, "|", sizeof(got) - strlen(got) - 1);
                strncat(got, l->s, sizeof(got) - strlen(got) - 1);
        }
        mm_text_destroy(t);
        if (strcmp(got, wbuf))
                fail_msg("normalise.tsv:%d: want \"%s\" got \"%s\"", ln, wbuf, got);
}

static void test_normalise(void **state) {
        char errstr[256];
        (void)state;
        /* The same patterns as common/data/noise.tsv's first and page rows. */
        noise_rx[0] =
                mm_rx_new("Klik\\s+her\\s+for\\s+at\\s+folde\\s+ud.*$", 0, errstr, sizeof(errstr));
        noise_rx[1] =
                mm_rx_new("\\b[Ss]ide\\s+\\d+\\s+(af|/)\\s+\\d+\\s*$", 0, errstr, sizeof(errstr));
        assert_non_null(noise_rx[0]);
        assert_non_null(noise_rx[1]);
        match = mm_rx_match_new();
        assert_true(each_row("normalise.tsv", norm_row) > 8);
        mm_rx_destroy(noise_rx[0]);
        mm_rx_destroy(noise_rx[1]);
        mm_rx_match_destroy(match);
}

static void test_cp1252(void **state) {
        char errstr[256];
        (void)state;
        /* "Mødested" in Windows-1252 */
        const char in[] = "M\xf8"
                          "dested \x96 \x80";
        mm_text_t *t = mm_text_new(in, sizeof(in) - 1, NULL, NULL, 0, NULL, errstr, sizeof(errstr));
        assert_non_null(t);
        assert_true(mm_text_was_cp1252(t));
        assert_string_equal(mm_text_line(t, 0)->s, "Mødested – €");
        mm_text_destroy(t);
        assert_true(mm_text_utf8_valid("Århus", strlen("Århus")));
        assert_false(mm_text_utf8_valid("\xc3(", 2));
}

/* ---- classification ---- */

static mm_classify_t *cls;

static void outcome_row(char **c, int n, int ln) {
        const char *text = c[0], *want = n > 1 ? c[1] : "";
        const char *got = mm_classify_outcome(cls, match, text, strlen(text));
        if (strcmp(got, want))
                fail_msg("outcomes.tsv:%d \"%s\": want %s got %s", ln, text, want, got);
}

static void amount_row(char **c, int n, int ln) {
        json_t *arr = json_array();
        char got[512] = "";
        mm_classify_amounts(cls, match, c[0], strlen(c[0]), arr);
        for (size_t i = 0; i < json_array_size(arr); i++) {
                char v[32];
                json_t *a = json_array_get(arr, i);
                snprintf(v, sizeof(v), "%s%lld", i ? "," : "",
                         (long long)json_integer_value(json_object_get(a, "value")));
                strncat(got, v, sizeof(got) - strlen(got) - 1);
                /* the sentence holds the amount's own text */
                assert_non_null(strstr(json_string_value(json_object_get(a, "sentence")),
                                       json_string_value(json_object_get(a, "text"))));
        }
        json_decref(arr);
        if (strcmp(got, n > 1 ? c[1] : ""))
                fail_msg("amounts.tsv:%d \"%s\": want %s got %s", ln, c[0], n > 1 ? c[1] : "", got);
}

static void law_row(char **c, int n, int ln) {
        json_t *arr = json_array();
        char got[512] = "";
        mm_classify_laws(cls, match, c[0], strlen(c[0]), arr);
        for (size_t i = 0; i < json_array_size(arr); i++) {
                if (i)
                        strncat(got, "|", sizeof(got) - strlen(got) - 1);
                strncat(got, json_string_value(json_object_get(json_array_get(arr, i), "text")),
                        sizeof(got) - strlen(got) - 1);
        }
        json_decref(arr);
        if (strcmp(got, n > 1 ? c[1] : ""))
                fail_msg("laws.tsv:%d \"%s\": want %s got %s", ln, c[0], n > 1 ? c[1] : "", got);
}

static void test_classify(void **state) {
        char errstr[256];
        (void)state;
        cls = mm_classify_new(errstr, sizeof(errstr));
        assert_non_null(cls);
        match = mm_rx_match_new();
        assert_true(each_row("outcomes.tsv", outcome_row) > 25);
        assert_true(each_row("amounts.tsv", amount_row) > 5);
        assert_true(each_row("laws.tsv", law_row) > 5);

        json_t *k = mm_classify_kle(cls, "27.48.04-S49-3-16");
        assert_non_null(k);
        assert_string_equal(json_string_value(json_object_get(k, "main_group")), "27");
        assert_string_equal(json_string_value(json_object_get(k, "main_group_name")),
                            "Social service");
        json_decref(k);
        assert_null(mm_classify_kle(cls, "23-012084"));
        assert_string_equal(mm_classify_kommune(cls, "Københavns", strlen("Københavns")),
                            "Københavns Kommune");
        assert_string_equal(mm_classify_kommune(cls, "randers.dk", 10), "Randers Kommune");
        assert_string_equal(mm_classify_kommune(cls, "Århus", strlen("Århus")), "Aarhus Kommune");
        assert_null(mm_classify_kommune(cls, "Atlantis", 8));
        const char *body = "Hedensted Kommune og Holstebro Kommune; se hedensted.dk";
        assert_string_equal(mm_classify_infer_kommune(cls, body, strlen(body)),
                            "Hedensted Kommune");
        assert_true(mm_classify_outcome_rank("rejected") > mm_classify_outcome_rank("approved"));
        mm_classify_destroy(cls);
        mm_rx_match_destroy(match);
}

/* ---- item boundaries ---- */

static mm_parser_t *parser;

static void item_row(char **c, int n, int ln) {
        mm_parse_error_t err;
        char got[512] = "";
        size_t len = unescape(c[0]);
        json_t *d = mm_parser_parse(parser, c[0], len, &err);
        if (!d)
                fail_msg("items.tsv:%d: rejected: %s %s", ln, err.code, err.reason);
        json_t *items = json_object_get(d, "items");
        for (size_t i = 0; i < json_array_size(items); i++) {
                char v[16];
                snprintf(v, sizeof(v), "%s%lld", i ? "," : "",
                         (long long)json_integer_value(
                                 json_object_get(json_array_get(items, i), "number")));
                strncat(got, v, sizeof(got) - strlen(got) - 1);
        }
        json_decref(d);
        if (strcmp(got, n > 1 ? c[1] : ""))
                fail_msg("items.tsv:%d: want %s got %s", ln, n > 1 ? c[1] : "", got);
}

static void test_items(void **state) {
        (void)state;
        assert_true(each_row("items.tsv", item_row) > 5);
}

/* Every key of `want` must be in `got` with a matching value; arrays of
 * strings match as sets, other arrays element by element. */
static int subset(json_t *want, json_t *got, char *path, size_t cap) {
        if (json_is_object(want)) {
                const char *k;
                json_t *v;
                if (!json_is_object(got))
                        return 0;
                json_object_foreach(want, k, v) {
                        size_t l = strlen(path);
                        snprintf(path + l, cap - l, ".%s", k);
                        if (!subset(v, json_object_get(got, k), path, cap))
                                return 0;
                        path[l] = '\0';
                }
                return 1;
        }
        if (json_is_array(want)) {
                if (!json_is_array(got) || json_array_size(want) != json_array_size(got))
                        return 0;
                if (json_array_size(want) && json_is_string(json_array_get(want, 0))) {
                        for (size_t i = 0; i < json_array_size(want); i++) {
                                int found = 0;
                                for (size_t j = 0; j < json_array_size(got); j++)
                                        found |= json_equal(json_array_get(want, i),
                                                            json_array_get(got, j));
                                if (!found)
                                        return 0;
                        }
                        return 1;
                }
                for (size_t i = 0; i < json_array_size(want); i++) {
                        size_t l = strlen(path);
                        snprintf(path + l, cap - l, "[%zu]", i);
                        if (!subset(json_array_get(want, i), json_array_get(got, i), path, cap))
                                return 0;
                        path[l] = '\0';
                }
                return 1;
        }
        return got && json_equal(want, got);
}

static void test_docs(void **state) {
        char dir[1024];
        int n = 0;
        (void)state;
        snprintf(dir, sizeof(dir), "%s/docs", fixtures);
        DIR *d = opendir(dir);
        assert_non_null(d);
        for (struct dirent *e; (e = readdir(d));) {
                size_t l = strlen(e->d_name);
                char path[2048], epath[2048], where[512] = "";
                json_error_t jerr;
                if (l < 5 || strcmp(e->d_name + l - 4, ".txt"))
                        continue;
                snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
                snprintf(epath, sizeof(epath), "%s/%.*s.expect.json", dir, (int)(l - 4), e->d_name);
                FILE *fp = fopen(path, "rb");
                assert_non_null(fp);
                char *buf = malloc(1 << 20);
                size_t len = fread(buf, 1, 1 << 20, fp);
                fclose(fp);
                mm_parse_error_t err;
                json_t *got = mm_parser_parse(parser, buf, len, &err);
                free(buf);
                if (!got)
                        fail_msg("%s: rejected: %s", e->d_name, err.code);
                json_t *want = json_load_file(epath, JSON_REJECT_DUPLICATES, &jerr);
                if (!want)
                        fail_msg("%s: %s", epath, jerr.text);
                if (!subset(want, got, where, sizeof(where))) {
                        char *s = json_dumps(got, JSON_INDENT(1));
                        fprintf(stderr, "%s\n", s);
                        free(s);
                        fail_msg("%s: mismatch at %s", e->d_name, where);
                }
                json_decref(want);
                json_decref(got);
                n++;
        }
        closedir(d);
        assert_true(n >= 4);
}

static void test_reject(void **state) {
        static const struct {
                const char *in;
                size_t len;
                const char *code;
        } cases[] = {
                {"", 0, "empty"},
                {"   \n\t\n  ", 8, "empty"},
                {"abc\0def", 7, "binary"},
                {"\x01\x02\x03\x04\x05\x06 some text", 16, "binary"},
                {"It was the best of times, it was the worst of times, it was the age "
                 "of wisdom, it was the age of foolishness.\n",
                 (size_t)-1, "not_minutes"},
                /* A header, but no item: never an empty meeting. */
                {"Økonomiudvalget\nReferat\nMødedato: 6. september 2021\nMødested: Rådhuset\n\n"
                 "Mødet blev aflyst.\n",
                 (size_t)-1, "no_items"},
                /* (A table of contents alone lists the items: issue 20,
                 * see items.tsv.) */
        };
        mm_parse_error_t err;
        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                size_t len = cases[i].len == (size_t)-1 ? strlen(cases[i].in) : cases[i].len;
                json_t *d = mm_parser_parse(parser, cases[i].in, len, &err);
                if (d) {
                        json_decref(d);
                        fail_msg("case %zu: accepted, want %s", i, cases[i].code);
                }
                assert_string_equal(err.code, cases[i].code);
                assert_true(strlen(err.reason) > 0);
        }
        /* The size limit is the parser's own setting. */
        char errstr[256];
        mm_parser_t *small = mm_parser_new(10, errstr, sizeof(errstr));
        assert_non_null(small);
        assert_null(mm_parser_parse(small, "Mødedato: 6. september 2021", 28, &err));
        assert_string_equal(err.code, "too_large");
        mm_parser_destroy(small);
}

/* An adversarial input of about `size` bytes in one of the shapes of issue
 * 12 (see parse_bench --adversarial). */
static char *linear_shape(int shape, size_t size, size_t *len) {
        char *b = malloc(size + 256);
        size_t n = (size_t)sprintf(b, "Byrådet\nMødedato: 1. februar 2024\nDeltagere:\n");
        for (unsigned k = 0; n < size; k++) {
                char *o = b + n;
                switch (shape) {
                case 0: /* the shape that was quadratic: one number repeated */
                        n += (size_t)sprintf(o, "1. Sag\nBeslutning\n");
                        break;
                case 1: /* running numbers, each with a decision */
                        n += (size_t)sprintf(o, "%u. Sag\nBeslutning\nGodkendt.\n", k % 9999 + 1);
                        break;
                case 2: /* many short lines */
                        n += (size_t)sprintf(o, "a\n");
                        break;
                case 3: /* deep lists */
                        n += (size_t)sprintf(o, "%*s%u.%u. Punkt\n%*s- under %u\n", (int)(k % 9),
                                             "", k % 7 + 1, k % 5 + 1, (int)(k % 9) + 2, "", k);
                        break;
                case 4: /* attachment lists that repeat each other */
                        n += (size_t)sprintf(o,
                                             "%u. Sag\nBeslutning\nGodkendt.\nBilag\nNotat %u\n"
                                             "Kort\n\n",
                                             k % 9999 + 1, k % 50);
                        break;
                default: /* names, one a line, and absences */
                        n += (size_t)sprintf(
                                o, "Anne Hansen %u\nFraværende: Per Olsen og Jens %u\n", k, k);
                        break;
                }
        }
        b[n] = '\0';
        *len = n;
        return b;
}

/* Parsing cost grows linearly (issue 12): the parser's work count for an
 * input four times larger is about four times larger, never sixteen. A
 * count of steps, not a clock: the test cannot flake on a loaded machine. */
static void test_linear(void **state) {
        (void)state;
        for (int shape = 0; shape < 6; shape++) {
                unsigned long long work[2];
                for (int k = 0; k < 2; k++) {
                        size_t len;
                        char *buf = linear_shape(shape, (size_t)(256u << (2 * k)) * 1024u, &len);
                        mm_parse_error_t err;
                        mm_parse_stats_t st;
                        json_t *d = mm_parser_parse_stats(parser, buf, len, &err, &st);
                        json_decref(d);
                        free(buf);
                        work[k] = st.work;
                        assert_true(st.lines > 1000);
                }
                double ratio = (double)work[1] / (double)work[0];
                print_message("shape %d: work %llu -> %llu (x%.2f)\n", shape, work[0], work[1],
                              ratio);
                if (ratio > 5.0 || ratio < 3.0)
                        fail_msg("shape %d: work %llu -> %llu for 4x the input (ratio %.2f)", shape,
                                 work[0], work[1], ratio);
        }
}

int main(int argc, char **argv) {
        char errstr[256];
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_dates),     cmocka_unit_test(test_times),
                cmocka_unit_test(test_normalise), cmocka_unit_test(test_cp1252),
                cmocka_unit_test(test_classify),  cmocka_unit_test(test_items),
                cmocka_unit_test(test_docs),      cmocka_unit_test(test_reject),
                cmocka_unit_test(test_linear),
        };
        if (argc != 2) {
                fprintf(stderr, "usage: test_parser FIXTURE_DIR\n");
                return 2;
        }
        fixtures = argv[1];
        parser = mm_parser_new(0, errstr, sizeof(errstr));
        if (!parser) {
                fprintf(stderr, "%s\n", errstr);
                return 1;
        }
        int rc = cmocka_run_group_tests(tests, NULL, NULL);
        mm_parser_destroy(parser);
        return rc;
}
