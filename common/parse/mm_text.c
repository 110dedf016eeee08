#include "mm_text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

#include "mm_buf.h"
#include "mm_str.h"

/* Memory per line is kept small (16 bytes for the line, 4 for its source
 * offset, plus its text and a NUL): inputs of millions of short lines must
 * stay within a few times their size. */
struct mm_text_s {
        char *src;    /* the decoded source */
        int borrowed; /* src is the caller's buffer */
        size_t srclen;
        int cp1252;
        size_t repairs;
        char *arena; /* NUL-separated line texts */
        size_t alen, acap;
        mm_line_t *lines; /* s holds an arena offset until the text is built */
        uint32_t *marks;  /* source offset of every MARK_EVERY-th line */
        size_t last_off;  /* source offset of the last line emitted */
        size_t nlines, lcap;
        int oom;
};

/* Lines between two full source offsets (mm_text_src_off walks at most
 * this many steps). */
#define MARK_EVERY 32

/* Windows-1252 0x80-0x9F; 0 marks bytes that are undefined there. */
static const uint16_t cp1252_hi[32] = {
        0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
        0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
        0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

int mm_text_utf8_valid(const char *s, size_t len) {
        const unsigned char *p = (const unsigned char *)s, *e = p + len;

        while (p < e) {
                /* Fast path over ASCII, 8 bytes at a time. */
                while (p + 8 <= e) {
                        uint64_t w;
                        memcpy(&w, p, 8);
                        if (w & 0x8080808080808080ULL)
                                break;
                        p += 8;
                }
                if (p >= e)
                        break;
                if (*p < 0x80) {
                        p++;
                        continue;
                }
                /* Two-byte sequences (æ, ø, å) are valid exactly when the
                 * lead byte is C2-DF and a continuation byte follows. */
                if (*p >= 0xC2 && *p <= 0xDF && e - p >= 2 && (p[1] & 0xC0) == 0x80) {
                        p += 2;
                        continue;
                }
                utf8proc_int32_t cp;
                utf8proc_ssize_t n = utf8proc_iterate(p, e - p, &cp);
                if (n < 0)
                        return 0;
                p += n;
        }
        return 1;
}

static int utf8_put(mm_buf_t *b, int32_t cp) {
        utf8proc_uint8_t tmp[4];
        utf8proc_ssize_t n = utf8proc_encode_char(cp, tmp);
        return mm_buf_append(b, (const char *)tmp, (size_t)n);
}

static int decode_cp1252(const char *buf, size_t len, mm_buf_t *out) {
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)buf[i];
                int32_t cp = c;
                if (c >= 0x80 && c < 0xA0)
                        cp = cp1252_hi[c - 0x80] ? cp1252_hi[c - 0x80] : 0xFFFD;
                if (utf8_put(out, cp))
                        return -1;
        }
        return 0;
}

static const struct {
        const char *name;
        int32_t cp;
} entities[] = {{"amp", '&'},      {"lt", '<'},       {"gt", '>'},        {"quot", '"'},
                {"apos", '\''},    {"nbsp", 0xA0},    {"aelig", 0xE6},    {"AElig", 0xC6},
                {"oslash", 0xF8},  {"Oslash", 0xD8},  {"aring", 0xE5},    {"Aring", 0xC5},
                {"eacute", 0xE9},  {"Eacute", 0xC9},  {"auml", 0xE4},     {"ouml", 0xF6},
                {"uuml", 0xFC},    {"Auml", 0xC4},    {"Ouml", 0xD6},     {"Uuml", 0xDC},
                {"ndash", 0x2013}, {"mdash", 0x2014}, {"hellip", 0x2026}, {"laquo", 0xAB},
                {"raquo", 0xBB},   {"lsquo", 0x2018}, {"rsquo", 0x2019},  {"ldquo", 0x201C},
                {"rdquo", 0x201D}, {"bull", 0x2022},  {"sect", 0xA7},     {"para", 0xB6},
                {"shy", 0xAD},     {"euro", 0x20AC},  {"copy", 0xA9},     {"deg", 0xB0},
                {"frac12", 0xBD},  {"times", 0xD7},   {NULL, 0}};

