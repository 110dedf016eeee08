/*
 * mm_store_attach: the attachments of a batch (attachment_texts) and the
 * text source of its documents, both of migration 012
 * (schemas/012_attachments.sql), written inside the batch's transaction.
 */
#include "mm_store.h"
#include "mm_store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mm_store_attachment_counts(const mm_store_t *st, mm_store_att_counts_t *out) {
        *out = st->att_counts;
}

/* Counts row `i` of mm_ingest_attachments' result into *c. */
static void count_row(const json_t *atts, const char *idx, const char *status,
                      mm_store_att_counts_t *c) {
        const json_t *a = json_array_get(atts, (size_t)strtoul(idx, NULL, 10));
        const char *outcome = json_string_value(json_object_get(a, "outcome"));
        if (!strcmp(status, "duplicate"))
                c->duplicates++;
        else if (outcome && !strcmp(outcome, "skipped"))
                c->skipped++;
        else if (outcome && !strcmp(outcome, "failed"))
                c->failed++;
        else
                c->stored++;
}

int mm_store_write_attachments(mm_store_t *st, const json_t *atts, mm_store_att_counts_t *counts,
                               char *errstr, size_t errstr_size) {
        if (json_array_size(atts) == 0)
                return MM_STORE_OK;
        char *text = json_dumps(atts, JSON_COMPACT);
        if (!text) {
                snprintf(errstr, errstr_size, "out of memory");
                return MM_STORE_ERR_TRANSIENT;
        }
        const char *p[1] = {text};
        PGresult *r =
                PQexecParams(st->conn, "SELECT idx, status FROM mm_ingest_attachments($1::jsonb)",
                             1, NULL, p, NULL, NULL, 0);
        free(text);
        if (PQresultStatus(r) != PGRES_TUPLES_OK)
                return mm_store_result_error(st->conn, r, "mm_ingest_attachments", errstr,
                                             errstr_size);
        for (int i = 0; i < PQntuples(r); i++)
                count_row(atts, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), counts);
        PQclear(r);
        return MM_STORE_OK;
}

/* 1 if the parse's document names a text source other than "text" or
 * OCRed pages (else the defaults of 012 hold). */
static int needs_text_source(const json_t *pd) {
        const char *ts = json_string_value(json_object_get(pd, "text_source"));
        const json_t *pages = json_object_get(pd, "ocr_pages");
        return (ts && strcmp(ts, "text") != 0) || json_array_size(pages) > 0 ||
               json_is_number(json_object_get(pd, "ocr_confidence"));
}

int mm_store_set_text_sources(mm_store_t *st, const json_t *const *parses, const long long *ids,
                              size_t n, char *errstr, size_t errstr_size) {
        json_t *rows = json_array();
        if (!rows) {
                snprintf(errstr, errstr_size, "out of memory");
                return MM_STORE_ERR_TRANSIENT;
        }
        for (size_t i = 0; i < n; i++) {
                const json_t *pd = json_object_get(parses[i], "document");
                if (!json_is_object(pd) || !needs_text_source(pd))
                        continue;
                json_t *o = json_object();
                json_object_set_new(o, "id", json_integer(ids[i]));
                static const char *const keys[] = {"text_source", "ocr_confidence", "ocr_pages"};
                for (size_t k = 0; k < 3; k++) {
                        json_t *v = json_object_get(pd, keys[k]);
                        if (v)
                                json_object_set(o, keys[k], v);
                }
                json_array_append_new(rows, o);
        }
        int rc = MM_STORE_OK;
        if (json_array_size(rows) > 0) {
                char *text = json_dumps(rows, JSON_COMPACT);
                const char *p[1] = {text};
                PGresult *r = text ? PQexecParams(st->conn, "SELECT mm_set_text_sources($1::jsonb)",
                                                  1, NULL, p, NULL, NULL, 0)
                                   : NULL;
                free(text);
                if (!r) {
                        snprintf(errstr, errstr_size, "out of memory");
                        rc = MM_STORE_ERR_TRANSIENT;
                } else if (PQresultStatus(r) != PGRES_TUPLES_OK) {
                        rc = mm_store_result_error(st->conn, r, "mm_set_text_sources", errstr,
                                                   errstr_size);
                } else {
                        PQclear(r);
                }
        }
        json_decref(rows);
        return rc;
}

/* Runs one parameterless statement; MM_STORE_OK or the error's class. */
static int step(mm_store_t *st, const char *sql, char *errstr, size_t errstr_size) {
        PGresult *r = PQexecParams(st->conn, sql, 0, NULL, NULL, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
                return mm_store_result_error(st->conn, r, sql, errstr, errstr_size);
        PQclear(r);
        return MM_STORE_OK;
}

int mm_store_write_attachment_single(mm_store_t *st, const mm_store_batch_t *b, size_t i,
                                     char *errstr, size_t errstr_size) {
        if (mm_store_connect(st, errstr, errstr_size) != 0)
                return MM_STORE_ERR_TRANSIENT;
        json_t *one = json_array();
        if (!one || json_array_append(one, json_array_get(b->atts, i)) != 0) {
                json_decref(one);
                snprintf(errstr, errstr_size, "out of memory");
                return MM_STORE_ERR_TRANSIENT;
        }
        mm_store_att_counts_t c = {0};
        int rc = step(st, "BEGIN", errstr, errstr_size);
        if (rc == MM_STORE_OK)
                rc = mm_store_write_attachments(st, one, &c, errstr, errstr_size);
        json_decref(one);
        if (rc == MM_STORE_OK)
                rc = step(st, "COMMIT", errstr, errstr_size);
        if (rc != MM_STORE_OK && PQstatus(st->conn) == CONNECTION_OK &&
            PQtransactionStatus(st->conn) != PQTRANS_IDLE) {
                PGresult *r = PQexecParams(st->conn, "ROLLBACK", 0, NULL, NULL, NULL, NULL, 0);
                PQclear(r);
        }
        return rc;
}
