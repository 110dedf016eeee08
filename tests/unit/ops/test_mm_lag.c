/* Unit tests for common/ingest/mm_lag: the Burrow-style window evaluation, driven
 * by the table fixtures in tests/fixtures/lag/NAME.tsv, and the lag from
 * librdkafka statistics (tests/fixtures/ops/stats.json).
 * Usage: test_mm_lag FIXTURE_LAG_DIR STATS_JSON */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm_lag.h"

static const char *lag_dir;
static const char *stats_path;

static char *read_file(const char *path, size_t *len) {
        FILE *f = fopen(path, "rb");
        char *buf = NULL;
        size_t cap = 0, n = 0;

        if (f == NULL)
                return NULL;
        for (;;) {
                size_t r;
                if (cap - n < 4096) {
                        char *nb = realloc(buf, cap + 65536);
                        if (nb == NULL) {
                                free(buf);
                                fclose(f);
                                return NULL;
                        }
                        buf = nb;
                        cap += 65536;
                }
                r = fread(buf + n, 1, cap - n - 1, f);
                n += r;
                if (r == 0)
                        break;
        }
        fclose(f);
        buf[n] = '\0';
        *len = n;
        return buf;
}

/* Runs every case of one fixture file; returns the number of cases and
 * adds mismatches to *failures. */
static int run_fixture_file(const char *path, int *failures, int seen[5]) {
        FILE *f = fopen(path, "r");
        char line[4096];
        int cases = 0, lineno = 0;

        assert_non_null(f);
        while (fgets(line, sizeof(line), f) != NULL) {
                char *name, *expected, *window, *save = NULL;
                mm_lag_sample_t samples[64];
                size_t n = 0;
                char err[256];
                mm_lag_status_t want, got;

                lineno++;
                line[strcspn(line, "\r\n")] = '\0';
                if (line[0] == '#' || line[0] == '\0')
                        continue;
                name = strtok_r(line, "\t", &save);
                expected = strtok_r(NULL, "\t", &save);
                window = strtok_r(NULL, "\t", &save);
                if (name == NULL || expected == NULL || window == NULL) {
                        print_error("%s:%d: expected NAME<TAB>STATUS<TAB>WINDOW\n", path, lineno);
                        (*failures)++;
                        continue;
                }
                if (mm_lag_status_parse(expected, &want) != 0) {
                        print_error("%s:%d: unknown status %s\n", path, lineno, expected);
                        (*failures)++;
                        continue;
                }
                if (mm_lag_window_parse(window, samples, 64, &n, err, sizeof(err)) != 0) {
                        print_error("%s:%d: %s\n", path, lineno, err);
                        (*failures)++;
                        continue;
                }
                got = mm_lag_evaluate(samples, n);
                cases++;
                seen[want] = 1;
                if (got != want) {
                        print_error("%s:%d: %s: expected %s, got %s\n", path, lineno, name,
                                    mm_lag_status_name(want), mm_lag_status_name(got));
                        (*failures)++;
                }
        }
        fclose(f);
        return cases;
}

static void test_fixture_windows(void **state) {
        DIR *d = opendir(lag_dir);
        struct dirent *e;
        int cases = 0, failures = 0, files = 0;
        int seen[5] = {0, 0, 0, 0, 0};
        int i;

        (void)state;
        assert_non_null(d);
        while ((e = readdir(d)) != NULL) {
                size_t l = strlen(e->d_name);
                char path[4096];
                if (l < 5 || strcmp(e->d_name + l - 4, ".tsv") != 0)
                        continue;
                snprintf(path, sizeof(path), "%s/%s", lag_dir, e->d_name);
                cases += run_fixture_file(path, &failures, seen);
                files++;
        }
        closedir(d);
        print_message("%d fixture files, %d cases, %d failures\n", files, cases, failures);
        assert_int_equal(failures, 0);
        assert_true(cases >= 20);
        /* every status must be covered by the fixtures */
        for (i = 0; i < 5; i++)
                assert_true(seen[i]);
}

static void test_sample_lag(void **state) {
        mm_lag_sample_t s;

        (void)state;
        s = (mm_lag_sample_t){10, 25, 0};
        assert_int_equal(mm_lag_sample_lag(&s), 15);
        s = (mm_lag_sample_t){MM_LAG_OFFSET_NONE, 25, 5};
        assert_int_equal(mm_lag_sample_lag(&s), 20);
        s = (mm_lag_sample_t){MM_LAG_OFFSET_NONE, 25, MM_LAG_OFFSET_NONE};
        assert_int_equal(mm_lag_sample_lag(&s), 25);
        s = (mm_lag_sample_t){-1001, 7, 0}; /* RD_KAFKA_OFFSET_INVALID */
        assert_int_equal(mm_lag_sample_lag(&s), 7);
        s = (mm_lag_sample_t){30, 25, 0};
        assert_int_equal(mm_lag_sample_lag(&s), 0);
        s = (mm_lag_sample_t){30, -1, 0};
        assert_int_equal(mm_lag_sample_lag(&s), -1);
        assert_int_equal(mm_lag_evaluate(NULL, 0), MM_LAG_ERR);
}

static void test_status_names(void **state) {
        mm_lag_status_t st;
        int i;

        (void)state;
        for (i = MM_LAG_OK; i <= MM_LAG_ERR; i++) {
                assert_int_equal(mm_lag_status_parse(mm_lag_status_name((mm_lag_status_t)i), &st),
                                 0);
                assert_int_equal(st, i);
        }
        assert_int_equal(mm_lag_status_parse("stall", &st), 0);
        assert_int_equal(st, MM_LAG_STALL);
        assert_int_equal(mm_lag_status_parse("REWIND", &st), -1);
        assert_string_equal(mm_lag_status_name((mm_lag_status_t)42), "ERR");
}