/* Decodes an entity at s (pointing at '&'). Returns its length or 0. */
static size_t entity_decode(const char *s, const char *e, int32_t *cp) {
        const char *q = s + 1;
        char name[12];
        size_t n = 0;

        if (q < e && *q == '#') {
                int hex = 0;
                long v = 0;
                q++;
                if (q < e && (*q == 'x' || *q == 'X')) {
                        hex = 1;
                        q++;
                }
                const char *d = q;
                while (q < e && q - d < 8 &&
                       ((*q >= '0' && *q <= '9') ||
                        (hex && ((*q >= 'a' && *q <= 'f') || (*q >= 'A' && *q <= 'F'))))) {
                        int dv = *q <= '9' ? *q - '0' : (*q | 32) - 'a' + 10;
                        v = v * (hex ? 16 : 10) + dv;
                        q++;
                }
                if (q == d || q >= e || *q != ';' ||
                    !utf8proc_codepoint_valid((utf8proc_int32_t)v) || v == 0)
                        return 0;
                *cp = (int32_t)v;
                return (size_t)(q + 1 - s);
        }
        while (q < e && n < sizeof(name) - 1 &&
               ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9')))
                name[n++] = *q++;
        name[n] = '\0';
        if (!n || q >= e || *q != ';')
                return 0;
        for (int i = 0; entities[i].name; i++)
                if (!strcmp(entities[i].name, name)) {
                        *cp = entities[i].cp;
                        return (size_t)(q + 1 - s);
                }
        return 0;
}

/* The caller's noise patterns. */
typedef struct noise_s {
        mm_rx_t *const *rx;
        const int *drop_line;
        const uint64_t *need; /* cue words per pattern, or NULL */
        const mm_cues_t *cues;
        size_t n;
        mm_rx_match_t *m;
} noise_t;

/* Bytes that may start markup in do_line. */
static const unsigned char special[256] = {
        ['<'] = 1, ['&'] = 1, ['*'] = 1, ['_'] = 1, ['['] = 1, ['\\'] = 1};

/* The first byte in [p, e) that may start markup, or e. Every such byte
 * lies in 0x26..0x5F: words of 8 bytes with none there (lower-case text,
 * blanks, UTF-8) are passed over whole. */
static const char *next_special(const char *p, const char *e) {
        while (p < e) {
                while (e - p >= 8 && !mm_str_word_has_between(mm_str_word(p), 0x25, 0x60))
                        p += 8;
                for (const char *end = e - p >= 8 ? p + 8 : e; p < end; p++)
                        if (special[(unsigned char)*p])
                                return p;
        }
        return e;
}

static int is_block_tag(const char *name, size_t n) {
        static const char *const block[] = {"p",  "br",         "div",     "li",      "tr", "h1",
                                            "h2", "h3",         "h4",      "h5",      "h6", "ul",
                                            "ol", "table",      "section", "article", "hr", "dt",
                                            "dd", "blockquote", "pre",     NULL};
        for (int i = 0; block[i]; i++)
                if (strlen(block[i]) == n && !strncasecmp(block[i], name, n))
                        return 1;
        return 0;
}

/* Appends the finished line in `b` to the text. */
static void emit_line(mm_text_t *t, mm_buf_t *b, size_t src_off, int heading, int bold, int bullet,
                      int cut) {
        if (t->oom)
                return;
        if (t->nlines == t->lcap) {
                size_t ncap = t->lcap ? t->lcap + t->lcap / 2 : 256;
                mm_line_t *n = realloc(t->lines, ncap * sizeof(*n));
                if (n)
                        t->lines = n;
                uint32_t *o = n ? realloc(t->marks, (ncap / MARK_EVERY + 1) * sizeof(*o)) : NULL;
                if (!n || !o) {
                        t->oom = 1;
                        return;
                }
                t->marks = o;
                t->lcap = ncap;
        }
        if (b->len > MM_TEXT_MAX_LINE || src_off - t->last_off > MM_TEXT_MAX_LINE) {
                t->oom = 1;
                return;
        }
        if (t->alen + b->len + 1 > t->acap) {
                size_t ncap = t->acap ? t->acap : 4096;
                while (ncap < t->alen + b->len + 1)
                        ncap *= 2;
                char *n = realloc(t->arena, ncap);
                if (!n) {
                        t->oom = 1;
                        return;
                }
                t->arena = n;
                t->acap = ncap;
        }
        mm_line_t *r = &t->lines[t->nlines];
        memset(r, 0, sizeof(*r));
        r->s = (const char *)(uintptr_t)t->alen; /* an offset until the arena is final */
        r->len = (uint32_t)b->len;
        r->heading = (unsigned)heading & 7u;
        r->bold = bold != 0;
        r->bullet = bullet != 0;
        r->cut = cut != 0;
        r->blank = b->len == 0;
        /* The source offset, as the step from the line before, with a
         * full offset every MARK_EVERY lines. */
        r->src_step = (unsigned)(src_off - t->last_off) & MM_TEXT_MAX_LINE;
        if (t->nlines % MARK_EVERY == 0)
                t->marks[t->nlines / MARK_EVERY] = (uint32_t)src_off;
        t->last_off = src_off;
        t->nlines++;
        if (b->len)
                memcpy(t->arena + t->alen, b->p, b->len);
        t->arena[t->alen + b->len] = '\0';
        t->alen += b->len + 1;
}

static int is_space_cp(int32_t cp) {
        return cp == ' ' || cp == '\t' || cp == 0xA0 || (cp >= 0x2000 && cp <= 0x200B) ||
               cp == 0x202F || cp == 0x205F || cp == 0x3000 || cp == 0xFEFF;
}

/* Whether NFC could change a line holding this code point. */
static int needs_nfc(int32_t cp) {
        if (cp < 0x300)
                return 0;
        const utf8proc_property_t *pr = utf8proc_get_property(cp);
        return pr->combining_class != 0 || pr->comp_exclusion || (cp >= 0x1100 && cp <= 0x11FF) ||
               (cp >= 0x2126 && cp <= 0x212B) || pr->category == UTF8PROC_CATEGORY_MN ||
               pr->category == UTF8PROC_CATEGORY_MC;
}

/* The length of the plain character at q (before e) that fold_line copies
 * unchanged: printable ASCII other than a blank, or a character of U+00C0
 * to U+00FF (Æ, ø, é: no space, control, combining mark or private-use
 * glyph, and nothing NFC changes). 0 for any other. */
static size_t plain_char(const unsigned char *q, const unsigned char *e) {
        if (q >= e)
                return 0;
        if (*q > 0x20 && *q < 0x7F)
                return 1;
        return *q == 0xC3 && q + 1 < e && (q[1] & 0xC0) == 0x80 ? 2 : 0;
}

/* Whether the 8 bytes at q continue a run of fold_line's fast path as they
 * are: printable ASCII, and blanks that stand alone with a printable byte
 * after them (so not last). A run's next byte before q is printable or
 * such a blank, so a blank first in the word follows no blank. */
static int plain_word(const unsigned char *q) {
        uint64_t w = mm_str_word((const char *)q);
        if ((w & 0x8080808080808080ull) || mm_str_word_has_below(w, 0x20) ||
            mm_str_word_has_byte(w, 0x7f) || q[7] == ' ')
                return 0;
        /* 0x80 in each byte that is a blank (exact, not the "any" test). */
        uint64_t x = w ^ 0x2020202020202020ull;
        uint64_t blank = ~(((x & 0x7f7f7f7f7f7f7f7full) + 0x7f7f7f7f7f7f7f7full) | x |
                           0x7f7f7f7f7f7f7f7full);
        return !(blank & (blank << 8));
}

/* The end of a run of plain characters (printable ASCII, U+00C0 to
 * U+00FF) and the single blanks between them, from p on (p follows a plain
 * character): fold_line copies it as it is (a blank before a plain
 * character stays one blank either way). */
static const unsigned char *plain_run(const unsigned char *p, const unsigned char *e) {
        size_t k;
        for (;;) {
                while (e - p >= 8 && plain_word(p))
                        p += 8;
                if ((k = plain_char(p, e)))
                        p += k;
                else if (p < e && *p == ' ' && plain_char(p + 1, e))
                        p++;
                else
                        return p;
        }
}

/* Writes the blank held back (pending: 0 none, 1 space, 2 tab), unless
 * the line is still empty. tmp has room (see finish_line). */
static void put_pending(mm_buf_t *tmp, int pending) {
        if (pending && tmp->len > 0)
                tmp->p[tmp->len++] = pending == 2 ? '\t' : ' ';
}

/* Folds the character at p (not a plain one) into tmp: white space is
 * held back in *pending, controls are dropped, a private-use glyph too (a
 * Word bullet first on the line sets *bullet), a space before a combining
 * mark is dropped (a repair), and *nfc is set when NFC could change the
 * line. Returns the bytes read (1 for a byte that is not UTF-8). */
static size_t fold_char(mm_text_t *t, const unsigned char *p, const unsigned char *e, mm_buf_t *tmp,
                        int *pending, int *bullet, int *nfc) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(p, e - p, &cp);
        if (n <= 0)
                return 1;
        if (is_space_cp(cp)) {
                if (cp == '\t')
                        *pending = 2;
                else if (!*pending)
                        *pending = 1;
                return (size_t)n;
        }
        if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0) || cp == 0xAD)
                return (size_t)n;
        if (cp >= 0xE000 && cp <= 0xF8FF) {
                if (tmp->len == 0)
                        *bullet = 1;
                return (size_t)n;
        }
        if (cp >= 0x300) {
                const utf8proc_property_t *pr = utf8proc_get_property(cp);
                if (*pending && pr->category == UTF8PROC_CATEGORY_MN && tmp->len > 0) {
                        *pending = 0;
                        t->repairs++;
                }
                if (needs_nfc(cp))
                        *nfc = 1;
        }
        put_pending(tmp, *pending);
        *pending = 0;
        memcpy(tmp->p + tmp->len, p, (size_t)n);
        tmp->len += (size_t)n;
        return (size_t)n;
}

