#include "mm_parser.h"

/* All strings handed to jansson here come from text that mm_text has
 * validated as UTF-8 and were cut at character boundaries, so the
 * _nocheck constructors skip a second validation. */

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mm_classify.h"
#include "mm_date.h"
#include "mm_rx.h"
#include "mm_str.h"
#include "mm_table.h"
#include "mm_text.h"

/* Attachment sections kept per document (one per item, plus the
 * document-wide list); more are ignored. */
#define MM_MAX_BILAG 512

enum field {
        F_DATE,
        F_TIME,
        F_LOCATION,
        F_PARTICIPANTS,
        F_ABSENT,
        F_COMMITTEE,
        F_REMARKS,
        F_END_TIME,
        F_NONE
};

static const char *const field_names[] = {"date",         "time",     "location",
                                          "participants", "absent",   "committee",
                                          "remarks",      "end_time", NULL};

typedef struct secdef_s {
        char *fold;
        size_t len;
        const char *kind;
        int opens; /* may be the first heading of an item */
} secdef_t;

typedef struct labeldef_s {
        char *fold;
        size_t len;
        int field;
} labeldef_t;

/* A list of compiled patterns from one column of a table. */
typedef struct rxlist_s {
        mm_rx_t **rx;
        const char **tag; /* first column when the table has two */
        size_t n;
} rxlist_t;

struct mm_parser_s {
        size_t max_bytes;
        mm_classify_t *cls;
        mm_table_t *t_sections, *t_history, *t_absence, *t_labels, *t_noise, *t_closed, *t_case,
                *t_case_labels, *t_committees;
        secdef_t *secs;
        size_t nsecs;
        unsigned char sec_len_ok[128]; /* a heading of this byte length exists */
        labeldef_t *labels;
        size_t nlabels;
        char **case_labels;
        size_t ncase_labels;
        rxlist_t history, absence, closed, caseno, committees;
        mm_rx_t *noise[4]; /* noise.tsv, grouped by scope and anchoring */
        int noise_drop[4];
        size_t nnoise;
        int *closed_scope; /* 0 title, 1 region, 2 region_end */
        int decision_sec;  /* index of the "Beslutning" heading */
        mm_rx_t *item_num, *item_punkt, *header_absence;
};

/* ------------------------------------------------------------------ */
/* Small string helpers                                                 */

/* Lower-cases ASCII and the Latin-1 capitals (Æ Ø Å É ...) of s[0..n) into
 * out (NUL-terminated, at most cap-1 bytes). Returns the length. */
