/* Unit tests of mm_rx: a match too deep for the JIT's stack is still found
 * (by the interpreter), not reported as no match. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "mm_rx.h"

static void test_deep_match_is_found(void **state) {
        char err[256];
        size_t n = 200000, b = 0, e = 0;
        char *s = malloc(n + 1);
        (void)state;
        assert_non_null(s);
        /* "abab...abc": every repetition of the group is a backtracking
         * point, more than PCRE2's 32 KiB JIT stack holds */
        for (size_t i = 0; i < n; i++)
                s[i] = i % 2 ? 'b' : 'a';
        s[n] = 'c';
        mm_rx_t *rx = mm_rx_new("(a|b)*c", 0, err, sizeof(err));
        mm_rx_match_t *m = mm_rx_match_new();
        assert_non_null(rx);
        assert_non_null(m);
        assert_int_equal(mm_rx_exec(rx, m, s, n + 1, 0), 1);
        assert_int_equal(mm_rx_group(m, 0, &b, &e), 0);
        assert_int_equal(b, 0);
        assert_int_equal(e, n + 1);
        assert_int_equal(mm_rx_group(m, 1, &b, &e), 0);
        assert_int_equal(b, n - 1); /* the last repetition: "b" */
        /* and a real non-match is still 0 */
        s[n] = 'd';
        assert_int_equal(mm_rx_exec(rx, m, s, n + 1, 0), 0);
        mm_rx_match_destroy(m);
        mm_rx_destroy(rx);
        free(s);
}

int main(void) {
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_deep_match_is_found)};
        return cmocka_run_group_tests(tests, NULL, NULL);
}
