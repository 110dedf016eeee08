#include "mm_classify.h"

#include <math.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mm_cues.h"
#include "mm_str.h"
#include "mm_table.h"

typedef struct rule_s {
        const char *label;
        mm_rx_t *rx;
        uint64_t need; /* its cue words (mm_cues), 0 for none */
} rule_t;

struct mm_classify_s {
        mm_table_t *t_outcomes, *t_laws, *t_kle, *t_kommuner;
        rule_t *outcomes;
        size_t noutcomes;
        mm_cues_t *outcome_cues;
        mm_rx_t **laws;
        size_t nlaws;
        mm_rx_t *amount;
};

/* "minority" is no outcome: its rules mark a party's dissent ("O stemte
 * imod"), which is left out before the decision is classified. */
static const char *const minority_label = "minority";

static const char *const labels[] = {"none",     "noted",    "discussed", "postponed",
                                     "decided",  "referred", "approved",  "approved_with_changes",
                                     "rejected", NULL};

int mm_classify_outcome_rank(const char *label) {
        for (int i = 0; labels[i]; i++)
                if (!strcmp(labels[i], label))
                        return i;
        return -1;
}

mm_classify_t *mm_classify_new(char *errstr, size_t errstr_size) {
        mm_classify_t *c = calloc(1, sizeof(*c));
        if (!c) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        if (!(c->t_outcomes = mm_table_load("outcomes", 2, errstr, errstr_size)) ||
            !(c->t_laws = mm_table_load("laws", 1, errstr, errstr_size)) ||
            !(c->t_kle = mm_table_load("kle", 2, errstr, errstr_size)) ||
            !(c->t_kommuner = mm_table_load("kommuner", 3, errstr, errstr_size)))
                goto fail;

        c->noutcomes = mm_table_rows(c->t_outcomes);
        c->outcomes = calloc(c->noutcomes + 1, sizeof(*c->outcomes));
        if (!c->outcomes)
                goto oom;
        if (!(c->outcome_cues = mm_cues_new()))
                goto oom;
        for (size_t i = 0; i < c->noutcomes; i++) {
                const char *label = mm_table_get(c->t_outcomes, i, 0);
                int k;
                if (mm_cues_add(c->outcome_cues, mm_table_get(c->t_outcomes, i, 2),
                                mm_table_get(c->t_outcomes, i, 1), &c->outcomes[i].need, errstr,
                                errstr_size))
                        goto fail;
                for (k = 0; labels[k]; k++)
                        if (!strcmp(labels[k], label))
                                break;
                if (!labels[k] && !strcmp(label, minority_label)) {
                        c->outcomes[i].label = minority_label;
                        c->outcomes[i].rx = mm_rx_new(mm_table_get(c->t_outcomes, i, 1),
                                                      MM_RX_CASELESS, errstr, errstr_size);
                        if (!c->outcomes[i].rx)
                                goto fail;
                        continue;
                }
                if (!labels[k]) {
                        snprintf(errstr, errstr_size, "outcomes table: unknown label \"%s\"",
                                 label);
                        goto fail;
                }
                c->outcomes[i].label = labels[k];
                c->outcomes[i].rx = mm_rx_new(mm_table_get(c->t_outcomes, i, 1), MM_RX_CASELESS,
                                              errstr, errstr_size);
                if (!c->outcomes[i].rx)
                        goto fail;
        }
        c->nlaws = mm_table_rows(c->t_laws);
        c->laws = calloc(c->nlaws + 1, sizeof(*c->laws));
        if (!c->laws)
                goto oom;
        for (size_t i = 0; i < c->nlaws; i++)
                if (!(c->laws[i] =
                              mm_rx_new(mm_table_get(c->t_laws, i, 0), 0, errstr, errstr_size)))
                        goto fail;
        c->amount =
                mm_rx_new("(?<![\\d.,])(?<num>\\d{1,3}(?:\\.\\d{3})+|\\d+)(?:,(?<dec>\\d{1,3}))?"
                          "\\s*(?<mult>mio\\.?|millioner|million|mia\\.?|milliarder|mia)?"
                          "\\s*(?:kr\\.|kr\\b|kroner\\b|DKK\\b)",
                          0, errstr, errstr_size);
        if (!c->amount)
                goto fail;
        return c;
oom:
        snprintf(errstr, errstr_size, "out of memory");
fail:
        mm_classify_destroy(c);
        return NULL;
}

