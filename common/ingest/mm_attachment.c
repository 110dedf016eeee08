/*
 * mm_attachment: the headers of an attachment message and the record the
 * worker stores (see mm_attachment.h).
 */
#include "mm_attachment.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mm_text.h"

/* The value of the first header named `name` (case-insensitive), or NULL;
 * *len gets its length. */
static const char *header(const mm_envelope_header_t *h, size_t n, const char *name, size_t *len) {
        for (size_t i = 0; i < n; i++) {
                if (h[i].name && h[i].value && !strcasecmp(h[i].name, name)) {
                        *len = h[i].len;
                        return h[i].value;
                }
        }
        return NULL;
}

int mm_attachment_is(const char *topic, const char *att_topic, const mm_envelope_header_t *hdrs,
                     size_t n) {
        if (topic && att_topic && *att_topic && !strcmp(topic, att_topic))
                return 1;
        size_t len = 0;
        const char *t = header(hdrs, n, "ce_type", &len);
        return t && len == strlen(MM_ATTACHMENT_CE_TYPE) && !memcmp(t, MM_ATTACHMENT_CE_TYPE, len);
}

/* [*v, *v + *len) without white space around. */
static void trim(const char **v, size_t *len) {
        while (*len > 0 && (**v == ' ' || **v == '\t' || **v == '\r' || **v == '\n')) {
                (*v)++;
                (*len)--;
        }
        while (*len > 0 && ((*v)[*len - 1] == ' ' || (*v)[*len - 1] == '\t' ||
                            (*v)[*len - 1] == '\r' || (*v)[*len - 1] == '\n'))
                (*len)--;
}

/* A JSON string of the value, or NULL: empty, over `max` bytes, holding a
 * NUL, or not UTF-8 (json_stringn checks). */
static json_t *value_string(const char *v, size_t len, size_t max) {
        if (!v)
                return NULL;
        trim(&v, &len);
        if (len == 0 || len > max || memchr(v, '\0', len))
                return NULL;
        return json_stringn(v, len);
}

/* Sets rec.member from header `name` when it has a usable value. */
static int copy_header(json_t *rec, const char *member, const mm_envelope_header_t *h, size_t n,
                       const char *name) {
        size_t len = 0;
        const char *v = header(h, n, name, &len);
        json_t *s = value_string(v, len, MM_ATTACHMENT_MAX_FIELD);
        return s ? json_object_set_new(rec, member, s) : 0;
}

/* The kommune (part 0) or id (part 1) of key "<kommune>|<id>", or NULL. */
static json_t *key_part(const void *key, size_t key_len, int part) {
        const char *k = key;
        const char *bar = k ? memchr(k, '|', key_len) : NULL;
        if (!bar)
                return NULL;
        if (part == 0)
                return value_string(k, (size_t)(bar - k), MM_ATTACHMENT_MAX_ID);
        return value_string(bar + 1, key_len - (size_t)(bar + 1 - k), MM_ATTACHMENT_MAX_ID);
}

/* A required member: the header's value, else the key's part. */
static int required(json_t *rec, const char *member, const mm_envelope_header_t *h, size_t n,
                    const char *name, const void *key, size_t key_len, int part, char *errstr,
                    size_t errstr_size) {
        size_t len = 0;
        const char *v = header(h, n, name, &len);
        json_t *s = value_string(v, len, MM_ATTACHMENT_MAX_ID);
        if (!s)
                s = key_part(key, key_len, part);
        if (!s) {
                snprintf(errstr, errstr_size,
                         "attachment message without a usable %s (header %s or the key "
                         "\"kommune|id\"; at most %u bytes of UTF-8)",
                         member, name, MM_ATTACHMENT_MAX_ID);
                return -1;
        }
        return json_object_set_new(rec, member, s);
}

