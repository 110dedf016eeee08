#include "mm_toc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm_candidates.h"
#include "mm_sequence.h"

/* One numbered entry: its number, its lines and where its title starts. */
typedef struct tent_s {
        size_t line, tline, tend, tb;
        int num;
} tent_t;

/* Lines a title that the number stands above may take (wrapped titles end
 * in the dot leaders and page number of the last line). */
#define TOC_TITLE_LINES 3

/* The next line with text, past page furniture (a consumed line that
 * starts with a digit may be an entry's number: the candidate pass takes
 * "03." without a title it can read for a page number). */
static size_t next_text(const ctx_t *c, size_t i) {
        while (i < c->n &&
               (LN(c, i)->blank || (LI(c, i)->consumed && !isdigit((unsigned char)LN(c, i)->s[0]))))
                i++;
        return i;
}

/* A line that may be (part of) an entry's title. */
static int titleish(const ctx_t *c, size_t t) {
        const mm_line_t *l = LN(c, t);
        const linfo_t *x = LI(c, t);
        return t < c->n && !l->blank && l->len <= 200 && !x->is_case && SEC(x) < 0 && !x->hist &&
               !islower((unsigned char)l->s[0]) && !isdigit((unsigned char)l->s[0]);
}

/* The title of "01." alone: the next line, or up to the line that ends in
 * dot leaders and a page number. */
static int title_below(const ctx_t *c, size_t i, tent_t *e) {
        size_t t = next_text(c, i + 1);
        if (t >= c->n || t - i > 3 || !titleish(c, t))
                return 0;
        e->tline = e->tend = t;
        e->tb = 0;
        for (size_t k = t; k < c->n && k < t + TOC_TITLE_LINES; k++) {
                if (LN(c, k)->blank || (k > t && isdigit((unsigned char)LN(c, k)->s[0])))
                        break;
                if (LI(c, k)->toc) {
                        e->tend = k;
                        break;
                }
        }
        return 1;
}

/* Line i as a numbered entry: "145. Title", "1.Title", "01." or "3" alone
 * with the title below. A year is no number. */
static int entry_at(const ctx_t *c, size_t i, tent_t *e) {
        const mm_line_t *l = LN(c, i);
        const char *s = l->s;
        size_t k = 0, n = l->len;
        if (l->blank || !isdigit((unsigned char)s[0]))
                return 0;
        while (k < n && isdigit((unsigned char)s[k]))
                k++;
        /* The candidate pass takes a number alone whose title it cannot
         * read for a page number; "01." with a dot is no page number. */
        if (LI(c, i)->consumed && !(k + 1 == n && s[k] == '.'))
                return 0;
        if (k > 4 || (k == 4 && atoi(s) >= 1950 && atoi(s) < 2100))
                return 0;
        e->num = atoi(s);
        e->line = i;
        size_t q = k;
        if (q < n && (s[q] == '.' || s[q] == ')'))
                q++;
        if (q == n)
                return title_below(c, i, e);
        if (s[q] != ' ' && s[q] != '\t' && !(q > k && isupper((unsigned char)s[q])))
                return 0;
        while (q < n && (s[q] == ' ' || s[q] == '\t'))
                q++;
        /* "5. 17.4 Byudvikling - ...": a title may start with a number, but
         * not be one */
        if (q >= n || q > 60 || islower((unsigned char)s[q]) ||
            strspn(s + q, "0123456789.,- ") == n - q)
                return 0;
        e->tline = e->tend = i;
        e->tb = q;
        return 1;
}

/* The entry's title without dot leaders and page number, malloc'ed. */
static char *entry_title(const ctx_t *c, const tent_t *e) {
        mm_buf_t d = MM_BUF_INIT;
        for (size_t k = e->tline; k <= e->tend; k++) {
                const mm_line_t *l = LN(c, k);
                if (l->blank || LI(c, k)->consumed)
                        continue;
                if (d.len)
                        mm_buf_putc(&d, ' ');
                size_t off = k == e->tline ? e->tb : 0;
                for (size_t q = off; q < l->len; q++)
                        mm_buf_putc(&d, l->s[q] == '\t' ? ' ' : l->s[q]);
        }
        if (LI(c, e->tend)->toc) {
                while (d.len && isdigit((unsigned char)d.p[d.len - 1]))
                        d.len--;
                while (d.len && strchr(" .\t", d.p[d.len - 1]))
                        d.len--;
        }
        while (d.len && d.p[d.len - 1] == ' ')
                d.len--;
        if (d.p)
                d.p[d.len] = '\0';
        char *t = NULL;
        mm_buf_take(&d, &t, NULL);
        return t;
}

static int cmp_number(const void *a, const void *b) {
        const item_t *x = a, *y = b;
        return (x->number > y->number) - (x->number < y->number);
}

/* Whether the chosen items run in increasing number order. */
static int increasing(const ctx_t *c) {
        for (size_t k = 1; k < c->nitems; k++)
                if (c->items[k].number <= c->items[k - 1].number)
                        return 0;
        return 1;
}

/* Entries up to line `stop` (the first chosen item, which a run of bare
 * entries may lead up to), in document order. */
static size_t collect(ctx_t *c, size_t stop, tent_t **out) {
        size_t cap = 0, m = 0;
        tent_t *v = NULL, e;
        for (size_t i = 0; i <= stop && i < c->n; i++) {
                WORK(c, 1);
                if (!entry_at(c, i, &e))
                        continue;
                if (m == cap) {
                        cap = cap ? 2 * cap : 32;
                        tent_t *nv = realloc(v, cap * sizeof(*v));
                        if (!nv)
                                break;
                        v = nv;
                }
                if (getenv("MM_DEBUG_TOC"))
                        fprintf(stderr, "toc entry line %zu num %d title %zu-%zu\n", e.line, e.num,
                                e.tline, e.tend);
                v[m++] = e;
                i = e.tend;
        }
        *out = v;
        return v ? m : 0;
}

