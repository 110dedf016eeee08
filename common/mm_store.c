#include "mm_store.h"
#include "mm_store_votes.h"

#include "mm_buf.h"
#include "mm_log.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mm_store_s {
        char *conninfo;
        PGconn *conn;
        /* bounded waits (mm_store_set_limits); 0 = libpq's / the server's default */
        char connect_timeout[24], keepalives_idle[24];
        long long statement_timeout_ms, lock_timeout_ms;
        /* which write path the schema has: mm_ingest_documents with the
         * raw texts as a parameter (007): 2, without (006): 1, neither
         * (an older schema): 0, not asked yet on this connection: -1 */
        int copy_path;
        void (*wait_cb)(void *arg); /* mm_store_set_wait_cb */
        void *wait_arg;
};

/* A dead letter recorded with the batch (table dead_letters). */
typedef struct batch_dl_s {
        char *topic;
        int32_t partition;
        int64_t offset;
        const void *key, *payload; /* borrowed, see mm_store_batch_add_dead_letter */
        size_t key_len, payload_len, byte_length;
        char *stage, *code, *reason, *delivery;
        char sha256[65];
} batch_dl_t;

typedef struct batch_part_s {
        char *topic;
        int32_t partition;
        int64_t first_offset;
        int64_t next_offset;
} batch_part_t;

struct mm_store_batch_s {
        json_t *docs; /* array */
        char **texts; /* texts[i]: docs[i] as mm_store_doc_text renders it, or NULL */
        size_t captexts;
        batch_part_t *parts;
        size_t nparts, capparts;
        batch_dl_t *dls;
        size_t ndls, capdls;
};

mm_store_t *mm_store_new(const char *conninfo, char *errstr, size_t errstr_size) {
        mm_store_t *st = calloc(1, sizeof(*st));
        if (!st) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        st->conninfo = strdup(conninfo ? conninfo : "");
        if (!st->conninfo) {
                free(st);
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        return st;
}

void mm_store_destroy(mm_store_t *st) {
        if (!st)
                return;
        if (st->conn)
                PQfinish(st->conn);
        free(st->conninfo);
        free(st);
}

static void copy_pq_error(PGconn *conn, char *errstr, size_t errstr_size) {
        const char *m = conn ? PQerrorMessage(conn) : "no connection";
        snprintf(errstr, errstr_size, "%s", m && *m ? m : "unknown error");
        size_t len = strlen(errstr);
        while (len > 0 && (errstr[len - 1] == '\n' || errstr[len - 1] == ' '))
                errstr[--len] = '\0';
}

/* Server notices become debug log lines (JSON), not raw stderr text. */
static void notice_processor(void *arg, const char *message) {
        (void)arg;
        char m[512];
        snprintf(m, sizeof(m), "%s", message);
        size_t len = strlen(m);
        while (len > 0 && m[len - 1] == '\n')
                m[--len] = '\0';
        mm_log(MM_LOG_DEBUG, "postgresql: %s", m);
}

int mm_store_connect(mm_store_t *st, char *errstr, size_t errstr_size) {
        if (st->conn && PQstatus(st->conn) == CONNECTION_OK)
                return 0;
        if (st->conn) {
                PQreset(st->conn);
                st->copy_path = -1;
                if (PQstatus(st->conn) == CONNECTION_OK)
                        return 0;
                copy_pq_error(st->conn, errstr, errstr_size);
                PQfinish(st->conn);
                st->conn = NULL;
                return -1;
        }
        /* Our defaults come BEFORE dbname: with expand_dbname the user's
         * URL or conninfo, expanded in its place, overrides them. */
        const char *keys[8], *vals[8];
        int k = 0;
        if (st->connect_timeout[0]) {
                keys[k] = "connect_timeout";
                vals[k++] = st->connect_timeout;
        }
        if (st->keepalives_idle[0]) {
                keys[k] = "keepalives";
                vals[k++] = "1";
                keys[k] = "keepalives_idle";
                vals[k++] = st->keepalives_idle;
                keys[k] = "keepalives_interval";
                vals[k++] = "5";
                keys[k] = "keepalives_count";
                vals[k++] = "3";
        }
        keys[k] = "dbname";
        vals[k++] = st->conninfo;
        keys[k] = NULL;
        vals[k] = NULL;
        st->conn = PQconnectdbParams(keys, vals, 1);
        if (!st->conn || PQstatus(st->conn) != CONNECTION_OK) {
                copy_pq_error(st->conn, errstr, errstr_size);
                if (st->conn)
                        PQfinish(st->conn);
                st->conn = NULL;
                return -1;
        }
        PQsetNoticeProcessor(st->conn, notice_processor, NULL);
        st->copy_path = -1;
        /* Every statement of the session is bounded: a statement hanging on
         * a lock or a slow server gives an error (57014 / 55P03), which is
         * systemic: the batch is kept and retried. */
        char stm[32], lkm[32];
        snprintf(stm, sizeof(stm), "%lld", st->statement_timeout_ms);
        snprintf(lkm, sizeof(lkm), "%lld", st->lock_timeout_ms);
        const char *p[2] = {stm, lkm};
        PGresult *r = PQexecParams(st->conn,
                                   "SELECT set_config('application_name', 'minutes-worker', false),"
                                   " set_config('statement_timeout', $1, false),"
                                   " set_config('lock_timeout', $2, false)",
                                   2, NULL, p, NULL, NULL, 0);
        PQclear(r);
        return 0;
}

void mm_store_set_limits(mm_store_t *st, long long connect_timeout_s, long long keepalives_idle_s,
                         long long statement_timeout_ms, long long lock_timeout_ms) {
        st->connect_timeout[0] = st->keepalives_idle[0] = '\0';
        if (connect_timeout_s > 0)
                snprintf(st->connect_timeout, sizeof(st->connect_timeout), "%lld",
                         connect_timeout_s);
        if (keepalives_idle_s > 0)
                snprintf(st->keepalives_idle, sizeof(st->keepalives_idle), "%lld",
                         keepalives_idle_s);
        st->statement_timeout_ms = statement_timeout_ms > 0 ? statement_timeout_ms : 0;
        st->lock_timeout_ms = lock_timeout_ms > 0 ? lock_timeout_ms : 0;
}

int mm_store_connected(const mm_store_t *st) {
        return st->conn && PQstatus(st->conn) == CONNECTION_OK;
}

/* Runs a parameterless command; returns 0 if it succeeded. errstr may be NULL
 * when the caller already holds the error that matters (a ROLLBACK after a
 * failure). */
static int exec_simple(PGconn *conn, const char *sql, char *errstr, size_t errstr_size) {
        PGresult *r = PQexecParams(conn, sql, 0, NULL, NULL, NULL, NULL, 0);
        ExecStatusType s = PQresultStatus(r);
        int ok = (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK);
        if (!ok && errstr)
                snprintf(errstr, errstr_size, "%s: %s", sql, PQresultErrorMessage(r));
        PQclear(r);
        return ok ? 0 : -1;
}

/* SHA-256 is not needed for checksums of migrations: md5 in SQL is enough. */
int mm_store_migrate(mm_store_t *st, const char *const *names, const char *const *texts, size_t n,
                     char *errstr, size_t errstr_size) {
        if (mm_store_connect(st, errstr, errstr_size) != 0)
                return -1;
        PGconn *c = st->conn;
        int applied = 0;
        if (exec_simple(c, "BEGIN", errstr, errstr_size) != 0)
                return -1;
        /* One lock id for all minutes-ingest migrations. */
        if (exec_simple(c, "SELECT pg_advisory_xact_lock(7236510001)", errstr, errstr_size) != 0)
                goto fail;
        if (exec_simple(c,
                        "CREATE TABLE IF NOT EXISTS schema_migrations ("
                        " version text PRIMARY KEY,"
                        " checksum text NOT NULL,"
                        " applied_at timestamptz NOT NULL DEFAULT now())",
                        errstr, errstr_size) != 0)
                goto fail;
        for (size_t i = 0; i < n; i++) {
                const char *p1[2] = {names[i], texts[i]};
                PGresult *r = PQexecParams(c,
                                           "SELECT checksum = md5($2) FROM schema_migrations"
                                           " WHERE version = $1",
                                           2, NULL, p1, NULL, NULL, 0);
                if (PQresultStatus(r) != PGRES_TUPLES_OK) {
                        snprintf(errstr, errstr_size, "schema_migrations: %s",
                                 PQresultErrorMessage(r));
                        PQclear(r);
                        goto fail;
                }
                int done = PQntuples(r) > 0;
                int same = done && !strcmp(PQgetvalue(r, 0, 0), "t");
                PQclear(r);
                if (done) {
                        if (!same)
                                fprintf(stderr,
                                        "{\"level\":\"warn\",\"msg\":\"migration %s changed "
                                        "after it was applied\"}\n",
                                        names[i]);
                        continue;
                }
                /* A migration file holds many statements (and $$ bodies), so
                 * it must go through the simple query protocol: PQexec is the
                 * one exception to the $n-parameter rule. The text is embedded
                 * at build time, never user input. */
                r = PQexec(c, texts[i]);
                if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
                        snprintf(errstr, errstr_size, "migration %s: %s", names[i],
                                 PQresultErrorMessage(r));
                        PQclear(r);
                        goto fail;
                }
                PQclear(r);
                r = PQexecParams(c,
                                 "INSERT INTO schema_migrations (version, checksum)"
                                 " VALUES ($1, md5($2))",
                                 2, NULL, p1, NULL, NULL, 0);
                if (PQresultStatus(r) != PGRES_COMMAND_OK) {
                        snprintf(errstr, errstr_size, "schema_migrations: %s",
                                 PQresultErrorMessage(r));
                        PQclear(r);
                        goto fail;
                }
                PQclear(r);
                applied++;
        }
        if (exec_simple(c, "COMMIT", errstr, errstr_size) != 0)
                return -1;
        st->copy_path = -1; /* 006 or 007 may be new */
        return applied;
fail:
        /* Keep the first error: a failing ROLLBACK says nothing new. */
        exec_simple(c, "ROLLBACK", NULL, 0);
        return -1;
}