static size_t fold(const char *s, size_t n, char *out, size_t cap) {
        size_t o = 0;
        for (size_t i = 0; i < n && o + 1 < cap; i++) {
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

static char *xstrndup(const char *s, size_t n) {
        char *d = malloc(n + 1);
        if (d) {
                memcpy(d, s, n);
                d[n] = '\0';
        }
        return d;
}

static int is_trail_punct(char c) {
        return c == ':' || c == ',' || c == '.' || c == ';' || c == ' ' || c == '\t';
}

/* Dynamic string. */
typedef struct dstr_s {
        char *p;
        size_t len, cap;
} dstr_t;

static void ds_add(dstr_t *d, const char *s, size_t n) {
        if (d->len + n + 1 > d->cap) {
                size_t nc = d->cap ? d->cap * 2 : 128;
                while (nc < d->len + n + 1)
                        nc *= 2;
                char *np = realloc(d->p, nc);
                if (!np)
                        return; /* truncated output beats a crash */
                d->p = np;
                d->cap = nc;
        }
        memcpy(d->p + d->len, s, n);
        d->len += n;
        d->p[d->len] = '\0';
}

static void ds_reset(dstr_t *d) {
        d->len = 0;
        if (d->p)
                d->p[0] = '\0';
}

/* ------------------------------------------------------------------ */
/* Construction                                                         */

static int match_section(const mm_parser_t *p, const char *s, size_t n);

static int load_rxlist(rxlist_t *l, mm_table_t *t, int col, int tagcol, int flags, char *errstr,
                       size_t errstr_size) {
        l->n = mm_table_rows(t);
        l->rx = calloc(l->n + 1, sizeof(*l->rx));
        l->tag = calloc(l->n + 1, sizeof(*l->tag));
        if (!l->rx || !l->tag) {
                snprintf(errstr, errstr_size, "out of memory");
                return -1;
        }
        for (size_t i = 0; i < l->n; i++) {
                l->rx[i] = mm_rx_new(mm_table_get(t, i, col), flags, errstr, errstr_size);
                if (!l->rx[i])
                        return -1;
                l->tag[i] = tagcol >= 0 ? mm_table_get(t, i, tagcol) : "";
        }
        return 0;
}

static void free_rxlist(rxlist_t *l) {
        if (l->rx)
                for (size_t i = 0; i < l->n; i++)
                        mm_rx_destroy(l->rx[i]);
        free(l->rx);
        free(l->tag);
}

static int cmp_label_len(const void *a, const void *b) {
        const labeldef_t *x = a, *y = b;
        return (int)y->len - (int)x->len;
}

mm_parser_t *mm_parser_new(size_t max_bytes, char *errstr, size_t errstr_size) {
        mm_parser_t *p = calloc(1, sizeof(*p));
        char buf[256];

        if (!p) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        p->max_bytes = max_bytes ? max_bytes : MM_PARSER_DEFAULT_MAX_BYTES;
        if (!(p->cls = mm_classify_new(errstr, errstr_size)) ||
            !(p->t_sections = mm_table_load("sections", 3, errstr, errstr_size)) ||
            !(p->t_history = mm_table_load("history", 1, errstr, errstr_size)) ||
            !(p->t_absence = mm_table_load("absence", 1, errstr, errstr_size)) ||
            !(p->t_labels = mm_table_load("header_labels", 2, errstr, errstr_size)) ||
            !(p->t_noise = mm_table_load("noise", 2, errstr, errstr_size)) ||
            !(p->t_closed = mm_table_load("closed", 2, errstr, errstr_size)) ||
            !(p->t_case = mm_table_load("case_numbers", 2, errstr, errstr_size)) ||
            !(p->t_case_labels = mm_table_load("case_labels", 1, errstr, errstr_size)) ||
            !(p->t_committees = mm_table_load("committees", 1, errstr, errstr_size)))
                goto fail;

        p->nsecs = mm_table_rows(p->t_sections);
        p->secs = calloc(p->nsecs + 1, sizeof(*p->secs));
        if (!p->secs)
                goto oom;
        for (size_t i = 0; i < p->nsecs; i++) {
                const char *h = mm_table_get(p->t_sections, i, 0);
                size_t n = fold(h, strlen(h), buf, sizeof(buf));
                if (!(p->secs[i].fold = xstrndup(buf, n)))
                        goto oom;
                p->secs[i].len = n;
                p->secs[i].kind = mm_table_get(p->t_sections, i, 1);
                p->secs[i].opens = mm_table_get(p->t_sections, i, 2)[0] == 'y';
                if (n < sizeof(p->sec_len_ok))
                        p->sec_len_ok[n] = 1;
        }
        p->decision_sec = match_section(p, "Beslutning", 10);
        p->nlabels = mm_table_rows(p->t_labels);
        p->labels = calloc(p->nlabels + 1, sizeof(*p->labels));
        if (!p->labels)
                goto oom;
        for (size_t i = 0; i < p->nlabels; i++) {
                const char *h = mm_table_get(p->t_labels, i, 0);
                const char *f = mm_table_get(p->t_labels, i, 1);
                size_t n = fold(h, strlen(h), buf, sizeof(buf));
                int k;
                for (k = 0; field_names[k]; k++)
                        if (!strcmp(field_names[k], f))
                                break;
                if (!field_names[k]) {
                        snprintf(errstr, errstr_size, "header_labels table: unknown field \"%s\"",
                                 f);
                        goto fail;
                }
                if (!(p->labels[i].fold = xstrndup(buf, n)))
                        goto oom;
                p->labels[i].len = n;
                p->labels[i].field = k;
        }
        qsort(p->labels, p->nlabels, sizeof(*p->labels), cmp_label_len);
        p->ncase_labels = mm_table_rows(p->t_case_labels);
        p->case_labels = calloc(p->ncase_labels + 1, sizeof(char *));
        if (!p->case_labels)
                goto oom;
        for (size_t i = 0; i < p->ncase_labels; i++) {
                const char *h = mm_table_get(p->t_case_labels, i, 0);
                size_t n = fold(h, strlen(h), buf, sizeof(buf));
                if (!(p->case_labels[i] = xstrndup(buf, n)))
                        goto oom;
        }
        {
                /* One pass per line and kind instead of one per pattern.
                 * Patterns anchored at the line start are kept apart from
                 * floating ones: mixed in one alternation, they would stop
                 * PCRE2 from skipping ahead to a possible first character. */
                dstr_t alt[4] = {{0}, {0}, {0}, {0}};
                for (size_t i = 0; i < mm_table_rows(p->t_noise); i++) {
                        const char *pat = mm_table_get(p->t_noise, i, 0);
                        const char *scope = mm_table_get(p->t_noise, i, 1);
                        int line = !strcmp(scope, "line");
                        if (!line && strcmp(scope, "cut")) {
                                snprintf(errstr, errstr_size, "noise table: unknown scope \"%s\"",
                                         scope);
                                goto fail;
                        }
                        dstr_t *a = &alt[2 * line + (pat[0] == '^')];
                        ds_add(a, a->len ? "|(?:" : "(?:", a->len ? 4 : 3);
                        ds_add(a, pat, strlen(pat));
                        ds_add(a, ")", 1);
                }
                for (int k = 0; k < 4; k++) {
                        if (!alt[k].p)
                                continue;
                        p->noise_drop[p->nnoise] = k >= 2;
                        p->noise[p->nnoise] = mm_rx_new(alt[k].p, 0, errstr, errstr_size);
                        if (!p->noise[p->nnoise++]) {
                                for (int q = 0; q < 4; q++)
                                        free(alt[q].p);
                                goto fail;
                        }
                }
                for (int q = 0; q < 4; q++)
                        free(alt[q].p);
        }
        if (load_rxlist(&p->history, p->t_history, 0, -1, MM_RX_CASELESS, errstr, errstr_size) ||
            load_rxlist(&p->absence, p->t_absence, 0, -1, MM_RX_CASELESS, errstr, errstr_size) ||
            load_rxlist(&p->closed, p->t_closed, 1, 0, MM_RX_CASELESS, errstr, errstr_size) ||
            load_rxlist(&p->caseno, p->t_case, 1, 0, MM_RX_ANCHORED, errstr, errstr_size) ||
            load_rxlist(&p->committees, p->t_committees, 0, -1, 0, errstr, errstr_size))
                goto fail;
        p->closed_scope = calloc(p->closed.n + 1, sizeof(int));
        if (!p->closed_scope)
                goto oom;
        for (size_t i = 0; i < p->closed.n; i++) {
                const char *sc = p->closed.tag[i];
                p->closed_scope[i] = !strcmp(sc, "title")        ? 0
                                     : !strcmp(sc, "region")     ? 1
                                     : !strcmp(sc, "region_end") ? 2
                                                                 : -1;
                if (p->closed_scope[i] < 0) {
                        snprintf(errstr, errstr_size, "closed table: unknown scope \"%s\"", sc);
                        goto fail;
                }
        }
        p->item_num =
                mm_rx_new("^(\\d{1,4})\\s*[.)]?\\s+(?![a-zæøå])(\\S.*)$", 0, errstr, errstr_size);
        p->item_punkt =
                mm_rx_new("^(?:punkt|pkt\\.?|dagsordenspunkt|dagsordenpunkt|sag\\s+nr\\.?)\\s*"
                          "(\\d{1,4})\\s*(?:[:.)-]|\xe2\x80\x93)?\\s*(.*)$",
                          MM_RX_CASELESS, errstr, errstr_size);
        p->header_absence =
                mm_rx_new("^(?<names>.+?)\\s+deltog\\s+(?<mode>kun\\s+ved|kun\\s+i|ved|i|under|"
                          "til\\s+og\\s+med|fra\\s+og\\s+med|fra|ikke\\s+i|ikke\\s+ved)\\s+"
                          "(?:behandlingen\\s+af\\s+)?(?:punkt(?:erne)?|pkt\\.?|sag(?:erne)?|"
                          "dagsordenspunkt(?:erne)?)\\s*(?<nums>\\d[\\d ,.og-]*)",
                          MM_RX_CASELESS, errstr, errstr_size);
        if (!p->item_num || !p->item_punkt || !p->header_absence)
                goto fail;
        return p;
oom:
        snprintf(errstr, errstr_size, "out of memory");
fail:
        mm_parser_destroy(p);
        return NULL;
}

void mm_parser_destroy(mm_parser_t *p) {
        if (!p)
                return;
        if (p->secs)
                for (size_t i = 0; i < p->nsecs; i++)
                        free(p->secs[i].fold);
        if (p->labels)
                for (size_t i = 0; i < p->nlabels; i++)
                        free(p->labels[i].fold);
        if (p->case_labels)
                for (size_t i = 0; i < p->ncase_labels; i++)
                        free(p->case_labels[i]);
        free(p->secs);
        free(p->labels);
        free(p->case_labels);
        free(p->closed_scope);
        for (size_t i = 0; i < p->nnoise; i++)
                mm_rx_destroy(p->noise[i]);
        free_rxlist(&p->history);
        free_rxlist(&p->absence);
        free_rxlist(&p->closed);
        free_rxlist(&p->caseno);
        free_rxlist(&p->committees);
        mm_rx_destroy(p->item_num);
        mm_rx_destroy(p->item_punkt);
        mm_rx_destroy(p->header_absence);
        mm_table_destroy(p->t_sections);
        mm_table_destroy(p->t_history);
        mm_table_destroy(p->t_absence);
        mm_table_destroy(p->t_labels);
        mm_table_destroy(p->t_noise);
        mm_table_destroy(p->t_closed);
        mm_table_destroy(p->t_case);
        mm_table_destroy(p->t_case_labels);
        mm_table_destroy(p->t_committees);
        mm_classify_destroy(p->cls);
        free(p);
}

/* ------------------------------------------------------------------ */
/* Per-parse state                                                      */

typedef struct linfo_s {
        int sec;       /* index into secs, or -1 */
        int hist;      /* a heading quoting an earlier meeting */
        int unknown;   /* a marked-up heading we do not know */
        size_t inl;    /* "Heading: text": offset of text, else 0 */
        int is_case;   /* the line is a journal number */
        size_t cb, ce; /* its span in the line */
        const char *ckind;
        int cand; /* item candidate: 1 "N. Title", 2 "N" alone, 3 "Punkt N" */
        int num;
        size_t tb; /* title offset in the line */
        int toc;
        int consumed;   /* a journal number that belongs to the next item */
        int hy, hm, hd; /* date named in a history heading, or 0 */
} linfo_t;

typedef struct item_s {
        size_t head, title_end, start, end;
        int number;
        char *title;
        char case_no[96];
        const char *case_kind;
        int closed;
} item_t;

typedef struct ctx_s {
        const mm_parser_t *p;
        mm_text_t *text;
        const mm_line_t *L;
        size_t n;
        linfo_t *li;
        item_t *items;
        size_t nitems;
        mm_rx_match_t *m;
        json_t *warnings;
        json_t *participants;
        /* meeting-level absences: name and the item numbers they apply to */
        struct habs {
                char *name;
                int mode; /* 0 all, 1 only listed (attended), 2 up to n,
                             3 from n, 4 absent from listed */
                int nums[64];
                int nnums;
        } habs[16];
        int nhabs;
        int referat; /* the header calls the document minutes ("Referat") */
} ctx_t;

static const mm_line_t *LN(const ctx_t *c, size_t i) {
        return &c->L[i];
}

/* ------------------------------------------------------------------ */
/* Line analysis                                                        */

static int match_section(const mm_parser_t *p, const char *s, size_t n) {
        char buf[200];
        size_t l;
        /* A heading starts with a capital and does not end a sentence: a
         * wrapped paragraph can leave "bilag." alone on a line. */
        if (!n || !(isupper((unsigned char)s[0]) || (unsigned char)s[0] >= 0x80) || s[n - 1] == '.')
                return -1;
        while (n && is_trail_punct(s[n - 1]))
                n--;
        /* Folding keeps byte lengths, so the length filters first. */
        if (!n || n >= sizeof(p->sec_len_ok) || !p->sec_len_ok[n])
                return -1;
        l = fold(s, n, buf, sizeof(buf));
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
        l = fold(s, n < 40 ? n : 40, buf, sizeof(buf));
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
        while (n > off && is_trail_punct(s[n - 1]))
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
        fold(l->s, l->len < 40 ? l->len : 40, buf, sizeof(buf));
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

static void analyse_lines(ctx_t *c) {
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
                        li->sec = match_section(p, l->s, l->len);
                        if (li->sec < 0) {
                                const char *colon = memchr(l->s, ':', l->len < 50 ? l->len : 50);
                                if (colon && colon > l->s) {
                                        int s = match_section(p, l->s, (size_t)(colon - l->s));
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
                                fold(l->s, l->len < 60 ? l->len : 60, fb, sizeof(fb));
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
static void drop_page_headers(ctx_t *c) {
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
                        ds_add(&d, " ", 1);
                for (size_t q = off; q < l->len; q++)
                        ds_add(&d, l->s[q] == '\t' ? " " : &l->s[q], 1);
        }
        while (d.len && (d.p[d.len - 1] == ' '))
                d.p[--d.len] = '\0';
        it->title = d.p ? d.p : xstrndup("", 0);
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

static void find_items(ctx_t *c) {
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

/* ------------------------------------------------------------------ */
/* Names                                                                */

static int levenshtein(const char *a, size_t la, const char *b, size_t lb) {
        int row[128];
        if (la >= 127 || lb >= 127)
                return 99;
        for (size_t j = 0; j <= lb; j++)
                row[j] = (int)j;
        for (size_t i = 1; i <= la; i++) {
                int prev = row[0];
                row[0] = (int)i;
                for (size_t j = 1; j <= lb; j++) {
                        int cur = row[j];
                        int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                        int v = prev + cost;
                        if (row[j] + 1 < v)
                                v = row[j] + 1;
                        if (row[j - 1] + 1 < v)
                                v = row[j - 1] + 1;
                        row[j] = v;
                        prev = cur;
                }
        }
        return row[lb];
}

/* Checks that s looks like a person's name: 2-6 words, capitalised. */
static int plausible_name(const char *s, size_t n) {
        static const char *const none[] = {"ingen",        "intet",         "alle",
                                           "ingen afbud",  "alle mødt",     "alle til stede",
                                           "ingen fravær", "ikke relevant", NULL};
        char fb[64];
        fold(s, n < 60 ? n : 60, fb, sizeof(fb));
        for (int k = 0; none[k]; k++)
                if (!strcmp(fb, none[k]))
                        return 0;
        static const char *const particles[] = {"af",  "de",  "la",  "le", "van",
                                                "von", "der", "den", "du", NULL};
        int words = 0;
        if (n < 3 || n > 60)
                return 0;
        for (size_t i = 0; i < n;) {
                size_t j = i;
                while (j < n && s[j] != ' ')
                        j++;
                if (j > i) {
                        unsigned char c0 = (unsigned char)s[i];
                        words++;
                        if (!(isupper(c0) || c0 == 0xC3)) {
                                int ok = 0;
                                for (int k = 0; particles[k] && words > 1; k++)
                                        if (strlen(particles[k]) == j - i &&
                                            !strncmp(particles[k], s + i, j - i))
                                                ok = 1;
                                if (!ok)
                                        return 0;
                        }
                        for (size_t q = i; q < j; q++)
                                if (isdigit((unsigned char)s[q]) || s[q] == ':')
                                        return 0;
                }
                i = j + 1;
        }
        return words >= 1 && words <= 6;
}

/* Splits "A, B og C (V)" into names; calls add() for each. */
static void split_names(ctx_t *c, const char *s, size_t n, json_t *out, int canonical) {
        dstr_t d = {0};
        /* Drop parenthesised party letters and roles. */
        for (size_t i = 0; i < n; i++) {
                if (s[i] == '(') {
                        const char *cl = memchr(s + i, ')', n - i);
                        if (cl) {
                                i = (size_t)(cl - s);
                                continue;
                        }
                }
                ds_add(&d, s[i] == '\t' || s[i] == ';' ? "," : &s[i], 1);
        }
        if (!d.p)
                return;
        /* " og " and " samt " separate names too. */
        for (char *q; (q = strstr(d.p, " og ")) || (q = strstr(d.p, " samt "));) {
                size_t w = q[1] == 'o' ? 4 : 6;
                *q = ',';
                memmove(q + 1, q + w, strlen(q + w) + 1);
        }
        char *save = NULL;
        for (char *tok = strtok_r(d.p, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                size_t tl = strlen(tok);
                while (tl && (is_trail_punct(tok[tl - 1])))
                        tok[--tl] = '\0';
                while (*tok == ' ')
                        tok++, tl--;
                /* "Anne Hansen - formand": the role is no part of the name */
                {
                        char *dash = strstr(tok, " - ");
                        char *ndash = strstr(tok, " \xe2\x80\x93 ");
                        if (ndash && (!dash || ndash < dash))
                                dash = ndash;
                        if (dash)
                                *dash = '\0';
                }
                /* collapse inner double spaces */
                char *w = tok;
                for (char *r = tok; *r; r++)
                        if (!(*r == ' ' && w > tok && w[-1] == ' '))
                                *w++ = *r;
                *w = '\0';
                tl = strlen(tok);
                if (!plausible_name(tok, tl))
                        continue;
                const char *name = tok;
                if (canonical && c->participants) {
                        /* Map a misspelt name onto the participant list. */
                        char fa[128], fb[128];
                        size_t la = fold(tok, tl, fa, sizeof(fa));
                        int best = 3;
                        for (size_t k = 0; k < json_array_size(c->participants); k++) {
                                const char *pn =
                                        json_string_value(json_array_get(c->participants, k));
                                size_t lb = fold(pn, strlen(pn), fb, sizeof(fb));
                                int dist = levenshtein(fa, la, fb, lb);
                                if (dist < best) {
                                        best = dist;
                                        name = pn;
                                }
                        }
                }
                int dup = 0;
                for (size_t k = 0; k < json_array_size(out); k++)
                        if (!strcmp(json_string_value(json_array_get(out, k)), name))
                                dup = 1;
                if (!dup)
                        json_array_append_new(out, json_string_nocheck(name));
        }
        free(d.p);
}

/* If the line is an absence cue, appends the names to out and returns 1. */
static int absence_line(ctx_t *c, const mm_line_t *l, json_t *out) {
        static const char *const cues[] = {"rav\xc3\xa6r",
                                           "stede",
                                           "fbud",
                                           "orfald",
                                           "eltog",
                                           "eltager",
                                           "orhindret",
                                           "orlod",
                                           "m\xc3\xb8"
                                           "dt",
                                           NULL};
        int any = 0;
        if (l->len > 300)
                return 0;
        for (int k = 0; cues[k] && !any; k++)
                any = mm_str_find(l->s, l->len, cues[k], strlen(cues[k])) != NULL;
        if (!any)
                return 0;
        for (size_t r = 0; r < c->p->absence.n; r++) {
                size_t b, e;
                if (mm_rx_exec(c->p->absence.rx[r], c->m, l->s, l->len, 0) &&
                    !mm_rx_named(c->p->absence.rx[r], c->m, "names", &b, &e)) {
                        split_names(c, l->s + b, e - b, out, 1);
                        return 1;
                }
        }
        return 0;
}

/* ------------------------------------------------------------------ */
/* Header                                                               */

static int match_label(const ctx_t *c, const mm_line_t *l, size_t *voff) {
        char buf[64];
        size_t n = fold(l->s, l->len < 40 ? l->len : 40, buf, sizeof(buf));
        for (size_t i = 0; i < c->p->nlabels; i++) {
                const labeldef_t *lb = &c->p->labels[i];
                if (lb->len > n || memcmp(buf, lb->fold, lb->len))
                        continue;
                size_t k = lb->len;
                if (k < l->len && l->s[k] != ':' && l->s[k] != ' ' && l->s[k] != '\t')
                        continue;
                while (k < l->len && (l->s[k] == ':' || l->s[k] == ' ' || l->s[k] == '\t'))
                        k++;
                *voff = k;
                return lb->field;
        }
        return F_NONE;
}

static json_t *fmt_date(int y, int m, int d) {
        char buf[16];
        snprintf(buf, sizeof(buf), "%04d-%02d-%02d", y, m, d);
        return json_string_nocheck(buf);
}

static json_t *fmt_time(int h, int mi) {
        char buf[8];
        snprintf(buf, sizeof(buf), "%02d:%02d", h % 100, mi % 100);
        return json_string_nocheck(buf);
}

static void header_absence(ctx_t *c, const char *s, size_t n) {
        size_t nb, ne, mb, me, ub, ue;
        if (!n)
                return;
        if (mm_rx_exec(c->p->header_absence, c->m, s, n, 0) &&
            !mm_rx_named(c->p->header_absence, c->m, "names", &nb, &ne) &&
            !mm_rx_named(c->p->header_absence, c->m, "mode", &mb, &me) &&
            !mm_rx_named(c->p->header_absence, c->m, "nums", &ub, &ue)) {
                json_t *names = json_array();
                char mode[32];
                fold(s + mb, me - mb, mode, sizeof(mode));
                int md = 1;
                if (strstr(mode, "til"))
                        md = 2;
                else if (!strncmp(mode, "fra", 3))
                        md = 3;
                else if (strstr(mode, "ikke"))
                        md = 4;
                split_names(c, s + nb, ne - nb, names, 1);
                for (size_t k = 0; k < json_array_size(names) && c->nhabs < 16; k++) {
                        struct habs *h = &c->habs[c->nhabs++];
                        h->name = strdup(json_string_value(json_array_get(names, k)));
                        h->mode = md;
                        h->nnums = 0;
                        for (size_t q = ub; q < ue && h->nnums < 64;) {
                                if (isdigit((unsigned char)s[q])) {
                                        h->nums[h->nnums++] = atoi(s + q);
                                        while (q < ue && isdigit((unsigned char)s[q]))
                                                q++;
                                } else
                                        q++;
                        }
                }
                json_decref(names);
                return;
        }
        /* A plain list: absent from the whole meeting. */
        json_t *names = json_array();
        split_names(c, s, n, names, 1);
        for (size_t k = 0; k < json_array_size(names) && c->nhabs < 16; k++) {
                struct habs *h = &c->habs[c->nhabs++];
                h->name = strdup(json_string_value(json_array_get(names, k)));
                h->mode = 0;
                h->nnums = 0;
        }
        json_decref(names);
}

static int looks_like_name_list(const mm_line_t *l) {
        if (l->len > 300 || l->heading)
                return 0;
        return memchr(l->s, ',', l->len) != NULL || strstr(l->s, " og ") != NULL;
}

static void parse_header(ctx_t *c, json_t *doc, size_t hend) {
        const mm_parser_t *p = c->p;
        int have_date = 0, have_time = 0;
        json_t *committee = NULL, *location = NULL, *municipality = NULL, *range_end = NULL;

        for (size_t i = 0; i < hend; i++) {
                const mm_line_t *l = LN(c, i);
                size_t voff = 0;
                int y, mo, d, h, mi;
                if (l->blank || c->li[i].toc)
                        continue;
                if (!c->referat && l->len < 120) {
                        char fb[128];
                        fold(l->s, l->len, fb, sizeof(fb));
                        c->referat = strstr(fb, "referat") != NULL;
                }
                int f = match_label(c, l, &voff);
                const char *v = l->s + voff;
                size_t vl = l->len - voff;
                switch (f) {
                case F_DATE:
                        if (!have_date && !mm_date_find(v, vl, &y, &mo, &d, NULL, NULL)) {
                                json_object_set_new(doc, "meeting_date", fmt_date(y, mo, d));
                                have_date = 1;
                        }
                        if (!have_time && !mm_time_find(v, vl, 1, &h, &mi, NULL, NULL)) {
                                json_object_set_new(doc, "start_time", fmt_time(h, mi));
                                have_time = 1;
                        }
                        continue;
                case F_TIME: {
                        size_t te;
                        if (!have_time && !mm_time_find(v, vl, 0, &h, &mi, NULL, &te)) {
                                json_object_set_new(doc, "start_time", fmt_time(h, mi));
                                have_time = 1;
                                /* "16:00 - 18:30": the range's end, unless the
                                 * minutes say when the meeting really ended. */
                                size_t k = te;
                                while (k < vl && (v[k] == ' ' || v[k] == '-'))
                                        k++;
                                if (k + 2 < vl && !strncmp(v + k, "\xe2\x80\x93", 3))
                                        k += 3;
                                while (k < vl && v[k] == ' ')
                                        k++;
                                if (k > te && k < vl &&
                                    !mm_time_find(v + k, vl - k, 0, &h, &mi, NULL, NULL))
                                        range_end = fmt_time(h, mi);
                        }
                        if (!have_date && !mm_date_find(v, vl, &y, &mo, &d, NULL, NULL)) {
                                json_object_set_new(doc, "meeting_date", fmt_date(y, mo, d));
                                have_date = 1;
                        }
                        continue;
                }
                case F_LOCATION:
                        if (!location && vl)
                                location = json_stringn_nocheck(v, vl);
                        continue;
                case F_COMMITTEE:
                        if (!committee && vl)
                                committee = json_stringn_nocheck(v, vl);
                        continue;
                case F_PARTICIPANTS:
                case F_ABSENT: {
                        dstr_t d2 = {0};
                        size_t j = i + 1, last = i;
                        int per_line = 0; /* a list of one name a line */
                        ds_add(&d2, v, vl);
                        /* A list broken over several lines. */
                        while (j < hend && j - last <= 3) {
                                size_t vo2;
                                const mm_line_t *x = LN(c, j);
                                if (x->blank) {
                                        /* a one-name-a-line list ends at a blank line */
                                        if (per_line)
                                                break;
                                        j++;
                                        continue;
                                }
                                if (match_label(c, x, &vo2) != F_NONE || c->li[j].sec >= 0 ||
                                    c->li[j].toc)
                                        break;
                                /* "…, Hanne\nGrangaard": the last name goes on. */
                                if (vl && f == F_PARTICIPANTS && d2.len &&
                                    d2.p[d2.len - 1] != ',' && !looks_like_name_list(x) &&
                                    plausible_name(x->s, x->len) && x->len < 40) {
                                        ds_add(&d2, " ", 1);
                                        ds_add(&d2, x->s, x->len);
                                        last = j++;
                                        continue;
                                }
                                /* After an empty label: one name a line. */
                                int cont = looks_like_name_list(x) ||
                                           (d2.len && d2.p[d2.len - 1] == ',') ||
                                           (vl == 0 && plausible_name(x->s, x->len) &&
                                            memchr(x->s, ' ', x->len));
                                if (vl == 0 && !looks_like_name_list(x) && cont)
                                        per_line = 1;
                                if (per_line && d2.len && d2.p[d2.len - 1] != ',' && cont)
                                        ds_add(&d2, ",", 1);
                                /* "... deltog til og med\n\npunkt 104." */
                                if (f == F_ABSENT)
                                        cont = cont || (d2.len && d2.p[d2.len - 1] != '.' &&
                                                        (islower((unsigned char)x->s[0]) ||
                                                         isdigit((unsigned char)x->s[0])));
                                if (!cont)
                                        break;
                                ds_add(&d2, " ", 1);
                                ds_add(&d2, x->s, x->len);
                                last = j++;
                        }
                        if (d2.p) {
                                if (f == F_PARTICIPANTS && !json_array_size(c->participants))
                                        split_names(c, d2.p, d2.len, c->participants, 0);
                                else if (f == F_ABSENT) {
                                        /* One statement a sentence: "A deltog til og med
                                         * punkt 2. B deltog ved punkterne 1 og 3." */
                                        size_t st = 0;
                                        for (size_t q = 0; q + 2 < d2.len; q++)
                                                if (d2.p[q] == '.' && d2.p[q + 1] == ' ' &&
                                                    isupper((unsigned char)d2.p[q + 2])) {
                                                        header_absence(c, d2.p + st, q + 1 - st);
                                                        st = q + 2;
                                                }
                                        header_absence(c, d2.p + st, d2.len - st);
                                }
                        }
                        free(d2.p);
                        i = last;
                        continue;
                }
                default:
                        break;
                }
                if (!municipality && l->len > 8 && l->len < 60) {
                        const char *sp = NULL;
                        if (l->len > 8 && !memcmp(l->s + l->len - 8, " Kommune", 8))
                                sp = l->s + l->len - 8;
                        else if (l->len > 16 && !memcmp(l->s + l->len - 16, " Regionskommune", 15))
                                sp = l->s + l->len - 16;
                        if (sp) {
                                const char *ws = sp;
                                while (ws > l->s && ws[-1] != ' ' && ws[-1] != '\t')
                                        ws--;
                                const char *off =
                                        mm_classify_kommune(p->cls, ws, (size_t)(sp - ws));
                                if (off)
                                        municipality = json_string_nocheck(off);
                        }
                }
                if (!committee && l->len < 160) {
                        for (size_t r = 0; r < p->committees.n; r++) {
                                size_t b, e;
                                if (mm_rx_exec(p->committees.rx[r], c->m, l->s, l->len, 0) &&
                                    !mm_rx_group(c->m, 0, &b, &e) && e > b) {
                                        while (e > b && is_trail_punct(l->s[e - 1]))
                                                e--;
                                        committee = json_stringn_nocheck(l->s + b, e - b);
                                        break;
                                }
                        }
                }
                if (!have_date && !mm_date_find(l->s, l->len, &y, &mo, &d, NULL, NULL) && i < 40) {
                        json_object_set_new(doc, "meeting_date", fmt_date(y, mo, d));
                        have_date = 1;
                        if (!have_time && !mm_time_find(l->s, l->len, 1, &h, &mi, NULL, NULL)) {
                                json_object_set_new(doc, "start_time", fmt_time(h, mi));
                                have_time = 1;
                        }
                }
        }
        if (!municipality) {
                size_t sl;
                const char *src = mm_text_source(c->text, &sl);
                const char *off = mm_classify_infer_kommune(p->cls, src, sl);
                if (off) {
                        municipality = json_string_nocheck(off);
                        json_object_set_new(doc, "municipality_source", json_string("body"));
                }
        } else {
                json_object_set_new(doc, "municipality_source", json_string("header"));
        }
        json_object_set_new(doc, "municipality", municipality ? municipality : json_null());
        json_object_set_new(doc, "committee", committee ? committee : json_null());
        json_object_set_new(doc, "location", location ? location : json_null());
        if (!have_date)
                json_object_set_new(doc, "meeting_date", json_null());
        if (!have_time)
                json_object_set_new(doc, "start_time", json_null());

        /* End time: "Mødet sluttede kl. 20.35", "Mødets sluttidspunkt: 17.00" */
        json_object_set_new(doc, "end_time", range_end ? range_end : json_null());
        range_end = NULL; /* owned by doc now */
        static const char *const cues[] = {
                "sluttede",        "sluttidspunkt", "mødet hævet",       "mødet slut",
                "mødet afsluttet", "mødet ophørte", "mødet afsluttedes", NULL};
        for (size_t i = 0; i < c->n; i++) {
                const mm_line_t *l = LN(c, i);
                char buf[512];
                /* "Mødet sluttede kl. 20.35" stands on a short line. */
                if (l->blank || l->len >= 100 ||
                    !(mm_str_find(l->s, l->len, "slut", 4) ||
                      mm_str_find(l->s, l->len, "h\xc3\xa6vet", 6) ||
                      mm_str_find(l->s, l->len, "oph\xc3\xb8rte", 8)))
                        continue;
                size_t fl = fold(l->s, l->len, buf, sizeof(buf));
                for (int k = 0; cues[k]; k++) {
                        const char *q = strstr(buf, cues[k]);
                        int h, mi;
                        if (!q)
                                continue;
                        size_t off = (size_t)(q - buf) + strlen(cues[k]);
                        if (!mm_time_find(buf + off, fl - off, 0, &h, &mi, NULL, NULL)) {
                                json_object_set_new(doc, "end_time", fmt_time(h, mi));
                                /* "Mødet sluttede kl. 20.35" is no item's text. */
                                if (l->len < 80)
                                        c->li[i].consumed = 1;
                                goto end_found;
                        }
                }
        }
end_found:
        json_object_set_new(doc, "participants", json_incref(c->participants));
}

/* ------------------------------------------------------------------ */
/* Item bodies                                                          */

static const char *section_kind(const ctx_t *c, const linfo_t *li) {
        if (li->hist)
                return "history";
        if (li->sec >= 0)
                return c->p->secs[li->sec].kind;
        return "other";
}

/* Letters-only ASCII skeleton of an attachment name, for comparing lists
 * whose exports dropped or mangled the Danish letters. */
static size_t skeleton(const char *s, char *out, size_t cap) {
        size_t o = 0;
        for (; *s && o + 1 < cap; s++) {
                unsigned char ch = (unsigned char)*s;
                if (ch < 0x80 && isalnum(ch))
                        out[o++] = (char)tolower(ch);
        }
        out[o] = '\0';
        return o;
}

static int is_path(const char *s, size_t n) {
        return mm_str_find(s, n, "../", 3) || mm_str_find(s, n, "..\\", 3) ||
               (n > 2 && s[1] == ':' && s[2] == '\\') || s[0] == '/' ||
               mm_str_find(s, n, "\\\\", 2) || !strncmp(s, "file:", 5);
}

static json_t *clean_attachment(const char *s, size_t n) {
        /* "1. Name", "2) Name" */
        {
                size_t k = 0;
                while (k < n && k < 3 && isdigit((unsigned char)s[k]))
                        k++;
                if (k && k + 1 < n && (s[k] == '.' || s[k] == ')') && s[k + 1] == ' ') {
                        s += k + 2;
                        n -= k + 2;
                }
        }
        /* "Bilag 1. Name", "Bilag_Name" */
        if (n > 6 && !strncasecmp(s, "bilag", 5)) {
                size_t k = 5;
                if (s[k] == '_')
                        k++;
                else {
                        while (k < n && s[k] == ' ')
                                k++;
                        size_t d = k;
                        while (k < n && isdigit((unsigned char)s[k]))
                                k++;
                        if (k == d)
                                k = 0;
                        else {
                                while (k < n && (s[k] == '.' || s[k] == ':' || s[k] == ')' ||
                                                 s[k] == '-' || s[k] == ' '))
                                        k++;
                        }
                }
                if (k && k < n) {
                        s += k;
                        n -= k;
                }
        }
        /* "Strategi.pdf (123 KB)" */
        if (n > 6 && s[n - 1] == ')') {
                size_t k = n - 1;
                while (k > 0 && s[k] != '(')
                        k--;
                if (k > 0 && s[k - 1] == ' ' && n - k < 16 &&
                    (mm_str_find(s + k, n - k, "KB", 2) || mm_str_find(s + k, n - k, "MB", 2) ||
                     mm_str_find(s + k, n - k, "kB", 2)))
                        n = k - 1;
        }
        if (n > 1 && s[n - 1] == '.' && s[n - 2] != '.')
                n--;
        return json_stringn_nocheck(s, n);
}

typedef struct sec_s {
        size_t head; /* heading line or (size_t)-1 for text before one */
        const char *kind;
        int hist;
        dstr_t text;
        json_t *attach; /* for attachment sections */
        size_t offset;
} sec_t;

/* Appends the finished section `cur` to `sections` and hands an
 * attachment list over to `bilag_secs` (ownership passes to the caller's
 * array; cur->attach is set to NULL). Resets cur's text. */
static void flush_section(ctx_t *c, sec_t *cur, json_t *sections, json_t **bilag_secs,
                          size_t *nbilag) {
        if (cur->head != (size_t)-1 || cur->text.len) {
                json_t *s = json_object();
                if (cur->head != (size_t)-1) {
                        const mm_line_t *hl = LN(c, cur->head);
                        size_t hn = c->li[cur->head].inl ? c->li[cur->head].inl : hl->len;
                        while (hn && is_trail_punct(hl->s[hn - 1]))
                                hn--;
                        json_object_set_new(s, "heading", json_stringn_nocheck(hl->s, hn));
                } else {
                        json_object_set_new(s, "heading", json_null());
                }
                json_object_set_new(s, "kind", json_string_nocheck(cur->kind));
                json_object_set_new(s, "history", json_boolean(cur->hist));
                json_object_set_new(
                        s, "text",
                        json_stringn_nocheck(cur->text.p ? cur->text.p : "", cur->text.len));
                json_object_set_new(s, "offset", json_integer((json_int_t)cur->offset));
                json_array_append_new(sections, s);
        }
        if (cur->attach) {
                bilag_secs[(*nbilag)++] = cur->attach;
                cur->attach = NULL; /* owned by bilag_secs now */
        }
        free(cur->text.p);
        memset(&cur->text, 0, sizeof(cur->text));
}

static void build_item(ctx_t *c, item_t *it, size_t order, json_t *items, json_t **bilag_secs,
                       size_t *nbilag) {
        const mm_parser_t *p = c->p;
        json_t *o = json_object(), *sections = json_array(), *absent = json_array(),
               *attach = json_array(), *amounts = json_array(), *laws = json_array(),
               *parts = json_array();
        sec_t cur = {.head = (size_t)-1, .kind = "body"};
        dstr_t decision = {0};
        int have_decision = 0, prev_path = 0;
        size_t src_len;
        (void)mm_text_source(c->text, &src_len);

        /* Closed: by title, or by a "Lukket dagsorden" heading before it. */
        for (size_t r = 0; r < p->closed.n; r++) {
                if (p->closed_scope[r] == 0 &&
                    mm_rx_exec(p->closed.rx[r], c->m, it->title, strlen(it->title), 0))
                        it->closed = 1;
        }

        cur.offset = LN(c, it->start < c->n ? it->start : it->head)->src_off;
        /* In minutes whose items have no headings at all, an item's text is
         * what the meeting decided. */
        if (c->referat) {
                int headed = 0;
                for (size_t i = it->start; i < it->end && !headed; i++)
                        headed = c->li[i].sec >= 0 || c->li[i].hist;
                if (!headed)
                        cur.kind = "decision";
        }
        for (size_t i = it->start; i < it->end; i++) {
                const mm_line_t *l = LN(c, i);
                const linfo_t *li = &c->li[i];
                if (l->blank || li->consumed)
                        continue;
                if (li->sec >= 0 || li->hist || li->unknown) {
                        flush_section(c, &cur, sections, bilag_secs, nbilag);
                        cur.head = i;
                        cur.kind = section_kind(c, li);
                        cur.hist = li->hist;
                        cur.offset = l->src_off;
                        if (!strcmp(cur.kind, "attachments") && !cur.hist &&
                            *nbilag < MM_MAX_BILAG) {
                                cur.attach = json_array();
                        }
                        if (!li->inl)
                                continue;
                }
                const char *s = l->s + (li->inl && cur.head == i ? li->inl : 0);
                size_t n = l->len - (size_t)(s - l->s);
                mm_line_t view = *l;
                view.s = s;
                view.len = n;
                if (cur.text.len)
                        ds_add(&cur.text, "\n", 1);
                ds_add(&cur.text, s, n);
                if (cur.hist)
                        continue;
                int is_dec = !strcmp(cur.kind, "decision");
                int is_body = !strcmp(cur.kind, "body");
                if (is_dec || is_body) {
                        if (absence_line(c, &view, absent))
                                continue;
                }
                if (is_dec && (!have_decision || decision.len) &&
                    !mm_str_find(s, n, "suppleant", 9)) {
                        if (decision.len)
                                ds_add(&decision, "\n", 1);
                        ds_add(&decision, s, n);
                }
                if (cur.attach) {
                        /* A path, and the rest of a path wrapped onto the
                         * next line, are no attachment names. */
                        int path = is_path(s, n) || (prev_path && !memchr(s, ' ', n));
                        if (!path && strncmp(s, "http", 4))
                                json_array_append_new(cur.attach, clean_attachment(s, n));
                        prev_path = path;
                }
                mm_classify_amounts(p->cls, c->m, s, n, amounts);
                mm_classify_laws(p->cls, c->m, s, n, laws);
                if (is_dec)
                        have_decision = 1;
        }
        flush_section(c, &cur, sections, bilag_secs, nbilag);

        /* Outcome, one label per numbered part of the decision. */
        const char *outcome = "none";
        if (decision.len) {
                char *save = NULL, *dup = xstrndup(decision.p, decision.len);
                dstr_t part = {0};
                int numbered = 0;
                for (char *ln = strtok_r(dup, "\n", &save); ln; ln = strtok_r(NULL, "\n", &save)) {
                        size_t k = 0;
                        while (isdigit((unsigned char)ln[k]) && k < 3)
                                k++;
                        if (k && (ln[k] == '.' || ln[k] == ')') && ln[k + 1] == ' ') {
                                if (numbered && part.len) {
                                        json_array_append_new(
                                                parts, json_string_nocheck(mm_classify_outcome(
                                                               p->cls, c->m, part.p, part.len)));
                                }
                                ds_reset(&part);
                                if (!numbered)
                                        ds_reset(&part);
                                numbered = 1;
                                ds_add(&part, ln + k + 2, strlen(ln + k + 2));
                                continue;
                        }
                        if (part.len)
                                ds_add(&part, " ", 1);
                        ds_add(&part, ln, strlen(ln));
                }
                if (part.len)
                        json_array_append_new(parts, json_string_nocheck(mm_classify_outcome(
                                                             p->cls, c->m, part.p, part.len)));
                free(part.p);
                free(dup);
                int best = -1;
                for (size_t k = 0; k < json_array_size(parts); k++) {
                        const char *lab = json_string_value(json_array_get(parts, k));
                        int r = mm_classify_outcome_rank(lab);
                        if (r > best) {
                                best = r;
                                outcome = lab;
                        }
                }
        }
        if (!json_array_size(parts))
                json_array_append_new(parts, json_string_nocheck(outcome));

        /* Meeting-level absences that reach this item. */
        for (int h = 0; h < c->nhabs; h++) {
                const struct habs *ha = &c->habs[h];
                int listed = 0, absent_here = 0;
                for (int k = 0; k < ha->nnums; k++)
                        if (ha->nums[k] == it->number)
                                listed = 1;
                switch (ha->mode) {
                case 0:
                        absent_here = 1;
                        break;
                case 1:
                        absent_here = !listed;
                        break;
                case 2:
                        absent_here = ha->nnums && it->number > ha->nums[0];
                        break;
                case 3:
                        absent_here = ha->nnums && it->number < ha->nums[0];
                        break;
                case 4:
                        absent_here = listed;
                        break;
                }
                if (!absent_here)
                        continue;
                int dup = 0;
                for (size_t k = 0; k < json_array_size(absent); k++)
                        if (!strcmp(json_string_value(json_array_get(absent, k)), ha->name))
                                dup = 1;
                if (!dup)
                        json_array_append_new(absent, json_string_nocheck(ha->name));
        }

        json_object_set_new(o, "number", json_integer(it->number));
        json_object_set_new(o, "order", json_integer((json_int_t)order));
        json_object_set_new(o, "title", json_string_nocheck(it->title));
        json_object_set_new(o, "case_number",
                            it->case_no[0] ? json_string_nocheck(it->case_no) : json_null());
        json_object_set_new(o, "case_number_kind",
                            it->case_no[0] ? json_string_nocheck(it->case_kind) : json_null());
        {
                json_t *k = it->case_no[0] ? mm_classify_kle(p->cls, it->case_no) : NULL;
                json_object_set_new(o, "kle", k ? k : json_null());
        }
        json_object_set_new(o, "closed", json_boolean(it->closed));
        json_object_set_new(o, "outcome", json_string_nocheck(outcome));
        json_object_set_new(o, "outcome_parts", parts);
        json_object_set_new(o, "decision",
                            decision.len ? json_stringn_nocheck(decision.p, decision.len)
                                         : json_null());
        json_object_set_new(o, "absent", absent);
        json_object_set_new(o, "attachments", attach);
        json_object_set_new(o, "sections", sections);
        json_object_set_new(o, "amounts", amounts);
        json_object_set_new(o, "laws", laws);
        {
                size_t off = LN(c, it->head)->src_off;
                size_t endoff = it->end < c->n ? LN(c, it->end)->src_off : src_len;
                json_object_set_new(o, "offset", json_integer((json_int_t)off));
                json_object_set_new(o, "length",
                                    json_integer((json_int_t)(endoff > off ? endoff - off : 0)));
        }
        json_object_set_new(o, "has_decision", json_boolean(have_decision && decision.len));
        free(decision.p);
        json_array_append_new(items, o);
}

/* Attachment sections whose entries mostly repeat other items' lists are
 * the document-wide list at the end: they belong to no item. */
static void assign_attachments(json_t *items, json_t **secs, size_t *owner, size_t nsecs,
                               json_t *warnings) {
        char a[256];
        /* Skeletons of every entry, computed once. */
        char ***sk = calloc(nsecs ? nsecs : 1, sizeof(*sk));
        if (!sk)
                return;
        for (size_t s = 0; s < nsecs; s++) {
                size_t n = json_array_size(secs[s]);
                sk[s] = calloc(n ? n : 1, sizeof(char *));
                for (size_t k = 0; sk[s] && k < n; k++) {
                        skeleton(json_string_value(json_array_get(secs[s], k)), a, sizeof(a));
                        sk[s][k] = strdup(a);
                }
        }
        for (size_t s = 0; s < nsecs; s++) {
                size_t n = json_array_size(secs[s]), hits = 0;
                size_t first_owner = (size_t)-1;
                int owners = 0;
                if (!sk[s])
                        continue;
                for (size_t k = 0; k < n; k++) {
                        const char *ka = sk[s][k];
                        int hit = 0;
                        for (size_t t = 0; t < nsecs && !hit && ka && ka[0]; t++) {
                                if (owner[t] == owner[s] || !sk[t])
                                        continue;
                                for (size_t q = 0; q < json_array_size(secs[t]); q++) {
                                        if (!sk[t][q] || strcmp(ka, sk[t][q]))
                                                continue;
                                        hit = 1;
                                        if (owners == 0 ||
                                            (owners == 1 && owner[t] != first_owner)) {
                                                if (!owners)
                                                        first_owner = owner[t];
                                                owners++;
                                        }
                                        break;
                                }
                        }
                        hits += (size_t)hit;
                }
                /* A list that repeats the lists of two or more other items
                 * is the document-wide list. */
                if (n >= 2 && owners >= 2 && hits * 2 >= n) {
                        if (warnings)
                                json_array_append_new(warnings,
                                                      json_string("document-wide attachment list "
                                                                  "not assigned to an item"));
                        continue;
                }
                json_t *dst = json_object_get(json_array_get(items, owner[s]), "attachments");
                for (size_t k = 0; k < n; k++) {
                        int dup = 0;
                        /* an entry already listed for the item (same skeleton) */
                        for (size_t t = 0; t < s && !dup; t++)
                                if (owner[t] == owner[s] && sk[t])
                                        for (size_t q = 0; q < json_array_size(secs[t]) && !dup;
                                             q++)
                                                dup = sk[t][q] && sk[s][k] &&
                                                      !strcmp(sk[t][q], sk[s][k]);
                        for (size_t q = 0; q < k && !dup; q++)
                                dup = sk[s][q] && sk[s][k] && !strcmp(sk[s][q], sk[s][k]);
                        if (!dup)
                                json_array_append(dst, json_array_get(secs[s], k));
                }
        }
        for (size_t s = 0; s < nsecs; s++) {
                for (size_t k = 0; sk[s] && k < json_array_size(secs[s]); k++)
                        free(sk[s][k]);
                free(sk[s]);
        }
        free(sk);
}

/* ------------------------------------------------------------------ */
/* Entry point                                                          */

static void set_err(mm_parse_error_t *err, const char *code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void set_err(mm_parse_error_t *err, const char *code, const char *fmt, ...) {
        va_list ap;
        snprintf(err->code, sizeof(err->code), "%s", code);
        va_start(ap, fmt);
        vsnprintf(err->reason, sizeof(err->reason), fmt, ap);
        va_end(ap);
}

/* Rejects inputs that are plainly not text. */
static int check_binary(const char *buf, size_t len, mm_parse_error_t *err) {
        size_t ctrl = 0, nul = 0;
        for (size_t i = 0; i < len; i++) {
                unsigned char ch = (unsigned char)buf[i];
                if (ch == 0)
                        nul++;
                else if ((ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r' && ch != '\f') ||
                         ch == 0x7f)
                        ctrl++;
        }
        if (nul) {
                set_err(err, "binary", "input holds %zu NUL bytes: not a text document", nul);
                return -1;
        }
        if (ctrl * 200 > len && ctrl > 2) {
                set_err(err, "binary", "input holds %zu control bytes: not a text document", ctrl);
                return -1;
        }
        return 0;
}

json_t *mm_parser_parse(const mm_parser_t *p, const char *buf, size_t len, mm_parse_error_t *err) {
        ctx_t c = {0};
        char errstr[256];
        json_t *out = NULL, *doc, *items;
        size_t nonblank = 0;

        memset(err, 0, sizeof(*err));
        if (len > p->max_bytes) {
                set_err(err, "too_large", "input is %zu bytes, over the limit of %zu", len,
                        p->max_bytes);
                return NULL;
        }
        if (!buf || !len) {
                set_err(err, "empty", "input is empty");
                return NULL;
        }
        if (check_binary(buf, len, err))
                return NULL;
        c.p = p;
        if (!(c.m = mm_rx_match_new())) {
                set_err(err, "internal", "out of memory");
                return NULL;
        }
        c.text = mm_text_new(buf, len, p->noise, p->noise_drop, p->nnoise, c.m, errstr,
                             sizeof(errstr));
        if (!c.text) {
                set_err(err, "internal", "%s", errstr);
                goto done;
        }
        c.n = mm_text_nlines(c.text);
        c.L = c.n ? mm_text_line(c.text, 0) : NULL;
        for (size_t i = 0; i < c.n; i++)
                nonblank += !c.L[i].blank;
        if (!nonblank) {
                set_err(err, "empty", "input holds only white space");
                goto done;
        }
        c.li = calloc(c.n, sizeof(*c.li));
        c.participants = json_array();
        c.warnings = json_array();
        if (!c.li) {
                set_err(err, "internal", "out of memory");
                goto done;
        }
        analyse_lines(&c);
        drop_page_headers(&c);
        find_items(&c);

        doc = json_object();
        items = json_array();
        {
                size_t hend = c.nitems ? c.items[0].head : (c.n < 80 ? c.n : 80);
                for (size_t i = 0; i < hend; i++)
                        if (c.li[i].consumed)
                                hend = i;
                parse_header(&c, doc, hend);
        }
        {
                /* "Beslutning i Byrådet den 26. marts 2024" in the minutes of
                 * that meeting is this meeting's decision, not history. */
                int y, mo, d;
                const char *md = json_string_value(json_object_get(doc, "meeting_date"));
                if (md && sscanf(md, "%d-%d-%d", &y, &mo, &d) == 3 && p->decision_sec >= 0)
                        for (size_t i = 0; i < c.n; i++)
                                if (c.li[i].hist && c.li[i].hy == y && c.li[i].hm == mo &&
                                    c.li[i].hd == d) {
                                        c.li[i].hist = 0;
                                        c.li[i].sec = p->decision_sec;
                                }
        }
        int header_found = json_is_string(json_object_get(doc, "meeting_date")) ||
                           json_is_string(json_object_get(doc, "committee"));
        if (!c.nitems && !header_found) {
                set_err(err, "not_minutes",
                        "no meeting header (date or committee) and no agenda items found");
                json_decref(doc);
                json_decref(items);
                goto done;
        }

        {
                json_t *bilag[MM_MAX_BILAG];
                size_t owner[MM_MAX_BILAG], nb = 0;
                int in_closed = 0;
                for (size_t k = 0; k < c.nitems; k++) {
                        size_t before = nb;
                        /* "Lukket dagsorden" regions after the first item. */
                        size_t from = k ? c.items[k - 1].start : c.items[k].head;
                        for (size_t i = from; i < c.items[k].head; i++) {
                                /* Region markers are short heading lines. */
                                if (c.L[i].blank || c.L[i].len > 60)
                                        continue;
                                for (size_t r = 0; r < p->closed.n; r++) {
                                        if (p->closed_scope[r] &&
                                            mm_rx_exec(p->closed.rx[r], c.m, c.L[i].s, c.L[i].len,
                                                       0))
                                                in_closed = p->closed_scope[r] == 1;
                                }
                        }
                        if (in_closed)
                                c.items[k].closed = 1;
                        build_item(&c, &c.items[k], k + 1, items, bilag, &nb);
                        for (size_t q = before; q < nb; q++)
                                owner[q] = k;
                }
                assign_attachments(items, bilag, owner, nb, c.warnings);
                for (size_t q = 0; q < nb; q++)
                        json_decref(bilag[q]);
        }

        /* Kind, warnings, confidence. */
        {
                int decided = 0, with_sections = 0, with_case = 0;
                size_t ni = json_array_size(items);
                for (size_t k = 0; k < ni; k++) {
                        json_t *it = json_array_get(items, k);
                        if (json_is_true(json_object_get(it, "has_decision")))
                                decided++;
                        json_object_del(it, "has_decision");
                        if (json_array_size(json_object_get(it, "sections")) > 1)
                                with_sections++;
                        if (json_is_string(json_object_get(it, "case_number")))
                                with_case++;
                }
                json_object_set_new(doc, "kind",
                                    json_string_nocheck(decided ? "minutes" : "agenda"));
                if (mm_text_was_cp1252(c.text))
                        json_array_append_new(
                                c.warnings,
                                json_string("input is not UTF-8: decoded as Windows-1252"));
                if (mm_text_repairs(c.text)) {
                        char w[96];
                        snprintf(w, sizeof(w), "repaired %zu spaces before combining marks",
                                 mm_text_repairs(c.text));
                        json_array_append_new(c.warnings, json_string_nocheck(w));
                }
                if (!ni)
                        json_array_append_new(c.warnings, json_string("no agenda items found"));
                if (!json_is_string(json_object_get(doc, "meeting_date")))
                        json_array_append_new(c.warnings, json_string("no meeting date found"));
                for (size_t k = 1; k < c.nitems; k++)
                        if (c.items[k].number < c.items[k - 1].number) {
                                json_array_append_new(
                                        c.warnings,
                                        json_string("item numbers are not in ascending order"));
                                break;
                        }
                double conf = 0;
                conf += json_is_string(json_object_get(doc, "meeting_date")) ? 0.15 : 0;
                conf += json_is_string(json_object_get(doc, "committee")) ? 0.1 : 0;
                conf += json_is_string(json_object_get(doc, "municipality")) ? 0.05 : 0;
                if (ni) {
                        conf += 0.2;
                        conf += 0.3 * (double)with_sections / (double)ni;
                        conf += 0.1 * (double)with_case / (double)ni;
                        conf += 0.1 * (decided ? (double)decided / (double)ni : 1.0);
                }
                json_object_set_new(doc, "confidence",
                                    json_real((double)(long)(conf * 1000) / 1000.0));
                json_object_set_new(doc, "warnings", c.warnings);
                c.warnings = NULL;
                size_t sl;
                (void)mm_text_source(c.text, &sl);
                json_object_set_new(doc, "length", json_integer((json_int_t)sl));
        }
        out = json_object();
        json_object_set_new(out, "document", doc);
        json_object_set_new(out, "items", items);
done:
        for (size_t k = 0; k < c.nitems; k++)
                free(c.items[k].title);
        for (int h = 0; h < c.nhabs; h++)
                free(c.habs[h].name);
        free(c.items);
        free(c.li);
        json_decref(c.participants);
        json_decref(c.warnings);
        mm_text_destroy(c.text);
        mm_rx_match_destroy(c.m);
        return out;
}

const char *mm_parser_section_kind(const mm_parser_t *p, const char *heading, size_t len) {
        int i = p && heading ? match_section(p, heading, len) : -1;
        return i >= 0 ? p->secs[i].kind : NULL;
}
