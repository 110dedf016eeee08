/*
 * mm_poll: one poll of one host (see mm_poll.h). The scheduler is in
 * mm_poll_run.c.
 */
#include "mm_poll.h"

#include <ctype.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mm_attach.h"
#include "mm_envelope.h"
#include "mm_firstagenda_listing.h"
#include "mm_log.h"
#include "mm_source.h"

#define LISTING_PATH "/api/agenda/udvalgsliste"
#define AGENDA_PATH  "/api/agenda/dagsorden/"

/* A message waiting for its delivery report. */
typedef struct delivery_s {
        atomic_int done;
        rd_kafka_resp_err_t err;
} delivery_t;

void mm_poll_delivery_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
        (void)rk;
        (void)opaque;
        delivery_t *d = m->_private;
        if (!d)
                return;
        d->err = m->err;
        atomic_store(&d->done, 1); /* after err: the waiter reads err once done is set */
}

static void first_error(mm_poll_result_t *res, const char *fmt, const char *a, const char *b) {
        if (!res->error[0])
                snprintf(res->error, sizeof(res->error), fmt, a, b);
}

/* The API writes 7 fraction digits ("09:22:39.8331790+02:00"). */
void mm_poll_micro_time(const char *t, char *out, size_t cap) {
        size_t o = 0;
        for (const char *p = t; *p && o + 1 < cap; p++) {
                out[o++] = *p;
                if (*p != '.')
                        continue;
                int k = 0;
                for (p++; isdigit((unsigned char)*p); p++)
                        if (k++ < 6 && o + 1 < cap)
                                out[o++] = *p;
                p--;
        }
        out[o] = '\0';
}

/* The CloudEvent headers of one publication. */
static rd_kafka_headers_t *headers(const mm_poll_opts_t *o, const mm_poll_host_t *h,
                                   const mm_firstagenda_entry_t *e, const char *sha) {
        char url[1024], now[40], src[512], rel[64];
        snprintf(url, sizeof(url), "%s" AGENDA_PATH "%s", h->base_url, e->id);
        snprintf(src, sizeof(src), "%s/%s", o->ce_source, h->host);
        time_t t = time(NULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
        rd_kafka_headers_t *hd = rd_kafka_headers_new(12);
        rd_kafka_header_add(hd, "ce_specversion", -1, "1.0", -1);
        rd_kafka_header_add(hd, "ce_id", -1, sha, -1);
        rd_kafka_header_add(hd, "ce_source", -1, src, -1);
        rd_kafka_header_add(hd, "ce_type", -1, "dk.minutes.document.raw", -1);
        /* the publication time: the worker takes it as published_at */
        mm_poll_micro_time(e->released, rel, sizeof(rel));
        rd_kafka_header_add(hd, "ce_time", -1, *rel ? rel : now, -1);
        rd_kafka_header_add(hd, "content-type", -1, MM_SOURCE_CT_FIRSTAGENDA, -1);
        rd_kafka_header_add(hd, "municipality", -1, h->kommune, -1);
        rd_kafka_header_add(hd, "source-url", -1, url, -1);
        rd_kafka_header_add(hd, "document-id", -1, e->id, -1);
        return hd;
}

int mm_poll_produce(const mm_poll_opts_t *o, const char *topic, const char *key, const void *value,
                    size_t len, rd_kafka_headers_t *hd, char *errstr, size_t errstr_size) {
        delivery_t d;
        atomic_init(&d.done, 0);
        d.err = RD_KAFKA_RESP_ERR_NO_ERROR;
        rd_kafka_resp_err_t err;
        for (;;) {
                err = rd_kafka_producev(
                        o->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, strlen(key)),
                        RD_KAFKA_V_VALUE((void *)value, len),
                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(hd),
                        RD_KAFKA_V_OPAQUE(&d), RD_KAFKA_V_END);
                if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                        break;
                rd_kafka_poll(o->rk, 100);
        }
        if (err) {
                rd_kafka_headers_destroy(hd); /* not taken by librdkafka on failure */
                snprintf(errstr, errstr_size, "%s", rd_kafka_err2str(err));
                return -1;
        }
        /* hd belongs to librdkafka now; d lives until its report (message.timeout.ms bounds it) */
        while (!atomic_load(&d.done))
                rd_kafka_poll(o->rk, 50);
        if (d.err) {
                snprintf(errstr, errstr_size, "%s", rd_kafka_err2str(d.err));
                return -1;
        }
        return 0;
}

