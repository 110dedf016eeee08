#include "mm_votes.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm_buf.h"
#include "mm_cues.h"
#include "mm_log.h"
#include "mm_pass.h"
#include "mm_rx.h"
#include "mm_table.h"

/* The sides of a vote, and the reservations, in the order of votes.tsv's
 * side column. */
enum { S_FOR, S_AGAINST, S_ABSTAIN, S_RESERVE, S_NSIDES };
static const char *const side_names[] = {"for", "against", "abstain", "reserve", NULL};
static const char *const side_keys[] = {"for", "against", "abstain"};

enum { K_COUNT, K_LABEL, K_VERB, K_MOTION, K_SKIP, K_RESULT, K_NOTNAME, K_LEAD, K_NEXT, K_NKINDS };
static const char *const kind_names[] = {"count",  "label",   "verb", "motion", "skip",
                                         "result", "notname", "lead", "next",   NULL};

typedef struct rule_s {
        mm_rx_t *rx;
        int side;      /* S_* for labels and verbs; 1 adopted / 0 rejected for results */
        uint64_t need; /* its cue words (mm_cues), 0 for none */
} rule_t;

typedef struct rules_s {
        rule_t *r;
        size_t n;
} rules_t;

struct mm_votes_s {
        rules_t k[K_NKINDS];
        rules_t history; /* data/history.tsv: a quoted earlier decision */
        char **numword;  /* number words, folded, and their values */
        long *numval;
        size_t nnum;
        mm_rx_t **party; /* data/parties.tsv, each anchored to a whole entry */
        char **letter;
        size_t nparty;
        mm_rx_t *el_fwd, *el_bwd; /* one list entry at the start / end of a span */
        mm_rx_t *num_at;          /* a count at the start of a span */
        mm_rx_t *local;           /* a local list's printed name */
        mm_cues_t *cues;          /* the cue words of the rules */
        int all;                  /* no pre-filter: every rule on every clause */
};

/* Largest number of vote events and reservations kept per item: a
 * pathological decision cannot make an event of every line. */
#define MM_VOTES_MAX_EVENTS 32
/* Only the first MM_VOTES_MAX_TEXT bytes of a decision are read, and a
 * clause longer than MM_VOTES_MAX_CLAUSE is no vote sentence: each clause
 * is searched once per verb found in it, so its length bounds the work. */
#define MM_VOTES_MAX_TEXT   (64u * 1024u)
#define MM_VOTES_MAX_CLAUSE 2048u

/* ------------------------------------------------------------------ */
/* Construction                                                         */

static int side_of(const char *s) {
        for (int i = 0; side_names[i]; i++)
                if (!strcmp(side_names[i], s))
                        return i;
        return -1;
}

static int kind_of(const char *s) {
        for (int i = 0; kind_names[i]; i++)
                if (!strcmp(kind_names[i], s))
                        return i;
        return -1;
}

/* The number alternation that replaces {N} in the count patterns. */
static int number_alt(const mm_votes_t *v, mm_buf_t *out) {
        mm_buf_puts(out, "(?:\\d{1,3}(?!\\d)|(?:");
        for (size_t i = 0; i < v->nnum; i++) {
                if (i)
                        mm_buf_putc(out, '|');
                mm_buf_puts(out, v->numword[i]);
        }
        mm_buf_puts(out, ")(?![\\p{L}]))");
        return mm_buf_failed(out) ? -1 : 0;
}

char *mm_votes_expand(const char *pattern, const char *num) {
        mm_buf_t b = MM_BUF_INIT;
        char *out = NULL;
        for (const char *s = pattern; *s;) {
                const char *q = strstr(s, "{N}");
                size_t n = q ? (size_t)(q - s) : strlen(s);
                mm_buf_append(&b, s, n);
                if (!q)
                        break;
                mm_buf_puts(&b, num);
                s = q + 3;
        }
        if (mm_buf_take(&b, &out, NULL))
                out = NULL;
        mm_buf_release(&b);
        return out;
}

static int add_rule(rules_t *rs, const char *pattern, int side, uint64_t need, char *errstr,
                    size_t errstr_size) {
        rule_t *r = realloc(rs->r, (rs->n + 1) * sizeof(*r));
        if (!r) {
                snprintf(errstr, errstr_size, "out of memory");
                return -1;
        }
        rs->r = r;
        r[rs->n].side = side;
        r[rs->n].need = need;
        if (!(r[rs->n].rx = mm_rx_new(pattern, MM_RX_CASELESS, errstr, errstr_size)))
                return -1;
        rs->n++;
        return 0;
}

