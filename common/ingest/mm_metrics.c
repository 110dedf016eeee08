/* mm_metrics: Prometheus metrics and health endpoints (see mm_metrics.h). */
#include "mm_metrics.h"

#include "mm_buf.h"
#include "mm_lag.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#ifndef MM_VERSION
#define MM_VERSION "unknown"
#endif

#define MAX_CODES 64
#define CODE_LEN  48
/* 98 kommuner, "unknown" and room for parser mistakes; then "other". */
#define MAX_MUNIS 128
#define MUNI_LEN  80

static const double parse_buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                       0.25,  0.5,    1,     2.5,  5,     10};
static const double db_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
#define N_PARSE_BUCKETS (sizeof(parse_buckets) / sizeof(parse_buckets[0]))
#define N_DB_BUCKETS    (sizeof(db_buckets) / sizeof(db_buckets[0]))
#define MAX_BUCKETS     16

/* Codes that exist from the start, so rate() works before the first one. */
static const char *const initial_codes[] = {"empty", "too_large", "binary", "not_minutes"};

typedef struct histogram_s {
        const double *bounds;
        size_t nbounds;
        uint64_t counts[MAX_BUCKETS]; /* non-cumulative, one per bound */
        uint64_t count;
        double sum;
} histogram_t;

typedef struct dead_letter_s {
        char code[CODE_LEN];
        uint64_t count;
} dead_letter_t;

typedef struct muni_count_s {
        char name[MUNI_LEN];
        uint64_t count;
} muni_count_t;

struct mm_metrics_s {
        pthread_mutex_t lock;
        char version[64];
        double start_time;
        struct MHD_Daemon *daemon;
        int port;

        uint64_t consumed;
        uint64_t written;
        uint64_t att[4];      /* attachments: stored, skipped, failed, duplicate */
        uint64_t ex_pages[2]; /* extraction: [0] attachment, [1] document */
        uint64_t ex_ocr_pages[2];
        double ex_ocr_seconds[2];
        uint64_t db_retries;
        double db_paused;
        uint64_t rebalances;
        uint64_t stats_errors;
        int assigned;
        int db_ok;
        int dlq_ok;           /* 0 while dead letters cannot be delivered */
        uint64_t db_systemic; /* database errors that are not a document's fault */

        dead_letter_t codes[MAX_CODES];
        size_t ncodes;
        uint64_t other_codes;

        histogram_t parse;
        histogram_t db_batch;

        mm_lag_stats_partition_t *parts; /* from the last statistics document */
        size_t nparts;

        /* liveness */
        int64_t liveness_ms;    /* 0 = off */
        int64_t last_beat;      /* clock() of the last heartbeat, -1 before the first */
        int64_t (*clock)(void); /* monotonic ms */

        /* low-confidence documents by municipality */
        double low_confidence;
        muni_count_t munis[MAX_MUNIS];
        size_t nmunis;
        uint64_t other_munis;

        mm_metrics_hooks_t hooks; /* another program's /metrics and /readyz */
};

void mm_metrics_set_hooks(mm_metrics_t *m, const mm_metrics_hooks_t *hooks) {
        m->hooks = *hooks;
}

static int64_t monotonic_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- output -------------------------------------------------------------- */

/* Appends `s` escaped as a Prometheus label value. */
static void buf_label(mm_buf_t *b, const char *s) {
        for (; *s; s++) {
                if (*s == '\\')
                        mm_buf_puts(b, "\\\\");
                else if (*s == '"')
                        mm_buf_puts(b, "\\\"");
                else if (*s == '\n')
                        mm_buf_puts(b, "\\n");
                else
                        mm_buf_putc(b, *s);
        }
}

/* --- registry ------------------------------------------------------------ */

