/*
 * mm_worker_ahead: the read-ahead stage. Each consumed message is counted
 * (mm_attempts), extracted and parsed on mm_pipe's thread, then taken back
 * in consumption order (integrate) into the batch or the dead letters
 * (docs/worker-states.md).
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

/* The official name of the envelope's municipality ("Århus" -> "Aarhus
 * Kommune"), through the parser's kommune table; an unknown name is kept
 * as it is, with a warning. Borrowed string. */
static const char *envelope_kommune(worker_t *w, const rd_kafka_message_t *msg,
                                    const mm_envelope_t *env) {
        const char *m = mm_envelope_municipality(env);
        const char *k = mm_envelope_kommune(w->cls, m);
        if (k)
                return k;
        mm_log_msg(MM_LOG_WARN, rd_kafka_topic_name(msg->rkt), msg->partition, msg->offset,
                   "envelope municipality \"%.100s\" is not a known kommune: kept as it is", m);
        return m;
}

/* ---------- read-ahead: runs on the pipe's thread ---------- */

/* Counts an attempt at the risky steps (extraction, the adapters,
 * parsing) before taking them (protocol: mm_attempts.h). Returns the
 * answer; REFUSED makes the job PREP_REFUSED (the main thread rewinds to
 * it: never processed uncounted, it might crash again, unseen). */
static mm_attempt_t prep_count(worker_t *w, prep_t *j) {
        const rd_kafka_message_t *msg = j->msg;
        const char *topic = rd_kafka_topic_name(msg->rkt);
        mm_attempt_t a = mm_attempts_begin(w->attempts, w->count_store, topic, msg->partition,
                                           msg->offset, j->reason, sizeof(j->reason));
        if (a == MM_ATTEMPT_UNCOUNTED) {
                mm_log_msg(MM_LOG_DEBUG, topic, msg->partition, msg->offset,
                           "attempt not counted (PostgreSQL unreachable): %s", j->reason);
                j->pg_down = 1;
                j->reason[0] = '\0';
        } else if (a == MM_ATTEMPT_REFUSED) {
                j->kind = PREP_REFUSED;
        } else if (a == MM_ATTEMPT_SUSPECT) {
                mm_log_msg(MM_LOG_WARN, topic, msg->partition, msg->offset,
                           "workers disappeared with this input in flight: testing it in the "
                           "sandbox");
        }
        return a;
}

static void prep_dlq(prep_t *j, const char *stage, const char *code, const char *reason) {
        j->kind = PREP_DLQ;
        j->stage = stage;
        snprintf(j->code, sizeof(j->code), "%s", code);
        snprintf(j->reason, sizeof(j->reason), "%s", reason);
}

static json_t *json_str_or_null(const char *s) {
        return s ? json_string(s) : json_null();
}

/* The stored text as a JSON string: UTF-8, Windows-1252 decoded as the
 * parser does. NULL if it cannot be decoded. */
static json_t *raw_text_json(const mm_source_result_t *res) {
        if (mm_text_utf8_valid(res->text, res->text_len))
                return json_stringn_nocheck(res->text, res->text_len);
        char err[256];
        json_t *raw = NULL;
        mm_text_t *t = mm_text_new(res->text, res->text_len, NULL, NULL, 0, NULL, err, sizeof(err));
        if (t) {
                size_t slen = 0;
                const char *src = mm_text_source(t, &slen);
                raw = json_stringn(src, slen);
                mm_text_destroy(t);
        }
        return raw;
}

/* The batch record of one parsed message: envelope fields, the raw text
 * and the parse. Ownership of `raw` and `parsed` passes here. */
