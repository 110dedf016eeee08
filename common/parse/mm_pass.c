#include "mm_pass.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------------ */
/* Small string helpers                                                 */

/* Lower-cases ASCII and the Latin-1 capitals (Æ Ø Å É ...) of s[0..n) into
 * out (NUL-terminated, at most cap-1 bytes). Returns the length. */
size_t mm_pass_fold(const char *s, size_t n, char *out, size_t cap) {
        size_t o = 0;
        for (size_t i = 0; i < n && o + 1 < cap; i++) {
                /* 8 ASCII bytes at a time (the line passes fold the start
                 * of most lines): bit 7 of a byte plus 0x3f is set from
                 * 'A' up, plus 0x25 from past 'Z' up, and no sum carries. */
                if (n - i >= 8 && o + 9 <= cap) {
                        uint64_t w;
                        memcpy(&w, s + i, 8);
                        if (!(w & 0x8080808080808080ull)) {
                                uint64_t upper = (w + 0x3f3f3f3f3f3f3f3full) &
                                                 ~(w + 0x2525252525252525ull) &
                                                 0x8080808080808080ull;
                                w |= upper >> 2;
                                memcpy(out + o, &w, 8);
                                o += 8;
                                i += 7;
                                continue;
                        }
                }
                unsigned char c = (unsigned char)s[i];
                if (c >= 'A' && c <= 'Z')
                        c = (unsigned char)(c + 32);
                else if (c == 0xC3 && i + 1 < n && o + 2 < cap) {
                        unsigned char d = (unsigned char)s[i + 1];
                        if (d >= 0x80 && d <= 0x9E && d != 0x97)
                                d = (unsigned char)(d + 0x20);
                        out[o++] = (char)c;
                        out[o++] = (char)d;
                        i++;
                        continue;
                }
                out[o++] = (char)c;
        }
        out[o] = '\0';
        return o;
}

char *mm_pass_strndup(const char *s, size_t n) {
        char *d = malloc(n + 1);
        if (d) {
                memcpy(d, s, n);
                d[n] = '\0';
        }
        return d;
}

int mm_pass_trail_punct(char c) {
        return c == ':' || c == ',' || c == '.' || c == ';' || c == ' ' || c == '\t';
}

long mm_pass_number(const char *s, size_t n, long cap) {
        long v = 0;
        for (size_t k = 0; k < n && isdigit((unsigned char)s[k]); k++)
                if ((v = v * 10 + (s[k] - '0')) > cap)
                        return cap + 1;
        return v;
}

json_t *mm_pass_fmt_date(int y, int m, int d) {
        char buf[16];
        snprintf(buf, sizeof(buf), "%04d-%02d-%02d", y, m, d);
        return json_string_nocheck(buf);
}

json_t *mm_pass_fmt_time(int h, int mi) {
        char buf[8];
        snprintf(buf, sizeof(buf), "%02d:%02d", h % 100, mi % 100);
        return json_string_nocheck(buf);
}

linfo_t *mm_pass_li_write(ctx_t *c, size_t i) {
        linfo_t **pg = &c->lip[i / MM_LI_PAGE];
        if (!*pg && !(*pg = calloc(MM_LI_PAGE, sizeof(linfo_t)))) {
                c->oom = 1;
                memset(&c->scratch, 0, sizeof(c->scratch));
                return &c->scratch;
        }
        return &(*pg)[i % MM_LI_PAGE];
}
