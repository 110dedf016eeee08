/*
 * mm_poll_state: see mm_poll_state.h. Every query is PQexecParams with $n
 * parameters; every result is cleared.
 */
#include "mm_poll_state.h"

#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mm_poll_state_s {
        PGconn *conn;
};

static void pg_error(PGconn *c, const PGresult *r, const char *what, char *err, size_t esz) {
        const char *m = r ? PQresultErrorMessage(r) : NULL;
        if (!m || !*m)
                m = PQerrorMessage(c);
        snprintf(err, esz, "state: %s: %.*s", what, (int)strcspn(m, "\n"), m);
}

mm_poll_state_t *mm_poll_state_new(const char *conninfo, char *errstr, size_t errstr_size) {
        mm_poll_state_t *st = calloc(1, sizeof(*st));
        if (!st) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        st->conn = PQconnectdb(conninfo ? conninfo : "");
        if (PQstatus(st->conn) != CONNECTION_OK) {
                pg_error(st->conn, NULL, "connect", errstr, errstr_size);
                mm_poll_state_destroy(st);
                return NULL;
        }
        return st;
}

void mm_poll_state_destroy(mm_poll_state_t *st) {
        if (!st)
                return;
        PQfinish(st->conn);
        free(st);
}

int mm_poll_state_ok(mm_poll_state_t *st) {
        if (PQstatus(st->conn) == CONNECTION_OK)
                return 1;
        PQreset(st->conn);
        return PQstatus(st->conn) == CONNECTION_OK;
}

long long mm_poll_state_lock_key(const char *host) {
        uint64_t h = 14695981039346656037ULL;
        const char *parts[2] = {"minutes-source:", host};
        for (int k = 0; k < 2; k++)
                for (const unsigned char *p = (const unsigned char *)parts[k]; *p; p++) {
                        h ^= *p;
                        h *= 1099511628211ULL;
                }
        return (long long)h; /* bigint: the bit pattern, sign and all */
}

/* Runs `sql` with `n` text parameters; returns the result when its status
 * is `want`, else NULL with errstr filled (the result cleared). */
static PGresult *run(mm_poll_state_t *st, const char *what, const char *sql, int n,
                     const char *const *params, ExecStatusType want, char *err, size_t esz) {
        PGresult *r = PQexecParams(st->conn, sql, n, NULL, params, NULL, NULL, 0);
        if (!r || PQresultStatus(r) != want) {
                pg_error(st->conn, r, what, err, esz);
                PQclear(r);
                return NULL;
        }
        return r;
}

static int run_cmd(mm_poll_state_t *st, const char *what, const char *sql, int n,
                   const char *const *params, char *err, size_t esz) {
        PGresult *r = run(st, what, sql, n, params, PGRES_COMMAND_OK, err, esz);
        PQclear(r);
        return r ? 0 : -1;
}

static int lock_call(mm_poll_state_t *st, const char *fn, const char *host, int *got, char *err,
                     size_t esz) {
        char key[32], sql[96];
        snprintf(key, sizeof(key), "%lld", mm_poll_state_lock_key(host));
        snprintf(sql, sizeof(sql), "SELECT %s($1::bigint)", fn);
        const char *p[1] = {key};
        PGresult *r = run(st, fn, sql, 1, p, PGRES_TUPLES_OK, err, esz);
        if (!r)
                return -1;
        *got = PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
        PQclear(r);
        return 0;
}

int mm_poll_state_try_lock(mm_poll_state_t *st, const char *host, int *got, char *errstr,
                           size_t errstr_size) {
        *got = 0;
        return lock_call(st, "pg_try_advisory_lock", host, got, errstr, errstr_size);
}

int mm_poll_state_unlock(mm_poll_state_t *st, const char *host, char *errstr, size_t errstr_size) {
        int got;
        return lock_call(st, "pg_advisory_unlock", host, &got, errstr, errstr_size);
}

