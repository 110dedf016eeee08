#include "mm_sections.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mm_classify.h"
#include "mm_names.h"
#include "mm_str.h"
#include "mm_votes.h"

/* ------------------------------------------------------------------ */
/* Item bodies                                                          */

static const char *section_kind(const ctx_t *c, const linfo_t *li) {
        if (li->hist)
                return "history";
        if (SEC(li) >= 0)
                return c->p->secs[SEC(li)].kind;
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

/* Acadre and web CMSs: "1 Åben Notat om ...", "2 Lukket Kort" (the number
 * and the open/closed word are no part of the name), and a link printed
 * with its title beside it ("Notat Notat"): the name once. */
static void acadre_name(const char **sp, size_t *np) {
        const char *s = *sp;
        size_t n = *np, k = 0;
        while (k < n && k < 3 && isdigit((unsigned char)s[k]))
                k++;
        if (k && k + 1 < n && s[k] == ' ' && !isdigit((unsigned char)s[k + 1])) {
                s += k + 1;
                n -= k + 1;
                static const char *const state[] = {"Åben ", "Åbent ", "Lukket ", "Lukket: ", NULL};
                for (int i = 0; state[i]; i++)
                        if (n > strlen(state[i]) && !strncmp(s, state[i], strlen(state[i]))) {
                                s += strlen(state[i]);
                                n -= strlen(state[i]);
                                break;
                        }
        }
        if (n >= 3 && n % 2 == 1 && s[n / 2] == ' ' && !memcmp(s, s + n / 2 + 1, n / 2))
                n /= 2;
        *sp = s;
        *np = n;
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
        acadre_name(&s, &n);
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
        /* "2019-123456 - Notat": a document number before the name */
        {
                size_t k = 0, d1, d2;
                while (k < n && isdigit((unsigned char)s[k]))
                        k++;
                d1 = k;
                if ((d1 == 2 || d1 == 4) && k < n && s[k] == '-') {
                        k++;
                        while (k < n && isdigit((unsigned char)s[k]))
                                k++;
                        d2 = k - d1 - 1;
                        if (d2 >= 4 && d2 <= 8 && k + 3 < n && s[k] == ' ' &&
                            (s[k + 1] == '-' || !strncmp(s + k + 1, "\xe2\x80\x93", 3))) {
                                k += s[k + 1] == '-' ? 2 : 4;
                                while (k < n && s[k] == ' ')
                                        k++;
                                s += k;
                                n -= k;
                        }
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
        mm_buf_t text;
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
                        size_t hn = LI(c, cur->head)->inl ? LI(c, cur->head)->inl : hl->len;
                        while (hn && mm_pass_trail_punct(hl->s[hn - 1]))
                                hn--;
                        json_object_set_new_nocheck(s, "heading", json_stringn_nocheck(hl->s, hn));
                } else {
                        json_object_set_new_nocheck(s, "heading", json_null());
                }
                json_object_set_new_nocheck(s, "kind", json_string_nocheck(cur->kind));
                json_object_set_new_nocheck(s, "history", json_boolean(cur->hist));
                json_object_set_new_nocheck(
                        s, "text", json_stringn_nocheck(mm_buf_cstr(&cur->text), cur->text.len));
                json_object_set_new_nocheck(s, "offset", json_integer((json_int_t)cur->offset));
                json_array_append_new(sections, s);
        }
        if (cur->attach) {
                bilag_secs[(*nbilag)++] = cur->attach;
                cur->attach = NULL; /* owned by bilag_secs now */
        }
        mm_buf_release(&cur->text);
}

/* Caps that keep a pathological input's output small: sections per item,
 * numbered decision parts per item, and the decision's length. */
#define MM_MAX_SECTIONS 256
#define MM_MAX_PARTS    64
/* A decision longer than this (the section text keeps all of it) is not
 * read further for the outcome. */
#define MM_MAX_DECISION (64u * 1024u)

/* The state of one item while its lines are read. */
typedef struct ist_s {
        item_t *it;
        json_t *sections, *absent, *attach, *amounts, *laws, *parts;
        json_t **bilag_secs;
        size_t *nbilag;
        sec_t cur;
        mm_buf_t decision;
        int have_decision, prev_path;
        int absent_list; /* after "Fraværende" alone: names follow a line each */
        int own_list;    /* the item lists its absent members ("Fraværende: ...",
                            "Afbud: ..."), so the meeting's list is not added */
} ist_t;

/* Closed by its title, or by a "Lukket dagsorden" heading before it
 * (it->closed already set); in minutes whose items have no headings at
 * all, an item's text is what the meeting decided. */
static void item_start(ctx_t *c, ist_t *st) {
        const mm_parser_t *p = c->p;
        item_t *it = st->it;
        for (size_t r = 0; r < p->closed.n; r++) {
                size_t n = strlen(it->title), b, e;
                if (p->closed_scope[r] == 0 && mm_rx_exec(p->closed.rx[r], c->m, it->title, n, 0)) {
                        it->closed = 1;
                        /* "Salg af grund - Lukket punkt": the mark is no part
                         * of the title */
                        if (!mm_rx_group(c->m, 0, &b, &e) && b > 0 && e == n && it->title[b] == ' ')
                                it->title[b] = '\0';
                }
        }
        /* "LUKKET SAG" right below the title */
        for (size_t i = it->start, seen = 0; i < it->end && seen < 3; i++)
                if (!LN(c, i)->blank && (seen++, LI(c, i)->mark == 2))
                        it->closed = 1;
        st->cur.head = (size_t)-1;
        st->cur.kind = "body";
        st->cur.offset = mm_text_src_off(c->text, it->start < c->n ? it->start : it->head);
        if (c->referat) {
                int headed = 0;
                for (size_t i = it->start; i < it->end && !headed; i++)
                        headed = SEC(LI(c, i)) >= 0 || LI(c, i)->hist;
                if (!headed)
                        st->cur.kind = "decision";
        }
}

/* Absences in a decision or body line: "Fraværende: A og B", "A deltog
 * ikke i sagens behandling", and a list opened by "Fraværende" or
 * "Følgende deltog ikke i behandlingen af punktet:" with a name a line
 * below (or nothing). Returns 1 when the line was about absences. */
static int absence(ctx_t *c, ist_t *st, const mm_line_t *view) {
        int r = mm_names_absence_line(c, view, st->absent);
        if (r && view->len >= 5 &&
            (!strncasecmp(view->s, "afbud", 5) ||
             (view->len >= 11 && !strncmp(view->s + 1, "RAV\xc3\x86RENDE", 10)) ||
             (view->len >= 11 && !strncmp(view->s + 1, "rav\xc3\xa6rende", 10))))
                st->own_list = 1;
        if (r == 2) {
                st->absent_list = 1;
                return 1;
        }
        if (r)
                return 1;
        if (st->absent_list && mm_names_entry(view->s, view->len)) {
                mm_names_split(c, view->s, view->len, st->absent, 1);
                return 1;
        }
        st->absent_list = 0;
        return 0;
}

/* "Bilag 1: Notat om ..." in an item's text names an attachment. */
static int bilag_line(const char *s, size_t n) {
        size_t k = 5;
        if (n < 9 || strncmp(s, "Bilag", 5) || s[k] != ' ')
                return 0;
        k++;
        if (!isdigit((unsigned char)s[k]))
                return 0;
        while (k < n && isdigit((unsigned char)s[k]))
                k++;
        return k + 2 < n && (s[k] == ':' || s[k] == '.' || s[k] == ')') && s[k + 1] == ' ';
}

/* The end of the first sentence of s[0..n): a full stop after a word of
 * lower-case letters (not an initial, "Allan S. Andersen"), then a space
 * and a capital. n when there is none. */
static size_t sentence_end(const char *s, size_t n) {
        for (size_t k = 2; k + 2 < n; k++)
                if (s[k] == '.' && s[k + 1] == ' ' &&
                    (isupper((unsigned char)s[k + 2]) || (unsigned char)s[k + 2] == 0xc3) &&
                    (islower((unsigned char)s[k - 1]) || (unsigned char)s[k - 1] >= 0x80) &&
                    (islower((unsigned char)s[k - 2]) || (unsigned char)s[k - 2] >= 0x80))
                        return k + 1;
        return n;
}

/* One text line of the item (the part after "Heading:" when inline). */
static void item_text(ctx_t *c, ist_t *st, const mm_line_t *l, const char *s, size_t n) {
        sec_t *cur = &st->cur;
        mm_line_t view = *l;
        view.s = s;
        view.len = n;
        if (cur->text.len)
                mm_buf_putc(&cur->text, '\n');
        mm_buf_append(&cur->text, s, n);
        if (cur->hist)
                return;
        int is_dec = !strcmp(cur->kind, "decision");
        if (is_dec || !strcmp(cur->kind, "body")) {
                /* "Helle Jessen og Niels True var fraværende. Budgettet
                 * oversendes til 2. behandling.": the absence is the first
                 * sentence, the rest is text of the section */
                size_t cut = sentence_end(s, n);
                mm_line_t first = view;
                first.len = (uint32_t)cut;
                if (cut < n && absence(c, st, &first)) {
                        /* "Afbud fra A. B er indkaldt som suppleant." */
                        if (mm_str_find(s + cut, n - cut, "suppleant", 9))
                                return;
                        s += cut + 1;
                        n -= cut + 1;
                        view.s = s;
                        view.len = (uint32_t)n;
                } else if (absence(c, st, &view))
                        return;
        }
        if (is_dec && (!st->have_decision || st->decision.len) &&
            st->decision.len < MM_MAX_DECISION && !mm_str_find(s, n, "suppleant", 9)) {
                if (st->decision.len)
                        mm_buf_putc(&st->decision, '\n');
                mm_buf_append(&st->decision, s, n);
        }
        if (cur->attach) {
                /* A path, and the rest of a path wrapped onto the next
                 * line, are no attachment names. */
                int path = is_path(s, n) || (st->prev_path && !memchr(s, ' ', n));
                /* "Ingen bilag." lists none */
                if (!path && strncmp(s, "http", 4) && strncasecmp(s, "ingen", 5))
                        json_array_append_new(cur->attach, clean_attachment(s, n));
                st->prev_path = path;
        } else if (bilag_line(s, n)) {
                json_array_append_new(st->attach, clean_attachment(s, n));
        }
        mm_classify_amounts(c->p->cls, c->m, s, n, st->amounts);
        mm_classify_laws(c->p->cls, c->m, s, n, st->laws);
        if (is_dec)
                st->have_decision = 1;
}

/* Splits the item's lines into sections. */
static void item_lines(ctx_t *c, ist_t *st) {
        const item_t *it = st->it;
        for (size_t i = it->start; i < it->end; i++) {
                const mm_line_t *l = LN(c, i);
                const linfo_t *li = LI(c, i);
                if (l->blank || li->consumed)
                        continue;
                c->work++;
                /* Past MM_MAX_SECTIONS, headings stay in the last section's
                 * text: a pathological input cannot make a section object
                 * of every line. */
                if ((SEC(li) >= 0 || li->hist || li->unknown) &&
                    json_array_size(st->sections) < MM_MAX_SECTIONS) {
                        flush_section(c, &st->cur, st->sections, st->bilag_secs, st->nbilag);
                        st->cur.head = i;
                        st->cur.kind = section_kind(c, li);
                        st->cur.hist = li->hist;
                        st->cur.offset = mm_text_src_off(c->text, i);
                        st->absent_list = 0;
                        if (!strcmp(st->cur.kind, "attachments") && !st->cur.hist &&
                            *st->nbilag < MM_MAX_BILAG)
                                st->cur.attach = json_array();
                        if (!li->inl)
                                continue;
                }
                const char *s = l->s + (li->inl && st->cur.head == i ? li->inl : 0);
                item_text(c, st, l, s, l->len - (size_t)(s - l->s));
        }
        flush_section(c, &st->cur, st->sections, st->bilag_secs, st->nbilag);
}

/* Outcome, one label per numbered part of the decision; the strongest
 * part is the item's outcome. */
static const char *item_outcome(ctx_t *c, ist_t *st) {
        const mm_parser_t *p = c->p;
        const char *outcome = "none";
        if (st->decision.len) {
                char *save = NULL, *dup = mm_pass_strndup(st->decision.p, st->decision.len);
                mm_buf_t part = MM_BUF_INIT;
                int numbered = 0;
                for (char *ln = strtok_r(dup, "\n", &save); ln; ln = strtok_r(NULL, "\n", &save)) {
                        size_t k = 0;
                        while (isdigit((unsigned char)ln[k]) && k < 3)
                                k++;
                        if (k && (ln[k] == '.' || ln[k] == ')') && ln[k + 1] == ' ' &&
                            json_array_size(st->parts) < MM_MAX_PARTS) {
                                if (numbered && part.len)
                                        json_array_append_new(
                                                st->parts,
                                                json_string_nocheck(mm_classify_outcome(
                                                        p->cls, c->m, part.p, part.len)));
                                mm_buf_reset(&part);
                                numbered = 1;
                                mm_buf_append(&part, ln + k + 2, strlen(ln + k + 2));
                                continue;
                        }
                        if (part.len)
                                mm_buf_putc(&part, ' ');
                        mm_buf_append(&part, ln, strlen(ln));
                }
                if (part.len)
                        json_array_append_new(st->parts, json_string_nocheck(mm_classify_outcome(
                                                                 p->cls, c->m, part.p, part.len)));
                mm_buf_release(&part);
                free(dup);
                int best = -1;
                for (size_t k = 0; k < json_array_size(st->parts); k++) {
                        const char *lab = json_string_value(json_array_get(st->parts, k));
                        int r = mm_classify_outcome_rank(lab);
                        if (r > best) {
                                best = r;
                                outcome = lab;
                        }
                }
        }
        if (!json_array_size(st->parts))
                json_array_append_new(st->parts, json_string_nocheck(outcome));
        return outcome;
}

/* Meeting-level absences that reach this item. */
static void meeting_absences(ctx_t *c, const item_t *it, json_t *absent) {
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
                int dup = 0;
                for (size_t k = 0; absent_here && k < json_array_size(absent); k++)
                        if (!strcmp(json_string_value(json_array_get(absent, k)), ha->name))
                                dup = 1;
                if (absent_here && !dup)
                        json_array_append_new(absent, json_string_nocheck(ha->name));
        }
}

