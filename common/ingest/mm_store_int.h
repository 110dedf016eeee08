/*
 * mm_store_int.h: what the files of the store module share (mm_store.c:
 * connection, migrations, transactions, error classes; mm_store_batch.c:
 * the batch in memory; mm_store_copy.c: how a batch's documents are
 * written). Not part of the public interface (mm_store.h).
 */
#ifndef MM_STORE_INT_H
#define MM_STORE_INT_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "mm_store.h"

struct mm_store_s {
        char *conninfo;
        PGconn *conn;
        /* bounded waits (mm_store_set_limits); 0 = libpq's / the server's default */
        char connect_timeout[24], keepalives_idle[24];
        long long statement_timeout_ms, lock_timeout_ms;
        void (*wait_cb)(void *arg); /* mm_store_set_wait_cb */
        void *wait_arg;
        mm_store_att_counts_t att_counts; /* of the last batch written */
};

/* A dead letter recorded with the batch (table dead_letters). */
typedef struct batch_dl_s {
        char *topic;
        int32_t partition;
        int64_t offset;
        const void *key, *payload; /* borrowed, see mm_store_batch_add_dead_letter */
        size_t key_len, payload_len, byte_length;
        char *stage, *code, *reason, *delivery;
        char *meta[MM_STORE_DL_META]; /* source URL, document id, content type,
                                         kommune; NULL when unknown */
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
        json_t *atts; /* array: attachment records (mm_store_batch_add_attachment) */
};

/* Fills errstr from the failed result `r` ("what [SQLSTATE]: message"),
 * clears `r` (may be NULL: then the connection's message) and returns the
 * error's class (MM_STORE_ERR_*). */
int mm_store_result_error(PGconn *conn, PGresult *r, const char *what, char *errstr,
                          size_t errstr_size);

/* COPYs rows[0..len) (COPY text format, whole lines) with `sql` ("COPY
 * table (...) FROM STDIN") inside the caller's transaction, in pieces of
 * 64 KiB. Returns MM_STORE_OK or an MM_STORE_ERR_* class with errstr. */
int mm_store_copy_rows(PGconn *conn, const char *sql, const char *table, const char *rows,
                       size_t len, char *errstr, size_t errstr_size);

/* Writes `docs` (texts[i]: document i rendered ahead, or NULL; `texts`
 * may be NULL) and the offsets `offs_text` (JSON) inside the caller's
 * transaction: documents, meetings and offsets by mm_ingest_documents, the
 * child rows by COPY. *inserted and *duplicates (may be NULL) are added
 * to. Returns MM_STORE_OK or an MM_STORE_ERR_* class with errstr. */
int mm_store_write_docs(mm_store_t *st, const char *group, const json_t *docs, char *const *texts,
                        const char *offs_text, size_t *inserted, size_t *duplicates, char *errstr,
                        size_t errstr_size);

/* Writes the attachment records `atts` (a JSON array, may be empty) by
 * mm_ingest_attachments (schemas/012_attachments.sql) inside the caller's
 * transaction, counting them into *counts (added to). Returns MM_STORE_OK
 * or an MM_STORE_ERR_* class with errstr. (mm_store_attach.c) */
int mm_store_write_attachments(mm_store_t *st, const json_t *atts, mm_store_att_counts_t *counts,
                               char *errstr, size_t errstr_size);

/* Sets documents.text_source, ocr_confidence and ocr_pages of the new
 * documents `ids[0..n)` whose parse `parses[i]` names a text source other
 * than "text" or OCRed pages (mm_set_text_sources, 012); the others keep
 * the defaults. Inside the caller's transaction. (mm_store_attach.c) */
int mm_store_set_text_sources(mm_store_t *st, const json_t *const *parses, const long long *ids,
                              size_t n, char *errstr, size_t errstr_size);

#endif /* MM_STORE_INT_H */