int mm_poll_state_host_begin(mm_poll_state_t *st, const char *host, const char *kommune,
                             mm_poll_host_state_t *out, char *errstr, size_t errstr_size) {
        const char *p[2] = {host, kommune};
        memset(out, 0, sizeof(*out));
        PGresult *r = run(st, "host row",
                          "INSERT INTO source_hosts AS h (host, kommune) VALUES ($1, $2)"
                          " ON CONFLICT (host) DO UPDATE SET kommune = EXCLUDED.kommune"
                          " RETURNING coalesce(extract(epoch FROM h.last_poll_at), 0),"
                          " coalesce(extract(epoch FROM h.next_poll_at), 0), h.failures,"
                          " coalesce(extract(epoch FROM h.last_success_at), 0)",
                          2, p, PGRES_TUPLES_OK, errstr, errstr_size);
        if (!r)
                return -1;
        out->last_poll = strtod(PQgetvalue(r, 0, 0), NULL);
        out->next_poll = strtod(PQgetvalue(r, 0, 1), NULL);
        out->failures = atoi(PQgetvalue(r, 0, 2));
        out->last_success = strtod(PQgetvalue(r, 0, 3), NULL);
        PQclear(r);
        return 0;
}

int mm_poll_state_host_read(mm_poll_state_t *st, const char *host, mm_poll_host_state_t *out,
                            char *errstr, size_t errstr_size) {
        const char *p[1] = {host};
        memset(out, 0, sizeof(*out));
        PGresult *r = run(st, "host read",
                          "SELECT coalesce(extract(epoch FROM last_poll_at), 0),"
                          " coalesce(extract(epoch FROM next_poll_at), 0), failures,"
                          " coalesce(extract(epoch FROM last_success_at), 0)"
                          " FROM source_hosts WHERE host = $1",
                          1, p, PGRES_TUPLES_OK, errstr, errstr_size);
        if (!r)
                return -1;
        if (PQntuples(r) == 1) {
                out->last_poll = strtod(PQgetvalue(r, 0, 0), NULL);
                out->next_poll = strtod(PQgetvalue(r, 0, 1), NULL);
                out->failures = atoi(PQgetvalue(r, 0, 2));
                out->last_success = strtod(PQgetvalue(r, 0, 3), NULL);
        }
        PQclear(r);
        return 0;
}

int mm_poll_state_host_done(mm_poll_state_t *st, const char *host, const char *error,
                            double next_in_s, const char *poller, int entries, char *errstr,
                            size_t errstr_size) {
        char next[32], n[16];
        snprintf(next, sizeof(next), "%.3f", next_in_s);
        snprintf(n, sizeof(n), "%d", entries);
        const char *p[5] = {host, error, next, poller, entries >= 0 ? n : NULL};
        return run_cmd(st, "host done",
                       "UPDATE source_hosts SET last_poll_at = now(),"
                       " last_success_at = CASE WHEN $2::text IS NULL THEN now()"
                       "                   ELSE last_success_at END,"
                       " failures = CASE WHEN $2::text IS NULL THEN 0 ELSE failures + 1 END,"
                       " last_error = coalesce($2::text, last_error),"
                       " last_error_at = CASE WHEN $2::text IS NULL THEN last_error_at"
                       "                 ELSE now() END,"
                       " next_poll_at = now() + make_interval(secs => $3::float8),"
                       " polled_by = $4, entries_listed = coalesce($5::integer, entries_listed)"
                       " WHERE host = $1",
                       5, p, errstr, errstr_size);
}

static int by_id(const void *a, const void *b) {
        return strcmp(((const mm_poll_entry_state_t *)a)->entry_id,
                      ((const mm_poll_entry_state_t *)b)->entry_id);
}

/* Row i of an entries query into *e. */
static void read_row(PGresult *r, int i, mm_poll_entry_state_t *e) {
        memset(e, 0, sizeof(*e));
        snprintf(e->entry_id, sizeof(e->entry_id), "%s", PQgetvalue(r, i, 0));
        snprintf(e->navn, sizeof(e->navn), "%s", PQgetvalue(r, i, 1));
        snprintf(e->released, sizeof(e->released), "%s", PQgetvalue(r, i, 2));
        e->afsluttet = PQgetvalue(r, i, 3)[0] == 't';
        snprintf(e->sha256, sizeof(e->sha256), "%s", PQgetvalue(r, i, 4));
        e->attempts = atoi(PQgetvalue(r, i, 5));
        e->succeeded = PQgetvalue(r, i, 6)[0] == 't';
        snprintf(e->kind, sizeof(e->kind), "%s", PQgetvalue(r, i, 7));
        e->att_listed = PQgetvalue(r, i, 8)[0] == 't';
}