mm_metrics_t *mm_metrics_new(const char *version, char *errstr, size_t errstr_size) {
        mm_metrics_t *m = calloc(1, sizeof(*m));
        struct timespec ts;
        size_t i;

        if (m == NULL) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        m->dlq_ok = 1;
        if (pthread_mutex_init(&m->lock, NULL) != 0) {
                snprintf(errstr, errstr_size, "pthread_mutex_init failed");
                free(m);
                return NULL;
        }
        snprintf(m->version, sizeof(m->version), "%s", version ? version : MM_VERSION);
        clock_gettime(CLOCK_REALTIME, &ts);
        m->start_time = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
        m->port = -1;
        m->parse.bounds = parse_buckets;
        m->parse.nbounds = N_PARSE_BUCKETS;
        m->db_batch.bounds = db_buckets;
        m->db_batch.nbounds = N_DB_BUCKETS;
        for (i = 0; i < sizeof(initial_codes) / sizeof(initial_codes[0]); i++)
                snprintf(m->codes[m->ncodes++].code, CODE_LEN, "%s", initial_codes[i]);
        m->liveness_ms = MM_METRICS_LIVENESS_TIMEOUT_MS;
        m->last_beat = -1;
        m->clock = monotonic_ms;
        m->low_confidence = MM_METRICS_LOW_CONFIDENCE;
        return m;
}

void mm_metrics_destroy(mm_metrics_t *m) {
        if (m == NULL)
                return;
        if (m->daemon != NULL)
                MHD_stop_daemon(m->daemon);
        free(m->parts);
        pthread_mutex_destroy(&m->lock);
        free(m);
}

int mm_metrics_port(const mm_metrics_t *m) {
        return m ? m->port : -1;
}

#define LOCKED(m, stmt)                                                                            \
        do {                                                                                       \
                if ((m) == NULL)                                                                   \
                        return;                                                                    \
                pthread_mutex_lock(&(m)->lock);                                                    \
                stmt;                                                                              \
                pthread_mutex_unlock(&(m)->lock);                                                  \
        } while (0)

void mm_metrics_add_consumed(mm_metrics_t *m, uint64_t n) {
        LOCKED(m, m->consumed += n);
}

void mm_metrics_add_attachments(mm_metrics_t *m, uint64_t stored, uint64_t skipped, uint64_t failed,
                                uint64_t duplicates) {
        LOCKED(m, {
                m->att[0] += stored;
                m->att[1] += skipped;
                m->att[2] += failed;
                m->att[3] += duplicates;
        });
}

void mm_metrics_add_extract(mm_metrics_t *m, const char *kind, int pages, int ocr_pages,
                            double ocr_seconds) {
        int k = kind && !strcmp(kind, "attachment") ? 0 : 1;
        LOCKED(m, {
                m->ex_pages[k] += pages > 0 ? (uint64_t)pages : 0;
                m->ex_ocr_pages[k] += ocr_pages > 0 ? (uint64_t)ocr_pages : 0;
                m->ex_ocr_seconds[k] += ocr_seconds > 0 ? ocr_seconds : 0;
        });
}

static void family(mm_buf_t *b, const char *name, const char *type, const char *help);

/* The attachment and extraction counters (issue 22). */
static void render_attachments(mm_buf_t *b, const mm_metrics_t *m) {
        static const char *const results[4] = {"stored", "skipped", "failed", "duplicate"};
        static const char *const kinds[2] = {"attachment", "document"};
        family(b, "mm_attachments_total", "counter",
               "Attachments committed, by result: text stored, skipped by the producer, "
               "extraction failed, duplicate delivery.");
        for (int i = 0; i < 4; i++)
                mm_buf_printf(b, "mm_attachments_total{result=\"%s\"} %llu\n", results[i],
                              (unsigned long long)m->att[i]);
        family(b, "mm_extract_pages_total", "counter", "PDF pages extracted, by kind of input.");
        for (int i = 0; i < 2; i++)
                mm_buf_printf(b, "mm_extract_pages_total{kind=\"%s\"} %llu\n", kinds[i],
                              (unsigned long long)m->ex_pages[i]);
        family(b, "mm_extract_ocr_pages_total", "counter", "Pages whose text came from OCR.");
        for (int i = 0; i < 2; i++)
                mm_buf_printf(b, "mm_extract_ocr_pages_total{kind=\"%s\"} %llu\n", kinds[i],
                              (unsigned long long)m->ex_ocr_pages[i]);
        family(b, "mm_extract_ocr_seconds_total", "counter", "Time spent in OCR.");
        for (int i = 0; i < 2; i++)
                mm_buf_printf(b, "mm_extract_ocr_seconds_total{kind=\"%s\"} %.6f\n", kinds[i],
                              m->ex_ocr_seconds[i]);
}