int mm_store_load_offset(mm_store_t *st, const char *group, const char *topic, int32_t partition,
                         int64_t *next_offset, char *errstr, size_t errstr_size) {
        if (mm_store_connect(st, errstr, errstr_size) != 0)
                return -1;
        char pbuf[16];
        snprintf(pbuf, sizeof(pbuf), "%d", (int)partition);
        const char *params[3] = {group, topic, pbuf};
        PGresult *r = PQexecParams(st->conn,
                                   "SELECT next_offset FROM consumer_offsets"
                                   " WHERE group_id = $1 AND topic = $2 AND partition = $3",
                                   3, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
                snprintf(errstr, errstr_size, "load offset: %s", PQresultErrorMessage(r));
                PQclear(r);
                return -1;
        }
        *next_offset = PQntuples(r) > 0 ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : -1;
        PQclear(r);
        return 0;
}

mm_store_batch_t *mm_store_batch_new(void) {
        mm_store_batch_t *b = calloc(1, sizeof(*b));
        if (!b)
                return NULL;
        b->docs = json_array();
        if (!b->docs) {
                free(b);
                return NULL;
        }
        return b;
}

static void free_dl(batch_dl_t *d) {
        free(d->topic);
        free(d->stage);
        free(d->code);
        free(d->reason);
        free(d->delivery);
}

void mm_store_batch_clear(mm_store_batch_t *b) {
        for (size_t i = 0; i < json_array_size(b->docs) && b->texts; i++) {
                free(b->texts[i]);
                b->texts[i] = NULL;
        }
        json_array_clear(b->docs);
        for (size_t i = 0; i < b->nparts; i++)
                free(b->parts[i].topic);
        b->nparts = 0;
        for (size_t i = 0; i < b->ndls; i++)
                free_dl(&b->dls[i]);
        b->ndls = 0;
        /* One huge batch must not hold memory after it passed. */
        if (b->capparts > 64) {
                free(b->parts);
                b->parts = NULL;
                b->capparts = 0;
        }
        if (b->capdls > 64) {
                free(b->dls);
                b->dls = NULL;
                b->capdls = 0;
        }
}

void mm_store_batch_destroy(mm_store_batch_t *b) {
        if (!b)
                return;
        mm_store_batch_clear(b);
        json_decref(b->docs);
        free(b->texts);
        free(b->parts);
        free(b->dls);
        free(b);
}

int mm_store_batch_add_doc(mm_store_batch_t *b, json_t *doc) {
        return mm_store_batch_add_doc_text(b, doc, NULL);
}

const char *mm_store_batch_doc_text(const mm_store_batch_t *b, size_t i) {
        return i < json_array_size(b->docs) ? b->texts[i] : NULL;
}

int mm_store_batch_add_doc_text(mm_store_batch_t *b, json_t *doc, char *text) {
        size_t n = json_array_size(b->docs);
        if (n == b->captexts) {
                size_t cap = b->captexts ? b->captexts * 2 : 64;
                char **nt = realloc(b->texts, cap * sizeof(*nt));
                if (!nt) {
                        json_decref(doc);
                        free(text);
                        return -1;
                }
                b->texts = nt;
                b->captexts = cap;
        }
        /* json_array_append_new takes the reference, also on failure. */
        if (json_array_append_new(b->docs, doc) != 0) {
                free(text);
                return -1;
        }
        b->texts[n] = text;
        return 0;
}

int mm_store_batch_add_offset(mm_store_batch_t *b, const char *topic, int32_t partition,
                              int64_t offset) {
        for (size_t i = 0; i < b->nparts; i++) {
                batch_part_t *p = &b->parts[i];
                if (p->partition == partition && !strcmp(p->topic, topic)) {
                        if (offset < p->first_offset)
                                p->first_offset = offset;
                        if (offset + 1 > p->next_offset)
                                p->next_offset = offset + 1;
                        return 0;
                }
        }
        if (b->nparts == b->capparts) {
                size_t cap = b->capparts ? b->capparts * 2 : 8;
                batch_part_t *np = realloc(b->parts, cap * sizeof(*np));
                if (!np)
                        return -1;
                b->parts = np;
                b->capparts = cap;
        }
        batch_part_t *p = &b->parts[b->nparts];
        p->topic = strdup(topic);
        if (!p->topic)
                return -1;
        p->partition = partition;
        p->first_offset = offset;
        p->next_offset = offset + 1;
        b->nparts++;
        return 0;
}

size_t mm_store_batch_doc_count(const mm_store_batch_t *b) {
        return json_array_size(b->docs);
}

size_t mm_store_batch_partition_count(const mm_store_batch_t *b) {
        return b->nparts;
}

