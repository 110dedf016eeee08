/* Unit tests of mm_buf, the growable byte buffer: append, reserve (in
 * place and exact), growth over many appends, reset and truncate, the NUL
 * after the bytes at every step, printf, taking ownership of the bytes,
 * the limit, and failures that stick until the buffer is released. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mm_buf.h"

/* The invariants every buffer keeps once it has memory. */
static void assert_sane(const mm_buf_t *b) {
        if (!b->p) {
                assert_int_equal(b->len, 0);
                assert_int_equal(b->cap, 0);
                return;
        }
        assert_true(b->len < b->cap);
        assert_int_equal(b->p[b->len], '\0');
}

static void test_init_and_release(void **state) {
        (void)state;
        mm_buf_t a = MM_BUF_INIT, b;
        mm_buf_init(&b);
        assert_null(a.p);
        assert_null(b.p);
        assert_int_equal(b.len, 0);
        assert_int_equal(b.cap, 0);
        assert_int_equal(b.max, 0);
        assert_false(mm_buf_failed(&b));
        assert_string_equal(mm_buf_cstr(&b), ""); /* nothing allocated */
        assert_null(b.p);
        mm_buf_release(&b); /* empty: nothing to free */
        mm_buf_release(NULL);
        assert_int_equal(mm_buf_puts(&b, "x"), 0);
        mm_buf_release(&b);
        assert_null(b.p);
        assert_int_equal(b.len, 0);
        assert_int_equal(b.cap, 0);
}

static void test_append(void **state) {
        (void)state;
        mm_buf_t b = MM_BUF_INIT;
        /* n == 0 on a new buffer allocates: p is a C string after it */
        assert_int_equal(mm_buf_append(&b, NULL, 0), 0);
        assert_non_null(b.p);
        assert_string_equal(b.p, "");
        assert_sane(&b);
        assert_int_equal(mm_buf_append(&b, "abc", 3), 0);
        assert_sane(&b);
        assert_int_equal(mm_buf_putc(&b, '-'), 0);
        assert_sane(&b);
        assert_int_equal(mm_buf_puts(&b, "def"), 0);
        assert_sane(&b);
        assert_int_equal(b.len, 7);
        assert_string_equal(b.p, "abc-def");
        assert_string_equal(mm_buf_cstr(&b), "abc-def");
        /* bytes are bytes: a NUL inside is kept, len counts it */
        assert_int_equal(mm_buf_append(&b, "g\0h", 3), 0);
        assert_int_equal(b.len, 10);
        assert_memory_equal(b.p, "abc-defg\0h", 11);
        /* the source is copied */
        char src[] = "ijk";
        assert_int_equal(mm_buf_append(&b, src, 3), 0);
        src[0] = 'X';
        assert_memory_equal(b.p + 10, "ijk", 4);
        assert_false(mm_buf_failed(&b));
        mm_buf_release(&b);
}

static void test_growth(void **state) {
        (void)state;
        mm_buf_t b = MM_BUF_INIT;
        size_t total = 0, reallocs = 0, cap = 0;
        char *ref = malloc(1 << 20);
        assert_non_null(ref);
        for (unsigned i = 0; total + 64 < (1u << 20); i++) {
                char piece[64];
                size_t n = i % 61; /* 0..60 bytes, putc every 7th */
                for (size_t k = 0; k < n; k++)
                        piece[k] = (char)('a' + (i + k) % 26);
                if (i % 7 == 0) {
                        assert_int_equal(mm_buf_putc(&b, piece[0] = '#'), 0);
                        n = 1;
                } else {
                        assert_int_equal(mm_buf_append(&b, piece, n), 0);
                }
                memcpy(ref + total, piece, n);
                total += n;
                assert_int_equal(b.len, total);
                assert_sane(&b);
                if (b.cap != cap) {
                        /* geometric: 256 first, then doubling */
                        assert_true(cap == 0 ? b.cap == 256 : b.cap == 2 * cap);
                        cap = b.cap;
                        reallocs++;
                }
        }
        assert_memory_equal(b.p, ref, total);
        assert_true(reallocs <= 13); /* 256 B .. 1 MiB */
        free(ref);
        mm_buf_release(&b);
}