/* Folds white space into single blanks (a tab stays a tab), drops
 * controls and private-use glyphs (Word bullets: then *bullet is set) and a
 * space that stands before a combining mark, from raw into tmp (empty,
 * with room for raw's bytes). Returns 1 when the line needs NFC. */
static int fold_line(mm_text_t *t, const mm_buf_t *raw, mm_buf_t *tmp, int *bullet) {
        int nfc = 0, pending = 0; /* pending: 0 none, 1 space, 2 tab */
        const unsigned char *p = (const unsigned char *)raw->p, *e = p + raw->len;
        while (p < e) {
                /* Fast path: a run of plain characters, copied whole. */
                size_t k = plain_char(p, e);
                if (k) {
                        const unsigned char *q = plain_run(p + k, e);
                        put_pending(tmp, pending);
                        pending = 0;
                        memcpy(tmp->p + tmp->len, p, (size_t)(q - p));
                        tmp->len += (size_t)(q - p);
                        p = q;
                } else if (*p == ' ' && !pending) {
                        pending = 1;
                        p++;
                } else {
                        p += fold_char(t, p, e, tmp, &pending, bullet, &nfc);
                }
        }
        tmp->p[tmp->len] = '\0';
        return nfc;
}

static void nfc_line(mm_text_t *t, mm_buf_t *tmp) {
        utf8proc_uint8_t *c = utf8proc_NFC((utf8proc_uint8_t *)tmp->p);
        if (c) {
                size_t cl = strlen((char *)c);
                mm_buf_reset(tmp);
                if (mm_buf_append(tmp, (char *)c, cl))
                        t->oom = 1;
                free(c);
        }
}

