/*
 * mm_source_build: the model from an export's fields (see mm_source.h).
 *
 * The builder also renders a plain text of the meeting (header, then per
 * item "N. Title" and its sections): the model's offsets point into it and
 * the worker stores it as the document's text.
 *
 * Bounds (issue 19): the text is capped at max-doc-bytes and the model at
 * MM_SOURCE_MAX_VALUES values; a cap that is hit, or an allocation that
 * fails, fails the whole build (mm_source_build_finish returns the error)
 * and every later call is a no-op: never a model with something cut.
 * Linear: names are de-duplicated through a hash set (a jansson object)
 * beside each list, never by scanning the list.
 */
#include <ctype.h>
#include <libxml/HTMLparser.h>
#include <stdarg.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mm_buf.h"
#include "mm_classify.h"
#include "mm_extract.h"
#include "mm_rx.h"
#include "mm_source.h"
#include "mm_table.h"
#include "mm_votes.h"

/* ------------------------------------------------------------------ */
/* Shared tables: the classifier and the absence cues, loaded once.     */

typedef struct shared_s {
        mm_classify_t *cls;
        mm_rx_t **absence;
        size_t nabsence;
        int ok;
} shared_t;

static shared_t g_shared;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void shared_init(void) {
        char err[256];
        mm_table_t *t = mm_table_load("absence", 1, err, sizeof(err));
        g_shared.cls = mm_classify_new(err, sizeof(err));
        if (!t || !g_shared.cls) {
                mm_table_destroy(t);
                return;
        }
        size_t n = mm_table_rows(t);
        g_shared.absence = calloc(n ? n : 1, sizeof(mm_rx_t *));
        for (size_t r = 0; g_shared.absence && r < n; r++) {
                mm_rx_t *rx = mm_rx_new(mm_table_get(t, r, 0), MM_RX_CASELESS, err, sizeof(err));
                if (rx)
                        g_shared.absence[g_shared.nabsence++] = rx;
        }
        mm_table_destroy(t);
        g_shared.ok = g_shared.absence != NULL;
}

/* ------------------------------------------------------------------ */
/* Builder                                                              */

/* A list of names and the set of the names in it (for de-duplication). */
typedef struct names_s {
        json_t *arr, *set;
} names_t;

struct mm_source_build_s {
        const mm_parser_t *p;
        mm_rx_match_t *m;
        json_t *doc, *items, *source;
        names_t participants, absent_all;
        mm_buf_t text;
        int any_decision;
        /* The current item (borrowed from items) and its parts. */
        json_t *item, *sections, *attach, *files, *amounts, *laws;
        names_t absent;
        mm_buf_t decision;
        size_t item_off;
        /* Bounds and failure (see the top). */
        size_t values, max_values, max_text, bytes, max_bytes;
        int failed;
        mm_parse_error_t err;
        unsigned long long work;
};

