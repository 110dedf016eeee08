#include "mm_lines.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mm_date.h"

/* ------------------------------------------------------------------ */
/* Line analysis                                                        */

int mm_lines_match_section(const mm_parser_t *p, const char *s, size_t n) {
        char buf[200];
        size_t l;
        /* A heading starts with a capital and does not end a sentence: a
         * wrapped paragraph can leave "bilag." alone on a line. */
        if (!n || !(isupper((unsigned char)s[0]) || (unsigned char)s[0] >= 0x80) || s[n - 1] == '.')
                return -1;
        while (n && mm_pass_trail_punct(s[n - 1]))
                n--;
        /* Folding keeps byte lengths, so the length filters first. */
        if (!n || n >= sizeof(p->sec_len_ok) || !p->sec_len_ok[n])
                return -1;
        l = mm_pass_fold(s, n, buf, sizeof(buf));
        for (size_t i = 0; i < p->nsecs; i++)
                if (p->secs[i].len == l && !memcmp(p->secs[i].fold, buf, l))
                        return (int)i;
        return -1;
}

/* Is s[0..n) a journal number, possibly after a label? */
static int match_case(const ctx_t *c, const char *s, size_t n, size_t *b, size_t *e,
                      const char **kind) {
        const mm_parser_t *p = c->p;
        char buf[64];
        size_t off = 0, l;
        int labelled = 0;

        if (n < 5 || n > 80)
                return 0;
        /* Every form has a digit within its first 20 bytes after a label. */
        if (!isdigit((unsigned char)s[0]) && !isupper((unsigned char)s[0]))
                return 0;
        l = mm_pass_fold(s, n < 40 ? n : 40, buf, sizeof(buf));
        for (size_t i = 0; i < p->ncase_labels; i++) {
                size_t ll = strlen(p->case_labels[i]);
                if (ll <= l && !memcmp(buf, p->case_labels[i], ll)) {
                        off = ll;
                        while (off < n &&
                               (s[off] == ' ' || s[off] == ':' || s[off] == '\t' || s[off] == '.'))
                                off++;
                        labelled = 1;
                        break;
                }
        }
        while (n > off && mm_pass_trail_punct(s[n - 1]))
                n--;
        for (size_t r = 0; r < p->caseno.n; r++) {
                size_t mb, me;
                if (!labelled && r > 1)
                        break; /* bare numbers only in the distinctive forms */
                /* After a label, more may follow ("Sagsnr.: 23/12345 Dok.nr.: 9"). */
                if (mm_rx_exec(p->caseno.rx[r], c->m, s, n, off) &&
                    !mm_rx_group(c->m, 0, &mb, &me) && mb == off &&
                    (me == n || (labelled && (s[me] == ' ' || s[me] == ',')))) {
                        *b = mb;
                        *e = me;
                        *kind = p->caseno.tag[r];
                        return 1;
                }
        }
        return 0;
}

static int is_history(const ctx_t *c, const mm_line_t *l) {
        char buf[48];
        if (l->len > 220)
                return 0;
        mm_pass_fold(l->s, l->len < 40 ? l->len : 40, buf, sizeof(buf));
        /* Only heading-like lines, or lines that speak of a decision. */
        if (!(l->s[l->len - 1] == ':' || l->heading || l->bold || strstr(buf, "beslutning") ||
              !strncmp(buf, "tidligere", 9)))
                return 0;
        for (size_t r = 0; r < c->p->history.n; r++)
                if (mm_rx_exec(c->p->history.rx[r], c->m, l->s, l->len, 0))
                        return 1;
        return 0;
}

/* A table-of-contents entry ends in a page number after a tab or after
 * dot leaders: "Perron 4.....\t15", "2. Ny cykelsti ...... 3". */
static int is_toc_line(const mm_line_t *l) {
        const char *s = l->s;
        size_t n = l->len, i = n;
        while (i > 0 && isdigit((unsigned char)s[i - 1]))
                i--;
        if (i == n || i == 0 || n - i > 4)
                return 0;
        if (s[i - 1] == '\t')
                return 1;
        while (i > 0 && s[i - 1] == ' ')
                i--;
        return i >= 3 && s[i - 1] == '.' && s[i - 2] == '.' && s[i - 3] == '.';
}

