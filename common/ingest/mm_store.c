#include "mm_store.h"
#include "mm_store_int.h"

#include "mm_buf.h"
#include "mm_log.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* The session settings as a conninfo `options` value ("-c
 * statement_timeout=... -c lock_timeout=..."), followed by the user's own
 * options (from the URL or conninfo, else PGOPTIONS), so a setting the
 * user gives wins. In the connection's parameters, the settings hold on
 * every connection PQreset makes after a failover, not only on the first.
 * "" when there is nothing to set. */
static void session_options(const mm_store_t *st, char *out, size_t out_size) {
        const char *user = NULL;
        PQconninfoOption *opts = st->conninfo[0] ? PQconninfoParse(st->conninfo, NULL) : NULL;
        for (PQconninfoOption *o = opts; o && o->keyword; o++)
                if (!strcmp(o->keyword, "options") && o->val && o->val[0])
                        user = o->val;
        if (!user)
                user = getenv("PGOPTIONS"); /* libpq's default, which ours replace */
        size_t n = 0;
        out[0] = '\0';
        if (st->statement_timeout_ms > 0)
                n += (size_t)snprintf(out + n, out_size - n, "-c statement_timeout=%lld ",
                                      st->statement_timeout_ms);
        if (st->lock_timeout_ms > 0 && n < out_size)
                n += (size_t)snprintf(out + n, out_size - n, "-c lock_timeout=%lld ",
                                      st->lock_timeout_ms);
        if (user && n < out_size)
                snprintf(out + n, out_size - n, "%s", user);
        PQconninfoFree(opts);
}

int mm_store_connect(mm_store_t *st, char *errstr, size_t errstr_size) {
        if (st->conn && PQstatus(st->conn) == CONNECTION_OK)
                return 0;
        if (st->conn) {
                /* same parameters, so the same session settings */
                PQreset(st->conn);
                if (PQstatus(st->conn) == CONNECTION_OK)
                        return 0;
                copy_pq_error(st->conn, errstr, errstr_size);
                PQfinish(st->conn);
                st->conn = NULL;
                return -1;
        }
        /* Our defaults come BEFORE dbname: with expand_dbname the user's
         * URL or conninfo, expanded in its place, overrides them. The
         * options come after it: they already hold the user's own. Every
         * statement of the session is bounded: a statement hanging on a
         * lock or a slow server gives an error (57014 / 55P03), which is
         * systemic: the batch is kept and retried. */
        const char *keys[10], *vals[10];
        char options[1024];
        int k = 0;
        keys[k] = "fallback_application_name";
        vals[k++] = "minutes-worker";
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
        session_options(st, options, sizeof(options));
        if (options[0]) {
                keys[k] = "options";
                vals[k++] = options;
        }
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
        return 0;
}