void mm_classify_destroy(mm_classify_t *c) {
        if (!c)
                return;
        if (c->outcomes)
                for (size_t i = 0; i < c->noutcomes; i++)
                        mm_rx_destroy(c->outcomes[i].rx);
        if (c->laws)
                for (size_t i = 0; i < c->nlaws; i++)
                        mm_rx_destroy(c->laws[i]);
        free(c->outcomes);
        mm_cues_destroy(c->outcome_cues);
        free(c->laws);
        mm_rx_destroy(c->amount);
        mm_table_destroy(c->t_outcomes);
        mm_table_destroy(c->t_laws);
        mm_table_destroy(c->t_kle);
        mm_table_destroy(c->t_kommuner);
        free(c);
}

static int is_minority(const mm_classify_t *c, mm_rx_match_t *m, const char *s, size_t n) {
        uint64_t have = mm_cues_find(c->outcome_cues, s, n);
        for (size_t r = 0; r < c->noutcomes; r++)
                if (c->outcomes[r].label == minority_label &&
                    mm_cues_may(c->outcomes[r].need, have) &&
                    mm_rx_exec(c->outcomes[r].rx, m, s, n, 0))
                        return 1;
        return 0;
}

/* text without the sentences that are minority notes, in a new buffer
 * (*out, freed by the caller), or 0 when nothing with letters is left. */
static size_t without_minority(const mm_classify_t *c, mm_rx_match_t *m, const char *text,
                               size_t len, char **out) {
        char *buf = malloc(len + 1);
        size_t o = 0, letters = 0, dropped = 0;
        if (!buf)
                return 0;
        for (size_t a = 0; a < len;) {
                size_t b = a;
                /* a sentence ends at ". " or a line break */
                while (b < len && text[b] != '\n' &&
                       !(text[b] == '.' && (b + 1 == len || text[b + 1] == ' ')))
                        b++;
                if (b < len)
                        b++;
                if (is_minority(c, m, text + a, b - a)) {
                        dropped++;
                } else {
                        for (size_t q = a; q < b; q++)
                                letters += isalpha((unsigned char)text[q]) != 0;
                        memcpy(buf + o, text + a, b - a);
                        o += b - a;
                }
                a = b;
        }
        buf[o] = '\0';
        if (!dropped || letters < 3) {
                free(buf);
                return 0;
        }
        *out = buf;
        return o;
}

const char *mm_classify_outcome(const mm_classify_t *c, mm_rx_match_t *m, const char *text,
                                size_t len) {
        size_t i;
        char *own = NULL;
        const char *label = "decided";
        for (i = 0; i < len; i++)
                if (text[i] != ' ' && text[i] != '\t' && text[i] != '\n' && text[i] != '.')
                        break;
        if (i == len)
                return "none";
        /* Dissent always names a vote, a minority or a "not": a decision
         * without such a word has no minority sentence to leave out. */
        size_t olen = 0;
        if (mm_str_find(text, len, "imod", 4) || mm_str_find(text, len, "ikke", 4) ||
            mm_str_find(text, len, "indretal", 8) || mm_str_find(text, len, "forbehold", 9) ||
            mm_str_find(text, len, "protokol", 8) || mm_str_find(text, len, "undlod", 6))
                olen = without_minority(c, m, text, len, &own);
        if (own) {
                text = own;
                len = olen;
        }
        uint64_t have = mm_cues_find(c->outcome_cues, text, len);
        for (size_t r = 0; r < c->noutcomes; r++)
                if (c->outcomes[r].label != minority_label &&
                    mm_cues_may(c->outcomes[r].need, have) &&
                    mm_rx_exec(c->outcomes[r].rx, m, text, len, 0)) {
                        label = c->outcomes[r].label;
                        break;
                }
        free(own);
        return label;
}

/* Most bytes a sentence reaches on each side of an amount: in a line
 * without sentence ends, every amount would copy the whole line (quadratic
 * in time and output; issue 19). Cut at a UTF-8 character boundary. */
#define SENTENCE_REACH 1000

/* The sentence around [b, e) in the line: from the previous ". " to the
 * next one, at most SENTENCE_REACH bytes on each side. */
