/*
 * mm_worker_dlq: dead letters. A message that cannot be extracted or
 * parsed is held with the batch and produced to the dead-letter topic
 * (with a header-only copy when the full one is refused) before the
 * batch's offsets are written (docs/worker-states.md).
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

int mm_worker_dlq_error_permanent(int err) {
        switch ((rd_kafka_resp_err_t)err) {
        case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
        case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
        case RD_KAFKA_RESP_ERR_INVALID_RECORD:
        case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
        case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
        case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
        case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
        case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
        case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
        case RD_KAFKA_RESP_ERR_POLICY_VIOLATION:
                return 1;
        default:
                return 0;
        }
}

void mm_worker_dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
        (void)rk;
        worker_t *w = opaque;
        /* The message opaque is the entry's id, not a pointer: entries move
         * (realloc, revoked partitions) and may be gone by the report. */
        uint64_t id = (uint64_t)(uintptr_t)m->_private;
        dlq_entry_t *e = NULL;
        for (size_t i = 0; i < w->ndlq; i++)
                if (w->dlq[i].id == id)
                        e = &w->dlq[i];
        if (!e)
                return;
        e->in_flight = 0;
        if (m->err) {
                e->failed = 1;
                e->permanent = mm_worker_dlq_error_permanent(m->err);
                snprintf(e->last_err, sizeof(e->last_err), "%s", rd_kafka_err2name(m->err));
                mm_log_msg(MM_LOG_WARN, rd_kafka_topic_name(e->msg->rkt), e->msg->partition,
                           e->msg->offset, "dead-letter delivery failed (%s): %s",
                           e->permanent ? "permanent" : "transient", rd_kafka_err2str(m->err));
        } else {
                e->delivered = 1;
                e->failed = 0;
        }
}

/* ---------- helpers ---------- */

static void iso_now(char *buf, size_t size) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        char day[32];
        strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf, size, "%s.%03dZ", day, (int)(ts.tv_nsec / 1000000L) % 1000);
}

/* ---------- per message ---------- */

void mm_worker_add_dlq(worker_t *w, rd_kafka_message_t *msg, const char *stage, const char *code,
                       const char *reason) {
        if (w->ndlq == w->capdlq) {
                size_t cap = w->capdlq ? w->capdlq * 2 : 16;
                dlq_entry_t *n = realloc(w->dlq, cap * sizeof(*n));
                if (!n) {
                        mm_log(MM_LOG_ERROR, "out of memory");
                        abort();
                }
                w->dlq = n;
                w->capdlq = cap;
        }
        dlq_entry_t *e = &w->dlq[w->ndlq++];
        memset(e, 0, sizeof(*e));
        e->msg = msg;
        e->id = ++w->next_dlq_id;
        e->stage = stage;
        snprintf(e->code, sizeof(e->code), "%s", code);
        snprintf(e->reason, sizeof(e->reason), "%s", reason);
        /* reasons may quote document bytes: keep them valid UTF-8 (a Kafka
         * header reader and the dead_letters text column need it) */
        if (!mm_text_utf8_valid(e->reason, strlen(e->reason)))
                for (char *c = e->reason; *c; c++)
                        if ((unsigned char)*c >= 0x80)
                                *c = '?';
        reason = e->reason;
        iso_now(e->timestamp, sizeof(e->timestamp));
        /* The SQL record (table dead_letters) commits with the batch. */
        mm_store_dead_letter_t dl = {
                .topic = rd_kafka_topic_name(msg->rkt),
                .partition = msg->partition,
                .offset = msg->offset,
                .key = msg->key,
                .key_len = msg->key_len,
                .stage = stage,
                .code = code,
                .reason = reason,
                .delivery = "full",
                .byte_length = msg->len,
                .payload = msg->payload,
                .payload_len = msg->len,
        };
        mm_envelope_sha256_hex(msg->payload, msg->len, dl.sha256);
        /* where it came from, so an operator finds the original (an
         * envelope that cannot be read gives none) */
        mm_envelope_header_t hdrs[64];
        size_t nh = mm_kafka_headers(msg, hdrs, 64);
        char eerr[256];
        mm_envelope_t *env = mm_envelope_new(msg->payload, msg->len, hdrs, nh, eerr, sizeof(eerr));
        if (env) {
                dl.meta[0] = mm_envelope_source_url(env);
                dl.meta[1] = mm_envelope_document_id(env);
                dl.meta[2] = mm_envelope_content_type(env);
                dl.meta[3] = mm_envelope_municipality(env);
        }
        int rc = mm_store_batch_add_dead_letter(w->batch, &dl); /* copies the strings */
        mm_envelope_destroy(env);
        if (rc != 0) {
                mm_log(MM_LOG_ERROR, "out of memory");
                abort();
        }
        mm_metrics_add_dead_letter(w->metrics, code);
        const char *kv[] = {"stage", stage, "code", code, NULL};
        mm_log_kv(MM_LOG_WARN, rd_kafka_topic_name(msg->rkt), msg->partition, msg->offset, kv,
                  "dead-lettered: %s", reason);
}

