/*
 * Unit tests of meeting identity in the model (issue 18, issue 19 defects 3
 * and 8): the FirstAgenda publications of one meeting (invented fixtures in
 * tests/fixtures/firstagenda-identity: agenda, supplementary agenda,
 * republication, minutes) name one meeting; ids and case numbers longer
 * than MM_SOURCE_KEY_MAX are export_invalid; an export without a
 * municipality is export_invalid (mm_source_check_identity), a text
 * document's over-long key field is dropped with a warning.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm_extract.h"
#include "mm_source.h"

static const char *g_fix;
static mm_parser_t *g_parser;

static json_t *load(const char *name) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/firstagenda-identity/%s", g_fix, name);
        json_error_t e;
        json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &e);
        if (!j)
                fprintf(stderr, "%s: %s\n", path, e.text);
        assert_non_null(j);
        return j;
}

/* Parses the export `j` (not consumed): 0 with *doc, or -1 with *err. */
static int parse_json(json_t *j, json_t **doc, mm_parse_error_t *err) {
        char *buf = json_dumps(j, JSON_COMPACT);
        assert_non_null(buf);
        mm_source_result_t res;
        int rc = mm_source_parse(g_parser, buf, strlen(buf), NULL, &res, err);
        free(buf);
        *doc = rc == 0 ? json_incref(res.doc) : NULL;
        mm_source_result_clear(&res);
        return rc;
}

static const char *src_str(json_t *doc, const char *key) {
        return json_string_value(
                json_object_get(json_object_get(json_object_get(doc, "document"), "source"), key));
}

static void test_one_meeting(void **state) {
        (void)state;
        static const char *const files[] = {"1-agenda.json", "2-supplement.json",
                                            "3-republished.json", "4-minutes.json"};
        static const char *const kinds[] = {"agenda", "agenda", "agenda", "minutes"};
        char first[512] = "";
        for (size_t i = 0; i < 4; i++) {
                json_t *j = load(files[i]), *doc;
                mm_parse_error_t err;
                assert_int_equal(parse_json(j, &doc, &err), 0);
                const char *mid = src_str(doc, "meeting_id");
                assert_non_null(mid);
                if (i == 0)
                        snprintf(first, sizeof(first), "%s", mid);
                assert_string_equal(mid, first);
                /* one UTC instant, whatever form the start is written in
                 * (the republication writes fractions of a second) */
                assert_string_equal(mid, "0d1e2f30-4a5b-4c6d-8e7f-90a1b2c3d4e5@"
                                         "2026-03-04T15:00:00Z");
                assert_string_equal(src_str(doc, "publication_id"),
                                    json_string_value(json_object_get(j, "Id")));
                json_t *supp = json_object_get(
                        json_object_get(json_object_get(doc, "document"), "source"), "supplement");
                assert_int_equal(json_is_true(supp), i == 1);
                assert_string_equal(json_string_value(json_object_get(
                                            json_object_get(doc, "document"), "kind")),
                                    kinds[i]);
                json_decref(doc);
                json_decref(j);
        }
}

/* The fixture's agenda with `path` (Id, Udvalg.Id, or an item's
 * SagsNummer) set to a value of n bytes: export_invalid naming `what`. */
static void expect_long(const char *field, size_t n, const char *what) {
        json_t *j = load("1-agenda.json"), *doc;
        char *v = malloc(n + 1);
        assert_non_null(v);
        memset(v, '7', n);
        v[n] = '\0';
        if (!strcmp(field, "Id"))
                json_object_set_new(j, "Id", json_string(v));
        else if (!strcmp(field, "Udvalg.Id"))
                json_object_set_new(json_object_get(j, "Udvalg"), "Id", json_string(v));
        else
                json_object_set_new(json_array_get(json_object_get(j, "Dagsordenpunkter"), 1),
                                    "SagsNummer", json_string(v));
        free(v);
        mm_parse_error_t err;
        int rc = parse_json(j, &doc, &err);
        if (n <= 200) {
                assert_int_equal(rc, 0);
                json_decref(doc);
        } else {
                assert_int_equal(rc, -1);
                assert_string_equal(err.code, "export_invalid");
                if (!strstr(err.reason, what))
                        fail_msg("reason \"%s\" does not name %s", err.reason, what);
        }
        json_decref(j);
}

static void test_long_ids(void **state) {
        (void)state;
        expect_long("Id", 3000, "publication id");
        expect_long("Udvalg.Id", 3000, "meeting id");
        expect_long("SagsNummer", 3000, "case number");
        expect_long("SagsNummer", MM_SOURCE_KEY_MAX + 1, "case number");
        expect_long("Id", 200, "");
        expect_long("SagsNummer", 200, "");
}

static void test_no_committee_id(void **state) {
        (void)state;
        json_t *j = load("1-agenda.json"), *doc;
        json_object_del(json_object_get(j, "Udvalg"), "Id");
        mm_parse_error_t err;
        assert_int_equal(parse_json(j, &doc, &err), -1);
        assert_string_equal(err.code, "export_invalid");
        assert_non_null(strstr(err.reason, "Udvalg.Id"));
        json_decref(j);
}

static void test_check_identity(void **state) {
        (void)state;
        json_t *j = load("1-agenda.json"), *doc;
        mm_parse_error_t err;
        assert_int_equal(parse_json(j, &doc, &err), 0);
        assert_int_equal(mm_source_check_identity(doc, &err), 0);
        /* no municipality from the export, none from an envelope */
        json_t *d = json_object_get(doc, "document");
        json_object_set_new(d, "municipality", json_null());
        assert_int_equal(mm_source_check_identity(doc, &err), -1);
        assert_string_equal(err.code, "export_invalid");
        assert_non_null(strstr(err.reason, "municipality"));
        json_object_set_new(d, "municipality", json_string(""));
        assert_int_equal(mm_source_check_identity(doc, &err), -1);
        /* an envelope's municipality that is no kommune and 3,000 bytes */
        char *v = calloc(3001, 1);
        assert_non_null(v);
        memset(v, 'k', 3000);
        json_object_set_new(d, "municipality", json_string(v));
        assert_int_equal(mm_source_check_identity(doc, &err), -1);
        /* a text document (no source): the long committee is dropped */
        json_object_set_new(d, "source", json_null());
        json_object_set_new(d, "municipality", json_string("Greve Kommune"));
        json_object_set_new(d, "committee", json_string(v));
        size_t nw = json_array_size(json_object_get(d, "warnings"));
        assert_int_equal(mm_source_check_identity(doc, &err), 0);
        assert_true(json_is_null(json_object_get(d, "committee")));
        assert_string_equal(json_string_value(json_object_get(d, "municipality")), "Greve Kommune");
        assert_int_equal(json_array_size(json_object_get(d, "warnings")), nw + 1);
        free(v);
        json_decref(doc);
        json_decref(j);
}

int main(int argc, char **argv) {
        char err[256];
        if (argc < 2) {
                fprintf(stderr, "usage: test_identity FIXTURES_DIR\n");
                return 2;
        }
        g_fix = argv[1];
        mm_extract_global_init();
        g_parser = mm_parser_new(0, err, sizeof(err));
        if (!g_parser) {
                fprintf(stderr, "%s\n", err);
                return 1;
        }
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_one_meeting),
                cmocka_unit_test(test_long_ids),
                cmocka_unit_test(test_no_committee_id),
                cmocka_unit_test(test_check_identity),
        };
        int rc = cmocka_run_group_tests(tests, NULL, NULL);
        mm_parser_destroy(g_parser);
        return rc;
}
