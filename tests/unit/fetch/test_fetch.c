/*
 * Unit tests of minutes-source's modules without services:
 * mm_firstagenda_listing on the table tests/fixtures/fetch/listings.tsv
 * (and the real excerpt of ../shared when present), times, mm_http's
 * backoff and Retry-After, LIST options of mm_config, mm_poll_metrics.
 *
 *   test_fetch FIXTURE_DIR SHARED_DIR
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mm_config.h"
#include "mm_firstagenda_listing.h"
#include "mm_http.h"
#include "mm_poll_metrics.h"
#include "mm_poll_state.h"

static const char *fixtures, *shared;

static char *slurp(const char *path, size_t *len) {
        FILE *fp = fopen(path, "rb");
        if (!fp)
                return NULL;
        fseek(fp, 0, SEEK_END);
        long n = ftell(fp);
        fseek(fp, 0, SEEK_SET);
        char *buf = malloc((size_t)n + 1);
        assert_non_null(buf);
        *len = fread(buf, 1, (size_t)n, fp);
        buf[*len] = '\0';
        fclose(fp);
        return buf;
}

/* One row of listings.tsv. */
static void check_listing(const char *file, const char *want, const char *detail) {
        char path[1024], err[512] = "";
        size_t len;
        snprintf(path, sizeof(path), "%s/listings/%s", fixtures, file);
        char *buf = slurp(path, &len);
        assert_non_null(buf);
        mm_firstagenda_listing_t *l = mm_firstagenda_listing_parse(buf, len, err, sizeof(err));
        if (!strcmp(want, "error")) {
                if (l)
                        fail_msg("%s: parsed, want an error with \"%s\"", file, detail);
                if (!strstr(err, detail))
                        fail_msg("%s: error \"%s\", want \"%s\"", file, err, detail);
        } else {
                if (!l)
                        fail_msg("%s: %s", file, err);
                assert_int_equal(mm_firstagenda_listing_count(l), (size_t)atoi(want));
                assert_string_equal(mm_firstagenda_listing_entry(l, 0)->id, detail);
        }
        mm_firstagenda_listing_destroy(l);
        free(buf);
}

static void test_listing_table(void **state) {
        (void)state;
        char path[1024], line[1024];
        snprintf(path, sizeof(path), "%s/listings.tsv", fixtures);
        FILE *fp = fopen(path, "r");
        assert_non_null(fp);
        int rows = 0;
        while (fgets(line, sizeof(line), fp)) {
                line[strcspn(line, "\n")] = '\0';
                if (!line[0] || line[0] == '#')
                        continue;
                char *a = strtok(line, "\t"), *b = strtok(NULL, "\t"), *c = strtok(NULL, "\t");
                assert_non_null(c);
                check_listing(a, b, c);
                rows++;
        }
        fclose(fp);
        assert_true(rows >= 10);
}

static void test_listing_fields(void **state) {
        (void)state;
        char path[1024], err[256];
        size_t len;
        snprintf(path, sizeof(path), "%s/listings/ok_three_entries.json", fixtures);
        char *buf = slurp(path, &len);
        mm_firstagenda_listing_t *l = mm_firstagenda_listing_parse(buf, len, err, sizeof(err));
        assert_non_null(l);
        /* oldest release first: Dagsorden, Tillægsdagsorden, Referat */
        assert_string_equal(mm_firstagenda_listing_entry(l, 0)->navn, "Dagsorden");
        assert_string_equal(mm_firstagenda_listing_entry(l, 1)->navn, "Tillægsdagsorden");
        const mm_firstagenda_entry_t *e = mm_firstagenda_listing_entry(l, 2);
        assert_string_equal(e->navn, "Referat");
        assert_int_equal(e->afsluttet, 1);
        assert_string_equal(e->committee_id, "c0000000-0000-4000-8000-000000000001");
        assert_string_equal(e->begin_utc, "2026-03-02T13:00:00Z");
        assert_string_equal(e->released, "2026-03-03T11:42:18.5745704+01:00");
        assert_null(mm_firstagenda_listing_entry(l, 3));
        mm_firstagenda_listing_destroy(l);
        free(buf);
}

/* The real excerpt of Hvidovre's listing (../shared), when present. */
static void test_listing_real_excerpt(void **state) {
        (void)state;
        char path[1024], err[256];
        size_t len;
        snprintf(path, sizeof(path), "%s/corpus/firstagenda-api/udvalgsliste-hvidovre-excerpt.json",
                 shared);
        char *buf = slurp(path, &len);
        if (!buf) {
                printf("skipped: ../shared not present\n");
                return;
        }
        mm_firstagenda_listing_t *l = mm_firstagenda_listing_parse(buf, len, err, sizeof(err));
        if (!l)
                fail_msg("real excerpt: %s", err);
        assert_int_equal(mm_firstagenda_listing_count(l), 16);
        /* the agenda of a meeting comes before its minutes */
        long ag = -1, ref = -1;
        for (size_t i = 0; i < mm_firstagenda_listing_count(l); i++) {
                const char *id = mm_firstagenda_listing_entry(l, i)->id;
                if (!strncmp(id, "0332f3c0", 8))
                        ag = (long)i;
                if (!strncmp(id, "3e80684a", 8))
                        ref = (long)i;
        }
        assert_true(ag >= 0 && ref > ag);
        mm_firstagenda_listing_destroy(l);
        free(buf);
}