/* ---------- batch flush ---------- */

/* Produces one dead-letter copy: the original key, value and headers plus
 * the error headers. A header-only copy (after a permanent refusal of the
 * full one, e.g. MSG_SIZE_TOO_LARGE) carries no value; its reason says the
 * original bytes are in table dead_letters. */
static void produce_one(worker_t *w, dlq_entry_t *e) {
        e->failed = 0;
        rd_kafka_message_t *m = e->msg;
        rd_kafka_headers_t *orig = NULL, *h;
        if (rd_kafka_message_headers(m, &orig) == RD_KAFKA_RESP_ERR_NO_ERROR && orig &&
            !e->headers_only)
                h = rd_kafka_headers_copy(orig);
        else
                h = rd_kafka_headers_new(10);
        char part[16], off[32], len[32];
        snprintf(part, sizeof(part), "%d", (int)m->partition);
        snprintf(off, sizeof(off), "%lld", (long long)m->offset);
        snprintf(len, sizeof(len), "%zu", m->len);
        rd_kafka_header_add(h, "minutes.error.code", -1, e->code, -1);
        rd_kafka_header_add(h, "minutes.error.reason", -1, e->reason, -1);
        rd_kafka_header_add(h, "minutes.error.stage", -1, e->stage, -1);
        rd_kafka_header_add(h, "minutes.source.topic", -1, rd_kafka_topic_name(m->rkt), -1);
        rd_kafka_header_add(h, "minutes.source.partition", -1, part, -1);
        rd_kafka_header_add(h, "minutes.source.offset", -1, off, -1);
        rd_kafka_header_add(h, "minutes.worker.version", -1, MM_VERSION, -1);
        rd_kafka_header_add(h, "minutes.error.timestamp", -1, e->timestamp, -1);
        if (e->headers_only) {
                rd_kafka_header_add(h, "minutes.dlq.headers_only", -1, "true", -1);
                rd_kafka_header_add(h, "minutes.source.length", -1, len, -1);
        }
        rd_kafka_resp_err_t perr;
        void *value = e->headers_only ? NULL : m->payload;
        size_t value_len = e->headers_only ? 0 : m->len;
        for (;;) {
                perr = rd_kafka_producev(
                        w->producer, RD_KAFKA_V_TOPIC(w->dlq_topic),
                        RD_KAFKA_V_KEY(m->key, m->key_len), RD_KAFKA_V_VALUE(value, value_len),
                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h),
                        RD_KAFKA_V_OPAQUE((void *)(uintptr_t)e->id), RD_KAFKA_V_END);
                if (perr != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                        break;
                rd_kafka_poll(w->producer, 100);
        }
        if (!perr)
                e->in_flight = 1;
        if (perr) {
                rd_kafka_headers_destroy(h);
                e->failed = 1;
                e->permanent = mm_worker_dlq_error_permanent(perr);
                snprintf(e->last_err, sizeof(e->last_err), "%s", rd_kafka_err2name(perr));
                mm_log_msg(MM_LOG_WARN, rd_kafka_topic_name(m->rkt), m->partition, m->offset,
                           "dead-letter produce failed: %s", rd_kafka_err2str(perr));
        }
        /* on success the headers belong to the producer */
}

