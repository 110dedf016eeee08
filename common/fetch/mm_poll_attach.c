/*
 * mm_poll_attach: the attachment pass of one poll (see mm_poll.h and
 * docs/source-connector.md#attachments). A produced publication registers
 * its Bilag in source_attachments; then every registered attachment of the
 * host that was not produced yet is fetched from
 * /vis/pdf/bilag/{Id}?redirectDirectlyToPdf=true through the host's own
 * client (its pacing, backoff, Retry-After and session) with the
 * attachment cap, and produced to the attachments topic. A row is marked
 * produced only after the delivery report, so it is fetched once per Id:
 * a second poll requests nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mm_attach.h"
#include "mm_envelope.h"
#include "mm_log.h"
#include "mm_poll.h"

#define BILAG_PATH "/vis/pdf/bilag/"
#define BILAG_TAIL "?redirectDirectlyToPdf=true"

static void set_error(mm_poll_result_t *res, const char *what, const char *why) {
        if (!res->error[0])
                snprintf(res->error, sizeof(res->error), "%.100s: %.400s", what, why);
}

int mm_poll_attach_register(const mm_poll_opts_t *o, const mm_poll_host_t *h, mm_poll_state_t *st,
                            const char *entry_id, const char *meeting_key, const char *released,
                            const char *body, size_t len, mm_poll_result_t *res) {
        char err[512];
        mm_attach_ref_t *refs = NULL;
        size_t n = 0;
        if (mm_attach_firstagenda_refs(body, len, &refs, &n, err, sizeof(err)) != 0)
                mm_log(MM_LOG_WARN, "%s: entry %s: no attachments read: %s", h->kommune, entry_id,
                       err);
        mm_poll_att_t a;
        for (size_t i = 0; i < n; i++) {
                memset(&a, 0, sizeof(a));
                snprintf(a.id, sizeof(a.id), "%s", refs[i].id);
                snprintf(a.entry_id, sizeof(a.entry_id), "%s", entry_id);
                snprintf(a.meeting_key, sizeof(a.meeting_key), "%s", meeting_key);
                snprintf(a.released, sizeof(a.released), "%s", released);
                snprintf(a.name, sizeof(a.name), "%s", refs[i].name);
                snprintf(a.item, sizeof(a.item), "%s", refs[i].item ? refs[i].item : "");
                if (strlen(refs[i].id) >= sizeof(a.id)) {
                        mm_log(MM_LOG_WARN, "%s: entry %s: attachment Id too long: ignored",
                               h->kommune, entry_id);
                        continue;
                }
                if (mm_poll_state_att_register(st, h->host, &a, err, sizeof(err)) != 0)
                        goto fail;
        }
        mm_attach_refs_free(refs, n);
        if (mm_poll_state_entry_attachments_done(st, h->host, entry_id, err, sizeof(err)) != 0) {
                refs = NULL;
                n = 0;
                goto fail;
        }
        return 0;
fail:
        mm_attach_refs_free(refs, n);
        mm_poll_metrics_error(o->metrics, h->kommune, "state");
        res->failed = 1;
        set_error(res, "attachments", err);
        return -1;
}

/* Produces the attachment (bytes, or an empty record when `skipped`) and
 * records it. Returns 0, or -1 when Kafka or the state failed. */
static int produce_att(const mm_poll_opts_t *o, const mm_poll_host_t *h, mm_poll_state_t *st,
                       const mm_poll_att_t *a, const mm_http_response_t *r, const char *skipped,
                       mm_poll_result_t *res) {
        char sha[65] = "", url[1024], src[512], rel[64], key[700], err[512];
        const char *body = skipped ? "" : r->body;
        size_t len = skipped ? 0 : r->len;
        if (!skipped)
                mm_envelope_sha256_hex(body, len, sha);
        snprintf(url, sizeof(url), "%s" BILAG_PATH "%s" BILAG_TAIL, h->base_url, a->id);
        snprintf(src, sizeof(src), "%s/%s", o->ce_source, h->host);
        mm_poll_micro_time(a->released, rel, sizeof(rel));
        if (!rel[0]) {
                time_t t = time(NULL);
                struct tm tm;
                gmtime_r(&t, &tm);
                strftime(rel, sizeof(rel), "%Y-%m-%dT%H:%M:%SZ", &tm);
        }
        int has_type = r && r->content_type[0] && (!skipped || !strcmp(skipped, "too_large"));
        mm_attach_msg_t m = {.kommune = h->kommune,
                             .id = a->id,
                             .name = a->name,
                             .size = skipped ? (r ? r->size : -1) : (long long)len,
                             .sha256 = sha,
                             .ce_source = src,
                             .ce_time = rel,
                             .content_type = has_type ? r->content_type : NULL,
                             .source_url = url,
                             .meeting_doc = a->entry_id,
                             .meeting_key = a->meeting_key,
                             .item_number = a->item[0] ? a->item : NULL,
                             .skipped = skipped};
        mm_attach_key(&m, key, sizeof(key));
        rd_kafka_headers_t *hd = mm_attach_headers(&m);
        if (!hd ||
            mm_poll_produce(o, o->attachments_topic, key, body, len, hd, err, sizeof(err)) != 0) {
                mm_poll_metrics_error(o->metrics, h->kommune, "kafka");
                res->failed = 1;
                set_error(res, "Kafka: attachment", hd ? err : "out of memory");
                return -1;
        }
        if (mm_poll_state_att_produced(st, h->host, a->id, skipped ? NULL : sha, m.size,
                                       m.content_type, skipped, err, sizeof(err)) != 0) {
                mm_poll_metrics_error(o->metrics, h->kommune, "state");
                res->failed = 1;
                set_error(res, "attachments", err);
                return -1;
        }
        mm_poll_metrics_attachment(o->metrics, h->kommune, skipped ? skipped : "produced",
                                   (unsigned long long)len);
        if (skipped) {
                res->att_skipped++;
                mm_log(MM_LOG_WARN, "%s: attachment %s (%s): recorded as skipped: %s (%lld bytes)",
                       h->kommune, a->id, a->name, skipped, m.size);
        } else {
                res->att_produced++;
        }
        return 0;
}

