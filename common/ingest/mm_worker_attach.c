/*
 * mm_worker_attach: the read-ahead work on an attachment message (issue
 * 22; docs/attachments.md). Its headers are read (mm_attachment), its
 * bytes extracted in the sandbox with the worker's limits
 * (mm_extract_text_info, on the read-ahead thread like documents), and the
 * record for attachment_texts joins the batch, written in the batch's
 * transaction with the offsets.
 *
 * What becomes of a message:
 *   - headers without a kommune or an id: dead letter (attachment_invalid);
 *   - `attachment-skipped` (the producer did not send the bytes): a row
 *     with the reason and size, no text;
 *   - bytes over max-doc-bytes: a row skipped as too_large;
 *   - extracted: a row with the text, its source and OCR figures;
 *   - extraction failed for the file's own reason: a row with the code;
 *     a broken or hostile file (pdf_corrupt, extract_limit, extract_crash,
 *     ...) also goes to the dead-letter topic with its bytes; a file that
 *     only has no readable text (pdf_no_text, unsupported_type, ...) does
 *     not (mm_attachment_failure_kind);
 *   - the sandbox could not run (extract_transient): tried again later,
 *     never skipped (PREP_RETRY, as documents).
 */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm_attachment.h"
#include "mm_envelope.h"
#include "mm_extract.h"
#include "mm_kafka.h"
#include "mm_log.h"
#include "mm_metrics.h"

#include "mm_worker_int.h"

int mm_worker_is_attachment(worker_t *w, rd_kafka_message_t *msg) {
        mm_envelope_header_t hdrs[64];
        size_t nh = mm_kafka_headers(msg, hdrs, 64);
        return mm_attachment_is(rd_kafka_topic_name(msg->rkt), w->att_route, hdrs, nh);
}

static void set_str(json_t *rec, const char *key, const char *v) {
        json_object_set_new(rec, key, v ? json_string(v) : json_null());
}

/* The 1-based numbers of the OCRed pages (the whole list, from the page
 * map; the "3,4,7" string may be cut). */
static json_t *page_list(const mm_extract_info_t *info) {
        json_t *a = json_array();
        for (int i = 1; a && i <= info->pages && i <= MM_EXTRACT_OCR_PAGE_MAP; i++)
                if (mm_extract_info_ocr_page(info, i))
                        json_array_append_new(a, json_integer(i));
        return a;
}

/* A row without text: `outcome` "skipped" or "failed", the reason. */
static void no_text(json_t *rec, const char *outcome, const char *reason, const char *detail) {
        json_object_del(rec, "text_source");
        set_str(rec, "skipped", reason);
        set_str(rec, "skipped_detail", detail && *detail ? detail : NULL);
        set_str(rec, "outcome", outcome);
}

/* The extraction's figures into the record and the metrics. */
static void put_info(worker_t *w, json_t *rec, const mm_extract_info_t *info, int ok) {
        if (info->pages > 0) /* 0: not known (not a PDF, or not opened) */
                json_object_set_new(rec, "pages", json_integer(info->pages));
        if (ok)
                set_str(rec, "text_source", mm_extract_text_source_name(info->text_source));
        if (info->ocr_pages > 0 && info->ocr_confidence >= 0)
                json_object_set_new(rec, "ocr_confidence", json_real(info->ocr_confidence));
        json_object_set_new(rec, "ocr_pages", page_list(info));
        mm_metrics_add_extract(w->metrics, "attachment", info->pages, info->ocr_pages,
                               info->ocr_seconds);
}

/* Extracts the bytes into the record. Returns 0 (the record is complete,
 * maybe as a failure; j->att_dlq set when the bytes go to the DLQ too),
 * or -1 (j is PREP_RETRY). */
