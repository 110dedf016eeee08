/* mm_lag: Burrow-style lag evaluation and lag from librdkafka statistics.
 * See mm_lag.h for the rules. */
#include "mm_lag.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int64_t mm_lag_sample_lag(const mm_lag_sample_t *s) {
        int64_t low;

        if (s->high < 0)
                return -1;
        if (s->committed < 0) {
                low = s->low < 0 ? 0 : s->low;
                return s->high > low ? s->high - low : 0;
        }
        return s->high > s->committed ? s->high - s->committed : 0;
}

mm_lag_status_t mm_lag_evaluate(const mm_lag_sample_t *samples, size_t n) {
        size_t i, trailing;
        const mm_lag_sample_t *last;
        int same_all;

        if (n == 0 || samples == NULL)
                return MM_LAG_ERR;
        for (i = 0; i < n; i++)
                if (samples[i].high < 0)
                        return MM_LAG_ERR;

        /* OK: the group caught up at least once in the window. */
        for (i = 0; i < n; i++)
                if (mm_lag_sample_lag(&samples[i]) == 0)
                        return MM_LAG_OK;

        /* From here on every sample has lag > 0. */
        last = &samples[n - 1];
        if (last->committed < 0)
                return MM_LAG_STOP; /* nothing committed at all */
        if (n < 2)
                return MM_LAG_OK; /* one sample cannot show a trend */

        same_all = 1;
        for (i = 1; i < n; i++)
                if (samples[i].committed != samples[0].committed)
                        same_all = 0;
        if (same_all)
                return MM_LAG_STOP; /* no commit arrived in the whole window */

        /* STALL: the committed offset did not move during at least the last
     * half of the window's n - 1 intervals (so at least two samples). */
        trailing = (n - 1 + 1) / 2 + 1;
        if (trailing < 2)
                trailing = 2;
        if (trailing <= n) {
                int stalled = 1;
                for (i = n - trailing; i < n; i++)
                        if (samples[i].committed != last->committed)
                                stalled = 0;
                if (stalled)
                        return MM_LAG_STALL;
        }

        /* WARNING: offsets moved (checked above) but the lag never went down
     * and is larger at the end. */
        {
                int never_down = 1;
                for (i = 1; i < n; i++)
                        if (mm_lag_sample_lag(&samples[i]) < mm_lag_sample_lag(&samples[i - 1]))
                                never_down = 0;
                if (never_down && mm_lag_sample_lag(last) > mm_lag_sample_lag(&samples[0]))
                        return MM_LAG_WARNING;
        }
        return MM_LAG_OK;
}

static const char *const status_names[] = {"OK", "WARNING", "STALL", "STOP", "ERR"};

const char *mm_lag_status_name(mm_lag_status_t status) {
        if ((int)status < 0 || (size_t)status >= sizeof(status_names) / sizeof(status_names[0]))
                return "ERR";
        return status_names[status];
}

int mm_lag_status_parse(const char *name, mm_lag_status_t *out) {
        size_t i;

        for (i = 0; i < sizeof(status_names) / sizeof(status_names[0]); i++) {
                if (strcasecmp(name, status_names[i]) == 0) {
                        *out = (mm_lag_status_t)i;
                        return 0;
                }
        }
        return -1;
}

/* Parses one offset field: "-" is none, otherwise a non-negative integer. */
static int parse_offset(const char *tok, size_t len, int64_t *out) {
        char buf[32];
        char *end;
        long long v;

        if (len == 1 && tok[0] == '-') {
                *out = MM_LAG_OFFSET_NONE;
                return 0;
        }
        if (len == 0 || len >= sizeof(buf))
                return -1;
        memcpy(buf, tok, len);
        buf[len] = '\0';
        errno = 0;
        v = strtoll(buf, &end, 10);
        if (errno != 0 || *end != '\0' || v < 0)
                return -1;
        *out = (int64_t)v;
        return 0;
}

int mm_lag_window_parse(const char *text, mm_lag_sample_t *samples, size_t cap, size_t *n,
                        char *errstr, size_t errstr_size) {
        const char *p = text;

        *n = 0;
        while (*p != '\0') {
                const char *start, *f[3];
                size_t flen[3];
                size_t nf = 0;

                while (*p == ' ' || *p == '\t')
                        p++;
                if (*p == '\0')
                        break;
                start = p;
                while (*p != '\0' && *p != ' ' && *p != '\t')
                        p++;
                /* split start..p on ':' */
                {
                        const char *q = start, *fs = start;
                        for (;; q++) {
                                if (q == p || *q == ':') {
                                        if (nf == 3) {
                                                snprintf(errstr, errstr_size,
                                                         "sample %zu: too many fields", *n + 1);
                                                return -1;
                                        }
                                        f[nf] = fs;
                                        flen[nf] = (size_t)(q - fs);
                                        nf++;
                                        fs = q + 1;
                                        if (q == p)
                                                break;
                                }
                        }
                }
                if (nf < 2) {
                        snprintf(errstr, errstr_size, "sample %zu: expected COMMITTED:HIGH[:LOW]",
                                 *n + 1);
                        return -1;
                }
                if (*n >= cap) {
                        snprintf(errstr, errstr_size, "more than %zu samples", cap);
                        return -1;
                }
                samples[*n].low = MM_LAG_OFFSET_NONE;
                if (parse_offset(f[0], flen[0], &samples[*n].committed) != 0 ||
                    parse_offset(f[1], flen[1], &samples[*n].high) != 0 ||
                    (nf == 3 && parse_offset(f[2], flen[2], &samples[*n].low) != 0)) {
                        snprintf(errstr, errstr_size, "sample %zu: bad offset", *n + 1);
                        return -1;
                }
                (*n)++;
        }
        return 0;
}

