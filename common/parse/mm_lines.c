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

/* Is s[0..n) a journal number, possibly after a label? Returns 1 with its
 * span and form (index into caseno) when it is; 2 for a case label with no
 * value ("Sagsnr.:"); 3 for a document number ("Dok.nr.: 2019-678901");
 * else 0. With `bare`, a number without a label may be in any form. */
static int match_case(const ctx_t *c, const char *s, size_t n, int bare, size_t *b, size_t *e,
                      size_t *kind) {
        const mm_parser_t *p = c->p;
        char buf[64];
        size_t off = 0, l;
        int labelled = 0, doc = 0;

        if (n < 2 || n > 80)
                return 0;
        /* Every form has a digit within its first 20 bytes after a label. */
        if (!isdigit((unsigned char)s[0]) && !isupper((unsigned char)s[0]) &&
            !((unsigned char)s[0] == 0xc3 && n > 1 && (unsigned char)s[1] == 0x85)) /* Å */
                return 0;
        /* Most lines start with no label's first byte: no fold then. */
        unsigned char f0 = (unsigned char)s[0];
        if (f0 >= 'A' && f0 <= 'Z')
                f0 = (unsigned char)(f0 + 32);
        l = p->case_label_first[f0] ? mm_pass_fold(s, n < 40 ? n : 40, buf, sizeof(buf)) : 0;
        for (size_t i = 0; i < p->ncase_labels && l; i++) {
                size_t ll = strlen(p->case_labels[i]);
                if (ll <= l && !memcmp(buf, p->case_labels[i], ll)) {
                        off = ll;
                        while (off < n &&
                               (s[off] == ' ' || s[off] == ':' || s[off] == '\t' || s[off] == '.'))
                                off++;
                        labelled = 1;
                        doc = p->case_label_doc[i];
                        break;
                }
        }
        char last = s[n - 1];
        while (n > off && mm_pass_trail_punct(s[n - 1]))
                n--;
        if (labelled && off >= n)
                return last == ':' || last == '.' ? 2 : 0;
        if (n < 5)
                return 0;
        for (size_t r = 0; r < p->caseno.n; r++) {
                size_t mb, me;
                if (!labelled && !bare && r > 1)
                        break; /* bare numbers only in the distinctive forms */
                /* After a label, more may follow ("Sagsnr.: 23/12345 Dok.nr.: 9"). */
                if (mm_rx_exec(p->caseno.rx[r], c->m, s, n, off) &&
                    !mm_rx_group(c->m, 0, &mb, &me) && mb == off &&
                    (me == n || (labelled && (s[me] == ' ' || s[me] == ',' || s[me] == '\t')))) {
                        *b = mb;
                        *e = me;
                        *kind = r;
                        return doc ? 3 : 1;
                }
        }
        return 0;
}

/* Whether s[0..n) folds (mm_pass_fold) to w, n lower-case ASCII letters:
 * only 'A'-'Z' fold to them. */
static int folds_to(const char *s, const char *w, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (s[i] != w[i] && s[i] != w[i] - 32)
                        return 0;
        return 1;
}

/* Whether the fold of the first 40 bytes of the line holds "beslutning"
 * or starts with "tidligere", read without folding. */
static int speaks_of_decision(const mm_line_t *l) {
        size_t m = l->len < 40 ? l->len : 40;
        for (size_t k = 0; k + 10 <= m; k++)
                if ((l->s[k] | 32) == 'b' && folds_to(l->s + k, "beslutning", 10))
                        return 1;
        return m >= 9 && folds_to(l->s, "tidligere", 9);
}