static json_t *sentence_around(const char *line, size_t len, size_t b, size_t e) {
        size_t s = b, t = e;
        size_t lo = b > SENTENCE_REACH ? b - SENTENCE_REACH : 0;
        size_t hi = len - e > SENTENCE_REACH ? e + SENTENCE_REACH : len;
        while (s > lo && !((line[s - 1] == ' ' && s >= 2 &&
                            (line[s - 2] == '.' || line[s - 2] == '!' || line[s - 2] == '?') &&
                            !(s >= 3 && line[s - 3] >= '0' && line[s - 3] <= '9'))))
                s--;
        while (s > 0 && s < b && ((unsigned char)line[s] & 0xC0) == 0x80)
                s++; /* cut at lo: not inside a character */
        while (t < hi && !((line[t] == '.' || line[t] == '!' || line[t] == '?') &&
                           (t + 1 == len || line[t + 1] == ' ') &&
                           !(t >= 1 && line[t - 1] >= '0' && line[t - 1] <= '9') &&
                           !(t >= 2 && !strncmp(line + t - 2, "kr", 2)) &&
                           !(t >= 3 && !strncmp(line + t - 3, "mio", 3))))
                t++;
        if (t < hi)
                t++;
        else
                while (t < len && t > e && ((unsigned char)line[t] & 0xC0) == 0x80)
                        t--; /* cut at hi: not inside a character */
        return json_stringn_nocheck(line + s, t - s);
}

/* Whether the text before a "kr" at q ends like an amount ("120.576 ",
 * "1,2 mio. "), so the full pattern is worth running. */
static int amount_before(const char *line, size_t q) {
        size_t i = q;
        while (i > 0 && line[i - 1] == ' ')
                i--;
        if (i > 0 && line[i - 1] >= '0' && line[i - 1] <= '9')
                return 1;
        while (i > 0 && ((line[i - 1] >= 'a' && line[i - 1] <= 'z') || line[i - 1] == '.'))
                i--;
        if (q - i < 3 || (line[i] != 'm'))
                return 0;
        while (i > 0 && line[i - 1] == ' ')
                i--;
        return i > 0 && line[i - 1] >= '0' && line[i - 1] <= '9';
}

int mm_classify_amounts(const mm_classify_t *c, mm_rx_match_t *m, const char *line, size_t len,
                        json_t *out) {
        size_t pos = 0, q = 0;
        int n = 0;

        const char *dkk = mm_str_find(line, len, "DKK", 3);
        while (q < len) {
                const char *k = mm_str_find(line + q, len - q, "kr", 2);
                if (dkk && (size_t)(dkk - line) < q)
                        dkk = mm_str_find(line + q, len - q, "DKK", 3);
                if (!k || (dkk && dkk < k))
                        k = dkk;
                if (!k)
                        break;
                q = (size_t)(k - line);
                if (!amount_before(line, q)) {
                        q += 2;
                        continue;
                }
                /* Run the pattern over a short window ending at this "kr". */
                size_t from = q > 40 ? q - 40 : 0;
                if (from < pos)
                        from = pos;
                size_t b, e;
                while (from < len && mm_rx_exec(c->amount, m, line, len, from) &&
                       !mm_rx_group(m, 0, &b, &e) && e <= q) {
                        from = e;
                }
                if (mm_rx_group(m, 0, &b, &e) || b > q + 3 || e < q) {
                        q += 2;
                        continue;
                }
                {
                        size_t nb, ne, db, de, mb, me;
                        double v = 0;
                        mm_rx_named(c->amount, m, "num", &nb, &ne);
                        for (size_t i = nb; i < ne; i++)
                                if (line[i] >= '0' && line[i] <= '9')
                                        v = v * 10 + (line[i] - '0');
                        if (!mm_rx_named(c->amount, m, "dec", &db, &de)) {
                                double f = 0.1;
                                for (size_t i = db; i < de; i++, f /= 10)
                                        v += (line[i] - '0') * f;
                        }
                        if (!mm_rx_named(c->amount, m, "mult", &mb, &me) && me > mb) {
                                if (line[mb + 1] == 'i' && line[mb + 2] == 'o')
                                        v *= 1e6; /* mio / millioner / million */
                                else
                                        v *= 1e9;
                        }
                        json_t *a = json_object();
                        json_object_set_new_nocheck(a, "value",
                                                    json_integer((json_int_t)llround(v)));
                        json_object_set_new_nocheck(a, "text",
                                                    json_stringn_nocheck(line + b, e - b));
                        json_object_set_new_nocheck(a, "sentence",
                                                    sentence_around(line, len, b, e));
                        json_array_append_new(out, a);
                        n++;
                }
                pos = e;
                q = e > q + 2 ? e : q + 2;
        }
        return n;
}

