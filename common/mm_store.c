#include "mm_store.h"

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
        free(b->parts);
        free(b->dls);
        free(b);
}

int mm_store_batch_add_doc(mm_store_batch_t *b, json_t *doc) {
        /* json_array_append_new takes the reference, also on failure. */
        return json_array_append_new(b->docs, doc) == 0 ? 0 : -1;
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
                if (t && !strcmp(t, topic) && p == partition)
                        json_array_remove(b->docs, i);
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

/* Runs mm_ingest_batch on the given JSON texts. */
static int ingest(mm_store_t *st, const char *group, const char *docs_text, const char *offs_text,
                  size_t *inserted, size_t *duplicates, char *errstr, size_t errstr_size) {
        const char *params[3] = {group, docs_text, offs_text};
        PGresult *r = PQexecParams(st->conn,
                                   "SELECT idx, document_id, status"
                                   " FROM mm_ingest_batch($1, $2::jsonb, $3::jsonb)",
                                   3, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK)
                return failed(st->conn, r, "mm_ingest_batch", errstr, errstr_size);
        for (int i = 0; i < PQntuples(r); i++) {
                if (!strcmp(PQgetvalue(r, i, 2), "inserted")) {
                        if (inserted)
                                (*inserted)++;
                } else if (duplicates) {
                        (*duplicates)++;
                }
        }
        PQclear(r);
        return MM_STORE_OK;
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
        char *docs_text = json_dumps(one, JSON_COMPACT);
        json_decref(one);
        if (!docs_text) {
                snprintf(errstr, errstr_size, "out of memory");
                return MM_STORE_ERR_TRANSIENT;
        }
        int rc = ingest(st, group, docs_text, "[]", NULL, NULL, errstr, errstr_size);
        free(docs_text);
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

/* Runs one parameterless statement of the batch's transaction. */
static int tx_step(mm_store_t *st, const char *sql, char *errstr, size_t errstr_size) {
        PGresult *r = PQexecParams(st->conn, sql, 0, NULL, NULL, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
                return failed(st->conn, r, sql, errstr, errstr_size);
        PQclear(r);
        return MM_STORE_OK;
}

/* Serialises the batch's offsets as the JSON mm_ingest_batch reads. */
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
        char *docs_text = json_dumps(b->docs, JSON_COMPACT);
        char *offs_text = offsets_json(b);
        if (!docs_text || !offs_text) {
                free(docs_text);
                free(offs_text);
                snprintf(errstr, errstr_size, "out of memory");
                return MM_STORE_ERR_TRANSIENT;
        }
        /* Records, offsets and dead letters: one transaction. */
        rc = tx_step(st, "BEGIN", errstr, errstr_size);
        if (rc == MM_STORE_OK)
                rc = ingest(st, group, docs_text, offs_text, inserted, duplicates, errstr,
                            errstr_size);
        free(docs_text);
        free(offs_text);
        if (rc == MM_STORE_OK)
                rc = insert_dead_letters(st, b, payload_cap, errstr, errstr_size);
        if (rc == MM_STORE_OK)
                rc = tx_step(st, "COMMIT", errstr, errstr_size);
        if (rc != MM_STORE_OK && PQstatus(st->conn) == CONNECTION_OK &&
            PQtransactionStatus(st->conn) != PQTRANS_IDLE) {
                PGresult *r = PQexecParams(st->conn, "ROLLBACK", 0, NULL, NULL, NULL, NULL, 0);
                PQclear(r);
        }
        return rc;
}

int mm_store_probe(mm_store_t *st, const char *group, char *errstr, size_t errstr_size) {
        if (mm_store_connect(st, errstr, errstr_size) != 0)
                return MM_STORE_ERR_TRANSIENT;
        /* A minimal valid document, written and rolled back: nothing stays. */
        static const char canary[] =
                "[{\"sha256\":\"mm-probe\",\"topic\":\"mm.probe\",\"partition\":0,"
                "\"offset\":0,\"byte_length\":0,\"raw_text\":\"\","
                "\"parse\":{\"document\":{},\"items\":[]}}]";
        int rc = tx_step(st, "BEGIN", errstr, errstr_size);
        if (rc == MM_STORE_OK)
                rc = ingest(st, group, canary, "[]", NULL, NULL, errstr, errstr_size);
        if (PQstatus(st->conn) == CONNECTION_OK && PQtransactionStatus(st->conn) != PQTRANS_IDLE) {
                PGresult *r = PQexecParams(st->conn, "ROLLBACK", 0, NULL, NULL, NULL, NULL, 0);
                PQclear(r);
        }
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