/* Strips list bullets at the start of tmp; returns 1 when there were any. */
static int strip_bullets(mm_buf_t *tmp) {
        int bullet = 0;
        /* First bytes of the bullets below: most lines start with none. */
        static const unsigned char lead[256] = {
                ['-'] = 1, ['*'] = 1, ['+'] = 1, ['>'] = 1, [0xc2] = 1, [0xe2] = 1, [0xef] = 1};
        /* List bullets at the start. */
        while (tmp->len && lead[(unsigned char)tmp->p[0]]) {
                static const char *const bullets[] = {"- ",
                                                      "* ",
                                                      "\xe2\x80\xa2",
                                                      "\xc2\xb7",
                                                      "\xe2\x96\xaa",
                                                      "\xe2\x97\xa6",
                                                      "\xe2\x80\x93 ",
                                                      "\xef\x82\xa7",
                                                      "+ ",
                                                      "> ",
                                                      NULL};
                int hit = 0;
                for (int i = 0; bullets[i]; i++) {
                        size_t bl = strlen(bullets[i]);
                        if (tmp->len >= bl && !memcmp(tmp->p, bullets[i], bl)) {
                                memmove(tmp->p, tmp->p + bl, tmp->len - bl + 1);
                                tmp->len -= bl;
                                while (tmp->len && (tmp->p[0] == ' ' || tmp->p[0] == '\t')) {
                                        memmove(tmp->p, tmp->p + 1, tmp->len);
                                        tmp->len--;
                                }
                                bullet = hit = 1;
                                break;
                        }
                }
                if (!hit)
                        break;
        }
        if (tmp->len == 1 && (tmp->p[0] == '-' || tmp->p[0] == '*'))
                mm_buf_reset(tmp);

        return bullet;
}