/* Records the first failure; every later builder call is a no-op. */
static void b_fail(mm_source_build_t *b, const char *code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void b_fail(mm_source_build_t *b, const char *code, const char *fmt, ...) {
        va_list ap;
        if (b->failed++)
                return;
        snprintf(b->err.code, sizeof(b->err.code), "%s", code);
        va_start(ap, fmt);
        vsnprintf(b->err.reason, sizeof(b->err.reason), fmt, ap);
        va_end(ap);
}

static void b_oom(mm_source_build_t *b) {
        b_fail(b, "out_of_memory", "out of memory building the model of the export");
}

/* Counts n values and `bytes` bytes of strings of the model against
 * MM_SOURCE_MAX_VALUES and MM_SOURCE_MODEL_BYTES x max-doc-bytes. */
static int count_bytes(mm_source_build_t *b, size_t n, size_t bytes) {
        b->values += n;
        b->bytes += bytes;
        if (b->values > b->max_values)
                b_fail(b, "export_invalid",
                       "the export makes a model of more than %zu values (items, sections, "
                       "names, attachments): refused",
                       b->max_values);
        else if (b->bytes > b->max_bytes)
                b_fail(b, "export_invalid",
                       "the export makes a model with more than %zu bytes of text "
                       "(%u x max-doc-bytes): refused",
                       b->max_bytes, MM_SOURCE_MODEL_BYTES);
        return b->failed ? -1 : 0;
}

static int count(mm_source_build_t *b, size_t n) {
        return count_bytes(b, n, 0);
}

/* Bytes of a string value (0 for others). */
static size_t sbytes(json_t *v) {
        return json_is_string(v) ? json_string_length(v) : 0;
}

/* obj[key] = v, taking v (NULL: out of memory), counted. */
static void set(mm_source_build_t *b, json_t *obj, const char *key, json_t *v) {
        if (!b->failed && !v)
                b_oom(b);
        if (b->failed || count_bytes(b, 1, sbytes(v))) {
                json_decref(v);
                return;
        }
        if (json_object_set_new(obj, key, v))
                b_oom(b);
}

/* Appends v to arr, taking v (NULL: out of memory), counted. */
static void append(mm_source_build_t *b, json_t *arr, json_t *v) {
        if (!b->failed && !v)
                b_oom(b);
        if (b->failed || count_bytes(b, 1, sbytes(v))) {
                json_decref(v);
                return;
        }
        if (json_array_append_new(arr, v))
                b_oom(b);
}

/* Appends to one of the builder's buffers; a failure fails the build. */
static void db_add(mm_source_build_t *b, mm_buf_t *d, const char *s, size_t n) {
        if (b->failed || !mm_buf_append(d, s, n))
                return;
        if (d->err == MM_BUF_ELIMIT)
                b_fail(b, "export_invalid",
                       "the text of the export's model is longer than %zu bytes (max-doc-bytes)",
                       b->max_text);
        else
                b_oom(b);
}

static void db_str(mm_buf_t *d, const char *s, mm_source_build_t *b) {
        db_add(b, d, s, strlen(s));
}

/* Set when clean() cannot allocate: mm_source_build_finish fails then. */
static __thread int tl_oom;

/* A copy of s with white space (also no-break spaces) collapsed and
 * trimmed; NULL for NULL or an empty result. Caller frees. */
static char *clean(const char *s) {
        if (!s)
                return NULL;
        size_t n = strlen(s), o = 0;
        char *out = malloc(n + 1);
        int sp = 0;
        if (!out) {
                tl_oom = 1;
                return NULL;
        }
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                int ws = isspace(c) || (c == 0xc2 && (unsigned char)s[i + 1] == 0xa0);
                if (ws) {
                        if (c == 0xc2)
                                i++;
                        sp = o > 0;
                        continue;
                }
                if (sp)
                        out[o++] = ' ';
                sp = 0;
                out[o++] = (char)c;
        }
        out[o] = '\0';
        if (!o) {
                free(out);
                return NULL;
        }
        return out;
}

static json_t *jclean(const char *s) {
        char *c = clean(s);
        json_t *j = c ? json_string(c) : json_null();
        if (c && !j)
                tl_oom = 1;
        free(c);
        return j ? j : json_null();
}

static int names_init(names_t *l) {
        l->arr = json_array();
        l->set = json_object();
        return l->arr && l->set ? 0 : -1;
}

static void names_free(names_t *l) {
        json_decref(l->arr);
        json_decref(l->set);
        l->arr = l->set = NULL;
}

mm_source_build_t *mm_source_build_new(const mm_parser_t *p) {
        pthread_once(&g_once, shared_init);
        if (!g_shared.ok)
                return NULL;
        mm_source_build_t *b = calloc(1, sizeof(*b));
        if (!b)
                return NULL;
        mm_extract_limits_t lim;
        mm_extract_get_limits(&lim);
        tl_oom = 0;
        b->p = p;
        b->max_values = MM_SOURCE_MAX_VALUES;
        b->max_text = lim.max_output_bytes;
        b->max_bytes = MM_SOURCE_MODEL_BYTES * lim.max_output_bytes;
        mm_buf_set_max(&b->text, b->max_text);
        mm_buf_set_max(&b->decision, b->max_text);
        b->m = mm_rx_match_new();
        b->doc = json_object();
        b->items = json_array();
        if (!b->m || !b->doc || !b->items || names_init(&b->participants) ||
            names_init(&b->absent_all)) {
                mm_source_build_destroy(b);
                return NULL;
        }
        json_object_set_new(b->doc, "kind", json_string("agenda"));
        json_object_set_new(b->doc, "municipality", json_null());
        json_object_set_new(b->doc, "committee", json_null());
        json_object_set_new(b->doc, "meeting_date", json_null());
        json_object_set_new(b->doc, "start_time", json_null());
        json_object_set_new(b->doc, "end_time", json_null());
        json_object_set_new(b->doc, "location", json_null());
        return b;
}