void mm_metrics_add_written(mm_metrics_t *m, uint64_t n) {
        LOCKED(m, m->written += n);
}

void mm_metrics_add_db_retry(mm_metrics_t *m) {
        LOCKED(m, m->db_retries++);
}

void mm_metrics_add_db_paused(mm_metrics_t *m, double seconds) {
        if (!(seconds > 0))
                return;
        LOCKED(m, m->db_paused += seconds);
}

void mm_metrics_add_rebalance(mm_metrics_t *m) {
        LOCKED(m, m->rebalances++);
}

void mm_metrics_set_assigned(mm_metrics_t *m, int partitions) {
        LOCKED(m, m->assigned = partitions < 0 ? 0 : partitions);
}

void mm_metrics_set_db_ok(mm_metrics_t *m, int ok) {
        LOCKED(m, m->db_ok = ok != 0);
}

void mm_metrics_set_dlq_ok(mm_metrics_t *m, int ok) {
        LOCKED(m, m->dlq_ok = ok != 0);
}

void mm_metrics_add_db_systemic_error(mm_metrics_t *m) {
        LOCKED(m, m->db_systemic++);
}

int mm_metrics_is_ready(mm_metrics_t *m) {
        int r;

        if (m == NULL)
                return 0;
        pthread_mutex_lock(&m->lock);
        r = m->assigned > 0 && m->db_ok && m->dlq_ok;
        pthread_mutex_unlock(&m->lock);
        return r;
}

void mm_metrics_add_dead_letter(mm_metrics_t *m, const char *code) {
        char clean[CODE_LEN];
        size_t i, j = 0;

        if (m == NULL)
                return;
        if (code == NULL || *code == '\0')
                code = "unknown";
        for (i = 0; code[i] != '\0' && j + 1 < sizeof(clean); i++) {
                char c = code[i];
                if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')
                        clean[j++] = c;
                else if (c >= 'A' && c <= 'Z')
                        clean[j++] = (char)(c - 'A' + 'a');
        }
        clean[j] = '\0';
        if (j == 0)
                snprintf(clean, sizeof(clean), "unknown");

        pthread_mutex_lock(&m->lock);
        for (i = 0; i < m->ncodes; i++) {
                if (strcmp(m->codes[i].code, clean) == 0) {
                        m->codes[i].count++;
                        pthread_mutex_unlock(&m->lock);
                        return;
                }
        }
        if (m->ncodes < MAX_CODES) {
                snprintf(m->codes[m->ncodes].code, CODE_LEN, "%s", clean);
                m->codes[m->ncodes].count = 1;
                m->ncodes++;
        } else {
                m->other_codes++;
        }
        pthread_mutex_unlock(&m->lock);
}

/* --- liveness and low confidence ----------------------------------------- */

int mm_metrics_configure(mm_metrics_t *m, const mm_config_t *cfg, char *errstr,
                         size_t errstr_size) {
        if (m == NULL)
                return 0;
        long long ms = mm_config_get_int(cfg, "liveness-timeout-ms");
        if (ms < 0) {
                snprintf(errstr, errstr_size, "liveness-timeout-ms must be >= 0, not %lld", ms);
                return -1;
        }
        const char *v = mm_config_get_str(cfg, "low-confidence");
        char *end = NULL;
        errno = 0;
        double t = v ? strtod(v, &end) : MM_METRICS_LOW_CONFIDENCE;
        if (v && (errno || end == v || *end != '\0' || !(t >= 0 && t <= 1))) {
                snprintf(errstr, errstr_size,
                         "low-confidence must be a number from 0 to 1, not \"%s\"", v);
                return -1;
        }
        mm_metrics_set_liveness_timeout(m, (int64_t)ms);
        mm_metrics_set_low_confidence(m, t);
        return 0;
}

void mm_metrics_heartbeat(mm_metrics_t *m) {
        LOCKED(m, m->last_beat = m->clock());
}

void mm_metrics_set_liveness_timeout(mm_metrics_t *m, int64_t ms) {
        LOCKED(m, m->liveness_ms = ms < 0 ? 0 : ms);
}

