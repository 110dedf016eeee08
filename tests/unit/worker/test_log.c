/* Unit tests of mm_log: every line is one JSON object with ts, level, msg
 * and, for message lines, topic/partition/offset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "mm_log.h"

/* Runs `fn` with stderr redirected to a temp file and returns its lines. */
static json_t *capture(void (*fn)(void)) {
        char path[] = "/tmp/mm_log_testXXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        fflush(stderr);
        int saved = dup(STDERR_FILENO);
        dup2(fd, STDERR_FILENO);
        fn();
        dup2(saved, STDERR_FILENO);
        close(saved);
        close(fd);
        FILE *fp = fopen(path, "r");
        json_t *lines = json_array();
        char buf[16384];
        while (fgets(buf, sizeof(buf), fp)) {
                json_error_t e;
                json_t *j = json_loads(buf, JSON_REJECT_DUPLICATES, &e);
                if (!j)
                        fail_msg("not JSON: %s (%s)", buf, e.text);
                json_array_append_new(lines, j);
        }
        fclose(fp);
        unlink(path);
        return lines;
}

static void emit(void) {
        mm_log_set_level(MM_LOG_INFO);
        mm_log_set_prog("test");
        mm_log(MM_LOG_DEBUG, "hidden");
        mm_log(MM_LOG_INFO, "hello \"quoted\" \\ and\nnewline \x01 and æøå");
        mm_log_msg(MM_LOG_WARN, "minutes.raw", 3, 12345, "about a message");
        const char *kv[] = {"code", "not_minutes", "stage", NULL, NULL};
        mm_log_kv(MM_LOG_ERROR, NULL, 0, 0, kv, "with fields");
        char big[20000];
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        mm_log(MM_LOG_INFO, "%s", big);
}

static void test_lines(void **state) {
        (void)state;
        json_t *lines = capture(emit);
        assert_int_equal(json_array_size(lines), 4);
        json_t *l0 = json_array_get(lines, 0);
        assert_string_equal(json_string_value(json_object_get(l0, "level")), "info");
        assert_string_equal(json_string_value(json_object_get(l0, "prog")), "test");
        assert_non_null(json_object_get(l0, "ts"));
        assert_string_equal(json_string_value(json_object_get(l0, "msg")),
                            "hello \"quoted\" \\ and\nnewline \x01 and æøå");
        json_t *l1 = json_array_get(lines, 1);
        assert_string_equal(json_string_value(json_object_get(l1, "topic")), "minutes.raw");
        assert_int_equal(json_integer_value(json_object_get(l1, "partition")), 3);
        assert_int_equal(json_integer_value(json_object_get(l1, "offset")), 12345);
        json_t *l2 = json_array_get(lines, 2);
        assert_string_equal(json_string_value(json_object_get(l2, "code")), "not_minutes");
        assert_true(json_is_null(json_object_get(l2, "stage")));
        assert_null(json_object_get(l2, "topic"));
        assert_true(json_is_true(json_object_get(json_array_get(lines, 3), "truncated")));
        json_decref(lines);
        assert_int_equal(mm_log_set_level_name("warn"), 0);
        assert_int_equal(mm_log_set_level_name("loud"), -1);
}

/* Units that escape or take several bytes, with what a JSON reader must
 * get back: bytes that are not UTF-8 come back as U+FFFD. */
static const char *const units[][2] = {
        {"\"", "\""},
        {"\\", "\\"},
        {"\n", "\n"},
        {"\x01", "\x01"},
        {"\xc3\xb8", "\xc3\xb8"},                 /* ø */
        {"\xe2\x82\xac", "\xe2\x82\xac"},         /* € */
        {"\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"}, /* 😀 */
        {"\xff", "\xef\xbf\xbd"},
        {"\xe2\x82"
         "a",
         "\xef\xbf\xbd\xef\xbf\xbd"
         "a"},                                                    /* a cut € */
        {"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* a surrogate */
};
#define NUNITS (sizeof(units) / sizeof(units[0]))

/* input: `shift` x "a", then units round-robin up to `bytes`; *want: what
 * a reader decodes from all of it. Both malloc'd. */
static char *make_long(size_t shift, size_t bytes, size_t start, char **want) {
        char *in = calloc(1, bytes + 16), *out = calloc(1, 3 * bytes + 16);
        size_t n = 0, m = 0;
        for (; n < shift; n++, m++)
                in[n] = out[m] = 'a';
        for (size_t u = start; n + 4 < bytes; u++) {
                const char *const *p = units[u % NUNITS];
                memcpy(in + n, p[0], strlen(p[0]));
                n += strlen(p[0]);
                memcpy(out + m, p[1], strlen(p[1]));
                m += strlen(p[1]);
        }
        *want = out;
        return in;
}

static size_t shift_now;

static void emit_long(void) {
        char *want;
        /* the message alone overflows the 4 KiB message buffer and, escaped,
         * the 8 KiB line */
        char *msg = make_long(shift_now, 6000, shift_now, &want);
        mm_log(MM_LOG_WARN, "%s", msg);
        free(want);
        /* a short message, then a field whose value overflows the line */
        char *val = make_long(shift_now, 12000, 3, &want);
        const char *kv[] = {"reason", val, "after", "x", NULL};
        mm_log_kv(MM_LOG_ERROR, "minutes.raw", 1, 2, kv, "short \xc3\xb8");
        free(msg);
        free(val);
        free(want);
}

/* `got` (decoded) must be a prefix of `want` of at least `min` bytes. */
static void assert_prefix(const char *got, const char *want, size_t min) {
        size_t n = strlen(got);
        if (n < min || strncmp(got, want, n) != 0)
                fail_msg("%zu bytes, not a prefix of at least %zu bytes of the input", n, min);
}

static void test_truncation_keeps_json(void **state) {
        (void)state;
        mm_log_set_level(MM_LOG_INFO);
        mm_log_set_prog("test");
        /* every alignment of the cut against the units' byte lengths */
        for (shift_now = 0; shift_now < 24; shift_now++) {
                char *want_msg, *want_val;
                free(make_long(shift_now, 6000, shift_now, &want_msg));
                free(make_long(shift_now, 12000, 3, &want_val));
                json_t *lines = capture(emit_long); /* fails unless each line is JSON */
                assert_int_equal(json_array_size(lines), 2);
                json_t *a = json_array_get(lines, 0), *b = json_array_get(lines, 1);
                assert_true(json_is_true(json_object_get(a, "truncated")));
                assert_string_equal(json_string_value(json_object_get(a, "level")), "warn");
                assert_prefix(json_string_value(json_object_get(a, "msg")), want_msg, 1000);
                assert_true(json_is_true(json_object_get(b, "truncated")));
                assert_string_equal(json_string_value(json_object_get(b, "msg")), "short \xc3\xb8");
                assert_int_equal(json_integer_value(json_object_get(b, "offset")), 2);
                assert_prefix(json_string_value(json_object_get(b, "reason")), want_val, 2000);
                assert_null(json_object_get(b, "after")); /* no room left: left out whole */
                json_decref(lines);
                free(want_msg);
                free(want_val);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_lines),
                                           cmocka_unit_test(test_truncation_keeps_json)};
        return cmocka_run_group_tests(tests, NULL, NULL);
}
