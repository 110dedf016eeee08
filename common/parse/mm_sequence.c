#include "mm_sequence.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm_candidates.h"

static void set_title(ctx_t *c, item_t *it, size_t tline, size_t tend, size_t tb) {
        mm_buf_t d = MM_BUF_INIT;
        for (size_t k = tline; k <= tend; k++) {
                const mm_line_t *l = LN(c, k);
                size_t off = k == tline ? tb : 0;
                if (l->blank || LI(c, k)->consumed) /* a page break inside */
                        continue;
                if (d.len)
                        mm_buf_putc(&d, ' ');
                for (size_t q = off; q < l->len; q++)
                        mm_buf_putc(&d, l->s[q] == '\t' ? ' ' : l->s[q]);
        }
        while (d.len && (d.p[d.len - 1] == ' '))
                d.p[--d.len] = '\0';
        mm_buf_take(&d, &it->title, NULL); /* "" when no line was taken */
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

/* Prefix maximum over item numbers (a Fenwick tree): the best sequence
 * value ending at any number <= n, in O(log N). */
typedef struct best_s {
        int val;
        int idx; /* candidate index, -1 for none */
} best_t;

static void fen_update(best_t *f, int max, int n, best_t b) {
        for (int i = n + 1; i <= max + 1; i += i & -i)
                if (f[i].idx < 0 || b.val > f[i].val)
                        f[i] = b;
}

static best_t fen_query(const best_t *f, int n) {
        best_t b = {0, -1};
        for (int i = n + 1; i > 0; i -= i & -i)
                if (f[i].idx >= 0 && (b.idx < 0 || f[i].val > b.val))
                        b = f[i];
        return b;
}

/* Transition values: a sequence rewards numbers that run on by one, and
 * a first item numbered 1. */
#define SEQ_START_ONE 3
#define SEQ_START     1
#define SEQ_NEXT      3
#define SEQ_GAP2      0
#define SEQ_GAP3      (-1)
#define SEQ_JUMP      (-3)

/* Best predecessor of candidate k among the inserted ones. */
static best_t best_before(const cand_t *k, const best_t *at, const best_t *fen) {
        best_t b = {k->num == 1 ? SEQ_START_ONE : SEQ_START, -1};
        static const int gain[3] = {SEQ_NEXT, SEQ_GAP2, SEQ_GAP3};
        for (int d = 1; d <= 3; d++) {
                if (k->num - d < 0 || at[k->num - d].idx < 0)
                        continue;
                if (at[k->num - d].val + gain[d - 1] > b.val) {
                        b.val = at[k->num - d].val + gain[d - 1];
                        b.idx = at[k->num - d].idx;
                }
        }
        if (k->num >= 4) {
                best_t f = fen_query(fen, k->num - 4);
                if (f.idx >= 0 && f.val + SEQ_JUMP > b.val) {
                        b.val = f.val + SEQ_JUMP;
                        b.idx = f.idx;
                }
        }
        return b;
}

/* Chooses the sequence of candidates, in document order and with strictly
 * increasing numbers, whose evidence plus transition values is largest.
 * Dynamic programming over the candidates in O(n log N). Writes the chosen
 * indexes to sel (in order) and returns how many. */
static size_t choose_sequence(const cand_t *v, size_t n, size_t *sel) {
        int maxnum = 0;
        for (size_t k = 0; k < n; k++)
                maxnum = v[k].num > maxnum ? v[k].num : maxnum;
        best_t *at = malloc(((size_t)maxnum + 1) * sizeof(*at));
        best_t *fen = malloc(((size_t)maxnum + 2) * sizeof(*fen));
        int *val = malloc((n ? n : 1) * sizeof(int)), *prev = malloc((n ? n : 1) * sizeof(int));
        size_t cnt = 0, ins = 0;
        int best = -1;
        if (!at || !fen || !val || !prev)
                goto out;
        for (int i = 0; i <= maxnum; i++)
                at[i] = (best_t){0, -1};
        for (int i = 0; i <= maxnum + 1; i++)
                fen[i] = (best_t){0, -1};
        for (size_t k = 0; k < n; k++) {
                /* A candidate is a predecessor once its title has ended. */
                for (; ins < k && v[ins].title_end < v[k].line; ins++) {
                        best_t b = {val[ins], (int)ins};
                        if (at[v[ins].num].idx < 0 || b.val > at[v[ins].num].val)
                                at[v[ins].num] = b;
                        fen_update(fen, maxnum, v[ins].num, b);
                }
                best_t b = best_before(&v[k], at, fen);
                val[k] = v[k].score + b.val;
                prev[k] = b.idx;
                if (val[k] > 0 && (best < 0 || val[k] >= val[best]))
                        best = (int)k;
        }
        for (int k = best; k >= 0; k = prev[k])
                cnt++;
        size_t w = cnt;
        for (int k = best; k >= 0; k = prev[k])
                sel[--w] = (size_t)k;
out:
        free(at);
        free(fen);
        free(val);
        free(prev);
        return cnt;
}

/* A journal-number line right above item k's heading (blank lines
 * apart), or (size_t)-1. */
static size_t case_before(const ctx_t *c, size_t k) {
        size_t lo = k ? c->items[k - 1].title_end + 1 : 0;
        size_t j = c->items[k].head;
        while (j > lo &&
               (LN(c, j - 1)->blank || (LI(c, j - 1)->consumed && !LI(c, j - 1)->is_case))) {
                WORK(c, 1);
                j--;
        }
        return j > lo && LI(c, j - 1)->is_case ? j - 1 : (size_t)-1;
}

/* A journal-number line among the first lines after item k's title. */
static size_t case_after(const ctx_t *c, size_t k) {
        const item_t *it = &c->items[k];
        size_t seen = 0;
        for (size_t j = it->start; j < it->end && seen < 4; j++) {
                WORK(c, 1);
                if (LN(c, j)->blank || (LI(c, j)->consumed && !LI(c, j)->is_case))
                        continue;
                if (LI(c, j)->is_case)
                        return j;
                seen++;
        }
        return (size_t)-1;
}

static void take_case(ctx_t *c, item_t *it, size_t line) {
        const linfo_t *x = LI(c, line);
        size_t n = (size_t)(x->ce - x->cb);
        if (n >= sizeof(it->case_no))
                n = sizeof(it->case_no) - 1;
        memcpy(it->case_no, LN(c, line)->s + x->cb, n);
        it->case_no[n] = '\0';
        it->case_kind = c->p->caseno.tag[x->ckind];
        LIW(c, line)->consumed = 1;
}

/* Journal numbers. A layout prints them either right above the item
 * heading or among the first lines below the title, the same way for every
 * item: the side that more items agree on is tried first, so that a short
 * item's number below its title is not given to the next item. */
void mm_sequence_case_numbers(ctx_t *c) {
        size_t before = 0, after = 0;
        for (size_t k = 0; k < c->nitems; k++) {
                before += case_before(c, k) != (size_t)-1;
                after += case_after(c, k) != (size_t)-1;
        }
        for (size_t k = 0; k < c->nitems; k++) {
                item_t *it = &c->items[k];
                size_t found = after > before ? case_after(c, k) : case_before(c, k);
                if (found == (size_t)-1)
                        found = after > before ? case_before(c, k) : case_after(c, k);
                /* a line above that the previous item took is no longer free */
                if (found != (size_t)-1 && found < it->head && LI(c, found)->consumed)
                        found = case_after(c, k);
                /* always taken off the title; a journal-number line wins */
                title_case_number(c, it);
                if (found != (size_t)-1)
                        take_case(c, it, found);
        }
}

/* Candidates outside the chosen sequence that carry evidence of their own
 * (an opening section heading follows) and whose number lies in the
 * sequence's range are items printed out of order (a TOC listing 96, 101,
 * 97, ...). They join the sequence in document order when their number is
 * still free. sel has room for n entries; returns the new count. */
static size_t add_strays(const cand_t *v, size_t n, size_t *sel, size_t ns) {
        int maxnum = 0;
        for (size_t k = 0; k < n; k++)
                maxnum = v[k].num > maxnum ? v[k].num : maxnum;
        unsigned char *used = calloc((size_t)maxnum + 1, 1);
        size_t *out = malloc(n * sizeof(*out)), w = 0, q = 0;
        if (!used || !out || !ns) {
                free(used);
                free(out);
                return ns;
        }
        int lo = v[sel[0]].num, hi = lo;
        for (size_t k = 0; k < ns; k++) {
                used[v[sel[k]].num] = 1;
                lo = v[sel[k]].num < lo ? v[sel[k]].num : lo;
                hi = v[sel[k]].num > hi ? v[sel[k]].num : hi;
        }
        hi += 2 * (int)ns;
        for (size_t k = sel[0]; k < n; k++) {
                if (q < ns && sel[q] == k) {
                        out[w++] = sel[q++];
                        continue;
                }
                if (used[v[k].num] || v[k].num < lo || v[k].num > hi || v[k].score < 2 ||
                    !(v[k].ev & MM_EV_SECTION))
                        continue;
                used[v[k].num] = 1;
                out[w++] = k;
        }
        memcpy(sel, out, w * sizeof(*sel));
        free(used);
        free(out);
        return w;
}

/* "2. Siden sidst (O)" printed twice, the second copy chosen as the
 * heading (a web page's link above the item): the first copy, right above
 * with the same number, ends the item before, not its text. */
static size_t title_copy(const ctx_t *c, size_t head) {
        size_t j = head;
        while (j > 0 && LN(c, j - 1)->blank)
                j--;
        if (j > 0 && j < head && LI(c, j - 1)->cand && LI(c, j - 1)->num == LI(c, head)->num)
                return j - 1;
        return head;
}

void mm_sequence_find_items(ctx_t *c) {
        cand_t *v = NULL;
        size_t nc = 0;
        if (mm_candidates_collect(c, &v, &nc) || !nc)
                goto out;
        if (getenv("MM_DEBUG_CAND"))
                for (size_t k = 0; k < nc; k++)
                        fprintf(stderr, "cand line %zu num %d score %d ev %u: %.60s\n", v[k].line,
                                v[k].num, v[k].score, v[k].ev, LN(c, v[k].line)->s);
        size_t *sel = malloc(nc * sizeof(*sel));
        if (!sel)
                goto out;
        size_t ns = add_strays(v, nc, sel, choose_sequence(v, nc, sel));
        /* the sequence: a few steps and two O(log N) tree walks per
         * candidate, then one pass for the strays */
        for (size_t k = 0, lg = 1; k < nc; k++, c->work += 8 + 2 * lg)
                while ((1u << lg) <= (unsigned)v[k].num + 1u)
                        lg++;
        c->items = ns ? calloc(ns, sizeof(*c->items)) : NULL;
        for (size_t k = 0; c->items && k < ns; k++) {
                const cand_t *x = &v[sel[k]];
                item_t *it = &c->items[k];
                it->head = x->line;
                it->title_end = x->title_end;
                it->number = x->num;
                it->ev = x->ev;
                set_title(c, it, x->title_line, x->title_end,
                          x->title_line == x->line ? LI(c, x->line)->tb : 0);
        }
        c->nitems = c->items ? ns : 0;
        free(sel);
        for (size_t k = 0; k < c->nitems; k++) {
                c->items[k].start = c->items[k].title_end + 1;
                c->items[k].end = k + 1 < c->nitems ? title_copy(c, c->items[k + 1].head) : c->n;
        }
        mm_sequence_case_numbers(c);
out:
        free(v);
}
