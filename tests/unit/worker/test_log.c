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

int main(void) {
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_lines)};
        return cmocka_run_group_tests(tests, NULL, NULL);
}