/* The message key of an entry: every publication of one meeting has one
 * key, so one partition, in order. */
static void entry_key(const mm_poll_host_t *h, const mm_firstagenda_entry_t *e, char *key,
                      size_t cap) {
        snprintf(key, cap, "%s|%s|%s", h->kommune, e->committee_id, e->begin_utc);
}

/* Produces one body and waits for its delivery report. Returns 0 when
 * Kafka has it, else -1 with the reason in res. */
static int produce_wait(const mm_poll_opts_t *o, const mm_poll_host_t *h,
                        const mm_firstagenda_entry_t *e, const char *body, size_t len,
                        const char *sha, mm_poll_result_t *res) {
        char key[512], err[256];
        entry_key(h, e, key, sizeof(key));
        if (mm_poll_produce(o, o->topic, key, body, len, headers(o, h, e, sha), err, sizeof(err)) !=
            0) {
                first_error(res, "Kafka: %s: %s", e->id, err);
                return -1;
        }
        return 0;
}

/* 1 when the entry must be fetched: new, changed, or failed before (a
 * permanent failure only until max_attempts). */
static int needs_fetch(const mm_firstagenda_entry_t *e, const mm_poll_entry_state_t *s,
                       int max_attempts, int attachments) {
        if (!s || strcmp(s->navn, e->navn) || strcmp(s->released, e->released) ||
            s->afsluttet != e->afsluttet)
                return 1;
        if (s->succeeded && s->attempts == 0)
                return attachments && !s->att_listed; /* once, to register its Bilag */
        if ((!strcmp(s->kind, "permanent") || !strcmp(s->kind, "too_large")) &&
            s->attempts >= max_attempts)
                return 0;
        return 1;
}

static int is_json_object(const char *body, size_t len) {
        json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
        int ok = json_is_object(j);
        json_decref(j);
        return ok;
}

/* Records an entry's failure (state, metrics, result). -1 when even the
 * state could not be written. */
static int entry_failed(const mm_poll_opts_t *o, const mm_poll_host_t *h, mm_poll_state_t *st,
                        const mm_poll_entry_fields_t *f, const char *kind, const char *why,
                        mm_poll_result_t *res) {
        char err[512];
        res->entry_errors++;
        first_error(res, "%.60s: %.400s", f->entry_id, why);
        mm_poll_metrics_error(o->metrics, h->kommune, kind);
        mm_log(MM_LOG_WARN, "%s: entry %s (%s): %s: %s", h->kommune, f->entry_id, f->navn, kind,
               why);
        if (mm_poll_state_entry_error(st, h->host, f, kind, why, err, sizeof(err)) < 0) {
                res->failed = 1;
                snprintf(res->error, sizeof(res->error), "%s", err);
                return -1;
        }
        return 0;
}

/* Fetched body: produce it unless unchanged or (not yet) invalid. */
static int handle_body(const mm_poll_opts_t *o, const mm_poll_host_t *h, mm_poll_state_t *st,
                       const mm_firstagenda_entry_t *e, const mm_poll_entry_state_t *s,
                       const mm_poll_entry_fields_t *f, const char *body, size_t len,
                       mm_poll_result_t *res) {
        char sha[65], err[512];
        mm_envelope_sha256_hex(body, len, sha);
        if (!is_json_object(body, len)) {
                int attempts = (s ? s->attempts : 0) + 1;
                if (attempts < o->max_attempts)
                        return entry_failed(o, h, st, f, "invalid", "the body is not JSON", res);
                mm_poll_metrics_error(o->metrics, h->kommune, "invalid");
                mm_log(MM_LOG_WARN,
                       "%s: entry %s: not JSON after %d attempts: produced anyway (dead letter)",
                       h->kommune, e->id, attempts);
        }
        int same = s && !strcmp(s->sha256, sha);
        if (!same) {
                if (produce_wait(o, h, e, body, len, sha, res) != 0) {
                        mm_poll_metrics_error(o->metrics, h->kommune, "kafka");
                        res->failed = 1;
                        return -1;
                }
                res->produced++;
                mm_poll_metrics_published(o->metrics, h->kommune);
        } else {
                res->unchanged++;
        }
        if (mm_poll_state_entry_ok(st, h->host, f, same ? NULL : sha, err, sizeof(err)) != 0) {
                mm_poll_metrics_error(o->metrics, h->kommune, "state");
                res->failed = 1;
                snprintf(res->error, sizeof(res->error), "%s", err);
                return -1;
        }
        if (!o->attachments)
                return 0;
        char key[512];
        entry_key(h, e, key, sizeof(key));
        return mm_poll_attach_register(o, h, st, e->id, key, e->released, body, len, res);
}