/* Records a failed fetch to retry. -1 when the host must stop (the
 * failure was transient, or the state failed). */
static int att_failed(const mm_poll_opts_t *o, const mm_poll_host_t *h, mm_poll_state_t *st,
                      const mm_poll_att_t *a, mm_http_fail_t fail, const char *why,
                      mm_poll_result_t *res) {
        char err[512];
        const char *kind = fail == MM_HTTP_TRANSIENT ? "transient" : "permanent";
        res->att_errors++;
        mm_poll_metrics_error(o->metrics, h->kommune, "attachment");
        mm_log(MM_LOG_WARN, "%s: attachment %s (%s): %s: %s", h->kommune, a->id, a->name, kind,
               why);
        if (mm_poll_state_att_error(st, h->host, a->id, kind, why, err, sizeof(err)) < 0) {
                res->failed = 1;
                set_error(res, "attachments", err);
                return -1;
        }
        if (fail == MM_HTTP_TRANSIENT) {
                res->failed = 1; /* the host is in trouble: the rest next time */
                set_error(res, a->id, why);
                return -1;
        }
        return 0;
}

/* Fetches one attachment and acts on the outcome. -1 when the host must
 * stop. */
static int fetch_att(const mm_poll_opts_t *o, const mm_poll_host_t *h, mm_http_t *http,
                     mm_poll_state_t *st, const mm_poll_att_t *a, mm_poll_result_t *res) {
        char path[160], err[1024], reason[48];
        mm_http_response_t r;
        if (!mm_attach_safe_id(a->id)) {
                memset(&r, 0, sizeof(r));
                r.size = -1;
                return produce_att(o, h, st, a, &r, "bad_id", res);
        }
        snprintf(path, sizeof(path), BILAG_PATH "%s" BILAG_TAIL, a->id);
        res->att_fetched++;
        int rc = mm_http_get_file(http, path, o->attachment_max_bytes, &r, err, sizeof(err));
        mm_attach_action_t act =
                mm_attach_decide(rc == 0 ? MM_HTTP_OK : r.fail, r.status, a->attempts,
                                 o->max_attempts, reason, sizeof(reason));
        if (act == MM_ATTACH_RETRY)
                rc = att_failed(o, h, st, a, r.fail, err, res);
        else
                rc = produce_att(o, h, st, a, &r, act == MM_ATTACH_SKIP ? reason : NULL, res);
        free(r.body);
        return rc;
}

int mm_poll_attach_pass(const mm_poll_opts_t *o, const mm_poll_host_t *h, mm_http_t *http,
                        mm_poll_state_t *st, mm_poll_result_t *res) {
        char err[512];
        mm_poll_att_t *rows = NULL;
        size_t n = 0;
        if (mm_poll_state_att_pending(st, h->host, o->attachments_per_poll, &rows, &n, err,
                                      sizeof(err)) != 0) {
                mm_poll_metrics_error(o->metrics, h->kommune, "state");
                res->failed = 1;
                set_error(res, "attachments", err);
                return -1;
        }
        for (size_t i = 0; i < n && !res->failed; i++) {
                if (o->stop && *o->stop) {
                        res->failed = 1;
                        set_error(res, "attachments", "stopped before the last attachment");
                        break;
                }
                fetch_att(o, h, http, st, &rows[i], res);
        }
        free(rows);
        return res->failed ? -1 : 0;
}