/* Cuts web noise from tmp (or empties it); returns 1 when the end of the
 * line was cut. */
static int cut_noise(mm_buf_t *tmp, const noise_t *nz) {
        int cut = 0, cued = nz->need && nz->cues;
        uint64_t have = cued && nz->n ? mm_cues_find(nz->cues, tmp->p, tmp->len) : ~0ull;
        /* Web noise. */
        for (size_t i = 0; i < nz->n && tmp->len; i++) {
                size_t b, en;
                if (cued && !mm_cues_may(nz->need[i], have))
                        continue;
                if (mm_rx_exec(nz->rx[i], nz->m, tmp->p, tmp->len, 0) &&
                    !mm_rx_group(nz->m, 0, &b, &en)) {
                        if (nz->drop_line && nz->drop_line[i]) {
                                mm_buf_reset(tmp);
                        } else if (en > b) {
                                if (en == tmp->len)
                                        cut = 1;
                                memmove(tmp->p + b, tmp->p + en, tmp->len - en + 1);
                                tmp->len -= en - b;
                                /* the cut joins text: a word may span it */
                                if (cued)
                                        have = mm_cues_find(nz->cues, tmp->p, tmp->len);
                        }
                }
        }
        return cut;
}

/* Finishes one output line: bullets, noise, combining repair, NFC, white
 * space, then emits it. `raw` holds the stripped text. */
static void finish_line(mm_text_t *t, mm_buf_t *raw, mm_buf_t *tmp, size_t src_off, int heading,
                        int bold, const noise_t *nz) {
        int bullet = 0;
        mm_buf_reset(tmp);
        if (mm_buf_reserve(tmp, raw->len + 1)) {
                t->oom = 1;
                return;
        }
        if (fold_line(t, raw, tmp, &bullet))
                nfc_line(t, tmp);
        bullet |= strip_bullets(tmp);
        int cut = cut_noise(tmp, nz);
        /* Trim. */
        while (tmp->len && (tmp->p[tmp->len - 1] == ' ' || tmp->p[tmp->len - 1] == '\t'))
                tmp->p[--tmp->len] = '\0';
        size_t lead = 0;
        while (lead < tmp->len && (tmp->p[lead] == ' ' || tmp->p[lead] == '\t'))
                lead++;
        if (lead) {
                memmove(tmp->p, tmp->p + lead, tmp->len - lead + 1);
                tmp->len -= lead;
        }
        emit_line(t, tmp, src_off, heading, bold, bullet, cut);
}

static int starts_with(const char *p, const char *e, const char *lit) {
        size_t n = strlen(lit);
        return (size_t)(e - p) >= n && !strncasecmp(p, lit, n);
}

static int ends_with(const char *p, const char *e, const char *lit) {
        size_t n = strlen(lit);
        return (size_t)(e - p) >= n && !strncasecmp(e - n, lit, n);
}

/* An HTML tag at p: an autolink keeps its address (added to raw); other
 * tags are dropped, and *block is set for a block tag (a line break).
 * Returns the position after the tag, or NULL when p starts no tag. */
static const char *html_tag(const char *p, const char *e, mm_buf_t *raw, int *block) {
        const char *gt = memchr(p, '>', (size_t)(e - p));
        const char *q = p + 1;
        int close = 0;
        if (!gt || gt - p >= 300)
                return NULL;
        if (*q == '/') {
                close = 1;
                q++;
        }
        if ((gt - q) > 3 && (starts_with(q, gt, "http") || starts_with(q, gt, "mailto:") ||
                             starts_with(q, gt, "www."))) {
                mm_buf_append(raw, q, (size_t)(gt - q));
                return gt + 1;
        }
        if (!(q < gt &&
              ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q == '!' && !close))))
                return NULL;
        const char *ne = q;
        while (ne < gt && ((*ne >= 'a' && *ne <= 'z') || (*ne >= 'A' && *ne <= 'Z') ||
                           (*ne >= '0' && *ne <= '9')))
                ne++;
        if (!(ne == gt || *ne == ' ' || *ne == '/' || *ne == '\t' || *q == '!'))
                return NULL;
        *block = is_block_tag(q, (size_t)(ne - q));
        return gt + 1;
}

