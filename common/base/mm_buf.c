#include "mm_buf.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The first allocation of a buffer that grows geometrically. */
#define MM_BUF_MIN_CAP 256

void mm_buf_init(mm_buf_t *b) {
        *b = (mm_buf_t)MM_BUF_INIT;
}

void mm_buf_release(mm_buf_t *b) {
        if (!b)
                return;
        free(b->p);
        b->p = NULL;
        b->len = b->cap = 0;
        b->err = MM_BUF_OK;
}

void mm_buf_set_max(mm_buf_t *b, size_t max) {
        b->max = max;
}

/* Checks that n more bytes (and a NUL) may be held: sets b->err and
 * returns -1 when b failed before, when the limit would be passed, or when
 * the size overflows. */
static int room_allowed(mm_buf_t *b, size_t n) {
        if (b->err)
                return -1;
        if (b->max && (n > b->max || b->len > b->max - n)) {
                b->err = MM_BUF_ELIMIT;
                return -1;
        }
        if (n >= SIZE_MAX - b->len) {
                b->err = MM_BUF_ENOMEM;
                return -1;
        }
        return 0;
}

/* Reallocates b to `cap` bytes (more than len). */
static int resize(mm_buf_t *b, size_t cap) {
        char *p = realloc(b->p, cap);
        if (!p) {
                b->err = MM_BUF_ENOMEM;
                return -1;
        }
        if (!b->p)
                p[0] = '\0';
        b->p = p;
        b->cap = cap;
        return 0;
}

int mm_buf_grow(mm_buf_t *b, size_t n) {
        if (room_allowed(b, n))
                return -1;
        size_t need = b->len + n + 1;
        if (need <= b->cap)
                return 0;
        size_t cap = b->cap ? b->cap : MM_BUF_MIN_CAP;
        while (cap < need)
                cap = cap > SIZE_MAX / 2 ? need : cap * 2;
        if (b->max && b->max < SIZE_MAX && cap > b->max + 1)
                cap = b->max + 1; /* need <= max + 1: see room_allowed */
        return resize(b, cap);
}

int mm_buf_reserve_exact(mm_buf_t *b, size_t n) {
        if (room_allowed(b, n))
                return -1;
        if (b->len + n + 1 <= b->cap)
                return 0;
        return resize(b, b->len + n + 1);
}

int mm_buf_vprintf(mm_buf_t *b, const char *fmt, va_list ap) {
        va_list again;
        if (b->err)
                return -1;
        va_copy(again, ap);
        size_t avail = b->cap - b->len; /* 0 before the first allocation */
        int n = vsnprintf(b->p ? b->p + b->len : NULL, avail, fmt, ap);
        if (n >= 0 && (size_t)n >= avail) {
                /* too long for the room: vsnprintf may have written over
                 * the NUL at len; grow, then print again */
                if (b->p)
                        b->p[b->len] = '\0';
                if (mm_buf_grow(b, (size_t)n)) {
                        va_end(again);
                        return -1;
                }
                n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, again);
        }
        va_end(again);
        if (n < 0) {
                if (b->p)
                        b->p[b->len] = '\0';
                b->err = MM_BUF_EFMT;
                return -1;
        }
        b->len += (size_t)n;
        return 0;
}

int mm_buf_printf(mm_buf_t *b, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        int rc = mm_buf_vprintf(b, fmt, ap);
        va_end(ap);
        return rc;
}

int mm_buf_take(mm_buf_t *b, char **out, size_t *len) {
        *out = NULL;
        if (b->err) {
                mm_buf_release(b);
                return -1;
        }
        if (!b->p && resize(b, 1)) {
                mm_buf_release(b);
                return -1;
        }
        *out = b->p;
        if (len)
                *len = b->len;
        b->p = NULL; /* ownership passed to *out */
        b->len = b->cap = 0;
        return 0;
}

char *mm_buf_read_file(const char *path, size_t max, size_t *len, char *errstr,
                       size_t errstr_size) {
        *len = 0;
        FILE *fp = fopen(path, "rb");
        if (!fp) {
                snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
                return NULL;
        }
        struct stat st;
        if (fstat(fileno(fp), &st) != 0 || st.st_size < 0 ||
            (max && (uint64_t)st.st_size > (uint64_t)max)) {
                snprintf(errstr, errstr_size, "%s: larger than %zu bytes", path, max);
                fclose(fp);
                return NULL;
        }
        char *buf = malloc((size_t)st.st_size + 1);
        if (!buf) {
                fclose(fp);
                snprintf(errstr, errstr_size, "%s: out of memory", path);
                return NULL;
        }
        size_t n = fread(buf, 1, (size_t)st.st_size, fp);
        int bad = ferror(fp);
        fclose(fp);
        if (bad) {
                free(buf);
                snprintf(errstr, errstr_size, "%s: read error", path);
                return NULL;
        }
        buf[n] = '\0';
        *len = n;
        return buf;
}
