/*
 * mm_store_migrate: the schema of mm_store (see mm_store.h): numbered
 * migrations applied once, and the schema a worker requires.
 */
#include "mm_store.h"
#include "mm_store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef MM_SCHEMA_VERSION
#error "MM_SCHEMA_VERSION (the highest schemas/NNN_*.sql) is set by common/CMakeLists.txt"
#endif

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

int mm_store_schema_version(void) {
        return MM_SCHEMA_VERSION;
}

int mm_store_check_schema(mm_store_t *st, char *errstr, size_t errstr_size) {
        if (mm_store_connect(st, errstr, errstr_size) != 0)
                return MM_STORE_ERR_TRANSIENT;
        /* to_regclass: a database never migrated has no schema_migrations */
        PGresult *r = PQexecParams(st->conn,
                                   "SELECT CASE WHEN to_regclass('schema_migrations') IS NULL"
                                   " THEN 0 ELSE (SELECT coalesce(max(substring(version FROM"
                                   " '^[0-9]+')::int), 0) FROM schema_migrations) END",
                                   0, NULL, NULL, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
                return mm_store_result_error(st->conn, r, "schema version", errstr, errstr_size);
        int have = atoi(PQgetvalue(r, 0, 0));
        PQclear(r);
        if (have >= MM_SCHEMA_VERSION)
                return MM_STORE_OK;
        snprintf(errstr, errstr_size,
                 "the database schema is at migration %03d, this worker needs %03d: run "
                 "`minutes-worker --migrate` with the owner role first",
                 have, MM_SCHEMA_VERSION);
        return MM_STORE_ERR_SCHEMA;
}
