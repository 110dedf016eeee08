/*
 * mm_source_build: the model from an export's fields (see mm_source.h).
 *
 * The builder also renders a plain text of the meeting (header, then per
 * item "N. Title" and its sections): the model's offsets point into it and
 * the worker stores it as the document's text.
 */
#include <ctype.h>
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mm_buf.h"
#include "mm_classify.h"
#include "mm_rx.h"
#include "mm_source.h"
#include "mm_table.h"
#include "mm_votes.h"

/* Out of memory ends the process, as in the rest of the worker: the
 * builder's text buffers are never left short. */
static void db_add(mm_buf_t *d, const char *s, size_t n) {
        if (mm_buf_append(d, s, n))
                abort();
}

static void db_str(mm_buf_t *d, const char *s) {
        db_add(d, s, strlen(s));
}

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

struct mm_source_build_s {
        const mm_parser_t *p;
        mm_rx_match_t *m;
        json_t *doc, *items, *participants, *absent_all, *source;
        mm_buf_t text;
        int any_decision, failed;
        /* The current item (borrowed from items) and its parts. */
        json_t *item, *sections, *absent, *attach, *files, *amounts, *laws;
        mm_buf_t decision;
        size_t item_off;
};

/* A copy of s with white space (also no-break spaces) collapsed and
 * trimmed; NULL for NULL or an empty result. Caller frees. */
static char *clean(const char *s) {
        if (!s)
                return NULL;
        size_t n = strlen(s), o = 0;
        char *out = malloc(n + 1);
        int sp = 0;
        if (!out)
                return NULL;
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
        free(c);
        return j ? j : json_null();
}

mm_source_build_t *mm_source_build_new(const mm_parser_t *p) {
        pthread_once(&g_once, shared_init);
        if (!g_shared.ok)
                return NULL;
        mm_source_build_t *b = calloc(1, sizeof(*b));
        if (!b)
                return NULL;
        b->p = p;
        b->m = mm_rx_match_new();
        b->doc = json_object();
        b->items = json_array();
        b->participants = json_array();
        b->absent_all = json_array();
        if (!b->m || !b->doc || !b->items || !b->participants || !b->absent_all) {
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
        json_decref(b->absent);
        json_decref(b->attach);
        json_decref(b->files);
        json_decref(b->amounts);
        json_decref(b->laws);
        b->sections = b->absent = b->attach = b->files = b->amounts = b->laws = NULL;
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
        json_decref(b->participants);
        json_decref(b->absent_all);
        json_decref(b->source);
        mm_buf_release(&b->text);
        free(b);
}

void mm_source_build_meeting(mm_source_build_t *b, const char *committee, const char *date,
                             const char *start, const char *end, const char *location) {
        json_object_set_new(b->doc, "committee", jclean(committee));
        json_object_set_new(b->doc, "meeting_date", jclean(date));
        json_object_set_new(b->doc, "start_time", jclean(start));
        json_object_set_new(b->doc, "end_time", jclean(end));
        json_object_set_new(b->doc, "location", jclean(location));
}

static int has_name(json_t *arr, const char *name) {
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v) {
                if (!strcmp(json_string_value(v), name))
                        return 1;
        }
        return 0;
}

static void add_name(json_t *arr, const char *name) {
        char *c = clean(name);
        if (c && !has_name(arr, c))
                json_array_append_new(arr, json_string(c));
        free(c);
}

void mm_source_build_participant(mm_source_build_t *b, const char *name, int absent) {
        add_name(absent ? b->absent_all : b->participants, name);
}

void mm_source_build_source(mm_source_build_t *b, const char *system, const char *meeting_id,
                            const char *publication_id, const char *published_at) {
        json_decref(b->source);
        b->source = json_object();
        json_object_set_new(b->source, "system", jclean(system));
        json_object_set_new(b->source, "meeting_id", jclean(meeting_id));
        json_object_set_new(b->source, "publication_id", jclean(publication_id));
        json_object_set_new(b->source, "published_at", jclean(published_at));
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
static void split_names(json_t *out, const char *s, size_t n) {
        char *buf = malloc(n + 1);
        if (!buf)
                return;
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
                        add_name(out, t);
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
                        split_names(b->absent, s + x, y - x);
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
                                json_array_append_new(
                                        parts, json_string(mm_classify_outcome(g_shared.cls, b->m,
                                                                               part.p, part.len)));
                        mm_buf_reset(&part);
                        db_add(&part, d + k + 2, n - k - 2);
                } else if (n) {
                        if (part.len)
                                db_add(&part, " ", 1);
                        db_add(&part, d, n);
                }
                d = e ? e + 1 : NULL;
        }
        if (part.len)
                json_array_append_new(parts, json_string(mm_classify_outcome(g_shared.cls, b->m,
                                                                             part.p, part.len)));
        mm_buf_release(&part);
        for (size_t i = 0; i < json_array_size(parts); i++) {
                const char *lab = json_string_value(json_array_get(parts, i));
                if (mm_classify_outcome_rank(lab) > rank) {
                        rank = mm_classify_outcome_rank(lab);
                        best = lab;
                }
        }
        if (!json_array_size(parts))
                json_array_append_new(parts, json_string(best));
        return best;
}