static json_t *doc_record(const rd_kafka_message_t *msg, const mm_envelope_t *env, const char *sha,
                          size_t dlen, const char *type_name, json_t *raw, json_t *parsed) {
        json_t *doc = json_object();
        const char *ct = mm_envelope_content_type(env);
        json_object_set_new(doc, "sha256", json_string(sha));
        json_object_set_new(doc, "content_type", json_string(ct ? ct : type_name));
        json_object_set_new(doc, "source_url", json_str_or_null(mm_envelope_source_url(env)));
        json_object_set_new(doc, "external_id", json_str_or_null(mm_envelope_document_id(env)));
        json_object_set_new(doc, "ce_id", json_str_or_null(mm_envelope_ce_id(env)));
        json_object_set_new(doc, "ce_source", json_str_or_null(mm_envelope_ce_source(env)));
        json_object_set_new(doc, "ce_type", json_str_or_null(mm_envelope_ce_type(env)));
        json_object_set_new(doc, "ce_time", json_str_or_null(mm_envelope_ce_time(env)));
        json_object_set_new(doc, "topic", json_string(rd_kafka_topic_name(msg->rkt)));
        json_object_set_new(doc, "partition", json_integer(msg->partition));
        json_object_set_new(doc, "offset", json_integer(msg->offset));
        json_object_set_new(doc, "byte_length", json_integer((json_int_t)dlen));
        json_object_set_new(doc, "raw_text", raw);
        json_object_set_new(doc, "parse", parsed);
        return doc;
}

/* Extracts and parses one message into j->doc, or says why it is a dead
 * letter (PREP_DLQ) or must be tried again (PREP_RETRY). A suspect (see
 * mm_attempts.h) runs every risky step in the sandbox. */
static void prep_parse(worker_t *w, prep_t *j, int suspect) {
        rd_kafka_message_t *msg = j->msg; /* headers are read lazily: not const */
        char err[512];
        mm_envelope_header_t hdrs[64];
        size_t nh = mm_kafka_headers(msg, hdrs, 64);
        mm_envelope_t *env = mm_envelope_new(msg->payload, msg->len, hdrs, nh, err, sizeof(err));
        if (!env) {
                prep_dlq(j, "extract", "envelope_invalid", err);
                return;
        }
        size_t dlen = 0;
        const char *data = mm_envelope_data(env, &dlen);
        if (dlen > w->max_doc_bytes) {
                snprintf(err, sizeof(err), "document of %zu bytes is over the limit of %zu bytes",
                         dlen, w->max_doc_bytes);
                mm_envelope_destroy(env);
                prep_dlq(j, "extract", "too_large", err);
                return;
        }

        mm_extract_limits_t lim;
        mm_extract_get_limits(&lim);
        if (suspect && !lim.sandbox) { /* no sandbox to test it in: as before 011 */
                mm_envelope_destroy(env);
                prep_dlq(j, "extract", "extract_crash",
                         "workers disappeared with this input in flight max-crashes times "
                         "(extract-sandbox is off, so it cannot be tested)");
                return;
        }
        /* The source adapter (text, HTML, PDF or an export) makes the model;
         * exports (and a suspect's every step) under the sandbox's limits. */
        mm_source_result_t res;
        mm_parse_error_t perr;
        int64_t t0 = now_ms();
        int prc = mm_isolate_parse(w->parser, data, dlen, mm_envelope_content_type(env),
                                   suspect ? MM_ISOLATE_ALL : MM_ISOLATE_EXPORTS, &res, &perr);
        mm_metrics_observe_parse(w->metrics, (double)(now_ms() - t0) / 1000.0);
        if (prc != 0 && mm_isolate_transient(perr.code)) {
                mm_envelope_destroy(env);
                j->kind = PREP_RETRY;
                snprintf(j->reason, sizeof(j->reason), "%s", perr.reason);
                mm_source_result_clear(&res);
                return;
        }
        if (prc != 0) {
                mm_envelope_destroy(env);
                prep_dlq(j, res.stage ? res.stage : "parse",
                         perr.code[0] ? perr.code : "parse_error",
                         perr.reason[0] ? perr.reason : "the parser rejected the document");
                mm_source_result_clear(&res);
                return;
        }
        json_t *parsed = res.doc;
        res.doc = NULL; /* ownership passed to parsed */
        const char *type_name = res.adapter;
        /* An export without a publication time: the event's time. */
        mm_source_default_published_at(parsed, mm_envelope_ce_time(env));
        mm_metrics_observe_confidence(w->metrics, json_object_get(parsed, "document"));
        /* pages, OCRed pages and OCR time of PDF documents (issue 22) */
        if (res.extract.type == MM_EXTRACT_PDF)
                mm_metrics_add_extract(w->metrics, "document", res.extract.pages,
                                       res.extract.ocr_pages, res.extract.ocr_seconds);
        json_t *raw = raw_text_json(&res);
        mm_source_result_clear(&res);
        if (!raw) {
                json_decref(parsed);
                mm_envelope_destroy(env);
                prep_dlq(j, "extract", "encoding", "text cannot be decoded to UTF-8");
                return;
        }
        /* Envelope metadata wins over what the parser inferred. */
        json_t *pdoc = json_object_get(parsed, "document");
        /* minutes-submit sends "unknown" when it knows none: that names no
         * kommune, so it never replaces one or keys a meeting */
        const char *em = mm_envelope_municipality(env);
        if (json_is_object(pdoc) && em && *em && strcasecmp(em, "unknown") != 0) {
                json_object_set_new(pdoc, "municipality",
                                    json_string(envelope_kommune(w, msg, env)));
                json_object_set_new(pdoc, "municipality_source", json_string("envelope"));
        }
        /* the meeting's key: an export needs its kommune, keys are bounded */
        if (mm_source_check_identity(parsed, &perr) != 0) {
                json_decref(parsed);
                json_decref(raw);
                mm_envelope_destroy(env);
                prep_dlq(j, "parse", perr.code, perr.reason);
                return;
        }
        char sha[65];
        mm_envelope_sha256_hex(data, dlen, sha);
        j->doc = doc_record(msg, env, sha, dlen, type_name, raw, parsed);
        /* ownership of raw and parsed passed to j->doc */
        /* rendered here, off the write's critical path (NULL: at write time) */
        j->doc_text = mm_store_doc_text(j->doc);
        j->kind = PREP_DOC;
        mm_envelope_destroy(env);
}

