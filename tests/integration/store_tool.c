/* mm-store-tool: writes a JSON array of documents (the envelope's
 * fields, raw_text and parse, as the worker adds them to a batch) into
 * PostgreSQL, for the integration tests.
 *
 *   mm-store-tool legacy CONNINFO DOCS.json  mm_ingest_batch of a schema
 *                                            before 008 (as a worker of
 *                                            that schema wrote), one call:
 *                                            data for upgrade tests
 *   mm-store-tool new CONNINFO DOCS.json     mm_store_write_batch
 *   mm-store-tool single CONNINFO DOCS.json I   mm_store_write_single of doc I
 *   mm-store-tool probe CONNINFO             mm_store_probe
 *   mm-store-tool reconnect CONNINFO ADMIN_CONNINFO STATEMENT_MS LOCK_MS
 *       a store with those timeouts connects; ADMIN ends its session
 *       (pg_terminate_backend of every other client of the database: run
 *       it alone); the store reconnects and prints
 *       "statement_timeout=... lock_timeout=..." of the new session
 *
 * Every document's topic/partition/offset goes into the batch's offsets
 * (group "it-store"). The file is read with \u0000 allowed, and a string
 * "<<INVALID-UTF8>>" becomes the bytes ff fe (not UTF-8): the worker may
 * hold such values in memory, a JSON file cannot. Prints "rc=R inserted=I
 * duplicates=D" (R: MM_STORE_* code) and the error on stderr; exit 0 if
 * R is MM_STORE_OK. */
#include "mm_store.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Replaces every "<<INVALID-UTF8>>" string in `v` with two invalid bytes. */
static void inject_invalid(json_t *v) {
        size_t i;
        json_t *e;
        const char *k;
        if (json_is_array(v)) {
                json_array_foreach(v, i, e) {
                        if (json_is_string(e) && !strcmp(json_string_value(e), "<<INVALID-UTF8>>"))
                                json_array_set_new(v, i, json_stringn_nocheck("\xff\xfe", 2));
                        else
                                inject_invalid(e);
                }
        } else if (json_is_object(v)) {
                json_object_foreach(v, k, e) {
                        if (json_is_string(e) && !strcmp(json_string_value(e), "<<INVALID-UTF8>>"))
                                json_object_set_new(v, k, json_stringn_nocheck("\xff\xfe", 2));
                        else
                                inject_invalid(e);
                }
        }
}

/* A schema before 008: mm_ingest_batch with the batch as jansson prints it. */
static int write_legacy(const char *conninfo, json_t *docs, json_t *offs) {
        PGconn *c = PQconnectdb(conninfo);
        if (PQstatus(c) != CONNECTION_OK) {
                fprintf(stderr, "connect: %s", PQerrorMessage(c));
                PQfinish(c);
                return MM_STORE_ERR_TRANSIENT;
        }
        char *d = json_dumps(docs, JSON_COMPACT), *o = json_dumps(offs, JSON_COMPACT);
        const char *p[3] = {"it-store", d, o};
        PGresult *r = PQexecParams(c,
                                   "SELECT count(*) FILTER (WHERE status = 'inserted'),"
                                   " count(*) FILTER (WHERE status = 'duplicate')"
                                   " FROM mm_ingest_batch($1, $2::jsonb, $3::jsonb)",
                                   3, NULL, p, NULL, NULL, 0);
        int rc = MM_STORE_OK;
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
                rc = mm_store_classify_sqlstate(PQresultErrorField(r, PG_DIAG_SQLSTATE));
                fprintf(stderr, "mm_ingest_batch: %s", PQresultErrorMessage(r));
                printf("rc=%d inserted=0 duplicates=0\n", rc);
        } else {
                printf("rc=0 inserted=%s duplicates=%s\n", PQgetvalue(r, 0, 0),
                       PQgetvalue(r, 0, 1));
        }
        PQclear(r);
        PQfinish(c);
        free(d);
        free(o);
        return rc;
}

/* The offsets of the documents, as mm_ingest_batch reads them. */
static json_t *offsets_of(mm_store_batch_t *b) {
        json_t *offs = json_array();
        for (size_t i = 0; i < mm_store_batch_partition_count(b); i++) {
                const char *t;
                int32_t p;
                int64_t first, next;
                mm_store_batch_partition(b, i, &t, &p, &first, &next);
                json_array_append_new(offs,
                                      json_pack("{s:s, s:i, s:I, s:I}", "topic", t, "partition",
                                                (int)p, "first_offset", (json_int_t)first,
                                                "next_offset", (json_int_t)next));
        }
        return offs;
}

