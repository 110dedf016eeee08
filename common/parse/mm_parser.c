#include "mm_parser.h"

/* All strings handed to jansson here come from text that mm_text has
 * validated as UTF-8 and were cut at character boundaries, so the
 * _nocheck constructors skip a second validation; object keys are ASCII
 * literals, set with json_object_set_new_nocheck for the same reason. */

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
#include "mm_header.h"
#include "mm_candidates.h"
#include "mm_lines.h"
#include "mm_pass.h"
#include "mm_sections.h"
#include "mm_sequence.h"
#include "mm_toc.h"
#include "mm_reflow.h"

static const char *const field_names[] = {"date",         "time",     "location",
                                          "participants", "absent",   "committee",
                                          "remarks",      "end_time", NULL};

/* ------------------------------------------------------------------ */
/* Construction                                                         */

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

/* The cue words of the list's patterns, from column `col` of t. */
static int load_cues(rxlist_t *l, mm_table_t *t, int patcol, int col, char *errstr,
                     size_t errstr_size) {
        if (!(l->cues = mm_cues_new()) || !(l->need = calloc(l->n + 1, sizeof(*l->need)))) {
                snprintf(errstr, errstr_size, "out of memory");
                return -1;
        }
        for (size_t i = 0; i < l->n; i++)
                if (mm_cues_add(l->cues, mm_table_get(t, i, col), mm_table_get(t, i, patcol),
                                &l->need[i], errstr, errstr_size))
                        return -1;
        return 0;
}

static void free_rxlist(rxlist_t *l) {
        if (l->rx)
                for (size_t i = 0; i < l->n; i++)
                        mm_rx_destroy(l->rx[i]);
        free(l->rx);
        free(l->tag);
        free(l->need);
        mm_cues_destroy(l->cues);
}

static int cmp_label_len(const void *a, const void *b) {
        const labeldef_t *x = a, *y = b;
        return (int)y->len - (int)x->len;
}

#define OOM(errstr, errstr_size) (snprintf(errstr, errstr_size, "out of memory"), -1)

static int load_tables(mm_parser_t *p, char *errstr, size_t errstr_size) {
        if (!(p->cls = mm_classify_new(errstr, errstr_size)) ||
            !(p->t_sections = mm_table_load("sections", 3, errstr, errstr_size)) ||
            !(p->t_history = mm_table_load("history", 1, errstr, errstr_size)) ||
            !(p->t_absence = mm_table_load("absence", 1, errstr, errstr_size)) ||
            !(p->t_labels = mm_table_load("header_labels", 2, errstr, errstr_size)) ||
            !(p->t_noise = mm_table_load("noise", 2, errstr, errstr_size)) ||
            !(p->t_closed = mm_table_load("closed", 2, errstr, errstr_size)) ||
            !(p->t_case = mm_table_load("case_numbers", 2, errstr, errstr_size)) ||
            !(p->t_case_labels = mm_table_load("case_labels", 1, errstr, errstr_size)) ||
            !(p->t_committees = mm_table_load("committees", 1, errstr, errstr_size)) ||
            !(p->t_places = mm_table_load("places", 1, errstr, errstr_size)))
                return -1;
        return 0;
}

/* Section headings, folded, with a filter of the byte lengths in use. */
static int load_sections(mm_parser_t *p, char *errstr, size_t errstr_size) {
        char buf[256];
        p->nsecs = mm_table_rows(p->t_sections);
        p->secs = calloc(p->nsecs + 1, sizeof(*p->secs));
        if (!p->secs)
                return OOM(errstr, errstr_size);
        for (size_t i = 0; i < p->nsecs; i++) {
                const char *h = mm_table_get(p->t_sections, i, 0);
                size_t n = mm_pass_fold(h, strlen(h), buf, sizeof(buf));
                if (!(p->secs[i].fold = mm_pass_strndup(buf, n)))
                        return OOM(errstr, errstr_size);
                p->secs[i].len = n;
                p->secs[i].kind = mm_table_get(p->t_sections, i, 1);
                p->secs[i].opens = mm_table_get(p->t_sections, i, 2)[0] == 'y';
                if (n < sizeof(p->sec_len_ok))
                        p->sec_len_ok[n] = 1;
        }
        p->decision_sec = mm_lines_match_section(p, "Beslutning", 10);
        return 0;
}