/* A markdown heading marker ("#" to "######" before a blank or the end)
 * at *p: returns its level and moves *p past it and the blanks after it;
 * 0 (and *p unchanged) when there is none. */
static int heading_marker(const char **p, const char *e) {
        const char *b = *p, *q = b;
        if (b >= e || *b != '#')
                return 0;
        while (q < e && *q == '#' && q - b < 7)
                q++;
        if (q - b > 6 || !(q == e || *q == ' ' || *q == '\t'))
                return 0;
        int level = (int)(q - b);
        while (q < e && (*q == ' ' || *q == '\t'))
                q++;
        *p = q;
        return level;
}

/* Whether the whole of [p, e) (blanks at the end aside) is bold: **...**,
 * __...__, <b>...</b> or <strong>...</strong>. */
static int bold_line(const char *p, const char *e) {
        while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
                e--;
        /* Every bold form starts with '*', '_' or '<'. */
        if (!(p < e && strchr("*_<", *p)))
                return 0;
        return (starts_with(p, e, "**") && ends_with(p, e, "**") && e - p > 4) ||
               (starts_with(p, e, "__") && ends_with(p, e, "__") && e - p > 4) ||
               (starts_with(p, e, "<b>") && ends_with(p, e, "</b>")) ||
               (starts_with(p, e, "<strong>") && ends_with(p, e, "</strong>"));
}

/* Markup other than a tag at p: an entity (decoded into raw), a run of **
 * or __ (dropped), [text](target) (the text kept), a backslash escape (the
 * character kept). Returns the position after it, or NULL when p starts
 * none. */
static const char *inline_markup(const char *p, const char *e, mm_buf_t *raw) {
        char c = *p;
        if (c == '&') {
                int32_t cp;
                size_t n = entity_decode(p, e, &cp);
                if (!n)
                        return NULL;
                utf8_put(raw, cp);
                return p + n;
        }
        if ((c == '*' || c == '_') && p + 1 < e && p[1] == c) {
                while (p < e && *p == c)
                        p++;
                return p;
        }
        if (c == '[') {
                const char *rb = memchr(p, ']', (size_t)(e - p)), *rp = NULL;
                if (rb && rb + 1 < e && rb[1] == '(')
                        rp = memchr(rb, ')', (size_t)(e - rb));
                if (!rp)
                        return NULL;
                mm_buf_append(raw, p + 1, (size_t)(rb - p - 1));
                return rp + 1;
        }
        if (c == '\\' && p + 1 < e && strchr("\\`*_{}[]()#+-.!<>|", p[1])) {
                mm_buf_putc(raw, p[1]);
                return p + 2;
        }
        return NULL;
}

/* Normalises one source line [p, e) starting at source offset `off`: a
 * block tag ends an output line there and starts the next. */
static void do_line(mm_text_t *t, const char *p, const char *e, size_t off, mm_buf_t *raw,
                    mm_buf_t *tmp, const noise_t *nz) {
        const char *s = p;
        size_t seg_off = off;

        while (p < e && (*p == ' ' || *p == '\t'))
                p++;
        int heading = heading_marker(&p, e);
        int bold = bold_line(p, e);

        mm_buf_reset(raw);
        if (mm_buf_reserve(raw, (size_t)(e - p) + 8)) {
                t->oom = 1;
                return;
        }
        while (p < e && !t->oom) {
                int block = 0;
                const char *after = *p == '<' ? html_tag(p, e, raw, &block) : NULL;
                if (after) {
                        if (block) {
                                finish_line(t, raw, tmp, seg_off, heading, bold, nz);
                                mm_buf_reset(raw);
                                heading = bold = 0;
                                seg_off = off + (size_t)(after - s);
                        }
                        p = after;
                } else if ((after = inline_markup(p, e, raw))) {
                        p = after;
                } else {
                        /* Copy the run of ordinary bytes up to the next
                         * byte that may start markup, in one go. */
                        const char *q = next_special(p + 1, e);
                        mm_buf_append(raw, p, (size_t)(q - p));
                        p = q;
                }
        }
        finish_line(t, raw, tmp, seg_off, heading, bold, nz);
}

/* The first line break (\n, \r or \f) in [p, e), or e. Words of 8 bytes
 * without a byte below 0x0E hold none and are passed over whole. */