static int is_history(const ctx_t *c, const mm_line_t *l) {
        if (l->len > 220)
                return 0;
        /* Only heading-like lines, or lines that speak of a decision. */
        if (!(l->s[l->len - 1] == ':' || l->heading || l->bold || speaks_of_decision(l)))
                return 0;
        const rxlist_t *h = &c->p->history;
        uint64_t have = mm_cues_find(h->cues, l->s, l->len);
        for (size_t r = 0; r < h->n; r++)
                if (mm_cues_may(h->need[r], have) && mm_rx_exec(h->rx[r], c->m, l->s, l->len, 0))
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

/* "34." or "1" alone on a line. */
static int bullet_number(const mm_line_t *l) {
        size_t k = 0;
        while (k < l->len && isdigit((unsigned char)l->s[k]))
                k++;
        return k && k <= 4 && (k == l->len || (k + 1 == l->len && l->s[k] == '.'));
}

/* "N. Title", "N" alone, "Punkt N: Title": an item candidate. */
static void line_candidate(ctx_t *c, const mm_line_t *l, linfo_t *li) {
        const mm_parser_t *p = c->p;
        size_t b, e;
        /* A bulleted line is a list entry, but a bullet before a number
         * alone ("• 34.", the title below) is a web CMS's item marker. */
        if (li->toc || (l->bullet && !bullet_number(l)))
                return;
        /* "2022. Dette er ...", "2025 - Godkendelse": a year that starts a
         * wrapped line, not an item number. */
        if (l->len >= 4 && (!strncmp(l->s, "19", 2) || !strncmp(l->s, "20", 2)) &&
            isdigit((unsigned char)l->s[2]) && isdigit((unsigned char)l->s[3]) &&
            (l->len == 4 || !isdigit((unsigned char)l->s[4])) && atoi(l->s) >= 1950 &&
            atoi(l->s) < 2100)
                return;
        if (isdigit((unsigned char)l->s[0])) {
                size_t k = 0;
                while (k < l->len && isdigit((unsigned char)l->s[k]))
                        k++;
                if (k <= 4 && (k == l->len || (k + 1 == l->len && l->s[k] == '.'))) {
                        li->cand = 2;
                        li->num = atoi(l->s);
                } else if (k <= 4 && mm_rx_exec(p->item_num, c->m, l->s, l->len, 0) &&
                           !mm_rx_group(c->m, 2, &b, &e) && b < 64) {
                        li->cand = 1;
                        li->num = atoi(l->s);
                        li->tb = (uint16_t)b;
                }
        } else if (strchr("PpSsDd", l->s[0]) && mm_rx_exec(p->item_punkt, c->m, l->s, l->len, 0)) {
                mm_rx_group(c->m, 1, &b, &e);
                li->cand = 3;
                li->num = atoi(l->s + b);
                mm_rx_group(c->m, 2, &b, &e);
                li->tb = (uint16_t)(b < 64 ? b : 0);
        }
}

/* Whether the fold of the line's first 60 bytes can start with
 * "beslutning" at its start or after its first blank (folding keeps
 * offsets, and only 'B' folds to 'b'), the forms line_section looks for. */
static int may_name_decision(const mm_line_t *l) {
        size_t m = l->len < 60 ? l->len : 60;
        const char *sp = memchr(l->s, ' ', m);
        return (l->s[0] | 32) == 'b' || (sp && (size_t)(sp + 1 - l->s) < m && (sp[1] | 32) == 'b');
}

/* "BESLUTNING: Økonomiudvalget den 09-12-2021": the text after the colon
 * names the body and the date of the decision, so it is part of the
 * heading; a decision of another date than the meeting's is quoted history
 * (own_meeting_decisions of mm_parser makes it this meeting's when the
 * dates agree). */
static void dated_decision(const ctx_t *c, const mm_line_t *l, linfo_t *li) {
        int y, m, d;
        size_t e;
        if (SEC(li) != c->p->decision_sec || !li->inl || l->len - li->inl > 80 ||
            mm_date_find(l->s + li->inl, l->len - li->inl, &y, &m, &d, NULL, &e) ||
            li->inl + e + 2 < l->len)
                return;
        li->inl = 0;
        li->sec1 = 0;
        li->hist = 1;
        li->hy = (uint16_t)y;
        li->hm = (uint8_t)m;
        li->hd = (uint8_t)d;
}

/* "BeslutningGodkendt.", "BilagIngen bilag.": a web page that glues a
 * heading to its text (a heading of sections.tsv, then a capital with no
 * blank between). Returns the heading's index and sets *at, or -1. */
static int glued_section(const ctx_t *c, const mm_line_t *l, size_t *at) {
        const unsigned char *s = (const unsigned char *)l->s;
        /* within the first word, a small letter then a capital */
        for (size_t k = 4; k + 1 < l->len && k < 40 && s[k] != ' '; k++) {
                if ((unsigned)(s[k - 1] - 'a') >= 26u ||
                    !((unsigned)(s[k] - 'A') < 26u ||
                      (s[k] == 0xc3 && s[k + 1] >= 0x80 && s[k + 1] < 0x9f)) ||
                    !c->p->sec_len_ok[k])
                        continue;
                int sec = mm_lines_match_section(c->p, l->s, k);
                if (sec >= 0) {
                        *at = k;
                        return sec;
                }
        }
        return -1;
}

/* A known section heading, alone or as "Heading: text". */
static void line_section(ctx_t *c, const mm_line_t *l, linfo_t *li) {
        const mm_parser_t *p = c->p;
        li->sec1 = (int16_t)(mm_lines_match_section(p, l->s, l->len) + 1);
        if (SEC(li) < 0 && l->len > 5) {
                size_t at;
                int g = glued_section(c, l, &at);
                if (g >= 0) {
                        li->sec1 = (int16_t)(g + 1);
                        li->inl = (uint16_t)at;
                }
        }
        if (SEC(li) < 0) {
                const char *colon = memchr(l->s, ':', l->len < 50 ? l->len : 50);
                if (colon && colon > l->s) {
                        int s = mm_lines_match_section(p, l->s, (size_t)(colon - l->s));
                        if (s >= 0) {
                                size_t k = (size_t)(colon - l->s) + 1;
                                while (k < l->len && l->s[k] == ' ')
                                        k++;
                                li->sec1 = (int16_t)(s + 1);
                                li->inl = (uint16_t)(k < l->len ? k : 0);
                                dated_decision(c, l, li);
                        }
                }
        }
        /* "Beslutning i Byrådet", "Udvalgets beslutning den ..." */
        if (SEC(li) < 0 && p->decision_sec >= 0 && l->len < 100 && l->s[l->len - 1] != '.' &&
            may_name_decision(l)) {
                char fb[64];
                mm_pass_fold(l->s, l->len < 60 ? l->len : 60, fb, sizeof(fb));
                const char *sp = strchr(fb, ' ');
                int genitive = sp && sp > fb && sp[-1] == 's' && !strncmp(sp + 1, "beslutning", 10);
                /* "Beslutning Byrådet den", "Beslutning Udvalget for Miljø":
                 * the body named right after the word */
                unsigned char nx = l->len > 11 ? (unsigned char)l->s[11] : 0;
                int body = !strncmp(fb, "beslutning ", 11) &&
                           (isupper(nx) ||
                            (nx == 0xc3 && l->len > 12 &&
                             ((unsigned char)l->s[12] == 0x86 || (unsigned char)l->s[12] == 0x98 ||
                              (unsigned char)l->s[12] == 0x85)));
                if (genitive || body || !strncmp(fb, "beslutning i ", 13) ||
                    !strncmp(fb, "beslutning den ", 15) || !strncmp(fb, "beslutning på ", 15))
                        li->sec1 = (int16_t)(p->decision_sec + 1);
        }
        if (SEC(li) < 0 && (l->heading || l->bold))
                li->unknown = 1;
}

/* Journal numbers. Returns 1 when the line is one (or a label, or a
 * document number); `*pending` counts the lines in which a bare number may
 * still be the value of a label printed alone above it. */
static int line_case(ctx_t *c, const mm_line_t *l, linfo_t *li, int *pending) {
        size_t cb = 0, ce = 0, kind = 0;
        int r = match_case(c, l->s, l->len, *pending > 0, &cb, &ce, &kind);
        if (*pending > 0)
                (*pending)--;
        if (!r)
                return 0;
        if (r == 2) {
                li->case_label = 1;
                li->consumed = 1;
                *pending = 6;
                return 1;
        }
        li->cb = (uint16_t)cb;
        li->ce = (uint16_t)ce;
        li->ckind = (uint8_t)kind;
        if (r == 3) {
                li->doc_no = 1;
                li->consumed = 1;
        } else {
                li->is_case = 1;
                *pending = 0;
        }
        return 1;
}

/* A state line under a title: "Åben sag", "LUKKET SAG" (closed.tsv). */
static int state_mark(const ctx_t *c, const mm_line_t *l) {
        const mm_parser_t *p = c->p;
        const unsigned char *s = (const unsigned char *)l->s;
        /* "Lukket", "Offentlig", "Åben"/"ÅBEN" first: most lines are none */
        if (l->len > 24 || l->len < 4 ||
            !((s[0] | 32) == 'l' || (s[0] | 32) == 'o' ||
              (s[0] == 0xc3 && (s[1] == 0x85 || s[1] == 0xa5) && (s[2] | 32) == 'b')))
                return 0;
        for (size_t r = 0; r < p->closed.n; r++)
                if (p->closed_scope[r] >= 3 && mm_rx_exec(p->closed.rx[r], c->m, l->s, l->len, 0))
                        return p->closed_scope[r] - 2;
        return 0;
}

void mm_lines_analyse(ctx_t *c) {
        int pending = 0;
        static const linfo_t none;
        for (size_t i = 0; i < c->n; i++) {
                const mm_line_t *l = LN(c, i);
                linfo_t li = none;
                c->work++;
                if (l->blank)
                        continue;
                li.toc = is_toc_line(l);
                li.mark = (unsigned)state_mark(c, l);
                if (li.mark) {
                        li.consumed = 1;
                } else if (!line_case(c, l, &li, &pending)) {
                        line_candidate(c, l, &li);
                        if (!li.cand && is_history(c, l)) {
                                int y, m, d;
                                li.hist = 1;
                                if (!mm_date_find(l->s, l->len, &y, &m, &d, NULL, NULL)) {
                                        li.hy = (uint16_t)y;
                                        li.hm = (uint8_t)m;
                                        li.hd = (uint8_t)d;
                                }
                        } else if (!li.cand && l->len < 120) {
                                line_section(c, l, &li);
                        }
                }
                /* Most lines are plain text: only the others take memory. */
                if (memcmp(&li, &none, sizeof(li)))
                        *LIW(c, i) = li;
        }
}

/* ------------------------------------------------------------------ */
/* Repeated page headers                                                */

/* Lines at the top of a document that may be its own header. */
#define MM_HEADER_LINES 60

/* Whether a line is long enough and short enough to have a furniture key
 * (furniture_key gives every other line 0, and *digits 0). */
static int is_keyed(const mm_line_t *l) {
        return l->len >= 3 && l->len < 100;
}

/* Hash of a line with its digits left out, so "Side 3" and "Side 4", or
 * "Dato: 12.03.2019" on every page, compare equal. 0 means "not a
 * furniture candidate". */
static uint64_t furniture_key(const ctx_t *c, size_t i, int *digits) {
        const mm_line_t *l = LN(c, i);
        const linfo_t *li = LI(c, i);
        uint64_t h = 1469598103934665603ull;
        *digits = 0;
        /* Page furniture is short and ends no sentence. */
        if (l->blank || l->len < 3 || l->len >= 100 || l->s[l->len - 1] == '.' ||
            l->s[l->len - 1] == ',' || SEC(li) >= 0 || li->hist || li->cand || li->is_case)
                return 0;
        for (size_t q = 0; q < l->len; q++) {
                if (isdigit((unsigned char)l->s[q])) {
                        *digits = 1;
                        continue;
                }
                h = (h ^ (unsigned char)l->s[q]) * 1099511628211ull;
        }
        return h ? h : 1;
}

/* Open-addressing table of key -> count. */
typedef struct fslot_s {
        uint64_t key;
        uint32_t count;
        uint32_t first; /* line of the first copy */
} fslot_t;

static fslot_t *fslot(fslot_t *t, size_t mask, uint64_t key) {
        size_t k = (size_t)(key ^ (key >> 29)) & mask;
        while (t[k].key && t[k].key != key)
                k = (k + 1) & mask;
        t[k].key = key;
        return &t[k];
}

/* Marks every copy but the first of each line of block [a, b) as consumed. */
static void drop_block(ctx_t *c, fslot_t *t, size_t mask, size_t a, size_t b) {
        int dg, repeat = 0;
        /* A block whose lines were all seen before is a repeat; the first
         * block of them stays only in the document's own header (it may
         * name the committee or the date). */
        for (size_t i = a; i < b; i++) {
                uint64_t key = furniture_key(c, i, &dg);
                if (key && fslot(t, mask, key)->first < a)
                        repeat = 1;
        }
        for (size_t i = a; i < b; i++) {
                uint64_t key = furniture_key(c, i, &dg);
                if (key && (repeat || fslot(t, mask, key)->first != i || i >= MM_HEADER_LINES))
                        LIW(c, i)->consumed = 1;
        }
}

static int dated(const mm_line_t *l) {
        int y, m, d;
        /* Every date form has a '-' or a '.'; most lines have no date. */
        return (memchr(l->s, '-', l->len) || memchr(l->s, '.', l->len)) &&
               !mm_date_find(l->s, l->len, &y, &m, &d, NULL, NULL);
}

static int block_dated(const ctx_t *c, size_t a, size_t b) {
        for (size_t i = a; i < b; i++)
                if (!LN(c, i)->blank && dated(LN(c, i)))
                        return 1;
        return 0;
}

/* A PDF export repeats a page header block (committee, "Referat", "Dato:
 * 12.03.2019", "Side 3") on every page, anywhere in an item, even between
 * an item's number and its title. A line that comes back three times or
 * more, compared without its digits, is furniture when it stands in a block
 * of such lines that holds a date (or of four such lines or more): a
 * decision that repeats ("Godkendt.") stands alone. Every copy but the first is dropped. Linear: one hash table
 * of the lines' keys. */
void mm_lines_page_furniture(ctx_t *c) {
        size_t cap = 64, keyed = 0;
        /* An upper bound of the keyed lines, without hashing them twice. */
        for (size_t i = 0; i < c->n; i++)
                keyed += is_keyed(LN(c, i));
        while (cap < 2 * keyed)
                cap *= 2;
        fslot_t *t = calloc(cap, sizeof(*t));
        /* The key of every line that may have one, in line order, and
         * whether it had digits: the second pass reads them back instead
         * of hashing every line again (9 bytes a line, besides the 32 of
         * its slots in t). */
        uint64_t *keys = malloc((keyed + 1) * sizeof(*keys));
        unsigned char *digits = malloc(keyed + 1);
        if (!t || !keys || !digits) {
                free(t);
                free(keys);
                free(digits);
                return;
        }
        size_t mask = cap - 1, nk = 0;
        c->work += 3 * c->n;
        for (size_t i = 0; i < c->n; i++) {
                int dg;
                if (!is_keyed(LN(c, i)))
                        continue;
                uint64_t key = furniture_key(c, i, &dg);
                keys[nk] = key;
                digits[nk++] = (unsigned char)dg;
                if (key) {
                        fslot_t *f = fslot(t, mask, key);
                        if (!f->count++)
                                f->first = (uint32_t)i;
                }
        }
        size_t a = 0, nrep = 0, ndig = 0, last = 0;
        nk = 0;
        for (size_t i = 0; i <= c->n; i++) {
                int dg = 0, rep = 0;
                if (i < c->n) {
                        uint64_t key = 0;
                        if (is_keyed(LN(c, i))) {
                                dg = digits[nk];
                                key = keys[nk++];
                        }
                        if (!key && LN(c, i)->blank && (!nrep || i - last <= 2))
                                continue;
                        rep = key && fslot(t, mask, key)->count >= 3;
                }
                if (rep) {
                        if (!nrep)
                                a = i;
                        nrep++;
                        ndig += dg;
                        last = i;
                        continue;
                }
                if (nrep >= 4 || (ndig && block_dated(c, a, last + 1)))
                        drop_block(c, t, mask, a, last + 1);
                nrep = ndig = 0;
        }
        free(keys);
        free(digits);
        free(t);
}
