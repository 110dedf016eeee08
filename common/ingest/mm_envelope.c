#include "mm_envelope.h"

#include "mm_classify.h"

#include <ctype.h>
#include <stdint.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum {
        F_CONTENT_TYPE = 0,
        F_SOURCE_URL,
        F_MUNICIPALITY,
        F_DOCUMENT_ID,
        F_CE_ID,
        F_CE_SOURCE,
        F_CE_TYPE,
        F_CE_TIME,
        F_CE_SPECVERSION,
        F_COUNT
};

struct mm_envelope_s {
        mm_envelope_mode_t mode;
        char *field[F_COUNT];
        const char *data; /* borrowed value, or `owned` */
        size_t data_len;
        char *owned;
};

/* Header names (Kafka binding: "ce_" + attribute) for each field; the
 * first list entry wins if several are present. */
static const char *const header_names[F_COUNT][4] = {
        [F_CONTENT_TYPE] = {"content-type", "Content-Type", NULL},
        [F_SOURCE_URL] = {"source-url", "ce_sourceurl", "ce_source_url", NULL},
        [F_MUNICIPALITY] = {"municipality", "ce_municipality", NULL},
        [F_DOCUMENT_ID] = {"document-id", "ce_documentid", "ce_document_id", NULL},
        [F_CE_ID] = {"ce_id", NULL},
        [F_CE_SOURCE] = {"ce_source", NULL},
        [F_CE_TYPE] = {"ce_type", NULL},
        [F_CE_TIME] = {"ce_time", NULL},
        [F_CE_SPECVERSION] = {"ce_specversion", NULL},
};

/* Attribute names in a structured-mode event. */
static const char *const json_names[F_COUNT][3] = {
        [F_CONTENT_TYPE] = {"datacontenttype", NULL},
        [F_SOURCE_URL] = {"sourceurl", NULL},
        [F_MUNICIPALITY] = {"municipality", NULL},
        [F_DOCUMENT_ID] = {"documentid", NULL},
        [F_CE_ID] = {"id", NULL},
        [F_CE_SOURCE] = {"source", NULL},
        [F_CE_TYPE] = {"type", NULL},
        [F_CE_TIME] = {"time", NULL},
        [F_CE_SPECVERSION] = {"specversion", NULL},
};

static int set_field(mm_envelope_t *env, int f, const char *v, size_t len) {
        /* Keep only non-empty values; strip surrounding white space. */
        while (len > 0 && isspace((unsigned char)v[0])) {
                v++;
                len--;
        }
        while (len > 0 && isspace((unsigned char)v[len - 1]))
                len--;
        if (len == 0 || memchr(v, '\0', len))
                return 0;
        char *dup = strndup(v, len);
        if (!dup)
                return -1;
        free(env->field[f]);
        env->field[f] = dup;
        return 0;
}

void mm_envelope_destroy(mm_envelope_t *env) {
        if (!env)
                return;
        for (int i = 0; i < F_COUNT; i++)
                free(env->field[i]);
        free(env->owned);
        free(env);
}

static int b64val(int c) {
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '+' || c == '-')
                return 62;
        if (c == '/' || c == '_')
                return 63;
        return -1;
}

char *mm_envelope_base64_decode(const char *in, size_t in_len, size_t *out_len) {
        char *out = malloc(in_len / 4 * 3 + 4);
        if (!out)
                return NULL;
        size_t o = 0;
        unsigned acc = 0;
        int bits = 0, pad = 0;
        for (size_t i = 0; i < in_len; i++) {
                int c = (unsigned char)in[i];
                if (isspace(c))
                        continue;
                if (c == '=') {
                        pad++;
                        continue;
                }
                int v = b64val(c);
                if (v < 0 || pad) {
                        free(out);
                        return NULL;
                }
                acc = (acc << 6) | (unsigned)v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        out[o++] = (char)((acc >> bits) & 0xFF);
                }
        }
        if (bits >= 6 || pad > 2) {
                free(out);
                return NULL;
        }
        out[o] = '\0';
        *out_len = o;
        return out;
}

static int is_structured(const char *ct) {
        if (!ct)
                return 0;
        while (isspace((unsigned char)*ct))
                ct++;
        return !strncasecmp(ct, "application/cloudevents+json", 28) &&
               (ct[28] == '\0' || ct[28] == ';' || isspace((unsigned char)ct[28]));
}