static int load_numbers(mm_votes_t *v, const mm_table_t *t, char *errstr, size_t errstr_size) {
        size_t rows = mm_table_rows(t);
        v->numword = calloc(rows + 1, sizeof(char *));
        v->numval = calloc(rows + 1, sizeof(long));
        if (!v->numword || !v->numval) {
                snprintf(errstr, errstr_size, "out of memory");
                return -1;
        }
        for (size_t i = 0; i < rows; i++) {
                if (strcmp(mm_table_get(t, i, 0), "number"))
                        continue;
                /* Each word is its own alternative of the {N} pattern. */
                const char *w = mm_table_get(t, i, 2);
                char buf[64];
                for (const char *s = w; *s;) {
                        const char *bar = strchr(s, '|');
                        size_t n = bar ? (size_t)(bar - s) : strlen(s);
                        size_t f = mm_pass_fold(s, n, buf, sizeof(buf));
                        char **nw = realloc(v->numword, (v->nnum + 2) * sizeof(char *));
                        long *nv = realloc(v->numval, (v->nnum + 2) * sizeof(long));
                        if (nw)
                                v->numword = nw;
                        if (nv)
                                v->numval = nv;
                        if (!nw || !nv || !(v->numword[v->nnum] = mm_pass_strndup(buf, f))) {
                                snprintf(errstr, errstr_size, "out of memory");
                                return -1;
                        }
                        v->numval[v->nnum++] = atol(mm_table_get(t, i, 1));
                        s = bar ? bar + 1 : s + n;
                }
        }
        return 0;
}

static int load_rules(mm_votes_t *v, const mm_table_t *t, const char *num, char *errstr,
                      size_t errstr_size) {
        for (size_t i = 0; i < mm_table_rows(t); i++) {
                const char *kn = mm_table_get(t, i, 0), *sn = mm_table_get(t, i, 1);
                if (!strcmp(kn, "number"))
                        continue;
                int k = kind_of(kn);
                int side = k == K_RESULT ? !strcmp(sn, "adopted") : side_of(sn);
                if (k < 0 || ((k == K_LABEL || k == K_VERB) && side < 0)) {
                        snprintf(errstr, errstr_size, "votes table: bad row %zu (%s, %s)", i + 1,
                                 kn, sn);
                        return -1;
                }
                uint64_t need;
                if (mm_cues_add(v->cues, mm_table_get(t, i, 3), mm_table_get(t, i, 2), &need,
                                errstr, errstr_size))
                        return -1;
                char *pat = mm_votes_expand(mm_table_get(t, i, 2), num);
                int rc = pat ? add_rule(&v->k[k], pat, side, need, errstr, errstr_size) : -1;
                free(pat);
                if (rc)
                        return -1;
        }
        return 0;
}

static int load_all(mm_votes_t *v, char *errstr, size_t errstr_size) {
        mm_table_t *t = mm_table_load("votes", 3, errstr, errstr_size);
        mm_table_t *h = t ? mm_table_load("history", 1, errstr, errstr_size) : NULL;
        mm_buf_t num = MM_BUF_INIT;
        int rc = -1;
        if (!h)
                goto out;
        if (!(v->cues = mm_cues_new())) {
                snprintf(errstr, errstr_size, "out of memory");
                goto out;
        }
        if (load_numbers(v, t, errstr, errstr_size) || number_alt(v, &num) ||
            load_rules(v, t, mm_buf_cstr(&num), errstr, errstr_size) ||
            mm_votes_parties(&v->party, &v->letter, &v->nparty, errstr, errstr_size) ||
            mm_votes_entry_patterns(&v->el_fwd, &v->el_bwd, errstr, errstr_size))
                goto out;
        for (size_t i = 0; i < mm_table_rows(h); i++) {
                uint64_t need;
                if (mm_cues_add(v->cues, mm_table_get(h, i, 1), mm_table_get(h, i, 0), &need,
                                errstr, errstr_size) ||
                    add_rule(&v->history, mm_table_get(h, i, 0), 0, need, errstr, errstr_size))
                        goto out;
        }
        char *pat = mm_votes_expand("^\\s*(?<n>{N})\\s*(?=[:(]|stemmer|medlemmer|$)\\s*:?", num.p);
        v->num_at = pat ? mm_rx_new(pat, MM_RX_CASELESS, errstr, errstr_size) : NULL;
        free(pat);
        v->local = mm_rx_new("^(?:liste\\s+(?<l>\\p{Lu}{1,2})|(?-i:(?<c>\\p{Lu}{1,4}(?:-?\\d)?))|"
                             "(?<n>\\p{Lu}\\p{Ll}+listen))(?:'s)?[\\s.]*$",
                             MM_RX_CASELESS, errstr, errstr_size);
        rc = v->num_at && v->local ? 0 : -1;
out:
        mm_buf_release(&num);
        mm_table_destroy(t);
        mm_table_destroy(h);
        return rc;
}

mm_votes_t *mm_votes_new(char *errstr, size_t errstr_size) {
        mm_votes_t *v = calloc(1, sizeof(*v));
        if (!v) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        if (load_all(v, errstr, errstr_size)) {
                mm_votes_destroy(v);
                return NULL;
        }
        return v;
}

