/*
 * mm_worker_batch: writing a batch. The records and offsets go to
 * PostgreSQL in one transaction (retried while PostgreSQL is down); a
 * batch PostgreSQL refuses is isolated document by document; offsets are
 * then mirrored to Kafka (docs/worker-states.md).
 */
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <malloc.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "mm_classify.h"
#include "mm_envelope.h"
#include "mm_attempts.h"
#include "mm_extract.h"
#include "mm_isolate.h"
#include "mm_sandbox.h"
#include "mm_kafka.h"
#include "mm_log.h"
#include "mm_metrics.h"
#include "mm_parser.h"
#include "mm_pipe.h"
#include "mm_source.h"
#include "mm_store.h"
#include "mm_text.h"

#include "mm_worker_int.h"

/* Mirrors the offsets just committed to PostgreSQL into Kafka, for lag
 * tools: they are stored (rd_kafka_offsets_store) and committed now; a
 * commit that fails (e.g. during a rebalance) is repeated by librdkafka's
 * auto-commit of stored offsets, which never runs ahead of PostgreSQL. */
void mm_worker_commit_kafka(worker_t *w, int async) {
        size_t n = mm_store_batch_partition_count(w->batch);
        if (!n)
                return;
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)n);
        for (size_t i = 0; i < n; i++) {
                const char *t;
                int32_t p;
                int64_t first, next;
                mm_store_batch_partition(w->batch, i, &t, &p, &first, &next);
                rd_kafka_topic_partition_list_add(l, t, p)->offset = next;
        }
        /* Partitions no longer assigned fail with _STATE: nothing to do. */
        rd_kafka_offsets_store(w->consumer, l);
        rd_kafka_resp_err_t err = rd_kafka_commit(w->consumer, NULL, async);
        if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
                mm_log(MM_LOG_WARN, "Kafka offset commit failed (PostgreSQL holds the truth): %s",
                       rd_kafka_err2str(err));
        rd_kafka_topic_partition_list_destroy(l);
}

/* After a fence or an isolation: seek the batch's partitions to the
 * offsets in PostgreSQL. A partition whose offset cannot be read or whose
 * seek fails stays paused (pending) until mm_worker_service_pending manages it:
 * consuming on from where it is would skip the batch's messages. */
static void reseek_batch_partitions(worker_t *w) {
        size_t n = mm_store_batch_partition_count(w->batch);
        for (size_t i = 0; i < n; i++) {
                const char *t;
                int32_t p;
                int64_t first, next, off = -1;
                mm_store_batch_partition(w->batch, i, &t, &p, &first, &next);
                if (mm_worker_load_offset_retry(w, t, p, &off, w->rebalance_wait_ms) != 0 ||
                    mm_worker_seek_one(w, t, p, off) != 0)
                        mm_worker_add_pending(w, t, p);
        }
}

/* Frees the spent batch's documents (see worker_t.spent). Also the store's
 * wait callback: it must not use the store. */
void mm_worker_free_spent(void *arg) {
        worker_t *w = arg;
        if (!w->spent_full)
                return;
        mm_store_batch_clear(w->spent);
        w->spent_full = 0;
        /* see mm_worker_clear_batch: give the memory back once the worker is idle */
        if (w->spent_big)
                w->trim_due = 1;
}

void mm_worker_clear_batch(worker_t *w) {
        int big = w->batch_bytes >= 1024u * 1024;
        for (size_t i = 0; i < w->ndlq; i++)
                rd_kafka_message_destroy(w->dlq[i].msg);
        w->ndlq = 0;
        /* the written (or dropped) batch becomes the spent one, freed
         * later; the spent one, freed now if it was not yet, the next */
        mm_worker_free_spent(w);
        mm_store_batch_t *b = w->batch;
        w->batch = w->spent;
        w->spent = b;
        w->spent_full = 1;
        w->spent_big = big;
        w->batch_msgs = 0;
        w->batch_bytes = 0;
        if (w->capdlq > 64) {
                free(w->dlq);
                w->dlq = NULL;
                w->capdlq = 0;
        }
        /* After a batch of 1 MiB or more is freed (mm_worker_free_spent), give the
         * memory back once the worker is idle (mm_worker_trim_if_idle): glibc raises
         * its mmap threshold after freeing a big block, so later big blocks
         * would stay in the heap, and one huge input would keep the
         * worker's RSS up long after it passed. Not at once: malloc_trim
         * walks the heap (0.1-0.5 s after a batch of a few hundred
         * documents), time the database would wait for the next batch. */
}

