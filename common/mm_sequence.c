#include "mm_sequence.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------------ */
/* Items                                                                */

static int is_heading_line(const linfo_t *li) {
        return li->sec >= 0 || li->hist;
}

static size_t next_nonblank(const ctx_t *c, size_t i) {
        while (i < c->n && LN(c, i)->blank)
                i++;
        return i;
}

/* Decides whether candidate line i heads an agenda item; fills the title
 * span. */
static int accept_item(ctx_t *c, size_t i, size_t *title_line, size_t *title_end, int loose) {
        const linfo_t *li = &c->li[i];
        size_t t = i, j, seen = 0;

        if (LN(c, i)->bullet)
                return 0;
        if (li->cand == 2) {
                /* A number alone on a line may also be a PDF page number: the
                 * next line must look like a title, not like running text. */
                t = next_nonblank(c, i + 1);
                if (t >= c->n || t - i > 3 || c->li[t].cand || c->li[t].is_case ||
                    is_heading_line(&c->li[t]) || LN(c, t)->len > 150 ||
                    LN(c, t)->s[LN(c, t)->len - 1] == '.' || islower((unsigned char)LN(c, t)->s[0]))
                        return 0;
        }
        *title_line = t;
        *title_end = t;
        /* A title broken over at most two more lines: a short line right
         * below it, followed by a blank line or a heading. */
        for (int k = 0; k < 2 && !LN(c, *title_end)->cut; k++) {
                size_t x = *title_end + 1;
                if (x >= c->n || LN(c, x)->blank || c->li[x].cand || c->li[x].is_case ||
                    is_heading_line(&c->li[x]) || LN(c, x)->len > 80 ||
                    LN(c, x)->s[LN(c, x)->len - 1] == '.')
                        break;
                if (x + 1 < c->n && !LN(c, x + 1)->blank && !is_heading_line(&c->li[x + 1]) &&
                    !c->li[x + 1].is_case)
                        break;
                *title_end = x;
        }
        if (loose)
                return LN(c, t)->len < 150;
        /* A known section heading within the next three lines. */
        for (j = *title_end + 1; j < c->n && seen < 3; j++) {
                const linfo_t *x = &c->li[j];
                if (LN(c, j)->blank || x->is_case)
                        continue;
                /* "2. behandling ...\nKommunikation": a numbered line in the
                 * case text runs into a heading that never opens an item. */
                if (x->hist)
                        return 1;
                if (x->sec >= 0)
                        return c->p->secs[x->sec].opens;
                if (x->cand)
                        return 0;
                seen++;
        }
        return 0;
}

static void set_title(ctx_t *c, item_t *it, size_t tline, size_t tend, size_t tb) {
        dstr_t d = {0};
        for (size_t k = tline; k <= tend; k++) {
                const mm_line_t *l = LN(c, k);
                size_t off = k == tline ? tb : 0;
                if (d.len)
                        mm_pass_ds_add(&d, " ", 1);
                for (size_t q = off; q < l->len; q++)
                        mm_pass_ds_add(&d, l->s[q] == '\t' ? " " : &l->s[q], 1);
        }
        while (d.len && (d.p[d.len - 1] == ' '))
                d.p[--d.len] = '\0';
        it->title = d.p ? d.p : mm_pass_strndup("", 0);
}

/* "Dialogmøde med Seniorrådet (00.15.00-P35-1-20)": a journal number in a
 * distinctive form at the end of the title line belongs to the item. */
static void title_case_number(ctx_t *c, item_t *it) {
        size_t n = strlen(it->title), b, e, k;
        char *t = it->title;
        if (n < 10)
                return;
        k = n;
        if (t[k - 1] == ')')
                k--;
        size_t start = k;
        while (start > 0 && t[start - 1] != ' ' && t[start - 1] != '(')
                start--;
        for (size_t r = 0; r < c->p->caseno.n && r < 2; r++) {
                if (mm_rx_exec(c->p->caseno.rx[r], c->m, t, k, start) &&
                    !mm_rx_group(c->m, 0, &b, &e) && b == start && e == k &&
                    e - b < sizeof(it->case_no)) {
                        memcpy(it->case_no, t + b, e - b);
                        it->case_no[e - b] = '\0';
                        it->case_kind = c->p->caseno.tag[r];
                        /* drop the number, its brackets and a separating dash */
                        while (start > 0 &&
                               (t[start - 1] == '(' || t[start - 1] == ' ' || t[start - 1] == '-'))
                                start--;
                        t[start] = '\0';
                        return;
                }
        }
}

static int cmp_int(const void *a, const void *b) {
        return *(const int *)a - *(const int *)b;
}

/* Minutes without section headings ("1. Godkendelse af dagsorden\n
 * Godkendt."): take the longest run of candidates numbered n, n+1, n+2, ...
 * in document order, if it has two items or more. */