/* 1 if the sandbox found evidence against a suspect input. */
static int convicted(const prep_t *j) {
        return (j->kind == PREP_DLQ || (j->kind == PREP_ATT && j->att_dlq)) &&
               (!strcmp(j->code, "extract_crash") || !strcmp(j->code, "extract_limit"));
}

/* The pipe's work on one consumed message (mm_pipe_fn_t): count, work,
 * then settle the attempt as mm_attempts.h says. */
void mm_worker_prep_message(void *job, void *opaque) {
        worker_t *w = opaque;
        prep_t *j = job;
        mm_attempt_t a = prep_count(w, j);
        if (a == MM_ATTEMPT_REFUSED)
                return;
        if (mm_worker_is_attachment(w, j->msg))
                mm_worker_prep_attachment(w, j, a == MM_ATTEMPT_SUSPECT);
        else
                prep_parse(w, j, a == MM_ATTEMPT_SUSPECT);
        if (j->kind == PREP_RETRY)
                mm_attempts_abandon(w->attempts, w->count_store);
        else if (a == MM_ATTEMPT_SUSPECT && convicted(j))
                mm_attempts_convicted(w->attempts);
        else
                mm_attempts_done(w->attempts);
}

/* ---------- read-ahead: the main thread's side ---------- */

void mm_worker_free_prep(void *job) {
        prep_t *j = job;
        if (!j)
                return;
        if (j->msg)
                rd_kafka_message_destroy(j->msg);
        json_decref(j->doc);
        free(j->doc_text);
        free(j);
}

/* 1 while the read-ahead stage may take another message: at most
 * batch-size messages and half of batch-max-bytes (a parsed document takes
 * a few times its bytes; the batch being written holds its own). */
static int ahead_room(const worker_t *w) {
        return mm_pipe_count(w->pipe) < w->batch_size && w->ahead_bytes < w->max_batch_bytes / 2;
}

static int batch_full(const worker_t *w) {
        return w->batch_msgs >= w->batch_size || w->batch_bytes >= w->max_batch_bytes;
}

/* Hands a consumed message to the read-ahead stage. Ownership of `msg`
 * passes here. */