/* Whether entries a and b follow each other: numbers running on by one,
 * and nothing but blank lines between them. */
static int adjacent(const ctx_t *c, const tent_t *a, const tent_t *b) {
        return b->num == a->num + 1 && next_text(c, a->tend + 1) == b->line;
}

/* Marks in keep[] the entries of runs of two or more adjacent entries
 * that share a number with a chosen item (any run when none was chosen).
 * Returns how many entries are marked. */
static size_t mark_runs(const ctx_t *c, const tent_t *v, size_t m, const unsigned char *chosen,
                        int maxnum, unsigned char *keep) {
        size_t marked = 0;
        for (size_t a = 0; a < m;) {
                size_t b = a + 1;
                while (b < m && adjacent(c, &v[b - 1], &v[b]))
                        b++;
                int agrees = !c->nitems;
                for (size_t k = a; k < b && !agrees; k++)
                        agrees = v[k].num <= maxnum && chosen[v[k].num];
                if (b - a >= 2 && agrees)
                        for (size_t k = a; k < b; k++) {
                                int dup = v[k].num <= maxnum && chosen[v[k].num];
                                keep[k] = !dup;
                                marked += !dup;
                        }
                a = b;
        }
        return marked;
}

/* Appends the kept entries to c->items as items without a body. */
static void add_entries(ctx_t *c, const tent_t *v, size_t m, const unsigned char *keep,
                        size_t add) {
        item_t *ni = realloc(c->items, (c->nitems + add) * sizeof(*ni));
        if (!ni) {
                c->oom = 1;
                return;
        }
        c->items = ni;
        for (size_t k = 0; k < m; k++) {
                if (!keep[k])
                        continue;
                item_t *it = &c->items[c->nitems];
                memset(it, 0, sizeof(*it));
                if (!(it->title = entry_title(c, &v[k])))
                        continue;
                it->head = v[k].line;
                it->title_end = v[k].tend;
                it->start = it->end = v[k].tend + 1;
                it->number = v[k].num;
                it->ev = MM_EV_TOC_ONLY;
                c->nitems++;
        }
}

void mm_toc_complete(ctx_t *c) {
        size_t stop = c->n;
        int maxnum = 0;
        for (size_t k = 0; k < c->nitems; k++) {
                stop = c->items[k].head < stop ? c->items[k].head : stop;
                maxnum = c->items[k].number > maxnum ? c->items[k].number : maxnum;
        }
        tent_t *v = NULL;
        size_t m = collect(c, stop, &v);
        unsigned char *chosen = calloc((size_t)maxnum + 1, 1);
        unsigned char *keep = calloc(m + 1, 1);
        if (m >= 2 && chosen && keep) {
                for (size_t k = 0; k < c->nitems; k++)
                        if (c->items[k].number >= 0)
                                chosen[c->items[k].number] = 1;
                int sorted = increasing(c);
                size_t add = mark_runs(c, v, m, chosen, maxnum, keep);
                if (add)
                        add_entries(c, v, m, keep, add);
                if (add && sorted)
                        qsort(c->items, c->nitems, sizeof(*c->items), cmp_number);
        }
        free(chosen);
        free(keep);
        free(v);
}

/* The title above state line i: the nearest line with text (at most three
 * lines up), or (size_t)-1. */
static size_t title_above(const ctx_t *c, size_t i, size_t lo) {
        for (size_t k = i, seen = 0; k > lo && seen < 3; seen++) {
                k--;
                if (LN(c, k)->blank)
                        continue;
                const linfo_t *x = LI(c, k);
                if (x->consumed || x->mark || x->is_case || SEC(x) >= 0 || x->hist)
                        return (size_t)-1;
                return k;
        }
        return (size_t)-1;
}

/* "Økonomiudvalget d Godkendelse af dagsorden": the page header of a
 * transcript whose date was lost ("<body> d <date>") before the title. */
static size_t lost_date_prefix(const char *t) {
        const char *sp = strchr(t, ' ');
        if (!sp || sp == t || sp[1] != 'd')
                return 0;
        size_t k = (size_t)(sp - t) + 2;
        if (t[k] == '.')
                k++;
        if (t[k] != ' ' || !(isupper((unsigned char)t[k + 1]) || (unsigned char)t[k + 1] >= 0xc3))
                return 0;
        return k + 1;
}

void mm_toc_by_marks(ctx_t *c) {
        size_t n = 0, lo = 0;
        if (c->nitems)
                return;
        for (size_t i = 0; i < c->n; i++)
                n += LI(c, i)->mark != 0;
        if (!n || !(c->items = calloc(n, sizeof(*c->items))))
                return;
        for (size_t i = 0; i < c->n; i++) {
                WORK(c, 1);
                size_t t;
                if (!LI(c, i)->mark || (t = title_above(c, i, lo)) == (size_t)-1)
                        continue;
                item_t *it = &c->items[c->nitems];
                const mm_line_t *l = LN(c, t);
                size_t skip = lost_date_prefix(l->s);
                if (!(it->title = mm_pass_strndup(l->s + skip, l->len - skip)))
                        break;
                it->head = it->title_end = t;
                it->number = (int)++c->nitems;
                it->ev = MM_EV_TOC_ONLY;
                lo = i;
        }
        for (size_t k = 0; k < c->nitems; k++) {
                c->items[k].start = c->items[k].title_end + 1;
                c->items[k].end = k + 1 < c->nitems ? c->items[k + 1].head : c->n;
        }
        mm_sequence_case_numbers(c);
}