/* Fetches and handles one entry. Returns -1 when the host must stop. */
static int poll_entry(const mm_poll_opts_t *o, const mm_poll_host_t *h, mm_http_t *http,
                      mm_poll_state_t *st, const mm_firstagenda_entry_t *e,
                      const mm_poll_entry_state_t *s, mm_poll_result_t *res) {
        char path[128], err[1024];
        mm_poll_entry_fields_t f = {e->id,   e->committee_id, e->begin_utc,
                                    e->navn, e->released,     e->afsluttet};
        if (!mm_attach_safe_id(e->id))
                return entry_failed(o, h, st, &f, "permanent", "the Id is not a GUID", res);
        snprintf(path, sizeof(path), AGENDA_PATH "%s", e->id);
        mm_http_response_t r;
        res->fetched++;
        if (mm_http_get_api(http, path, &r, err, sizeof(err)) != 0) {
                const char *kind = r.fail == MM_HTTP_TOO_LARGE   ? "too_large"
                                   : r.fail == MM_HTTP_PERMANENT ? "permanent"
                                                                 : "transient";
                if (entry_failed(o, h, st, &f, kind, err, res) != 0)
                        return -1;
                if (r.fail == MM_HTTP_TRANSIENT) {
                        res->failed = 1; /* the host is in trouble: the rest next time */
                        return -1;
                }
                return 0;
        }
        int rc = handle_body(o, h, st, e, s, &f, r.body, r.len, res);
        free(r.body);
        return rc;
}

/* GETs and parses the listing; NULL when the host failed. */
static mm_firstagenda_listing_t *get_listing(mm_http_t *http, mm_poll_result_t *res) {
        char err[1024];
        mm_http_response_t r;
        if (mm_http_get_api(http, LISTING_PATH, &r, err, sizeof(err)) != 0) {
                first_error(res, "listing: %.480s%s", err, "");
                return NULL;
        }
        mm_firstagenda_listing_t *l = mm_firstagenda_listing_parse(r.body, r.len, err, sizeof(err));
        free(r.body);
        if (!l)
                first_error(res, "%.500s%s", err, "");
        return l;
}

int mm_poll_host(const mm_poll_opts_t *o, const mm_poll_host_t *h, mm_http_t *http,
                 mm_poll_state_t *st, mm_poll_result_t *res) {
        char err[512];
        mm_poll_entry_state_t *rows = NULL;
        size_t nrows = 0;
        memset(res, 0, sizeof(*res));
        mm_firstagenda_listing_t *l = get_listing(http, res);
        if (!l) {
                mm_poll_metrics_error(o->metrics, h->kommune, "listing");
                res->failed = 1;
                return -1;
        }
        res->listed = mm_firstagenda_listing_count(l);
        double latest = 0;
        for (size_t i = 0; i < res->listed; i++)
                if (mm_firstagenda_listing_entry(l, i)->released_epoch > latest)
                        latest = mm_firstagenda_listing_entry(l, i)->released_epoch;
        mm_poll_metrics_latest_release(o->metrics, h->kommune, latest);
        if (mm_poll_state_entries(st, h->host, &rows, &nrows, err, sizeof(err)) != 0) {
                mm_poll_metrics_error(o->metrics, h->kommune, "state");
                res->failed = 1;
                snprintf(res->error, sizeof(res->error), "%s", err);
                mm_firstagenda_listing_destroy(l);
                return -1;
        }
        for (size_t i = 0; i < res->listed && !res->failed; i++) {
                const mm_firstagenda_entry_t *e = mm_firstagenda_listing_entry(l, i);
                const mm_poll_entry_state_t *s = mm_poll_state_find(rows, nrows, e->id);
                if (o->stop && *o->stop) {
                        res->failed = 1;
                        first_error(res, "%s%s", "stopped before the end of the listing", "");
                        break;
                }
                if (!needs_fetch(e, s, o->max_attempts, o->attachments)) {
                        res->unchanged++;
                        continue;
                }
                poll_entry(o, h, http, st, e, s, res);
        }
        if (o->attachments && !res->failed)
                mm_poll_attach_pass(o, h, http, st, res);
        free(rows);
        mm_firstagenda_listing_destroy(l);
        return res->failed ? -1 : 0;
}
