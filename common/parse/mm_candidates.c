#include "mm_candidates.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Lines scanned after a title for evidence. */
#define EV_WINDOW 15

static int is_heading_line(const linfo_t *li) {
        return SEC(li) >= 0 || li->hist;
}

/* Could line t be an item's title? */
static int title_like(const ctx_t *c, size_t t) {
        const mm_line_t *l = LN(c, t);
        const linfo_t *x = LI(c, t);
        if (l->blank || x->consumed || x->cand || x->is_case || x->toc || is_heading_line(x))
                return 0;
        /* a table of contents' own heading is no item's title */
        if (l->len >= 12 && (!strncasecmp(l->s, "indholdsfortegnelse", l->len < 19 ? l->len : 19) ||
                             !strncasecmp(l->s, "sagsoversigt", 12)))
                return 0;
        return l->len <= 150 && !islower((unsigned char)l->s[0]);
}

static size_t next_text(const ctx_t *c, size_t i) {
        while (i < c->n && LN(c, i)->blank)
                i++;
        return i;
}

/* A title broken over at most two more lines: a short line right below,
 * followed by a blank line, a heading or a journal number. */
static size_t title_end(const ctx_t *c, size_t t) {
        size_t end = t;
        for (int k = 0; k < 2 && !LN(c, end)->cut; k++) {
                size_t x = end + 1, furniture = 0;
                /* A page break (furniture, blank lines) may fall inside a
                 * wrapped title. */
                for (size_t y = x; y < c->n && y - x < 12; y++) {
                        const linfo_t *z = LI(c, y);
                        if (z->consumed && !z->case_label && !z->doc_no && !z->is_case)
                                furniture = y + 1;
                        else if (!LN(c, y)->blank)
                                break;
                }
                if (furniture)
                        x = next_text(c, furniture);
                /* The rest of a wrapped title may start in lower case. */
                /* "A. Sager til afgørelse i byrådet": a group heading */
                if (x < c->n && LN(c, x)->len > 3 && isupper((unsigned char)LN(c, x)->s[0]) &&
                    LN(c, x)->s[1] == '.' && LN(c, x)->s[2] == ' ')
                        break;
                if (x >= c->n || LN(c, x)->blank || LI(c, x)->consumed || LI(c, x)->mark ||
                    LI(c, x)->cand || LI(c, x)->is_case || is_heading_line(LI(c, x)) ||
                    LN(c, x)->len > 100 || LN(c, x)->s[LN(c, x)->len - 1] == '.')
                        break;
                if (x + 1 < c->n && !LN(c, x + 1)->blank && !is_heading_line(LI(c, x + 1)) &&
                    !LI(c, x + 1)->is_case && !LI(c, x + 1)->consumed)
                        break;
                end = x;
        }
        return end;
}

/* The title of candidate i: the rest of the line, or for a number alone
 * the next line that is no page furniture. Returns 0 when there is none. */
static int find_title(const ctx_t *c, size_t i, size_t *tl) {
        const linfo_t *li = LI(c, i);
        if (li->cand != 2) {
                *tl = i;
                return LN(c, i)->len > li->tb;
        }
        for (size_t t = i + 1, seen = 0; t < c->n && seen < 12; t++, seen++) {
                const mm_line_t *l = LN(c, t);
                WORK(c, 1);
                if (l->blank || LI(c, t)->consumed)
                        continue;
                if (!title_like(c, t))
                        return 0;
                /* A page number above running text: the line goes on in
                 * lower case below it, for more lines than a wrapped title
                 * has (a title stands apart from the text under it). */
                if (t + 3 < c->n && !LN(c, t + 1)->blank && !LN(c, t + 2)->blank &&
                    !LN(c, t + 3)->blank && islower((unsigned char)LN(c, t + 1)->s[0]))
                        return 0;
                *tl = t;
                return 1;
        }
        return 0;
}

static int next_is_cand(const ctx_t *c, size_t j) {
        while (j < c->n && LN(c, j)->blank)
                j++;
        return j < c->n && LI(c, j)->cand;
}