/* Header labels (longest first) and journal-number labels, folded. */
static int load_labels(mm_parser_t *p, char *errstr, size_t errstr_size) {
        char buf[256];
        p->nlabels = mm_table_rows(p->t_labels);
        p->labels = calloc(p->nlabels + 1, sizeof(*p->labels));
        if (!p->labels)
                return OOM(errstr, errstr_size);
        for (size_t i = 0; i < p->nlabels; i++) {
                const char *h = mm_table_get(p->t_labels, i, 0);
                const char *f = mm_table_get(p->t_labels, i, 1);
                size_t n = mm_pass_fold(h, strlen(h), buf, sizeof(buf));
                int k;
                for (k = 0; field_names[k]; k++)
                        if (!strcmp(field_names[k], f))
                                break;
                if (!field_names[k]) {
                        snprintf(errstr, errstr_size, "header_labels table: unknown field \"%s\"",
                                 f);
                        return -1;
                }
                if (!(p->labels[i].fold = mm_pass_strndup(buf, n)))
                        return OOM(errstr, errstr_size);
                p->labels[i].len = n;
                p->labels[i].field = k;
        }
        qsort(p->labels, p->nlabels, sizeof(*p->labels), cmp_label_len);
        p->ncase_labels = mm_table_rows(p->t_case_labels);
        p->case_labels = calloc(p->ncase_labels + 1, sizeof(char *));
        p->case_label_doc = calloc(p->ncase_labels + 1, 1);
        if (!p->case_labels || !p->case_label_doc)
                return OOM(errstr, errstr_size);
        for (size_t i = 0; i < p->ncase_labels; i++) {
                const char *h = mm_table_get(p->t_case_labels, i, 0);
                size_t n = mm_pass_fold(h, strlen(h), buf, sizeof(buf));
                if (!(p->case_labels[i] = mm_pass_strndup(buf, n)))
                        return OOM(errstr, errstr_size);
                p->case_label_doc[i] = !strcmp(mm_table_get(p->t_case_labels, i, 1), "doc");
                /* An empty label would start every line. */
                if (n)
                        p->case_label_first[(unsigned char)buf[0]] = 1;
                else
                        memset(p->case_label_first, 1, sizeof(p->case_label_first));
        }
        return 0;
}

/* Does pat begin with "^\s*" (not made lazy or possessive) and hold no
 * "|" outside brackets, so that "^\s*(?:rest)" is pat? */
static int ws_anchored(const char *pat) {
        int depth = 0, cls = 0;
        if (strncmp(pat, "^\\s*", 4) || strchr("+?{", pat[4]) || strstr(pat, "\\Q"))
                return 0;
        for (const char *q = pat + 4; *q; q++) {
                if (*q == '\\' && q[1])
                        q++;
                else if (cls)
                        cls = *q != ']';
                else if (*q == '[')
                        cls = 1, q += q[1] == '^' ? 1 : 0, q += q[1] == ']' ? 1 : 0;
                else if (*q == '(' || *q == ')')
                        depth += *q == '(' ? 1 : -1;
                else if ((*q == '|' && !depth) || depth < 0)
                        return 0;
        }
        return 1;
}

/* One pass per line and kind instead of one per pattern. Patterns anchored
 * at the line start are kept apart from floating ones: mixed in one
 * alternation, they would stop PCRE2 from skipping ahead to a possible
 * first character. When every pattern that drops a line from its start
 * begins with "^\s*", that is matched once for all of them: "^\s*(?:A|B)"
 * matches a line exactly when "^\s*A|^\s*B" does, and for a dropped line
 * only whether there is a match counts. */