static void test_window_parse_errors(void **state) {
        mm_lag_sample_t s[4];
        size_t n;
        char err[128];

        (void)state;
        assert_int_equal(mm_lag_window_parse("10", s, 4, &n, err, sizeof(err)), -1);
        assert_int_equal(mm_lag_window_parse("a:10", s, 4, &n, err, sizeof(err)), -1);
        assert_int_equal(mm_lag_window_parse("1:2:3:4", s, 4, &n, err, sizeof(err)), -1);
        assert_int_equal(mm_lag_window_parse("-5:10", s, 4, &n, err, sizeof(err)), -1);
        assert_int_equal(mm_lag_window_parse("1:2 1:2 1:2 1:2 1:2", s, 4, &n, err, sizeof(err)),
                         -1);
        assert_int_equal(mm_lag_window_parse(" 1:2\t-:9:3 ", s, 4, &n, err, sizeof(err)), 0);
        assert_int_equal(n, 2);
        assert_int_equal(s[0].committed, 1);
        assert_int_equal(s[0].high, 2);
        assert_true(s[0].low < 0);
        assert_true(s[1].committed < 0);
        assert_int_equal(s[1].high, 9);
        assert_int_equal(s[1].low, 3);
}

static const mm_lag_stats_partition_t *find(const mm_lag_stats_partition_t *p, size_t n,
                                            const char *topic, int32_t partition) {
        size_t i;

        for (i = 0; i < n; i++)
                if (strcmp(p[i].topic, topic) == 0 && p[i].partition == partition)
                        return &p[i];
        return NULL;
}

static void test_stats_fixture(void **state) {
        size_t len = 0, n = 0;
        char *json = read_file(stats_path, &len);
        mm_lag_stats_partition_t *parts = NULL;
        const mm_lag_stats_partition_t *p;
        char err[256];

        (void)state;
        assert_non_null(json);
        assert_int_equal(mm_lag_stats_parse(json, len, &parts, &n, err, sizeof(err)), 0);
        free(json);
        /* assigned: minutes.raw 0, 1, 3, 5. Not: 2 (unassigned), 4 (stopped),
     * -1 (UA), the DLQ topic (not fetched). */
        assert_int_equal(n, 4);
        p = find(parts, n, "minutes.raw", 0);
        assert_non_null(p);
        assert_int_equal(p->hi_offset, 1500);
        assert_int_equal(p->committed_offset, 1200);
        assert_int_equal(p->stored_offset, 1450);
        assert_int_equal(p->consumer_lag, 300);
        assert_int_equal(p->consumer_lag_stored, 50);
        assert_int_equal(p->lag, 50); /* stored position preferred */
        p = find(parts, n, "minutes.raw", 1);
        assert_non_null(p);
        assert_int_equal(p->lag, 0);
        p = find(parts, n, "minutes.raw", 5);
        assert_non_null(p);
        assert_int_equal(p->lag, 400); /* nothing stored: committed lag */
        p = find(parts, n, "minutes.raw", 3);
        assert_non_null(p);
        assert_int_equal(p->lag, 42); /* nothing committed: hi - lo */
        assert_null(find(parts, n, "minutes.raw", 2));
        assert_null(find(parts, n, "minutes.raw", 4));
        assert_null(find(parts, n, "minutes.raw", -1));
        free(parts);
}

static void test_stats_computed_and_errors(void **state) {
        static const char computed[] =
                "{\"topics\":{\"t\":{\"topic\":\"t\",\"partitions\":{\"7\":{\"partition\":7,"
                "\"fetch_state\":\"active\",\"hi_offset\":90,\"committed_offset\":40}}}}}";
        static const char none[] = "{\"name\":\"rdkafka#consumer-1\",\"type\":\"consumer\"}";
        static const char dup[] = "{\"topics\":{},\"topics\":{}}";
        static const char bad_topics[] = "{\"topics\":[]}";
        mm_lag_stats_partition_t *parts = NULL;
        size_t n = 99;
        char err[256];

        (void)state;
        assert_int_equal(
                mm_lag_stats_parse(computed, strlen(computed), &parts, &n, err, sizeof(err)), 0);
        assert_int_equal(n, 1);
        assert_int_equal(parts[0].partition, 7);
        assert_int_equal(parts[0].lag, 50);
        free(parts);
        assert_int_equal(mm_lag_stats_parse(none, strlen(none), &parts, &n, err, sizeof(err)), 0);
        assert_int_equal(n, 0);
        assert_null(parts);
        assert_int_equal(mm_lag_stats_parse(dup, strlen(dup), &parts, &n, err, sizeof(err)), -1);
        assert_null(parts);
        assert_int_equal(
                mm_lag_stats_parse(bad_topics, strlen(bad_topics), &parts, &n, err, sizeof(err)),
                -1);
        assert_int_equal(mm_lag_stats_parse("{\"topics\":", 10, &parts, &n, err, sizeof(err)), -1);
        assert_int_equal(mm_lag_stats_parse(NULL, 0, &parts, &n, err, sizeof(err)), -1);
}

int main(int argc, char **argv) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_fixture_windows),
                cmocka_unit_test(test_sample_lag),
                cmocka_unit_test(test_status_names),
                cmocka_unit_test(test_window_parse_errors),
                cmocka_unit_test(test_stats_fixture),
                cmocka_unit_test(test_stats_computed_and_errors),
        };

        if (argc != 3) {
                fprintf(stderr, "usage: %s FIXTURE_LAG_DIR STATS_JSON\n", argv[0]);
                return 2;
        }
        lag_dir = argv[1];
        stats_path = argv[2];
        return cmocka_run_group_tests(tests, NULL, NULL);
}