static void item_json(ctx_t *c, ist_t *st, json_t *o, size_t order, const char *outcome) {
        const item_t *it = st->it;
        size_t src_len;
        (void)mm_text_source(c->text, &src_len);
        json_object_set_new_nocheck(o, "number", json_integer(it->number));
        json_object_set_new_nocheck(o, "order", json_integer((json_int_t)order));
        json_object_set_new_nocheck(o, "title", json_string_nocheck(it->title));
        json_object_set_new_nocheck(
                o, "case_number", it->case_no[0] ? json_string_nocheck(it->case_no) : json_null());
        json_object_set_new_nocheck(o, "case_number_kind",
                                    it->case_no[0] ? json_string_nocheck(it->case_kind)
                                                   : json_null());
        json_t *k = it->case_no[0] ? mm_classify_kle(c->p->cls, it->case_no) : NULL;
        json_object_set_new_nocheck(o, "kle", k ? k : json_null());
        json_object_set_new_nocheck(o, "closed", json_boolean(it->closed));
        json_object_set_new_nocheck(o, "outcome", json_string_nocheck(outcome));
        json_object_set_new_nocheck(o, "outcome_parts", st->parts);
        json_object_set_new_nocheck(o, "decision",
                                    st->decision.len
                                            ? json_stringn_nocheck(st->decision.p, st->decision.len)
                                            : json_null());
        mm_votes_item(o, st->decision.p, st->decision.len, outcome);
        json_object_set_new_nocheck(o, "absent", st->absent);
        json_object_set_new_nocheck(o, "attachments", st->attach);
        json_object_set_new_nocheck(o, "sections", st->sections);
        json_object_set_new_nocheck(o, "amounts", st->amounts);
        json_object_set_new_nocheck(o, "laws", st->laws);
        size_t off = mm_text_src_off(c->text, it->head);
        size_t endoff = it->end < c->n ? mm_text_src_off(c->text, it->end) : src_len;
        json_object_set_new_nocheck(o, "offset", json_integer((json_int_t)off));
        json_object_set_new_nocheck(o, "length",
                                    json_integer((json_int_t)(endoff > off ? endoff - off : 0)));
        json_object_set_new_nocheck(o, "has_decision",
                                    json_boolean(st->have_decision && st->decision.len));
}