void mm_lines_analyse(ctx_t *c) {
        const mm_parser_t *p = c->p;
        for (size_t i = 0; i < c->n; i++) {
                const mm_line_t *l = LN(c, i);
                linfo_t *li = &c->li[i];
                li->sec = -1;
                if (l->blank)
                        continue;
                li->toc = is_toc_line(l);
                if (match_case(c, l->s, l->len, &li->cb, &li->ce, &li->ckind)) {
                        li->is_case = 1;
                        continue;
                }
                /* item candidates */
                if (isdigit((unsigned char)l->s[0]) && !li->toc) {
                        size_t b, e;
                        size_t k = 0;
                        while (k < l->len && isdigit((unsigned char)l->s[k]))
                                k++;
                        if (k <= 4 && (k == l->len || (k + 1 == l->len && l->s[k] == '.'))) {
                                li->cand = 2;
                                li->num = atoi(l->s);
                        } else if (mm_rx_exec(p->item_num, c->m, l->s, l->len, 0) &&
                                   !mm_rx_group(c->m, 2, &b, &e)) {
                                li->cand = 1;
                                li->num = atoi(l->s);
                                li->tb = b;
                        }
                } else if ((l->s[0] == 'P' || l->s[0] == 'p' || l->s[0] == 'S' || l->s[0] == 's' ||
                            l->s[0] == 'D' || l->s[0] == 'd') &&
                           !li->toc && mm_rx_exec(p->item_punkt, c->m, l->s, l->len, 0)) {
                        size_t b, e;
                        mm_rx_group(c->m, 1, &b, &e);
                        li->cand = 3;
                        li->num = atoi(l->s + b);
                        mm_rx_group(c->m, 2, &b, &e);
                        li->tb = b;
                }
                if (li->cand)
                        continue;
                if (is_history(c, l)) {
                        li->hist = 1;
                        if (mm_date_find(l->s, l->len, &li->hy, &li->hm, &li->hd, NULL, NULL))
                                li->hy = 0;
                        continue;
                }
                if (l->len < 120) {
                        li->sec = mm_lines_match_section(p, l->s, l->len);
                        if (li->sec < 0) {
                                const char *colon = memchr(l->s, ':', l->len < 50 ? l->len : 50);
                                if (colon && colon > l->s) {
                                        int s = mm_lines_match_section(p, l->s,
                                                                       (size_t)(colon - l->s));
                                        if (s >= 0) {
                                                size_t k = (size_t)(colon - l->s) + 1;
                                                while (k < l->len && l->s[k] == ' ')
                                                        k++;
                                                li->sec = s;
                                                li->inl = k < l->len ? k : 0;
                                        }
                                }
                        }
                        /* "Beslutning i Byrådet", "Udvalgets beslutning den ..." */
                        if (li->sec < 0 && p->decision_sec >= 0 && l->len < 100 &&
                            l->s[l->len - 1] != '.') {
                                char fb[64];
                                mm_pass_fold(l->s, l->len < 60 ? l->len : 60, fb, sizeof(fb));
                                const char *sp = strchr(fb, ' ');
                                int genitive = sp && sp > fb && sp[-1] == 's' &&
                                               !strncmp(sp + 1, "beslutning", 10);
                                if (genitive || !strncmp(fb, "beslutning i ", 13) ||
                                    !strncmp(fb, "beslutning den ", 15) ||
                                    !strncmp(fb, "beslutning på ", 15))
                                        li->sec = p->decision_sec;
                        }
                        if (li->sec < 0 && (l->heading || l->bold))
                                li->unknown = 1;
                }
        }
}

/* ------------------------------------------------------------------ */
/* Repeated page headers                                                */

typedef struct pline_s {
        char key[160];
        size_t line;
} pline_t;

static int cmp_pline(const void *a, const void *b) {
        const pline_t *x = a, *y = b;
        int r = strcmp(x->key, y->key);
        return r ? r : (x->line < y->line ? -1 : x->line > y->line);
}

/* A PDF export repeats the page header ("Økonomiudvalget 12-03-2024",
 * "Referat ... Side 3") on every page. A dated line that comes back three
 * times or more, compared without its digits, is such a header: every
 * copy but the first is dropped, so it cannot land in an item's text. */
void mm_lines_page_furniture(ctx_t *c) {
        pline_t *pl = NULL;
        size_t n = 0, cap = 0;
        for (size_t i = 0; i < c->n; i++) {
                const mm_line_t *l = LN(c, i);
                const linfo_t *li = &c->li[i];
                int y, m, d;
                if (l->blank || l->len < 8 || l->len >= 150 || li->sec >= 0 || li->hist || li->cand)
                        continue;
                /* Every date form has a '-' or a '.'; most lines have no date. */
                if ((!memchr(l->s, '-', l->len) && !memchr(l->s, '.', l->len)) ||
                    mm_date_find(l->s, l->len, &y, &m, &d, NULL, NULL))
                        continue;
                if (n == cap) {
                        cap = cap ? cap * 2 : 16;
                        pline_t *np = realloc(pl, cap * sizeof(*pl));
                        if (!np)
                                break;
                        pl = np;
                }
                size_t k = 0;
                for (size_t q = 0; q < l->len && k + 1 < sizeof(pl[n].key); q++)
                        if (!isdigit((unsigned char)l->s[q]))
                                pl[n].key[k++] = l->s[q];
                pl[n].key[k] = '\0';
                pl[n].line = i;
                n++;
        }
        if (n >= 3) {
                qsort(pl, n, sizeof(*pl), cmp_pline);
                for (size_t a = 0; a < n;) {
                        size_t b = a + 1;
                        while (b < n && !strcmp(pl[a].key, pl[b].key))
                                b++;
                        if (b - a >= 3)
                                for (size_t q = a + 1; q < b; q++)
                                        c->li[pl[q].line].consumed = 1;
                        a = b;
                }
        }
        free(pl);
}