static void free_item_parts(mm_source_build_t *b) {
        json_decref(b->sections);
        names_free(&b->absent);
        json_decref(b->attach);
        json_decref(b->files);
        json_decref(b->amounts);
        json_decref(b->laws);
        b->sections = b->attach = b->files = b->amounts = b->laws = NULL;
        mm_buf_release(&b->decision);
        b->item = NULL;
}

void mm_source_build_destroy(mm_source_build_t *b) {
        if (!b)
                return;
        free_item_parts(b);
        mm_rx_match_destroy(b->m);
        json_decref(b->doc);
        json_decref(b->items);
        names_free(&b->participants);
        names_free(&b->absent_all);
        json_decref(b->source);
        mm_buf_release(&b->text);
        free(b);
}

void mm_source_build_meeting(mm_source_build_t *b, const char *committee, const char *date,
                             const char *start, const char *end, const char *location) {
        set(b, b->doc, "committee", jclean(committee));
        set(b, b->doc, "meeting_date", jclean(date));
        set(b, b->doc, "start_time", jclean(start));
        set(b, b->doc, "end_time", jclean(end));
        set(b, b->doc, "location", jclean(location));
}

/* Adds the cleaned name to the list unless it is there: one hash lookup. */
static void add_name(mm_source_build_t *b, names_t *l, const char *name) {
        char *c = b->failed ? NULL : clean(name);
        b->work++;
        if (c && !json_object_get(l->set, c) && !count(b, 1)) {
                if (json_object_set_new_nocheck(l->set, c, json_true()))
                        b_oom(b);
                else
                        append(b, l->arr, json_string(c));
        }
        free(c);
}

void mm_source_build_participant(mm_source_build_t *b, const char *name, int absent) {
        add_name(b, absent ? &b->absent_all : &b->participants, name);
}

/* Fails the build (export_invalid) on an identity value longer than
 * MM_SOURCE_KEY_MAX bytes. */
static void check_key(mm_source_build_t *b, const char *what, const char *v) {
        size_t n = v ? strlen(v) : 0;
        if (n > MM_SOURCE_KEY_MAX)
                b_fail(b, "export_invalid", "%s is %zu bytes long (at most %d)", what, n,
                       MM_SOURCE_KEY_MAX);
}

void mm_source_build_source(mm_source_build_t *b, const char *system, const char *meeting_id,
                            const char *publication_id, const char *published_at) {
        check_key(b, "the meeting id", meeting_id);
        check_key(b, "the publication id", publication_id);
        json_decref(b->source);
        b->source = json_object();
        json_object_set_new(b->source, "system", jclean(system));
        json_object_set_new(b->source, "meeting_id", jclean(meeting_id));
        json_object_set_new(b->source, "publication_id", jclean(publication_id));
        json_object_set_new(b->source, "published_at", jclean(published_at));
}

void mm_source_build_supplement(mm_source_build_t *b) {
        if (b->source)
                json_object_set_new(b->source, "supplement", json_true());
}

void mm_source_build_municipality(mm_source_build_t *b, const char *name_or_host) {
        if (!name_or_host || json_is_string(json_object_get(b->doc, "municipality")))
                return;
        /* A host name: try every suffix, "dagsordener.greve.dk", "greve.dk". */
        for (const char *s = name_or_host; s && *s;) {
                const char *k = mm_classify_kommune(g_shared.cls, s, strlen(s));
                if (k) {
                        json_object_set_new(b->doc, "municipality", json_string(k));
                        return;
                }
                s = strchr(s, '.');
                s = s ? s + 1 : NULL;
        }
}

/* Names of an absence cue's "names" group: "A, B og C". */
static void split_names(mm_source_build_t *b, names_t *out, const char *s, size_t n) {
        char *buf = malloc(n + 1);
        if (!buf) {
                b_oom(b);
                return;
        }
        memcpy(buf, s, n);
        buf[n] = '\0';
        for (char *q; (q = strstr(buf, " og "));) {
                q[0] = ',';
                memmove(q + 1, q + 3, strlen(q + 3) + 1);
        }
        char *save = NULL;
        for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                size_t l = strlen(t);
                while (l && (t[l - 1] == '.' || t[l - 1] == ' ' || t[l - 1] == ')'))
                        t[--l] = '\0';
                if (l > 2 && l < 80)
                        add_name(b, out, t);
        }
        free(buf);
}