int mm_poll_state_entries(mm_poll_state_t *st, const char *host, mm_poll_entry_state_t **out,
                          size_t *n, char *errstr, size_t errstr_size) {
        const char *p[1] = {host};
        *out = NULL;
        *n = 0;
        PGresult *r = run(st, "entries",
                          "SELECT entry_id, navn, released_date, afsluttet,"
                          " coalesce(body_sha256, ''), attempts, last_success_at IS NOT NULL,"
                          " coalesce(last_error_kind, ''), attachments_at IS NOT NULL"
                          " FROM source_entries WHERE host = $1",
                          1, p, PGRES_TUPLES_OK, errstr, errstr_size);
        if (!r)
                return -1;
        int rows = PQntuples(r);
        *out = calloc(rows ? (size_t)rows : 1, sizeof(**out));
        if (!*out) {
                PQclear(r);
                snprintf(errstr, errstr_size, "out of memory");
                return -1;
        }
        for (int i = 0; i < rows; i++)
                read_row(r, i, &(*out)[i]);
        PQclear(r);
        *n = (size_t)rows;
        qsort(*out, *n, sizeof(**out), by_id);
        return 0;
}

const mm_poll_entry_state_t *mm_poll_state_find(const mm_poll_entry_state_t *rows, size_t n,
                                                const char *entry_id) {
        mm_poll_entry_state_t key;
        if (strlen(entry_id) >= sizeof(key.entry_id))
                return NULL;
        snprintf(key.entry_id, sizeof(key.entry_id), "%s", entry_id);
        return bsearch(&key, rows, n, sizeof(*rows), by_id);
}

#define ENTRY_INSERT                                                                               \
        "INSERT INTO source_entries AS e (host, entry_id, committee_id, meeting_start, navn,"      \
        " released_date, afsluttet"

int mm_poll_state_entry_ok(mm_poll_state_t *st, const char *host, const mm_poll_entry_fields_t *f,
                           const char *sha256, char *errstr, size_t errstr_size) {
        const char *p[8] = {host,
                            f->entry_id,
                            f->committee_id,
                            f->meeting_start,
                            f->navn,
                            f->released,
                            f->afsluttet ? "true" : "false",
                            sha256};
        return run_cmd(st, "entry ok",
                       ENTRY_INSERT ", body_sha256, produced_at, last_success_at)"
                                    " VALUES ($1, $2, $3, $4, $5, $6, $7::boolean, $8,"
                                    " CASE WHEN $8::text IS NULL THEN NULL ELSE now() END, now())"
                                    " ON CONFLICT (host, entry_id) DO UPDATE SET"
                                    " committee_id = $3, meeting_start = $4, navn = $5,"
                                    " released_date = $6, afsluttet = $7::boolean,"
                                    " body_sha256 = coalesce($8, e.body_sha256),"
                                    " produced_at = CASE WHEN $8::text IS NULL THEN e.produced_at"
                                    "               ELSE now() END,"
                                    " last_success_at = now(), attempts = 0, last_error = NULL,"
                                    " last_error_kind = NULL, last_seen_at = now()",
                       8, p, errstr, errstr_size);
}

int mm_poll_state_entry_error(mm_poll_state_t *st, const char *host,
                              const mm_poll_entry_fields_t *f, const char *kind, const char *error,
                              char *errstr, size_t errstr_size) {
        const char *p[9] = {host,
                            f->entry_id,
                            f->committee_id,
                            f->meeting_start,
                            f->navn,
                            f->released,
                            f->afsluttet ? "true" : "false",
                            kind,
                            error};
        PGresult *r = run(st, "entry error",
                          ENTRY_INSERT ", attempts, last_error_kind, last_error, last_error_at)"
                                       " VALUES ($1, $2, $3, $4, $5, $6, $7::boolean, 1, $8, $9,"
                                       " now())"
                                       " ON CONFLICT (host, entry_id) DO UPDATE SET"
                                       " committee_id = $3, meeting_start = $4, navn = $5,"
                                       " released_date = $6, afsluttet = $7::boolean,"
                                       " attempts = e.attempts + 1, last_error_kind = $8,"
                                       " last_error = $9, last_error_at = now(),"
                                       " last_seen_at = now()"
                                       " RETURNING attempts",
                          9, p, PGRES_TUPLES_OK, errstr, errstr_size);
        if (!r)
                return -1;
        int a = atoi(PQgetvalue(r, 0, 0));
        PQclear(r);
        return a;
}

