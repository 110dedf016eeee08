/*
 * mm_store: the PostgreSQL side of minutes-worker.
 *
 * - migrations (numbered SQL scripts, applied once, under an advisory lock,
 *   recorded in schema_migrations);
 * - consumer offsets kept in PostgreSQL (table consumer_offsets);
 * - the schema a worker requires: the highest migration it was built with
 *   (mm_store_schema_version); a worker refuses an older schema;
 * - consumer offsets kept in PostgreSQL (table consumer_offsets);
 * - batches: many documents AND the consumed offsets written in ONE
 *   transaction, one way (common/ingest/mm_store_copy.c): documents, meetings and
 *   offsets by the SQL function mm_ingest_documents
 *   (schemas/008_one_write_path.sql), the child rows (items, sections,
 *   participants, ...) by COPY.
 *
 * Files: mm_store.c (connection, transactions, dead letters, attempts),
 * mm_store_migrate.c (migrations, schema version), mm_store_class.c (error
 * classes), mm_store_batch.c (the batch in memory), mm_store_copy.c (the
 * write path).
 *
 * A store owns one connection. It reconnects on demand (PQreset, with the
 * same parameters and so the same session settings), so after a transient
 * error the caller simply retries.
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
/* Systemic: connection lost, server read-only or shutting down, missing
 * grant, statement or lock timeout, deadlock, ...: not the documents' fault;
 * keep the batch and retry later. */
#define MM_STORE_ERR_TRANSIENT -1
#define MM_STORE_ERR_FENCED                                                                        \
        -2 /* offsets already past this batch: another
                                     consumer wrote it; re-seek and drop it */
/* A document was refused for its content (SQLSTATE class 22 or 23, or a
 * project code MMxxx): retrying the same batch will fail again. */
#define MM_STORE_ERR_DATA -3
/* A program limit (SQLSTATE class 54, e.g. an index row too large): a
 * document's fault when the isolation pins it on that document
 * (mm_store_isolation_verdict), else systemic. */
#define MM_STORE_ERR_LIMIT -4
/* The database's schema is older than this worker's (mm_store_check_schema). */
#define MM_STORE_ERR_SCHEMA -5

/* The class (MM_STORE_ERR_*) of an error with SQLSTATE `sqlstate` (may be
 * NULL: no server answer, i.e. transient). Only errors a document's own
 * content can cause are MM_STORE_ERR_DATA; class 54 is
 * MM_STORE_ERR_LIMIT. */
int mm_store_classify_sqlstate(const char *sqlstate);

/* The verdict of an isolation, after a batch failed with MM_STORE_ERR_DATA
 * or MM_STORE_ERR_LIMIT and each of its `n` documents was written alone:
 * alone[i] is the class of document i's write (MM_STORE_OK if it passed),
 * `probe` the class of mm_store_probe (only consulted when every document
 * failed; pass MM_STORE_OK when it was not run). Sets fault[i] to 1 for
 * each document whose own content PostgreSQL refuses (a data error or a
 * program limit alone) and returns how many; 0 when the refusal is
 * systemic (no document fails alone, or every one does and so does the
 * minimal valid document), every fault[i] then 0; -1 when a write alone
 * failed for another reason (retry the isolation). */
int mm_store_isolation_verdict(const int *alone, size_t n, int probe, int *fault);

/* The envelope fields a dead letter keeps: source_url, document_id,
 * content_type, municipality (table dead_letters, migration 014). */
#define MM_STORE_DL_META 4

/* A dead letter written with its batch (table dead_letters, migration 002). */
typedef struct mm_store_dead_letter_s {
        const char *topic;
        int32_t partition;
        int64_t offset;
        const void *key; /* may be NULL; borrowed until the batch is cleared */
        size_t key_len;
        const char *stage, *code, *reason;
        const char *delivery; /* "full" or "headers_only"; NULL = "full" */
        char sha256[65];      /* of the whole message value */
        size_t byte_length;   /* of the whole message value */
        const void *payload;  /* the value; borrowed until the batch is cleared */
        size_t payload_len;
        /* Where it came from, from the message's envelope (migration 014);
         * each may be NULL: source URL, document id, content type, kommune. */
        const char *meta[MM_STORE_DL_META];
} mm_store_dead_letter_t;