static int write_new(const char *mode, const char *conninfo, mm_store_batch_t *b, size_t one) {
        char err[1024] = "";
        mm_store_t *st = mm_store_new(conninfo, err, sizeof(err));
        size_t ins = 0, dup = 0;
        int rc = !st ? MM_STORE_ERR_TRANSIENT
                 : !strcmp(mode, "new")
                         ? mm_store_write_batch(st, "it-store", b, &ins, &dup, err, sizeof(err))
                 : !strcmp(mode, "single")
                         ? mm_store_write_single(st, "it-store", b, one, err, sizeof(err))
                         : mm_store_probe(st, "it-store", err, sizeof(err));
        printf("rc=%d inserted=%zu duplicates=%zu\n", rc, ins, dup);
        if (rc != MM_STORE_OK)
                fprintf(stderr, "%s\n", err);
        mm_store_destroy(st);
        return rc;
}

/* Prints the session's timeouts. Returns 0 or -1. */
static int print_timeouts(mm_store_t *st) {
        char a[64], b[64], err[512];
        if (mm_store_setting(st, "statement_timeout", a, sizeof(a), err, sizeof(err)) != 0 ||
            mm_store_setting(st, "lock_timeout", b, sizeof(b), err, sizeof(err)) != 0) {
                fprintf(stderr, "%s\n", err);
                return -1;
        }
        printf("statement_timeout=%s lock_timeout=%s\n", a, b);
        return 0;
}

/* The reconnect check (issue 19, defect 4): the timeouts of the first
 * session, then of the session after pg_terminate_backend. */
static int reconnect(const char *conninfo, const char *admin, long long stm, long long lkm) {
        char err[512];
        mm_store_t *st = mm_store_new(conninfo, err, sizeof(err));
        mm_store_set_limits(st, 5, 0, stm, lkm);
        if (mm_store_connect(st, err, sizeof(err)) != 0 || print_timeouts(st) != 0) {
                fprintf(stderr, "connect: %s\n", err);
                mm_store_destroy(st);
                return 1;
        }
        PGconn *a = PQconnectdb(admin);
        /* the store's session is the only other client of the database */
        PGresult *r = PQexec(a, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                                " AND backend_type = 'client backend'");
        int ok = PQresultStatus(r) == PGRES_TUPLES_OK && !strcmp(PQgetvalue(r, 0, 0), "1");
        if (!ok)
                fprintf(stderr, "terminate: %s%s\n", PQerrorMessage(a),
                        PQresultStatus(r) == PGRES_TUPLES_OK ? PQgetvalue(r, 0, 0) : "");
        PQclear(r);
        PQfinish(a);
        /* the first statement on the ended session fails; the store then
         * reconnects (PQreset) on the next call */
        char v[64];
        if (ok && mm_store_setting(st, "statement_timeout", v, sizeof(v), err, sizeof(err)) == 0) {
                fprintf(stderr, "the session was not ended\n");
                ok = 0;
        }
        ok = ok && mm_store_connect(st, err, sizeof(err)) == 0 && print_timeouts(st) == 0;
        mm_store_destroy(st);
        return ok ? 0 : 1;
}

int main(int argc, char **argv) {
        if (argc >= 6 && !strcmp(argv[1], "reconnect"))
                return reconnect(argv[2], argv[3], atoll(argv[4]), atoll(argv[5]));
        if (argc < 3 || (strcmp(argv[1], "probe") != 0 && argc < 4)) {
                fprintf(stderr,
                        "usage: %s legacy|new|single|probe CONNINFO [DOCS.json [I]]\n"
                        "       %s reconnect CONNINFO ADMIN_CONNINFO STATEMENT_MS LOCK_MS\n",
                        argv[0], argv[0]);
                return 2;
        }
        mm_store_batch_t *b = mm_store_batch_new();
        json_t *docs = NULL;
        if (argc >= 4) {
                json_error_t e;
                docs = json_load_file(argv[3], JSON_ALLOW_NUL, &e);
                if (!json_is_array(docs)) {
                        fprintf(stderr, "%s:%d: %s\n", argv[3], e.line, e.text);
                        return 2;
                }
                inject_invalid(docs);
                size_t i;
                json_t *d;
                json_array_foreach(docs, i, d) {
                        mm_store_batch_add_doc(b, json_incref(d));
                        mm_store_batch_add_offset(
                                b, json_string_value(json_object_get(d, "topic")),
                                (int32_t)json_integer_value(json_object_get(d, "partition")),
                                json_integer_value(json_object_get(d, "offset")));
                }
        }
        int rc;
        if (!strcmp(argv[1], "legacy")) {
                json_t *offs = offsets_of(b);
                rc = write_legacy(argv[2], docs, offs);
                json_decref(offs);
        } else {
                rc = write_new(argv[1], argv[2], b, argc > 4 ? strtoul(argv[4], NULL, 10) : 0);
        }
        json_decref(docs);
        mm_store_batch_destroy(b);
        return rc == MM_STORE_OK ? 0 : 1;
}