static void find_items_loose(ctx_t *c, size_t *cap) {
        size_t nc = 0, *line = malloc(c->n * sizeof(size_t)), *tls = malloc(c->n * sizeof(size_t)),
               *tes = malloc(c->n * sizeof(size_t));
        int *chain = malloc(c->n * sizeof(int)), *prev = malloc(c->n * sizeof(int));
        if (!line || !tls || !tes || !chain || !prev)
                goto out;
        for (size_t i = 0; i < c->n; i++) {
                size_t tl, te;
                if (c->li[i].cand && accept_item(c, i, &tl, &te, 1)) {
                        line[nc] = i;
                        tls[nc] = tl;
                        tes[nc] = te;
                        chain[nc] = 1;
                        prev[nc] = -1;
                        for (size_t j = nc; j-- > 0;)
                                if (c->li[line[j]].num + 1 == c->li[i].num && tes[j] < i) {
                                        chain[nc] = chain[j] + 1;
                                        prev[nc] = (int)j;
                                        break;
                                }
                        nc++;
                        i = te;
                }
        }
        int best = -1;
        for (size_t k = 0; k < nc; k++)
                if (best < 0 || chain[k] > chain[best])
                        best = (int)k;
        if (best < 0 || chain[best] < 2)
                goto out;
        if ((size_t)chain[best] > *cap) {
                item_t *n = realloc(c->items, (size_t)chain[best] * sizeof(*n));
                if (!n)
                        goto out;
                c->items = n;
                *cap = (size_t)chain[best];
        }
        c->nitems = (size_t)chain[best];
        for (int k = best, w = chain[best] - 1; k >= 0; k = prev[k], w--) {
                item_t *it = &c->items[w];
                memset(it, 0, sizeof(*it));
                it->head = line[k];
                it->title_end = tes[k];
                it->number = c->li[line[k]].num;
                set_title(c, it, tls[k], tes[k], tls[k] == line[k] ? c->li[line[k]].tb : 0);
        }
out:
        free(line);
        free(tls);
        free(tes);
        free(chain);
        free(prev);
}

void mm_sequence_find_items(ctx_t *c) {
        size_t cap = 16;
        c->items = calloc(cap, sizeof(*c->items));
        if (!c->items)
                return;
        for (size_t i = 0; i < c->n; i++) {
                size_t tl, te;
                if (!c->li[i].cand || !accept_item(c, i, &tl, &te, 0))
                        continue;
                /* ... and a page number rarely exceeds the item before it. */
                if (c->li[i].cand == 2 && c->nitems &&
                    c->li[i].num <= c->items[c->nitems - 1].number)
                        continue;
                if (c->nitems == cap) {
                        item_t *n = realloc(c->items, 2 * cap * sizeof(*n));
                        if (!n)
                                break;
                        c->items = n;
                        cap *= 2;
                }
                item_t *it = &c->items[c->nitems++];
                memset(it, 0, sizeof(*it));
                it->head = i;
                it->title_end = te;
                it->number = c->li[i].num;
                set_title(c, it, tl, te, tl == i ? c->li[i].tb : 0);
                i = te;
        }
        if (!c->nitems)
                find_items_loose(c, &cap);
        /* Numbers far from the rest are list entries in the case text. */
        if (c->nitems >= 3) {
                int *nums = malloc(c->nitems * sizeof(int));
                if (nums) {
                        for (size_t k = 0; k < c->nitems; k++)
                                nums[k] = c->items[k].number;
                        qsort(nums, c->nitems, sizeof(int), cmp_int);
                        int med = nums[c->nitems / 2];
                        int span = 50 + 2 * (int)c->nitems;
                        size_t w = 0;
                        for (size_t k = 0; k < c->nitems; k++) {
                                if (abs(c->items[k].number - med) > span) {
                                        free(c->items[k].title);
                                        continue;
                                }
                                c->items[w++] = c->items[k];
                        }
                        c->nitems = w;
                        free(nums);
                }
        }
        /* Regions. */
        for (size_t k = 0; k < c->nitems; k++) {
                c->items[k].start = c->items[k].title_end + 1;
                c->items[k].end = k + 1 < c->nitems ? c->items[k + 1].head : c->n;
        }
        /* A repeated number: keep the occurrence with the larger body. */
        for (size_t a = 0; a < c->nitems; a++)
                for (size_t b = a + 1; b < c->nitems; b++)
                        if (c->items[a].number == c->items[b].number && c->items[a].number >= 0) {
                                size_t la = c->items[a].end - c->items[a].start;
                                size_t lb = c->items[b].end - c->items[b].start;
                                item_t *drop = la >= lb ? &c->items[b] : &c->items[a];
                                drop->number = -1;
                        }
        {
                size_t w = 0;
                for (size_t k = 0; k < c->nitems; k++) {
                        if (c->items[k].number < 0) {
                                free(c->items[k].title);
                                continue;
                        }
                        c->items[w++] = c->items[k];
                }
                c->nitems = w;
                for (size_t k = 0; k < c->nitems; k++)
                        c->items[k].end = k + 1 < c->nitems ? c->items[k + 1].head : c->n;
        }
        /* Journal numbers: the line right before the heading, else one of
         * the first lines after the title. */
        for (size_t k = 0; k < c->nitems; k++) {
                item_t *it = &c->items[k];
                size_t lo = k ? c->items[k - 1].title_end + 1 : 0;
                size_t j = it->head, found = (size_t)-1;
                while (j > lo && LN(c, j - 1)->blank)
                        j--;
                if (j > lo && c->li[j - 1].is_case)
                        found = j - 1;
                if (found == (size_t)-1) {
                        size_t seen = 0;
                        for (j = it->start; j < it->end && seen < 4; j++) {
                                if (LN(c, j)->blank)
                                        continue;
                                if (c->li[j].is_case) {
                                        found = j;
                                        break;
                                }
                                seen++;
                        }
                }
                /* always taken off the title; a journal-number line wins */
                title_case_number(c, it);
                if (found != (size_t)-1) {
                        const linfo_t *x = &c->li[found];
                        size_t n = x->ce - x->cb;
                        if (n >= sizeof(it->case_no))
                                n = sizeof(it->case_no) - 1;
                        memcpy(it->case_no, LN(c, found)->s + x->cb, n);
                        it->case_no[n] = '\0';
                        it->case_kind = x->ckind;
                        c->li[found].consumed = 1;
                }
        }
}