void mm_metrics_set_clock(mm_metrics_t *m, int64_t (*now_ms)(void)) {
        LOCKED(m, m->clock = now_ms ? now_ms : monotonic_ms);
}

void mm_metrics_set_low_confidence(mm_metrics_t *m, double threshold) {
        LOCKED(m, m->low_confidence = threshold);
}

/* Time since the last heartbeat in ms, -1 before the first. Lock held. */
static int64_t beat_age_locked(const mm_metrics_t *m) {
        if (m->last_beat < 0)
                return -1;
        int64_t age = m->clock() - m->last_beat;
        return age < 0 ? 0 : age;
}

int mm_metrics_is_live(mm_metrics_t *m, char *why, size_t why_size) {
        if (m == NULL)
                return 1;
        pthread_mutex_lock(&m->lock);
        int64_t age = beat_age_locked(m), limit = m->liveness_ms;
        pthread_mutex_unlock(&m->lock);
        if (limit <= 0 || age <= limit)
                return 1;
        if (why)
                snprintf(why, why_size,
                         "main loop stalled: no turn for %.1f s (liveness-timeout-ms %lld)",
                         (double)age / 1000.0, (long long)limit);
        return 0;
}

/* Copies a municipality name as a label value: at most MUNI_LEN - 1 bytes,
 * cut before a UTF-8 continuation byte, without control characters. */
static void muni_label(char *out, const char *name) {
        size_t i = 0, j = 0;
        for (; name[i] && j + 1 < MUNI_LEN; i++) {
                unsigned char c = (unsigned char)name[i];
                if (c >= 0x20 && c != 0x7f)
                        out[j++] = (char)c;
        }
        /* Cut inside a character (the next byte continues it; jansson
         * strings are valid UTF-8): drop that character's first bytes. */
        if (((unsigned char)name[i] & 0xC0) == 0x80) {
                while (j > 0 && ((unsigned char)out[j - 1] & 0xC0) == 0x80)
                        j--;
                if (j > 0)
                        j--;
        }
        out[j] = '\0';
}

void mm_metrics_observe_confidence(mm_metrics_t *m, const json_t *document) {
        const json_t *c = json_object_get(document, "confidence");
        if (m == NULL || !json_is_number(c))
                return;
        const char *name = json_string_value(json_object_get(document, "municipality"));
        char label[MUNI_LEN];
        muni_label(label, name && *name ? name : "unknown");
        if (label[0] == '\0')
                snprintf(label, sizeof(label), "unknown");
        pthread_mutex_lock(&m->lock);
        if (json_number_value(c) < m->low_confidence) {
                size_t i;
                for (i = 0; i < m->nmunis && strcmp(m->munis[i].name, label) != 0; i++)
                        ;
                if (i < m->nmunis) {
                        m->munis[i].count++;
                } else if (m->nmunis < MAX_MUNIS) {
                        snprintf(m->munis[m->nmunis].name, MUNI_LEN, "%s", label);
                        m->munis[m->nmunis++].count = 1;
                } else {
                        m->other_munis++;
                }
        }
        pthread_mutex_unlock(&m->lock);
}

static void histogram_observe(histogram_t *h, double v) {
        size_t i;

        if (v != v || v < 0)
                v = 0; /* NaN or a clock step backwards */
        for (i = 0; i < h->nbounds; i++) {
                if (v <= h->bounds[i]) {
                        h->counts[i]++;
                        break;
                }
        }
        h->count++;
        h->sum += v;
}

void mm_metrics_observe_parse(mm_metrics_t *m, double seconds) {
        LOCKED(m, histogram_observe(&m->parse, seconds));
}

void mm_metrics_observe_db_batch(mm_metrics_t *m, double seconds) {
        LOCKED(m, histogram_observe(&m->db_batch, seconds));
}

