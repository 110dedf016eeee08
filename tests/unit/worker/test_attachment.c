/* Unit tests of mm_attachment: reading an attachment message's headers
 * (ATTACH-CONTRACT.md section 3), the skip identity, the treatment of
 * extraction errors and the text clean-up (no Kafka, no database). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mm_attachment.h"
#include "mm_envelope.h"

#define H(n, v)                                                                                    \
        { n, v, sizeof(v) - 1 }

static const char *str(const json_t *rec, const char *key) {
        return json_string_value(json_object_get(rec, key));
}

static void test_full_headers(void **state) {
        (void)state;
        mm_envelope_header_t h[] = {
                H("ce_specversion", "1.0"),
                H("ce_id", "abc"),
                H("ce_type", "dk.minutes.attachment.raw"),
                H("ce_time", "2024-03-20T12:00:00Z"),
                H("content-type", "application/pdf"),
                H("municipality", " Solrød Kommune "),
                H("source-url", "https://x.dk/vis/pdf/bilag/42?redirectDirectlyToPdf=true"),
                H("document-id", "42"),
                H("attachment-id", "42"),
                H("attachment-name", "Tidsplan"),
                H("attachment-size", "1234"),
                H("meeting-document-id", "m-1"),
                H("meeting-key", "Solrød Kommune|Byrådet|2024-03-25"),
                H("item-number", "3"),
        };
        char err[256];
        json_t *r = mm_attachment_read(h, sizeof(h) / sizeof(h[0]), NULL, 0, err, sizeof(err));
        assert_non_null(r);
        assert_string_equal(str(r, "municipality"), "Solrød Kommune"); /* trimmed */
        assert_string_equal(str(r, "source_id"), "42");
        assert_string_equal(str(r, "name"), "Tidsplan");
        assert_string_equal(str(r, "content_type"), "application/pdf");
        assert_string_equal(str(r, "meeting_document_id"), "m-1");
        assert_string_equal(str(r, "meeting_key"), "Solrød Kommune|Byrådet|2024-03-25");
        assert_string_equal(str(r, "item_number"), "3");
        assert_string_equal(str(r, "ce_time"), "2024-03-20T12:00:00Z");
        assert_int_equal(json_integer_value(json_object_get(r, "byte_length")), 1234);
        assert_null(json_object_get(r, "skipped"));
        assert_true(mm_attachment_is("other.topic", NULL, h, sizeof(h) / sizeof(h[0])));
        json_decref(r);
}

static void test_key_fallback_and_skip(void **state) {
        (void)state;
        mm_envelope_header_t h[] = {
                H("attachment-skipped", "too_large"), H("attachment-size", "99999999"),
                H("attachment-name", ""), /* empty: absent */
        };
        const char key[] = "Greve Kommune|b-7";
        char err[256];
        json_t *r = mm_attachment_read(h, 3, key, sizeof(key) - 1, err, sizeof(err));
        assert_non_null(r);
        assert_string_equal(str(r, "municipality"), "Greve Kommune");
        assert_string_equal(str(r, "source_id"), "b-7");
        assert_string_equal(str(r, "skipped"), "too_large");
        assert_null(json_object_get(r, "name"));
        assert_int_equal(json_integer_value(json_object_get(r, "byte_length")), 99999999);
        assert_false(mm_attachment_is("minutes.raw", "minutes.attachments", h, 3));
        assert_true(mm_attachment_is("minutes.attachments", "minutes.attachments", h, 3));
        json_decref(r);
}

static void test_invalid(void **state) {
        (void)state;
        char err[256];
        /* no kommune anywhere */
        mm_envelope_header_t h1[] = {H("attachment-id", "1")};
        assert_null(mm_attachment_read(h1, 1, "nobar", 5, err, sizeof(err)));
        assert_non_null(strstr(err, "municipality"));
        /* no id: key without the part after the bar */
        mm_envelope_header_t h2[] = {H("municipality", "Greve Kommune")};
        assert_null(mm_attachment_read(h2, 1, "Greve Kommune|", 14, err, sizeof(err)));
        assert_non_null(strstr(err, "source_id"));
        /* a size that is no count */
        mm_envelope_header_t h3[] = {H("municipality", "Greve Kommune"), H("attachment-id", "1"),
                                     H("attachment-size", "12kB")};
        assert_null(mm_attachment_read(h3, 3, NULL, 0, err, sizeof(err)));
        assert_non_null(strstr(err, "12kB"));
        /* an id that is not UTF-8 */
        mm_envelope_header_t h4[] = {H("municipality", "Greve Kommune"),
                                     H("attachment-id", "\xff\xfe")};
        assert_null(mm_attachment_read(h4, 2, NULL, 0, err, sizeof(err)));
        /* an id over the limit */
        char *big = malloc(MM_ATTACHMENT_MAX_ID + 2);
        memset(big, 'x', MM_ATTACHMENT_MAX_ID + 1);
        big[MM_ATTACHMENT_MAX_ID + 1] = '\0';
        mm_envelope_header_t h5[] = {H("municipality", "Greve Kommune"),
                                     {"attachment-id", big, MM_ATTACHMENT_MAX_ID + 1}};
        assert_null(mm_attachment_read(h5, 2, NULL, 0, err, sizeof(err)));
        h5[1].len = MM_ATTACHMENT_MAX_ID;
        json_t *r = mm_attachment_read(h5, 2, NULL, 0, err, sizeof(err));
        assert_non_null(r);
        json_decref(r);
        free(big);
}