static void test_reserve(void **state) {
        (void)state;
        mm_buf_t b = MM_BUF_INIT;
        assert_int_equal(mm_buf_reserve(&b, 100), 0);
        assert_non_null(b.p);
        assert_true(b.cap >= 101);
        assert_string_equal(b.p, ""); /* a new buffer's bytes start as a C string */
        /* write in place into the reserved room, then set len */
        memset(b.p, 'x', 100);
        b.len = 100;
        b.p[b.len] = '\0';
        assert_sane(&b);
        /* room that is there already: no reallocation */
        char *p = b.p;
        size_t cap = b.cap;
        assert_int_equal(mm_buf_reserve(&b, cap - b.len - 1), 0);
        assert_ptr_equal(b.p, p);
        assert_int_equal(b.cap, cap);
        /* one more byte than there is room for grows it (doubling) */
        assert_int_equal(mm_buf_reserve(&b, cap - b.len), 0);
        assert_int_equal(b.cap, 2 * cap);
        assert_int_equal(b.len, 100);
        for (size_t i = 0; i < 100; i++)
                assert_int_equal(b.p[i], 'x');
        mm_buf_release(&b);

        /* exact: the size asked for, no slack */
        assert_int_equal(mm_buf_reserve_exact(&b, 1000), 0);
        assert_int_equal(b.cap, 1001);
        assert_int_equal(mm_buf_append(&b, "abc", 3), 0);
        assert_int_equal(b.cap, 1001);
        assert_int_equal(mm_buf_reserve_exact(&b, 10), 0); /* fits: unchanged */
        assert_int_equal(b.cap, 1001);
        assert_int_equal(mm_buf_reserve_exact(&b, 2000), 0);
        assert_int_equal(b.cap, 3 + 2000 + 1);
        assert_string_equal(b.p, "abc");
        /* appends within exactly reserved room fill it to the last byte */
        for (int i = 0; i < 2000; i++)
                assert_int_equal(mm_buf_putc(&b, 'y'), 0);
        assert_int_equal(b.cap, 2004);
        assert_int_equal(b.len, 2003);
        assert_sane(&b);
        mm_buf_release(&b);
}

static void test_reset_truncate(void **state) {
        (void)state;
        mm_buf_t b = MM_BUF_INIT;
        mm_buf_reset(&b); /* nothing allocated: still nothing */
        mm_buf_truncate(&b, 5);
        assert_null(b.p);
        assert_int_equal(mm_buf_puts(&b, "hello world"), 0);
        char *p = b.p;
        size_t cap = b.cap;
        mm_buf_truncate(&b, 5);
        assert_int_equal(b.len, 5);
        assert_string_equal(b.p, "hello");
        mm_buf_truncate(&b, 50); /* longer than it is: nothing */
        assert_int_equal(b.len, 5);
        assert_string_equal(b.p, "hello");
        assert_int_equal(mm_buf_puts(&b, "!"), 0);
        assert_string_equal(b.p, "hello!");
        mm_buf_reset(&b);
        assert_int_equal(b.len, 0);
        assert_string_equal(b.p, "");
        assert_ptr_equal(b.p, p); /* the memory is kept */
        assert_int_equal(b.cap, cap);
        assert_int_equal(mm_buf_puts(&b, "again"), 0);
        assert_string_equal(b.p, "again");
        mm_buf_release(&b);
}

static void test_printf(void **state) {
        (void)state;
        mm_buf_t b = MM_BUF_INIT;
        assert_int_equal(mm_buf_printf(&b, "%s=%d", "n", 42), 0);
        assert_string_equal(b.p, "n=42");
        assert_sane(&b);
        /* fill to just below the capacity, then print past it: the retry
         * after growing */
        while (b.cap - b.len > 3)
                assert_int_equal(mm_buf_putc(&b, '.'), 0);
        size_t before = b.len;
        assert_int_equal(mm_buf_printf(&b, "[%0300d]", 7), 0);
        assert_int_equal(b.len, before + 302);
        assert_sane(&b);
        char want[303];
        snprintf(want, sizeof(want), "[%0300d]", 7);
        assert_memory_equal(b.p + before, want, 303);
        assert_int_equal(mm_buf_printf(&b, "%s", ""), 0);
        assert_int_equal(b.len, before + 302);
        mm_buf_release(&b);
}

static void test_take(void **state) {
        (void)state;
        mm_buf_t b = MM_BUF_INIT;
        char *out = (char *)1;
        size_t len = 99;
        /* nothing appended: an allocated "" */
        assert_int_equal(mm_buf_take(&b, &out, &len), 0);
        assert_non_null(out);
        assert_string_equal(out, "");
        assert_int_equal(len, 0);
        free(out);
        assert_int_equal(mm_buf_puts(&b, "owned by the caller"), 0);
        char *p = b.p;
        assert_int_equal(mm_buf_take(&b, &out, &len), 0);
        assert_ptr_equal(out, p); /* handed over, not copied */
        assert_int_equal(len, 19);
        assert_string_equal(out, "owned by the caller");
        /* b is empty and usable again; out is the caller's */
        assert_null(b.p);
        assert_int_equal(b.len, 0);
        assert_int_equal(b.cap, 0);
        assert_int_equal(mm_buf_puts(&b, "next"), 0);
        assert_string_equal(out, "owned by the caller");
        free(out);
        assert_int_equal(mm_buf_take(&b, &out, NULL), 0); /* len may be NULL */
        assert_string_equal(out, "next");
        free(out);
}