static void free_rules(rules_t *rs) {
        for (size_t i = 0; i < rs->n; i++)
                mm_rx_destroy(rs->r[i].rx);
        free(rs->r);
}

void mm_votes_destroy(mm_votes_t *v) {
        if (!v)
                return;
        for (int k = 0; k < K_NKINDS; k++)
                free_rules(&v->k[k]);
        free_rules(&v->history);
        for (size_t i = 0; v->numword && i < v->nnum; i++)
                free(v->numword[i]);
        for (size_t i = 0; i < v->nparty; i++) {
                mm_rx_destroy(v->party[i]);
                free(v->letter[i]);
        }
        free(v->numword);
        free(v->numval);
        free(v->party);
        free(v->letter);
        mm_rx_destroy(v->el_fwd);
        mm_rx_destroy(v->el_bwd);
        mm_rx_destroy(v->num_at);
        mm_rx_destroy(v->local);
        mm_cues_destroy(v->cues);
        free(v);
}

void mm_votes_set_prefilter(mm_votes_t *v, int on) {
        v->all = !on;
}

static mm_votes_t *g_votes;
static pthread_once_t g_votes_once = PTHREAD_ONCE_INIT;

static void shared_init(void) {
        char err[256];
        if (!(g_votes = mm_votes_new(err, sizeof(err))))
                mm_log(MM_LOG_ERROR, "votes tables: %s", err);
}

const mm_votes_t *mm_votes_shared(void) {
        pthread_once(&g_votes_once, shared_init);
        return g_votes;
}

/* ------------------------------------------------------------------ */
/* Extraction                                                           */

/* One vote event while the decision is read. */
typedef struct ev_s {
        json_t *obj;     /* the event (NULL when none is open) */
        json_t *side[3]; /* its for, against and abstain objects (borrowed) */
        int counted;     /* a count sentence gave its counts */
        int labelled[3]; /* a "For stemte:" list gave this side */
        int any;         /* it holds a count, a party or a member */
} ev_t;

typedef struct st_s {
        const mm_votes_t *v;
        mm_rx_match_t *m;
        json_t *votes, *res;
        ev_t cur;
        uint64_t cues; /* the cue words of the clause (or line) being read */
        int oom;
} st_t;

/* Runs a rule unless the clause lacks every cue word the rule needs. */
static int rule_exec(const st_t *st, const rule_t *r, const char *s, size_t n, size_t from) {
        return mm_cues_may(r->need, st->cues) && mm_rx_exec(r->rx, st->m, s, n, from);
}

/* Sets the cue words of s[0..n), the text the next rules see. */
static void cues_of(st_t *st, const char *s, size_t n) {
        st->cues = st->v->all ? ~0ull : mm_cues_find(st->v->cues, s, n);
}

static json_t *new_side(void) {
        json_t *o = json_object();
        if (o) {
                json_object_set_new_nocheck(o, "count", json_null());
                json_object_set_new_nocheck(o, "parties", json_array());
                json_object_set_new_nocheck(o, "members", json_array());
        }
        return o;
}

/* Closes the open event: kept when it holds something. */
static void ev_close(st_t *st) {
        ev_t *e = &st->cur;
        if (e->obj && e->any && json_array_size(st->votes) < MM_VOTES_MAX_EVENTS)
                json_array_append(st->votes, e->obj);
        json_decref(e->obj);
        memset(e, 0, sizeof(*e));
}

/* Opens a new event (closing the one before). */
static void ev_open(st_t *st) {
        ev_close(st);
        ev_t *e = &st->cur;
        e->obj = json_object();
        if (!e->obj) {
                st->oom = 1;
                return;
        }
        json_object_set_new_nocheck(e->obj, "motion", json_null());
        json_object_set_new_nocheck(e->obj, "result", json_null());
        for (int s = 0; s < 3; s++) {
                e->side[s] = new_side();
                if (!e->side[s])
                        st->oom = 1;
                json_object_set_new_nocheck(e->obj, side_keys[s], e->side[s]);
        }
}

static ev_t *ev_cur(st_t *st) {
        if (!st->cur.obj)
                ev_open(st);
        return &st->cur;
}

/* Appends s[0..n) to the array `a` unless it is there already. */
static void add_unique(json_t *a, const char *s, size_t n) {
        for (size_t i = 0; i < json_array_size(a); i++) {
                const char *x = json_string_value(json_array_get(a, i));
                if (strlen(x) == n && !memcmp(x, s, n))
                        return;
        }
        json_array_append_new(a, json_stringn(s, n));
}