/* If the line names members absent from the item, adds them; returns 1. */
static int absence_line(mm_source_build_t *b, const char *s, size_t n) {
        if (n > 300)
                return 0;
        for (size_t r = 0; r < g_shared.nabsence; r++) {
                size_t x, y;
                if (mm_rx_exec(g_shared.absence[r], b->m, s, n, 0) &&
                    !mm_rx_named(g_shared.absence[r], b->m, "names", &x, &y)) {
                        split_names(b, &b->absent, s + x, y - x);
                        return 1;
                }
        }
        return 0;
}

/* One outcome label per numbered part ("1. ...", "2) ...") of the
 * decision; returns the strongest. */
static const char *classify_decision(mm_source_build_t *b, json_t *parts) {
        const char *d = b->decision.p, *best = "none";
        mm_buf_t part = MM_BUF_INIT;
        int rank = -1;
        while (d && *d) {
                const char *e = strchr(d, '\n');
                size_t n = e ? (size_t)(e - d) : strlen(d), k = 0;
                while (k < n && k < 3 && isdigit((unsigned char)d[k]))
                        k++;
                if (k && k + 1 < n && (d[k] == '.' || d[k] == ')') && d[k + 1] == ' ') {
                        if (part.len)
                                append(b, parts,
                                       json_string(mm_classify_outcome(g_shared.cls, b->m, part.p,
                                                                       part.len)));
                        mm_buf_reset(&part);
                        db_add(b, &part, d + k + 2, n - k - 2);
                } else if (n) {
                        if (part.len)
                                db_add(b, &part, " ", 1);
                        db_add(b, &part, d, n);
                }
                d = e ? e + 1 : NULL;
        }
        if (part.len)
                append(b, parts,
                       json_string(mm_classify_outcome(g_shared.cls, b->m, part.p, part.len)));
        mm_buf_release(&part);
        for (size_t i = 0; i < json_array_size(parts); i++) {
                const char *lab = json_string_value(json_array_get(parts, i));
                if (mm_classify_outcome_rank(lab) > rank) {
                        rank = mm_classify_outcome_rank(lab);
                        best = lab;
                }
        }
        if (!json_array_size(parts))
                append(b, parts, json_string(best));
        return best;
}

static void end_item(mm_source_build_t *b) {
        json_t *it = b->item, *parts;
        if (!it || b->failed) {
                free_item_parts(b);
                return;
        }
        parts = json_array();
        if (!parts) {
                b_oom(b);
                return;
        }
        const char *outcome = b->decision.len ? classify_decision(b, parts) : "none";
        if (!json_array_size(parts))
                append(b, parts, json_string(outcome));
        set(b, it, "outcome", json_string(outcome));
        set(b, it, "outcome_parts", parts);
        set(b, it, "decision", b->decision.len ? json_string(b->decision.p) : json_null());
        mm_votes_item(it, b->decision.p, b->decision.len, outcome);
        size_t i;
        json_t *v;
        /* Output-sized: every name lands in this item's list (counted). */
        json_array_foreach(b->absent_all.arr, i, v) {
                add_name(b, &b->absent, json_string_value(v));
        }
        set(b, it, "absent", json_incref(b->absent.arr));
        set(b, it, "attachments", json_incref(b->attach));
        set(b, it, "attachment_files", json_incref(b->files));
        set(b, it, "sections", json_incref(b->sections));
        set(b, it, "amounts", json_incref(b->amounts));
        set(b, it, "laws", json_incref(b->laws));
        set(b, it, "length", json_integer((json_int_t)(b->text.len - b->item_off)));
        free_item_parts(b);
}