static void test_limit(void **state) {
        (void)state;
        mm_buf_t b = MM_BUF_INIT;
        mm_buf_set_max(&b, 10);
        assert_int_equal(mm_buf_append(&b, "12345678", 8), 0);
        assert_true(b.cap <= 11); /* never more than max + 1 */
        assert_int_equal(mm_buf_append(&b, "9ab", 3), -1);
        assert_int_equal(b.err, MM_BUF_ELIMIT);
        assert_true(mm_buf_failed(&b));
        assert_string_equal(b.p, "12345678"); /* unchanged */
        /* sticky: even what would fit now fails */
        assert_int_equal(mm_buf_putc(&b, '9'), -1);
        assert_int_equal(mm_buf_reserve(&b, 1), -1);
        assert_int_equal(mm_buf_printf(&b, "%d", 1), -1);
        assert_int_equal(b.len, 8);
        mm_buf_reset(&b); /* reset keeps the failure */
        assert_true(mm_buf_failed(&b));
        assert_int_equal(mm_buf_putc(&b, 'x'), -1);
        /* a failed buffer is not handed over: freed, *out NULL */
        char *out = (char *)1;
        assert_int_equal(mm_buf_take(&b, &out, NULL), -1);
        assert_null(out);
        assert_null(b.p);
        assert_false(mm_buf_failed(&b));
        /* the limit stays: exactly max bytes fit */
        assert_int_equal(b.max, 10);
        assert_int_equal(mm_buf_append(&b, "0123456789", 10), 0);
        assert_int_equal(b.cap, 11);
        assert_int_equal(mm_buf_putc(&b, 'x'), -1);
        assert_int_equal(b.err, MM_BUF_ELIMIT);
        mm_buf_release(&b);
        assert_false(mm_buf_failed(&b));
        assert_int_equal(mm_buf_putc(&b, 'x'), 0);
        mm_buf_release(&b);
}

static void test_failure_sticks(void **state) {
        (void)state;
        mm_buf_t b = MM_BUF_INIT;
        assert_int_equal(mm_buf_puts(&b, "kept"), 0);
        /* a size that overflows is out of memory, before any allocation */
        assert_int_equal(mm_buf_reserve(&b, SIZE_MAX - 2), -1);
        assert_int_equal(b.err, MM_BUF_ENOMEM);
        assert_int_equal(mm_buf_reserve_exact(&b, 1), -1);
        assert_int_equal(mm_buf_append(&b, "x", 1), -1);
        assert_string_equal(b.p, "kept");
        assert_sane(&b);
        mm_buf_release(&b);
        assert_int_equal(mm_buf_reserve_exact(&b, SIZE_MAX), -1);
        assert_int_equal(b.err, MM_BUF_ENOMEM);
        mm_buf_release(&b);

        /* mm_buf_fail: a helper's failure carried over */
        assert_int_equal(mm_buf_puts(&b, "row"), 0);
        mm_buf_fail(&b);
        assert_int_equal(b.err, MM_BUF_ENOMEM);
        assert_int_equal(mm_buf_puts(&b, "more"), -1);
        assert_string_equal(b.p, "row");
        mm_buf_release(&b);
        /* it keeps the first cause */
        mm_buf_set_max(&b, 1);
        assert_int_equal(mm_buf_puts(&b, "ab"), -1);
        mm_buf_fail(&b);
        assert_int_equal(b.err, MM_BUF_ELIMIT);
        mm_buf_release(&b);
}

/* A whole file: its bytes with a NUL after them; a missing file, a file
 * over the limit and an empty file. */
static void test_read_file(void **state) {
        (void)state;
        char path[] = "/tmp/mm-buf-test-XXXXXX", err[256];
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        FILE *f = fdopen(fd, "wb");
        assert_non_null(f);
        fwrite("abc\0def", 1, 7, f);
        fclose(f);
        size_t len = 99;
        char *buf = mm_buf_read_file(path, 0, &len, err, sizeof(err));
        assert_non_null(buf);
        assert_int_equal(len, 7);
        assert_memory_equal(buf, "abc\0def", 8); /* and the NUL after them */
        free(buf);
        assert_null(mm_buf_read_file(path, 6, &len, err, sizeof(err)));
        assert_non_null(strstr(err, "larger than 6 bytes"));
        assert_int_equal(len, 0);
        buf = mm_buf_read_file(path, 7, &len, err, sizeof(err));
        assert_non_null(buf);
        free(buf);
        f = fopen(path, "wb");
        fclose(f);
        buf = mm_buf_read_file(path, 0, &len, err, sizeof(err));
        assert_non_null(buf);
        assert_int_equal(len, 0);
        assert_int_equal(buf[0], '\0');
        free(buf);
        unlink(path);
        assert_null(mm_buf_read_file(path, 0, &len, err, sizeof(err)));
        assert_non_null(strstr(err, path));
}

int main(void) {
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_init_and_release),
                                           cmocka_unit_test(test_append),
                                           cmocka_unit_test(test_growth),
                                           cmocka_unit_test(test_reserve),
                                           cmocka_unit_test(test_reset_truncate),
                                           cmocka_unit_test(test_printf),
                                           cmocka_unit_test(test_take),
                                           cmocka_unit_test(test_limit),
                                           cmocka_unit_test(test_failure_sticks),
                                           cmocka_unit_test(test_read_file)};
        return cmocka_run_group_tests(tests, NULL, NULL);
}