int mm_store_setting(mm_store_t *st, const char *name, char *out, size_t out_size, char *errstr,
                     size_t errstr_size) {
        if (mm_store_connect(st, errstr, errstr_size) != 0)
                return -1;
        const char *p[1] = {name};
        PGresult *r =
                PQexecParams(st->conn, "SELECT current_setting($1)", 1, NULL, p, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
                mm_store_result_error(st->conn, r, "current_setting", errstr, errstr_size);
                return -1;
        }
        snprintf(out, out_size, "%s", PQgetvalue(r, 0, 0));
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

/* Classifies a failed result. */
static int classify(PGconn *conn, const PGresult *r) {
        if (!conn || PQstatus(conn) != CONNECTION_OK)
                return MM_STORE_ERR_TRANSIENT;
        return mm_store_classify_sqlstate(r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL);
}

/* Fills errstr from a failed result and returns its class. */
int mm_store_result_error(PGconn *conn, PGresult *r, const char *what, char *errstr,
                          size_t errstr_size) {
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

/* Runs one parameterless statement of the batch's transaction. */
static int tx_step(mm_store_t *st, const char *sql, char *errstr, size_t errstr_size) {
        PGresult *r = PQexecParams(st->conn, sql, 0, NULL, NULL, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
                return mm_store_result_error(st->conn, r, sql, errstr, errstr_size);
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
                rc = mm_store_write_docs(st, group, one, b->texts ? &b->texts[i] : NULL, "[]", NULL,
                                         NULL, errstr, errstr_size);
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
                        return mm_store_result_error(st->conn, r, "mm_inputs_passed", errstr,
                                                     errstr_size);
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
                const char *p[15] = {d->topic,    part,
                                     off,         d->key,
                                     d->stage,    d->code,
                                     d->reason,   d->sha256,
                                     blen,        complete ? d->payload : NULL,
                                     d->delivery, d->meta[0],
                                     d->meta[1],  d->meta[2],
                                     d->meta[3]};
                int len[15] = {0, 0,
                               0, (int)d->key_len,
                               0, 0,
                               0, 0,
                               0, complete ? (int)d->payload_len : 0};
                int fmt[15] = {0, 0, 0, 1, 0, 0, 0, 0, 0, 1};
                if (complete && !d->payload)
                        p[9] = ""; /* an empty value is kept, as 0 bytes */
                PGresult *r = PQexecParams(
                        st->conn,
                        "INSERT INTO dead_letters (source_topic, source_partition, source_offset,"
                        " message_key, stage, code, reason, sha256, byte_length, payload,"
                        " payload_complete, dlq_delivery, source_url, document_id, content_type,"
                        " municipality)"
                        " VALUES ($1, $2, $3, $4::bytea, $5, $6, $7, $8, $9, $10::bytea, $10 IS "
                        "NOT NULL, $11, $12, $13, $14, $15)"
                        " ON CONFLICT (source_topic, source_partition, source_offset) DO NOTHING",
                        15, NULL, p, len, fmt, 0);
                if (PQresultStatus(r) != PGRES_COMMAND_OK)
                        return mm_store_result_error(st->conn, r, "dead_letters", errstr,
                                                     errstr_size);
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
        /* Records, offsets, attachments and dead letters: one transaction. */
        mm_store_att_counts_t att = {0};
        memset(&st->att_counts, 0, sizeof(st->att_counts));
        rc = tx_step(st, "BEGIN", errstr, errstr_size);
        if (rc == MM_STORE_OK)
                rc = mm_store_write_docs(st, group, b->docs, b->texts, offs_text, inserted,
                                         duplicates, errstr, errstr_size);
        free(offs_text);
        if (rc == MM_STORE_OK)
                rc = mm_store_write_attachments(st, b->atts, &att, errstr, errstr_size);
        if (rc == MM_STORE_OK)
                rc = insert_dead_letters(st, b, payload_cap, errstr, errstr_size);
        if (rc == MM_STORE_OK)
                rc = tx_step(st, "COMMIT", errstr, errstr_size);
        if (rc != MM_STORE_OK)
                rollback(st);
        else
                st->att_counts = att;
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
                rc = mm_store_write_docs(st, group, canary, NULL, "[]", NULL, NULL, errstr,
                                         errstr_size);
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
                mm_store_result_error(st->conn, r, "mm_input_attempt", errstr, errstr_size);
                return -1;
        }
        int n = atoi(PQgetvalue(r, 0, 0));
        PQclear(r);
        return n;
}

int mm_store_input_settle(mm_store_t *st, const char *group, const char *topic, int32_t partition,
                          int64_t offset, int passed, char *errstr, size_t errstr_size) {
        if (mm_store_connect(st, errstr, errstr_size) != 0)
                return -1;
        char part[16], off[32];
        snprintf(part, sizeof(part), "%d", (int)partition);
        snprintf(off, sizeof(off), "%lld", (long long)offset);
        const char *p[5] = {group, topic, part, off, passed ? "true" : "false"};
        PGresult *r = PQexecParams(st->conn, "SELECT mm_input_settle($1, $2, $3, $4, $5)", 5, NULL,
                                   p, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
                mm_store_result_error(st->conn, r, "mm_input_settle", errstr, errstr_size);
                return -1;
        }
        PQclear(r);
        return 0;
}