void mm_source_build_item(mm_source_build_t *b, long number, const char *title,
                          const char *case_number, int closed) {
        char num[32];
        end_item(b);
        if (b->failed)
                return;
        json_t *it = json_object();
        b->sections = json_array();
        b->attach = json_array();
        b->files = json_array();
        b->amounts = json_array();
        b->laws = json_array();
        if (!it || !b->sections || !b->attach || !b->files || !b->amounts || !b->laws ||
            names_init(&b->absent)) {
                json_decref(it);
                free_item_parts(b);
                b_oom(b);
                return;
        }
        append(b, b->items, it);
        if (b->failed) {
                free_item_parts(b);
                return;
        }
        b->item = it; /* borrowed: owned by b->items */
        char *t = clean(title), *cn = clean(case_number);
        check_key(b, "a case number", cn);
        if (b->text.len)
                db_add(b, &b->text, "\n", 1);
        b->item_off = b->text.len;
        snprintf(num, sizeof(num), "%ld. ", number);
        db_str(&b->text, num, b);
        db_str(&b->text, t ? t : "", b);
        db_add(b, &b->text, "\n", 1);
        set(b, it, "number", json_integer(number));
        set(b, it, "order", json_integer((json_int_t)json_array_size(b->items)));
        set(b, it, "title", json_string(t ? t : ""));
        set(b, it, "case_number", cn ? json_string(cn) : json_null());
        set(b, it, "case_number_kind", cn ? json_string("export") : json_null());
        json_t *kle = cn ? mm_classify_kle(g_shared.cls, cn) : NULL;
        set(b, it, "kle", kle ? kle : json_null());
        set(b, it, "closed", json_boolean(closed));
        set(b, it, "offset", json_integer((json_int_t)b->item_off));
        free(t);
        free(cn);
}

/* Adds the lines of a decision section to the decision (absence lines go
 * to the item's absences instead). */
static void add_decision(mm_source_build_t *b, const char *text) {
        for (const char *s = text; s && *s;) {
                const char *e = strchr(s, '\n');
                size_t n = e ? (size_t)(e - s) : strlen(s);
                if (n && !absence_line(b, s, n)) {
                        if (b->decision.len)
                                db_add(b, &b->decision, "\n", 1);
                        db_add(b, &b->decision, s, n);
                }
                s = e ? e + 1 : NULL;
        }
}

/* Length of the next window of a line for the amounts and laws: the whole
 * line up to WINDOW bytes, else up to the last sentence end (". ") or
 * blank in it. A line without sentence ends is then never searched (and
 * copied, for each amount's sentence) as a whole: linear time, and the
 * model's byte cap is checked between windows. Real sentences are far
 * shorter, so the result is the same as for the whole line. */
#define WINDOW 65536

static size_t window(const char *s, size_t n) {
        if (n <= WINDOW)
                return n;
        size_t cut = 0;
        for (size_t i = WINDOW - 1; i > WINDOW / 2 && !cut; i--)
                if (s[i] == ' ' && s[i - 1] == '.')
                        cut = i + 1;
        for (size_t i = WINDOW - 1; i > WINDOW / 2 && !cut; i--)
                if (s[i] == ' ')
                        cut = i + 1;
        if (!cut)
                for (cut = WINDOW; cut > 1 && ((unsigned char)s[cut] & 0xC0) == 0x80; cut--)
                        ; /* not inside a character */
        return cut;
}

/* Bytes of the strings of the objects arr[from..]. */
static size_t new_bytes(json_t *arr, size_t from) {
        size_t bytes = 0;
        for (size_t i = from; i < json_array_size(arr); i++) {
                const char *k;
                json_t *v;
                json_object_foreach(json_array_get(arr, i), k, v) {
                        bytes += sbytes(v);
                }
        }
        return bytes;
}

/* The amounts and laws of one window of a line, counted in the bounds
 * (an amount or a law is an object of 3 values). */
static void classify_window(mm_source_build_t *b, const char *s, size_t n) {
        size_t a0 = json_array_size(b->amounts), l0 = json_array_size(b->laws);
        int k = mm_classify_amounts(g_shared.cls, b->m, s, n, b->amounts);
        k += mm_classify_laws(g_shared.cls, b->m, s, n, b->laws);
        b->work += n;
        if (k > 0)
                count_bytes(b, 4 * (size_t)k, new_bytes(b->amounts, a0) + new_bytes(b->laws, l0));
}