int mm_metrics_update_stats(mm_metrics_t *m, const char *json, size_t json_len, char *errstr,
                            size_t errstr_size) {
        mm_lag_stats_partition_t *parts = NULL;
        size_t n = 0;

        if (m == NULL)
                return 0;
        if (mm_lag_stats_parse(json, json_len, &parts, &n, errstr, errstr_size) != 0) {
                pthread_mutex_lock(&m->lock);
                m->stats_errors++;
                pthread_mutex_unlock(&m->lock);
                return -1;
        }
        pthread_mutex_lock(&m->lock);
        free(m->parts);
        m->parts = parts;
        parts = NULL; /* ownership passed to m */
        m->nparts = n;
        pthread_mutex_unlock(&m->lock);
        return 0;
}

/* --- rendering ------------------------------------------------------------ */

static void family(mm_buf_t *b, const char *name, const char *type, const char *help) {
        mm_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void render_histogram(mm_buf_t *b, const char *name, const char *help,
                             const histogram_t *h) {
        uint64_t cum = 0;
        size_t i;

        family(b, name, "histogram", help);
        for (i = 0; i < h->nbounds; i++) {
                cum += h->counts[i];
                mm_buf_printf(b, "%s_bucket{le=\"%g\"} %llu\n", name, h->bounds[i],
                              (unsigned long long)cum);
        }
        mm_buf_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)h->count);
        mm_buf_printf(b, "%s_sum %.9g\n", name, h->sum);
        mm_buf_printf(b, "%s_count %llu\n", name, (unsigned long long)h->count);
}

static void render_partition_gauge(mm_buf_t *b, const mm_metrics_t *m, const char *name,
                                   const char *help, int which) {
        size_t i;

        family(b, name, "gauge", help);
        for (i = 0; i < m->nparts; i++) {
                const mm_lag_stats_partition_t *p = &m->parts[i];
                int64_t v = which == 0 ? p->lag : which == 1 ? p->hi_offset : p->committed_offset;
                if (v < 0)
                        continue;
                mm_buf_printf(b, "%s{topic=\"", name);
                buf_label(b, p->topic);
                mm_buf_printf(b, "\",partition=\"%d\"} %lld\n", (int)p->partition, (long long)v);
        }
}

/* The liveness gauge and the low-confidence counters. Lock held. */
static void render_liveness_confidence(mm_buf_t *b, const mm_metrics_t *m) {
        int64_t age = beat_age_locked(m);
        family(b, "mm_main_loop_last_turn_age_seconds", "gauge",
               "Time since the main loop last turned (0 before the first turn).");
        mm_buf_printf(b, "mm_main_loop_last_turn_age_seconds %.3f\n",
                      age < 0 ? 0.0 : (double)age / 1000.0);
        family(b, "mm_documents_low_confidence_total", "counter",
               "Parsed documents whose confidence is below the low-confidence threshold, by "
               "municipality.");
        for (size_t i = 0; i < m->nmunis; i++) {
                mm_buf_printf(b, "mm_documents_low_confidence_total{municipality=\"");
                buf_label(b, m->munis[i].name);
                mm_buf_printf(b, "\"} %llu\n", (unsigned long long)m->munis[i].count);
        }
        if (m->other_munis > 0)
                mm_buf_printf(b, "mm_documents_low_confidence_total{municipality=\"other\"} %llu\n",
                              (unsigned long long)m->other_munis);
}

