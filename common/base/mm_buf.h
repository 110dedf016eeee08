/*
 * mm_buf: the project's one growable byte buffer (text being built, COPY
 * rows, extracted PDF/HTML text, metrics output).
 *
 * The struct is exposed, not opaque, on purpose (as redis' sds and
 * pgbouncer's mbuf are): the buffer is a value embedded in other structs
 * and on the stack, on the parser's hot path (a line of every document is
 * built in one), so
 * - it needs no allocation of its own: `mm_buf_t b = MM_BUF_INIT;`,
 * - appends are static inline: a bounds check and a memcpy, the growth in
 *   mm_buf.c only when the room runs out,
 * - a caller may read p and len directly, and write the bytes in place
 *   (p[0..cap)) after mm_buf_reserve, setting len itself and keeping
 *   p[len] a NUL: mm_text folds a line into a reserved buffer that way.
 * Only the functions below change cap, err and max.
 *
 * Invariants: p is NULL until the first allocation; after it, len < cap
 * and p[len] is '\0' (the bytes are a C string when they hold no NUL).
 *
 * Failure is sticky: when memory runs out (or the limit of mm_buf_set_max
 * would be passed), err is set, the operation returns -1 and changes
 * nothing, and so does every later one that could grow the buffer, until
 * mm_buf_release or mm_buf_take. A caller can append a whole row and check
 * mm_buf_failed once.
 */
#ifndef MM_BUF_H
#define MM_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

/* Why a buffer failed (mm_buf_t.err). */
#define MM_BUF_OK     0
#define MM_BUF_ENOMEM 1 /* out of memory (or a size that overflows) */
#define MM_BUF_ELIMIT 2 /* would pass the limit of mm_buf_set_max */
#define MM_BUF_EFMT   3 /* vsnprintf failed in mm_buf_printf */

typedef struct mm_buf_s {
        char *p;           /* the bytes, NUL-terminated; NULL before any allocation */
        size_t len;        /* bytes in use */
        size_t cap;        /* bytes allocated at p (len + 1 at least) */
        size_t max;        /* most bytes len may reach; 0: no limit */
        unsigned char err; /* MM_BUF_OK or why an operation failed (sticky) */
} mm_buf_t;

/* An empty buffer without a limit (allocates nothing). */
#define MM_BUF_INIT                                                                                \
        { NULL, 0, 0, 0, MM_BUF_OK }

/* Makes `b` empty, without a limit, allocating nothing. Whatever b held is
 * not freed (use on a new buffer). b must not be NULL. */
void mm_buf_init(mm_buf_t *b);

/* Frees the bytes and clears a failure: b is empty again (its limit
 * stays). b may be NULL. */
void mm_buf_release(mm_buf_t *b);

/* Limits len to `max` bytes (0: no limit): an append or reserve that would
 * pass it fails with MM_BUF_ELIMIT. Set it before the first append; the
 * buffer then never allocates more than max + 1 bytes. */
void mm_buf_set_max(mm_buf_t *b, size_t max);

/* The slow path of mm_buf_reserve (call that instead): grows b
 * geometrically (at least 256 bytes, doubling) to hold n more bytes and a
 * NUL. Returns 0, or -1 on failure (then b->err says why). */
int mm_buf_grow(mm_buf_t *b, size_t n);

/* Makes room for `n` more bytes and a NUL, growing geometrically (cheap to
 * call for every piece). On 0, p[len .. len + n] may be written in place.
 * Returns 0, or -1 (out of memory, over the limit, or failed before). */
static inline int mm_buf_reserve(mm_buf_t *b, size_t n) {
        if (!b->err && n < b->cap - b->len)
                return 0;
        return mm_buf_grow(b, n);
}

/* As mm_buf_reserve, but when b must grow it grows to exactly len + n + 1
 * bytes: for a buffer whose final size is known (one allocation, no
 * slack). Returns 0 or -1. */
int mm_buf_reserve_exact(mm_buf_t *b, size_t n);

/* Appends s[0..n) (copied; s stays the caller's, and may be NULL when n is
 * 0). Allocates even for n == 0 on a new buffer, so p is then not NULL.
 * Returns 0, or -1 and changes nothing. */
static inline int mm_buf_append(mm_buf_t *b, const void *s, size_t n) {
        if ((b->err || n >= b->cap - b->len) && mm_buf_grow(b, n))
                return -1;
        if (n)
                memcpy(b->p + b->len, s, n);
        b->len += n;
        b->p[b->len] = '\0';
        return 0;
}

/* Appends one byte. Returns 0 or -1. */
static inline int mm_buf_putc(mm_buf_t *b, char c) {
        if ((b->err || b->cap - b->len < 2) && mm_buf_grow(b, 1))
                return -1;
        b->p[b->len++] = c;
        b->p[b->len] = '\0';
        return 0;
}

/* Appends the C string s (not NULL; copied). Returns 0 or -1. */
static inline int mm_buf_puts(mm_buf_t *b, const char *s) {
        return mm_buf_append(b, s, strlen(s));
}

/* Appends printf-style output (fmt not NULL). Returns 0, or -1 (out of
 * memory, over the limit, or vsnprintf failed: MM_BUF_EFMT). */
int mm_buf_printf(mm_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* mm_buf_printf with a va_list (ap is used once, as by vsnprintf). */
int mm_buf_vprintf(mm_buf_t *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Cuts b to its first `len` bytes (nothing when it holds fewer), keeping
 * its memory and any failure. */
static inline void mm_buf_truncate(mm_buf_t *b, size_t len) {
        if (len < b->len)
                b->len = len;
        if (b->p)
                b->p[b->len] = '\0';
}

/* Empties b, keeping its memory (for the next piece) and any failure. */
static inline void mm_buf_reset(mm_buf_t *b) {
        mm_buf_truncate(b, 0);
}

/* The bytes as a C string, owned by b: "" (static) when nothing was ever
 * allocated. Valid until b next grows or is released. */
static inline const char *mm_buf_cstr(const mm_buf_t *b) {
        return b->p ? b->p : "";
}

/* 1 when an operation on b failed (see b->err), else 0. */
static inline int mm_buf_failed(const mm_buf_t *b) {
        return b->err != MM_BUF_OK;
}

/* Marks b failed as out of memory (when bytes that belong in it could not
 * be made elsewhere), unless it failed already. */
static inline void mm_buf_fail(mm_buf_t *b) {
        if (!b->err)
                b->err = MM_BUF_ENOMEM;
}

/* Hands the bytes to the caller: *out gets a malloc'd NUL-terminated
 * string ("" when b is empty) that the caller frees, *len (len may be
 * NULL) its length. b is left empty, as after mm_buf_release. Returns 0,
 * or -1 when b had failed or memory ran out: the bytes are freed and *out
 * is NULL. */
int mm_buf_take(mm_buf_t *b, char **out, size_t *len);

/* Reads the whole file at `path` (not NULL) into a malloc'd buffer with a
 * NUL after the bytes, which the caller frees; *len receives the size
 * without the NUL. A file larger than `max` bytes is refused (0: no
 * limit). Returns NULL with errstr filled ("PATH: reason") when the file
 * cannot be opened or read, is too large, or memory runs out. */
char *mm_buf_read_file(const char *path, size_t max, size_t *len, char *errstr, size_t errstr_size);

#endif /* MM_BUF_H */