int mm_classify_laws(const mm_classify_t *c, mm_rx_match_t *m, const char *line, size_t len,
                     json_t *out) {
        size_t spans[32][2];
        int n = 0, nspans = 0;

        if (!mm_str_find(line, len, "\xc2\xa7", 2))
                return 0;
        for (size_t r = 0; r < c->nlaws; r++) {
                size_t pos = 0;
                while (pos < len && mm_rx_exec(c->laws[r], m, line, len, pos)) {
                        size_t b, e, lb, le, pb, pe;
                        int dup = 0;
                        mm_rx_group(m, 0, &b, &e);
                        /* A later, looser pattern must not report a span an
                         * earlier one already did. */
                        for (int k = 0; k < nspans; k++)
                                if (b < spans[k][1] && e > spans[k][0])
                                        dup = 1;
                        if (!dup && !mm_rx_named(c->laws[r], m, "law", &lb, &le) &&
                            !mm_rx_named(c->laws[r], m, "para", &pb, &pe)) {
                                json_t *l = json_object();
                                json_object_set_new_nocheck(l, "text",
                                                            json_stringn_nocheck(line + b, e - b));
                                json_object_set_new_nocheck(
                                        l, "law", json_stringn_nocheck(line + lb, le - lb));
                                json_object_set_new_nocheck(
                                        l, "paragraph", json_stringn_nocheck(line + pb, pe - pb));
                                json_array_append_new(out, l);
                                n++;
                                if (nspans < 32) {
                                        spans[nspans][0] = b;
                                        spans[nspans][1] = e;
                                        nspans++;
                                }
                        }
                        pos = e > pos ? e : pos + 1;
                }
        }
        return n;
}

json_t *mm_classify_kle(const mm_classify_t *c, const char *cn) {
        if (!cn || strlen(cn) < 8 || cn[2] != '.' || cn[5] != '.')
                return NULL;
        for (int i = 0; i < 8; i++)
                if (i != 2 && i != 5 && (cn[i] < '0' || cn[i] > '9'))
                        return NULL;
        for (size_t r = 0; r < mm_table_rows(c->t_kle); r++) {
                const char *code = mm_table_get(c->t_kle, r, 0);
                if (!strncmp(code, cn, 2)) {
                        json_t *k = json_object();
                        json_object_set_new_nocheck(k, "code", json_stringn_nocheck(cn, 8));
                        json_object_set_new_nocheck(k, "main_group", json_stringn_nocheck(cn, 2));
                        json_object_set_new_nocheck(
                                k, "main_group_name",
                                json_string_nocheck(mm_table_get(c->t_kle, r, 1)));
                        return k;
                }
        }
        return NULL;
}

const char *mm_classify_kommune(const mm_classify_t *c, const char *name, size_t len) {
        for (int pass = 0; pass < 2; pass++) {
                size_t l = len;
                /* "Københavns", "Hedensteds" */
                if (pass == 1) {
                        if (l < 2 || name[l - 1] != 's')
                                break;
                        l--;
                }
                for (size_t r = 0; r < mm_table_rows(c->t_kommuner); r++) {
                        const char *k = mm_table_get(c->t_kommuner, r, 0);
                        const char *d = mm_table_get(c->t_kommuner, r, 2);
                        const char *a = mm_table_get(c->t_kommuner, r, 3);
                        if ((strlen(k) == l && !strncasecmp(k, name, l)) ||
                            (strlen(d) == l && !strncasecmp(d, name, l)))
                                return mm_table_get(c->t_kommuner, r, 1);
                        /* older spellings: "Århus", "Ålborg" */
                        for (const char *q = a; *q;) {
                                const char *comma = strchr(q, ',');
                                size_t al = comma ? (size_t)(comma - q) : strlen(q);
                                if (al == l && !strncmp(q, name, l))
                                        return mm_table_get(c->t_kommuner, r, 1);
                                q += al + (comma ? 1 : 0);
                        }
                }
        }
        return NULL;
}

static int word_char(unsigned char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
               ch == '-' || ch >= 0x80;
}

/* Lines of text read for bare kommune names. */
#define MM_BARE_SPAN 65536

/* Without "X Kommune" or a web domain: the kommune whose name stands alone
 * as a word ("Varde Bibliotek", "Næstved Stadion") at least twice in the
 * start of the text, and more often than any other. count has a slot per
 * kommune, all zero. */