void mm_store_batch_partition(const mm_store_batch_t *b, size_t i, const char **topic,
                              int32_t *partition, int64_t *first_offset, int64_t *next_offset) {
        const batch_part_t *p = &b->parts[i];
        *topic = p->topic;
        *partition = p->partition;
        *first_offset = p->first_offset;
        *next_offset = p->next_offset;
}

void mm_store_batch_drop_partition(mm_store_batch_t *b, const char *topic, int32_t partition) {
        for (size_t i = 0; i < b->nparts; i++) {
                if (b->parts[i].partition == partition && !strcmp(b->parts[i].topic, topic)) {
                        free(b->parts[i].topic);
                        b->parts[i] = b->parts[b->nparts - 1];
                        b->nparts--;
                        break;
                }
        }
        for (size_t i = json_array_size(b->docs); i-- > 0;) {
                json_t *d = json_array_get(b->docs, i);
                const char *t = json_string_value(json_object_get(d, "topic"));
                json_int_t p = json_integer_value(json_object_get(d, "partition"));
                if (t && !strcmp(t, topic) && p == partition) {
                        size_t n = json_array_size(b->docs);
                        free(b->texts[i]);
                        memmove(&b->texts[i], &b->texts[i + 1], (n - i - 1) * sizeof(char *));
                        b->texts[n - 1] = NULL;
                        json_array_remove(b->docs, i);
                }
        }
        size_t j = 0;
        for (size_t i = 0; i < b->ndls; i++) {
                if (b->dls[i].partition == partition && !strcmp(b->dls[i].topic, topic))
                        free_dl(&b->dls[i]);
                else
                        b->dls[j++] = b->dls[i];
        }
        b->ndls = j;
}

int mm_store_batch_add_dead_letter(mm_store_batch_t *b, const mm_store_dead_letter_t *dl) {
        if (b->ndls == b->capdls) {
                size_t cap = b->capdls ? b->capdls * 2 : 8;
                batch_dl_t *n = realloc(b->dls, cap * sizeof(*n));
                if (!n)
                        return -1;
                b->dls = n;
                b->capdls = cap;
        }
        batch_dl_t *d = &b->dls[b->ndls];
        memset(d, 0, sizeof(*d));
        d->topic = strdup(dl->topic);
        d->stage = strdup(dl->stage);
        d->code = strdup(dl->code);
        d->reason = strdup(dl->reason);
        d->delivery = strdup(dl->delivery ? dl->delivery : "full");
        if (!d->topic || !d->stage || !d->code || !d->reason || !d->delivery) {
                free_dl(d);
                return -1;
        }
        d->partition = dl->partition;
        d->offset = dl->offset;
        d->key = dl->key;
        d->key_len = dl->key ? dl->key_len : 0;
        d->payload = dl->payload;
        d->payload_len = dl->payload ? dl->payload_len : 0;
        d->byte_length = dl->byte_length;
        snprintf(d->sha256, sizeof(d->sha256), "%s", dl->sha256);
        b->ndls++;
        return 0;
}

size_t mm_store_batch_dead_letter_count(const mm_store_batch_t *b) {
        return b->ndls;
}

int mm_store_batch_set_delivery(mm_store_batch_t *b, const char *topic, int32_t partition,
                                int64_t offset, const char *delivery) {
        for (size_t i = 0; i < b->ndls; i++) {
                batch_dl_t *d = &b->dls[i];
                if (d->partition == partition && d->offset == offset && !strcmp(d->topic, topic)) {
                        char *v = strdup(delivery);
                        if (!v)
                                return -1;
                        free(d->delivery);
                        d->delivery = v;
                        return 0;
                }
        }
        return -1;
}

int mm_store_classify_sqlstate(const char *state) {
        if (!state || strlen(state) != 5)
                return MM_STORE_ERR_TRANSIENT;
        if (!strcmp(state, "MM001"))
                return MM_STORE_ERR_FENCED;
        /* Only what a document's own content can cause makes it poison:
         * data exceptions (22: bad date, out-of-range number, invalid text
         * representation, untranslatable character), integrity violations
         * (23) and the project's own validation codes (MMxxx). Everything
         * else says something about the server, the schema, the grants or
         * the batch as a whole (25006 read-only, 42501 missing grant, 54000
         * program limit, 57014 statement timeout, 55P03 lock timeout, 08
         * connection, 40 rollback, 53 resources, XX internal, ...): retry. */
        if (!strncmp(state, "22", 2) || !strncmp(state, "23", 2) || !strncmp(state, "MM", 2))
                return MM_STORE_ERR_DATA;
        return MM_STORE_ERR_TRANSIENT;
}

/* Classifies a failed result. */
static int classify(PGconn *conn, const PGresult *r) {
        if (!conn || PQstatus(conn) != CONNECTION_OK)
                return MM_STORE_ERR_TRANSIENT;
        return mm_store_classify_sqlstate(r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL);
}

/* Fills errstr from a failed result and returns its class. */
static int failed(PGconn *conn, PGresult *r, const char *what, char *errstr, size_t errstr_size) {
        int rc = classify(conn, r);
        const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
        snprintf(errstr, errstr_size, "%s%s%s%s", what, state ? " [" : "", state ? state : "",
                 state ? "]" : "");
        size_t len = strlen(errstr);
        snprintf(errstr + len, errstr_size - len, ": %s",
                 r ? PQresultErrorMessage(r) : PQerrorMessage(conn));
        len = strlen(errstr);
        while (len > 0 && (errstr[len - 1] == '\n' || errstr[len - 1] == ' '))
                errstr[--len] = '\0';
        PQclear(r);
        return rc;
}

/* ---- Child rows as COPY text (migration 006) ------------------------------
 *
 * The documents and meetings go through mm_ingest_documents; their children
 * are COPYed. Every value below is the one 004's mm_ingest_batch writes for
 * the same document: `->>` of a JSON value is its text (a number as
 * PostgreSQL's numeric prints it, an object or array as jsonb prints it),
 * and the lenient casts mm_try_* of 001/002 are re-implemented (a value
 * they map to NULL is NULL here). tests/integration/test_store_copy.sh
 * writes the same documents both ways and compares every row. */

static int is_digit(char c) {
        return c >= '0' && c <= '9';
}

