/*
 * mm_attach: see mm_attach.h.
 */
#include "mm_attach.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mm_envelope.h"

int mm_attach_safe_id(const char *id) {
        if (!id || !*id || strlen(id) > 60)
                return 0;
        for (const char *p = id; *p; p++)
                if (!isalnum((unsigned char)*p) && *p != '-')
                        return 0;
        return 1;
}

void mm_attach_refs_free(mm_attach_ref_t *refs, size_t n) {
        for (size_t i = 0; refs && i < n; i++) {
                free(refs[i].id);
                free(refs[i].name);
                free(refs[i].item);
        }
        free(refs);
}

/* The item's number as written: Punktnummer, else Number, as a string. */
static char *item_number(json_t *it) {
        const char *keys[2] = {"Punktnummer", "Number"};
        for (int k = 0; k < 2; k++) {
                json_t *v = json_object_get(it, keys[k]);
                char buf[32];
                if (json_is_string(v) && *json_string_value(v))
                        return strdup(json_string_value(v));
                if (json_is_integer(v)) {
                        snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
                        return strdup(buf);
                }
        }
        return NULL;
}

static int seen(const mm_attach_ref_t *v, size_t n, const char *id) {
        for (size_t i = 0; i < n; i++)
                if (!strcmp(v[i].id, id))
                        return 1;
        return 0;
}

/* Appends the Bilag of one item to v (cap grows). -1 when out of memory. */
static int add_item(json_t *it, mm_attach_ref_t **v, size_t *n, size_t *cap) {
        size_t i;
        json_t *b;
        json_array_foreach(json_object_get(it, "Bilag"), i, b) {
                const char *id = json_string_value(json_object_get(b, "Id"));
                const char *name = json_string_value(json_object_get(b, "Navn"));
                if (!id || !*id || seen(*v, *n, id))
                        continue;
                if (*n == *cap) {
                        size_t nc = *cap ? *cap * 2 : 16;
                        mm_attach_ref_t *nv = realloc(*v, nc * sizeof(*nv));
                        if (!nv)
                                return -1;
                        *v = nv;
                        *cap = nc;
                }
                mm_attach_ref_t *r = &(*v)[*n];
                r->id = strdup(id);
                r->name = strdup(name ? name : "");
                r->item = item_number(it);
                (*n)++;
                if (!r->id || !r->name)
                        return -1;
        }
        return 0;
}

int mm_attach_firstagenda_refs(const char *body, size_t len, mm_attach_ref_t **out, size_t *n,
                               char *errstr, size_t errstr_size) {
        json_error_t je;
        size_t cap = 0, i;
        json_t *it;
        *out = NULL;
        *n = 0;
        json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
        if (!json_is_object(root)) {
                snprintf(errstr, errstr_size, "publication: %s",
                         root ? "not a JSON object" : je.text);
                json_decref(root);
                return -1;
        }
        json_t *items = json_object_get(root, "Dagsordenpunkter");
        if (items && !json_is_array(items)) {
                snprintf(errstr, errstr_size, "publication: Dagsordenpunkter is not an array");
                json_decref(root);
                return -1;
        }
        json_array_foreach(items, i, it) {
                if (add_item(it, out, n, &cap) != 0) {
                        snprintf(errstr, errstr_size, "out of memory");
                        mm_attach_refs_free(*out, *n);
                        *out = NULL;
                        *n = 0;
                        json_decref(root);
                        return -1;
                }
        }
        json_decref(root);
        return 0;
}

mm_attach_action_t mm_attach_decide(mm_http_fail_t fail, long status, int attempts,
                                    int max_attempts, char *reason, size_t reason_size) {
        reason[0] = '\0';
        switch (fail) {
        case MM_HTTP_OK:
                return MM_ATTACH_PRODUCE;
        case MM_HTTP_TOO_LARGE:
                snprintf(reason, reason_size, "too_large");
                return MM_ATTACH_SKIP;
        case MM_HTTP_PERMANENT:
                if (attempts + 1 < max_attempts)
                        return MM_ATTACH_RETRY;
                snprintf(reason, reason_size, "http_%ld", status);
                return MM_ATTACH_SKIP;
        case MM_HTTP_TRANSIENT:
        default:
                return MM_ATTACH_RETRY;
        }
}

