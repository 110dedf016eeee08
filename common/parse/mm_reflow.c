#include "mm_reflow.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm_str.h"
#include "mm_text.h"

/* Lines this long or longer may be run-on pages; once most of the text
 * stands in such lines, lines of RF_LINE bytes or more are looked at (the
 * last page of an excerpt, a short page). */
#define RF_LONG 300
#define RF_LINE 100
/* Lines that may start with a page number to erase. */
#define RF_SHORT 12
/* Break points a line needs to be broken. */
#define RF_MIN_POINTS 3
/* Break points kept per line (a page has a few dozen). */
#define RF_MAX_POINTS 1024

enum { RF_BEFORE, RF_AFTER, RF_AROUND, RF_ERASE, RF_LABEL, RF_KINDS };

static void put_escaped(mm_buf_t *b, const char *s) {
        for (; *s; s++) {
                if (strchr("\\^$.|?*+()[]{}", *s))
                        mm_buf_putc(b, '\\');
                mm_buf_putc(b, *s == ' ' ? ' ' : *s);
        }
}

/* "(?<!\S)(?:Sagsnr|Mødedato|...)\.? ?:" from the first column of the label
 * tables (a trailing "." of a label is optional). */
static void label_pattern(const mm_parser_t *p, mm_buf_t *b) {
        const mm_table_t *t[] = {p->t_labels, p->t_case_labels, p->t_sections};
        mm_buf_append(b, "(?<!\\S)(?:", 10);
        int first = 1;
        for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++)
                for (size_t r = 0; r < mm_table_rows(t[k]); r++) {
                        char w[128];
                        snprintf(w, sizeof(w), "%s", mm_table_get(t[k], r, 0));
                        size_t n = strlen(w);
                        while (n && (w[n - 1] == '.' || w[n - 1] == ':'))
                                w[--n] = '\0';
                        if (!n)
                                continue;
                        if (!first)
                                mm_buf_putc(b, '|');
                        first = 0;
                        put_escaped(b, w);
                }
        mm_buf_append(b, ")\\.? ?:", 7);
}

int mm_reflow_load(mm_parser_t *p, char *errstr, size_t errstr_size) {
        static const char *const kind[] = {"before", "after", "around", "erase"};
        mm_buf_t alt[RF_KINDS] = {MM_BUF_INIT, MM_BUF_INIT, MM_BUF_INIT, MM_BUF_INIT, MM_BUF_INIT};
        int rc = 0;
        if (!(p->t_reflow = mm_table_load("reflow", 2, errstr, errstr_size)))
                return -1;
        for (size_t r = 0; r < mm_table_rows(p->t_reflow) && !rc; r++) {
                const char *where = mm_table_get(p->t_reflow, r, 0);
                const char *pat = mm_table_get(p->t_reflow, r, 1);
                int k = 0;
                while (k < RF_LABEL && strcmp(kind[k], where))
                        k++;
                if (k == RF_LABEL) {
                        snprintf(errstr, errstr_size, "reflow table: unknown place \"%s\"", where);
                        rc = -1;
                        break;
                }
                mm_buf_append(&alt[k], alt[k].len ? "|(?:" : "(?:", alt[k].len ? 4 : 3);
                mm_buf_append(&alt[k], pat, strlen(pat));
                mm_buf_putc(&alt[k], ')');
        }
        if (!rc)
                label_pattern(p, &alt[RF_LABEL]);
        for (int k = 0; k < RF_KINDS && !rc; k++)
                if (alt[k].p && !(p->reflow[k] = mm_rx_new(alt[k].p, 0, errstr, errstr_size)))
                        rc = -1;
        for (int k = 0; k < RF_KINDS; k++)
                mm_buf_release(&alt[k]);
        return rc;
}

void mm_reflow_unload(mm_parser_t *p) {
        for (int k = 0; k < RF_KINDS; k++)
                mm_rx_destroy(p->reflow[k]);
        mm_table_destroy(p->t_reflow);
}

/* Whether lines of RF_LONG bytes or more hold most of the text: one pass of
 * memchr over the document. */
static int mostly_long(const char *buf, size_t len) {
        size_t inlong = 0, inshort = 0;
        /* stops as soon as the short lines hold half the text */
        for (const char *s = buf, *e = buf + len; s < e && 2 * inshort < len;) {
                const char *nl = memchr(s, '\n', (size_t)(e - s));
                size_t n = (size_t)((nl ? nl : e) - s);
                if (n >= RF_LONG)
                        inlong += n;
                else
                        inshort += n + 1;
                s += n + 1;
        }
        return 2 * inlong > len;
}

