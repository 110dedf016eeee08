/*
 * mm_store: the PostgreSQL side of minutes-worker.
 *
 * - migrations (numbered SQL scripts, applied once, under an advisory lock,
 *   recorded in schema_migrations);
 * - consumer offsets kept in PostgreSQL (table consumer_offsets);
 * - batches: many documents AND the consumed offsets written in ONE
 *   statement, hence one transaction (SQL function mm_ingest_batch, see
 *   schemas/001_init.sql).
 *
 * A store owns one connection. It reconnects on demand (PQreset), so after
 * a transient error the caller simply retries.
 */
#ifndef MM_STORE_H
#define MM_STORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mm_store_s mm_store_t;
typedef struct mm_store_batch_s mm_store_batch_t;

/* Result codes of mm_store_write_batch and friends. */
#define MM_STORE_OK 0
#define MM_STORE_ERR_TRANSIENT                                                                     \
        -1 /* connection lost, server shutting down,
                                     deadlock, ...: retry later */
#define MM_STORE_ERR_FENCED                                                                        \
        -2 /* offsets already past this batch: another
                                     consumer wrote it; re-seek and drop it */
#define MM_STORE_ERR_DATA                                                                          \
        -3 /* a document was refused (bad data):
                                     retrying the same batch will fail again */

/* Creates a store for `conninfo` (URL or key=value; NULL or "" means
 * libpq's PG* environment variables). Does not connect: see
 * mm_store_connect. Returns NULL on allocation failure. */
mm_store_t *mm_store_new(const char *conninfo, char *errstr, size_t errstr_size);

/* Closes the connection and frees `st`; NULL is allowed. */
void mm_store_destroy(mm_store_t *st);

/* Connects, or reconnects if the connection is bad. Returns 0, or -1 with
 * errstr filled (the caller may retry). */
int mm_store_connect(mm_store_t *st, char *errstr, size_t errstr_size);

/* 1 if the store has a healthy connection. */
int mm_store_connected(const mm_store_t *st);

/* Applies the migrations not yet recorded in schema_migrations, in order,
 * in one transaction under an advisory lock. `names` and `texts` are
 * arrays of `n` strings (borrowed). Returns the number applied (>= 0), or
 * -1 with errstr filled. */
int mm_store_migrate(mm_store_t *st, const char *const *names, const char *const *texts, size_t n,
                     char *errstr, size_t errstr_size);

/* Reads the stored next offset of (group, topic, partition) into
 * *next_offset, or -1 if none is stored. Returns 0, or -1 with errstr. */
int mm_store_load_offset(mm_store_t *st, const char *group, const char *topic, int32_t partition,
                         int64_t *next_offset, char *errstr, size_t errstr_size);

/* A batch of documents plus the offsets they advance. */
mm_store_batch_t *mm_store_batch_new(void);

/* Frees `b`; NULL is allowed. */
void mm_store_batch_destroy(mm_store_batch_t *b);

/* Empties `b` (keeps its memory). */
void mm_store_batch_clear(mm_store_batch_t *b);

/* Adds a document object (shape: see mm_ingest_batch in
 * schemas/001_init.sql). Ownership of the reference passes to the batch.
 * Returns 0 or -1 (out of memory; the reference is released). */
int mm_store_batch_add_doc(mm_store_batch_t *b, json_t *doc);

/* Records that message `offset` of topic/partition belongs to the batch:
 * the batch's first offset of that partition is the smallest such offset,
 * and its next offset is the largest + 1. Returns 0 or -1. */
int mm_store_batch_add_offset(mm_store_batch_t *b, const char *topic, int32_t partition,
                              int64_t offset);

/* Number of documents / offset rows in the batch. */
size_t mm_store_batch_doc_count(const mm_store_batch_t *b);
size_t mm_store_batch_partition_count(const mm_store_batch_t *b);

/* The i-th partition of the batch (borrowed topic) with its offsets. */
void mm_store_batch_partition(const mm_store_batch_t *b, size_t i, const char **topic,
                              int32_t *partition, int64_t *first_offset, int64_t *next_offset);

/* Removes everything of `topic`/`partition` from the batch: its offset row
 * and the documents whose "topic"/"partition" match. */
void mm_store_batch_drop_partition(mm_store_batch_t *b, const char *topic, int32_t partition);

/* Writes the batch in one transaction for consumer group `group`.
 * *inserted and *duplicates (may be NULL) receive the counts.
 * Returns MM_STORE_OK or one of the MM_STORE_ERR_* codes with errstr. */
int mm_store_write_batch(mm_store_t *st, const char *group, const mm_store_batch_t *b,
                         size_t *inserted, size_t *duplicates, char *errstr, size_t errstr_size);

/* The i-th document object of the batch (borrowed), or NULL. */
json_t *mm_store_batch_doc(const mm_store_batch_t *b, size_t i);

/* Writes only the i-th document of the batch, without any offsets, in its
 * own transaction (used to find the document PostgreSQL refuses: writing
 * it twice is harmless, a document is stored once per sha256).
 * Returns MM_STORE_OK or one of the MM_STORE_ERR_* codes with errstr. */
int mm_store_write_single(mm_store_t *st, const char *group, const mm_store_batch_t *b, size_t i,
                          char *errstr, size_t errstr_size);

#endif /* MM_STORE_H */