/* What PostgreSQL's regex \s matches in ASCII. */
static int is_space(char c) {
        return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Skips what \s matches in a C.UTF-8 database: ASCII spaces and U+1680,
 * U+2000-2006, U+2008-200A, U+2028, U+2029, U+205F, U+3000 (iswspace; no
 * no-break spaces). Sets *wide for a non-ASCII one: the mm_try_* pattern
 * then matches but the cast (int4in, numeric_in: ASCII spaces only) throws
 * 22P02, so 004 refused the document. */
static const char *skip_spaces(const char *t, int *wide) {
        for (;;) {
                const unsigned char *u = (const unsigned char *)t;
                if (is_space(*t)) {
                        t++;
                } else if ((u[0] == 0xe1 && u[1] == 0x9a && u[2] == 0x80) ||
                           (u[0] == 0xe2 && u[1] == 0x80 &&
                            ((u[2] >= 0x80 && u[2] <= 0x8a && u[2] != 0x87) || u[2] == 0xa8 ||
                             u[2] == 0xa9)) ||
                           (u[0] == 0xe2 && u[1] == 0x81 && u[2] == 0x9f) ||
                           (u[0] == 0xe3 && u[1] == 0x80 && u[2] == 0x80)) {
                        t += 3;
                        *wide = 1;
                } else {
                        return t;
                }
        }
}

/* Appends the numeric text PostgreSQL prints for the JSON number `s`
 * (numeric_out of numeric_in): plain digits, as many decimals as the input
 * had minus the exponent ("1e30" -> 31 digits, "1.50" -> "1.50"). */
static void numeric_text(mm_buf_t *b, const char *s) {
        int neg = *s == '-';
        if (*s == '-' || *s == '+')
                s++;
        char digits[64];
        size_t n = 0, frac = 0;
        int in_frac = 0;
        for (; *s && *s != 'e' && *s != 'E'; s++) {
                if (*s == '.')
                        in_frac = 1;
                else if (is_digit(*s) && n < sizeof(digits)) {
                        digits[n++] = *s;
                        frac += in_frac;
                }
        }
        long exp10 = (*s == 'e' || *s == 'E') ? strtol(s + 1, NULL, 10) : 0;
        long shift = exp10 - (long)frac; /* value = digits * 10^shift */
        size_t dscale = shift < 0 ? (size_t)-shift : 0;
        mm_buf_t all = MM_BUF_INIT;
        mm_buf_append(&all, digits, n);
        for (long i = 0; i < shift; i++)
                mm_buf_putc(&all, '0');
        while (all.len <= dscale && !mm_buf_failed(&all)) { /* at least one integer digit */
                mm_buf_putc(&all, '0');
                memmove(all.p + 1, all.p, all.len - 1);
                all.p[0] = '0';
        }
        if (mm_buf_failed(&all)) {
                mm_buf_fail(b);
                mm_buf_release(&all);
                return;
        }
        size_t ilen = all.len - dscale, lead = 0;
        while (lead + 1 < ilen && all.p[lead] == '0')
                lead++;
        if (neg && strspn(all.p, "0") != all.len)
                mm_buf_putc(b, '-'); /* numeric has no negative zero */
        mm_buf_append(b, all.p + lead, ilen - lead);
        if (dscale) {
                mm_buf_putc(b, '.');
                mm_buf_append(b, all.p + ilen, dscale);
        }
        mm_buf_release(&all);
}

/* The text of a real as the batch's JSON text holds it (json_dumps). */
static void real_text(mm_buf_t *b, const json_t *v) {
        char num[64];
        size_t n = json_dumpb(v, num, sizeof(num) - 1, JSON_ENCODE_ANY | JSON_COMPACT);
        num[n < sizeof(num) ? n : 0] = '\0';
        numeric_text(b, num);
}

/* A JSON string as jsonb prints it (escape_json). A NUL stays a raw NUL:
 * PostgreSQL refuses it (22021) as it refuses \u0000 in jsonb (22P05). */
static void jsonb_string(mm_buf_t *b, const char *s, size_t n) {
        mm_buf_putc(b, '"');
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                const char *e = c == '\b'   ? "\\b"
                                : c == '\f' ? "\\f"
                                : c == '\n' ? "\\n"
                                : c == '\r' ? "\\r"
                                : c == '\t' ? "\\t"
                                : c == '"'  ? "\\\""
                                : c == '\\' ? "\\\\"
                                            : NULL;
                char u[8];
                if (!e && c && c < ' ') {
                        snprintf(u, sizeof(u), "\\u%04x", c);
                        e = u;
                }
                if (e)
                        mm_buf_puts(b, e);
                else
                        mm_buf_putc(b, (char)c);
        }
        mm_buf_putc(b, '"');
}

/* jsonb orders object keys by length, then bytewise. */
static int jsonb_key_cmp(const void *a, const void *b) {
        const char *x = *(const char *const *)a, *y = *(const char *const *)b;
        size_t lx = strlen(x), ly = strlen(y);
        if (lx != ly)
                return lx < ly ? -1 : 1;
        return memcmp(x, y, lx);
}

static void jsonb_text(mm_buf_t *b, const json_t *v);

static void jsonb_object(mm_buf_t *b, const json_t *v) {
        size_t n = json_object_size(v), k = 0;
        const char **keys = n ? malloc(n * sizeof(*keys)) : NULL;
        if (n && !keys) {
                mm_buf_fail(b);
                return;
        }
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)v, key, val) keys[k++] = key;
        qsort(keys, n, sizeof(*keys), jsonb_key_cmp);
        mm_buf_putc(b, '{');
        for (size_t i = 0; i < n; i++) {
                mm_buf_puts(b, i ? ", " : "");
                jsonb_string(b, keys[i], strlen(keys[i]));
                mm_buf_puts(b, ": ");
                jsonb_text(b, json_object_get(v, keys[i]));
        }
        mm_buf_putc(b, '}');
        free(keys);
}