/* Gives freed memory back to the system (see mm_worker_clear_batch) when nothing
 * is waiting: no batch and nothing read ahead. */
void mm_worker_trim_if_idle(worker_t *w) {
        if (w->batch_msgs == 0 && mm_pipe_count(w->pipe) == 0)
                mm_worker_free_spent(w); /* idle: no write is coming to free it */
        if (w->trim_due && w->batch_msgs == 0 && mm_pipe_count(w->pipe) == 0) {
                malloc_trim(0);
                w->trim_due = 0;
        }
}

/* PostgreSQL refused the batch for its data. Writes the documents one by
 * one (without offsets) to find the refused ones, remembers those as
 * poison, dead-letters the batch's DLQ copies, and re-reads the batch's
 * partitions from the offsets stored in PostgreSQL: on the second pass the
 * good documents are duplicates (nothing new is written), the poison is
 * dead-lettered, and the offsets advance in one transaction as usual.
 * Returns 0 when done, -1 on a transient failure (retry the batch). */
static int add_poison(worker_t *w, json_t *d, const char *err) {
        const char *topic = json_string_value(json_object_get(d, "topic"));
        int32_t partition = (int32_t)json_integer_value(json_object_get(d, "partition"));
        int64_t offset = json_integer_value(json_object_get(d, "offset"));
        for (size_t i = 0; i < w->npoison; i++)
                if (w->poison[i].partition == partition && w->poison[i].offset == offset &&
                    !strcmp(w->poison[i].topic, topic ? topic : ""))
                        return 0; /* already known (an earlier, partial isolation) */
        if (w->npoison == w->cappoison) {
                size_t cap = w->cappoison ? w->cappoison * 2 : 8;
                poison_t *np = realloc(w->poison, cap * sizeof(*np));
                if (!np)
                        return -1;
                w->poison = np;
                w->cappoison = cap;
        }
        poison_t *p = &w->poison[w->npoison++];
        snprintf(p->topic, sizeof(p->topic), "%s", topic ? topic : "");
        p->partition = partition;
        p->offset = offset;
        snprintf(p->reason, sizeof(p->reason), "PostgreSQL refused the document: %.400s", err);
        mm_log_msg(MM_LOG_WARN, p->topic, p->partition, p->offset, "%s", p->reason);
        return 0;
}

/* Writes each document of the batch alone (alone[i]: its class, errs[i]:
 * its error) and returns the verdict (mm_store_isolation_verdict: the
 * number of documents at fault, 0 systemic (logged), -1 transient) with
 * fault[]. */
static int isolation_verdict(worker_t *w, size_t n, int *alone, char (*errs)[512], int *fault) {
        char err[1024];
        size_t nrefused = 0;
        for (size_t i = 0; i < n; i++) {
                alone[i] = mm_store_write_single(w->store, w->group, w->batch, i, err, sizeof(err));
                if (alone[i] != MM_STORE_OK && alone[i] != MM_STORE_ERR_DATA &&
                    alone[i] != MM_STORE_ERR_LIMIT)
                        return -1; /* not a document's fault: retry */
                nrefused += alone[i] != MM_STORE_OK;
                snprintf(errs[i], sizeof(errs[i]), "%.500s", err);
        }
        /* every document refused alone: a minimal valid document (written
         * and rolled back) decides whether the refusal is the database's */
        int prc = n > 0 && nrefused == n ? mm_store_probe(w->store, w->group, err, sizeof(err))
                                         : MM_STORE_OK;
        if (prc == MM_STORE_ERR_TRANSIENT)
                return -1;
        int v = mm_store_isolation_verdict(alone, n, prc, fault);
        if (v == 0)
                mm_log(MM_LOG_WARN,
                       "isolation: %zu of %zu documents fail alone%s: the refusal is systemic, "
                       "retrying the batch",
                       nrefused, n, nrefused ? " and so does a minimal valid document" : "");
        return v;
}