typedef struct pts_s {
        size_t at[RF_MAX_POINTS]; /* offsets of spaces that become breaks */
        size_t n;
} pts_t;

static void add_point(pts_t *pt, const char *s, size_t n, size_t at) {
        if (at > 0 && at < n && s[at] == ' ' && pt->n < RF_MAX_POINTS)
                pt->at[pt->n++] = at;
}

/* The break points of every match of the kind-k pattern in s[0..n). */
static void find_points(const mm_parser_t *p, mm_rx_match_t *m, int k, const char *s, size_t n,
                        pts_t *pt) {
        size_t b, e;
        for (size_t from = 0; from < n && p->reflow[k];) {
                if (!mm_rx_exec(p->reflow[k], m, s, n, from) || mm_rx_group(m, 0, &b, &e))
                        break;
                if (k != RF_AFTER && b > 0)
                        add_point(pt, s, n, b - 1);
                if (k == RF_AFTER || k == RF_AROUND)
                        add_point(pt, s, n, e);
                from = e > b ? e : b + 1;
        }
}

/* " 1. Lokalplan ... 2. Kommuneplantillæg ... 3. ...": a table of contents
 * run into the line, broken before each number that runs on by one (three
 * or more of them). */
static void numbered_run(const char *s, size_t n, pts_t *pt) {
        char needle[16];
        size_t at[RF_MAX_POINTS], na = 0, from = 0;
        for (int num = 1; na < RF_MAX_POINTS; num++) {
                int l = snprintf(needle, sizeof(needle), " %d. ", num);
                const char *hit = NULL;
                for (const char *q = s + from; q + l < s + n; q++) {
                        q = memchr(q, ' ', (size_t)(s + n - q));
                        if (!q || q + l >= s + n)
                                break;
                        if (!memcmp(q, needle, (size_t)l) && !islower((unsigned char)q[l])) {
                                hit = q;
                                break;
                        }
                }
                if (!hit)
                        break;
                at[na++] = (size_t)(hit - s);
                from = (size_t)(hit - s) + (size_t)l;
        }
        for (size_t k = 0; na >= RF_MIN_POINTS && k < na; k++)
                add_point(pt, s, n, at[k]);
}

/* A cheap test before the patterns: a run-on page holds labels ("X: ")
 * or a numbered list run into it (" 2. "); most prose holds neither. */
static int may_run_on(const char *s, size_t n) {
        size_t colons = 0;
        for (const char *q = s; (q = memchr(q, ':', (size_t)(s + n - q))) != NULL; q++)
                if (++colons >= 2)
                        return 1;
        return mm_str_find(s, n, " 2. ", 4) || mm_str_find(s, n, "eslutning", 9) ||
               mm_str_find(s, n, "ESLUTNING", 9);
}

char *mm_reflow_text(const mm_parser_t *p, mm_rx_match_t *m, const char *buf, size_t len,
                     size_t *breaks) {
        *breaks = 0;
        if (!p->reflow[RF_LABEL] || len < RF_LONG || !mostly_long(buf, len) ||
            memchr(buf, '<', len))
                return NULL;
        char *out = malloc(len + 1);
        pts_t *pt = malloc(sizeof(*pt));
        if (!out || !pt) {
                free(out);
                free(pt);
                return NULL;
        }
        memcpy(out, buf, len);
        out[len] = '\0';
        for (char *s = out, *e = out + len; s < e;) {
                char *nl = memchr(s, '\n', (size_t)(e - s));
                size_t n = (size_t)((nl ? nl : e) - s);
                size_t b, e;
                /* the patterns read UTF-8 unchecked: a line that is not
                 * (Windows-1252 input) stays as it is */
                if (n < RF_SHORT || !mm_text_utf8_valid(s, n)) {
                        s += n + 1;
                        continue;
                }
                if (p->reflow[RF_ERASE] && mm_rx_exec(p->reflow[RF_ERASE], m, s, n, 0) &&
                    !mm_rx_group(m, 0, &b, &e))
                        memset(s + b, ' ', e - b);
                if (n >= RF_LINE && may_run_on(s, n)) {
                        pt->n = 0;
                        for (int k = 0; k < RF_KINDS; k++)
                                if (k != RF_ERASE)
                                        find_points(p, m, k, s, n, pt);
                        numbered_run(s, n, pt);
                        for (size_t q = 0; pt->n >= RF_MIN_POINTS && q < pt->n; q++) {
                                *breaks += s[pt->at[q]] == ' ';
                                s[pt->at[q]] = '\n';
                        }
                }
                s += n + 1;
        }
        free(pt);
        return out;
}