void mm_sections_build_item(ctx_t *c, item_t *it, size_t order, json_t *items, json_t **bilag_secs,
                            size_t *nbilag) {
        ist_t st = {.it = it,
                    .sections = json_array(),
                    .absent = json_array(),
                    .attach = json_array(),
                    .amounts = json_array(),
                    .laws = json_array(),
                    .parts = json_array(),
                    .bilag_secs = bilag_secs,
                    .nbilag = nbilag};
        json_t *o = json_object();
        item_start(c, &st);
        item_lines(c, &st);
        const char *outcome = item_outcome(c, &st);
        if (!st.own_list)
                meeting_absences(c, it, st.absent);
        item_json(c, &st, o, order, outcome); /* the arrays are owned by o now */
        mm_buf_release(&st.decision);
        json_array_append_new(items, o);
}

/* Hash of an attachment name's skeleton (see skeleton()). */
static uint64_t skeleton_hash(const char *s) {
        char a[256];
        size_t n = skeleton(s, a, sizeof(a));
        uint64_t h = 1469598103934665603ull;
        for (size_t i = 0; i < n; i++)
                h = (h ^ (unsigned char)a[i]) * 1099511628211ull;
        return h | 1; /* never 0, the empty slot */
}

/* Open addressing: skeleton -> up to three distinct owners (items) whose
 * lists hold it. */