static void test_times(void **state) {
        (void)state;
        double t;
        assert_int_equal(mm_firstagenda_parse_time("2026-03-02T14:00:00+01:00", &t), 0);
        assert_true(t == 1772456400.0);
        assert_int_equal(mm_firstagenda_parse_time("2026-03-02T13:00:00Z", &t), 0);
        assert_true(t == 1772456400.0);
        assert_int_equal(mm_firstagenda_parse_time("2026-03-02T13:00:00.5", &t), 0);
        assert_true(t == 1772456400.5);
        assert_int_equal(mm_firstagenda_parse_time("2026-03-02T15:00:00.2564329+0200", &t), 0);
        assert_true(t > 1772456400.25 && t < 1772456400.26);
        assert_int_equal(mm_firstagenda_parse_time("2026-13-02T13:00:00Z", &t), -1);
        assert_int_equal(mm_firstagenda_parse_time("2026-03-02", &t), -1);
        assert_int_equal(mm_firstagenda_parse_time("i morgen", &t), -1);
        assert_int_equal(mm_firstagenda_parse_time("2026-03-02T13:00:00+1", &t), -1);
        assert_int_equal(mm_firstagenda_parse_time(NULL, &t), -1);
}

static void test_backoff(void **state) {
        (void)state;
        unsigned seed = 7;
        for (int i = 0; i < 200; i++) {
                long d0 = mm_http_backoff_ms(0, 1000, 60000, -1, &seed);
                long d3 = mm_http_backoff_ms(3, 1000, 60000, -1, &seed);
                long d20 = mm_http_backoff_ms(20, 1000, 60000, -1, &seed);
                assert_true(d0 >= 500 && d0 <= 1000);
                assert_true(d3 >= 4000 && d3 <= 8000);
                assert_true(d20 >= 30000 && d20 <= 60000);
                /* Retry-After is a floor */
                assert_true(mm_http_backoff_ms(0, 1000, 60000, 5000, &seed) == 5000);
        }
}

static void test_retry_after(void **state) {
        (void)state;
        long long now = 1790000000LL; /* 2026-09-21 */
        assert_int_equal(mm_http_parse_retry_after("120", now), 120000);
        assert_int_equal(mm_http_parse_retry_after(" 0", now), 0);
        assert_int_equal(mm_http_parse_retry_after(NULL, now), -1);
        assert_int_equal(mm_http_parse_retry_after("soon", now), -1);
        assert_int_equal(mm_http_parse_retry_after("9999999", now), 86400L * 1000);
        /* an HTTP date 90 s after now, and one in the past */
        assert_int_equal(mm_http_parse_retry_after("Mon, 21 Sep 2026 14:14:50 GMT", now), 90000);
        assert_int_equal(mm_http_parse_retry_after("Mon, 21 Sep 2026 14:00:00 GMT", now), 0);
}

static const mm_config_option_t table[] = {
        {"kommune", 'k', MM_CONFIG_LIST, NULL, "MMT_KOMMUNER", 0, "kommuner"},
        {"once", 0, MM_CONFIG_BOOL, "false", NULL, 0, "once"},
};

static void test_list_option(void **state) {
        (void)state;
        char err[256];
        size_t n;
        char *argv[] = {"prog", "--kommune", "Hvidovre", "-k", "Greve", "--kommune=Dragør", NULL};
        setenv("MMT_KOMMUNER", "Aarhus, Odense", 1);
        mm_config_t *c = mm_config_new(table, 2);
        assert_int_equal(mm_config_load(c, 6, argv, err, sizeof(err)), 0);
        char **v = mm_config_get_list(c, "kommune", &n);
        /* the command line replaces the environment; each use adds an item */
        assert_int_equal(n, 3);
        assert_string_equal(v[0], "Hvidovre");
        assert_string_equal(v[1], "Greve");
        assert_string_equal(v[2], "Dragør");
        mm_config_list_free(v, n);
        mm_config_destroy(c);

        char *argv2[] = {"prog", NULL};
        c = mm_config_new(table, 2);
        assert_int_equal(mm_config_load(c, 1, argv2, err, sizeof(err)), 0);
        v = mm_config_get_list(c, "kommune", &n);
        assert_int_equal(n, 2);
        assert_string_equal(v[0], "Aarhus");
        assert_string_equal(v[1], "Odense");
        mm_config_list_free(v, n);
        mm_config_destroy(c);
        unsetenv("MMT_KOMMUNER");

        c = mm_config_new(table, 2);
        assert_int_equal(mm_config_load(c, 1, argv2, err, sizeof(err)), 0);
        v = mm_config_get_list(c, "kommune", &n);
        assert_null(v);
        assert_int_equal(n, 0);
        mm_config_destroy(c);
}