char *mm_metrics_render(mm_metrics_t *m, size_t *len) {
        mm_buf_t b = MM_BUF_INIT;
        char *out;
        size_t i;

        pthread_mutex_lock(&m->lock);
        family(&b, "mm_worker_build_info", "gauge", "Build information of the worker.");
        mm_buf_printf(&b, "mm_worker_build_info{version=\"");
        buf_label(&b, m->version);
        mm_buf_printf(&b, "\"} 1\n");
        family(&b, "mm_worker_start_time_seconds", "gauge",
               "Start time of the worker since the unix epoch in seconds.");
        mm_buf_printf(&b, "mm_worker_start_time_seconds %.3f\n", m->start_time);

        family(&b, "mm_messages_consumed_total", "counter", "Messages consumed from Kafka.");
        mm_buf_printf(&b, "mm_messages_consumed_total %llu\n", (unsigned long long)m->consumed);
        family(&b, "mm_documents_written_total", "counter", "Documents written to PostgreSQL.");
        mm_buf_printf(&b, "mm_documents_written_total %llu\n", (unsigned long long)m->written);

        render_attachments(&b, m);

        family(&b, "mm_dead_letters_total", "counter",
               "Messages sent to the dead-letter topic, by error code.");
        for (i = 0; i < m->ncodes; i++)
                mm_buf_printf(&b, "mm_dead_letters_total{code=\"%s\"} %llu\n", m->codes[i].code,
                              (unsigned long long)m->codes[i].count);
        if (m->other_codes > 0)
                mm_buf_printf(&b, "mm_dead_letters_total{code=\"other\"} %llu\n",
                              (unsigned long long)m->other_codes);

        render_histogram(&b, "mm_parse_seconds", "Time to parse one document.", &m->parse);
        render_histogram(&b, "mm_db_batch_seconds",
                         "Time to write one batch to PostgreSQL, commit included.", &m->db_batch);

        family(&b, "mm_db_retries_total", "counter", "Database operations retried.");
        mm_buf_printf(&b, "mm_db_retries_total %llu\n", (unsigned long long)m->db_retries);
        family(&b, "mm_db_paused_seconds_total", "counter",
               "Time consumption was paused because of a database fault.");
        mm_buf_printf(&b, "mm_db_paused_seconds_total %.6f\n", m->db_paused);
        family(&b, "mm_db_up", "gauge", "1 if the last database round trip succeeded.");
        mm_buf_printf(&b, "mm_db_up %d\n", m->db_ok);
        family(&b, "mm_db_systemic_errors_total", "counter",
               "Database errors that are no document's fault (read-only, grants, timeouts, "
               "connection): the batch is kept and retried.");
        mm_buf_printf(&b, "mm_db_systemic_errors_total %llu\n", (unsigned long long)m->db_systemic);
        family(&b, "mm_dlq_up", "gauge", "0 while dead letters cannot be delivered.");
        mm_buf_printf(&b, "mm_dlq_up %d\n", m->dlq_ok);

        family(&b, "mm_rebalances_total", "counter", "Consumer group rebalances seen.");
        mm_buf_printf(&b, "mm_rebalances_total %llu\n", (unsigned long long)m->rebalances);
        family(&b, "mm_assigned_partitions", "gauge", "Partitions assigned to this worker.");
        mm_buf_printf(&b, "mm_assigned_partitions %d\n", m->assigned);
        family(&b, "mm_ready", "gauge",
               "1 when partitions are assigned and the database is reachable.");
        mm_buf_printf(&b, "mm_ready %d\n", m->assigned > 0 && m->db_ok && m->dlq_ok);

        render_partition_gauge(&b, m, "mm_consumer_lag",
                               "High watermark minus the stored (or committed) offset.", 0);
        render_partition_gauge(&b, m, "mm_partition_high_watermark",
                               "High watermark of an assigned partition.", 1);
        render_partition_gauge(&b, m, "mm_partition_committed_offset",
                               "Committed offset of an assigned partition.", 2);
        family(&b, "mm_stats_errors_total", "counter",
               "librdkafka statistics documents that could not be parsed.");
        mm_buf_printf(&b, "mm_stats_errors_total %llu\n", (unsigned long long)m->stats_errors);
        render_liveness_confidence(&b, m);
        pthread_mutex_unlock(&m->lock);

        if (mm_buf_take(&b, &out, len))
                return NULL;
        return out;
}

/* --- HTTP ----------------------------------------------------------------- */

static enum MHD_Result send_text(struct MHD_Connection *conn, unsigned int status, char *body,
                                 size_t len, const char *ctype) {
        struct MHD_Response *resp;
        enum MHD_Result ret;

        /* MHD frees body with free() */
        resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
        if (resp == NULL) {
                free(body);
                return MHD_NO;
        }
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
        ret = MHD_queue_response(conn, status, resp);
        MHD_destroy_response(resp);
        return ret;
}

