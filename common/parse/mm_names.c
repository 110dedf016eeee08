#include "mm_names.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mm_str.h"

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
int mm_names_plausible(const char *s, size_t n) {
        static const char *const none[] = {"ingen",        "intet",         "alle",
                                           "ingen afbud",  "alle mødt",     "alle til stede",
                                           "ingen fravær", "ikke relevant", NULL};
        char fb[64];
        mm_pass_fold(s, n < 60 ? n : 60, fb, sizeof(fb));
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
int mm_names_entry(const char *s, size_t n) {
        char buf[128];
        size_t o = 0;
        /* without "(V)", "(formand)" and a role after " - " */
        for (size_t i = 0; i < n && o + 1 < sizeof(buf); i++) {
                if (s[i] == '(') {
                        const char *cl = memchr(s + i, ')', n - i);
                        if (cl) {
                                i = (size_t)(cl - s);
                                continue;
                        }
                }
                if (s[i] == ' ' && i + 2 < n &&
                    (s[i + 1] == '-' || (unsigned char)s[i + 1] == 0xe2))
                        break;
                buf[o++] = s[i];
        }
        while (o && (buf[o - 1] == ' ' || buf[o - 1] == ',' || buf[o - 1] == '.'))
                o--;
        buf[o] = '\0';
        return memchr(buf, ' ', o) && mm_names_plausible(buf, o);
}

/* At most this many names in one list, read from at most this many bytes. */
#define MM_NAMES_MAX      256
#define MM_NAMES_MAX_TEXT (16u * 1024u)

/* The list s[0..n) with one ',' between names: parenthesised party
 * letters and roles dropped, tabs and ';' made ',', and " og " and
 * " samt " too. Leaves d->p NULL when nothing is left. */
static void names_list(const char *s, size_t n, mm_buf_t *d) {
        for (size_t i = 0; i < n; i++) {
                if (s[i] == '(') {
                        const char *cl = memchr(s + i, ')', n - i);
                        if (cl) {
                                i = (size_t)(cl - s);
                                continue;
                        }
                }
                mm_buf_putc(d, s[i] == '\t' || s[i] == ';' ? ',' : s[i]);
        }
        if (!d->p)
                return;
        for (char *q; (q = strstr(d->p, " og ")) || (q = strstr(d->p, " samt "));) {
                size_t w = q[1] == 'o' ? 4 : 6;
                *q = ',';
                memmove(q + 1, q + w, strlen(q + w) + 1);
        }
}

/* One name of the list, cleaned in place: without trailing punctuation,
 * the blanks around it, a role after " - " ("Anne Hansen - formand") and
 * inner double spaces. Returns its start; *len gets its length. */
static char *clean_name(char *tok, size_t *len) {
        size_t tl = strlen(tok);
        while (tl && (mm_pass_trail_punct(tok[tl - 1])))
                tok[--tl] = '\0';
        while (*tok == ' ')
                tok++, tl--;
        /* "Anne Hansen - formand": the role is no part of the name */
        char *dash = strstr(tok, " - ");
        char *ndash = strstr(tok, " \xe2\x80\x93 ");
        if (ndash && (!dash || ndash < dash))
                dash = ndash;
        if (dash)
                *dash = '\0';
        /* collapse inner double spaces */
        char *w = tok;
        for (char *r = tok; *r; r++)
                if (!(*r == ' ' && w > tok && w[-1] == ' '))
                        *w++ = *r;
        *w = '\0';
        tl = strlen(tok);
        while (tl && tok[tl - 1] == ' ')
                tok[--tl] = '\0';
        *len = tl;
        return tok;
}

/* The participant that the name tok[0..tl) misspells (a distance below
 * 3), or tok itself. */
static const char *canonical_name(ctx_t *c, const char *tok, size_t tl) {
        const char *name = tok;
        char fa[128], fb[128];
        size_t la = mm_pass_fold(tok, tl, fa, sizeof(fa));
        int best = 3;
        WORK(c, json_array_size(c->participants));
        for (size_t k = 0; k < json_array_size(c->participants); k++) {
                const char *pn = json_string_value(json_array_get(c->participants, k));
                size_t lb = mm_pass_fold(pn, strlen(pn), fb, sizeof(fb));
                /* The distance is at least the difference in length: no
                 * need to compute it then. */
                if ((la > lb ? la - lb : lb - la) >= (size_t)best)
                        continue;
                int dist = levenshtein(fa, la, fb, lb);
                if (dist < best) {
                        best = dist;
                        name = pn;
                }
        }
        return name;
}

/* Appends name to out unless out holds it already. */
static void add_unique(ctx_t *c, json_t *out, const char *name) {
        WORK(c, json_array_size(out));
        for (size_t k = 0; k < json_array_size(out); k++)
                if (!strcmp(json_string_value(json_array_get(out, k)), name))
                        return;
        json_array_append_new(out, json_string_nocheck(name));
}

void mm_names_split(ctx_t *c, const char *s, size_t n, json_t *out, int canonical) {
        mm_buf_t d = MM_BUF_INIT;
        /* A list of names is short; a longer text is cut, so that the
         * splitting below stays linear in its input. */
        if (n > MM_NAMES_MAX_TEXT)
                n = MM_NAMES_MAX_TEXT;
        WORK(c, n);
        names_list(s, n, &d);
        if (!d.p)
                return;
        char *save = NULL;
        for (char *tok = strtok_r(d.p, ",", &save); tok && json_array_size(out) < MM_NAMES_MAX;
             tok = strtok_r(NULL, ",", &save)) {
                size_t tl;
                tok = clean_name(tok, &tl);
                if (!mm_names_plausible(tok, tl))
                        continue;
                /* Map a misspelt name onto the participant list. */
                const char *name = canonical && c->participants ? canonical_name(c, tok, tl) : tok;
                add_unique(c, out, name);
        }
        mm_buf_release(&d);
}

/* If the line is an absence cue, appends the names to out and returns 1. */
int mm_names_absence_line(ctx_t *c, const mm_line_t *l, json_t *out) {
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
                if (!mm_rx_exec(c->p->absence.rx[r], c->m, l->s, l->len, 0))
                        continue;
                if (!mm_rx_named(c->p->absence.rx[r], c->m, "list", &b, &e))
                        return 2;
                if (!mm_rx_named(c->p->absence.rx[r], c->m, "names", &b, &e)) {
                        mm_names_split(c, l->s + b, e - b, out, 1);
                        return 1;
                }
        }
        return 0;
}