/* Returns 0 when done (poison found and remembered, batch re-read), 1 when
 * the refusal is systemic after all (every document fails alone, or none
 * does: retry the batch as it is), -1 on a transient failure. A data error
 * or a program limit (an index row too large) that a document gives alone
 * is that document's fault. */
/* Writes each attachment record of the batch alone (mm_store_attach.c);
 * one PostgreSQL refuses for its content becomes poison. Returns how many
 * were refused, or -1 on a failure that is not theirs. */
static int isolate_attachments(worker_t *w) {
        char err[1024];
        int found = 0;
        for (size_t i = 0; i < mm_store_batch_attachment_count(w->batch); i++) {
                int rc = mm_store_write_attachment_single(w->store, w->batch, i, err, sizeof(err));
                if (rc == MM_STORE_OK)
                        continue;
                if (rc != MM_STORE_ERR_DATA && rc != MM_STORE_ERR_LIMIT)
                        return -1;
                if (add_poison(w, mm_store_batch_attachment(w->batch, i), err) != 0)
                        return -1;
                found++;
        }
        return found;
}

static int isolate_rejected(worker_t *w) {
        int natt = isolate_attachments(w);
        if (natt < 0)
                return -1;
        size_t n = mm_store_batch_doc_count(w->batch);
        int *alone = calloc(n ? n : 1, sizeof(int)), *bad = calloc(n ? n : 1, sizeof(int));
        char(*errs)[512] = calloc(n ? n : 1, sizeof(*errs));
        int nbad = alone && bad && errs ? isolation_verdict(w, n, alone, errs, bad) : -1;
        free(alone);
        if (nbad < 0 || (nbad == 0 && natt == 0)) {
                free(bad);
                free(errs);
                return nbad == 0 ? 1 : -1;
        }
        int rc = 0;
        for (size_t i = 0; i < n && rc == 0; i++)
                if (bad[i])
                        rc = add_poison(w, mm_store_batch_doc(w->batch, i), errs[i]);
        free(bad);
        free(errs);
        if (rc != 0)
                return -1;
        /* DLQ copies of this batch are acknowledged; on the re-read they are
         * dead-lettered again (at-least-once on the DLQ, as documented; the
         * dead_letters table keeps one row). */
        reseek_batch_partitions(w);
        mm_worker_clear_batch(w);
        return 0;
}

/* The batch is in PostgreSQL (written at `t0`, `ins` documents inserted,
 * `dup` duplicates): metrics and log, then the async Kafka commit and an
 * empty batch. */
static void batch_written(worker_t *w, size_t ins, size_t dup, int64_t t0) {
        mm_store_att_counts_t att;
        mm_store_attachment_counts(w->store, &att);
        mm_metrics_observe_db_batch(w->metrics, (double)(now_ms() - t0) / 1000.0);
        mm_metrics_set_db_ok(w->metrics, 1);
        mm_metrics_add_written(w->metrics, ins);
        mm_metrics_add_attachments(w->metrics, att.stored, att.skipped, att.failed, att.duplicates);
        mm_log(MM_LOG_INFO,
               "batch committed: messages %zu, inserted %zu, duplicates %zu, "
               "dead-lettered %zu, attachments %zu (stored %zu, skipped %zu, failed %zu, "
               "duplicates %zu), %lld ms",
               w->batch_msgs, ins, dup, w->ndlq, mm_store_batch_attachment_count(w->batch),
               att.stored, att.skipped, att.failed, att.duplicates, (long long)(now_ms() - t0));
        mm_worker_commit_kafka(w, *w->run ? 1 : 0);
        mm_worker_clear_batch(w);
}