static int load_noise(mm_parser_t *p, char *errstr, size_t errstr_size) {
        mm_buf_t alt[4] = {MM_BUF_INIT, MM_BUF_INIT, MM_BUF_INIT, MM_BUF_INIT};
        mm_buf_t tail = MM_BUF_INIT; /* the line-dropping anchored ones without "^\s*" */
        uint64_t any_need[4] = {0};
        int always[4] = {0}, common = 1, rc = 0;
        if (!(p->noise_cues = mm_cues_new_exact())) {
                snprintf(errstr, errstr_size, "out of memory");
                return -1;
        }
        for (size_t i = 0; i < mm_table_rows(p->t_noise) && !rc; i++) {
                const char *pat = mm_table_get(p->t_noise, i, 0);
                const char *scope = mm_table_get(p->t_noise, i, 1);
                int line = !strcmp(scope, "line");
                if (!line && strcmp(scope, "cut")) {
                        snprintf(errstr, errstr_size, "noise table: unknown scope \"%s\"", scope);
                        rc = -1;
                        break;
                }
                int k = 2 * line + (pat[0] == '^');
                mm_buf_t *a = &alt[k];
                uint64_t need;
                if (mm_cues_add(p->noise_cues, mm_table_get(p->t_noise, i, 2), pat, &need, errstr,
                                errstr_size)) {
                        rc = -1;
                        break;
                }
                /* an alternation is tried where one of its patterns may
                 * match: on every line once one pattern has no cues */
                any_need[k] |= need;
                always[k] |= !need;
                mm_buf_append(a, a->len ? "|(?:" : "(?:", a->len ? 4 : 3);
                mm_buf_append(a, pat, strlen(pat));
                mm_buf_putc(a, ')');
                if (line && pat[0] == '^') {
                        common &= ws_anchored(pat);
                        mm_buf_puts(&tail, tail.len ? "|(?:" : "^\\s*(?:(?:");
                        mm_buf_puts(&tail, common ? pat + 4 : "");
                        mm_buf_putc(&tail, ')');
                }
        }
        if (common && tail.len && !mm_buf_failed(&tail)) {
                mm_buf_putc(&tail, ')');
                mm_buf_reset(&alt[3]);
                mm_buf_append(&alt[3], tail.p, tail.len);
        }
        mm_buf_release(&tail);
        for (int k = 0; k < 4 && !rc; k++) {
                if (!alt[k].p)
                        continue;
                p->noise_drop[p->nnoise] = k >= 2;
                p->noise_need[p->nnoise] = always[k] ? 0 : any_need[k];
                p->noise[p->nnoise] = mm_rx_new(alt[k].p, 0, errstr, errstr_size);
                if (!p->noise[p->nnoise++])
                        rc = -1;
        }
        for (int q = 0; q < 4; q++)
                mm_buf_release(&alt[q]);
        return rc;
}