static const char *bare_names(const mm_classify_t *c, const char *text, size_t len, int *count) {
        size_t nk = mm_table_rows(c->t_kommuner), span = len < MM_BARE_SPAN ? len : MM_BARE_SPAN;
        const char *best = NULL;
        int bestn = 1, tie = 0;
        for (size_t r = 0; r < nk; r++) {
                const char *k = mm_table_get(c->t_kommuner, r, 0);
                size_t kl = strlen(k);
                for (const char *p = text, *e = text + span;
                     (p = mm_str_find(p, (size_t)(e - p), k, kl)) != NULL; p += kl)
                        if ((p == text || !word_char((unsigned char)p[-1])) &&
                            (p + kl >= e || !word_char((unsigned char)p[kl])))
                                count[r]++;
                if (count[r] > bestn) {
                        bestn = count[r];
                        best = mm_table_get(c->t_kommuner, r, 1);
                        tie = 0;
                } else if (count[r] == bestn) {
                        tie = 1;
                }
        }
        return tie ? NULL : best;
}

/* "TÅRNBY KOMMUNE" (a heading in capitals): the first such name. */
static const char *upper_names(const mm_classify_t *c, const char *text, size_t len) {
        for (const char *p = text, *e = text + len;
             (p = mm_str_find(p, (size_t)(e - p), " KOMMUNE", 8)) != NULL; p += 8) {
                const char *nb = p;
                while (nb > text && word_char((unsigned char)nb[-1]))
                        nb--;
                char w[64];
                size_t n = 0;
                for (const char *q = nb; q < p && n + 1 < sizeof(w); q++) {
                        unsigned char ch = (unsigned char)*q;
                        /* Æ Ø Å (and the other Latin-1 capitals) after 0xC3 */
                        w[n++] = (char)(q > nb && (unsigned char)q[-1] == 0xc3 && ch >= 0x80 &&
                                                        ch < 0xa0
                                                ? ch + 0x20
                                                : (q == nb ? ch : tolower(ch)));
                }
                const char *off = n ? mm_classify_kommune(c, w, n) : NULL;
                if (off)
                        return off;
        }
        return NULL;
}

const char *mm_classify_infer_kommune(const mm_classify_t *c, const char *text, size_t len) {
        size_t nk = mm_table_rows(c->t_kommuner);
        int *count = calloc(nk ? nk : 1, sizeof(int));
        const char *best = NULL;
        int bestn = 0;

        if (!count)
                return NULL;
        /* "<Name> Kommune", "<Name>s Kommune", "<Name> Regionskommune" */
        for (const char *p = text, *e = text + len;
             (p = mm_str_find(p, (size_t)(e - p), "ommune", 6)) != NULL; p += 6) {
                const char *ws = p;
                while (ws > text && word_char((unsigned char)ws[-1]))
                        ws--;
                /* the word holding "ommune" must be (K|k|Regionsk)ommune */
                size_t pl = (size_t)(p - ws);
                if (!((pl == 1 && (*ws == 'K' || *ws == 'k')) ||
                      (pl == 8 && !strncmp(ws, "Regionsk", 8))))
                        continue;
                /* "Hvidovre Kommunes borgerrådgiver": the genitive too */
                size_t after = p + 7 < e && p[6] == 's' ? 7 : 6;
                if (p + after < e && word_char((unsigned char)p[after]))
                        continue;
                const char *we = ws;
                while (we > text && (we[-1] == ' ' || we[-1] == '\t'))
                        we--;
                const char *nb = we;
                while (nb > text && word_char((unsigned char)nb[-1]))
                        nb--;
                if (nb == we)
                        continue;
                const char *off = mm_classify_kommune(c, nb, (size_t)(we - nb));
                if (!off)
                        continue;
                for (size_t r = 0; r < nk; r++)
                        if (mm_table_get(c->t_kommuner, r, 1) == off)
                                count[r]++;
        }
        /* web domains: hedensted.dk, www.randers.dk */
        for (const char *p = text, *e = text + len;
             (p = mm_str_find(p, (size_t)(e - p), ".dk", 3)) != NULL; p += 3) {
                if (p + 3 < e && word_char((unsigned char)p[3]))
                        continue;
                const char *nb = p;
                while (nb > text && word_char((unsigned char)nb[-1]))
                        nb--;
                for (size_t r = 0; r < nk; r++) {
                        const char *d = mm_table_get(c->t_kommuner, r, 2);
                        size_t dl = strlen(d);
                        if ((size_t)(p + 3 - nb) == dl && !strncasecmp(nb, d, dl))
                                count[r]++;
                }
        }
        for (size_t r = 0; r < nk; r++)
                if (count[r] > bestn) {
                        bestn = count[r];
                        best = mm_table_get(c->t_kommuner, r, 1);
                }
        if (!best)
                best = upper_names(c, text, len);
        if (!best)
                best = bare_names(c, text, len, count);
        free(count);
        return best;
}