static const char *line_end(const char *p, const char *e) {
        while (p < e) {
                while (e - p >= 8 && !mm_str_word_has_below(mm_str_word(p), '\r' + 1))
                        p += 8;
                for (const char *end = e - p >= 8 ? p + 8 : e; p < end; p++)
                        if (*p == '\n' || *p == '\r' || *p == '\f')
                                return p;
        }
        return e;
}

static mm_text_t *text_new(const char *buf, size_t len, int borrow, const noise_t *nz, char *errstr,
                           size_t errstr_size) {
        mm_text_t *t = calloc(1, sizeof(*t));
        mm_buf_t raw = MM_BUF_INIT, tmp = MM_BUF_INIT;

        if (!t || len > UINT32_MAX - 1)
                goto oom;
        if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3)) {
                buf += 3;
                len -= 3;
        }
        if (mm_text_utf8_valid(buf, len) && borrow) {
                t->src = (char *)buf; /* not written to, and not freed */
                t->borrowed = 1;
                t->srclen = len;
        } else if (mm_text_utf8_valid(buf, len)) {
                t->src = malloc(len + 1);
                if (!t->src)
                        goto oom;
                memcpy(t->src, buf, len);
                t->src[len] = '\0';
                t->srclen = len;
        } else {
                mm_buf_t d = MM_BUF_INIT;
                t->cp1252 = 1;
                if (decode_cp1252(buf, len, &d)) {
                        mm_buf_release(&d);
                        goto oom;
                }
                if (mm_buf_take(&d, &t->src, &t->srclen))
                        goto oom;
        }

        /* The normalised lines take no more bytes than the source (a line
         * break, or the tag that made one, becomes the NUL) but for rare
         * expansions (NFC, entities): sized once, the arena is not copied
         * as it grows. */
        t->acap = t->srclen + 64;
        if (!(t->arena = malloc(t->acap)))
                goto oom;
        {
                const char *p = t->src, *e = t->src + t->srclen;
                while (p < e && !t->oom) {
                        const char *q = line_end(p, e);
                        do_line(t, p, q, (size_t)(p - t->src), &raw, &tmp, nz);
                        if (q < e && *q == '\r' && q + 1 < e && q[1] == '\n')
                                q++;
                        p = q + 1;
                }
        }
        mm_buf_release(&raw);
        mm_buf_release(&tmp);
        if (t->oom)
                goto oom;
        for (size_t i = 0; i < t->nlines; i++)
                t->lines[i].s = t->arena + (uintptr_t)t->lines[i].s;
        return t;
oom:
        mm_buf_release(&raw);
        mm_buf_release(&tmp);
        mm_text_destroy(t);
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
}

mm_text_t *mm_text_new(const char *buf, size_t len, mm_rx_t *const *noise, const int *drop_line,
                       size_t nnoise, mm_rx_match_t *m, char *errstr, size_t errstr_size) {
        const noise_t nz = {noise, drop_line, NULL, NULL, nnoise, m};
        return text_new(buf, len, 0, &nz, errstr, errstr_size);
}

mm_text_t *mm_text_new_borrowed(const char *buf, size_t len, mm_rx_t *const *noise,
                                const int *drop_line, const uint64_t *need, size_t nnoise,
                                const mm_cues_t *cues, mm_rx_match_t *m, char *errstr,
                                size_t errstr_size) {
        const noise_t nz = {noise, drop_line, need, cues, nnoise, m};
        return text_new(buf, len, 1, &nz, errstr, errstr_size);
}

void mm_text_destroy(mm_text_t *t) {
        if (!t)
                return;
        if (!t->borrowed)
                free(t->src);
        free(t->arena);
        free(t->marks);
        free(t->lines);
        free(t);
}

size_t mm_text_nlines(const mm_text_t *t) {
        return t->nlines;
}

const mm_line_t *mm_text_line(const mm_text_t *t, size_t i) {
        return i < t->nlines ? &t->lines[i] : NULL;
}

size_t mm_text_src_off(const mm_text_t *t, size_t i) {
        if (i >= t->nlines)
                return t->srclen;
        size_t k = i - i % MARK_EVERY, off = t->marks[k / MARK_EVERY];
        while (k < i)
                off += t->lines[++k].src_step;
        return off;
}

const char *mm_text_source(const mm_text_t *t, size_t *len) {
        if (len)
                *len = t->srclen;
        return t->src;
}

int mm_text_was_cp1252(const mm_text_t *t) {
        return t->cp1252;
}

size_t mm_text_repairs(const mm_text_t *t) {
        return t->repairs;
}
