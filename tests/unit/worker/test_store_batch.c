/* Unit tests of the mm_store batch bookkeeping (no database needed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mm_store.h"

static json_t *doc(const char *topic, int partition, int offset) {
        return json_pack("{s:s, s:i, s:i}", "topic", topic, "partition", partition, "offset",
                         offset);
}

static void test_offsets(void **state) {
        (void)state;
        mm_store_batch_t *b = mm_store_batch_new();
        assert_non_null(b);
        assert_int_equal(mm_store_batch_add_offset(b, "raw", 0, 10), 0);
        assert_int_equal(mm_store_batch_add_offset(b, "raw", 0, 12), 0);
        assert_int_equal(mm_store_batch_add_offset(b, "raw", 1, 5), 0);
        assert_int_equal(mm_store_batch_add_offset(b, "raw", 0, 11), 0);
        assert_int_equal(mm_store_batch_partition_count(b), 2);
        const char *t;
        int32_t p;
        int64_t first, next;
        mm_store_batch_partition(b, 0, &t, &p, &first, &next);
        assert_string_equal(t, "raw");
        assert_int_equal(p, 0);
        assert_int_equal(first, 10);
        assert_int_equal(next, 13);
        mm_store_batch_partition(b, 1, &t, &p, &first, &next);
        assert_int_equal(p, 1);
        assert_int_equal(first, 5);
        assert_int_equal(next, 6);
        mm_store_batch_clear(b);
        assert_int_equal(mm_store_batch_partition_count(b), 0);
        mm_store_batch_destroy(b);
}

static void test_drop_partition(void **state) {
        (void)state;
        mm_store_batch_t *b = mm_store_batch_new();
        for (int i = 0; i < 6; i++) {
                assert_int_equal(mm_store_batch_add_offset(b, "raw", i % 2, i), 0);
                assert_int_equal(mm_store_batch_add_doc(b, doc("raw", i % 2, i)), 0);
        }
        assert_int_equal(mm_store_batch_doc_count(b), 6);
        mm_store_batch_drop_partition(b, "raw", 1);
        assert_int_equal(mm_store_batch_doc_count(b), 3);
        assert_int_equal(mm_store_batch_partition_count(b), 1);
        for (size_t i = 0; i < 3; i++)
                assert_int_equal(
                        json_integer_value(json_object_get(mm_store_batch_doc(b, i), "partition")),
                        0);
        mm_store_batch_drop_partition(b, "other", 0); /* no-op */
        assert_int_equal(mm_store_batch_doc_count(b), 3);
        assert_null(mm_store_batch_doc(b, 3));
        mm_store_batch_destroy(b);
        mm_store_batch_destroy(NULL);
}

/* A document's text rendered ahead stays with its document when another
 * partition is dropped; the text leaves out the child rows. */
static void test_doc_texts(void **state) {
        (void)state;
        mm_store_batch_t *b = mm_store_batch_new();
        for (int i = 0; i < 6; i++) {
                json_t *d = doc("raw", i % 2, i);
                json_object_set_new(d, "parse",
                                    json_pack("{s:{s:s, s:[s]}, s:[{s:i}]}", "document", "kind",
                                              "minutes", "participants", "A. Jensen", "items",
                                              "number", i));
                char *t = i == 4 ? NULL : mm_store_doc_text(d); /* one rendered at write time */
                assert_true(i == 4 || t != NULL);
                assert_int_equal(mm_store_batch_add_doc_text(b, d, t), 0);
        }
        mm_store_batch_drop_partition(b, "raw", 1);
        assert_int_equal(mm_store_batch_doc_count(b), 3);
        for (size_t i = 0; i < 3; i++) {
                json_t *d = mm_store_batch_doc(b, i);
                const char *t = mm_store_batch_doc_text(b, i);
                if (json_integer_value(json_object_get(d, "offset")) == 4) {
                        assert_null(t);
                        continue;
                }
                char *want = mm_store_doc_text(d);
                assert_non_null(t);
                assert_string_equal(t, want); /* still the text of this document */
                assert_null(strstr(t, "items"));
                assert_null(strstr(t, "participants"));
                assert_non_null(strstr(t, "\"kind\":\"minutes\""));
                free(want);
        }
        assert_null(mm_store_batch_doc_text(b, 3));
        mm_store_batch_clear(b);
        assert_null(mm_store_batch_doc_text(b, 0));
        mm_store_batch_destroy(b);
}

