#include "mm_store.h"

#include "mm_log.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mm_store_s {
        char *conninfo;
        PGconn *conn;
};

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
        st->conn = PQconnectdb(st->conninfo);
        if (!st->conn || PQstatus(st->conn) != CONNECTION_OK) {
                copy_pq_error(st->conn, errstr, errstr_size);
                if (st->conn)
                        PQfinish(st->conn);
                st->conn = NULL;
                return -1;
        }
        PQsetNoticeProcessor(st->conn, notice_processor, NULL);
        PGresult *r = PQexecParams(st->conn,
                                   "SELECT set_config('application_name', 'minutes-worker', false)",
                                   0, NULL, NULL, NULL, NULL, 0);
        PQclear(r);
        return 0;
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

void mm_store_batch_clear(mm_store_batch_t *b) {
        json_array_clear(b->docs);
        for (size_t i = 0; i < b->nparts; i++)
                free(b->parts[i].topic);
        b->nparts = 0;
}

void mm_store_batch_destroy(mm_store_batch_t *b) {
        if (!b)
                return;
        mm_store_batch_clear(b);
        json_decref(b->docs);
        free(b->parts);
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
}

/* Classifies a failed result. */
static int classify(PGconn *conn, const PGresult *r) {
        if (!conn || PQstatus(conn) != CONNECTION_OK)
                return MM_STORE_ERR_TRANSIENT;
        const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
        if (!state)
                return MM_STORE_ERR_TRANSIENT;
        if (!strcmp(state, "MM001"))
                return MM_STORE_ERR_FENCED;
        if (!strncmp(state, "08", 2) || !strncmp(state, "57", 2) || !strncmp(state, "53", 2) ||
            !strncmp(state, "40", 2) || !strncmp(state, "58", 2) || !strcmp(state, "55P03"))
                return MM_STORE_ERR_TRANSIENT;
        return MM_STORE_ERR_DATA;
}

/* Runs mm_ingest_batch on the given JSON texts. */
static int ingest(mm_store_t *st, const char *group, const char *docs_text, const char *offs_text,
                  size_t *inserted, size_t *duplicates, char *errstr, size_t errstr_size) {
        const char *params[3] = {group, docs_text, offs_text};
        PGresult *r = PQexecParams(st->conn,
                                   "SELECT idx, document_id, status"
                                   " FROM mm_ingest_batch($1, $2::jsonb, $3::jsonb)",
                                   3, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
                int rc = classify(st->conn, r);
                snprintf(errstr, errstr_size, "%s",
                         r ? PQresultErrorMessage(r) : PQerrorMessage(st->conn));
                size_t len = strlen(errstr);
                while (len > 0 && errstr[len - 1] == '\n')
                        errstr[--len] = '\0';
                PQclear(r);
                return rc;
        }
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

int mm_store_write_batch(mm_store_t *st, const char *group, const mm_store_batch_t *b,
                         size_t *inserted, size_t *duplicates, char *errstr, size_t errstr_size) {
        if (inserted)
                *inserted = 0;
        if (duplicates)
                *duplicates = 0;
        if (mm_store_connect(st, errstr, errstr_size) != 0)
                return MM_STORE_ERR_TRANSIENT;
        json_t *offs = json_array();
        if (!offs) {
                snprintf(errstr, errstr_size, "out of memory");
                return MM_STORE_ERR_TRANSIENT;
        }
        for (size_t i = 0; i < b->nparts; i++) {
                const batch_part_t *p = &b->parts[i];
                json_t *o =
                        json_pack("{s:s, s:i, s:I, s:I}", "topic", p->topic, "partition",
                                  (int)p->partition, "first_offset", (json_int_t)p->first_offset,
                                  "next_offset", (json_int_t)p->next_offset);
                if (!o || json_array_append_new(offs, o) != 0) {
                        json_decref(offs);
                        snprintf(errstr, errstr_size, "out of memory");
                        return MM_STORE_ERR_TRANSIENT;
                }
        }
        char *docs_text = json_dumps(b->docs, JSON_COMPACT);
        char *offs_text = json_dumps(offs, JSON_COMPACT);
        json_decref(offs);
        if (!docs_text || !offs_text) {
                free(docs_text);
                free(offs_text);
                snprintf(errstr, errstr_size, "out of memory");
                return MM_STORE_ERR_TRANSIENT;
        }
        int rc = ingest(st, group, docs_text, offs_text, inserted, duplicates, errstr, errstr_size);
        free(docs_text);
        free(offs_text);
        return rc;
}