static int load_patterns(mm_parser_t *p, char *errstr, size_t errstr_size) {
        if (load_rxlist(&p->history, p->t_history, 0, -1, MM_RX_CASELESS, errstr, errstr_size) ||
            load_cues(&p->history, p->t_history, 0, 1, errstr, errstr_size) ||
            load_rxlist(&p->absence, p->t_absence, 0, -1, MM_RX_CASELESS, errstr, errstr_size) ||
            load_rxlist(&p->closed, p->t_closed, 1, 0, MM_RX_CASELESS, errstr, errstr_size) ||
            load_rxlist(&p->caseno, p->t_case, 1, 0, MM_RX_ANCHORED, errstr, errstr_size) ||
            load_rxlist(&p->committees, p->t_committees, 0, -1, 0, errstr, errstr_size) ||
            load_rxlist(&p->places, p->t_places, 0, -1, MM_RX_CASELESS, errstr, errstr_size))
                return -1;
        p->closed_scope = calloc(p->closed.n + 1, sizeof(int));
        if (!p->closed_scope)
                return OOM(errstr, errstr_size);
        for (size_t i = 0; i < p->closed.n; i++) {
                const char *sc = p->closed.tag[i];
                p->closed_scope[i] = !strcmp(sc, "title")         ? 0
                                     : !strcmp(sc, "region")      ? 1
                                     : !strcmp(sc, "region_end")  ? 2
                                     : !strcmp(sc, "mark_open")   ? 3
                                     : !strcmp(sc, "mark_closed") ? 4
                                                                  : -1;
                if (p->closed_scope[i] < 0) {
                        snprintf(errstr, errstr_size, "closed table: unknown scope \"%s\"", sc);
                        return -1;
                }
        }
        p->item_num = mm_rx_new(
                "^(\\d{1,4})\\s*(?:[.):]?(?:\\t\\s*|\\s+(?![a-zæøå]))|\\.(?=[A-ZÆØÅ]))(\\S.*)$", 0,
                errstr, errstr_size);
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
        return p->item_num && p->item_punkt && p->header_absence ? 0 : -1;
}

