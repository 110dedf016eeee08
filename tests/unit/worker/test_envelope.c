/* Unit tests of mm_envelope: plain, binary and structured CloudEvents,
 * base64 and SHA-256. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mm_classify.h"
#include "mm_envelope.h"

#define H(n, v)                                                                                    \
        { n, v, sizeof(v) - 1 }

static void test_plain(void **state) {
        (void)state;
        char err[256];
        const char doc[] = "Referat\nsome text";
        mm_envelope_t *e = mm_envelope_new(doc, sizeof(doc) - 1, NULL, 0, err, sizeof(err));
        assert_non_null(e);
        assert_int_equal(mm_envelope_mode(e), MM_ENVELOPE_PLAIN);
        size_t len;
        assert_ptr_equal(mm_envelope_data(e, &len), doc);
        assert_int_equal(len, sizeof(doc) - 1);
        assert_null(mm_envelope_content_type(e));
        assert_null(mm_envelope_municipality(e));
        mm_envelope_destroy(e);

        mm_envelope_header_t h[] = {H("content-type", "text/plain"),
                                    H("source-url", "https://x/y"),
                                    H("municipality", "  Aarhus Kommune "),
                                    H("document-id", "d-1"),
                                    {"empty", NULL, 0}};
        e = mm_envelope_new(doc, sizeof(doc) - 1, h, 5, err, sizeof(err));
        assert_non_null(e);
        assert_int_equal(mm_envelope_mode(e), MM_ENVELOPE_PLAIN);
        assert_string_equal(mm_envelope_content_type(e), "text/plain");
        assert_string_equal(mm_envelope_source_url(e), "https://x/y");
        assert_string_equal(mm_envelope_municipality(e), "Aarhus Kommune");
        assert_string_equal(mm_envelope_document_id(e), "d-1");
        mm_envelope_destroy(e);
}

static void test_binary(void **state) {
        (void)state;
        char err[256];
        mm_envelope_header_t h[] = {H("ce_specversion", "1.0"),
                                    H("ce_id", "id-1"),
                                    H("ce_source", "src"),
                                    H("ce_type", "t"),
                                    H("ce_time", "2025-01-01T00:00:00Z"),
                                    H("content-type", "application/pdf"),
                                    H("ce_municipality", "Vejle Kommune")};
        mm_envelope_t *e = mm_envelope_new("%PDF-", 5, h, 7, err, sizeof(err));
        assert_non_null(e);
        assert_int_equal(mm_envelope_mode(e), MM_ENVELOPE_BINARY);
        assert_string_equal(mm_envelope_ce_id(e), "id-1");
        assert_string_equal(mm_envelope_ce_source(e), "src");
        assert_string_equal(mm_envelope_ce_type(e), "t");
        assert_string_equal(mm_envelope_ce_time(e), "2025-01-01T00:00:00Z");
        assert_string_equal(mm_envelope_content_type(e), "application/pdf");
        assert_string_equal(mm_envelope_municipality(e), "Vejle Kommune");
        mm_envelope_destroy(e);
}

static void test_structured(void **state) {
        (void)state;
        char err[256];
        mm_envelope_header_t h[] = {
                H("content-type", "application/cloudevents+json; charset=utf-8"),
                H("municipality", "Header Kommune")};
        const char ev[] =
                "{\"specversion\":\"1.0\",\"id\":\"e1\",\"source\":\"s\",\"type\":\"t\","
                "\"datacontenttype\":\"text/markdown\",\"municipality\":\"Event Kommune\","
                "\"data\":\"# Referat\\nx\"}";
        mm_envelope_t *e = mm_envelope_new(ev, sizeof(ev) - 1, h, 2, err, sizeof(err));
        assert_non_null(e);
        assert_int_equal(mm_envelope_mode(e), MM_ENVELOPE_STRUCTURED);
        size_t len;
        const char *d = mm_envelope_data(e, &len);
        assert_int_equal(len, 11);
        assert_memory_equal(d, "# Referat\nx", 11);
        assert_string_equal(mm_envelope_content_type(e), "text/markdown");
        assert_string_equal(mm_envelope_municipality(e), "Event Kommune");
        assert_string_equal(mm_envelope_ce_id(e), "e1");
        mm_envelope_destroy(e);

        const char ev64[] = "{\"specversion\":\"1.0\",\"id\":\"e2\",\"data_base64\":\"AAECaGk=\"}";
        e = mm_envelope_new(ev64, sizeof(ev64) - 1, h, 1, err, sizeof(err));
        assert_non_null(e);
        d = mm_envelope_data(e, &len);
        assert_int_equal(len, 5);
        assert_memory_equal(d, "\0\1\2hi", 5);
        assert_null(mm_envelope_content_type(e));
        mm_envelope_destroy(e);

        const char *bad[] = {"{\"data\": ", "[1,2]", "{\"id\":\"x\"}", "{\"data_base64\":\"%%%\"}",
                             "{\"data\":\"a\",\"data\":\"b\"}"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                err[0] = '\0';
                assert_null(mm_envelope_new(bad[i], strlen(bad[i]), h, 1, err, sizeof(err)));
                assert_true(strlen(err) > 0);
        }
}

static void test_base64(void **state) {
        (void)state;
        size_t n;
        char *d = mm_envelope_base64_decode("aGVsbG8gd29ybGQ=", 16, &n);
        assert_non_null(d);
        assert_int_equal(n, 11);
        assert_string_equal(d, "hello world");
        free(d);
        d = mm_envelope_base64_decode("aGVs\nbG8", 8, &n);
        assert_non_null(d);
        assert_int_equal(n, 5);
        free(d);
        assert_null(mm_envelope_base64_decode("a", 1, &n));
        assert_null(mm_envelope_base64_decode("aG=Vs", 5, &n));
}

static void test_sha256(void **state) {
        (void)state;
        char hex[65];
        mm_envelope_sha256_hex(NULL, 0, hex);
        assert_string_equal(hex,
                            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        mm_envelope_sha256_hex("abc", 3, hex);
        assert_string_equal(hex,
                            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        /* 56 bytes: padding spills into a second block */
        const char *s = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        mm_envelope_sha256_hex(s, strlen(s), hex);
        assert_string_equal(hex,
                            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

/* One name per kommune: what an envelope may say -> the stored name. */
static void test_kommune(void **state) {
        (void)state;
        static const struct {
                const char *in, *want; /* want NULL: unknown, kept by the caller */
        } rows[] = {
                {"Aarhus", "Aarhus Kommune"},
                {"Århus", "Aarhus Kommune"},
                {"aarhus.dk", "Aarhus Kommune"},
                {"Aarhus Kommune", "Aarhus Kommune"},
                {" Århus Kommune ", "Aarhus Kommune"},
                {"Ålborg", "Aalborg Kommune"},
                {"Københavns Kommune", "Københavns Kommune"},
                {"Hedensted Kommune", "Hedensted Kommune"},
                {"Høje Taastrup", "Høje-Taastrup Kommune"},
                {"Testby Kommune", NULL},
                {"Kommune", NULL},
                {"", NULL},
        };
        char err[256];
        mm_classify_t *c = mm_classify_new(err, sizeof(err));
        assert_non_null(c);
        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
                const char *got = mm_envelope_kommune(c, rows[i].in);
                if (rows[i].want)
                        assert_string_equal(got ? got : "(null)", rows[i].want);
                else
                        assert_null(got);
        }
        assert_null(mm_envelope_kommune(NULL, "Aarhus"));
        mm_classify_destroy(c);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_plain),      cmocka_unit_test(test_binary),
                cmocka_unit_test(test_structured), cmocka_unit_test(test_base64),
                cmocka_unit_test(test_sha256),     cmocka_unit_test(test_kommune),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