/* Reads an integer member, or -1 if it is absent or not an integer. */
static int64_t get_int(const json_t *obj, const char *key) {
        const json_t *v = json_object_get(obj, key);

        if (!json_is_integer(v))
                return -1;
        return (int64_t)json_integer_value(v);
}

/* Parses the statistics JSON: the root object and its "topics" object
 * (NULL when absent). On success the caller owns *root. */
static int load_stats(const char *json, size_t len, json_t **root, json_t **topics, char *errstr,
                      size_t errstr_size) {
        json_error_t jerr;

        *root = NULL;
        *topics = NULL;
        if (json == NULL || len == 0) {
                snprintf(errstr, errstr_size, "empty statistics");
                return -1;
        }
        *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
        if (*root == NULL) {
                snprintf(errstr, errstr_size, "statistics JSON: %s (line %d)", jerr.text,
                         jerr.line);
                return -1;
        }
        if (!json_is_object(*root)) {
                snprintf(errstr, errstr_size, "statistics JSON is not an object");
                json_decref(*root);
                *root = NULL;
                return -1;
        }
        *topics = json_object_get(*root, "topics");
        if (*topics != NULL && !json_is_object(*topics)) {
                snprintf(errstr, errstr_size, "statistics: \"topics\" is not an object");
                json_decref(*root);
                *root = NULL;
                return -1;
        }
        return 0;
}

/* The lag of a partition record whose offsets are filled in: librdkafka's
 * consumer_lag_stored, else consumer_lag, else high watermark - committed
 * offset, else (nothing committed or stored) high - low watermark; -1 when
 * none of these is known. */
static int64_t record_lag(const mm_lag_stats_partition_t *rec, const json_t *pobj) {
        int64_t lo;

        if (rec->consumer_lag_stored >= 0)
                return rec->consumer_lag_stored;
        if (rec->consumer_lag >= 0)
                return rec->consumer_lag;
        if (rec->hi_offset >= 0 && rec->committed_offset >= 0)
                return rec->hi_offset > rec->committed_offset
                               ? rec->hi_offset - rec->committed_offset
                               : 0;
        if (rec->hi_offset >= 0 && rec->committed_offset < 0 && rec->stored_offset < 0 &&
            (lo = get_int(pobj, "lo_offset")) >= 0)
                /* nothing committed or stored yet: the whole log is unread */
                return rec->hi_offset > lo ? rec->hi_offset - lo : 0;
        return -1;
}

/* Fills *rec from one partition object of topic `tname`. Returns 1, or 0
 * when the partition does not count: not an object, the UA partition (-1)
 * or a malformed id, not fetched (fetch_state none/stopping/stopped), or
 * no lag known. */
static int read_partition(const char *tname, const json_t *pobj, mm_lag_stats_partition_t *rec) {
        const char *fs;
        int64_t pid;

        if (!json_is_object(pobj))
                return 0;
        pid = get_int(pobj, "partition");
        if (pid < 0 || pid > INT32_MAX)
                return 0; /* UA partition (-1) or malformed */
        fs = json_string_value(json_object_get(pobj, "fetch_state"));
        if (fs != NULL &&
            (strcmp(fs, "none") == 0 || strcmp(fs, "stopping") == 0 || strcmp(fs, "stopped") == 0))
                return 0;
        memset(rec, 0, sizeof(*rec));
        snprintf(rec->topic, sizeof(rec->topic), "%s", tname);
        rec->partition = (int32_t)pid;
        rec->hi_offset = get_int(pobj, "hi_offset");
        rec->committed_offset = get_int(pobj, "committed_offset");
        rec->stored_offset = get_int(pobj, "stored_offset");
        rec->consumer_lag = get_int(pobj, "consumer_lag");
        rec->consumer_lag_stored = get_int(pobj, "consumer_lag_stored");
        rec->lag = record_lag(rec, pobj);
        return rec->lag >= 0;
}

/* Appends rec to the growing array *arr (*cnt used, *cap allocated). */
static int append_partition(mm_lag_stats_partition_t **arr, size_t *cnt, size_t *cap,
                            const mm_lag_stats_partition_t *rec, char *errstr, size_t errstr_size) {
        if (*cnt == *cap) {
                size_t ncap = *cap ? *cap * 2 : 16;
                mm_lag_stats_partition_t *na = realloc(*arr, ncap * sizeof(*na));
                if (na == NULL) {
                        snprintf(errstr, errstr_size, "out of memory");
                        return -1;
                }
                *arr = na;
                *cap = ncap;
        }
        (*arr)[(*cnt)++] = *rec;
        return 0;
}

int mm_lag_stats_parse(const char *json, size_t len, mm_lag_stats_partition_t **out, size_t *n,
                       char *errstr, size_t errstr_size) {
        json_t *root, *topics, *tobj;
        const char *tname;
        mm_lag_stats_partition_t *arr = NULL;
        size_t cnt = 0, cap = 0;

        *out = NULL;
        *n = 0;
        if (load_stats(json, len, &root, &topics, errstr, errstr_size) != 0)
                return -1;
        json_object_foreach(topics, tname, tobj) {
                json_t *parts = json_object_get(tobj, "partitions");
                json_t *pobj;
                const char *pkey;

                if (!json_is_object(parts))
                        continue;
                json_object_foreach(parts, pkey, pobj) {
                        mm_lag_stats_partition_t rec;

                        if (!read_partition(tname, pobj, &rec))
                                continue;
                        if (append_partition(&arr, &cnt, &cap, &rec, errstr, errstr_size) != 0) {
                                free(arr);
                                json_decref(root);
                                return -1;
                        }
                }
        }
        json_decref(root);
        *out = arr; /* ownership passes to the caller */
        *n = cnt;
        return 0;
}