/* What the last batch written did with its attachments (attachment_texts,
 * schemas/012_attachments.sql): rows with text inserted or replaced
 * (stored), rows without text (skipped by the producer, or extraction
 * failed) inserted or replaced, and records whose sha256 was stored
 * already (duplicates: nothing written). */
typedef struct mm_store_att_counts_s {
        size_t stored, skipped, failed, duplicates;
} mm_store_att_counts_t;

/* Creates a store for `conninfo` (URL or key=value; NULL or "" means
 * libpq's PG* environment variables). Does not connect: see
 * mm_store_connect. Returns NULL on allocation failure. */
mm_store_t *mm_store_new(const char *conninfo, char *errstr, size_t errstr_size);

/* Closes the connection and frees `st`; NULL is allowed. */
void mm_store_destroy(mm_store_t *st);

/* Bounds every wait on PostgreSQL: libpq connect_timeout (s) and TCP
 * keepalives (idle s; dead peer found after about idle + 15 s), and the
 * session's statement_timeout and lock_timeout (ms, sent in the
 * connection's `options`, so every reconnect keeps them; an option the
 * user's conninfo or PGOPTIONS gives wins). 0 leaves a value at libpq's /
 * the server's default. Applies to the next new connection. */
void mm_store_set_limits(mm_store_t *st, long long connect_timeout_s, long long keepalives_idle_s,
                         long long statement_timeout_ms, long long lock_timeout_ms);

/* Sets work to do while PostgreSQL works on a batch's documents: `cb(arg)`
 * runs once per write (mm_store_write_batch*, mm_store_write_single),
 * after the documents are sent and before their result is awaited. It
 * must not use `st`. `cb` may be NULL (none, the default). */
void mm_store_set_wait_cb(mm_store_t *st, void (*cb)(void *arg), void *arg);

/* Connects, or reconnects if the connection is bad. Returns 0, or -1 with
 * errstr filled (the caller may retry). */
int mm_store_connect(mm_store_t *st, char *errstr, size_t errstr_size);

/* 1 if the store has a healthy connection. */
int mm_store_connected(const mm_store_t *st);

/* The current value of the session setting `name` (e.g.
 * "statement_timeout") on the store's connection (connecting first), into
 * `out`. For logs and tests. Returns 0, or -1 with errstr. */
int mm_store_setting(mm_store_t *st, const char *name, char *out, size_t out_size, char *errstr,
                     size_t errstr_size);

/* The schema this build writes through: the number of the highest
 * migration it embeds (schemas/NNN_*.sql). */
int mm_store_schema_version(void);

/* MM_STORE_OK when the database's schema (the highest migration recorded
 * in schema_migrations) is at least mm_store_schema_version();
 * MM_STORE_ERR_SCHEMA with a message naming both and `--migrate` when it
 * is older (or never migrated); MM_STORE_ERR_TRANSIENT (or another class)
 * when it cannot be asked. */
int mm_store_check_schema(mm_store_t *st, char *errstr, size_t errstr_size);

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

/* Adds a document object (the envelope's fields, raw_text and parse: the
 * model of minutes-parse; see mm_ingest_documents in
 * schemas/008_one_write_path.sql and mm_store_copy.c). Ownership of the reference passes to the batch.
 * Returns 0 or -1 (out of memory; the reference is released). */
int mm_store_batch_add_doc(mm_store_batch_t *b, json_t *doc);

/* The text the batch write sends PostgreSQL for `doc` (the document without
 * its child rows, as JSON), rendered ahead of the write: the worker's
 * read-ahead thread renders it, so the write does not wait for it. A
 * malloc'ed string the caller owns, or NULL (out of memory, or a string
 * that is not UTF-8: then the write renders it and says why). */
char *mm_store_doc_text(json_t *doc);

/* As mm_store_batch_add_doc, with the document's text from
 * mm_store_doc_text (may be NULL: rendered at write time). Ownership of
 * `doc` and `text` passes to the batch, also on failure. */
int mm_store_batch_add_doc_text(mm_store_batch_t *b, json_t *doc, char *text);

/* The text added with document `i` (borrowed), or NULL (none, or no such
 * document). */
const char *mm_store_batch_doc_text(const mm_store_batch_t *b, size_t i);

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