void mm_source_build_section(mm_source_build_t *b, const char *heading, const char *kind,
                             int history, const char *text) {
        if (!b->item || b->failed)
                return;
        char *h = clean(heading);
        const char *txt = text ? text : "";
        if (!kind && h)
                kind = mm_parser_section_kind(b->p, h, strlen(h));
        if (history)
                kind = "history";
        if (!kind)
                kind = h ? "other" : "body";
        if (!h && !*txt) {
                return;
        }
        json_t *s = json_object();
        append(b, b->sections, s);
        set(b, s, "heading", h ? json_string(h) : json_null());
        set(b, s, "kind", json_string(kind));
        set(b, s, "history", json_boolean(history));
        set(b, s, "text", json_string(txt));
        set(b, s, "offset", json_integer((json_int_t)b->text.len));
        if (h) {
                db_str(&b->text, h, b);
                db_add(b, &b->text, "\n", 1);
        }
        if (*txt) {
                db_str(&b->text, txt, b);
                db_add(b, &b->text, "\n", 1);
        }
        free(h);
        if (history || b->failed)
                return;
        if (!strcmp(kind, "decision") && *txt) {
                add_decision(b, txt);
                b->any_decision = 1;
        }
        for (const char *s2 = txt; *s2 && !b->failed;) {
                const char *e = strchr(s2, '\n');
                size_t n = e ? (size_t)(e - s2) : strlen(s2);
                for (size_t w = 0, wn; w < n && !b->failed; w += wn) {
                        wn = window(s2 + w, n - w);
                        classify_window(b, s2 + w, wn);
                }
                s2 = e ? e + 1 : s2 + n;
        }
}

void mm_source_build_attachment(mm_source_build_t *b, const char *name, const char *id,
                                const char *link) {
        char *n = b->item && !b->failed ? clean(name) : NULL;
        if (!n)
                return;
        append(b, b->attach, json_string(n));
        json_t *f = json_object();
        append(b, b->files, f);
        set(b, f, "name", json_string(n));
        set(b, f, "id", jclean(id));
        set(b, f, "link", jclean(link));
        free(n);
}

void mm_source_build_work(mm_source_build_t *b, unsigned long long n) {
        b->work += n;
}

void mm_source_build_fail_oom(mm_source_build_t *b) {
        b_oom(b);
}

void mm_source_build_item_absent(mm_source_build_t *b, const char *name) {
        if (b->item)
                add_name(b, &b->absent, name);
}

/* ------------------------------------------------------------------ */
/* HTML                                                                 */

typedef struct hwalk_s {
        mm_source_build_t *b; /* its failure is ours */
        int sections;         /* 0: text only */
        mm_buf_t text;
        char *heading;
        int history, nl, space;
} hwalk_t;

static int is_block(const char *n) {
        static const char *const blocks[] = {
                "p",  "div", "br",      "li",         "ul",     "ol",     "table",
                "tr", "h1",  "h2",      "h3",         "h4",     "h5",     "h6",
                "td", "th",  "tbody",   "blockquote", "pre",    "hr",     "dl",
                "dt", "dd",  "section", "article",    "header", "footer", NULL};
        for (int i = 0; blocks[i]; i++)
                if (!strcasecmp(n, blocks[i]))
                        return 1;
        return 0;
}

static void hw_text(hwalk_t *w, const char *s) {
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                if (isspace(c) || (c == 0xc2 && (unsigned char)s[1] == 0xa0)) {
                        if (c == 0xc2)
                                s++;
                        w->space = 1;
                        continue;
                }
                if (w->nl && w->text.len)
                        db_add(w->b, &w->text, "\n", 1);
                else if (w->space && w->text.len && w->text.p[w->text.len - 1] != '\n')
                        db_add(w->b, &w->text, " ", 1);
                w->nl = w->space = 0;
                db_add(w->b, &w->text, s, 1);
        }
}

static void hw_flush(hwalk_t *w) {
        if (w->sections)
                mm_source_build_section(w->b, w->heading, NULL, w->history, mm_buf_cstr(&w->text));
        free(w->heading);
        w->heading = NULL;
        w->history = 0;
        mm_buf_reset(&w->text);
        w->nl = w->space = 0;
}

static void hw_walk(hwalk_t *w, xmlNode *n) {
        for (; n && !w->b->failed; n = n->next) {
                w->b->work++;
                if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
                        if (n->content)
                                hw_text(w, (const char *)n->content);
                        continue;
                }
                if (n->type != XML_ELEMENT_NODE)
                        continue;
                const char *name = (const char *)n->name;
                if (!strcasecmp(name, "script") || !strcasecmp(name, "style"))
                        continue;
                if (w->sections && !strcasecmp(name, "h3")) {
                        /* no entities in HTML: at most the field's length */
                        xmlChar *c = xmlNodeGetContent(n);
                        char *h = clean((const char *)c);
                        if (!c)
                                b_oom(w->b);
                        xmlFree(c);
                        if (h) {
                                hw_flush(w);
                                w->heading = h;
                                continue;
                        }
                }
                xmlChar *cls = xmlGetProp(n, (const xmlChar *)"class");
                if (cls && strstr((const char *)cls, "sagsforloeb"))
                        w->history = 1;
                xmlFree(cls);
                int block = is_block(name);
                if (block)
                        w->nl = 1;
                hw_walk(w, n->children);
                if (block)
                        w->nl = 1;
        }
}

