#include "mm_header.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mm_classify.h"
#include "mm_date.h"
#include "mm_names.h"
#include "mm_str.h"

/* ------------------------------------------------------------------ */
/* Header                                                               */

static int match_label(const ctx_t *c, const mm_line_t *l, size_t *voff) {
        char buf[64];
        size_t n = mm_pass_fold(l->s, l->len < 40 ? l->len : 40, buf, sizeof(buf));
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
                mm_pass_fold(s + mb, me - mb, mode, sizeof(mode));
                int md = 1;
                if (strstr(mode, "til"))
                        md = 2;
                else if (!strncmp(mode, "fra", 3))
                        md = 3;
                else if (strstr(mode, "ikke"))
                        md = 4;
                mm_names_split(c, s + nb, ne - nb, names, 1);
                for (size_t k = 0; k < json_array_size(names) && c->nhabs < 16; k++) {
                        struct habs *h = &c->habs[c->nhabs++];
                        h->name = strdup(json_string_value(json_array_get(names, k)));
                        h->mode = md;
                        h->nnums = 0;
                        for (size_t q = ub; q < ue && h->nnums < 64;) {
                                if (isdigit((unsigned char)s[q])) {
                                        h->nums[h->nnums++] =
                                                (int)mm_pass_number(s + q, ue - q, 99999);
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
        mm_names_split(c, s, n, names, 1);
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

/* The header fields found so far. */
typedef struct hdr_s {
        json_t *doc;
        json_t *committee, *location, *municipality, *range_end; /* owned until set */
        int have_date, have_time; /* have_date 2: from a line without a label */
        size_t date_line;         /* the unlabelled date line, or (size_t)-1 */
} hdr_t;

static void set_date(hdr_t *h, const char *v, size_t vl) {
        int y, mo, d;
        if (!h->have_date && !mm_date_find(v, vl, &y, &mo, &d, NULL, NULL)) {
                json_object_set_new_nocheck(h->doc, "meeting_date", mm_pass_fmt_date(y, mo, d));
                h->have_date = 1;
        }
}

/* The start time; with range, "16:00 - 18:30" also gives the range's end
 * (unless the minutes say when the meeting really ended). */
static void set_time(hdr_t *h, const char *v, size_t vl, int need_kl, int range) {
        int hh, mi;
        size_t te;
        if (h->have_time || mm_time_find(v, vl, need_kl, &hh, &mi, NULL, &te))
                return;
        json_object_set_new_nocheck(h->doc, "start_time", mm_pass_fmt_time(hh, mi));
        h->have_time = 1;
        if (!range)
                return;
        size_t k = te;
        while (k < vl && (v[k] == ' ' || v[k] == '-'))
                k++;
        if (k + 2 < vl && !strncmp(v + k, "\xe2\x80\x93", 3))
                k += 3;
        while (k < vl && v[k] == ' ')
                k++;
        if (k > te && k < vl && !h->range_end &&
            !mm_time_find(v + k, vl - k, 0, &hh, &mi, NULL, NULL))
                h->range_end = mm_pass_fmt_time(hh, mi);
}

/* "Onsdag, 6 marts, 2019 - 15:30", "23-05-2018 12:30:00",
 * "2019-03-05T16:00:00+01:00": a time right after the date is the start
 * time, with or without "kl.". */
static void time_after_date(hdr_t *h, const char *v, size_t vl) {
        int y, mo, d;
        size_t b, e;
        if (h->have_time || mm_date_find(v, vl, &y, &mo, &d, &b, &e))
                return;
        size_t k = e;
        while (k < vl && (v[k] == ' ' || v[k] == '-' || v[k] == ',' || v[k] == 'T'))
                k++;
        if (k + 2 < vl && !strncmp(v + k, "\xe2\x80\x93", 3))
                for (k += 3; k < vl && v[k] == ' ';)
                        k++;
        if (k > e && k + 4 <= vl && isdigit((unsigned char)v[k]) &&
            (v[k + 1] == ':' || v[k + 1] == '.' || v[k + 2] == ':' || v[k + 2] == '.'))
                set_time(h, v + k, vl - k, 0, 1);
}

/* "Sofia Osmani deltog Søren P. Rasmussen deltog ... Jan Kaspersen var
 * fraværende": each member followed by whether they took part. Returns 1
 * when v[0..vl) is such a list (two "deltog" or more). */
static int status_list(ctx_t *c, const char *v, size_t vl) {
        static const char *const st[] = {" deltog ikke", " deltog", " var frav\xc3\xa6rende",
                                         " frav\xc3\xa6rende", NULL};
        int n = 0;
        for (const char *q = mm_str_find(v, vl, " deltog", 7); q;
             q = mm_str_find(q + 7, vl - (size_t)(q + 7 - v), " deltog", 7))
                n++;
        if (n < 2)
                return 0;
        size_t b = 0;
        while (b < vl) {
                const char *best = NULL;
                int bk = -1;
                for (int k = 0; st[k]; k++) {
                        const char *q = mm_str_find(v + b, vl - b, st[k], strlen(st[k]));
                        if (q && (!best || q < best))
                                best = q, bk = k;
                }
                if (!best)
                        break;
                size_t e = (size_t)(best - v);
                while (b < e && v[b] == ' ')
                        b++;
                if (e > b && mm_names_entry(v + b, e - b)) {
                        if (bk == 1)
                                mm_names_split(c, v + b, e - b, c->participants, 0);
                        else
                                header_absence(c, v + b, e - b);
                }
                b = e + strlen(st[bk]);
        }
        return 1;
}

/* A list of members after a participants or absence label, possibly
 * broken over several lines or one name a line. Returns the last line of
 * the list. */
static size_t members(ctx_t *c, int f, size_t i, size_t hend, const char *v, size_t vl) {
        mm_buf_t d2 = MM_BUF_INIT;
        size_t j = i + 1, last = i;
        int per_line = 0; /* a list of one name a line */
        if (f == F_PARTICIPANTS && !json_array_size(c->participants) && status_list(c, v, vl))
                return i;
        mm_buf_append(&d2, v, vl);
        /* A list broken over several lines. */
        while (j < hend && j - last <= 3) {
                size_t vo2;
                c->work++;
                const mm_line_t *x = LN(c, j);
                if (x->blank) {
                        /* a one-name-a-line list ends at a blank line */
                        if (per_line)
                                break;
                        j++;
                        continue;
                }
                if (match_label(c, x, &vo2) != F_NONE || SEC(LI(c, j)) >= 0 || LI(c, j)->toc)
                        break;
                /* "…, Hanne\nGrangaard": the last name goes on. */
                if (vl && f == F_PARTICIPANTS && d2.len && d2.p[d2.len - 1] != ',' &&
                    !looks_like_name_list(x) && mm_names_plausible(x->s, x->len) && x->len < 40 &&
                    !memchr(x->s, ' ', x->len)) {
                        mm_buf_putc(&d2, ' ');
                        mm_buf_append(&d2, x->s, x->len);
                        last = j++;
                        continue;
                }
                /* After an empty label, or after one name on the label's
                 * line ("Deltagere:Jeppe Kirkegaard\nTilde Ølholm"): one
                 * name a line. */
                int one_a_line = (vl == 0 || per_line ||
                                  (j == i + 1 && !memchr(v, ',', vl) && mm_names_entry(v, vl))) &&
                                 mm_names_entry(x->s, x->len);
                int cont = looks_like_name_list(x) || (d2.len && d2.p[d2.len - 1] == ',') ||
                           one_a_line;
                if (one_a_line && !looks_like_name_list(x))
                        per_line = 1;
                if (per_line && d2.len && d2.p[d2.len - 1] != ',' && cont)
                        mm_buf_putc(&d2, ',');
                /* "... deltog til og med\n\npunkt 104." */
                if (f == F_ABSENT)
                        cont = cont || (d2.len && d2.p[d2.len - 1] != '.' &&
                                        (islower((unsigned char)x->s[0]) ||
                                         isdigit((unsigned char)x->s[0])));
                if (!cont)
                        break;
                mm_buf_putc(&d2, ' ');
                mm_buf_append(&d2, x->s, x->len);
                last = j++;
        }
        if (d2.p) {
                if (f == F_PARTICIPANTS && !json_array_size(c->participants))
                        mm_names_split(c, d2.p, d2.len, c->participants, 0);
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
        mm_buf_release(&d2);
        return last;
}

/* "Hedensted Kommune" at the end of a short line. */
static void find_municipality(ctx_t *c, hdr_t *h, const mm_line_t *l) {
        const char *sp = NULL;
        if (h->municipality || l->len <= 8 || l->len >= 60)
                return;
        if (!memcmp(l->s + l->len - 8, " Kommune", 8))
                sp = l->s + l->len - 8;
        else if (l->len > 16 && !memcmp(l->s + l->len - 16, " Regionskommune", 15))
                sp = l->s + l->len - 16;
        if (!sp)
                return;
        const char *ws = sp;
        while (ws > l->s && ws[-1] != ' ' && ws[-1] != '\t')
                ws--;
        const char *off = mm_classify_kommune(c->p->cls, ws, (size_t)(sp - ws));
        if (off)
                h->municipality = json_string_nocheck(off);
}

static void find_committee(ctx_t *c, hdr_t *h, const mm_line_t *l) {
        const mm_parser_t *p = c->p;
        if (h->committee || l->len >= 160)
                return;
        for (size_t r = 0; r < p->committees.n; r++) {
                size_t b, e;
                if (mm_rx_exec(p->committees.rx[r], c->m, l->s, l->len, 0) &&
                    !mm_rx_group(c->m, 0, &b, &e) && e > b) {
                        while (e > b && mm_pass_trail_punct(l->s[e - 1]))
                                e--;
                        h->committee = json_stringn_nocheck(l->s + b, e - b);
                        return;
                }
        }
}

/* A line that is only a clock time: "Kl. 10:30", "10.30". */
static int time_alone(const mm_line_t *l) {
        int hh, mi;
        size_t b, e;
        if (l->len > 24 || mm_time_find(l->s, l->len, 0, &hh, &mi, &b, &e) ||
            !(b == 0 || tolower((unsigned char)l->s[0]) == 'k'))
                return 0;
        /* "Kl. 10:30", or a range "Kl. 16.00 - 18.00" */
        while (e < l->len && (l->s[e] == ' ' || l->s[e] == '-' || (unsigned char)l->s[e] >= 0x80))
                e++;
        if (e < l->len && mm_time_find(l->s + e, l->len - e, 0, &hh, &mi, NULL, &b) == 0)
                e += b;
        return l->len - e <= 1;
}

/* A place, as a line or the end of one: "i Mødelokale 2", "Mødet afholdes
 * i Byrådssalen", or a room or building name that places.tsv knows.
 * Returns the place's offset in the line, or -1. */
static long place_in(ctx_t *c, const char *s, size_t n) {
        static const char *const lead[] = {"i ", "I ", "på ", "P\xc3\xa5 ", NULL};
        static const char *const verbs[] = {"afholdes i ",    "holdes i ",    "foregår i ",
                                            "finder sted i ", "afholdes på ", NULL};
        for (int k = 0; verbs[k]; k++) {
                const char *q = mm_str_find(s, n, verbs[k], strlen(verbs[k]));
                if (q && q + strlen(verbs[k]) < s + n)
                        return (long)(q - s) + (long)strlen(verbs[k]);
        }
        for (int k = 0; lead[k]; k++)
                if (n > strlen(lead[k]) + 2 && !strncmp(s, lead[k], strlen(lead[k])))
                        return (long)strlen(lead[k]);
        for (size_t r = 0; r < c->p->places.n; r++)
                if (mm_rx_exec(c->p->places.rx[r], c->m, s, n, 0))
                        return 0;
        return -1;
}

static void set_place(hdr_t *h, const char *s, size_t n) {
        while (n && mm_pass_trail_punct(s[n - 1]))
                n--;
        if (!h->location && n)
                h->location = json_stringn_nocheck(s, n);
}

/* A header without labels: the place is the line right below the date
 * (or below a time alone on its line): "i Mødelokale 2, 1. sal på
 * Rådhuset", or a bare room name that places.tsv recognises. */
static void place_after_date(ctx_t *c, hdr_t *h, size_t hend) {
        size_t seen = 0;
        for (size_t i = h->date_line + 1; i < hend && seen < 3; i++) {
                const mm_line_t *l = LN(c, i);
                size_t voff;
                if (l->blank || LI(c, i)->consumed)
                        continue;
                seen++;
                if (time_alone(l)) {
                        set_time(h, l->s, l->len, 0, 1);
                        continue;
                }
                if (h->location || l->len > 120 || match_label(c, l, &voff) != F_NONE ||
                    LI(c, i)->cand || SEC(LI(c, i)) >= 0)
                        return;
                long off = place_in(c, l->s, l->len);
                if (off >= 0)
                        set_place(h, l->s + off, l->len - (size_t)off);
                return;
        }
}

static void unlabelled_line(ctx_t *c, hdr_t *h, const mm_line_t *l, size_t i);

static size_t labelled_value(ctx_t *c, hdr_t *h, size_t i, size_t hend, int f, size_t voff,
                             const char *v, size_t vl);

/* ------------------------------------------------------------------ */
/* Labels inside a line                                                 */

/* One "Label:" inside a line: where it starts, where its value starts. */
typedef struct inl_s {
        size_t at, voff;
        int f;
} inl_t;

#define MM_INLINE_MAX 12

/* The labels, each followed by a colon, inside line l: "1 TÅRNBY
 * KOMMUNE Referat til Kommunalbestyrelsen Mødedato: Tirsdag den 30. april
 * 2013 Mødetidspunkt: 18:30 Mødelokale: Medlemmer: Afbud: ...". A PDF's
 * header table, flattened into one line by a text transcript, reads so.
 * A label is looked for in the three words before each colon. Returns the
 * number found (at most MM_INLINE_MAX). */
static size_t inline_labels(ctx_t *c, const mm_line_t *l, inl_t *v) {
        size_t n = 0;
        for (size_t q = 0; q < l->len && n < MM_INLINE_MAX; q++) {
                if (l->s[q] != ':' || (q + 1 < l->len && isdigit((unsigned char)l->s[q + 1])))
                        continue;
                size_t p = q, words = 0, prev_end = n ? v[n - 1].voff : 0;
                while (p > prev_end && words < 3) {
                        while (p > prev_end && l->s[p - 1] == ' ')
                                p--;
                        while (p > prev_end && l->s[p - 1] != ' ')
                                p--;
                        words++;
                        mm_line_t x = *l;
                        size_t voff;
                        x.s = l->s + p;
                        x.len = l->len - (uint32_t)p;
                        int f = match_label(c, &x, &voff);
                        if (f == F_NONE || !memchr(x.s, ':', voff) || p + voff <= q)
                                continue;
                        v[n].at = p;
                        v[n].voff = p + voff;
                        v[n].f = f;
                        n++;
                        break;
                }
        }
        return n;
}

/* Whether the word s[0..n) names a room or building (places.tsv). */
static int place_word(ctx_t *c, const char *s, size_t n) {
        for (size_t r = 0; r < c->p->places.n; r++)
                if (mm_rx_exec(c->p->places.rx[r], c->m, s, n, 0))
                        return 1;
        return 0;
}

/* The end of a place at the start of s[0..n) that is followed by other
 * values: up to a room or building word (places.tsv) and the numbers,
 * lower-case words and brackets after it ("Mødelokale 1, forhallen -
 * (EX. møde)"), before the next capitalised word (a name). 0 when no
 * place word is found. */
static size_t place_end(ctx_t *c, const char *s, size_t n) {
        size_t b, e = n + 1;
        for (size_t r = 0; r < c->p->places.n; r++) {
                size_t rb, re;
                if (mm_rx_exec(c->p->places.rx[r], c->m, s, n, 0) &&
                    !mm_rx_group(c->m, 0, &rb, &re) && re < e)
                        e = re, b = rb;
        }
        if (e > n)
                return 0;
        (void)b;
        int paren = 0;
        while (e < n && s[e] != ' ')
                e++;
        while (e < n) {
                size_t w = e;
                while (w < n && s[w] == ' ')
                        w++;
                if (w >= n)
                        break;
                unsigned char ch = (unsigned char)s[w];
                size_t we = w;
                while (we < n && s[we] != ' ')
                        we++;
                /* a capital starts the first name, unless it is a place
                 * again ("Byrådssalen, Rådhuset Anna Bech") */
                int cap = (ch >= 'A' && ch != '(' && !islower(ch) && ch < 0x80) ||
                          (ch >= 0xc3 && w + 1 < n && (unsigned char)s[w + 1] >= 0x80 &&
                           (unsigned char)s[w + 1] < 0xa0); /* Æ, Ø, Å */
                if (!paren && cap && !(s[e - 1] == ',' && place_word(c, s + w, we - w)))
                        break;
                if (ch == '(')
                        paren = 1;
                if (memchr(s + w, ')', we - w))
                        paren = 0;
                e = we;
        }
        return e;
}

/* Words of s[0..n). */
static size_t count_words(const char *s, size_t n) {
        size_t w = 0;
        for (size_t k = 0; k < n; k++)
                if (s[k] != ' ' && (k == 0 || s[k - 1] == ' '))
                        w++;
        return w;
}

/* Where a list of names that runs straight into the next field's values
 * ends: "Tina Weber, Vibeke Rasmussen Camilla Schwalbe, Jannie Meiltoft"
 * holds the last member and the first absentee in one entry. The first
 * entry of four or more words is split before its last two words, an
 * entry ending in "Ingen" (none) before that word. Returns the offset of
 * the next field's first value, or n when the list does not end. */
static size_t names_end(const char *s, size_t n) {
        size_t b = 0;
        while (b < n) {
                const char *cm = memchr(s + b, ',', n - b);
                size_t e = cm ? (size_t)(cm - s) : n;
                while (b < e && s[b] == ' ')
                        b++;
                size_t w = count_words(s + b, e - b);
                if (w >= 2 && e - b >= 5 && !strncmp(s + e - 5, "Ingen", 5) && s[e - 6] == ' ' &&
                    !memchr(s + b, '(', e - b))
                        return e - 5;
                if (w >= 4 && !memchr(s + b, '(', e - b)) {
                        size_t k = e, seen = 0;
                        while (k > b && seen < 2) {
                                while (k > b && s[k - 1] == ' ')
                                        k--;
                                while (k > b && s[k - 1] != ' ')
                                        k--;
                                seen++;
                        }
                        return k;
                }
                b = e + 1;
        }
        return n;
}

/* The values of one name field of a run. */
static void inline_names(ctx_t *c, int f, const char *v, size_t vl) {
        while (vl && (v[vl - 1] == ' ' || v[vl - 1] == ','))
                vl--;
        if (!vl || (vl == 5 && !strncmp(v, "Ingen", 5)))
                return;
        if (f == F_PARTICIPANTS && !json_array_size(c->participants))
                mm_names_split(c, v, vl, c->participants, 0);
        else if (f == F_ABSENT)
                header_absence(c, v, vl);
}

/* A run of labels without values shares the values that follow its last
 * label, in order: a place, then lists of names. */
static void inline_run(ctx_t *c, hdr_t *h, size_t i, const int *fs, size_t nf, const char *v,
                       size_t vl) {
        size_t pos = 0;
        for (size_t k = 0; k < nf && pos <= vl; k++) {
                const char *r = v + pos;
                size_t rl = vl - pos, e = rl;
                while (rl && *r == ' ')
                        r++, rl--, e--;
                int last = k + 1 == nf;
                switch (fs[k]) {
                case F_LOCATION:
                        e = last ? rl : place_end(c, r, rl);
                        set_place(h, r, e);
                        break;
                case F_PARTICIPANTS:
                case F_ABSENT:
                case F_REMARKS:
                        e = last ? rl : names_end(r, rl);
                        inline_names(c, fs[k], r, e);
                        break;
                default:
                        /* a date or time: the first one in what is left */
                        labelled_value(c, h, i, i + 1, fs[k], 0, r, rl);
                        e = 0;
                }
                pos = (size_t)(r - v) + e;
        }
}

/* A line holding two or more "Label:" (see inline_labels). The text before
 * the first label is read as a line without labels. Returns 1 when the
 * line was such a line. */
static int inline_line(ctx_t *c, hdr_t *h, size_t i) {
        const mm_line_t *l = LN(c, i);
        inl_t v[MM_INLINE_MAX];
        if (l->len < 12 || !memchr(l->s, ':', l->len))
                return 0;
        size_t n = inline_labels(c, l, v);
        if (n < 2)
                return 0;
        if (v[0].at > 0) {
                mm_line_t pre = *l;
                pre.len = (uint32_t)v[0].at;
                unlabelled_line(c, h, &pre, i);
        }
        int fs[MM_INLINE_MAX];
        size_t nf = 0;
        for (size_t k = 0; k < n; k++) {
                size_t end = k + 1 < n ? v[k + 1].at : l->len;
                fs[nf++] = v[k].f;
                size_t b = v[k].voff;
                while (end > b && l->s[end - 1] == ' ')
                        end--;
                if (end > b || k + 1 == n) {
                        inline_run(c, h, i, fs, nf, l->s + b, end - b);
                        nf = 0;
                }
        }
        return 1;
}

/* "Udvalg:\nDato:\nTorsdag, 14 marts, 2019 - 18:30": a label left without
 * a value (the committee) does not take the date; the date label does.
 * Returns the field index for value line x: k, or the next date field
 * when x holds a date and field k takes none. */
static size_t date_field(const mm_line_t *x, const int *fields, size_t k, size_t nf) {
        int y, mo, d;
        if (fields[k] == F_DATE || fields[k] == F_TIME || fields[k] == F_END_TIME ||
            mm_date_find(x->s, x->len, &y, &mo, &d, NULL, NULL))
                return k;
        for (size_t q = k + 1; q < nf; q++)
                if (fields[q] == F_DATE)
                        return q;
        return k;
}

/* "Dato:\nTid:\nSted:\n\n6. oktober 2016\n13:00 - 15:00\nRådhuset":
 * pdftotext reads a column of labels apart from the column of their
 * values. A run of labels without values takes the same number of lines
 * that follow it as values, in order. A run that holds lists of names and
 * ends in a label glued to values ("Mødelokale:\nMedlemmer:\nAfbud:
 * Kommunalbestyrelsens mødesal Henrik Zimino, ...": a transcript's run-on
 * header table, broken before each label) shares that one line's values
 * (inline_run). Returns the last line used, or (size_t)-1 when line i
 * starts no such run. */
static size_t label_column(ctx_t *c, hdr_t *h, size_t i, size_t hend) {
        int fields[8], names = 0;
        size_t nf = 0, j = i, voff, first_names = 8;
        while (j < hend && nf < 8 && !LN(c, j)->blank) {
                int f = match_label(c, LN(c, j), &voff);
                if (f == F_NONE || voff < LN(c, j)->len)
                        break;
                if (f == F_PARTICIPANTS || f == F_ABSENT) {
                        names = 1;
                        first_names = nf < first_names ? nf : first_names;
                }
                fields[nf++] = f;
                j++;
        }
        if (names && nf >= 2 && j < hend && nf < 8 && !LN(c, j)->blank) {
                int f = match_label(c, LN(c, j), &voff);
                const char *v = LN(c, j)->s + voff, *c1;
                size_t vl = LN(c, j)->len - voff;
                /* a list: two commas at least */
                if (f != F_NONE && vl && (c1 = memchr(v, ',', vl)) &&
                    memchr(c1 + 1, ',', vl - (size_t)(c1 + 1 - v))) {
                        fields[nf++] = f;
                        inline_run(c, h, j, fields, nf, LN(c, j)->s + voff, LN(c, j)->len - voff);
                        return j;
                }
        }
        if (names) {
                /* the column form stops at the first list of names */
                nf = first_names;
                j = i + nf;
        }
        if (nf < 2)
                return (size_t)-1;
        size_t k = 0;
        /* "Sted:6. oktober 2016": the last label glued to the first value */
        if (j < hend && nf < 8 && !LN(c, j)->blank) {
                int f = match_label(c, LN(c, j), &voff);
                if (f != F_NONE && f != F_PARTICIPANTS && f != F_ABSENT) {
                        fields[nf++] = f;
                        labelled_value(c, h, j, hend, fields[k++], 0, LN(c, j)->s + voff,
                                       LN(c, j)->len - voff);
                        j++;
                }
        }
        for (; j < hend && k < nf; j++) {
                const mm_line_t *x = LN(c, j);
                if (x->blank)
                        continue;
                if (match_label(c, x, &voff) != F_NONE)
                        break;
                k = date_field(x, fields, k, nf);
                labelled_value(c, h, j, hend, fields[k++], 0, x->s, x->len);
        }
        return j - 1;
}

/* One labelled header line. Returns the last line it used, or (size_t)-1
 * when the line has no label. */
static size_t labelled(ctx_t *c, hdr_t *h, size_t i, size_t hend) {
        const mm_line_t *l = LN(c, i);
        size_t voff = 0, last = label_column(c, h, i, hend);
        if (last != (size_t)-1)
                return last;
        int f = match_label(c, l, &voff);
        /* "STARTTIDSPUNKT" or "Mødetid:" alone, the value on the next line */
        if (f != F_NONE && f != F_PARTICIPANTS && f != F_ABSENT && f != F_REMARKS &&
            voff >= l->len) {
                size_t j = i + 1;
                while (j < hend && j < i + 3 && LN(c, j)->blank)
                        j++;
                size_t vo;
                if (j < hend && !LN(c, j)->blank && match_label(c, LN(c, j), &vo) == F_NONE &&
                    LN(c, j)->len < 120)
                        return labelled_value(c, h, j, hend, f, 0, LN(c, j)->s, LN(c, j)->len);
        }
        return labelled_value(c, h, i, hend, f, voff, l->s + voff, l->len - voff);
}

/* Applies the value v[0..vl) of a label of field f on line i. */
static size_t labelled_value(ctx_t *c, hdr_t *h, size_t i, size_t hend, int f, size_t voff,
                             const char *v, size_t vl) {
        const mm_line_t *l = LN(c, i);
        switch (f) {
        case F_DATE:
                /* "Dato:" wins over a date in the page's text above it ("Læs
                 * referater til og med den 10. februar 2016") */
                if (h->have_date == 2) {
                        int y, mo, d;
                        if (!mm_date_find(v, vl, &y, &mo, &d, NULL, NULL))
                                h->have_date = 0;
                }
                set_date(h, v, vl);
                time_after_date(h, v, vl);
                set_time(h, v, vl, 1, 0);
                return i;
        case F_TIME:
                set_time(h, v, vl, 0, 1);
                set_date(h, v, vl);
                return i;
        case F_END_TIME: {
                /* "Sluttidspunkt:" in a label column, "SLUTTIDSPUNKT" above
                 * "23-05-2018 15:55:00" */
                int hh, mi, y, mo, d;
                size_t b, e = 0;
                if (!mm_date_find(v, vl, &y, &mo, &d, &b, &e) && e < vl)
                        v += e, vl -= e;
                if (!h->range_end && !mm_time_find(v, vl, 0, &hh, &mi, NULL, NULL))
                        h->range_end = mm_pass_fmt_time(hh, mi);
                return i;
        }
        case F_LOCATION:
                /* "Mødelokale 1": the label is part of the place. */
                if (voff && l->s[voff - 1] == ' ' && !memchr(l->s, ':', voff) &&
                    mm_str_find(l->s, voff, "okale", 5))
                        v = l->s, vl = l->len;
                if (!h->location && vl)
                        h->location = json_stringn_nocheck(v, vl);
                return i;
        case F_COMMITTEE:
                if (!h->committee && vl)
                        h->committee = json_stringn_nocheck(v, vl);
                return i;
        case F_PARTICIPANTS:
        case F_ABSENT:
                return members(c, f, i, hend, v, vl);
        default:
                return (size_t)-1;
        }
}

/* The place straight after the date and time on their line: "Kl. 16:30 i
 * Mødelokale 1 og 2, Lejrevej 15, 4320 Allerslev" (all of it), or
 * "21-01-2016 kl. 17:00 Kommunalbestyrelsens mødesal" (a room word). The
 * place after a later comma is tried by the caller. */
static void place_after_time(ctx_t *c, hdr_t *h, const char *s, size_t n) {
        while (n && (*s == ' ' || *s == ',' || *s == '-'))
                s++, n--;
        if (n < 4 || n > 120)
                return;
        long off = place_in(c, s, n);
        if (off > 0 || (off == 0 && !memchr(s, ',', n)))
                set_place(h, s + off, n - (size_t)off);
}

static void unlabelled_line(ctx_t *c, hdr_t *h, const mm_line_t *l, size_t i) {
        int y, mo, d;
        find_municipality(c, h, l);
        find_committee(c, h, l);
        if (!h->have_date && i < 40 && !mm_date_find(l->s, l->len, &y, &mo, &d, NULL, NULL)) {
                size_t e, te;
                int hh, mi;
                set_date(h, l->s, l->len);
                h->have_date = 2; /* from a line without a label */
                time_after_date(h, l->s, l->len);
                set_time(h, l->s, l->len, 1, 1);
                h->date_line = i;
                /* "5. marts 2024, kl. 17.00, Byrådssalen": the place after
                 * the last comma, when it is one. */
                mm_date_find(l->s, l->len, &y, &mo, &d, NULL, &e);
                if (!mm_time_find(l->s, l->len, 1, &hh, &mi, NULL, &te) && te > e)
                        e = te;
                place_after_time(c, h, l->s + e, l->len - e);
                const char *comma = e < l->len ? memchr(l->s + e, ',', l->len - e) : NULL;
                if (comma && !h->location) {
                        const char *q = comma + 1;
                        while (q < l->s + l->len && *q == ' ')
                                q++;
                        long off = place_in(c, q, (size_t)(l->s + l->len - q));
                        if (off >= 0)
                                set_place(h, q + off, (size_t)(l->s + l->len - q) - (size_t)off);
                }
        }
}

static void unlabelled(ctx_t *c, hdr_t *h, size_t i) {
        unlabelled_line(c, h, LN(c, i), i);
}

/* End time: "Mødet sluttede kl. 20.35", "Mødets sluttidspunkt: 17.00". */
static void end_time(ctx_t *c, json_t *doc) {
        static const char *const cues[] = {
                "sluttede",        "sluttidspunkt", "mødet hævet",       "mødet slut",
                "mødet afsluttet", "mødet ophørte", "mødet afsluttedes", NULL};
        c->work += c->n;
        for (size_t i = 0; i < c->n; i++) {
                const mm_line_t *l = LN(c, i);
                char buf[512];
                /* It stands on a short line. */
                if (l->blank || l->len >= 100 ||
                    !(mm_str_find(l->s, l->len, "lut", 3) || mm_str_find(l->s, l->len, "LUT", 3) ||
                      mm_str_find(l->s, l->len, "h\xc3\xa6vet", 6) ||
                      mm_str_find(l->s, l->len, "oph\xc3\xb8rte", 8)))
                        continue;
                size_t fl = mm_pass_fold(l->s, l->len, buf, sizeof(buf));
                for (int k = 0; cues[k]; k++) {
                        const char *q = strstr(buf, cues[k]);
                        int hh, mi;
                        if (!q)
                                continue;
                        size_t off = (size_t)(q - buf) + strlen(cues[k]);
                        if (!mm_time_find(buf + off, fl - off, 0, &hh, &mi, NULL, NULL)) {
                                json_object_set_new_nocheck(doc, "end_time",
                                                            mm_pass_fmt_time(hh, mi));
                                /* "Mødet sluttede kl. 20.35" is no item's text. */
                                if (l->len < 80)
                                        LIW(c, i)->consumed = 1;
                                return;
                        }
                }
        }
}

/* "Vejle Byråd", "Hedensted Kommunalbestyrelse": the committee names the
 * kommune. */
static void municipality_from_committee(ctx_t *c, hdr_t *h) {
        const char *cm = h->committee ? json_string_value(h->committee) : NULL;
        const char *sp = cm ? strchr(cm, ' ') : NULL;
        if (h->municipality || !sp ||
            (strcmp(sp + 1, "Byr\xc3\xa5"
                            "d") &&
             strcmp(sp + 1, "Kommunalbestyrelse")))
                return;
        const char *off = mm_classify_kommune(c->p->cls, cm, (size_t)(sp - cm));
        if (off)
                h->municipality = json_string_nocheck(off);
}

/* "Medlemmer: A, B, C ... Afbud: B": the participants are the members
 * who came, so a member absent from the whole meeting is not one. */
static void drop_absent_members(ctx_t *c) {
        for (int k = 0; k < c->nhabs; k++) {
                if (c->habs[k].mode != 0 || !c->habs[k].name)
                        continue;
                for (size_t q = json_array_size(c->participants); q-- > 0;)
                        if (!strcasecmp(json_string_value(json_array_get(c->participants, q)),
                                        c->habs[k].name))
                                json_array_remove(c->participants, q);
        }
}

static void finish(ctx_t *c, hdr_t *h) {
        json_t *doc = h->doc;
        drop_absent_members(c);
        municipality_from_committee(c, h);
        if (!h->municipality) {
                size_t sl;
                const char *src = mm_text_source(c->text, &sl);
                const char *off = mm_classify_infer_kommune(c->p->cls, src, sl);
                if (off) {
                        h->municipality = json_string_nocheck(off);
                        json_object_set_new_nocheck(doc, "municipality_source",
                                                    json_string("body"));
                }
        } else {
                json_object_set_new_nocheck(doc, "municipality_source", json_string("header"));
        }
        json_object_set_new_nocheck(doc, "municipality",
                                    h->municipality ? h->municipality : json_null());
        json_object_set_new_nocheck(doc, "committee", h->committee ? h->committee : json_null());
        json_object_set_new_nocheck(doc, "location", h->location ? h->location : json_null());
        if (!h->have_date)
                json_object_set_new_nocheck(doc, "meeting_date", json_null());
        if (!h->have_time)
                json_object_set_new_nocheck(doc, "start_time", json_null());
        json_object_set_new_nocheck(doc, "end_time", h->range_end ? h->range_end : json_null());
        end_time(c, doc);
        json_object_set_new_nocheck(doc, "participants", json_incref(c->participants));
}

/* Whether folded line fb names the document minutes: "referat" or
 * "protokol" as a word of its own ("Åbent referat", "Referat: 27. oktober",
 * "Beslutningsprotokol"), and no "dagsorden" beside it (a site menu
 * "Dagsordener og referater" names both). */
static int minutes_word(const char *fb) {
        static const char *const w[] = {"referat", "protokol", NULL};
        if (strstr(fb, "dagsorden"))
                return 0;
        for (int i = 0; w[i]; i++)
                for (const char *p = strstr(fb, w[i]); p; p = strstr(p + 1, w[i])) {
                        const char *e = p + strlen(w[i]);
                        int before = p == fb || !isalpha((unsigned char)p[-1]) ||
                                     (p - fb >= 10 && !strncmp(p - 10, "beslutning", 10));
                        if (before && !isalpha((unsigned char)*e) && (unsigned char)*e < 0x80)
                                return 1;
                }
        return 0;
}

void mm_header_parse(ctx_t *c, json_t *doc, size_t hend) {
        hdr_t h = {.doc = doc, .date_line = (size_t)-1};
        c->work += hend;
        for (size_t i = 0; i < hend; i++) {
                const mm_line_t *l = LN(c, i);
                if (l->blank || LI(c, i)->toc)
                        continue;
                /* "Referat" in the header, not in an item's title ("3.
                 * Godkendelse af referat") of a TOC. */
                if ((!c->referat || !c->minutes_word) && l->len < 120 && !LI(c, i)->cand) {
                        char fb[128];
                        mm_pass_fold(l->s, l->len, fb, sizeof(fb));
                        c->referat = c->referat || strstr(fb, "referat") != NULL;
                        c->minutes_word = c->minutes_word || minutes_word(fb);
                }
                if (inline_line(c, &h, i))
                        continue;
                size_t last = labelled(c, &h, i, hend);
                if (last != (size_t)-1)
                        i = last;
                else
                        unlabelled(c, &h, i);
        }
        if ((!h.location || !h.have_time) && h.date_line != (size_t)-1)
                place_after_date(c, &h, hend);
        finish(c, &h);
}