/* A full copy was refused for good: the next copy carries only headers,
 * and the SQL record says so. A header-only copy refused for good (no
 * topic, no ACL) cannot be helped by retrying: the worker stops with a
 * fatal log rather than spin with paused partitions. */
static void downgrade_refused(worker_t *w, dlq_entry_t *e) {
        rd_kafka_message_t *m = e->msg;
        if (!e->headers_only) {
                e->headers_only = 1;
                size_t l = strlen(e->reason);
                snprintf(e->reason + l, sizeof(e->reason) - l,
                         " [the dead-letter topic refused the copy (%s); the original bytes are "
                         "kept in table dead_letters]",
                         e->last_err);
                mm_store_batch_set_delivery(w->batch, rd_kafka_topic_name(m->rkt), m->partition,
                                            m->offset, "headers_only");
                mm_log_msg(MM_LOG_WARN, rd_kafka_topic_name(m->rkt), m->partition, m->offset,
                           "dead-letter topic %s refused the copy (%s): sending a header-only "
                           "copy; the original bytes are kept in table dead_letters",
                           w->dlq_topic, e->last_err);
                return;
        }
        mm_log_msg(MM_LOG_ERROR, rd_kafka_topic_name(m->rkt), m->partition, m->offset,
                   "FATAL: dead-letter topic %s refuses even a header-only copy (%s): check that "
                   "the topic exists and this worker may write to it; stopping",
                   w->dlq_topic, e->last_err);
        w->fatal = 1;
}

/* Readiness follows the DLQ: red while dead letters cannot be delivered. */
void mm_worker_set_dlq_state(worker_t *w, int ok) {
        if (ok && w->dlq_down_since) {
                mm_log(MM_LOG_INFO, "dead letters are delivered again");
                w->dlq_down_since = 0;
        } else if (!ok && !w->dlq_down_since) {
                w->dlq_down_since = now_ms();
        }
        mm_metrics_set_dlq_ok(w->metrics, ok);
}

/* Produces every DLQ entry not yet delivered and waits for the reports,
 * at most `max_ms` (0 = until the shutdown deadline). Returns 0 when all
 * are delivered. */
int mm_worker_produce_dlq(worker_t *w, int64_t max_ms) {
        int64_t end = max_ms > 0 ? now_ms() + max_ms : 0;
        for (size_t i = 0; i < w->ndlq; i++) {
                dlq_entry_t *e = &w->dlq[i];
                if (e->delivered || e->in_flight)
                        continue;
                if (e->failed && e->permanent)
                        downgrade_refused(w, e);
                if (w->fatal)
                        return -1;
                e->permanent = 0;
                produce_one(w, e);
        }
        /* Wait for every delivery report of this batch. */
        for (;;) {
                size_t pending = 0, failed = 0;
                for (size_t i = 0; i < w->ndlq; i++) {
                        if (w->dlq[i].failed)
                                failed++;
                        else if (!w->dlq[i].delivered)
                                pending++;
                }
                if (!pending)
                        return failed ? -1 : 0;
                int64_t left = end ? end - now_ms() : 1000;
                if (left <= 0)
                        return -1;
                rd_kafka_flush(w->producer, (int)(left < 1000 ? left : 1000));
                if (w->fatal || mm_worker_stop_deadline_passed(w))
                        return -1;
        }
}