typedef struct askel_s {
        uint64_t key;
        size_t owner[3];
        int nown;
} askel_t;

static askel_t *askel(askel_t *t, size_t mask, uint64_t key) {
        size_t k = (size_t)(key ^ (key >> 31)) & mask;
        while (t[k].key && t[k].key != key)
                k = (k + 1) & mask;
        t[k].key = key;
        return &t[k];
}

static void askel_add_owner(askel_t *e, size_t owner) {
        for (int i = 0; i < e->nown; i++)
                if (e->owner[i] == owner)
                        return;
        if (e->nown < 3)
                e->owner[e->nown++] = owner;
}

/* Does list s mostly repeat the lists of two or more other items? */
static int document_wide(askel_t *t, size_t mask, uint64_t *h, size_t n, size_t own) {
        size_t hits = 0, first = (size_t)-1;
        int owners = 0;
        for (size_t k = 0; k < n; k++) {
                askel_t *e = askel(t, mask, h[k]);
                int hit = 0;
                for (int i = 0; i < e->nown; i++) {
                        if (e->owner[i] == own)
                                continue;
                        hit = 1;
                        if (owners == 0 || (owners == 1 && e->owner[i] != first)) {
                                if (!owners)
                                        first = e->owner[i];
                                owners++;
                        }
                }
                hits += (size_t)hit;
        }
        return n >= 2 && owners >= 2 && hits * 2 >= n;
}