/* Walks the HTML html[0..len) within the extraction limits; a limit that
 * is hit fails the build. */
static void hw_run(hwalk_t *w, const char *html, size_t len) {
        mm_parse_error_t err;
        xmlDocPtr doc = NULL;
        mm_buf_set_max(&w->text, w->b->max_text);
        if (w->b->failed)
                return;
        if (mm_source_html_read(html, len, &doc, &err)) {
                b_fail(w->b, err.code, "%s", err.reason);
                return;
        }
        if (doc)
                hw_walk(w, xmlDocGetRootElement(doc));
        xmlFreeDoc(doc);
}

void mm_source_build_html_sections(mm_source_build_t *b, const char *html, size_t len,
                                   const char *first_heading) {
        hwalk_t w = {.b = b, .sections = 1};
        if (b->failed)
                return;
        w.heading = clean(first_heading);
        hw_run(&w, html, len);
        hw_flush(&w);
        mm_buf_release(&w.text);
}

char *mm_source_html_text(mm_source_build_t *b, const char *html, size_t len) {
        hwalk_t w = {.b = b};
        char *text = NULL;
        hw_run(&w, html, len);
        if (!b->failed && mm_buf_take(&w.text, &text, NULL))
                b_oom(b);
        mm_buf_release(&w.text);
        return b->failed ? NULL : text; /* ownership passes to the caller */
}

/* ------------------------------------------------------------------ */

int mm_source_build_finish(mm_source_build_t *b, const char *kind, mm_source_result_t *res,
                           mm_parse_error_t *err) {
        end_item(b);
        res->work = b->work;
        if (tl_oom && !b->failed)
                b_oom(b);
        if (b->failed) {
                *err = b->err;
                return -1;
        }
        json_t *d = b->doc;
        if (!kind)
                kind = b->any_decision ? "minutes" : "agenda";
        json_object_set_new(d, "kind", json_string(kind));
        if (!json_is_string(json_object_get(d, "municipality")) && b->text.p) {
                const char *k = mm_classify_infer_kommune(g_shared.cls, b->text.p, b->text.len);
                json_object_set_new(d, "municipality", k ? json_string(k) : json_null());
        }
        if (json_is_string(json_object_get(d, "municipality")))
                json_object_set_new(d, "municipality_source", json_string("export"));
        json_object_set(d, "participants", b->participants.arr);
        json_object_set(d, "absent", b->absent_all.arr);
        json_object_set_new(d, "warnings", json_array());
        json_object_set_new(d, "confidence", json_real(1.0));
        json_object_set_new(d, "length", json_integer((json_int_t)b->text.len));
        json_object_set(d, "source", b->source ? b->source : json_null());
        json_t *out = json_object();
        if (!out || json_object_set(out, "document", d) ||
            json_object_set(out, "items", b->items) ||
            mm_buf_take(&b->text, &res->text, &res->text_len)) {
                json_decref(out);
                return mm_source_oom(err, "building the model of the export");
        }
        res->doc = out; /* ownership of out and the text passes to res */
        return 0;
}

int mm_source_dmy(const char *v, char date[11], char hm[6]) {
        int d, m, y, h = -1, mi = -1;
        date[0] = hm[0] = '\0';
        if (!v || sscanf(v, "%2d-%2d-%4d %2d:%2d", &d, &m, &y, &h, &mi) < 3 || y < 1900 || m < 1 ||
            m > 12 || d < 1 || d > 31)
                return 0;
        /* unsigned and reduced, so the compiler can see each field's width */
        snprintf(date, 11, "%04u-%02u-%02u", (unsigned)y % 10000u, (unsigned)m % 100u,
                 (unsigned)d % 100u);
        if (h >= 0 && h < 24 && mi >= 0 && mi < 60)
                snprintf(hm, 6, "%02u:%02u", (unsigned)h % 100u, (unsigned)mi % 100u);
        return 1;
}