static void process_message(worker_t *w, rd_kafka_message_t *msg) {
        const char *topic = rd_kafka_topic_name(msg->rkt);
        /* fetched before its partition was paused for a seek: comes again */
        if (w->npending && mm_worker_is_pending(w, topic, msg->partition)) {
                rd_kafka_message_destroy(msg);
                return;
        }
        prep_t *j = calloc(1, sizeof(*j));
        if (!j) {
                mm_log(MM_LOG_ERROR, "out of memory");
                abort();
        }
        j->msg = msg;
        j->polled_at = now_ms();
        size_t len = msg->len;
        if (mm_pipe_submit(w->pipe, j) != 0) {
                /* The stage is full (only when a poll had to be served with
                 * no room, e.g. while a batch is retried): rewind to it. */
                int64_t off = msg->offset;
                j->msg = NULL;
                mm_worker_free_prep(j);
                rd_kafka_message_destroy(msg);
                mm_worker_add_pending_at(w, topic, msg->partition, off);
                return;
        }
        w->ahead_bytes += len;
}

/* The count of an input's attempt was refused (PREP_REFUSED), or the
 * sandbox could not run or finish it (PREP_RETRY): rewind to it, pause,
 * and try again after a backoff. */
static void refused_count(worker_t *w, const rd_kafka_message_t *msg, int kind, const char *err) {
        const char *topic = rd_kafka_topic_name(msg->rkt);
        if (kind == PREP_REFUSED)
                mm_metrics_set_db_ok(w->metrics, 0);
        mm_log_msg(MM_LOG_WARN, topic, msg->partition, msg->offset,
                   kind == PREP_REFUSED
                           ? "cannot count the attempt on this input, rewinding to it: %s"
                           : "not the input's fault, rewinding to it to try again: %s",
                   err);
        mm_worker_add_pending_at(w, topic, msg->partition, msg->offset);
        w->rewind_backoff = w->rewind_backoff ? w->rewind_backoff * 2 : 100;
        if (w->rewind_backoff > w->retry_max_ms)
                w->rewind_backoff = w->retry_max_ms;
        w->pending_backoff = w->rewind_backoff;
        w->pending_next_try = now_ms() + w->rewind_backoff;
        if (!w->paused)
                mm_worker_pause_all(w);
}

/* Takes one message back from the read-ahead stage, in consumption order,
 * into the batch: its offset, and its record or its dead letter. */
static void integrate(worker_t *w, prep_t *j, int cancelled) {
        rd_kafka_message_t *msg = j->msg;
        const char *topic = rd_kafka_topic_name(msg->rkt);
        w->ahead_bytes -= msg->len <= w->ahead_bytes ? msg->len : w->ahead_bytes;
        if (cancelled || (w->npending && mm_worker_is_pending(w, topic, msg->partition))) {
                mm_worker_free_prep(j); /* its partition was sought or given away */
                return;
        }
        if (j->pg_down)
                mm_metrics_set_db_ok(w->metrics, 0);
        if (j->kind == PREP_REFUSED || j->kind == PREP_RETRY) {
                refused_count(w, msg, (int)j->kind, j->reason);
                mm_worker_free_prep(j);
                return;
        }
        w->rewind_backoff = 0;
        if (mm_store_batch_add_offset(w->batch, topic, msg->partition, msg->offset) != 0) {
                mm_log(MM_LOG_ERROR, "out of memory");
                abort();
        }
        /* batch-ms bounds how long a message waits from its consumption:
         * one read ahead during a long write starts its batch late */
        if (w->batch_msgs++ == 0)
                w->batch_started = j->polled_at;
        w->batch_bytes += msg->len;
        mm_metrics_add_consumed(w->metrics, 1);
        j->msg = NULL; /* ownership of msg passes to mm_worker_add_dlq, or it is destroyed below */
        for (size_t i = 0; i < w->npoison; i++) {
                poison_t *p = &w->poison[i];
                if (p->partition == msg->partition && p->offset == msg->offset &&
                    !strcmp(p->topic, topic)) {
                        mm_worker_add_dlq(w, msg, "store", "db_rejected", p->reason);
                        w->poison[i] = w->poison[--w->npoison];
                        mm_worker_free_prep(j);
                        return;
                }
        }
        if (j->kind == PREP_DLQ) {
                mm_worker_add_dlq(w, msg, j->stage, j->code, j->reason);
                mm_worker_free_prep(j);
                return;
        }
        if (j->kind == PREP_ATT) {
                int arc = mm_store_batch_add_attachment(w->batch, j->doc);
                j->doc = NULL; /* ownership passed to the batch */
                if (arc != 0) {
                        mm_log(MM_LOG_ERROR, "out of memory");
                        abort();
                }
                if (j->att_dlq) /* the row is written, the bytes go to the DLQ too */
                        mm_worker_add_dlq(w, msg, j->stage, j->code, j->reason);
                else
                        rd_kafka_message_destroy(msg);
                mm_worker_free_prep(j);
                return;
        }
        int arc = mm_store_batch_add_doc_text(w->batch, j->doc, j->doc_text);
        j->doc = NULL; /* ownership of doc and text passed to the batch */
        j->doc_text = NULL;
        if (arc != 0) {
                mm_log(MM_LOG_ERROR, "out of memory");
                abort();
        }
        mm_log_msg(MM_LOG_DEBUG, topic, msg->partition, msg->offset, "parsed");
        rd_kafka_message_destroy(msg);
        mm_worker_free_prep(j);
}