static int extract_into(worker_t *w, prep_t *j, json_t *rec, int suspect) {
        const rd_kafka_message_t *msg = j->msg;
        const char *ct = json_string_value(json_object_get(rec, "content_type"));
        mm_extract_limits_t lim;
        mm_extract_get_limits(&lim);
        if (suspect && !lim.sandbox) { /* as documents: it cannot be tested */
                no_text(rec, "failed", "extract_crash",
                        "workers disappeared with this input in flight max-crashes times");
                snprintf(j->code, sizeof(j->code), "extract_crash");
                snprintf(j->reason, sizeof(j->reason), "%s",
                         "workers disappeared with this "
                         "attachment in flight max-crashes "
                         "times (extract-sandbox is off)");
                j->att_dlq = 1;
                return 0;
        }
        mm_extract_info_t info;
        memset(&info, 0, sizeof(info));
        info.ocr_confidence = -1;
        char *out = NULL, code[MM_EXTRACT_CODE_SIZE] = "", err[400] = "";
        size_t olen = 0;
        int rc = mm_extract_text_info(msg->payload, msg->len, ct, &info, &out, &olen, code,
                                      sizeof(code), err, sizeof(err));
        if (!ct)
                set_str(rec, "content_type", mm_extract_type_name(info.type));
        put_info(w, rec, &info, rc == 0);
        if (rc == 0 && mm_attachment_clean_text(&out, &olen) != 0) {
                rc = -1;
                snprintf(code, sizeof(code), "out_of_memory");
                snprintf(err, sizeof(err), "out of memory cleaning the text");
        }
        json_t *text = rc == 0 ? json_stringn(out, olen) : NULL;
        if (text) {
                json_object_set_new(rec, "text", text);
                set_str(rec, "outcome", "text");
                free(out);
                return 0;
        }
        if (rc == 0) { /* not UTF-8 after the clean-up: cannot happen, but never stored as text */
                snprintf(code, sizeof(code), "encoding");
                snprintf(err, sizeof(err), "the text cannot be decoded to UTF-8");
        }
        free(out);
        mm_attachment_failure_t kind = mm_attachment_failure_kind(code);
        if (kind == MM_ATTACHMENT_RETRY) {
                j->kind = PREP_RETRY;
                snprintf(j->reason, sizeof(j->reason), "attachment: %s: %s", code, err);
                return -1;
        }
        no_text(rec, "failed", code[0] ? code : "extract_error", err);
        j->att_dlq = kind == MM_ATTACHMENT_ROW_AND_DLQ;
        snprintf(j->code, sizeof(j->code), "%s", code[0] ? code : "extract_error");
        snprintf(j->reason, sizeof(j->reason), "attachment: %s", err[0] ? err : code);
        return 0;
}

/* The record's sha256 and size: of the bytes, or for a skip of
 * "kommune|id|reason" with the producer's attachment-size. */
static void identity(json_t *rec, const rd_kafka_message_t *msg) {
        char sha[65];
        const char *skipped = json_string_value(json_object_get(rec, "skipped"));
        if (skipped) {
                mm_attachment_skip_sha256(json_string_value(json_object_get(rec, "municipality")),
                                          json_string_value(json_object_get(rec, "source_id")),
                                          skipped, sha);
        } else {
                mm_envelope_sha256_hex(msg->payload, msg->len, sha);
                json_object_set_new(rec, "byte_length", json_integer((json_int_t)msg->len));
        }
        set_str(rec, "sha256", sha);
}

void mm_worker_prep_attachment(worker_t *w, prep_t *j, int suspect) {
        rd_kafka_message_t *msg = j->msg; /* headers are read lazily: not const */
        const char *topic = rd_kafka_topic_name(msg->rkt);
        char err[512];
        mm_envelope_header_t hdrs[64];
        size_t nh = mm_kafka_headers(msg, hdrs, 64);
        json_t *rec = mm_attachment_read(hdrs, nh, msg->key, msg->key_len, err, sizeof(err));
        if (!rec) {
                j->kind = PREP_DLQ;
                j->stage = "extract";
                snprintf(j->code, sizeof(j->code), "attachment_invalid");
                snprintf(j->reason, sizeof(j->reason), "%s", err);
                return;
        }
        /* the kommune's official name, as documents are stored */
        const char *m = json_string_value(json_object_get(rec, "municipality"));
        const char *k = mm_envelope_kommune(w->cls, m);
        if (k)
                set_str(rec, "municipality", k);
        else
                mm_log_msg(MM_LOG_WARN, topic, msg->partition, msg->offset,
                           "attachment kommune \"%.100s\" is not a known kommune: kept as it is",
                           m);
        set_str(rec, "topic", topic);
        json_object_set_new(rec, "partition", json_integer(msg->partition));
        json_object_set_new(rec, "offset", json_integer(msg->offset));
        j->stage = "extract";
        if (msg->len > w->max_doc_bytes && !json_object_get(rec, "skipped")) {
                snprintf(err, sizeof(err), "attachment of %zu bytes is over the limit of %zu bytes",
                         msg->len, w->max_doc_bytes);
                no_text(rec, "skipped", "too_large", err);
                json_object_set_new(rec, "byte_length", json_integer((json_int_t)msg->len));
        }
        identity(rec, msg);
        if (json_object_get(rec, "skipped")) {
                if (!json_object_get(rec, "outcome"))
                        set_str(rec, "outcome", "skipped");
        } else if (extract_into(w, j, rec, suspect) != 0) {
                json_decref(rec);
                return;
        }
        j->doc = rec;
        j->kind = PREP_ATT;
}