static void test_poll_metrics(void **state) {
        (void)state;
        const char *names[] = {"Hvidovre Kommune", "Greve Kommune"};
        mm_poll_metrics_t *pm = mm_poll_metrics_new(names, 2, 21 * 86400.0);
        assert_non_null(pm);
        mm_poll_metrics_request(pm, "Hvidovre Kommune", "200");
        mm_poll_metrics_request(pm, "Hvidovre Kommune", "200");
        mm_poll_metrics_request(pm, "Hvidovre Kommune", "429");
        mm_poll_metrics_request(pm, "Nowhere", "200"); /* ignored */
        mm_poll_metrics_published(pm, "Greve Kommune");
        mm_poll_metrics_error(pm, "Greve Kommune", "listing");
        mm_poll_metrics_poll(pm, "Greve Kommune", 1790000000.0, 0, 3);
        mm_poll_metrics_poll(pm, "Hvidovre Kommune", 1790000100.0, 1, 0);
        mm_poll_metrics_latest_release(pm, "Hvidovre Kommune", 1789000000.0);
        mm_poll_metrics_attachment(pm, "Greve Kommune", "produced", 1000);
        mm_poll_metrics_attachment(pm, "Greve Kommune", "produced", 234);
        mm_poll_metrics_attachment(pm, "Greve Kommune", "too_large", 0);
        size_t len;
        char *text = mm_poll_metrics_render(pm, &len);
        assert_non_null(text);
        assert_int_equal(strlen(text), len);
        assert_non_null(strstr(text, "mm_source_requests_total{kommune=\"Hvidovre Kommune\","
                                     "status=\"200\"} 2\n"));
        assert_non_null(strstr(text, "status=\"429\"} 1\n"));
        assert_null(strstr(text, "Nowhere"));
        assert_non_null(
                strstr(text, "mm_source_publications_total{kommune=\"Greve Kommune\"} 1\n"));
        assert_non_null(strstr(text, "mm_source_errors_total{kommune=\"Greve Kommune\","
                                     "kind=\"listing\"} 1\n"));
        assert_non_null(strstr(text, "mm_source_attachments_total{kommune=\"Greve Kommune\","
                                     "result=\"produced\"} 2\n"));
        assert_non_null(strstr(text, "result=\"too_large\"} 1\n"));
        assert_non_null(
                strstr(text, "mm_source_attachment_bytes_total{kommune=\"Greve Kommune\"} 1234\n"));
        assert_non_null(
                strstr(text, "mm_source_consecutive_failures{kommune=\"Greve Kommune\"} 3\n"));
        assert_non_null(strstr(text, "mm_source_last_success_timestamp_seconds{kommune=\"Hvidovre "
                                     "Kommune\"} 1790000100.000\n"));
        /* no success yet: no sample (not a time of 0) */
        assert_null(strstr(text, "mm_source_last_success_timestamp_seconds{kommune=\"Greve"));
        assert_non_null(strstr(text, "mm_source_silence_threshold_seconds 1814400\n"));
        free(text);
        char why[128];
        assert_int_equal(mm_poll_metrics_ready(pm, why, sizeof(why)), 1);
        mm_poll_metrics_state_up(pm, 0);
        assert_int_equal(mm_poll_metrics_ready(pm, why, sizeof(why)), 0);
        assert_non_null(strstr(why, "state"));
        mm_poll_metrics_destroy(pm);
}

static void test_lock_key(void **state) {
        (void)state;
        /* stable across processes and builds: every poller computes the same */
        assert_true(mm_poll_state_lock_key("dagsordener.greve.dk") ==
                    mm_poll_state_lock_key("dagsordener.greve.dk"));
        assert_true(mm_poll_state_lock_key("dagsordener.greve.dk") !=
                    mm_poll_state_lock_key("dagsordener.hvidovre.dk"));
        /* FNV-1a 64 of "minutes-source:dagsordener.greve.dk", as documented */
        assert_true(mm_poll_state_lock_key("dagsordener.greve.dk") == 0x1c9c884f814e9238LL);
}

int main(int argc, char **argv) {
        if (argc < 3) {
                fprintf(stderr, "usage: %s FIXTURE_DIR SHARED_DIR\n", argv[0]);
                return 2;
        }
        fixtures = argv[1];
        shared = argv[2];
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_listing_table),
                cmocka_unit_test(test_listing_fields),
                cmocka_unit_test(test_listing_real_excerpt),
                cmocka_unit_test(test_times),
                cmocka_unit_test(test_backoff),
                cmocka_unit_test(test_retry_after),
                cmocka_unit_test(test_list_option),
                cmocka_unit_test(test_poll_metrics),
                cmocka_unit_test(test_lock_key),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