static int read_structured(mm_envelope_t *env, const void *value, size_t len, char *errstr,
                           size_t errstr_size) {
        json_error_t jerr;
        json_t *ev = json_loadb(value ? value : "", len, JSON_REJECT_DUPLICATES, &jerr);
        if (!ev || !json_is_object(ev)) {
                snprintf(errstr, errstr_size, "structured CloudEvent is not a JSON object: %s",
                         ev ? "not an object" : jerr.text);
                json_decref(ev);
                return -1;
        }
        /* Attributes replace headers; the event's content type is not the
         * document's: clear it first. */
        free(env->field[F_CONTENT_TYPE]);
        env->field[F_CONTENT_TYPE] = NULL;
        for (int f = 0; f < F_COUNT; f++) {
                for (int k = 0; json_names[f][k]; k++) {
                        json_t *v = json_object_get(ev, json_names[f][k]);
                        if (json_is_string(v) &&
                            set_field(env, f, json_string_value(v), json_string_length(v)) != 0)
                                goto oom;
                }
        }
        json_t *data = json_object_get(ev, "data");
        json_t *data64 = json_object_get(ev, "data_base64");
        if (json_is_string(data64)) {
                size_t n = 0;
                env->owned = mm_envelope_base64_decode(json_string_value(data64),
                                                       json_string_length(data64), &n);
                if (!env->owned) {
                        snprintf(errstr, errstr_size, "data_base64 is not valid base64");
                        json_decref(ev);
                        return -1;
                }
                env->data = env->owned;
                env->data_len = n;
        } else if (json_is_string(data)) {
                size_t n = json_string_length(data);
                env->owned = malloc(n + 1);
                if (!env->owned)
                        goto oom;
                memcpy(env->owned, json_string_value(data), n);
                env->owned[n] = '\0';
                env->data = env->owned;
                env->data_len = n;
        } else {
                snprintf(errstr, errstr_size,
                         "structured CloudEvent has no string data or data_base64");
                json_decref(ev);
                return -1;
        }
        json_decref(ev);
        return 0;
oom:
        json_decref(ev);
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
}

mm_envelope_t *mm_envelope_new(const void *value, size_t len, const mm_envelope_header_t *hdrs,
                               size_t nhdrs, char *errstr, size_t errstr_size) {
        mm_envelope_t *env = calloc(1, sizeof(*env));
        if (!env) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        env->data = value ? value : "";
        env->data_len = len;
        /* Headers: for each field, the first name in its list that is present;
         * for one name, the last header with that name. */
        for (int f = 0; f < F_COUNT; f++) {
                int done = 0;
                for (int k = 0; !done && header_names[f][k]; k++) {
                        for (size_t h = nhdrs; h-- > 0;) {
                                if (!hdrs[h].name || !hdrs[h].value ||
                                    strcasecmp(hdrs[h].name, header_names[f][k]))
                                        continue;
                                if (set_field(env, f, hdrs[h].value, hdrs[h].len) != 0) {
                                        mm_envelope_destroy(env);
                                        snprintf(errstr, errstr_size, "out of memory");
                                        return NULL;
                                }
                                done = env->field[f] != NULL;
                                break;
                        }
                }
        }
        if (is_structured(env->field[F_CONTENT_TYPE])) {
                env->mode = MM_ENVELOPE_STRUCTURED;
                if (read_structured(env, value, len, errstr, errstr_size) != 0) {
                        mm_envelope_destroy(env);
                        return NULL;
                }
        } else if (env->field[F_CE_ID] || env->field[F_CE_SPECVERSION] || env->field[F_CE_TYPE]) {
                env->mode = MM_ENVELOPE_BINARY;
        } else {
                env->mode = MM_ENVELOPE_PLAIN;
        }
        return env;
}

mm_envelope_mode_t mm_envelope_mode(const mm_envelope_t *env) {
        return env->mode;
}

const char *mm_envelope_data(const mm_envelope_t *env, size_t *len) {
        *len = env->data_len;
        return env->data;
}