/* Any JSON value as jsonb's text output prints it. */
static void jsonb_text(mm_buf_t *b, const json_t *v) {
        switch (json_typeof(v)) {
        case JSON_OBJECT:
                jsonb_object(b, v);
                break;
        case JSON_ARRAY:
                mm_buf_putc(b, '[');
                for (size_t i = 0; i < json_array_size(v); i++) {
                        mm_buf_puts(b, i ? ", " : "");
                        jsonb_text(b, json_array_get(v, i));
                }
                mm_buf_putc(b, ']');
                break;
        case JSON_STRING:
                jsonb_string(b, json_string_value(v), json_string_length(v));
                break;
        case JSON_INTEGER: {
                char n[32];
                snprintf(n, sizeof(n), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
                mm_buf_puts(b, n);
                break;
        }
        case JSON_REAL:
                real_text(b, v);
                break;
        case JSON_TRUE:
                mm_buf_puts(b, "true");
                break;
        case JSON_FALSE:
                mm_buf_puts(b, "false");
                break;
        default:
                mm_buf_puts(b, "null");
        }
}

/* Appends what `v->>` gives in SQL; returns 0 for SQL NULL (no value, or
 * JSON null). */
static int value_text(mm_buf_t *b, const json_t *v) {
        if (!v || json_is_null(v))
                return 0;
        if (json_is_string(v))
                mm_buf_append(b, json_string_value(v), json_string_length(v));
        else
                jsonb_text(b, v);
        return 1;
}

/* mm_try_int / mm_try_bigint: '^\s*[-+]?\d{1,max}\s*$', else NULL (0).
 * Returns 1 with *out, or 2 when PostgreSQL's cast throws (see
 * skip_spaces). */
static int try_integer(const char *t, int max_digits, long long *out) {
        int wide = 0;
        t = skip_spaces(t, &wide);
        int neg = *t == '-';
        if (*t == '-' || *t == '+')
                t++;
        int n = 0;
        long long v = 0;
        for (; is_digit(*t); t++, n++)
                v = n < max_digits ? v * 10 + (*t - '0') : v;
        t = skip_spaces(t, &wide);
        if (*t || n < 1 || n > max_digits)
                return 0;
        *out = neg ? -v : v;
        return wide ? 2 : 1;
}

/* Counts a run of digits at *t, advancing it. */
static int digit_run(const char **t) {
        int n = 0;
        while (is_digit(**t)) {
                (*t)++;
                n++;
        }
        return n;
}

/* mm_try_numeric's pattern:
 * '^\s*[-+]?(\d{1,30}(\.\d{0,30})?|\.\d{1,30})([eE][-+]?\d{1,2})?\s*$'.
 * Returns 1 with [*start, *end) the number without the spaces around it,
 * or 2 when PostgreSQL's cast throws (see skip_spaces). */
static int try_numeric(const char *t, const char **start, const char **end) {
        int wide = 0;
        t = skip_spaces(t, &wide);
        *start = t;
        if (*t == '-' || *t == '+')
                t++;
        int ni = digit_run(&t), nf = -1;
        if (*t == '.') {
                t++;
                nf = digit_run(&t);
        }
        if (ni > 30 || nf > 30 || (ni == 0 && nf < 1))
                return 0;
        if (*t == 'e' || *t == 'E') {
                t++;
                if (*t == '-' || *t == '+')
                        t++;
                int ne = digit_run(&t);
                if (ne < 1 || ne > 2)
                        return 0;
        }
        *end = t;
        t = skip_spaces(t, &wide);
        return *t != '\0' ? 0 : wide ? 2 : 1;
}

/* mm_try_real (002): the numeric if it is 0 or 1e-30 <= |v| <= 1e30.
 * Returns 0 (NULL), 1 (in range) or 2 (zero). */
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

/* `v->>` as a text column. */
static void f_text(mm_buf_t *b, mm_buf_t *tmp, const json_t *v) {
        if (json_is_string(v)) {
                copy_escaped(b, json_string_value(v), json_string_length(v));
                return;
        }
        mm_buf_reset(tmp);
        if (value_text(tmp, v))
                copy_escaped(b, mm_buf_cstr(tmp), tmp->len);
        else
                f_null(b);
}

/* The text `v->>` gives, in tmp, for a lenient cast; NULL for SQL NULL.
 * The caller checks strlen against tmp->len: a text with a NUL is sent as
 * it is, and COPY refuses it (22021) as jsonb refuses \u0000 (22P05). */
static const char *cast_input(mm_buf_t *tmp, const json_t *v) {
        mm_buf_reset(tmp);
        if (!value_text(tmp, v) || mm_buf_failed(tmp))
                return NULL;
        return mm_buf_cstr(tmp);
}

/* mm_try_int / mm_try_bigint of `v->>` as a column. */
static void f_try_integer(mm_buf_t *b, mm_buf_t *tmp, const json_t *v, int max_digits) {
        const char *t = cast_input(tmp, v);
        long long n;
        int m = t && strlen(t) == tmp->len ? try_integer(t, max_digits, &n) : 0;
        if (m == 1)
                f_int(b, n);
        else if (t && (m == 2 || strlen(t) != tmp->len))
                copy_escaped(b, tmp->p, tmp->len); /* refused by COPY: 22021 (NUL), 22P02 */
        else
                f_null(b);
}

/* mm_try_numeric (real_only = 0) or mm_try_real (1) of `v->>`. */
static void f_try_numeric(mm_buf_t *b, mm_buf_t *tmp, const json_t *v, int real_only) {
        const char *t = cast_input(tmp, v), *s, *e;
        int range, m = t && strlen(t) == tmp->len ? try_numeric(t, &s, &e) : 0;
        if (t && (m == 2 || strlen(t) != tmp->len))
                copy_escaped(b, tmp->p, tmp->len); /* refused by COPY: 22021 (NUL), 22P02 */
        else if (m == 0)
                f_null(b);
        else if (!real_only)
                mm_buf_append(b, s, (size_t)(e - s));
        else if ((range = real_in_range(s, e)) == 0)
                f_null(b);
        else /* numeric has no -0: '-0'::numeric::real is 0 */
                mm_buf_append(b, range == 2 ? "0" : s, range == 2 ? 1 : (size_t)(e - s));
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
                        rc = failed(c->conn, r, what, errstr, errstr_size);
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
                return failed(conn, r, what, errstr, errstr_size);
        }
        PQclear(r);
        return MM_STORE_OK;
}

/* participants: 1-based ordinal of parse.document.participants. */
static void rows_participants(copy_t *c, const ins_set_t *s) {
        for (size_t k = 0; k < s->n; k++) {
                const json_t *doc = json_object_get(s->d[k].parse, "document");
                const json_t *a = array_at(doc, "participants");
                for (size_t i = 0; i < json_array_size(a); i++) {
                        f_int(&c->buf, s->d[k].doc_id);
                        f_sep(&c->buf, 0);
                        f_int(&c->buf, s->d[k].meeting_id);
                        f_sep(&c->buf, 0);
                        f_int(&c->buf, (long long)i + 1);
                        f_sep(&c->buf, 0);
                        f_text(&c->buf, &c->tmp, json_array_get(a, i));
                        mm_buf_putc(&c->buf, '\n');
                        copy_flush(c, COPY_PIECE);
                }
        }
}

/* outcome_parts as a text[] literal: every element quoted, " and \
 * escaped; a JSON null element is NULL. Not an array: '{}'. */
static void f_text_array(copy_t *c, const json_t *a) {
        mm_buf_t *lit = &c->tmp;
        mm_buf_reset(lit);
        mm_buf_putc(lit, '{');
        mm_buf_t el = MM_BUF_INIT;
        for (size_t i = 0; i < json_array_size(a); i++) {
                mm_buf_puts(lit, i ? "," : "");
                mm_buf_reset(&el);
                if (!value_text(&el, json_array_get(a, i))) {
                        mm_buf_puts(lit, "NULL");
                        continue;
                }
                mm_buf_putc(lit, '"');
                for (size_t j = 0; j < el.len; j++) {
                        if (el.p[j] == '"' || el.p[j] == '\\')
                                mm_buf_putc(lit, '\\');
                        mm_buf_putc(lit, el.p[j]);
                }
                mm_buf_putc(lit, '"');
        }
        mm_buf_putc(lit, '}');
        if (mm_buf_failed(&el))
                mm_buf_fail(lit);
        mm_buf_release(&el);
        copy_escaped(&c->buf, lit->p ? lit->p : "{}", lit->len);
}