static int is_blank(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Trims blanks and the punctuation that ends a list entry. */
static void trim(const char **s, size_t *n) {
        while (*n && (is_blank(**s) || **s == ',' || **s == ':' || **s == ';'))
                (*s)++, (*n)--;
        while (*n && (is_blank((*s)[*n - 1]) || strchr(".,:;", (*s)[*n - 1])))
                (*n)--;
}

/* The party letter, or the local list as printed, that s[0..n) names;
 * written to out. Returns 0, or -1 when it names no party. */
static int resolve_party(const st_t *st, const char *s, size_t n, char *out, size_t cap) {
        const mm_votes_t *v = st->v;
        size_t b, e;
        trim(&s, &n);
        if (!n || n >= cap)
                return -1;
        for (size_t i = 0; i < v->nparty; i++)
                if (mm_rx_exec(v->party[i], st->m, s, n, 0)) {
                        snprintf(out, cap, "%s", v->letter[i]);
                        return 0;
                }
        if (!mm_rx_exec(v->local, st->m, s, n, 0))
                return -1;
        if (mm_rx_named(v->local, st->m, "l", &b, &e) &&
            mm_rx_named(v->local, st->m, "c", &b, &e) && mm_rx_named(v->local, st->m, "n", &b, &e))
                return -1;
        snprintf(out, cap, "%.*s", (int)(e - b), s + b);
        return 0;
}

/* A run of capitalised words that names a body ("Greve Byråd"), not a
 * member. */
static int not_a_name(const st_t *st, const char *s, size_t n) {
        for (size_t i = 0; i < st->v->k[K_NOTNAME].n; i++)
                if (mm_rx_exec(st->v->k[K_NOTNAME].r[i].rx, st->m, s, n, 0))
                        return 1;
        return 0;
}

/* Reads one list entry s[0..n) from its start (fwd) or its end. Adds the
 * party or member to the arrays; returns 2 when the entry was read whole,
 * 1 when text before (or after) it is left over, 0 when it is no entry. */
static int entry(st_t *st, const char *s, size_t n, int fwd, json_t *parties, json_t *members) {
        const mm_votes_t *v = st->v;
        const mm_rx_t *rx = fwd ? v->el_fwd : v->el_bwd;
        size_t mb, me, b, e;
        char party[64];
        trim(&s, &n);
        if (!n || !mm_rx_exec(rx, st->m, s, n, 0) || mm_rx_group(st->m, 0, &mb, &me))
                return 0;
        int whole = fwd ? me >= n : mb == 0;
        if (!mm_rx_named(rx, st->m, "name", &b, &e)) {
                add_unique(members, s + b, e - b);
        } else if (!mm_rx_named(rx, st->m, "pp", &b, &e) || !mm_rx_named(rx, st->m, "pw", &b, &e)) {
                if (resolve_party(st, s + b, e - b, party, sizeof(party)))
                        return 0;
                add_unique(parties, party, strlen(party));
        } else if (!mm_rx_named(rx, st->m, "bare", &b, &e)) {
                if (not_a_name(st, s + b, e - b))
                        return 0;
                add_unique(members, s + b, e - b);
        } else {
                return 0;
        }
        return whole ? 2 : 1;
}

/* Separators of list entries at bracket depth 0: ",", " og ", " samt ",
 * " & ", " + ". Fills spans (begin, end) and returns their number. */
static size_t split_entries(const char *s, size_t n, size_t (*sp)[2], size_t cap) {
        size_t k = 0, from = 0;
        int depth = 0;
        for (size_t i = 0; i < n && k + 1 < cap; i++) {
                size_t skip = 0;
                if (s[i] == '(')
                        depth++;
                else if (s[i] == ')' && depth)
                        depth--;
                if (depth)
                        continue;
                if (s[i] == ',')
                        skip = 1;
                else if (s[i] == ' ' && (!strncmp(s + i, " og ", 4) || !strncmp(s + i, " & ", 3) ||
                                         !strncmp(s + i, " + ", 3)))
                        skip = s[i + 1] == 'o' ? 4 : 3;
                else if (s[i] == ' ' && !strncmp(s + i, " samt ", 6))
                        skip = 6;
                if (!skip)
                        continue;
                sp[k][0] = from;
                sp[k++][1] = i;
                from = i + skip;
                i += skip - 1;
        }
        sp[k][0] = from;
        sp[k++][1] = n;
        return k;
}

/* Reads the list s[0..n) into the arrays: from its start (fwd: after a
 * label) or from its end (before a verb), up to the first entry that is
 * none. Returns the number of entries read. */
static int read_list(st_t *st, const char *s, size_t n, int fwd, json_t *parties, json_t *members) {
        size_t sp[64][2];
        size_t k = split_entries(s, n, sp, 64);
        int got = 0;
        /* Read from the end, entries are kept in text order all the same. */
        json_t *tp = fwd ? parties : json_array(), *tm = fwd ? members : json_array();
        for (size_t q = 0; q < k && tp && tm; q++) {
                size_t i = fwd ? q : k - 1 - q;
                const char *e = s + sp[i][0];
                size_t en = sp[i][1] - sp[i][0];
                trim(&e, &en);
                if (!en)
                        continue;
                int r = entry(st, e, en, fwd, tp, tm);
                got += r > 0;
                if (r < 2)
                        break;
        }
        if (!fwd) {
                for (size_t i = json_array_size(tp); i-- > 0;)
                        add_unique(parties, json_string_value(json_array_get(tp, i)),
                                   json_string_length(json_array_get(tp, i)));
                for (size_t i = json_array_size(tm); i-- > 0;)
                        add_unique(members, json_string_value(json_array_get(tm, i)),
                                   json_string_length(json_array_get(tm, i)));
                json_decref(tp);
                json_decref(tm);
        }
        return got;
}

/* The value of the count s[0..n): digits or a number word. */
static long count_value(const mm_votes_t *v, const char *s, size_t n) {
        char buf[32];
        if (n && isdigit((unsigned char)s[0]))
                return mm_pass_number(s, n, 9999);
        size_t f = mm_pass_fold(s, n, buf, sizeof(buf));
        for (size_t i = 0; i < v->nnum; i++)
                if (strlen(v->numword[i]) == f && !memcmp(v->numword[i], buf, f))
                        return v->numval[i];
        return -1;
}

static void add_side(st_t *st, int side, json_t *parties, json_t *members, int labelled,
                     long count);

static void set_count(ev_t *e, int side, long c) {
        json_object_set_new_nocheck(e->side[side], "count", json_integer(c));
        e->any = 1;
}

/* "adopted" or "rejected" from the wording of the sentence, or NULL. */
static const char *clause_result(st_t *st, const char *s, size_t n) {
        const rules_t *rs = &st->v->k[K_RESULT];
        for (size_t i = 0; i < rs->n; i++)
                if (rule_exec(st, &rs->r[i], s, n, 0))
                        return rs->r[i].side ? "adopted" : "rejected";
        return NULL;
}

/* Does the clause say that a further vote follows ("Derefter ...")? */
static int clause_next(st_t *st, const char *s, size_t n) {
        for (size_t i = 0; i < st->v->k[K_NEXT].n; i++)
                if (rule_exec(st, &st->v->k[K_NEXT].r[i], s, n, 0))
                        return 1;
        return 0;
}

/* The lists a count rule gives in its groups forlist, againstlist and
 * abstainlist ("med 18 stemmer (A, B og F) mod 9 (V og C)"). */
static void count_lists(st_t *st, const char *s, size_t n) {
        static const char *const groups[] = {"forlist", "againstlist", "abstainlist"};
        const rules_t *rs = &st->v->k[K_COUNT];
        for (size_t i = 0; i < rs->n; i++) {
                size_t spans[3][2];
                int have = 0;
                if (!rule_exec(st, &rs->r[i], s, n, 0))
                        continue;
                for (int k = 0; k < 3; k++) {
                        spans[k][0] = spans[k][1] = 0;
                        if (!mm_rx_named(rs->r[i].rx, st->m, groups[k], &spans[k][0], &spans[k][1]))
                                have = 1;
                }
                for (int k = 0; have && k < 3; k++) {
                        json_t *ps = json_array(), *ms = json_array();
                        if (ps && ms && spans[k][1] > spans[k][0] &&
                            read_list(st, s + spans[k][0], spans[k][1] - spans[k][0], 1, ps, ms))
                                add_side(st, k, ps, ms, 0, -1);
                        json_decref(ps);
                        json_decref(ms);
                }
                if (have)
                        return;
        }
}

/* Counts of a sentence ("med 27 stemmer mod 3, 5 undlod at stemme"): a
 * second count sentence opens a new vote event. Returns 1 when there
 * were counts. */
static int clause_counts(st_t *st, const char *s, size_t n) {
        const rules_t *rs = &st->v->k[K_COUNT];
        long c[3] = {-1, -1, -1};
        int any = 0;
        for (size_t i = 0; i < rs->n; i++) {
                if (!rule_exec(st, &rs->r[i], s, n, 0))
                        continue;
                for (int k = 0; k < 3; k++) {
                        size_t b, e;
                        if (c[k] < 0 && !mm_rx_named(rs->r[i].rx, st->m, side_keys[k], &b, &e))
                                c[k] = count_value(st->v, s + b, e - b), any |= c[k] >= 0;
                }
        }
        if (!any)
                return 0;
        if (ev_cur(st)->counted || (st->cur.any && clause_next(st, s, n)))
                ev_open(st);
        ev_t *e = ev_cur(st);
        if (!e->obj)
                return 1;
        for (int k = 0; k < 3; k++)
                if (c[k] >= 0)
                        set_count(e, k, c[k]);
        e->counted = 1;
        count_lists(st, s, n);
        const char *r = clause_result(st, s, n);
        if (r)
                json_object_set_new_nocheck(e->obj, "result", json_string_nocheck(r));
        return 1;
}

/* A clause naming the motion of the next vote ("V's ændringsforslag")
 * opens a new event, unless it is the sentence of the counts itself. */
static void clause_motion(st_t *st, const char *s, size_t n, int counted) {
        const rules_t *rs = &st->v->k[K_MOTION];
        /* "Ændringsforslaget blev forkastet": the result of the vote just
         * read, not a new motion. */
        if (!counted && clause_result(st, s, n))
                return;
        for (size_t i = 0; i < rs->n; i++) {
                size_t b, e;
                if (!rule_exec(st, &rs->r[i], s, n, 0))
                        continue;
                if (!counted && st->cur.any)
                        ev_open(st);
                ev_t *ev = ev_cur(st);
                if (ev->obj && json_is_null(json_object_get(ev->obj, "motion")) &&
                    !mm_rx_named(rs->r[i].rx, st->m, "motion", &b, &e)) {
                        const char *ms = s + b;
                        size_t mn = e - b;
                        trim(&ms, &mn);
                        if (mn)
                                json_object_set_new_nocheck(ev->obj, "motion",
                                                            json_stringn(ms, mn < 160 ? mn : 160));
                }
                return;
        }
}

static void add_reservation(st_t *st, json_t *parties, json_t *members) {
        if ((json_array_size(parties) || json_array_size(members)) &&
            json_array_size(st->res) < MM_VOTES_MAX_EVENTS) {
                json_t *r = json_object();
                json_object_set_nocheck(r, "parties", parties);
                json_object_set_nocheck(r, "members", members);
                json_array_append_new(st->res, r);
        }
}

/* A list on one side: into the open event, or the reservations. */
static void add_side(st_t *st, int side, json_t *parties, json_t *members, int labelled,
                     long count) {
        if (side == S_RESERVE) {
                add_reservation(st, parties, members);
                return;
        }
        if (!json_array_size(parties) && !json_array_size(members) && count < 0)
                return;
        if (labelled && st->cur.labelled[side])
                ev_open(st);
        ev_t *e = ev_cur(st);
        if (!e->obj)
                return;
        if (count >= 0)
                set_count(e, side, count);
        json_t *ps = json_object_get(e->side[side], "parties");
        json_t *ms = json_object_get(e->side[side], "members");
        for (size_t i = 0; i < json_array_size(parties); i++)
                add_unique(ps, json_string_value(json_array_get(parties, i)),
                           json_string_length(json_array_get(parties, i)));
        for (size_t i = 0; i < json_array_size(members); i++)
                add_unique(ms, json_string_value(json_array_get(members, i)),
                           json_string_length(json_array_get(members, i)));
        e->labelled[side] |= labelled;
        e->any = 1;
}

/* "For stemte: A, C og V", "Undlod: 2 (Ø)", "Et flertal bestående af B
 * og F ...": the list after a label at the clause start. Returns 1 when
 * the clause had a label. */
static int clause_label(st_t *st, const char *s, size_t n) {
        const rules_t *rs = &st->v->k[K_LABEL];
        size_t b, e, nb, ne;
        for (size_t i = 0; i < rs->n; i++) {
                if (!rule_exec(st, &rs->r[i], s, n, 0) || mm_rx_group(st->m, 0, &b, &e))
                        continue;
                const char *r = s + e;
                size_t rn = n - e;
                long count = -1;
                if (mm_rx_exec(st->v->num_at, st->m, r, rn, 0) &&
                    !mm_rx_named(st->v->num_at, st->m, "n", &nb, &ne)) {
                        count = count_value(st->v, r + nb, ne - nb);
                        mm_rx_group(st->m, 0, &nb, &ne);
                        r += ne;
                        rn -= ne;
                }
                while (rn && is_blank(*r))
                        r++, rn--;
                if (rn && *r == '(') {
                        /* "For: 17 (Anne Hansen (A), ...)" */
                        size_t k = 1;
                        for (int depth = 1; k < rn && depth; k++)
                                depth += r[k] == '(' ? 1 : r[k] == ')' ? -1 : 0;
                        if (k > 2 && r[k - 1] == ')' && memchr(r + 1, '(', k - 2)) {
                                r++;
                                rn = k - 2;
                        }
                }
                json_t *ps = json_array(), *ms = json_array();
                if (ps && ms) {
                        read_list(st, r, rn, 1, ps, ms);
                        add_side(st, rs->r[i].side, ps, ms, 1, count);
                }
                json_decref(ps);
                json_decref(ms);
                return 1;
        }
        return 0;
}

/* The earliest verb at or after `from`: its rule, or -1. */
static int next_verb(st_t *st, const char *s, size_t n, size_t from, size_t *vb, size_t *ve) {
        const rules_t *rs = &st->v->k[K_VERB];
        int best = -1;
        for (size_t i = 0; i < rs->n; i++) {
                size_t b, e;
                if (!rule_exec(st, &rs->r[i], s, n, from) || mm_rx_group(st->m, 0, &b, &e))
                        continue;
                if (best < 0 || b < *vb || (b == *vb && e > *ve)) {
                        best = (int)i;
                        *vb = b;
                        *ve = e;
                }
        }
        return best;
}

/* "O og Ø stemte imod", "V stemmer for og A undlader": the list before
 * each verb. */
/* Is s[0..n) only "og" or punctuation: the same subject goes on ("Ø
 * stemte imod og tog forbehold")? */
static int same_subject(const char *s, size_t n) {
        trim(&s, &n);
        return !n || (n == 2 && !memcmp(s, "og", 2));
}

static int clause_verbs(st_t *st, const char *s, size_t n) {
        size_t from = 0, vb = 0, ve = 0;
        int r, lists = 0;
        json_t *ps = NULL, *ms = NULL;
        while (from < n && (r = next_verb(st, s, n, from, &vb, &ve)) >= 0) {
                int go = 0;
                if (ps && same_subject(s + from, vb - from)) {
                        go = 1; /* the list of the verb before */
                } else {
                        json_decref(ps);
                        json_decref(ms);
                        ps = json_array();
                        ms = json_array();
                        go = ps && ms && read_list(st, s + from, vb - from, 0, ps, ms);
                        if (!go) {
                                json_decref(ps);
                                json_decref(ms);
                                ps = ms = NULL;
                        }
                }
                if (go && ++lists)
                        add_side(st, st->v->k[K_VERB].r[r].side, ps, ms, 0, -1);
                from = ve > from ? ve : from + 1;
        }
        json_decref(ps);
        json_decref(ms);
        return lists;
}

/* "Ad punkt 2, imod: F": a vote on a part of the decision is a vote event
 * of its own, whose motion is the part; the clause is read past it. */
static void lead(st_t *st, const char **s, size_t *n, int counted) {
        const rules_t *rs = &st->v->k[K_LEAD];
        size_t b, e;
        for (size_t i = 0; i < rs->n; i++) {
                if (!rule_exec(st, &rs->r[i], *s, *n, 0) || mm_rx_group(st->m, 0, &b, &e) ||
                    e >= *n)
                        continue;
                if (!counted && st->cur.any)
                        ev_open(st);
                ev_t *ev = ev_cur(st);
                const char *ms = *s;
                size_t mn = e;
                trim(&ms, &mn);
                if (ev->obj && mn && json_is_null(json_object_get(ev->obj, "motion")))
                        json_object_set_new_nocheck(ev->obj, "motion", json_stringn(ms, mn));
                *s += e;
                *n -= e;
                return;
        }
}

static void clause(st_t *st, const char *s, size_t n) {
        trim(&s, &n);
        if (!n || n > MM_VOTES_MAX_CLAUSE)
                return;
        cues_of(st, s, n);
        for (size_t i = 0; i < st->v->k[K_SKIP].n; i++)
                if (rule_exec(st, &st->v->k[K_SKIP].r[i], s, n, 0))
                        return;
        int counted = clause_counts(st, s, n);
        clause_motion(st, s, n, counted);
        lead(st, &s, &n, counted);
        /* "Et mindretal (Ø og F) tog forbehold": a reservation, not a vote */
        size_t vb = 0, ve = 0;
        int r = next_verb(st, s, n, 0, &vb, &ve);
        int reserve = r >= 0 && st->v->k[K_VERB].r[r].side == S_RESERVE;
        if ((reserve || !clause_label(st, s, n)) && !clause_verbs(st, s, n) && !counted &&
            st->cur.any && json_is_null(json_object_get(st->cur.obj, "result"))) {
                /* "Ændringsforslaget blev forkastet." after its lists */
                const char *r = clause_result(st, s, n);
                if (r)
                        json_object_set_new_nocheck(st->cur.obj, "result", json_string_nocheck(r));
        }
}

static int upper_at(const char *s, size_t n) {
        unsigned char c = (unsigned char)s[0];
        if ((c >= 'A' && c <= 'Z') || c == '(' || c == '"')
                return 1;
        /* Æ Ø Å É ... (U+00C0-U+00DE) */
        return c == 0xC3 && n > 1 && (unsigned char)s[1] >= 0x80 && (unsigned char)s[1] <= 0x9E;
}

/* Is the '.' at s[i] the end of a sentence? Not after an initial ("John
 * T. Olsen": one capital after a capitalised word), and only before a
 * capital or a bracket. */
static int sentence_end(const char *s, size_t n, size_t i) {
        size_t k = i + 1;
        if (k >= n || !is_blank(s[k]))
                return 0;
        while (k < n && is_blank(s[k]))
                k++;
        if (k >= n || !upper_at(s + k, n - k))
                return 0;
        if (i >= 1 && s[i - 1] >= 'A' && s[i - 1] <= 'Z' && (i == 1 || s[i - 2] == ' ')) {
                size_t w = i >= 2 ? i - 2 : 0;
                while (w > 0 && s[w - 1] != ' ')
                        w--;
                if (i >= 3 && upper_at(s + w, n - w) && s[w] != '(')
                        return 0;
        }
        return 1;
}

/* Splits a line into sentences and clauses (at ";" and ", mens"). */
static void line(st_t *st, const char *s, size_t n) {
        size_t from = 0;
        for (size_t i = 0; i <= n; i++) {
                int cut = i == n || s[i] == ';' ||
                          ((s[i] == '.' || s[i] == '!' || s[i] == '?') && sentence_end(s, n, i));
                size_t skip = 1;
                if (!cut && s[i] == ',' && i + 6 < n && !strncmp(s + i, ", mens ", 7)) {
                        cut = 1;
                        skip = 7;
                }
                if (!cut)
                        continue;
                clause(st, s + from, i - from);
                from = i + skip;
                i += skip - 1;
        }
}

/* Does the line quote an earlier meeting's decision? */
static int history_line(st_t *st, const char *s, size_t n) {
        cues_of(st, s, n);
        for (size_t i = 0; i < st->v->history.n; i++)
                if (rule_exec(st, &st->v->history.r[i], s, n, 0))
                        return 1;
        return 0;
}

/* Is every entry of the line a list entry read whole ("Anne Hansen (V)"
 * alone on its line, after "For stemte:")? */
static int entries_line(st_t *st, const char *s, size_t n) {
        size_t sp[64][2];
        size_t k = split_entries(s, n, sp, 64);
        json_t *ps = json_array(), *ms = json_array();
        int ok = ps && ms && n;
        for (size_t i = 0; ok && i < k; i++) {
                const char *e = s + sp[i][0];
                size_t en = sp[i][1] - sp[i][0];
                trim(&e, &en);
                ok = en && entry(st, e, en, 1, ps, ms) == 2;
        }
        json_decref(ps);
        json_decref(ms);
        return ok;
}

/* The lines of the decision; a label ending its line takes the list
 * entries on the lines below it. */
static void read_text(st_t *st, const char *text, size_t len) {
        mm_buf_t joined = MM_BUF_INIT;
        for (size_t i = 0; i < len && !st->oom;) {
                const char *e = memchr(text + i, '\n', len - i);
                size_t n = e ? (size_t)(e - text) - i : len - i;
                const char *s = text + i;
                i += n + 1;
                if (history_line(st, s, n))
                        break;
                size_t tn = n;
                while (tn && is_blank(s[tn - 1]))
                        tn--;
                if (!tn || s[tn - 1] != ':') {
                        line(st, s, n);
                        continue;
                }
                mm_buf_reset(&joined);
                mm_buf_append(&joined, s, tn);
                while (i < len) {
                        const char *e2 = memchr(text + i, '\n', len - i);
                        size_t n2 = e2 ? (size_t)(e2 - text) - i : len - i;
                        if (!entries_line(st, text + i, n2))
                                break;
                        mm_buf_puts(&joined, joined.p[joined.len - 1] == ':' ? " " : ", ");
                        mm_buf_append(&joined, text + i, n2);
                        i += n2 + 1;
                }
                if (mm_buf_failed(&joined))
                        st->oom = 1;
                else
                        line(st, joined.p, joined.len);
        }
        mm_buf_release(&joined);
}

int mm_votes_extract(const mm_votes_t *v, const char *text, size_t len, const char *outcome,
                     json_t **votes, json_t **reservations) {
        st_t st = {.v = v, .m = mm_rx_match_new(), .votes = json_array(), .res = json_array()};
        *votes = *reservations = NULL;
        if (st.m && st.votes && st.res && text)
                read_text(&st, text, len < MM_VOTES_MAX_TEXT ? len : MM_VOTES_MAX_TEXT);
        ev_close(&st);
        mm_rx_match_destroy(st.m);
        if (!st.m || !st.votes || !st.res || st.oom) {
                json_decref(st.votes);
                json_decref(st.res);
                return -1;
        }
        /* A lone vote whose own sentence does not say its result has the
         * item's outcome. */
        json_t *only = json_array_size(st.votes) == 1 ? json_array_get(st.votes, 0) : NULL;
        if (only && outcome && json_is_null(json_object_get(only, "result"))) {
                const char *r =
                        !strcmp(outcome, "rejected") ? "rejected"
                        : !strcmp(outcome, "approved") || !strcmp(outcome, "approved_with_changes")
                                ? "adopted"
                                : NULL;
                if (r)
                        json_object_set_new_nocheck(only, "result", json_string_nocheck(r));
        }
        *votes = st.votes;
        *reservations = st.res;
        return 0;
}

void mm_votes_item(json_t *item, const char *decision, size_t len, const char *outcome) {
        const mm_votes_t *v = mm_votes_shared();
        json_t *votes = NULL, *res = NULL;
        if (!v || !decision || mm_votes_extract(v, decision, len, outcome, &votes, &res)) {
                votes = json_array();
                res = json_array();
        }
        json_object_set_new_nocheck(item, "votes", votes);
        json_object_set_new_nocheck(item, "reservations", res);
}
