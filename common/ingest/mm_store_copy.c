/*
 * mm_store_copy: how a batch's documents are written (the one write path).
 *
 * In the batch's transaction (mm_store.c):
 *   1. mm_ingest_documents (schemas/008_one_write_path.sql) gets the
 *      documents without their child rows as JSON, and their raw texts as
 *      a binary text[] beside it; it fences and stores the offsets, stores
 *      the documents and their meetings (source revisions, supersede rules)
 *      and returns each new document's id and meeting id;
 *   2. one agenda_items id per item is drawn in one query;
 *   3. the child rows (participants, agenda_items, item_sections,
 *      item_absences, attachments, amounts, law_references) are COPYed.
 *
 * Values of the child rows. The model (mm_parser.h) holds strings,
 * integers, reals and booleans where the columns expect them; a value of
 * another type is not an error, it is stored as NULL (it is a value the
 * parser or an export got wrong, and the rest of the document is kept):
 *   - text column: a string as it is, an integer in decimal, true/false as
 *     "true"/"false"; anything else (a real, an object, an array) NULL;
 *   - integer column (number, ord: at most 9 digits; offsets and lengths:
 *     at most 18): a JSON integer within those digits, or a string of
 *     them with an optional sign and ASCII white space around; else NULL
 *     (ord then falls back to the item's position);
 *   - numeric column (amounts.value): a JSON number below 1e30 in
 *     magnitude (a real with 17 significant digits), or a string
 *     /\s*[-+]?(\d{1,30}(\.\d{0,30})?|\.\d{1,30})([eE][-+]?\d{1,2})?\s*\/
 *     (ASCII white space) without the spaces; else NULL;
 *   - real column (confidence): as numeric, then NULL unless it is 0 or
 *     1e-30 <= |v| <= 1e30;
 *   - boolean: public is NOT closed (closed only when it is JSON true);
 *     history is a JSON boolean or NULL;
 *   - lists of names (participants, absences, attachments): one row per
 *     element that has a text (rule above); ord is the element's position;
 *   - outcome_parts: a text[] with a NULL for an element without a text.
 * Text that PostgreSQL cannot hold (a NUL, bytes that are not UTF-8) is
 * sent as it is and refused (SQLSTATE 22021): a data error of the
 * document. tests/integration/test_store_copy.sh checks every rule
 * against an independent reading of the same documents
 * (tests/integration/store_expected.py).
 */
#include "mm_store.h"
#include "mm_store_int.h"
#include "mm_store_votes.h"

#include "mm_buf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_digit(char c) {
        return c >= '0' && c <= '9';
}

/* What \s matches in ASCII. */
static int is_space(char c) {
        return c == ' ' || (c >= '\t' && c <= '\r');
}

/* The text of `v` in a text column, or NULL (see the rules above). `num`
 * holds a number's digits; *n gets the length. */