static void test_header_names_case(void **state) {
        (void)state;
        /* the first header of a name wins; names compare case-insensitively */
        mm_envelope_header_t h[] = {H("Municipality", "Greve Kommune"), H("ATTACHMENT-ID", "a"),
                                    H("attachment-id", "b"), H("CE_TYPE", "dk.minutes.raw")};
        char err[256];
        json_t *r = mm_attachment_read(h, 4, NULL, 0, err, sizeof(err));
        assert_non_null(r);
        assert_string_equal(str(r, "source_id"), "a");
        assert_false(mm_attachment_is("t", NULL, h, 4)); /* another ce_type */
        json_decref(r);
}

static void test_skip_sha(void **state) {
        (void)state;
        char a[65], b[65];
        mm_attachment_skip_sha256("Greve Kommune", "7", "too_large", a);
        const char s[] = "Greve Kommune|7|too_large";
        mm_envelope_sha256_hex(s, sizeof(s) - 1, b);
        assert_string_equal(a, b);
        mm_attachment_skip_sha256("Greve Kommune", "7", "http_404", b);
        assert_string_not_equal(a, b);
}

static void test_failure_kind(void **state) {
        (void)state;
        assert_int_equal(mm_attachment_failure_kind("pdf_no_text"), MM_ATTACHMENT_ROW_ONLY);
        assert_int_equal(mm_attachment_failure_kind("unsupported_type"), MM_ATTACHMENT_ROW_ONLY);
        assert_int_equal(mm_attachment_failure_kind("pdf_encrypted"), MM_ATTACHMENT_ROW_ONLY);
        assert_int_equal(mm_attachment_failure_kind("pdf_corrupt"), MM_ATTACHMENT_ROW_AND_DLQ);
        assert_int_equal(mm_attachment_failure_kind("extract_crash"), MM_ATTACHMENT_ROW_AND_DLQ);
        assert_int_equal(mm_attachment_failure_kind("extract_limit"), MM_ATTACHMENT_ROW_AND_DLQ);
        assert_int_equal(mm_attachment_failure_kind("html_too_deep"), MM_ATTACHMENT_ROW_AND_DLQ);
        assert_int_equal(mm_attachment_failure_kind(NULL), MM_ATTACHMENT_ROW_AND_DLQ);
        assert_int_equal(mm_attachment_failure_kind("extract_transient"), MM_ATTACHMENT_RETRY);
        assert_int_equal(mm_attachment_failure_kind("out_of_memory"), MM_ATTACHMENT_RETRY);
}

static void test_clean_text(void **state) {
        (void)state;
        /* NUL bytes dropped */
        size_t len = 7;
        char *t = malloc(len + 1);
        memcpy(t, "ab\0c\0de", len + 1);
        assert_int_equal(mm_attachment_clean_text(&t, &len), 0);
        assert_int_equal(len, 5);
        assert_string_equal(t, "abcde");
        free(t);
        /* Windows-1252 decoded to UTF-8 (a text/plain attachment) */
        len = 9;
        t = malloc(len + 1);
        memcpy(t,
               "K\xf8"
               "benhavn",
               len + 1);
        assert_int_equal(mm_attachment_clean_text(&t, &len), 0);
        assert_string_equal(t, "K\xc3\xb8"
                               "benhavn");
        assert_int_equal(len, 10);
        free(t);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_full_headers), cmocka_unit_test(test_key_fallback_and_skip),
                cmocka_unit_test(test_invalid),      cmocka_unit_test(test_header_names_case),
                cmocka_unit_test(test_skip_sha),     cmocka_unit_test(test_failure_kind),
                cmocka_unit_test(test_clean_text),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