/* attachment-size: absent is fine; else a decimal count. */
static int size_header(json_t *rec, const mm_envelope_header_t *h, size_t n, char *errstr,
                       size_t errstr_size) {
        size_t len = 0;
        const char *v = header(h, n, "attachment-size", &len);
        if (!v)
                return 0;
        trim(&v, &len);
        long long x = 0;
        size_t i = 0;
        for (; i < len && i < 18 && v[i] >= '0' && v[i] <= '9'; i++)
                x = x * 10 + (v[i] - '0');
        if (len == 0 || i != len) {
                snprintf(errstr, errstr_size, "attachment-size \"%.40s\" is not a byte count",
                         len ? v : "");
                return -1;
        }
        return json_object_set_new(rec, "byte_length", json_integer(x));
}

json_t *mm_attachment_read(const mm_envelope_header_t *hdrs, size_t n, const void *key,
                           size_t key_len, char *errstr, size_t errstr_size) {
        json_t *rec = json_object();
        if (!rec) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        if (required(rec, "municipality", hdrs, n, "municipality", key, key_len, 0, errstr,
                     errstr_size) != 0 ||
            required(rec, "source_id", hdrs, n, "attachment-id", key, key_len, 1, errstr,
                     errstr_size) != 0 ||
            size_header(rec, hdrs, n, errstr, errstr_size) != 0) {
                json_decref(rec);
                return NULL;
        }
        static const char *const opt[][2] = {
                {"name", "attachment-name"},
                {"source_url", "source-url"},
                {"meeting_document_id", "meeting-document-id"},
                {"meeting_key", "meeting-key"},
                {"item_number", "item-number"},
                {"content_type", "content-type"},
                {"ce_id", "ce_id"},
                {"ce_time", "ce_time"},
                {"skipped", "attachment-skipped"},
        };
        for (size_t i = 0; i < sizeof(opt) / sizeof(opt[0]); i++) {
                if (copy_header(rec, opt[i][0], hdrs, n, opt[i][1]) != 0) {
                        json_decref(rec);
                        snprintf(errstr, errstr_size, "out of memory");
                        return NULL;
                }
        }
        return rec;
}

void mm_attachment_skip_sha256(const char *kommune, const char *id, const char *reason,
                               char hex[65]) {
        size_t a = strlen(kommune), b = strlen(id), c = strlen(reason);
        char *s = malloc(a + b + c + 3);
        if (!s) {
                /* a distinct, deterministic value still keeps the row unique */
                mm_envelope_sha256_hex(reason, c, hex);
                return;
        }
        memcpy(s, kommune, a);
        s[a] = '|';
        memcpy(s + a + 1, id, b);
        s[a + 1 + b] = '|';
        memcpy(s + a + b + 2, reason, c);
        mm_envelope_sha256_hex(s, a + b + c + 2, hex);
        free(s);
}

mm_attachment_failure_t mm_attachment_failure_kind(const char *code) {
        static const char *const row_only[] = {"pdf_no_text", "pdf_encrypted", "unsupported_type",
                                               "too_large"};
        if (!code)
                return MM_ATTACHMENT_ROW_AND_DLQ;
        if (!strcmp(code, "extract_transient") || !strcmp(code, "out_of_memory"))
                return MM_ATTACHMENT_RETRY;
        for (size_t i = 0; i < sizeof(row_only) / sizeof(row_only[0]); i++)
                if (!strcmp(code, row_only[i]))
                        return MM_ATTACHMENT_ROW_ONLY;
        return MM_ATTACHMENT_ROW_AND_DLQ;
}

int mm_attachment_clean_text(char **text, size_t *len) {
        if (!mm_text_utf8_valid(*text, *len)) {
                char err[128];
                mm_text_t *t = mm_text_new(*text, *len, NULL, NULL, 0, NULL, err, sizeof(err));
                if (!t)
                        return -1;
                size_t slen = 0;
                const char *src = mm_text_source(t, &slen);
                char *copy = malloc(slen + 1);
                if (!copy) {
                        mm_text_destroy(t);
                        return -1;
                }
                memcpy(copy, src, slen);
                copy[slen] = '\0';
                mm_text_destroy(t);
                free(*text);
                *text = copy;
                *len = slen;
        }
        size_t o = 0;
        for (size_t i = 0; i < *len; i++)
                if ((*text)[i] != '\0')
                        (*text)[o++] = (*text)[i];
        (*text)[o] = '\0';
        *len = o;
        return 0;
}