/* Adds a dead letter to the batch; strings are copied, `key` and `payload`
 * are borrowed and must stay valid until the batch is cleared or
 * destroyed. Returns 0 or -1 (out of memory). */
int mm_store_batch_add_dead_letter(mm_store_batch_t *b, const mm_store_dead_letter_t *dl);

/* Number of dead letters in the batch. */
size_t mm_store_batch_dead_letter_count(const mm_store_batch_t *b);

/* Sets how the dead letter of topic/partition/offset reached the DLQ topic
 * ("full" or "headers_only"). Returns 0, or -1 if it is not in the batch. */
int mm_store_batch_set_delivery(mm_store_batch_t *b, const char *topic, int32_t partition,
                                int64_t offset, const char *delivery);

/* As mm_store_write_batch; dead letters keep at most `payload_cap` bytes
 * of their value (a larger value is not kept: payload NULL, its sha256 and
 * length are). */
int mm_store_write_batch_dl(mm_store_t *st, const char *group, const mm_store_batch_t *b,
                            size_t payload_cap, size_t *inserted, size_t *duplicates, char *errstr,
                            size_t errstr_size);

/* Writes a minimal valid document in a transaction that is rolled back
 * (nothing stays): MM_STORE_OK if PostgreSQL takes documents at all, else
 * the class of the error with errstr. Tells "every document is bad" from
 * "the database refuses everything". */
int mm_store_probe(mm_store_t *st, const char *group, char *errstr, size_t errstr_size);

/* Counts one attempt of the risky steps (extraction, parsing) on input
 * topic/partition/offset for `group`, in its own (asynchronously committed)
 * transaction; `prev_topic` (may be NULL), `prev_partition`, `prev_offset`
 * name the input this worker passed those steps with last. Returns the
 * attempts so far including this one, 0 for a re-read of an input that
 * passed, or -1 with errstr on a database error. */
int mm_store_input_attempt(mm_store_t *st, const char *group, const char *topic, int32_t partition,
                           int64_t offset, const char *prev_topic, int32_t prev_partition,
                           int64_t prev_offset, char *errstr, size_t errstr_size);

/* Settles input topic/partition/offset of `group`, the last one this
 * worker counted with mm_store_input_attempt (protocol: mm_attempts.h):
 * passed != 0 clears its count (its risky steps ended), passed == 0
 * withdraws this one attempt (they were abandoned for a reason of the
 * system). Returns 0, or -1 with errstr on a database error. */
int mm_store_input_settle(mm_store_t *st, const char *group, const char *topic, int32_t partition,
                          int64_t offset, int passed, char *errstr, size_t errstr_size);

/* Writes the batch in one transaction for consumer group `group`: the
 * documents, the offsets and the dead letters (whole values kept). First,
 * in its own statement, clears the attempt counters of the batch's inputs.
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

/* Adds an attachment record (a JSON object: the members
 * mm_ingest_attachments reads, see schemas/012_attachments.sql, with
 * "topic", "partition", "offset" and "outcome": "text", "skipped" or
 * "failed"). It is written with the batch, after its documents. Ownership
 * of the reference passes to the batch. Returns 0 or -1 (out of memory;
 * the reference is released). */
int mm_store_batch_add_attachment(mm_store_batch_t *b, json_t *att);

/* Number of attachment records in the batch, and the i-th (borrowed). */
size_t mm_store_batch_attachment_count(const mm_store_batch_t *b);
json_t *mm_store_batch_attachment(const mm_store_batch_t *b, size_t i);

/* The counts of the attachments of the last batch mm_store_write_batch*
 * wrote (zero after a failed write). */
void mm_store_attachment_counts(const mm_store_t *st, mm_store_att_counts_t *out);

/* Writes only the i-th attachment record of the batch, without offsets,
 * in its own transaction (to find one PostgreSQL refuses; writing it
 * twice is harmless: the same sha256 is stored once). Returns MM_STORE_OK
 * or one of the MM_STORE_ERR_* codes with errstr. */
int mm_store_write_attachment_single(mm_store_t *st, const mm_store_batch_t *b, size_t i,
                                     char *errstr, size_t errstr_size);

#endif /* MM_STORE_H */