/* Dead letters travel with the batch: dropped with their partition, their
 * delivery mode can change, a clear empties them. */
static void test_dead_letters(void **state) {
        (void)state;
        mm_store_batch_t *b = mm_store_batch_new();
        assert_non_null(b);
        static const char payload[] = "bytes";
        for (int i = 0; i < 4; i++) {
                mm_store_dead_letter_t dl = {.topic = "raw",
                                             .partition = i % 2,
                                             .offset = i,
                                             .stage = "parse",
                                             .code = "not_minutes",
                                             .reason = "no meeting",
                                             .byte_length = 5,
                                             .payload = payload,
                                             .payload_len = 5};
                snprintf(dl.sha256, sizeof(dl.sha256), "%064d", i);
                assert_int_equal(mm_store_batch_add_dead_letter(b, &dl), 0);
        }
        assert_int_equal(mm_store_batch_dead_letter_count(b), 4);
        assert_int_equal(mm_store_batch_set_delivery(b, "raw", 0, 2, "headers_only"), 0);
        assert_int_equal(mm_store_batch_set_delivery(b, "raw", 0, 3, "headers_only"), -1);
        mm_store_batch_drop_partition(b, "raw", 1);
        assert_int_equal(mm_store_batch_dead_letter_count(b), 2);
        assert_int_equal(mm_store_batch_set_delivery(b, "raw", 1, 1, "headers_only"), -1);
        mm_store_batch_clear(b);
        assert_int_equal(mm_store_batch_dead_letter_count(b), 0);
        mm_store_batch_destroy(b);
}

static void test_unreachable_db(void **state) {
        (void)state;
        char err[512] = "";
        /* port 1 on localhost: nothing listens; fails fast, transient */
        mm_store_t *st =
                mm_store_new("host=127.0.0.1 port=1 connect_timeout=2 dbname=x", err, sizeof(err));
        assert_non_null(st);
        assert_int_equal(mm_store_connect(st, err, sizeof(err)), -1);
        assert_true(strlen(err) > 0);
        assert_int_equal(mm_store_connected(st), 0);
        mm_store_batch_t *b = mm_store_batch_new();
        assert_int_equal(mm_store_write_batch(st, "g", b, NULL, NULL, err, sizeof(err)),
                         MM_STORE_ERR_TRANSIENT);
        int64_t off = 0;
        assert_int_equal(mm_store_load_offset(st, "g", "t", 0, &off, err, sizeof(err)), -1);
        mm_store_batch_destroy(b);
        mm_store_destroy(st);
}

/* Attachment records (012) ride with the batch: dropped with their
 * partition, cleared with the batch, apart from the documents. */
static void test_attachments(void **state) {
        (void)state;
        mm_store_batch_t *b = mm_store_batch_new();
        for (int i = 0; i < 6; i++)
                assert_int_equal(
                        mm_store_batch_add_attachment(b, doc(i < 3 ? "att" : "raw", i % 2, i)), 0);
        assert_int_equal(mm_store_batch_add_doc(b, doc("att", 1, 9)), 0);
        assert_int_equal(mm_store_batch_attachment_count(b), 6);
        mm_store_batch_drop_partition(b, "att", 1); /* att/1: attachment 1 and the document */
        assert_int_equal(mm_store_batch_attachment_count(b), 5);
        assert_int_equal(mm_store_batch_doc_count(b), 0);
        for (size_t i = 0; i < 5; i++) {
                json_t *a = mm_store_batch_attachment(b, i);
                const char *t = json_string_value(json_object_get(a, "topic"));
                assert_false(!strcmp(t, "att") &&
                             json_integer_value(json_object_get(a, "partition")) == 1);
        }
        assert_null(mm_store_batch_attachment(b, 5));
        mm_store_batch_clear(b);
        assert_int_equal(mm_store_batch_attachment_count(b), 0);
        mm_store_batch_destroy(b);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_offsets),        cmocka_unit_test(test_drop_partition),
                cmocka_unit_test(test_doc_texts),      cmocka_unit_test(test_dead_letters),
                cmocka_unit_test(test_unreachable_db), cmocka_unit_test(test_attachments),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