static enum MHD_Result send_static(struct MHD_Connection *conn, unsigned int status,
                                   const char *msg) {
        char *body = strdup(msg);

        if (body == NULL)
                return MHD_NO;
        return send_text(conn, status, body, strlen(body), "text/plain; charset=utf-8");
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **req_cls) {
        mm_metrics_t *m = cls;
        static int first_call_marker;

        (void)version;
        (void)upload_data;
        (void)upload_data_size;
        if (*req_cls == NULL) {
                /* First call for this request: headers only; answer on the next. */
                *req_cls = &first_call_marker;
                return MHD_YES;
        }
        if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
                return send_static(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
        if (strcmp(url, "/metrics") == 0) {
                size_t len = 0;
                char *body = m->hooks.render ? m->hooks.render(m->hooks.arg, &len)
                                             : mm_metrics_render(m, &len);
                if (body == NULL)
                        return send_static(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
                return send_text(conn, MHD_HTTP_OK, body, len,
                                 "text/plain; version=0.0.4; charset=utf-8");
        }
        if (strcmp(url, "/healthz") == 0) {
                char why[160];
                if (mm_metrics_is_live(m, why, sizeof(why) - 1)) /* room for \n */
                        return send_static(conn, MHD_HTTP_OK, "ok\n");
                strcat(why, "\n");
                return send_static(conn, MHD_HTTP_SERVICE_UNAVAILABLE, why);
        }
        if (strcmp(url, "/readyz") == 0 && m->hooks.ready) {
                char why[160];
                if (m->hooks.ready(m->hooks.arg, why, sizeof(why) - 1))
                        return send_static(conn, MHD_HTTP_OK, "ready\n");
                strcat(why, "\n");
                return send_static(conn, MHD_HTTP_SERVICE_UNAVAILABLE, why);
        }
        if (strcmp(url, "/readyz") == 0) {
                int assigned, db_ok, dlq_ok;
                pthread_mutex_lock(&m->lock);
                assigned = m->assigned;
                db_ok = m->db_ok;
                dlq_ok = m->dlq_ok;
                pthread_mutex_unlock(&m->lock);
                if (!dlq_ok)
                        return send_static(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
                                           "not ready: dead letters cannot be delivered\n");
                if (assigned > 0 && db_ok)
                        return send_static(conn, MHD_HTTP_OK, "ready\n");
                if (!db_ok && assigned <= 0)
                        return send_static(
                                conn, MHD_HTTP_SERVICE_UNAVAILABLE,
                                "not ready: no partitions assigned, database not reachable\n");
                if (!db_ok)
                        return send_static(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
                                           "not ready: database not reachable\n");
                return send_static(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
                                   "not ready: no partitions assigned\n");
        }
        return send_static(conn, MHD_HTTP_NOT_FOUND, "not found\n");
}

int mm_metrics_start(mm_metrics_t *m, const char *bind_addr, int port, char *errstr,
                     size_t errstr_size) {
        struct sockaddr_in sa;
        const union MHD_DaemonInfo *info;
        struct MHD_Daemon *d;

        if (m->daemon != NULL) {
                snprintf(errstr, errstr_size, "metrics server already started");
                return -1;
        }
        if (port < 0 || port > 65535) {
                snprintf(errstr, errstr_size, "invalid metrics port %d", port);
                return -1;
        }
        memset(&sa, 0, sizeof(sa));
        sa.sin_family = AF_INET;
        sa.sin_port = htons((uint16_t)port);
        sa.sin_addr.s_addr = htonl(INADDR_ANY);
        if (bind_addr != NULL && inet_pton(AF_INET, bind_addr, &sa.sin_addr) != 1) {
                snprintf(errstr, errstr_size, "invalid metrics bind address \"%s\" (IPv4 literal)",
                         bind_addr);
                return -1;
        }
        d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, (uint16_t)port,
                             NULL, NULL, handle, m, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                             MHD_OPTION_CONNECTION_LIMIT, (unsigned int)32,
                             MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10, MHD_OPTION_END);
        if (d == NULL) {
                snprintf(errstr, errstr_size, "cannot serve metrics on %s:%d (port in use?)",
                         bind_addr ? bind_addr : "0.0.0.0", port);
                return -1;
        }
        info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
        if (info == NULL || info->port == 0) {
                snprintf(errstr, errstr_size, "cannot determine the metrics port");
                MHD_stop_daemon(d);
                return -1;
        }
        m->daemon = d;
        m->port = (int)info->port;
        return 0;
}