/* One attempt of mm_worker_flush_batch: dead letters first (acknowledged), then the
 * records and offsets in one PostgreSQL transaction. Returns 0 when the
 * batch is done with (written, fenced and dropped, or its refused
 * documents isolated for a re-read), 1 when it is kept for a retry. */
static int write_batch_once(worker_t *w) {
        char err[1024];
        int step = mm_worker_produce_dlq(w, w->rebalance_wait_ms);
        mm_worker_set_dlq_state(w, step == 0 || w->ndlq == 0);
        if (step != 0) {
                mm_log(MM_LOG_WARN, "dead-letter topic not acknowledged yet");
                return 1;
        }
        size_t ins = 0, dup = 0;
        int64_t t0 = now_ms();
        step = mm_store_write_batch_dl(w->store, w->group, w->batch, w->dl_payload_cap, &ins, &dup,
                                       err, sizeof(err));
        if (step == MM_STORE_OK) {
                batch_written(w, ins, dup, t0);
                return 0;
        }
        if (step == MM_STORE_ERR_FENCED) {
                mm_log(MM_LOG_WARN,
                       "batch fenced (another consumer already wrote these "
                       "offsets): dropping it and re-seeking: %s",
                       err);
                reseek_batch_partitions(w);
                mm_worker_clear_batch(w);
                return 0;
        }
        if (step == MM_STORE_ERR_DATA || step == MM_STORE_ERR_LIMIT) {
                mm_log(MM_LOG_ERROR, "PostgreSQL refused the batch: %s", err);
                int iso = isolate_rejected(w);
                if (iso == 0)
                        return 0;
                if (iso != 1)
                        return 1; /* isolation itself failed: retry, not systemic */
        }
        /* Systemic: keep the batch, pause, back off, readiness red, retry. */
        mm_metrics_set_db_ok(w->metrics, 0);
        mm_metrics_add_db_systemic_error(w->metrics);
        mm_log(MM_LOG_WARN,
               "PostgreSQL cannot take the batch (not the documents' "
               "fault): keeping it and retrying: %s",
               err);
        return 1;
}

/* Writes the current batch: dead letters first (acknowledged), then the
 * records and offsets in one PostgreSQL transaction, then an async Kafka
 * commit. On a transient failure the partitions are paused and the write
 * is retried with exponential backoff (at most `max_attempts` times; 0 =
 * until it works or the shutdown deadline passes). Returns 0 when the
 * batch is written (or was fenced and dropped), -1 if it is still pending. */
int mm_worker_flush_batch(worker_t *w, int max_attempts) {
        if (w->batch_msgs == 0)
                return 0;
        w->in_flush = 1;
        int64_t backoff = 100;
        int attempts = 0, rc = -1;
        int64_t paused_since = 0;
        for (;;) {
                if (w->fatal)
                        break;
                attempts++;
                if (write_batch_once(w) == 0) {
                        rc = 0;
                        break;
                }
                mm_metrics_add_db_retry(w->metrics);
                if (max_attempts && attempts >= max_attempts)
                        break;
                if (mm_worker_stop_deadline_passed(w))
                        break;
                if (!w->paused) {
                        mm_worker_pause_all(w);
                        paused_since = now_ms();
                }
                mm_log(MM_LOG_INFO, "retrying batch in %lld ms", (long long)backoff);
                mm_worker_serve_for(w, backoff);
                backoff = backoff * 2 > w->retry_max_ms ? w->retry_max_ms : backoff * 2;
        }
        if (w->paused && rc == 0) {
                mm_worker_resume_all(w);
                if (paused_since)
                        mm_metrics_add_db_paused(w->metrics,
                                                 (double)(now_ms() - paused_since) / 1000.0);
        }
        w->in_flush = 0;
        return rc;
}