/* One agenda_items row (004's ins_items). */
static void row_item(copy_t *c, const ins_doc_t *d, long long id, const json_t *it, size_t ord) {
        mm_buf_t *b = &c->buf, *t = &c->tmp;
        const json_t *kle = json_object_get(it, "kle"), *closed = json_object_get(it, "closed");
        long long order = (long long)ord; /* coalesce(mm_try_int(order), ordinal) */
        const char *ot = cast_input(t, json_object_get(it, "order"));
        int order_raw = ot && strlen(ot) != t->len; /* a NUL */
        int m = ot && !order_raw ? try_integer(ot, 9, &order) : 0;
        order_raw |= m == 2;
        if (m != 1)
                order = (long long)ord;
        mm_buf_t raw = MM_BUF_INIT; /* the text COPY refuses (22021 or 22P02) */
        if (order_raw)
                copy_escaped(&raw, t->p, t->len);
        f_int(b, id);
        f_sep(b, 0);
        f_int(b, d->doc_id);
        f_sep(b, 0);
        f_int(b, d->meeting_id);
        f_sep(b, 0);
        f_try_integer(b, t, json_object_get(it, "number"), 9);
        f_sep(b, 0);
        if (order_raw)
                mm_buf_append(b, mm_buf_cstr(&raw), raw.len);
        else
                f_int(b, order);
        if (mm_buf_failed(&raw))
                mm_buf_fail(b);
        mm_buf_release(&raw);
        static const char *const texts[] = {"title", "case_number", "case_number_kind"};
        for (size_t i = 0; i < 3; i++) {
                f_sep(b, 0);
                f_text(b, t, json_object_get(it, texts[i]));
        }
        static const char *const kles[] = {"code", "main_group", "main_group_name"};
        for (size_t i = 0; i < 3; i++) {
                f_sep(b, 0);
                f_text(b, t, json_object_get(kle, kles[i]));
        }
        f_sep(b, 0);
        mm_buf_puts(b, json_is_true(closed) ? "f" : "t"); /* public = NOT closed */
        f_sep(b, 0);
        f_text(b, t, json_object_get(it, "outcome"));
        f_sep(b, 0);
        f_text_array(c, array_at(it, "outcome_parts"));
        f_sep(b, 0);
        f_text(b, t, json_object_get(it, "decision"));
        f_sep(b, 0);
        f_try_numeric(b, t, json_object_get(it, "confidence"), 1);
        f_sep(b, 0);
        f_try_integer(b, t, json_object_get(it, "offset"), 18);
        f_sep(b, 0);
        f_try_integer(b, t, json_object_get(it, "length"), 18);
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
typedef void (*child_row_fn)(copy_t *c, const json_t *e, size_t ord);

static void row_section(copy_t *c, const json_t *e, size_t ord) {
        const json_t *h = json_object_get(e, "history");
        f_int(&c->buf, (long long)ord);
        static const char *const texts[] = {"heading", "kind", "text"};
        for (size_t i = 0; i < 3; i++) {
                f_sep(&c->buf, 0);
                f_text(&c->buf, &c->tmp, json_object_get(e, texts[i]));
        }
        f_sep(&c->buf, 0);
        f_try_integer(&c->buf, &c->tmp, json_object_get(e, "offset"), 18);
        f_sep(&c->buf, 0);
        mm_buf_puts(&c->buf, json_is_boolean(h) ? (json_is_true(h) ? "t" : "f") : "\\N");
}

static void row_absence(copy_t *c, const json_t *e, size_t ord) {
        (void)ord;
        f_text(&c->buf, &c->tmp, e);
}

static void row_attachment(copy_t *c, const json_t *e, size_t ord) {
        f_int(&c->buf, (long long)ord);
        f_sep(&c->buf, 0);
        f_text(&c->buf, &c->tmp, e);
}

static void row_amount(copy_t *c, const json_t *e, size_t ord) {
        (void)ord;
        f_try_numeric(&c->buf, &c->tmp, json_object_get(e, "value"), 0);
        f_sep(&c->buf, 0);
        f_text(&c->buf, &c->tmp, json_object_get(e, "text"));
        f_sep(&c->buf, 0);
        f_text(&c->buf, &c->tmp, json_object_get(e, "sentence"));
}

static void row_law(copy_t *c, const json_t *e, size_t ord) {
        (void)ord;
        static const char *const texts[] = {"text", "law", "paragraph"};
        for (size_t i = 0; i < 3; i++) {
                f_sep(&c->buf, i == 0);
                f_text(&c->buf, &c->tmp, json_object_get(e, texts[i]));
        }
}

/* Rows of `key`'s array of every item: item_id, then row(). */
static void rows_children(copy_t *c, const ins_set_t *s, const char *key, child_row_fn row) {
        size_t k = 0;
        for (size_t i = 0; i < s->n; i++) {
                const json_t *items = items_of(s->d[i].parse);
                for (size_t j = 0; j < json_array_size(items); j++, k++) {
                        const json_t *a = array_at(json_array_get(items, j), key);
                        for (size_t e = 0; e < json_array_size(a); e++) {
                                f_int(&c->buf, s->item_ids[k]);
                                f_sep(&c->buf, 0);
                                row(c, json_array_get(a, e), e + 1);
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
} child_tables[] = {
        {"participants", "COPY participants (document_id, meeting_id, ord, name) FROM STDIN", NULL,
         NULL},
        {"agenda_items",
         "COPY agenda_items (id, document_id, meeting_id, number, ord, title, case_number,"
         " case_number_kind, kle_code, kle_main_group, kle_main_group_name, public, outcome,"
         " outcome_parts, decision, confidence, text_offset, text_length) FROM STDIN",
         NULL, NULL},
        {"item_sections",
         "COPY item_sections (item_id, ord, heading, kind, text, text_offset, history) FROM STDIN",
         "sections", row_section},
        {"item_absences", "COPY item_absences (item_id, name) FROM STDIN", "absent", row_absence},
        {"attachments", "COPY attachments (item_id, ord, name) FROM STDIN", "attachments",
         row_attachment},
        {"amounts", "COPY amounts (item_id, value, text, sentence) FROM STDIN", "amounts",
         row_amount},
        {"law_references", "COPY law_references (item_id, text, law, paragraph) FROM STDIN", "laws",
         row_law},
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
                return failed(st->conn, r, "agenda_items ids", errstr, errstr_size);
        for (size_t i = 0; i < s->nitems; i++)
                s->item_ids[i] = strtoll(PQgetvalue(r, (int)i, 0), NULL, 10);
        PQclear(r);
        return MM_STORE_OK;
}

/* The vote rows of the items (migration 010, common/mm_store_votes.c). */
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
                copy_t c;
                rc = copy_begin(&c, st->conn, ct->sql, ct->table, errstr, errstr_size);
                if (rc != MM_STORE_OK)
                        break;
                if (t == 0)
                        rows_participants(&c, s);
                else if (t == 1)
                        rows_items(&c, s);
                else
                        rows_children(&c, s, ct->key, ct->row);
                rc = copy_end(&c, ct->table, errstr, errstr_size);
        }
        if (rc == MM_STORE_OK && s->nitems)
                rc = copy_votes(st, s, errstr, errstr_size);
        return rc;
}

/* The document as mm_ingest_documents reads it: everything but the parse's
 * items and the document's participants (only the children need them, and
 * PostgreSQL would parse them into jsonb for nothing), and, unless
 * `keep_raw`, but a raw text that is a string (migration 007 takes it as a
 * parameter of its own, see raw_texts_param). A new object sharing the
 * values. */
static json_t *slim_doc(json_t *d, int keep_raw) {
        json_t *parse = json_object_get(d, "parse");
        int cut_raw = !keep_raw && json_is_string(json_object_get(d, "raw_text"));
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

static char *doc_text(json_t *doc, int keep_raw) {
        json_t *slim = slim_doc(doc, keep_raw);
        char *t = slim ? json_dumps(slim, JSON_COMPACT) : NULL;
        json_decref(slim);
        return t;
}

char *mm_store_doc_text(json_t *doc) {
        return doc_text(doc, 0);
}

/* The JSON array of `docs` without children: each element is texts[i]
 * when there is one (rendered ahead, see mm_store_doc_text), else rendered
 * now, with the raw text if `keep_raw`. `texts` may be NULL. */
static char *slim_docs_text(const json_t *docs, char *const *texts, int keep_raw) {
        size_t n = json_array_size(docs), len = 2;
        char **own = calloc(n ? n : 1, sizeof(*own));
        size_t *lens = calloc(n ? n : 1, sizeof(*lens));
        char *out = NULL;
        if (!own || !lens)
                goto done;
        for (size_t i = 0; i < n; i++) {
                if (!(texts && texts[i]) && !(own[i] = doc_text(json_array_get(docs, i), keep_raw)))
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

/* Sends `docs` to mm_ingest_documents: on 007's schema without their raw
 * texts, which go as a binary text[] beside them; on 006's with them.
 * Returns 0 and sets *out to the result (the caller clears it; NULL if it
 * could not be sent: the connection's message says why), or -1 (no
 * memory, or a string that is not UTF-8). */
static int call_ingest_documents(mm_store_t *st, const char *group, const json_t *docs,
                                 char *const *texts, const char *offs_text, PGresult **out) {
        int with_raw = st->copy_path == 2;
        /* texts rendered ahead leave the raw text out: 006 needs it in */
        char *docs_text = slim_docs_text(docs, with_raw ? texts : NULL, !with_raw);
        mm_buf_t raw = MM_BUF_INIT;
        PGresult *r = NULL;
        int rc = 0;
        if (!docs_text) {
                rc = -1;
        } else if (!with_raw) {
                const char *params[3] = {group, docs_text, offs_text};
                r = exec_waiting(st,
                                 "SELECT idx, document_id, meeting_id, status"
                                 " FROM mm_ingest_documents($1, $2::jsonb, $3::jsonb)",
                                 3, NULL, params, NULL, NULL);
        } else if (raw_texts_param(docs, &raw) != 0) {
                rc = -1;
        } else {
                const char *params[4] = {group, docs_text, offs_text, raw.p};
                const Oid types[4] = {0, 0, 0, 1009 /* text[] */};
                const int lens[4] = {0, 0, 0, (int)raw.len}, fmts[4] = {0, 0, 0, 1};
                r = exec_waiting(st,
                                 "SELECT idx, document_id, meeting_id, status"
                                 " FROM mm_ingest_documents($1, $2::jsonb, $3::jsonb, $4)",
                                 4, types, params, lens, fmts);
        }
        free(docs_text);
        mm_buf_release(&raw);
        *out = r;
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
                return failed(st->conn, r, "mm_ingest_documents", errstr, errstr_size);
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

/* The write path the schema has: 2 mm_ingest_documents with the raw
 * texts as a parameter (migration 007), 1 without (006), 0 neither. */
static int has_copy_path(mm_store_t *st) {
        PGresult *r = PQexecParams(
                st->conn,
                "SELECT CASE WHEN to_regprocedure("
                "'mm_ingest_documents(text, jsonb, jsonb, text[])') IS NOT NULL THEN 2"
                " WHEN to_regprocedure('mm_ingest_documents(text, jsonb, jsonb)') IS NOT NULL"
                " THEN 1 ELSE 0 END",
                0, NULL, NULL, NULL, NULL, 0);
        /* unknown (an error) counts as the newest: the write then says why */
        int path = PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1
                           ? 2
                           : atoi(PQgetvalue(r, 0, 0));
        PQclear(r);
        return path;
}

/* A schema before 006 (the worker runs ahead of `--migrate` in a rolling
 * upgrade): the whole batch, children included, through mm_ingest_batch. */
static int ingest_batch(mm_store_t *st, const char *group, const json_t *docs,
                        const char *offs_text, size_t *inserted, size_t *duplicates, char *errstr,
                        size_t errstr_size) {
        char *docs_text = json_dumps(docs, JSON_COMPACT);
        if (!docs_text) {
                snprintf(errstr, errstr_size, "out of memory (or a string that is not UTF-8)");
                return MM_STORE_ERR_TRANSIENT;
        }
        const char *params[3] = {group, docs_text, offs_text};
        PGresult *r = PQexecParams(st->conn,
                                   "SELECT status FROM mm_ingest_batch($1, $2::jsonb, $3::jsonb)",
                                   3, NULL, params, NULL, NULL, 0);
        free(docs_text);
        if (PQresultStatus(r) != PGRES_TUPLES_OK)
                return failed(st->conn, r, "mm_ingest_batch", errstr, errstr_size);
        for (int i = 0; i < PQntuples(r); i++) {
                size_t *n = !strcmp(PQgetvalue(r, i, 0), "inserted") ? inserted : duplicates;
                if (n)
                        (*n)++;
        }
        PQclear(r);
        return MM_STORE_OK;
}

/* Writes `docs` with their children and the offsets `offs_text`, inside the
 * caller's transaction: documents and meetings by mm_ingest_documents
 * (schemas/006_copy_children.sql), the child rows by COPY. */
static int write_docs(mm_store_t *st, const char *group, const json_t *docs, char *const *texts,
                      const char *offs_text, size_t *inserted, size_t *duplicates, char *errstr,
                      size_t errstr_size) {
        if (st->copy_path < 0)
                st->copy_path = has_copy_path(st);
        if (st->copy_path == 0)
                return ingest_batch(st, group, docs, offs_text, inserted, duplicates, errstr,
                                    errstr_size);
        ins_set_t s = {0};
        int rc = ingest_documents(st, group, docs, texts, offs_text, &s, inserted, duplicates,
                                  errstr, errstr_size);
        if (rc == MM_STORE_OK && s.n > 0)
                rc = copy_children(st, &s, errstr, errstr_size);
        free(s.d);
        free(s.item_ids);
        return rc;
}

/* Runs one parameterless statement of the batch's transaction. */
static int tx_step(mm_store_t *st, const char *sql, char *errstr, size_t errstr_size) {
        PGresult *r = PQexecParams(st->conn, sql, 0, NULL, NULL, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
                return failed(st->conn, r, sql, errstr, errstr_size);
        PQclear(r);
        return MM_STORE_OK;
}

/* Ends the transaction of a failed write (keeps the first error). */
static void rollback(mm_store_t *st) {
        if (PQstatus(st->conn) == CONNECTION_OK &&
            PQtransactionStatus(st->conn) == PQTRANS_ACTIVE) {
                /* a COPY that could not be ended: only a new connection is
                 * usable again (mm_store_connect makes one) */
                PQfinish(st->conn);
                st->conn = NULL;
                return;
        }
        if (PQstatus(st->conn) == CONNECTION_OK && PQtransactionStatus(st->conn) != PQTRANS_IDLE) {
                PGresult *r = PQexecParams(st->conn, "ROLLBACK", 0, NULL, NULL, NULL, NULL, 0);
                PQclear(r);
        }
}

json_t *mm_store_batch_doc(const mm_store_batch_t *b, size_t i) {
        return json_array_get(b->docs, i);
}

int mm_store_write_single(mm_store_t *st, const char *group, const mm_store_batch_t *b, size_t i,
                          char *errstr, size_t errstr_size) {
        if (mm_store_connect(st, errstr, errstr_size) != 0)
                return MM_STORE_ERR_TRANSIENT;
        json_t *one = json_array();
        if (!one || json_array_append(one, json_array_get(b->docs, i)) != 0) {
                json_decref(one);
                snprintf(errstr, errstr_size, "out of memory");
                return MM_STORE_ERR_TRANSIENT;
        }
        /* The batch's path, document and children in one transaction: a
         * document refused in a batch is refused alone too. */
        int rc = tx_step(st, "BEGIN", errstr, errstr_size);
        if (rc == MM_STORE_OK)
                rc = write_docs(st, group, one, b->texts ? &b->texts[i] : NULL, "[]", NULL, NULL,
                                errstr, errstr_size);
        json_decref(one);
        if (rc == MM_STORE_OK)
                rc = tx_step(st, "COMMIT", errstr, errstr_size);
        if (rc != MM_STORE_OK)
                rollback(st);
        return rc;
}

/* Clears the attempt counters of every input the batch covers (they passed
 * extraction and parsing). Autocommit, before the batch's transaction, so a
 * batch that is rolled back and re-read never counts as a crash. */
static int inputs_passed(mm_store_t *st, const char *group, const mm_store_batch_t *b, char *errstr,
                         size_t errstr_size) {
        for (size_t i = 0; i < b->nparts; i++) {
                char part[16], next[32];
                snprintf(part, sizeof(part), "%d", (int)b->parts[i].partition);
                snprintf(next, sizeof(next), "%lld", (long long)b->parts[i].next_offset);
                const char *p[4] = {group, b->parts[i].topic, part, next};
                PGresult *r = PQexecParams(st->conn, "SELECT mm_inputs_passed($1, $2, $3, $4)", 4,
                                           NULL, p, NULL, NULL, 0);
                if (PQresultStatus(r) != PGRES_TUPLES_OK)
                        return failed(st->conn, r, "mm_inputs_passed", errstr, errstr_size);
                PQclear(r);
        }
        return MM_STORE_OK;
}

/* Inserts the batch's dead letters (inside the caller's transaction). The
 * unique source offset makes a redone batch a no-op here. */
static int insert_dead_letters(mm_store_t *st, const mm_store_batch_t *b, size_t payload_cap,
                               char *errstr, size_t errstr_size) {
        for (size_t i = 0; i < b->ndls; i++) {
                const batch_dl_t *d = &b->dls[i];
                char part[16], off[32], blen[32];
                snprintf(part, sizeof(part), "%d", (int)d->partition);
                snprintf(off, sizeof(off), "%lld", (long long)d->offset);
                snprintf(blen, sizeof(blen), "%zu", d->byte_length);
                int complete = d->payload_len <= payload_cap && d->payload_len == d->byte_length;
                const char *p[11] = {
                        d->topic,   part,      off,       d->key, d->stage,
                        d->code,    d->reason, d->sha256, blen,   complete ? d->payload : NULL,
                        d->delivery};
                int len[11] = {
                        0, 0, 0, (int)d->key_len, 0, 0, 0, 0, 0, complete ? (int)d->payload_len : 0,
                        0};
                int fmt[11] = {0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0};
                if (complete && !d->payload)
                        p[9] = ""; /* an empty value is kept, as 0 bytes */
                PGresult *r = PQexecParams(
                        st->conn,
                        "INSERT INTO dead_letters (source_topic, source_partition, source_offset,"
                        " message_key, stage, code, reason, sha256, byte_length, payload,"
                        " payload_complete, dlq_delivery)"
                        " VALUES ($1, $2, $3, $4::bytea, $5, $6, $7, $8, $9, $10::bytea, $10 IS "
                        "NOT NULL, $11)"
                        " ON CONFLICT (source_topic, source_partition, source_offset) DO NOTHING",
                        11, NULL, p, len, fmt, 0);
                if (PQresultStatus(r) != PGRES_COMMAND_OK)
                        return failed(st->conn, r, "dead_letters", errstr, errstr_size);
                PQclear(r);
        }
        return MM_STORE_OK;
}

/* Serialises the batch's offsets as the JSON mm_ingest_documents reads. */
static char *offsets_json(const mm_store_batch_t *b) {
        json_t *offs = json_array();
        if (!offs)
                return NULL;
        for (size_t i = 0; i < b->nparts; i++) {
                const batch_part_t *p = &b->parts[i];
                json_t *o =
                        json_pack("{s:s, s:i, s:I, s:I}", "topic", p->topic, "partition",
                                  (int)p->partition, "first_offset", (json_int_t)p->first_offset,
                                  "next_offset", (json_int_t)p->next_offset);
                if (!o || json_array_append_new(offs, o) != 0) {
                        json_decref(offs);
                        return NULL;
                }
        }
        char *t = json_dumps(offs, JSON_COMPACT);
        json_decref(offs);
        return t;
}

int mm_store_write_batch(mm_store_t *st, const char *group, const mm_store_batch_t *b,
                         size_t *inserted, size_t *duplicates, char *errstr, size_t errstr_size) {
        return mm_store_write_batch_dl(st, group, b, (size_t)-1, inserted, duplicates, errstr,
                                       errstr_size);
}

int mm_store_write_batch_dl(mm_store_t *st, const char *group, const mm_store_batch_t *b,
                            size_t payload_cap, size_t *inserted, size_t *duplicates, char *errstr,
                            size_t errstr_size) {
        if (inserted)
                *inserted = 0;
        if (duplicates)
                *duplicates = 0;
        if (mm_store_connect(st, errstr, errstr_size) != 0)
                return MM_STORE_ERR_TRANSIENT;
        int rc = inputs_passed(st, group, b, errstr, errstr_size);
        if (rc != MM_STORE_OK)
                return rc;
        char *offs_text = offsets_json(b);
        if (!offs_text) {
                snprintf(errstr, errstr_size, "out of memory");
                return MM_STORE_ERR_TRANSIENT;
        }
        /* Records, offsets and dead letters: one transaction. */
        rc = tx_step(st, "BEGIN", errstr, errstr_size);
        if (rc == MM_STORE_OK)
                rc = write_docs(st, group, b->docs, b->texts, offs_text, inserted, duplicates,
                                errstr, errstr_size);
        free(offs_text);
        if (rc == MM_STORE_OK)
                rc = insert_dead_letters(st, b, payload_cap, errstr, errstr_size);
        if (rc == MM_STORE_OK)
                rc = tx_step(st, "COMMIT", errstr, errstr_size);
        if (rc != MM_STORE_OK)
                rollback(st);
        return rc;
}

int mm_store_probe(mm_store_t *st, const char *group, char *errstr, size_t errstr_size) {
        if (mm_store_connect(st, errstr, errstr_size) != 0)
                return MM_STORE_ERR_TRANSIENT;
        /* A minimal valid document with one item and a section (so the
         * COPY path runs too), written and rolled back: nothing stays. */
        json_t *canary =
                json_loads("[{\"sha256\":\"mm-probe\",\"topic\":\"mm.probe\",\"partition\":0,"
                           "\"offset\":0,\"byte_length\":0,\"raw_text\":\"\","
                           "\"parse\":{\"document\":{\"participants\":[\"p\"]},"
                           "\"items\":[{\"title\":\"t\",\"sections\":[{\"text\":\"s\"}]}]}}]",
                           0, NULL);
        if (!canary) {
                snprintf(errstr, errstr_size, "out of memory");
                return MM_STORE_ERR_TRANSIENT;
        }
        int rc = tx_step(st, "BEGIN", errstr, errstr_size);
        if (rc == MM_STORE_OK)
                rc = write_docs(st, group, canary, NULL, "[]", NULL, NULL, errstr, errstr_size);
        json_decref(canary);
        rollback(st);
        return rc;
}

int mm_store_input_attempt(mm_store_t *st, const char *group, const char *topic, int32_t partition,
                           int64_t offset, const char *prev_topic, int32_t prev_partition,
                           int64_t prev_offset, char *errstr, size_t errstr_size) {
        if (mm_store_connect(st, errstr, errstr_size) != 0)
                return -1;
        char part[16], off[32], ppart[16], poff[32];
        snprintf(part, sizeof(part), "%d", (int)partition);
        snprintf(off, sizeof(off), "%lld", (long long)offset);
        snprintf(ppart, sizeof(ppart), "%d", (int)prev_partition);
        snprintf(poff, sizeof(poff), "%lld", (long long)prev_offset);
        const char *p[7] = {group,
                            topic,
                            part,
                            off,
                            prev_topic,
                            prev_topic ? ppart : NULL,
                            prev_topic ? poff : NULL};
        PGresult *r = PQexecParams(st->conn, "SELECT mm_input_attempt($1, $2, $3, $4, $5, $6, $7)",
                                   7, NULL, p, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
                failed(st->conn, r, "mm_input_attempt", errstr, errstr_size);
                return -1;
        }
        int n = atoi(PQgetvalue(r, 0, 0));
        PQclear(r);
        return n;
}