static void end_item(mm_source_build_t *b) {
        json_t *it = b->item, *parts;
        if (!it)
                return;
        parts = json_array();
        const char *outcome = b->decision.len ? classify_decision(b, parts) : "none";
        if (!json_array_size(parts))
                json_array_append_new(parts, json_string(outcome));
        json_object_set_new(it, "outcome", json_string(outcome));
        json_object_set_new(it, "outcome_parts", parts);
        json_object_set_new(it, "decision",
                            b->decision.len ? json_string(b->decision.p) : json_null());
        mm_votes_item(it, b->decision.p, b->decision.len, outcome);
        size_t i;
        json_t *v;
        json_array_foreach(b->absent_all, i, v) {
                add_name(b->absent, json_string_value(v));
        }
        json_object_set(it, "absent", b->absent);
        json_object_set(it, "attachments", b->attach);
        json_object_set(it, "attachment_files", b->files);
        json_object_set(it, "sections", b->sections);
        json_object_set(it, "amounts", b->amounts);
        json_object_set(it, "laws", b->laws);
        json_object_set_new(it, "length", json_integer((json_int_t)(b->text.len - b->item_off)));
        free_item_parts(b);
}

void mm_source_build_item(mm_source_build_t *b, long number, const char *title,
                          const char *case_number, int closed) {
        char num[32];
        end_item(b);
        char *t = clean(title), *cn = clean(case_number);
        json_t *it = json_object();
        b->sections = json_array();
        b->absent = json_array();
        b->attach = json_array();
        b->files = json_array();
        b->amounts = json_array();
        b->laws = json_array();
        if (b->text.len)
                db_add(&b->text, "\n", 1);
        b->item_off = b->text.len;
        snprintf(num, sizeof(num), "%ld. ", number);
        db_str(&b->text, num);
        db_str(&b->text, t ? t : "");
        db_add(&b->text, "\n", 1);
        json_object_set_new(it, "number", json_integer(number));
        json_object_set_new(it, "order", json_integer((json_int_t)json_array_size(b->items) + 1));
        json_object_set_new(it, "title", json_string(t ? t : ""));
        json_object_set_new(it, "case_number", cn ? json_string(cn) : json_null());
        json_object_set_new(it, "case_number_kind", cn ? json_string("export") : json_null());
        json_t *kle = cn ? mm_classify_kle(g_shared.cls, cn) : NULL;
        json_object_set_new(it, "kle", kle ? kle : json_null());
        json_object_set_new(it, "closed", json_boolean(closed));
        json_object_set_new(it, "offset", json_integer((json_int_t)b->item_off));
        json_array_append_new(b->items, it);
        b->item = it; /* borrowed: owned by b->items */
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
                                db_add(&b->decision, "\n", 1);
                        db_add(&b->decision, s, n);
                }
                s = e ? e + 1 : NULL;
        }
}

void mm_source_build_section(mm_source_build_t *b, const char *heading, const char *kind,
                             int history, const char *text) {
        if (!b->item)
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
        json_object_set_new(s, "heading", h ? json_string(h) : json_null());
        json_object_set_new(s, "kind", json_string(kind));
        json_object_set_new(s, "history", json_boolean(history));
        json_object_set_new(s, "text", json_string(txt));
        json_object_set_new(s, "offset", json_integer((json_int_t)b->text.len));
        if (json_is_string(json_object_get(s, "text")))
                json_array_append_new(b->sections, s);
        else
                json_decref(s);
        if (h) {
                db_str(&b->text, h);
                db_add(&b->text, "\n", 1);
        }
        if (*txt) {
                db_str(&b->text, txt);
                db_add(&b->text, "\n", 1);
        }
        free(h);
        if (history)
                return;
        if (!strcmp(kind, "decision") && *txt) {
                add_decision(b, txt);
                b->any_decision = 1;
        }
        for (const char *s2 = txt; *s2;) {
                const char *e = strchr(s2, '\n');
                size_t n = e ? (size_t)(e - s2) : strlen(s2);
                mm_classify_amounts(g_shared.cls, b->m, s2, n, b->amounts);
                mm_classify_laws(g_shared.cls, b->m, s2, n, b->laws);
                s2 = e ? e + 1 : s2 + n;
        }
}