/* Evidence in the lines after the title, up to the next candidate. */
static unsigned body_evidence(const ctx_t *c, size_t from, int *score) {
        unsigned ev = 0, text = 0, later = 0;
        size_t seen = 0, j;
        for (j = from; j < c->n && seen < EV_WINDOW; j++) {
                const mm_line_t *l = LN(c, j);
                WORK(c, 1);
                const linfo_t *x = LI(c, j);
                if (l->blank)
                        continue;
                if (x->cand)
                        break;
                seen++;
                /* A journal number close below the title; one right above
                 * the next heading belongs to that one. */
                if ((x->is_case || x->doc_no || x->case_label) && seen <= 6 &&
                    (seen == 1 || !next_is_cand(c, j + 1)))
                        ev |= MM_EV_CASE;
                if (x->consumed || x->is_case)
                        continue;
                text++;
                /* An item's first section heading comes right below its
                 * title (a few lines later after journal-number lines); a
                 * heading further down may belong to an item around a
                 * numbered list. */
                if (x->hist || (SEC(x) >= 0 && c->p->secs[SEC(x)].opens)) {
                        if (text <= (ev & MM_EV_CASE ? 8u : 4u))
                                ev |= MM_EV_SECTION;
                        else if (!later++)
                                *score += 1;
                } else if (SEC(x) >= 0 && !later++) {
                        *score += 1;
                }
                ev |= MM_EV_BODY;
        }
        if (!(ev & MM_EV_BODY))
                *score -= j < c->n ? 3 : 1;
        return ev;
}

/* A journal number right above the heading. */
static int case_above(const ctx_t *c, size_t i) {
        for (size_t k = 0; k < 3 && i > 0; k++) {
                i--;
                if (LN(c, i)->blank)
                        continue;
                return LI(c, i)->is_case;
        }
        return 0;
}

static void score_candidate(const ctx_t *c, cand_t *k, const unsigned char *toc) {
        const linfo_t *li = LI(c, k->line);
        const mm_line_t *tl = LN(c, k->title_line);
        int s = -2;
        unsigned ev = 0;
        if (li->cand == 3 || LN(c, k->line)->heading || LN(c, k->line)->bold)
                ev |= MM_EV_MARKUP;
        if (li->cand == 2)
                s -= 1;
        ev |= body_evidence(c, k->title_end + 1, &s);
        if (case_above(c, k->line))
                ev |= MM_EV_CASE;
        if (toc && toc[k->num])
                ev |= MM_EV_TOC;
        s += (ev & MM_EV_SECTION ? 4 : 0) + (ev & MM_EV_CASE ? 3 : 0) +
             (ev & MM_EV_MARKUP ? 3 : 0) + (ev & MM_EV_TOC ? 2 : 0);
        /* A title like a sentence: "2. Sagen blev drøftet." */
        if (tl->len > 1 && tl->s[tl->len - 1] == '.' && tl->s[tl->len - 2] != '.')
                s -= tl->len > 100 ? 4 : 2;
        k->score = s;
        k->ev = ev;
}

/* Item numbers that a table of contents lists ("3. Title ..... 7"), or NULL
 * when there is no TOC. */
static unsigned char *toc_numbers(const ctx_t *c) {
        unsigned char *toc = NULL;
        for (size_t i = 0; i < c->n; i++) {
                const mm_line_t *l = LN(c, i);
                if (!LI(c, i)->toc || !isdigit((unsigned char)l->s[0]))
                        continue;
                long num = mm_pass_number(l->s, l->len, MM_CAND_MAX_NUM);
                if (num > MM_CAND_MAX_NUM)
                        continue;
                if (!toc && !(toc = calloc(MM_CAND_MAX_NUM + 1, 1)))
                        return NULL;
                toc[num] = 1;
        }
        return toc;
}

int mm_candidates_collect(ctx_t *c, cand_t **out, size_t *n) {
        size_t cap = 0, nc = 0, tl;
        cand_t *v = NULL;
        unsigned char *toc = toc_numbers(c);
        /* A number alone with no title below is a page number (a web
         * page's pager "1", "2"): no candidate, and no end of a body. */
        for (size_t i = 0; i < c->n; i++)
                if (LI(c, i)->cand == 2 && !find_title(c, i, &tl)) {
                        LIW(c, i)->cand = 0;
                        LIW(c, i)->consumed = 1;
                }
        for (size_t i = 0; i < c->n; i++) {
                const linfo_t *li = LI(c, i);
                if (!li->cand || li->consumed || li->num > MM_CAND_MAX_NUM || li->num < 0 ||
                    !find_title(c, i, &tl))
                        continue;
                if (nc == cap) {
                        cap = cap ? cap * 2 : 64;
                        cand_t *nv = realloc(v, cap * sizeof(*v));
                        if (!nv) {
                                free(v);
                                free(toc);
                                return -1;
                        }
                        v = nv;
                }
                cand_t *k = &v[nc++];
                c->work++;
                k->line = i;
                k->title_line = tl;
                k->title_end = title_end(c, tl);
                k->num = li->num;
                score_candidate(c, k, toc);
        }
        free(toc);
        c->work += 2 * c->n; /* the two passes over the lines */
        c->ncand = nc;
        *out = v;
        *n = nc;
        return 0;
}