int mm_poll_state_entry_attachments_done(mm_poll_state_t *st, const char *host,
                                         const char *entry_id, char *errstr, size_t errstr_size) {
        const char *p[2] = {host, entry_id};
        return run_cmd(st, "entry attachments",
                       "UPDATE source_entries SET attachments_at = now()"
                       " WHERE host = $1 AND entry_id = $2",
                       2, p, errstr, errstr_size);
}

int mm_poll_state_att_register(mm_poll_state_t *st, const char *host, const mm_poll_att_t *a,
                               char *errstr, size_t errstr_size) {
        const char *p[7] = {host,
                            a->id,
                            a->entry_id,
                            a->meeting_key,
                            a->released,
                            a->name,
                            a->item[0] ? a->item : NULL};
        return run_cmd(st, "attachment register",
                       "INSERT INTO source_attachments (host, attachment_id, entry_id,"
                       " meeting_key, released_date, name, item_number)"
                       " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
                       7, p, errstr, errstr_size);
}

int mm_poll_state_att_pending(mm_poll_state_t *st, const char *host, long limit,
                              mm_poll_att_t **out, size_t *n, char *errstr, size_t errstr_size) {
        char lim[32];
        snprintf(lim, sizeof(lim), "%ld", limit);
        const char *p[2] = {host, limit > 0 ? lim : NULL};
        *out = NULL;
        *n = 0;
        PGresult *r = run(st, "attachments pending",
                          "SELECT attachment_id, entry_id, meeting_key, released_date, name,"
                          " coalesce(item_number, ''), attempts FROM source_attachments"
                          " WHERE host = $1 AND produced_at IS NULL"
                          " ORDER BY first_seen_at, attachment_id LIMIT $2::bigint",
                          2, p, PGRES_TUPLES_OK, errstr, errstr_size);
        if (!r)
                return -1;
        int rows = PQntuples(r);
        *out = calloc(rows ? (size_t)rows : 1, sizeof(**out));
        if (!*out) {
                PQclear(r);
                snprintf(errstr, errstr_size, "out of memory");
                return -1;
        }
        for (int i = 0; i < rows; i++) {
                mm_poll_att_t *a = &(*out)[i];
                snprintf(a->id, sizeof(a->id), "%s", PQgetvalue(r, i, 0));
                snprintf(a->entry_id, sizeof(a->entry_id), "%s", PQgetvalue(r, i, 1));
                snprintf(a->meeting_key, sizeof(a->meeting_key), "%s", PQgetvalue(r, i, 2));
                snprintf(a->released, sizeof(a->released), "%s", PQgetvalue(r, i, 3));
                snprintf(a->name, sizeof(a->name), "%s", PQgetvalue(r, i, 4));
                snprintf(a->item, sizeof(a->item), "%s", PQgetvalue(r, i, 5));
                a->attempts = atoi(PQgetvalue(r, i, 6));
        }
        PQclear(r);
        *n = (size_t)rows;
        return 0;
}

int mm_poll_state_att_produced(mm_poll_state_t *st, const char *host, const char *id,
                               const char *sha256, long long size, const char *content_type,
                               const char *skipped, char *errstr, size_t errstr_size) {
        char sz[32];
        snprintf(sz, sizeof(sz), "%lld", size);
        const char *p[6] = {host, id, sha256, size >= 0 ? sz : NULL, content_type, skipped};
        return run_cmd(st, "attachment produced",
                       "UPDATE source_attachments SET sha256 = $3, size_bytes = $4::bigint,"
                       " content_type = $5, skipped = $6, produced_at = now()"
                       " WHERE host = $1 AND attachment_id = $2",
                       6, p, errstr, errstr_size);
}

int mm_poll_state_att_error(mm_poll_state_t *st, const char *host, const char *id, const char *kind,
                            const char *error, char *errstr, size_t errstr_size) {
        const char *p[4] = {host, id, kind, error};
        PGresult *r = run(st, "attachment error",
                          "UPDATE source_attachments SET attempts = attempts + 1,"
                          " last_error_kind = $3, last_error = $4, last_error_at = now()"
                          " WHERE host = $1 AND attachment_id = $2 RETURNING attempts",
                          4, p, PGRES_TUPLES_OK, errstr, errstr_size);
        if (!r)
                return -1;
        int a = PQntuples(r) == 1 ? atoi(PQgetvalue(r, 0, 0)) : -1;
        if (a < 0)
                snprintf(errstr, errstr_size, "state: attachment %s has no row", id);
        PQclear(r);
        return a;
}