void mm_source_build_attachment(mm_source_build_t *b, const char *name, const char *id,
                                const char *link) {
        char *n = clean(name);
        if (!b->item || !n) {
                free(n);
                return;
        }
        json_array_append_new(b->attach, json_string(n));
        json_t *f = json_object();
        json_object_set_new(f, "name", json_string(n));
        json_object_set_new(f, "id", jclean(id));
        json_object_set_new(f, "link", jclean(link));
        json_array_append_new(b->files, f);
        free(n);
}

void mm_source_build_item_absent(mm_source_build_t *b, const char *name) {
        if (b->item)
                add_name(b->absent, name);
}

/* ------------------------------------------------------------------ */
/* HTML                                                                 */

typedef struct hwalk_s {
        mm_source_build_t *b; /* NULL: text only */
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
                        db_add(&w->text, "\n", 1);
                else if (w->space && w->text.len && w->text.p[w->text.len - 1] != '\n')
                        db_add(&w->text, " ", 1);
                w->nl = w->space = 0;
                db_add(&w->text, s, 1);
        }
}

static void hw_flush(hwalk_t *w) {
        if (w->b)
                mm_source_build_section(w->b, w->heading, NULL, w->history, mm_buf_cstr(&w->text));
        free(w->heading);
        w->heading = NULL;
        w->history = 0;
        mm_buf_reset(&w->text);
        w->nl = w->space = 0;
}

static void hw_walk(hwalk_t *w, xmlNode *n) {
        for (; n; n = n->next) {
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
                if (w->b && !strcasecmp(name, "h3")) {
                        xmlChar *c = xmlNodeGetContent(n);
                        char *h = clean((const char *)c);
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

static int hw_run(hwalk_t *w, const char *html, size_t len) {
        if (!html || !len || len > (size_t)0x7fffffff)
                return 0;
        htmlDocPtr doc = htmlReadMemory(html, (int)len, NULL, "UTF-8",
                                        HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
                                                HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
        if (!doc)
                return -1;
        hw_walk(w, xmlDocGetRootElement(doc));
        xmlFreeDoc(doc);
        return 0;
}

void mm_source_build_html_sections(mm_source_build_t *b, const char *html, size_t len,
                                   const char *first_heading) {
        hwalk_t w = {.b = b};
        w.heading = clean(first_heading);
        hw_run(&w, html, len);
        hw_flush(&w);
        mm_buf_release(&w.text);
}

char *mm_source_html_text(const char *html, size_t len) {
        hwalk_t w = {0};
        char *text;
        hw_run(&w, html, len);
        if (mm_buf_take(&w.text, &text, NULL))
                return NULL;
        return text; /* ownership passes to the caller */
}

/* ------------------------------------------------------------------ */

int mm_source_build_finish(mm_source_build_t *b, const char *kind, mm_source_result_t *res,
                           mm_parse_error_t *err) {
        end_item(b);
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
        json_object_set(d, "participants", b->participants);
        json_object_set(d, "absent", b->absent_all);
        json_object_set_new(d, "warnings", json_array());
        json_object_set_new(d, "confidence", json_real(1.0));
        json_object_set_new(d, "length", json_integer((json_int_t)b->text.len));
        json_object_set(d, "source", b->source ? b->source : json_null());
        json_t *out = json_object();
        if (!out)
                return mm_source_invalid(err, "out of memory");
        json_object_set(out, "document", d);
        json_object_set(out, "items", b->items);
        res->doc = out;
        /* ownership passes to res (NULL when out of memory) */
        if (mm_buf_take(&b->text, &res->text, &res->text_len))
                res->text_len = 0;
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

xmlDocPtr mm_source_xml_read(const char *buf, size_t len, const char *system,
                             mm_parse_error_t *err) {
        if (len > (size_t)0x7fffffff) {
                mm_source_invalid(err, "%s XML: too large", system);
                return NULL;
        }
        xmlDocPtr doc = xmlReadMemory(buf, (int)len, NULL, NULL,
                                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        if (!doc) {
                const xmlError *e = xmlGetLastError();
                mm_source_invalid(err, "%s XML: not well-formed (truncated?) at line %d: %.120s",
                                  system, e ? e->line : 0, e && e->message ? e->message : "");
                size_t n = strlen(err->reason);
                while (n && err->reason[n - 1] == '\n')
                        err->reason[--n] = '\0';
        }
        return doc;
}

xmlNode *mm_source_xml_child(xmlNode *n, const char *name) {
        for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
                if (c->type == XML_ELEMENT_NODE && !strcmp((const char *)c->name, name))
                        return c;
        return NULL;
}

char *mm_source_xml_text(xmlNode *n, const char *name) {
        xmlNode *c = mm_source_xml_child(n, name);
        xmlChar *t = c ? xmlNodeGetContent(c) : NULL;
        char *out = t ? strdup((const char *)t) : NULL;
        xmlFree(t);
        return out;
}