const char *mm_envelope_content_type(const mm_envelope_t *env) {
        return env->field[F_CONTENT_TYPE];
}
const char *mm_envelope_source_url(const mm_envelope_t *env) {
        return env->field[F_SOURCE_URL];
}
const char *mm_envelope_municipality(const mm_envelope_t *env) {
        return env->field[F_MUNICIPALITY];
}
const char *mm_envelope_document_id(const mm_envelope_t *env) {
        return env->field[F_DOCUMENT_ID];
}
const char *mm_envelope_ce_id(const mm_envelope_t *env) {
        return env->field[F_CE_ID];
}
const char *mm_envelope_ce_source(const mm_envelope_t *env) {
        return env->field[F_CE_SOURCE];
}
const char *mm_envelope_ce_type(const mm_envelope_t *env) {
        return env->field[F_CE_TYPE];
}
const char *mm_envelope_ce_time(const mm_envelope_t *env) {
        return env->field[F_CE_TIME];
}

/* SHA-256 (FIPS 180-4), small and portable. */
static const uint32_t sha_k[64] = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2};

#define ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha_block(uint32_t h[8], const unsigned char *p) {
        uint32_t w[64];
        for (int i = 0; i < 16; i++)
                w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
                       (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
        for (int i = 16; i < 64; i++) {
                uint32_t s0 = ROTR(w[i - 15], 7) ^ ROTR(w[i - 15], 18) ^ (w[i - 15] >> 3);
                uint32_t s1 = ROTR(w[i - 2], 17) ^ ROTR(w[i - 2], 19) ^ (w[i - 2] >> 10);
                w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
        for (int i = 0; i < 64; i++) {
                uint32_t S1 = ROTR(e, 6) ^ ROTR(e, 11) ^ ROTR(e, 25);
                uint32_t ch = (e & f) ^ (~e & g);
                uint32_t t1 = hh + S1 + ch + sha_k[i] + w[i];
                uint32_t S0 = ROTR(a, 2) ^ ROTR(a, 13) ^ ROTR(a, 22);
                uint32_t mj = (a & b) ^ (a & c) ^ (b & c);
                uint32_t t2 = S0 + mj;
                hh = g;
                g = f;
                f = e;
                e = d + t1;
                d = c;
                c = b;
                b = a;
                a = t1 + t2;
        }
        h[0] += a;
        h[1] += b;
        h[2] += c;
        h[3] += d;
        h[4] += e;
        h[5] += f;
        h[6] += g;
        h[7] += hh;
}

void mm_envelope_sha256_hex(const void *buf, size_t len, char hex[65]) {
        uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                         0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
        const unsigned char *p = buf;
        size_t n = len;
        while (n >= 64) {
                sha_block(h, p);
                p += 64;
                n -= 64;
        }
        unsigned char tail[128];
        memset(tail, 0, sizeof(tail));
        if (n)
                memcpy(tail, p, n);
        tail[n] = 0x80;
        size_t tl = n + 1 + 8 <= 64 ? 64 : 128;
        uint64_t bits = (uint64_t)len * 8;
        for (int i = 0; i < 8; i++)
                tail[tl - 1 - i] = (unsigned char)(bits >> (8 * i));
        sha_block(h, tail);
        if (tl == 128)
                sha_block(h, tail + 64);
        static const char digits[] = "0123456789abcdef";
        for (int i = 0; i < 8; i++)
                for (int j = 0; j < 4; j++) {
                        unsigned v = (h[i] >> (24 - 8 * j)) & 0xFF;
                        hex[i * 8 + j * 2] = digits[v >> 4];
                        hex[i * 8 + j * 2 + 1] = digits[v & 15];
                }
        hex[64] = '\0';
}

const char *mm_envelope_kommune(const struct mm_classify_s *cls, const char *name) {
        if (!cls || !name)
                return NULL;
        while (*name == ' ' || *name == '\t')
                name++;
        size_t len = strlen(name);
        while (len > 0 && (name[len - 1] == ' ' || name[len - 1] == '\t'))
                len--;
        if (!len)
                return NULL;
        const char *k = mm_classify_kommune(cls, name, len);
        static const char suffix[] = " kommune";
        size_t sl = sizeof(suffix) - 1;
        if (!k && len > sl && !strncasecmp(name + len - sl, suffix, sl))
                k = mm_classify_kommune(cls, name, len - sl);
        return k;
}