mm_parser_t *mm_parser_new(size_t max_bytes, char *errstr, size_t errstr_size) {
        mm_parser_t *p = calloc(1, sizeof(*p));
        if (!p) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        p->max_bytes = max_bytes ? max_bytes : MM_PARSER_DEFAULT_MAX_BYTES;
        if (load_tables(p, errstr, errstr_size) || load_sections(p, errstr, errstr_size) ||
            load_labels(p, errstr, errstr_size) || load_noise(p, errstr, errstr_size) ||
            load_patterns(p, errstr, errstr_size) || mm_reflow_load(p, errstr, errstr_size)) {
                mm_parser_destroy(p);
                return NULL;
        }
        return p;
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
        free(p->case_label_doc);
        free(p->closed_scope);
        for (size_t i = 0; i < p->nnoise; i++)
                mm_rx_destroy(p->noise[i]);
        mm_cues_destroy(p->noise_cues);
        free_rxlist(&p->history);
        free_rxlist(&p->absence);
        free_rxlist(&p->closed);
        free_rxlist(&p->caseno);
        free_rxlist(&p->committees);
        free_rxlist(&p->places);
        mm_rx_destroy(p->item_num);
        mm_rx_destroy(p->item_punkt);
        mm_rx_destroy(p->header_absence);
        mm_reflow_unload(p);
        mm_table_destroy(p->t_sections);
        mm_table_destroy(p->t_history);
        mm_table_destroy(p->t_absence);
        mm_table_destroy(p->t_labels);
        mm_table_destroy(p->t_noise);
        mm_table_destroy(p->t_closed);
        mm_table_destroy(p->t_case);
        mm_table_destroy(p->t_case_labels);
        mm_table_destroy(p->t_committees);
        mm_table_destroy(p->t_places);
        mm_classify_destroy(p->cls);
        free(p);
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

/* Rejects inputs that are plainly not text. Runs over every byte of every
 * document: words of 8 bytes without a control byte (most of a text) are
 * passed over whole. */
static int check_binary(const char *buf, size_t len, mm_parse_error_t *err) {
        size_t ctrl = 0, nul = 0;
        for (size_t i = 0; i < len;) {
                while (len - i >= 8 && !mm_str_word_has_below(mm_str_word(buf + i), 0x20) &&
                       !mm_str_word_has_byte(mm_str_word(buf + i), 0x7f))
                        i += 8;
                for (size_t end = len - i >= 8 ? i + 8 : len; i < end; i++) {
                        unsigned char ch = (unsigned char)buf[i];
                        if (ch == 0)
                                nul++;
                        else if ((ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r' &&
                                  ch != '\f') ||
                                 ch == 0x7f)
                                ctrl++;
                }
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

/* "Beslutning i Byrådet den 26. marts 2024" in the minutes of that
 * meeting is this meeting's decision, not history. */
static void own_meeting_decisions(ctx_t *c, json_t *doc) {
        int y, mo, d;
        const char *md = json_string_value(json_object_get(doc, "meeting_date"));
        if (!md || sscanf(md, "%d-%d-%d", &y, &mo, &d) != 3 || c->p->decision_sec < 0)
                return;
        for (size_t i = 0; i < c->n; i++)
                if (LI(c, i)->hist && LI(c, i)->hy == y && LI(c, i)->hm == mo &&
                    LI(c, i)->hd == d) {
                        LIW(c, i)->hist = 0;
                        LIW(c, i)->sec1 = (int16_t)(c->p->decision_sec + 1);
                }
}

/* The header ends at the first item (or the first consumed line). */
static void header_pass(ctx_t *c, json_t *doc) {
        size_t hend = c->nitems ? c->items[0].head : (c->n < 80 ? c->n : 80);
        for (size_t k = 1; k < c->nitems; k++)
                hend = c->items[k].head < hend ? c->items[k].head : hend;
        for (size_t i = 0; i < hend; i++)
                if (LI(c, i)->consumed && !LI(c, i)->case_label && !LI(c, i)->doc_no)
                        hend = i;
        mm_header_parse(c, doc, hend);
        own_meeting_decisions(c, doc);
}

/* Builds every item; a "Lukket dagsorden" heading between items closes
 * the items after it until an "Åben dagsorden" heading. */
static void items_pass(ctx_t *c, json_t *items) {
        const mm_parser_t *p = c->p;
        json_t *bilag[MM_MAX_BILAG];
        size_t owner[MM_MAX_BILAG], nb = 0;
        int in_closed = 0;
        for (size_t k = 0; k < c->nitems; k++) {
                size_t before = nb;
                size_t from = k ? c->items[k - 1].start : c->items[k].head;
                for (size_t i = from; i < c->items[k].head; i++) {
                        /* Region markers are short heading lines, and start
                         * with "Lukket", "Ikke", "Åben" or "Offentlig". */
                        unsigned char f0 = (unsigned char)c->L[i].s[0];
                        if (c->L[i].blank || c->L[i].len > 60 || !strchr("LlIiOo\xc3", f0))
                                continue;
                        for (size_t r = 0; r < p->closed.n; r++)
                                if ((p->closed_scope[r] == 1 || p->closed_scope[r] == 2) &&
                                    mm_rx_exec(p->closed.rx[r], c->m, c->L[i].s, c->L[i].len, 0))
                                        in_closed = p->closed_scope[r] == 1;
                }
                if (in_closed)
                        c->items[k].closed = 1;
                mm_sections_build_item(c, &c->items[k], k + 1, items, bilag, &nb);
                for (size_t q = before; q < nb; q++)
                        owner[q] = k;
        }
        for (size_t q = 0; q < nb; q++)
                c->work += json_array_size(bilag[q]);
        mm_sections_assign_attachments(items, bilag, owner, nb, c->warnings);
        for (size_t q = 0; q < nb; q++)
                json_decref(bilag[q]);
}

static void warn(ctx_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(ctx_t *c, const char *fmt, ...) {
        char w[160];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(w, sizeof(w), fmt, ap);
        va_end(ap);
        json_array_append_new(c->warnings, json_string(w));
}

/* An item's confidence from the evidence of its heading: how sure the
 * segmentation is that this is an item, and that it was read whole. */
static double item_confidence(const item_t *it, json_t *o) {
        double conf = 0.4;
        conf += it->ev & MM_EV_SECTION ? 0.25 : 0;
        conf += it->ev & MM_EV_CASE ? 0.15 : 0;
        conf += it->ev & (MM_EV_MARKUP | MM_EV_TOC) ? 0.1 : 0;
        conf += it->ev & MM_EV_BODY ? 0.1 : 0;
        if (!json_string_length(json_object_get(o, "title")))
                conf -= 0.3;
        return conf < 0 ? 0 : conf > 1 ? 1 : conf;
}

/* Document kind, per-item confidence, warnings and overall confidence. */
static void judge(ctx_t *c, json_t *doc, json_t *items) {
        size_t ni = json_array_size(items), weak = 0;
        int decided = 0;
        double sum = 0;
        for (size_t k = 0; k < ni; k++) {
                json_t *it = json_array_get(items, k);
                double ic = item_confidence(&c->items[k], it);
                if (json_is_true(json_object_get(it, "has_decision")))
                        decided++;
                json_object_del(it, "has_decision");
                json_object_set_new_nocheck(it, "confidence",
                                            json_real((double)(long)(ic * 1000) / 1000.0));
                sum += ic;
                if (ic < 0.6) {
                        if (weak++ < 5)
                                warn(c,
                                     "item %d: weak heading evidence (no section heading or "
                                     "journal number)",
                                     c->items[k].number);
                }
        }
        if (weak > 5)
                warn(c, "%zu items with weak heading evidence", weak);
        /* A header that says "Referat" decides when most items show no
         * text (a table of contents, a cut-off page): a document is an
         * agenda only when its items are shown and nothing is decided.
         * So does a header that says "Referat" and records who was
         * absent: the page was cut before the first decision. */
        size_t bare = 0;
        for (size_t k = 0; k < c->nitems; k++)
                bare += c->items[k].start >= c->items[k].end;
        int minutes = decided || (c->minutes_word && (2 * bare >= c->nitems || c->nhabs > 0));
        json_object_set_new_nocheck(doc, "kind",
                                    json_string_nocheck(minutes ? "minutes" : "agenda"));
        if (mm_text_was_cp1252(c->text))
                warn(c, "input is not UTF-8: decoded as Windows-1252");
        if (mm_text_repairs(c->text))
                warn(c, "repaired %zu spaces before combining marks", mm_text_repairs(c->text));
        if (!json_is_string(json_object_get(doc, "meeting_date")))
                warn(c, "no meeting date found");
        if (!json_is_string(json_object_get(doc, "committee")))
                warn(c, "no committee found");
        for (size_t k = 1; k < c->nitems; k++)
                if (c->items[k].number < c->items[k - 1].number) {
                        warn(c, "item numbers are not in ascending order");
                        break;
                }
        double conf = 0;
        conf += json_is_string(json_object_get(doc, "meeting_date")) ? 0.15 : 0;
        conf += json_is_string(json_object_get(doc, "committee")) ? 0.1 : 0;
        conf += json_is_string(json_object_get(doc, "municipality")) ? 0.05 : 0;
        conf += ni ? 0.7 * sum / (double)ni : 0;
        json_object_set_new_nocheck(doc, "confidence",
                                    json_real((double)(long)(conf * 1000) / 1000.0));
}

/* Decodes and analyses the text: the passes before the header. Returns 0,
 * or -1 with err filled. */
static int read_text(ctx_t *c, const char *buf, size_t len, mm_parse_error_t *err) {
        const mm_parser_t *p = c->p;
        char errstr[256];
        size_t nonblank = 0;
        if (!(c->m = mm_rx_match_new())) {
                set_err(err, "internal", "out of memory");
                return -1;
        }
        /* A run-on transcript is read from a copy broken into lines (the
         * same bytes at the same offsets, but for spaces made breaks). */
        size_t breaks = 0;
        if ((c->reflowed = mm_reflow_text(p, c->m, buf, len, &breaks)))
                buf = c->reflowed;
        if (c->reflowed && getenv("MM_DEBUG_REFLOW"))
                fprintf(stderr, "%s\n", c->reflowed);
        c->text = mm_text_new_borrowed(buf, len, p->noise, p->noise_drop, p->noise_need, p->nnoise,
                                       p->noise_cues, c->m, errstr, sizeof(errstr));
        if (!c->text) {
                set_err(err, "internal", "%s", errstr);
                return -1;
        }
        c->n = mm_text_nlines(c->text);
        c->L = c->n ? mm_text_line(c->text, 0) : NULL;
        for (size_t i = 0; i < c->n; i++)
                nonblank += !c->L[i].blank;
        if (!nonblank) {
                set_err(err, "empty", "input holds only white space");
                return -1;
        }
        c->lip = calloc(c->n / MM_LI_PAGE + 1, sizeof(*c->lip));
        c->participants = json_array();
        c->warnings = json_array();
        if (!c->lip || !c->participants || !c->warnings) {
                set_err(err, "internal", "out of memory");
                return -1;
        }
        mm_lines_analyse(c);
        mm_lines_page_furniture(c);
        mm_sequence_find_items(c);
        mm_toc_complete(c);
        mm_toc_by_marks(c);
        if (c->oom) {
                set_err(err, "internal", "out of memory");
                return -1;
        }
        return 0;
}

static void free_ctx(ctx_t *c) {
        for (size_t k = 0; k < c->nitems; k++)
                free(c->items[k].title);
        for (int h = 0; h < c->nhabs; h++)
                free(c->habs[h].name);
        free(c->items);
        for (size_t k = 0; c->lip && k <= c->n / MM_LI_PAGE; k++)
                free(c->lip[k]);
        free(c->lip);
        json_decref(c->participants);
        json_decref(c->warnings);
        mm_text_destroy(c->text);
        free(c->reflowed); /* after the text that borrowed it */
        mm_rx_match_destroy(c->m);
}

json_t *mm_parser_parse(const mm_parser_t *p, const char *buf, size_t len, mm_parse_error_t *err) {
        mm_parse_stats_t st;
        return mm_parser_parse_stats(p, buf, len, err, &st);
}

json_t *mm_parser_parse_stats(const mm_parser_t *p, const char *buf, size_t len,
                              mm_parse_error_t *err, mm_parse_stats_t *stats) {
        ctx_t c = {.p = p};
        json_t *out = NULL, *doc = NULL, *items = NULL;

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
        if (check_binary(buf, len, err) || read_text(&c, buf, len, err))
                goto done;
        doc = json_object();
        items = json_array();
        header_pass(&c, doc);
        if (!c.nitems) {
                /* Never an empty meeting: a header without items is an error. */
                if (json_is_string(json_object_get(doc, "meeting_date")) ||
                    json_is_string(json_object_get(doc, "committee")))
                        set_err(err, "no_items", "a meeting header but no agenda item was found");
                else
                        set_err(err, "not_minutes",
                                "no meeting header (date or committee) and no agenda items found");
                goto done;
        }
        items_pass(&c, items);
        judge(&c, doc, items);
        json_object_set_new_nocheck(doc, "warnings", c.warnings);
        c.warnings = NULL; /* owned by doc now */
        size_t sl;
        (void)mm_text_source(c.text, &sl);
        json_object_set_new_nocheck(doc, "length", json_integer((json_int_t)sl));
        out = json_object();
        json_object_set_new_nocheck(out, "document", doc);
        json_object_set_new_nocheck(out, "items", items);
        doc = items = NULL; /* owned by out now */
done:
        stats->work = c.work;
        stats->lines = c.n;
        stats->candidates = c.ncand;
        json_decref(doc);
        json_decref(items);
        free_ctx(&c);
        return out;
}

const char *mm_parser_section_kind(const mm_parser_t *p, const char *heading, size_t len) {
        int i = p && heading ? mm_lines_match_section(p, heading, len) : -1;
        return i >= 0 ? p->secs[i].kind : NULL;
}