void mm_attach_key(const mm_attach_msg_t *m, char *out, size_t out_size) {
        snprintf(out, out_size, "%s|%s", m->kommune, m->id);
}

void mm_attach_skip_ce_id(const char *kommune, const char *id, const char *reason, char out[65]) {
        char buf[1024];
        int n = snprintf(buf, sizeof(buf), "%s|%s|%s", kommune, id, reason);
        mm_envelope_sha256_hex(buf,
                               n < 0                     ? 0
                               : (size_t)n < sizeof(buf) ? (size_t)n
                                                         : sizeof(buf) - 1,
                               out);
}

static int add(rd_kafka_headers_t *h, const char *name, const char *v) {
        if (!v)
                return 0;
        return rd_kafka_header_add(h, name, -1, v, -1) ? -1 : 0;
}

rd_kafka_headers_t *mm_attach_headers(const mm_attach_msg_t *m) {
        char ce_id[65], size[32];
        rd_kafka_headers_t *h = rd_kafka_headers_new(16);
        if (!h)
                return NULL;
        if (m->skipped)
                mm_attach_skip_ce_id(m->kommune, m->id, m->skipped, ce_id);
        else
                snprintf(ce_id, sizeof(ce_id), "%s", m->sha256 ? m->sha256 : "");
        snprintf(size, sizeof(size), "%lld", m->size);
        int bad = 0;
        bad |= add(h, "ce_specversion", "1.0");
        bad |= add(h, "ce_id", ce_id);
        bad |= add(h, "ce_source", m->ce_source);
        bad |= add(h, "ce_type", MM_ATTACH_CE_TYPE);
        bad |= add(h, "ce_time", m->ce_time);
        bad |= add(h, "content-type",
                   m->content_type && *m->content_type ? m->content_type
                                                       : "application/octet-stream");
        bad |= add(h, "municipality", m->kommune);
        bad |= add(h, "source-url", m->source_url);
        bad |= add(h, "document-id", m->id);
        bad |= add(h, "attachment-id", m->id);
        bad |= add(h, "attachment-name", m->name);
        bad |= add(h, "attachment-size", m->size >= 0 ? size : NULL);
        bad |= add(h, "meeting-document-id", m->meeting_doc);
        bad |= add(h, "meeting-key", m->meeting_key);
        bad |= add(h, "item-number", m->item_number);
        bad |= add(h, "attachment-skipped", m->skipped);
        if (bad) {
                rd_kafka_headers_destroy(h);
                return NULL;
        }
        return h;
}

int mm_attach_switch(const char *v) {
        if (!v)
                return -1;
        if (!strcasecmp(v, "on") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") ||
            !strcmp(v, "1"))
                return 1;
        if (!strcasecmp(v, "off") || !strcasecmp(v, "false") || !strcasecmp(v, "no") ||
            !strcmp(v, "0"))
                return 0;
        return -1;
}

int mm_attach_topic_check(rd_kafka_t *rk, const char *topic, int timeout_ms, char *errstr,
                          size_t errstr_size) {
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
        if (!rkt) {
                snprintf(errstr, errstr_size, "attachments topic %s: %s", topic,
                         rd_kafka_err2str(rd_kafka_last_error()));
                return 1;
        }
        rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms);
        int rc;
        if (e) {
                snprintf(errstr, errstr_size, "attachments topic %s not checked: %s", topic,
                         rd_kafka_err2str(e));
                rc = -1;
        } else if (md->topic_cnt == 1 && !md->topics[0].err && md->topics[0].partition_cnt > 0) {
                rc = 0;
        } else {
                snprintf(errstr, errstr_size,
                         "attachments topic %s: %s: create it (with max.message.bytes above "
                         "attachment-max-bytes), or run with --attachments off",
                         topic,
                         md->topic_cnt == 1 ? rd_kafka_err2str(md->topics[0].err)
                                            : "not in the metadata");
                rc = 1;
        }
        if (md)
                rd_kafka_metadata_destroy(md);
        rd_kafka_topic_destroy(rkt);
        return rc;
}