/* Takes back the finished messages, in order, while the batch has room;
 * waits up to `wait_ms` for the oldest one. */
static void integrate_ready(worker_t *w, int wait_ms) {
        while (mm_pipe_count(w->pipe) > 0 && !batch_full(w)) {
                int cancelled = 0;
                prep_t *j = mm_pipe_take(w->pipe, wait_ms, &cancelled);
                if (!j)
                        return;
                wait_ms = 0;
                integrate(w, j, cancelled);
        }
}

/* A polled message or event: a message goes to the read-ahead stage, an
 * error is logged (but the end of a partition). Ownership of `msg` passes. */
static void take_polled(worker_t *w, rd_kafka_message_t *msg) {
        if (!msg->err) {
                process_message(w, msg);
                return;
        }
        /* the attachments topic may not exist yet (attachments on by
         * default): said once, at info; the subscription takes it when it
         * is created (topic.metadata.refresh.interval.ms) */
        int att_missing = w->att_topic && msg->rkt &&
                          (msg->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
                           msg->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) &&
                          !strcmp(rd_kafka_topic_name(msg->rkt), w->att_topic);
        if (att_missing && !w->att_topic_missing)
                mm_log(MM_LOG_INFO, "attachments topic %s does not exist (yet): %s", w->att_topic,
                       rd_kafka_message_errstr(msg));
        w->att_topic_missing |= att_missing;
        if (msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF && !att_missing)
                mm_log(MM_LOG_WARN, "consumer: %s", rd_kafka_message_errstr(msg));
        rd_kafka_message_destroy(msg);
}

/* One turn of consumption: takes back finished messages; polls Kafka for
 * the next one while the read-ahead stage has room (waiting up to
 * `timeout_ms` only when no finished message could join the batch);
 * otherwise waits a little for the oldest message in the stage. */
void mm_worker_pump(worker_t *w, int timeout_ms) {
        integrate_ready(w, 0);
        /* a message in the stage could still join the batch */
        int can_take = mm_pipe_count(w->pipe) > 0 && !batch_full(w);
        /* while a batch is retried (paused), polls serve rebalances only */
        if (ahead_room(w) || w->paused) {
                rd_kafka_message_t *msg =
                        rd_kafka_consumer_poll(w->consumer, can_take ? 0 : timeout_ms);
                if (msg) {
                        take_polled(w, msg); /* ownership passes */
                        return;
                }
        }
        if (can_take)
                integrate_ready(w, timeout_ms < 5 ? timeout_ms : 5);
}

/* Hands the read-ahead stage what Kafka has ready, up to its bound,
 * without waiting: work for its thread while this one writes a batch. */
void mm_worker_fill_ahead(worker_t *w) {
        while (ahead_room(w) && !w->fatal) {
                rd_kafka_message_t *msg = rd_kafka_consumer_poll(w->consumer, 0);
                if (!msg)
                        return;
                take_polled(w, msg); /* ownership passes */
        }
}