static const char *text_of(const json_t *v, char num[32], size_t *n) {
        if (json_is_string(v)) {
                *n = json_string_length(v);
                return json_string_value(v);
        }
        if (json_is_integer(v))
                snprintf(num, 32, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        else if (json_is_boolean(v))
                snprintf(num, 32, "%s", json_is_true(v) ? "true" : "false");
        else
                return NULL;
        *n = strlen(num);
        return num;
}

/* Counts a run of digits at *t (before `end`), advancing it. */
static int digit_run(const char **t, const char *end) {
        int n = 0;
        while (*t < end && is_digit(**t)) {
                (*t)++;
                n++;
        }
        return n;
}

static const char *skip_spaces(const char *t, const char *end) {
        while (t < end && is_space(*t))
                t++;
        return t;
}

/* A string of 1..max_digits digits with an optional sign and spaces
 * around: 1 with *out, else 0. */
static int try_integer(const char *t, size_t len, int max_digits, long long *out) {
        const char *end = t + len;
        t = skip_spaces(t, end);
        int neg = t < end && *t == '-';
        if (t < end && (*t == '-' || *t == '+'))
                t++;
        const char *d = t;
        int n = digit_run(&t, end);
        if (n < 1 || n > max_digits || skip_spaces(t, end) != end)
                return 0;
        long long v = 0;
        for (int i = 0; i < n; i++)
                v = v * 10 + (d[i] - '0');
        *out = neg ? -v : v;
        return 1;
}

/* The integer of `v` for a column of at most max_digits digits. */
static int integer_of(const json_t *v, int max_digits, long long *out) {
        if (json_is_integer(v)) {
                long long x = json_integer_value(v);
                long long limit = max_digits >= 18 ? 999999999999999999LL : 999999999LL;
                if (x > limit || x < -limit)
                        return 0;
                *out = x;
                return 1;
        }
        if (json_is_string(v))
                return try_integer(json_string_value(v), json_string_length(v), max_digits, out);
        return 0;
}

/* The numeric pattern (see above) on [t, t + len): 1 with [*s, *e) the
 * number without the spaces, else 0. */
static int try_numeric(const char *t, size_t len, const char **s, const char **e) {
        const char *end = t + len;
        t = skip_spaces(t, end);
        *s = t;
        if (t < end && (*t == '-' || *t == '+'))
                t++;
        int ni = digit_run(&t, end), nf = -1;
        if (t < end && *t == '.') {
                t++;
                nf = digit_run(&t, end);
        }
        if (ni > 30 || nf > 30 || (ni == 0 && nf < 1))
                return 0;
        if (t < end && (*t == 'e' || *t == 'E')) {
                t++;
                if (t < end && (*t == '-' || *t == '+'))
                        t++;
                int ne = digit_run(&t, end);
                if (ne < 1 || ne > 2)
                        return 0;
        }
        *e = t;
        return skip_spaces(t, end) == end;
}

/* The number text of `v` for a numeric column: 1 with [*s, *e), else 0.
 * `num` holds a JSON number's text. */
static int number_of(const json_t *v, char num[40], const char **s, const char **e) {
        if (json_is_integer(v)) {
                snprintf(num, 40, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        } else if (json_is_real(v)) {
                double x = json_real_value(v);
                if (!isfinite(x) || fabs(x) >= 1e30)
                        return 0;
                snprintf(num, 40, "%.17g", x);
        } else if (json_is_string(v)) {
                return try_numeric(json_string_value(v), json_string_length(v), s, e);
        } else {
                return 0;
        }
        *s = num;
        *e = num + strlen(num);
        return 1;
}

/* A real column's range: 0 (NULL), 1 (1e-30 <= |v| <= 1e30) or 2 (zero)
 * for the number [s, end) that try_numeric or number_of accepted. */
static int real_in_range(const char *s, const char *end) {
        if (*s == '-' || *s == '+')
                s++;
        char sig[64];
        int n = 0, frac = 0, in_frac = 0;
        long exp10 = 0;
        for (; s < end; s++) {
                if (*s == '.') {
                        in_frac = 1;
                } else if (*s == 'e' || *s == 'E') {
                        exp10 = strtol(s + 1, NULL, 10);
                        break;
                } else if (n > 0 || *s != '0') {
                        sig[n++] = *s; /* at most 60 digits: see try_numeric */
                        frac += in_frac;
                } else {
                        frac += in_frac; /* a leading zero after the point */
                }
        }
        while (n > 0 && sig[n - 1] == '0') {
                n--;
                frac--;
        }
        if (n == 0)
                return 2;                /* zero */
        long top = exp10 - frac + n - 1; /* 10^top <= |v| < 10^(top+1) */
        return top >= -30 && (top < 30 || (top == 30 && n == 1));
}

/* Appends `s` (n bytes) as one COPY text field. A NUL goes as \000: COPY
 * then refuses the row with 22021 (a data error of the document). */
static void copy_escaped(mm_buf_t *b, const char *s, size_t n) {
        size_t run = 0;
        for (size_t i = 0; i < n; i++) {
                const char *e = s[i] == '\\'   ? "\\\\"
                                : s[i] == '\t' ? "\\t"
                                : s[i] == '\n' ? "\\n"
                                : s[i] == '\r' ? "\\r"
                                : s[i] == '\0' ? "\\000"
                                               : NULL;
                if (!e)
                        continue;
                mm_buf_append(b, s + run, i - run);
                mm_buf_puts(b, e);
                run = i + 1;
        }
        mm_buf_append(b, s + run, n - run);
}

/* One COPY field: separator, then the value or \N. */
static void f_sep(mm_buf_t *b, int first) {
        if (!first)
                mm_buf_putc(b, '\t');
}

static void f_null(mm_buf_t *b) {
        mm_buf_puts(b, "\\N");
}

static void f_int(mm_buf_t *b, long long v) {
        char n[32];
        snprintf(n, sizeof(n), "%lld", v);
        mm_buf_puts(b, n);
}

/* `v` as a text column. */
static void f_text(mm_buf_t *b, const json_t *v) {
        char num[32];
        size_t n;
        const char *t = text_of(v, num, &n);
        if (t)
                copy_escaped(b, t, n);
        else
                f_null(b);
}

/* `v` as an integer column of at most max_digits digits. */
static void f_integer(mm_buf_t *b, const json_t *v, int max_digits) {
        long long n;
        if (integer_of(v, max_digits, &n))
                f_int(b, n);
        else
                f_null(b);
}

/* `v` as a numeric (real_only = 0) or real (1) column. */
static void f_number(mm_buf_t *b, const json_t *v, int real_only) {
        char num[40];
        const char *s, *e;
        int range = 1;
        if (!number_of(v, num, &s, &e) || (real_only && (range = real_in_range(s, e)) == 0))
                f_null(b);
        else if (range == 2)
                mm_buf_putc(b, '0'); /* numeric has no -0: '-0'::numeric::real is 0 */
        else
                mm_buf_append(b, s, (size_t)(e - s));
}
/* The new documents of a batch, in input order, with their item ids. */
typedef struct ins_doc_s {
        const json_t *parse;
        long long doc_id, meeting_id;
} ins_doc_t;

typedef struct ins_set_s {
        ins_doc_t *d;
        size_t n;
        long long *item_ids; /* one per item of items_of(d[0..n)), in order */
        size_t nitems;
} ins_set_t;

/* parse.items when it is an array (004: jsonb_typeof guard), else NULL. */
static const json_t *items_of(const json_t *parse) {
        const json_t *a = json_object_get(parse, "items");
        return json_is_array(a) ? a : NULL;
}

/* v.key when it is an array, else NULL (no rows). */
static const json_t *array_at(const json_t *v, const char *key) {
        const json_t *a = json_object_get(v, key);
        return json_is_array(a) ? a : NULL;
}

/* One COPY ... FROM STDIN in progress: rows are buffered and sent in
 * pieces of about COPY_PIECE bytes. Small pieces, because PostgreSQL waits
 * for the first one: with 1 MB pieces it waited while the worker rendered
 * each small table whole (12 ms for 3,900 agenda items), on every batch. */
#define COPY_PIECE (64 * 1024)
typedef struct copy_s {
        PGconn *conn;
        mm_buf_t buf, tmp;
        int send_failed;
} copy_t;

static void copy_flush(copy_t *c, size_t above) {
        if (c->buf.len <= above || c->send_failed || mm_buf_failed(&c->buf))
                return;
        if (PQputCopyData(c->conn, c->buf.p, (int)c->buf.len) != 1)
                c->send_failed = 1;
        mm_buf_reset(&c->buf);
}

/* Ends the COPY and returns its class; an error raised while the rows
 * streamed in (a refused value, a foreign key) comes back here. */
static int copy_end(copy_t *c, const char *table, char *errstr, size_t errstr_size) {
        copy_flush(c, 0);
        int oom = mm_buf_failed(&c->buf) || mm_buf_failed(&c->tmp);
        mm_buf_release(&c->buf);
        mm_buf_release(&c->tmp);
        /* An aborted COPY (no memory, a failed send) ends with an error
         * message; the server then raises 57014 (systemic). */
        const char *abort_msg = oom ? "out of memory" : c->send_failed ? "send failed" : NULL;
        if (PQputCopyEnd(c->conn, abort_msg) != 1) {
                snprintf(errstr, errstr_size, "COPY %s: %s", table, PQerrorMessage(c->conn));
                return MM_STORE_ERR_TRANSIENT; /* rollback() drops the connection */
        }
        int rc = MM_STORE_OK;
        PGresult *r;
        while ((r = PQgetResult(c->conn)) != NULL) {
                if (PQresultStatus(r) == PGRES_COPY_IN) { /* never after PQputCopyEnd */
                        PQclear(r);
                        break;
                }
                if (rc == MM_STORE_OK && PQresultStatus(r) != PGRES_COMMAND_OK) {
                        char what[64];
                        snprintf(what, sizeof(what), "COPY %s", table);
                        rc = mm_store_result_error(c->conn, r, what, errstr, errstr_size);
                } else {
                        PQclear(r);
                }
        }
        if (rc == MM_STORE_OK && abort_msg) {
                snprintf(errstr, errstr_size, "COPY %s: %s", table, abort_msg);
                rc = MM_STORE_ERR_TRANSIENT;
        }
        return rc;
}

/* Starts `sql` (a COPY ... FROM STDIN). */
static int copy_begin(copy_t *c, PGconn *conn, const char *sql, const char *table, char *errstr,
                      size_t errstr_size) {
        memset(c, 0, sizeof(*c));
        c->conn = conn;
        PGresult *r = PQexecParams(conn, sql, 0, NULL, NULL, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_COPY_IN) {
                char what[64];
                snprintf(what, sizeof(what), "COPY %s", table);
                return mm_store_result_error(conn, r, what, errstr, errstr_size);
        }
        PQclear(r);
        return MM_STORE_OK;
}

int mm_store_copy_rows(PGconn *conn, const char *sql, const char *table, const char *rows,
                       size_t len, char *errstr, size_t errstr_size) {
        copy_t c;
        int rc = copy_begin(&c, conn, sql, table, errstr, errstr_size);
        if (rc != MM_STORE_OK)
                return rc;
        for (size_t off = 0; off < len && !c.send_failed; off += COPY_PIECE) {
                size_t n = len - off < COPY_PIECE ? len - off : COPY_PIECE;
                if (PQputCopyData(conn, rows + off, (int)n) != 1)
                        c.send_failed = 1;
        }
        return copy_end(&c, table, errstr, errstr_size);
}

/* participants: one row per name (1-based position in
 * parse.document.participants; an element without a text has none). */
static void rows_participants(copy_t *c, const ins_set_t *s) {
        char num[32];
        size_t n;
        for (size_t k = 0; k < s->n; k++) {
                const json_t *doc = json_object_get(s->d[k].parse, "document");
                const json_t *a = array_at(doc, "participants");
                for (size_t i = 0; i < json_array_size(a); i++) {
                        const char *t = text_of(json_array_get(a, i), num, &n);
                        if (!t)
                                continue;
                        f_int(&c->buf, s->d[k].doc_id);
                        f_sep(&c->buf, 0);
                        f_int(&c->buf, s->d[k].meeting_id);
                        f_sep(&c->buf, 0);
                        f_int(&c->buf, (long long)i + 1);
                        f_sep(&c->buf, 0);
                        copy_escaped(&c->buf, t, n);
                        mm_buf_putc(&c->buf, '\n');
                        copy_flush(c, COPY_PIECE);
                }
        }
}

/* outcome_parts as a text[] literal: every element quoted, " and \
 * escaped; an element without a text is NULL. Not an array: '{}'. */
static void f_text_array(copy_t *c, const json_t *a) {
        mm_buf_t *lit = &c->tmp;
        mm_buf_reset(lit);
        mm_buf_putc(lit, '{');
        for (size_t i = 0; i < json_array_size(a); i++) {
                char num[32];
                size_t n;
                const char *t = text_of(json_array_get(a, i), num, &n);
                mm_buf_puts(lit, i ? "," : "");
                if (!t) {
                        mm_buf_puts(lit, "NULL");
                        continue;
                }
                mm_buf_putc(lit, '"');
                for (size_t j = 0; j < n; j++) {
                        if (t[j] == '"' || t[j] == '\\')
                                mm_buf_putc(lit, '\\');
                        mm_buf_putc(lit, t[j]);
                }
                mm_buf_putc(lit, '"');
        }
        mm_buf_putc(lit, '}');
        copy_escaped(&c->buf, lit->p ? lit->p : "{}", lit->len);
}

/* One agenda_items row; ord is the item's order, else its position. */
static void row_item(copy_t *c, const ins_doc_t *d, long long id, const json_t *it, size_t ord) {
        mm_buf_t *b = &c->buf;
        const json_t *kle = json_object_get(it, "kle"), *closed = json_object_get(it, "closed");
        long long order;
        if (!integer_of(json_object_get(it, "order"), 9, &order))
                order = (long long)ord;
        f_int(b, id);
        f_sep(b, 0);
        f_int(b, d->doc_id);
        f_sep(b, 0);
        f_int(b, d->meeting_id);
        f_sep(b, 0);
        f_integer(b, json_object_get(it, "number"), 9);
        f_sep(b, 0);
        f_int(b, order);
        static const char *const texts[] = {"title", "case_number", "case_number_kind"};
        for (size_t i = 0; i < 3; i++) {
                f_sep(b, 0);
                f_text(b, json_object_get(it, texts[i]));
        }
        static const char *const kles[] = {"code", "main_group", "main_group_name"};
        for (size_t i = 0; i < 3; i++) {
                f_sep(b, 0);
                f_text(b, json_object_get(kle, kles[i]));
        }
        f_sep(b, 0);
        mm_buf_puts(b, json_is_true(closed) ? "f" : "t"); /* public = NOT closed */
        f_sep(b, 0);
        f_text(b, json_object_get(it, "outcome"));
        f_sep(b, 0);
        f_text_array(c, array_at(it, "outcome_parts"));
        f_sep(b, 0);
        f_text(b, json_object_get(it, "decision"));
        f_sep(b, 0);
        f_number(b, json_object_get(it, "confidence"), 1);
        f_sep(b, 0);
        f_integer(b, json_object_get(it, "offset"), 18);
        f_sep(b, 0);
        f_integer(b, json_object_get(it, "length"), 18);
        mm_buf_putc(b, '\n');
}

static void rows_items(copy_t *c, const ins_set_t *s) {
        size_t k = 0;
        for (size_t i = 0; i < s->n; i++) {
                const json_t *items = items_of(s->d[i].parse);
                for (size_t j = 0; j < json_array_size(items); j++) {
                        row_item(c, &s->d[i], s->item_ids[k++], json_array_get(items, j), j + 1);
                        copy_flush(c, COPY_PIECE);
                }
        }
}

/* A row of a table under agenda_items: its columns after item_id, from
 * element `e` (ordinal `ord`) of the item's array. */
typedef void (*child_row_fn)(copy_t *c, const json_t *item, const json_t *e, size_t ord);

static void row_section(copy_t *c, const json_t *item, const json_t *e, size_t ord) {
        (void)item;
        const json_t *h = json_object_get(e, "history");
        f_int(&c->buf, (long long)ord);
        static const char *const texts[] = {"heading", "kind", "text"};
        for (size_t i = 0; i < 3; i++) {
                f_sep(&c->buf, 0);
                f_text(&c->buf, json_object_get(e, texts[i]));
        }
        f_sep(&c->buf, 0);
        f_integer(&c->buf, json_object_get(e, "offset"), 18);
        f_sep(&c->buf, 0);
        mm_buf_puts(&c->buf, json_is_boolean(h) ? (json_is_true(h) ? "t" : "f") : "\\N");
}

static void row_absence(copy_t *c, const json_t *item, const json_t *e, size_t ord) {
        (void)item;
        (void)ord;
        f_text(&c->buf, e);
}

/* The element of item.attachment_files that describes attachment name
 * `e` at position `ord`: the one at the same position when its name is
 * the same (the adapters add both lists together), else the first of that
 * name, else NULL (a text meeting names attachments without files). */
static const json_t *attachment_file(const json_t *item, const json_t *e, size_t ord) {
        const json_t *files = array_at(item, "attachment_files");
        const char *name = json_string_value(e);
        if (!files || !name)
                return NULL;
        const json_t *f = json_array_get(files, ord - 1);
        const char *fn = json_string_value(json_object_get(f, "name"));
        if (fn && !strcmp(fn, name))
                return f;
        for (size_t i = 0; i < json_array_size(files); i++) {
                f = json_array_get(files, i);
                fn = json_string_value(json_object_get(f, "name"));
                if (fn && !strcmp(fn, name))
                        return f;
        }
        return NULL;
}

/* 1 if an item of the new documents has an attachment file with an id or
 * a link (what 012's columns hold). */
static int any_attachment_file(const ins_set_t *s) {
        for (size_t i = 0; i < s->n; i++) {
                const json_t *items = items_of(s->d[i].parse);
                for (size_t j = 0; j < json_array_size(items); j++) {
                        const json_t *files =
                                array_at(json_array_get(items, j), "attachment_files");
                        for (size_t k = 0; k < json_array_size(files); k++) {
                                const json_t *f = json_array_get(files, k);
                                if (!json_is_null(json_object_get(f, "id")) &&
                                    json_object_get(f, "id"))
                                        return 1;
                                if (!json_is_null(json_object_get(f, "link")) &&
                                    json_object_get(f, "link"))
                                        return 1;
                        }
                }
        }
        return 0;
}

#define ATTACHMENTS_PLAIN_SQL "COPY attachments (item_id, ord, name) FROM STDIN"

/* ord and name (001's columns; see any_attachment_file). */
static void row_attachment_plain(copy_t *c, const json_t *item, const json_t *e, size_t ord) {
        (void)item;
        f_int(&c->buf, (long long)ord);
        f_sep(&c->buf, 0);
        f_text(&c->buf, e);
}

/* ord, name, and (012) source_id and link from the item's attachment_files. */
static void row_attachment(copy_t *c, const json_t *item, const json_t *e, size_t ord) {
        const json_t *f = attachment_file(item, e, ord);
        f_int(&c->buf, (long long)ord);
        f_sep(&c->buf, 0);
        f_text(&c->buf, e);
        f_sep(&c->buf, 0);
        f_text(&c->buf, json_object_get(f, "id"));
        f_sep(&c->buf, 0);
        f_text(&c->buf, json_object_get(f, "link"));
}

static void row_amount(copy_t *c, const json_t *item, const json_t *e, size_t ord) {
        (void)item;
        (void)ord;
        f_number(&c->buf, json_object_get(e, "value"), 0);
        f_sep(&c->buf, 0);
        f_text(&c->buf, json_object_get(e, "text"));
        f_sep(&c->buf, 0);
        f_text(&c->buf, json_object_get(e, "sentence"));
}

static void row_law(copy_t *c, const json_t *item, const json_t *e, size_t ord) {
        (void)item;
        (void)ord;
        static const char *const texts[] = {"text", "law", "paragraph"};
        for (size_t i = 0; i < 3; i++) {
                f_sep(&c->buf, i == 0);
                f_text(&c->buf, json_object_get(e, texts[i]));
        }
}

/* Rows of `key`'s array of every item: item_id, then row(). In a list of
 * names (`names`), an element without a text has no row. */
static void rows_children(copy_t *c, const ins_set_t *s, const char *key, child_row_fn row,
                          int names) {
        char num[32];
        size_t n;
        size_t k = 0;
        for (size_t i = 0; i < s->n; i++) {
                const json_t *items = items_of(s->d[i].parse);
                for (size_t j = 0; j < json_array_size(items); j++, k++) {
                        const json_t *a = array_at(json_array_get(items, j), key);
                        for (size_t e = 0; e < json_array_size(a); e++) {
                                if (names && !text_of(json_array_get(a, e), num, &n))
                                        continue;
                                f_int(&c->buf, s->item_ids[k]);
                                f_sep(&c->buf, 0);
                                row(c, json_array_get(items, j), json_array_get(a, e), e + 1);
                                mm_buf_putc(&c->buf, '\n');
                                copy_flush(c, COPY_PIECE);
                        }
                }
        }
}

/* The child tables, in an order the foreign keys allow. */
static const struct child_table_s {
        const char *table, *sql, *key; /* key: the item's array; NULL = special */
        child_row_fn row;
        int names; /* key is a list of names */
} child_tables[] = {
        {"participants", "COPY participants (document_id, meeting_id, ord, name) FROM STDIN", NULL,
         NULL, 0},
        {"agenda_items",
         "COPY agenda_items (id, document_id, meeting_id, number, ord, title, case_number,"
         " case_number_kind, kle_code, kle_main_group, kle_main_group_name, public, outcome,"
         " outcome_parts, decision, confidence, text_offset, text_length) FROM STDIN",
         NULL, NULL, 0},
        {"item_sections",
         "COPY item_sections (item_id, ord, heading, kind, text, text_offset, history) FROM STDIN",
         "sections", row_section, 0},
        {"item_absences", "COPY item_absences (item_id, name) FROM STDIN", "absent", row_absence,
         1},
        {"attachments", "COPY attachments (item_id, ord, name, source_id, link) FROM STDIN",
         "attachments", row_attachment, 1},
        {"amounts", "COPY amounts (item_id, value, text, sentence) FROM STDIN", "amounts",
         row_amount, 0},
        {"law_references", "COPY law_references (item_id, text, law, paragraph) FROM STDIN", "laws",
         row_law, 0},
};

/* Draws one agenda_items id per item of the new documents, one query. */
static int draw_item_ids(mm_store_t *st, ins_set_t *s, char *errstr, size_t errstr_size) {
        for (size_t i = 0; i < s->n; i++)
                s->nitems += json_array_size(items_of(s->d[i].parse));
        if (s->nitems == 0)
                return MM_STORE_OK;
        s->item_ids = malloc(s->nitems * sizeof(*s->item_ids));
        if (!s->item_ids) {
                snprintf(errstr, errstr_size, "out of memory");
                return MM_STORE_ERR_TRANSIENT;
        }
        char n[32];
        snprintf(n, sizeof(n), "%zu", s->nitems);
        const char *p[1] = {n};
        PGresult *r = PQexecParams(
                st->conn,
                "SELECT nextval('agenda_items_id_seq') FROM generate_series(1, $1::bigint)", 1,
                NULL, p, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK || (size_t)PQntuples(r) != s->nitems)
                return mm_store_result_error(st->conn, r, "agenda_items ids", errstr, errstr_size);
        for (size_t i = 0; i < s->nitems; i++)
                s->item_ids[i] = strtoll(PQgetvalue(r, (int)i, 0), NULL, 10);
        PQclear(r);
        return MM_STORE_OK;
}

/* The vote rows of the items (migration 010, common/ingest/mm_store_votes.c). */
static int copy_votes(mm_store_t *st, const ins_set_t *s, char *errstr, size_t errstr_size) {
        const json_t **parses = malloc((s->n ? s->n : 1) * sizeof(*parses));
        if (!parses) {
                snprintf(errstr, errstr_size, "out of memory");
                return MM_STORE_ERR_TRANSIENT;
        }
        for (size_t i = 0; i < s->n; i++)
                parses[i] = items_of(s->d[i].parse) ? s->d[i].parse : NULL;
        int rc = mm_store_votes_copy(st->conn, parses, s->n, s->item_ids, s->nitems, errstr,
                                     errstr_size);
        free(parses);
        return rc;
}

/* COPYs every child row of the new documents (inside the caller's
 * transaction). */
static int copy_children(mm_store_t *st, ins_set_t *s, char *errstr, size_t errstr_size) {
        int rc = draw_item_ids(st, s, errstr, errstr_size);
        for (size_t t = 0; rc == MM_STORE_OK && t < sizeof(child_tables) / sizeof(child_tables[0]);
             t++) {
                const struct child_table_s *ct = &child_tables[t];
                if (t > 0 && s->nitems == 0)
                        break; /* no items: nothing under them either */
                /* attachments without ids or links (text meetings) take
                 * 001's columns: a batch of them fits a schema before 012 too */
                int plain = ct->row == row_attachment && !any_attachment_file(s);
                copy_t c;
                rc = copy_begin(&c, st->conn, plain ? ATTACHMENTS_PLAIN_SQL : ct->sql, ct->table,
                                errstr, errstr_size);
                if (rc != MM_STORE_OK)
                        break;
                if (t == 0)
                        rows_participants(&c, s);
                else if (t == 1)
                        rows_items(&c, s);
                else
                        rows_children(&c, s, ct->key, plain ? row_attachment_plain : ct->row,
                                      ct->names);
                rc = copy_end(&c, ct->table, errstr, errstr_size);
        }
        if (rc == MM_STORE_OK && s->nitems)
                rc = copy_votes(st, s, errstr, errstr_size);
        return rc;
}

/* The document as mm_ingest_documents reads it: everything but the parse's
 * items and the document's participants (only the children need them, and
 * PostgreSQL would parse them into jsonb for nothing), and but a raw text
 * that is a string (it goes as a parameter of its own, see
 * raw_texts_param). A new object sharing the values. */
static json_t *slim_doc(json_t *d) {
        json_t *parse = json_object_get(d, "parse");
        int cut_raw = json_is_string(json_object_get(d, "raw_text"));
        if (!json_is_object(parse) && !cut_raw)
                return json_incref(d);
        json_t *s = json_copy(d);
        if (!s)
                return NULL;
        if (cut_raw)
                json_object_del(s, "raw_text");
        if (!json_is_object(parse))
                return s;
        json_t *sp = json_object();
        if (!sp) {
                json_decref(s);
                return NULL;
        }
        json_t *pd = json_object_get(parse, "document");
        int cut = json_is_object(pd) && json_object_get(pd, "participants");
        pd = cut ? json_copy(pd) : json_incref(pd);
        if (cut && !pd) {
                json_decref(s);
                json_decref(sp);
                return NULL;
        }
        if (cut)
                json_object_del(pd, "participants");
        if ((pd && json_object_set_new(sp, "document", pd) != 0) ||
            json_object_set_new(s, "parse", sp) != 0) {
                json_decref(s);
                return NULL;
        }
        return s;
}

char *mm_store_doc_text(json_t *doc) {
        json_t *slim = slim_doc(doc);
        char *t = slim ? json_dumps(slim, JSON_COMPACT) : NULL;
        json_decref(slim);
        return t;
}

/* The JSON array of `docs` without children: each element is texts[i]
 * when there is one (rendered ahead, see mm_store_doc_text), else rendered
 * now. `texts` may be NULL. */
static char *slim_docs_text(const json_t *docs, char *const *texts) {
        size_t n = json_array_size(docs), len = 2;
        char **own = calloc(n ? n : 1, sizeof(*own));
        size_t *lens = calloc(n ? n : 1, sizeof(*lens));
        char *out = NULL;
        if (!own || !lens)
                goto done;
        for (size_t i = 0; i < n; i++) {
                if (!(texts && texts[i]) && !(own[i] = mm_store_doc_text(json_array_get(docs, i))))
                        goto done;
                lens[i] = strlen(texts && texts[i] ? texts[i] : own[i]);
                len += lens[i] + 1;
        }
        out = malloc(len + 1);
        if (out) {
                size_t o = 0;
                out[o++] = '[';
                for (size_t i = 0; i < n; i++) {
                        if (i)
                                out[o++] = ',';
                        memcpy(out + o, texts && texts[i] ? texts[i] : own[i], lens[i]);
                        o += lens[i];
                }
                out[o++] = ']';
                out[o] = '\0';
        }
done:
        for (size_t i = 0; own && i < n; i++)
                free(own[i]);
        free(own);
        free(lens);
        return out;
}

static void put_be32(mm_buf_t *b, uint32_t v) {
        char be[4] = {(char)(v >> 24), (char)(v >> 16), (char)(v >> 8), (char)v};
        mm_buf_append(b, be, 4);
}

/* The documents' raw texts as a text[] in PostgreSQL's binary form (what
 * array_recv reads): dimensions, then a length and the bytes per element;
 * NULL (-1) where a document's raw text is not a string (it then stays in
 * the JSON, see slim_doc). The bytes are checked by the server as any
 * text: invalid UTF-8 or a NUL is refused (22021). */
static int raw_texts_param(const json_t *docs, mm_buf_t *b) {
        size_t n = json_array_size(docs), need = 20;
        if (n > INT32_MAX / 2)
                return -1;
        /* one allocation of the exact size: a buffer doubled up to a few
         * MB each batch left the worker's heap fragmented (steady RSS 60
         * MB against 40 after the stream) */
        for (size_t i = 0; i < n; i++) {
                const json_t *t = json_object_get(json_array_get(docs, i), "raw_text");
                need += 4 + (json_is_string(t) ? json_string_length(t) : 0);
        }
        mm_buf_reserve_exact(b, need);
        put_be32(b, n ? 1 : 0); /* dimensions */
        put_be32(b, 1);         /* may hold NULLs */
        put_be32(b, 25);        /* element type: text */
        if (n) {
                put_be32(b, (uint32_t)n);
                put_be32(b, 1); /* lower bound */
        }
        for (size_t i = 0; i < n; i++) {
                const json_t *t = json_object_get(json_array_get(docs, i), "raw_text");
                if (!json_is_string(t)) {
                        put_be32(b, 0xFFFFFFFFu); /* NULL */
                        continue;
                }
                size_t len = json_string_length(t);
                if (len > INT32_MAX)
                        return -1;
                put_be32(b, (uint32_t)len);
                mm_buf_append(b, json_string_value(t), len);
        }
        return mm_buf_failed(b) || b->len > INT32_MAX ? -1 : 0;
}

void mm_store_set_wait_cb(mm_store_t *st, void (*cb)(void *arg), void *arg) {
        st->wait_cb = cb;
        st->wait_arg = arg;
}

/* PQexecParams, with the wait callback run between sending and awaiting
 * the result: the last result (as PQexecParams), or NULL if nothing could
 * be sent. */
static PGresult *exec_waiting(mm_store_t *st, const char *sql, int n, const Oid *types,
                              const char *const *values, const int *lens, const int *fmts) {
        if (!PQsendQueryParams(st->conn, sql, n, types, values, lens, fmts, 0))
                return NULL;
        if (st->wait_cb)
                st->wait_cb(st->wait_arg);
        PGresult *last = NULL, *r;
        while ((r = PQgetResult(st->conn)) != NULL) {
                PQclear(last);
                last = r;
                if (PQstatus(st->conn) == CONNECTION_BAD)
                        break;
        }
        return last;
}

/* Sends `docs` to mm_ingest_documents: the documents' JSON without their
 * raw texts, which go as a binary text[] beside it. Returns 0 and sets
 * *out to the result (the caller clears it; NULL if it could not be sent:
 * the connection's message says why), or -1 (no memory, or a string that
 * is not UTF-8). */
static int call_ingest_documents(mm_store_t *st, const char *group, const json_t *docs,
                                 char *const *texts, const char *offs_text, PGresult **out) {
        char *docs_text = slim_docs_text(docs, texts);
        mm_buf_t raw = MM_BUF_INIT;
        int rc = -1;
        *out = NULL;
        if (docs_text && raw_texts_param(docs, &raw) == 0) {
                const char *params[4] = {group, docs_text, offs_text, raw.p};
                const Oid types[4] = {0, 0, 0, 1009 /* text[] */};
                const int lens[4] = {0, 0, 0, (int)raw.len}, fmts[4] = {0, 0, 0, 1};
                *out = exec_waiting(st,
                                    "SELECT idx, document_id, meeting_id, status"
                                    " FROM mm_ingest_documents($1, $2::jsonb, $3::jsonb, $4)",
                                    4, types, params, lens, fmts);
                rc = 0;
        }
        free(docs_text);
        mm_buf_release(&raw);
        return rc;
}

/* Runs mm_ingest_documents on `docs` and collects the new documents. */
static int ingest_documents(mm_store_t *st, const char *group, const json_t *docs,
                            char *const *texts, const char *offs_text, ins_set_t *s,
                            size_t *inserted, size_t *duplicates, char *errstr,
                            size_t errstr_size) {
        PGresult *r = NULL;
        if (call_ingest_documents(st, group, docs, texts, offs_text, &r) != 0) {
                snprintf(errstr, errstr_size, "out of memory (or a string that is not UTF-8)");
                return MM_STORE_ERR_TRANSIENT;
        }
        if (PQresultStatus(r) != PGRES_TUPLES_OK)
                return mm_store_result_error(st->conn, r, "mm_ingest_documents", errstr,
                                             errstr_size);
        int rows = PQntuples(r);
        s->d = rows ? calloc((size_t)rows, sizeof(*s->d)) : NULL;
        if (rows && !s->d) {
                PQclear(r);
                snprintf(errstr, errstr_size, "out of memory");
                return MM_STORE_ERR_TRANSIENT;
        }
        for (int i = 0; i < rows; i++) {
                if (strcmp(PQgetvalue(r, i, 3), "inserted") != 0) {
                        if (duplicates)
                                (*duplicates)++;
                        continue;
                }
                if (inserted)
                        (*inserted)++;
                ins_doc_t *d = &s->d[s->n++];
                d->parse = json_object_get(json_array_get(docs, (size_t)atol(PQgetvalue(r, i, 0))),
                                           "parse");
                d->doc_id = strtoll(PQgetvalue(r, i, 1), NULL, 10);
                d->meeting_id = strtoll(PQgetvalue(r, i, 2), NULL, 10);
        }
        PQclear(r);
        return MM_STORE_OK;
}

/* documents.text_source and the OCR columns of the new documents (012). */
static int set_text_sources(mm_store_t *st, const ins_set_t *s, char *errstr, size_t errstr_size) {
        const json_t **parses = malloc(s->n * sizeof(*parses));
        long long *ids = malloc(s->n * sizeof(*ids));
        int rc = MM_STORE_ERR_TRANSIENT;
        if (parses && ids) {
                for (size_t i = 0; i < s->n; i++) {
                        parses[i] = s->d[i].parse;
                        ids[i] = s->d[i].doc_id;
                }
                rc = mm_store_set_text_sources(st, parses, ids, s->n, errstr, errstr_size);
        } else {
                snprintf(errstr, errstr_size, "out of memory");
        }
        free(parses);
        free(ids);
        return rc;
}

int mm_store_write_docs(mm_store_t *st, const char *group, const json_t *docs, char *const *texts,
                        const char *offs_text, size_t *inserted, size_t *duplicates, char *errstr,
                        size_t errstr_size) {
        ins_set_t s = {0};
        int rc = ingest_documents(st, group, docs, texts, offs_text, &s, inserted, duplicates,
                                  errstr, errstr_size);
        if (rc == MM_STORE_OK && s.n > 0)
                rc = copy_children(st, &s, errstr, errstr_size);
        if (rc == MM_STORE_OK && s.n > 0)
                rc = set_text_sources(st, &s, errstr, errstr_size);
        free(s.d);
        free(s.item_ids);
        return rc;
}