/* Attachment sections whose entries mostly repeat other items' lists are
 * the document-wide list at the end: they belong to no item. Linear in the
 * number of entries: skeletons are compared by hash. */
void mm_sections_assign_attachments(json_t *items, json_t **secs, size_t *owner, size_t nsecs,
                                    json_t *warnings) {
        size_t total = 0, off = 0, cap = 64;
        for (size_t s = 0; s < nsecs; s++)
                total += json_array_size(secs[s]);
        while (cap < 4 * total)
                cap *= 2;
        askel_t *t = calloc(cap, sizeof(*t));
        uint64_t *h = malloc((total ? total : 1) * sizeof(*h));
        uint64_t *seen = calloc(cap, sizeof(*seen)); /* (owner, skeleton) listed */
        if (!t || !h || !seen)
                goto out;
        for (size_t s = 0; s < nsecs; s++)
                for (size_t k = 0; k < json_array_size(secs[s]); k++, off++) {
                        h[off] = skeleton_hash(json_string_value(json_array_get(secs[s], k)));
                        askel_add_owner(askel(t, cap - 1, h[off]), owner[s]);
                }
        off = 0;
        for (size_t s = 0; s < nsecs; s++) {
                size_t n = json_array_size(secs[s]);
                uint64_t *hs = h + off;
                off += n;
                if (document_wide(t, cap - 1, hs, n, owner[s])) {
                        if (warnings)
                                json_array_append_new(warnings,
                                                      json_string("document-wide attachment list "
                                                                  "not assigned to an item"));
                        continue;
                }
                json_t *dst = json_object_get(json_array_get(items, owner[s]), "attachments");
                for (size_t k = 0; k < n; k++) {
                        /* an entry already listed for the item (same skeleton) */
                        uint64_t key = (hs[k] ^ ((uint64_t)owner[s] * 0x9e3779b97f4a7c15ull)) | 1;
                        size_t q = (size_t)(key ^ (key >> 29)) & (cap - 1);
                        while (seen[q] && seen[q] != key)
                                q = (q + 1) & (cap - 1);
                        if (seen[q])
                                continue;
                        seen[q] = key;
                        json_array_append(dst, json_array_get(secs[s], k));
                }
        }
out:
        free(t);
        free(h);
        free(seen);
}
