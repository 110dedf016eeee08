/*
 * minutes-submit: publishes files (text, markdown, HTML, PDF, document
 * system exports) or the files of directories to the raw topic as
 * CloudEvents binary-mode messages keyed by municipality, waits for every
 * delivery report and exits non-zero if any message failed.
 *
 * Bulk import of an export (an eDoc export folder, a directory of
 * FirstAgenda JSON files): a file that a source adapter recognises as an
 * export (mm_source) is sent with that adapter's content type, once per
 * publication (the same bytes twice are sent once). In a directory holding
 * an export, the files the export names as its attachments (attachment
 * links relative to the export) and other renderings of the same
 * publication (same file name, other extension, e.g. eDoc's .html) are not
 * meeting documents and are not sent: the attachments travel as metadata
 * of their items (attachment_files: name, id, link). When the export's
 * folder is named by a time ("2017-04-21 12.24.03", local Danish time, as
 * eDoc writes it), that is the publication time and becomes the event time
 * (ce_time), which the worker takes as published_at when the export does
 * not state one.
 *
 * With --attachments on (the default), the files an export names as its
 * attachments are sent to the attachments topic instead (mm_attach, the
 * message of docs/source-connector.md#attachments), once per attachment id
 * of the run, after the documents: attachment-id is the adapter's
 * attachment_files[].id, source-url its link. A file larger than
 * --attachment-max-bytes, or one the export names but does not hold, is
 * sent as an empty record with attachment-skipped too_large (and its
 * size) or not_in_export, so it is recorded, never silently dropped.
 * --attachments off keeps them unsent.
 *
 * It first asks the brokers for metadata (--broker-timeout-ms): when none
 * answers it stops with one line instead of waiting for every message's
 * delivery timeout. It warns before sending an empty or binary file (the
 * worker will dead-letter it), prints one line per file on stdout
 * (file -> key -> topic [partition] @ offset, or why it was not sent) and
 * the summary once.
 *
 *   minutes-submit -b BROKERS [-t TOPIC] [--municipality NAME] FILE|DIR...
 */
#include <dirent.h>
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "mm_attach.h"
#include "mm_classify.h"
#include "mm_config.h"
#include "mm_envelope.h"
#include "mm_export_attach.h"
#include "mm_buf.h"
#include "mm_extract.h"
#include "mm_kafka.h"
#include "mm_log.h"
#include "mm_parser.h"
#include "mm_source.h"

static const mm_config_option_t options[] = {
        {"config", 'c', MM_CONFIG_STRING, NULL, "MM_CONFIG", 0,
         "config file of key=value lines (kafka.KEY=VALUE for librdkafka)"},
        {"brokers", 'b', MM_CONFIG_STRING, "localhost:9092", "MM_BROKERS", 0,
         "Kafka bootstrap servers"},
        {"topic", 't', MM_CONFIG_STRING, "minutes.raw", "MM_TOPIC", 0, "raw document topic"},
        {"municipality", 'm', MM_CONFIG_STRING, NULL, "MM_MUNICIPALITY", 0,
         "municipality (key and header); default: inferred by the parser, else \"unknown\""},
        {"source", 's', MM_CONFIG_STRING, "minutes-submit", "MM_SOURCE", 0,
         "CloudEvents source attribute (ce_source)"},
        {"max-doc-bytes", 0, MM_CONFIG_SIZE, MM_ENVELOPE_MAX_DOC_BYTES, "MM_MAX_DOC_BYTES", 0,
         "refuse to read files larger than this"},
        {"broker-timeout-ms", 0, MM_CONFIG_INT, "10000", "MM_BROKER_TIMEOUT_MS", 0,
         "stop at once when no broker answers within this time (ms)"},
        {"attachments", 0, MM_CONFIG_STRING, "on", "MM_ATTACHMENTS", 0,
         "on: send the attachment files an export names to the attachments topic; off: leave "
         "them unsent"},
        {"attachments-topic", 0, MM_CONFIG_STRING, MM_ATTACH_DEFAULT_TOPIC, "MM_ATTACHMENTS_TOPIC",
         0, "topic of the attachments"},
        {"attachment-max-bytes", 0, MM_CONFIG_SIZE, MM_ENVELOPE_MAX_DOC_BYTES,
         "MM_ATTACHMENT_MAX_BYTES", 0,
         "a larger attachment file is sent as an empty record (attachment-skipped: too_large)"},
        {"log-level", 0, MM_CONFIG_STRING, "info", "MM_LOG_LEVEL", 0, "debug, info, warn or error"},
};

/* What a delivery report is about (the message's opaque). */
typedef struct sent_s {
        char *path;
        int attachment;
} sent_t;

typedef struct submit_s {
        rd_kafka_t *rk;
        mm_parser_t *parser;
        mm_classify_t *cls; /* kommune names: the key is the official name */
        const char *topic, *municipality, *source;
        size_t max_bytes;
        size_t sent, delivered, failed, skipped;
        char **skip; /* absolute paths not to send (attachments of an export) */
        size_t nskip, capskip;
        char **shas; /* exports already sent */
        size_t nshas, capshas;
        int attachments; /* --attachments on */
        const char *att_topic;
        size_t att_max;
        mm_export_atts_t *atts; /* attachments named by the exports sent */
        size_t att_sent, att_delivered, att_failed, att_skipped;
        atomic_int checking; /* 1 while the brokers are asked: their log is held back */
        atomic_int all_down; /* librdkafka reported every broker down */
} submit_t;

/* Appends a copy of `v` to a growing list. */
static void list_add(char ***list, size_t *n, size_t *cap, const char *v) {
        if (*n == *cap) {
                size_t nc = *cap ? *cap * 2 : 32;
                char **nl = realloc(*list, nc * sizeof(char *));
                if (!nl)
                        return;
                *list = nl;
                *cap = nc;
        }
        char *c = strdup(v);
        if (c)
                (*list)[(*n)++] = c;
}

static int list_has(char **list, size_t n, const char *v) {
        for (size_t i = 0; i < n; i++)
                if (!strcasecmp(list[i], v))
                        return 1;
        return 0;
}

static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
        (void)rk;
        submit_t *s = opaque;
        sent_t *o = m->_private;
        const char *path = o && o->path ? o->path : "?";
        int klen = m->key ? (int)m->key_len : 0;
        const char *key = m->key ? (const char *)m->key : "";
        if (m->err) {
                if (o && o->attachment)
                        s->att_failed++;
                else
                        s->failed++;
                printf("%s -> %.*s -> not delivered: %s\n", path, klen, key,
                       rd_kafka_err2str(m->err));
                mm_log(MM_LOG_ERROR, "delivery of %s failed: %s", path, rd_kafka_err2str(m->err));
        } else {
                if (o && o->attachment)
                        s->att_delivered++;
                else
                        s->delivered++;
                printf("%s -> %.*s -> %s [%d] @ %lld\n", path, klen, key,
                       rd_kafka_topic_name(m->rkt), (int)m->partition, (long long)m->offset);
        }
        if (o)
                free(o->path);
        free(o);
}

static const char *content_type_for(const char *path) {
        const char *dot = strrchr(path, '.');
        const char *slash = strrchr(path, '/');
        if (!dot || (slash && dot < slash))
                return "application/octet-stream";
        dot++;
        if (!strcasecmp(dot, "txt"))
                return "text/plain; charset=utf-8";
        if (!strcasecmp(dot, "md") || !strcasecmp(dot, "markdown"))
                return "text/markdown; charset=utf-8";
        if (!strcasecmp(dot, "html") || !strcasecmp(dot, "htm"))
                return "text/html";
        if (!strcasecmp(dot, "pdf"))
                return "application/pdf";
        return "application/octet-stream";
}

/* The directory part of `path` ("." when there is none) into dir. */
static void dir_of(const char *path, char *dir, size_t cap) {
        const char *slash = strrchr(path, '/');
        if (!slash)
                snprintf(dir, cap, ".");
        else
                snprintf(dir, cap, "%.*s", (int)(slash - path), path);
}

/* Parses the document: its municipality (malloc'd, or NULL) and, for an
 * export, the attachment links to skip (relative to the export's folder,
 * "\" or "/" separated). */
static char *parse_info(submit_t *s, const char *path, const char *buf, size_t len,
                        const char *ct) {
        mm_source_result_t res;
        mm_parse_error_t perr;
        if (mm_source_parse(s->parser, buf, len, ct, &res, &perr) != 0) {
                mm_source_result_clear(&res);
                return NULL;
        }
        json_t *items = json_object_get(res.doc, "items"), *it, *f;
        size_t i, k;
        char dir[PATH_MAX], absdir[PATH_MAX], full[PATH_MAX * 2];
        dir_of(path, dir, sizeof(dir));
        if (!realpath(dir, absdir))
                snprintf(absdir, sizeof(absdir), "%s", dir);
        json_array_foreach(items, i, it) {
                json_array_foreach(json_object_get(it, "attachment_files"), k, f) {
                        const char *link = json_string_value(json_object_get(f, "link"));
                        if (!link || strstr(link, "://"))
                                continue;
                        while (*link == '\\' || *link == '/')
                                link++;
                        /* Compared case-insensitively: eDoc links "x.pdf",
                         * writes "x.PDF". */
                        snprintf(full, sizeof(full), "%s/%s", absdir, link);
                        for (char *c = full; *c; c++)
                                if (*c == '\\')
                                        *c = '/';
                        list_add(&s->skip, &s->nskip, &s->capskip, full);
                }
        }
        if (s->attachments && mm_export_atts_add(s->atts, res.doc, absdir) < 0)
                mm_log(MM_LOG_ERROR, "%s: out of memory noting its attachments", path);
        const char *m = json_string_value(
                json_object_get(json_object_get(res.doc, "document"), "municipality"));
        char *out = m && *m ? strdup(m) : NULL;
        mm_source_result_clear(&res);
        return out;
}

/* The publication time named by the folder of `path` ("YYYY-MM-DD
 * HH.MM.SS", Danish local time) as RFC 3339 UTC into out; 0 if none. */
static int folder_time(const char *path, char *out, size_t cap) {
        char dir[PATH_MAX];
        struct tm tm;
        dir_of(path, dir, sizeof(dir));
        const char *base = strrchr(dir, '/');
        base = base ? base + 1 : dir;
        memset(&tm, 0, sizeof(tm));
        if (sscanf(base, "%4d-%2d-%2d %2d.%2d.%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                   &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
                return 0;
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        tm.tm_isdst = -1;
        time_t t = mktime(&tm); /* TZ is Europe/Copenhagen (set in main) */
        struct tm u;
        gmtime_r(&t, &u);
        strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &u);
        return 1;
}

/* The municipality of a document: --municipality, else the one the parser
 * infers (*inferred, malloc'd, for the caller to free), else "unknown";
 * for an export the parser runs anyway to note its attachments. Given as
 * the kommune's official name when it is one ("Århus" -> "Aarhus
 * Kommune"), so the agenda and the minutes share a key, as the worker
 * stores it. */
static const char *municipality_of(submit_t *s, const char *path, const char *buf, size_t len,
                                   const char *ct, int is_export, char **inferred) {
        const char *muni = s->municipality;
        *inferred = NULL;
        if (!muni || is_export) {
                *inferred = parse_info(s, path, buf, len, ct);
                muni = muni ? muni : *inferred ? *inferred : "unknown";
        }
        const char *official = mm_envelope_kommune(s->cls, muni);
        if (official)
                muni = official;
        else if (strcmp(muni, "unknown"))
                mm_log(MM_LOG_WARN, "%s: municipality \"%s\" is not a known kommune: kept as it is",
                       path, muni);
        return muni;
}

/* The event time (ce_time) into now: an export's folder time, else the
 * current time, as RFC 3339 UTC. */
static void event_time(const char *path, int is_export, char *now, size_t cap) {
        if (!is_export || !folder_time(path, now, cap)) {
                time_t t = time(NULL);
                struct tm tm;
                gmtime_r(&t, &tm);
                strftime(now, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
        }
}

/* The message's CloudEvents and document headers. */
static rd_kafka_headers_t *make_headers(const submit_t *s, const char *path, const char *sha,
                                        const char *now, const char *ct, const char *muni) {
        char abs[PATH_MAX + 8], url[PATH_MAX + 16];
        if (!realpath(path, abs))
                snprintf(abs, sizeof(abs), "%s", path);
        snprintf(url, sizeof(url), "file://%s", abs);
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;

        rd_kafka_headers_t *h = rd_kafka_headers_new(10);
        rd_kafka_header_add(h, "ce_specversion", -1, "1.0", -1);
        rd_kafka_header_add(h, "ce_id", -1, sha, -1);
        rd_kafka_header_add(h, "ce_source", -1, s->source, -1);
        rd_kafka_header_add(h, "ce_type", -1, "dk.minutes.document.raw", -1);
        rd_kafka_header_add(h, "ce_time", -1, now, -1);
        rd_kafka_header_add(h, "content-type", -1, ct, -1);
        rd_kafka_header_add(h, "municipality", -1, muni, -1);
        rd_kafka_header_add(h, "source-url", -1, url, -1);
        rd_kafka_header_add(h, "document-id", -1, base, -1);
        return h;
}

/* Queues the message keyed by `muni`, waiting while the queue is full.
 * On success buf and h belong to librdkafka; on failure they are freed
 * and the file counts as failed. */
static int produce(submit_t *s, const char *path, char *buf, size_t len, const char *muni,
                   rd_kafka_headers_t *h) {
        sent_t *opaque = calloc(1, sizeof(*opaque));
        if (opaque && !(opaque->path = strdup(path))) {
                free(opaque);
                opaque = NULL;
        }
        rd_kafka_resp_err_t e;
        for (;;) {
                e = rd_kafka_producev(
                        s->rk, RD_KAFKA_V_TOPIC(s->topic), RD_KAFKA_V_KEY(muni, strlen(muni)),
                        RD_KAFKA_V_VALUE(buf, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE),
                        RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
                if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                        break;
                rd_kafka_poll(s->rk, 100);
        }
        if (e) {
                mm_log(MM_LOG_ERROR, "cannot produce %s: %s", path, rd_kafka_err2str(e));
                rd_kafka_headers_destroy(h);
                free(buf);
                if (opaque)
                        free(opaque->path);
                free(opaque);
                s->failed++;
                return -1;
        }
        /* buf: ownership passed to librdkafka (F_FREE); opaque: freed by dr_msg_cb */
        s->sent++;
        return 0;
}

/* Warns when the worker will dead-letter the file for what it is, not for
 * what it says: empty, or binary (an image, office file or archive, or
 * text holding NUL bytes). It is sent all the same: a dead letter keeps
 * its bytes and the reason. */
static void warn_if_unfit(const char *path, const char *buf, size_t len, const char *ct) {
        if (len == 0) {
                mm_log(MM_LOG_WARN,
                       "%s is empty: sending it anyway, the worker will dead-letter "
                       "it (empty)",
                       path);
                return;
        }
        mm_extract_type_t t = mm_extract_detect(buf, len, ct);
        if (t == MM_EXTRACT_UNKNOWN)
                mm_log(MM_LOG_WARN,
                       "%s is not text, HTML, PDF or a known export (an image, office file or "
                       "archive?): sending it anyway, the worker will dead-letter it "
                       "(unsupported_type)",
                       path);
        else if (t == MM_EXTRACT_TEXT && memchr(buf, '\0', len))
                mm_log(MM_LOG_WARN,
                       "%s holds NUL bytes, so it is no text document: sending it anyway, the "
                       "worker will dead-letter it (binary)",
                       path);
}

static int submit_file(submit_t *s, const char *path) {
        char err[512];
        size_t len = 0;
        char *buf = mm_buf_read_file(path, s->max_bytes, &len, err, sizeof(err));
        if (!buf) {
                printf("%s -> not sent: %s\n", path, err);
                mm_log(MM_LOG_ERROR, "%s", err);
                s->failed++;
                return -1;
        }
        const char *ct = content_type_for(path);
        /* An export goes with its adapter's content type. */
        const mm_source_adapter_t *a = mm_source_detect(buf, len, NULL);
        int is_export = a && a->sniff && a->sniff(buf, len);
        if (is_export)
                ct = a->content_types[0];
        else
                warn_if_unfit(path, buf, len, ct);
        char sha[65], now[40];
        mm_envelope_sha256_hex(buf, len, sha);
        if (is_export && list_has(s->shas, s->nshas, sha)) {
                printf("%s -> not sent: the same export was sent already\n", path);
                free(buf);
                s->skipped++;
                return 0;
        }
        char *inferred;
        size_t atts_before = mm_export_atts_count(s->atts);
        const char *muni = municipality_of(s, path, buf, len, ct, is_export, &inferred);
        if (is_export)
                list_add(&s->shas, &s->nshas, &s->capshas, sha);
        event_time(path, is_export, now, sizeof(now));
        const char *base = strrchr(path, '/');
        mm_export_atts_set_origin(s->atts, atts_before, muni, base ? base + 1 : path, now);
        rd_kafka_headers_t *h = make_headers(s, path, sha, now, ct, muni);
        if (produce(s, path, buf, len, muni, h) != 0) {
                free(inferred);
                return -1;
        }
        mm_log(MM_LOG_DEBUG, "queued %s (%zu bytes, %s, key %s)", path, len, ct, muni);
        free(inferred);
        rd_kafka_poll(s->rk, 0);
        return 0;
}

/* Queues one attachment message: the file's bytes, or an empty record
 * when a->skipped. buf is taken. */
static void att_produce(submit_t *s, const mm_export_att_t *a, char *buf, size_t len) {
        char sha[65] = "", key[1024], label[PATH_MAX + 128];
        mm_envelope_sha256_hex(buf ? buf : "", buf ? len : 0, sha);
        mm_attach_msg_t m = {.kommune = a->kommune ? a->kommune : "unknown",
                             .id = a->id,
                             .name = a->name,
                             .size = a->skipped ? a->size : (long long)len,
                             .sha256 = sha,
                             .ce_source = s->source,
                             .ce_time = a->ce_time,
                             .content_type = a->file ? content_type_for(a->file) : NULL,
                             .source_url = a->link,
                             .meeting_doc = a->doc_id,
                             .meeting_key = a->kommune,
                             .item_number = a->item,
                             .skipped = a->skipped};
        mm_attach_key(&m, key, sizeof(key));
        snprintf(label, sizeof(label), "%s (attachment %s%s%s)", a->file ? a->file : a->link, a->id,
                 a->skipped ? ", skipped: " : "", a->skipped ? a->skipped : "");
        rd_kafka_headers_t *h = mm_attach_headers(&m);
        sent_t *o = calloc(1, sizeof(*o));
        rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR__FAIL;
        if (h && o && (o->path = strdup(label))) {
                o->attachment = 1;
                do {
                        e = rd_kafka_producev(
                                s->rk, RD_KAFKA_V_TOPIC(s->att_topic),
                                RD_KAFKA_V_KEY(key, strlen(key)), RD_KAFKA_V_VALUE(buf, len),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE), RD_KAFKA_V_HEADERS(h),
                                RD_KAFKA_V_OPAQUE(o), RD_KAFKA_V_END);
                } while (e == RD_KAFKA_RESP_ERR__QUEUE_FULL && rd_kafka_poll(s->rk, 100) >= 0);
        }
        if (e) {
                mm_log(MM_LOG_ERROR, "cannot produce attachment %s: %s", a->id,
                       rd_kafka_err2str(e));
                if (h)
                        rd_kafka_headers_destroy(h);
                free(buf);
                if (o)
                        free(o->path);
                free(o);
                s->att_failed++;
                return;
        }
        s->att_sent++;
        s->att_skipped += a->skipped ? 1 : 0;
        rd_kafka_poll(s->rk, 0);
}

/* Sends every attachment the exports named, once per id. A missing
 * attachments topic is said once (messages to it would each fail only
 * after a long timeout): they all count as failed. */
static void att_send_all(submit_t *s) {
        char err[512];
        mm_export_att_t a;
        size_t n = s->atts ? mm_export_atts_count(s->atts) : 0;
        if (n && mm_attach_topic_check(s->rk, s->att_topic, 5000, err, sizeof(err)) > 0) {
                fprintf(stderr, "minutes-submit: %s\n", err);
                for (size_t i = 0; i < n; i++)
                        s->att_failed += (size_t)mm_export_atts_pick(s->atts, i, s->att_max, &a);
                return;
        }
        for (size_t i = 0; i < n; i++) {
                size_t len = 0;
                char *buf = NULL;
                if (!mm_export_atts_pick(s->atts, i, s->att_max, &a))
                        continue;
                if (a.file &&
                    !(buf = mm_buf_read_file(a.file, s->att_max, &len, err, sizeof(err)))) {
                        printf("%s -> not sent: %s\n", a.file, err);
                        mm_log(MM_LOG_ERROR, "%s", err);
                        s->att_failed++;
                        continue;
                }
                att_produce(s, &a, buf, len);
        }
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Is the file at `path` an export (a source adapter sniffs it)? */
static int is_export_file(submit_t *s, const char *path) {
        char err[256];
        size_t len = 0;
        char *buf = mm_buf_read_file(path, s->max_bytes, &len, err, sizeof(err));
        if (!buf)
                return 0;
        const mm_source_adapter_t *a = mm_source_detect(buf, len, NULL);
        int r = a && a->sniff && a->sniff(buf, len);
        free(buf);
        return r;
}

/* File name without directory and extension, into out. */
static void stem_of(const char *path, char *out, size_t cap) {
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        snprintf(out, cap, "%s", base);
        char *dot = strrchr(out, '.');
        if (dot && dot != out)
                *dot = '\0';
}

static void submit_path(submit_t *s, const char *path);

/* A directory: its exports first, then the other files that are no
 * attachment or rendering of an export, then the subdirectories. */
static void submit_dir_entries(submit_t *s, char **names, size_t n) {
        int *kind = calloc(n ? n : 1, sizeof(int)); /* 0 file, 1 export, 2 dir */
        char **stems = NULL, stem[NAME_MAX + 1], abs[PATH_MAX];
        size_t nstems = 0, capstems = 0;
        if (!kind)
                return;
        for (size_t i = 0; i < n; i++) {
                struct stat st;
                if (stat(names[i], &st) == 0 && S_ISDIR(st.st_mode))
                        kind[i] = 2;
                else if (is_export_file(s, names[i]))
                        kind[i] = 1;
                if (kind[i] == 1) {
                        stem_of(names[i], stem, sizeof(stem));
                        list_add(&stems, &nstems, &capstems, stem);
                        submit_file(s, names[i]);
                }
        }
        for (size_t i = 0; i < n; i++) {
                if (kind[i] != 0)
                        continue;
                stem_of(names[i], stem, sizeof(stem));
                int part = list_has(s->skip, s->nskip, realpath(names[i], abs) ? abs : names[i]);
                if (part && s->attachments) {
                        mm_log(MM_LOG_DEBUG, "%s: an attachment of an export: sent as one",
                               names[i]);
                        continue;
                }
                if (part || list_has(stems, nstems, stem)) {
                        printf("%s -> not sent: part of an export (an attachment or another "
                               "rendering)\n",
                               names[i]);
                        s->skipped++;
                        continue;
                }
                submit_file(s, names[i]);
        }
        for (size_t i = 0; i < n; i++)
                if (kind[i] == 2)
                        submit_path(s, names[i]);
        for (size_t i = 0; i < nstems; i++)
                free(stems[i]);
        free(stems);
        free(kind);
}

/* Submits a file, or every regular file below a directory (sorted). */
static void submit_path(submit_t *s, const char *path) {
        struct stat st;
        if (stat(path, &st) != 0) {
                printf("%s -> not sent: %s\n", path, strerror(errno));
                mm_log(MM_LOG_ERROR, "%s: %s", path, strerror(errno));
                s->failed++;
                return;
        }
        if (!S_ISDIR(st.st_mode)) {
                submit_file(s, path);
                return;
        }
        DIR *d = opendir(path);
        if (!d) {
                mm_log(MM_LOG_ERROR, "%s: %s", path, strerror(errno));
                s->failed++;
                return;
        }
        char **names = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                size_t plen = strlen(path) + strlen(de->d_name) + 2;
                char *full = malloc(plen);
                if (!full)
                        break;
                snprintf(full, plen, "%s/%s", path, de->d_name);
                list_add(&names, &n, &cap, full);
                free(full);
        }
        closedir(d);
        if (n)
                qsort(names, n, sizeof(char *), cmp_str);
        submit_dir_entries(s, names, n);
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
}

/* Loads the options into *cfgp. Returns -1 to go on, else the exit status
 * (0 after --help, 2 on a usage error, whose message it printed). The
 * caller destroys *cfgp either way. */
static int load_options(int argc, char **argv, mm_config_t **cfgp) {
        char err[1024];
        mm_config_t *cfg = mm_config_new(options, sizeof(options) / sizeof(options[0]));
        *cfgp = cfg;
        if (!cfg || mm_config_load(cfg, argc, argv, err, sizeof(err)) != 0) {
                fprintf(stderr, "minutes-submit: %s\n", cfg ? err : "out of memory");
                return 2;
        }
        if (mm_config_help_requested(cfg)) {
                mm_config_print_help(cfg, stdout,
                                     "Usage: minutes-submit [OPTIONS] FILE|DIR...\n\n"
                                     "Publishes documents to the raw topic as CloudEvents "
                                     "(binary mode), keyed by municipality.");
                return 0;
        }
        if (mm_log_set_level_name(mm_config_get_str(cfg, "log-level")) != 0) {
                fprintf(stderr, "minutes-submit: unknown log-level\n");
                return 2;
        }
        long long bt = mm_config_get_int(cfg, "broker-timeout-ms");
        if (bt < 1 || bt > 600000) {
                fprintf(stderr, "minutes-submit: --broker-timeout-ms must be 1..600000\n");
                return 2;
        }
        if (mm_config_arg_count(cfg) == 0) {
                fprintf(stderr, "minutes-submit: no FILE or DIR given (see --help)\n");
                return 2;
        }
        if (mm_attach_switch(mm_config_get_str(cfg, "attachments")) < 0) {
                fprintf(stderr, "minutes-submit: --attachments must be on or off\n");
                return 2;
        }
        return -1;
}

/* Sets up s from the options, with the parser (for exports and inferred
 * municipalities) and the kommune names. Export folders are named in
 * Danish local time, so TZ becomes Europe/Copenhagen. */
static int submit_init(submit_t *s, const mm_config_t *cfg, char *err, size_t errsz) {
        memset(s, 0, sizeof(*s));
        atomic_init(&s->checking, 1); /* until check_brokers: rd_kafka_new connects at once */
        atomic_init(&s->all_down, 0);
        s->topic = mm_config_get_str(cfg, "topic");
        s->municipality = mm_config_get_str(cfg, "municipality");
        s->source = mm_config_get_str(cfg, "source");
        s->max_bytes = (size_t)mm_config_get_int(cfg, "max-doc-bytes");
        s->attachments = mm_attach_switch(mm_config_get_str(cfg, "attachments")) == 1;
        s->att_topic = mm_config_get_str(cfg, "attachments-topic");
        s->att_max = (size_t)mm_config_get_int(cfg, "attachment-max-bytes");
        s->atts = mm_export_atts_new();
        setenv("TZ", "Europe/Copenhagen", 1);
        tzset();
        mm_extract_global_init();
        s->parser = mm_parser_new(s->max_bytes, err, errsz);
        s->cls = mm_classify_new(err, errsz);
        if (!s->parser || !s->cls || !s->atts) {
                mm_parser_destroy(s->parser);
                mm_classify_destroy(s->cls);
                mm_export_atts_destroy(s->atts);
                s->parser = NULL;
                s->cls = NULL;
                s->atts = NULL;
                return -1;
        }
        return 0;
}

/* librdkafka's log through mm_log (JSON), except while the brokers are
 * first asked: a broker that does not answer is then reported once, by
 * check_brokers, not by a log line per connection attempt. */
static void submit_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
        submit_t *s = rd_kafka_opaque(rk);
        if (s && atomic_load(&s->checking) && level > 0 && level <= 5)
                return;
        mm_kafka_log_cb(rk, level, fac, buf);
}

/* librdkafka's errors: every broker down is noted for check_brokers;
 * after the check they are logged (delivery reports say what failed). */
static void submit_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
        submit_t *s = opaque;
        (void)rk;
        if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || err == RD_KAFKA_RESP_ERR__RESOLVE)
                atomic_store(&s->all_down, 1);
        if (!atomic_load(&s->checking))
                mm_log(MM_LOG_ERROR, "Kafka: %s: %s", rd_kafka_err2name(err), reason);
}

/* Asks the brokers for metadata, in steps of at most 250 ms, until one
 * answers, every broker is reported down (a refused connection, an
 * unknown host), or timeout_ms pass. Returns 0 when one answered, else
 * -1 with a one-line reason in err. */
static int check_brokers(submit_t *s, const char *brokers, int timeout_ms, char *err,
                         size_t errsz) {
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR__TIMED_OUT;
        struct timespec t0, t;
        long waited = 0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        while (waited < timeout_ms) {
                int step = timeout_ms - waited < 250 ? (int)(timeout_ms - waited) : 250;
                e = rd_kafka_metadata(s->rk, 0, NULL, &md, step);
                if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
                        break;
                rd_kafka_poll(s->rk, 0); /* serves error_cb */
                if (atomic_load(&s->all_down))
                        break;
                clock_gettime(CLOCK_MONOTONIC, &t);
                waited = (t.tv_sec - t0.tv_sec) * 1000L + (t.tv_nsec - t0.tv_nsec) / 1000000L;
        }
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR && md->broker_cnt > 0) {
                rd_kafka_metadata_destroy(md);
                atomic_store(&s->checking, 0);
                return 0;
        }
        /* checking stays 1: the producer is destroyed without more log lines */
        if (md)
                rd_kafka_metadata_destroy(md);
        if (atomic_load(&s->all_down)) {
                snprintf(err, errsz,
                         "no Kafka broker answered at %s (every broker is down or unknown): "
                         "check -b/--brokers and that Kafka is running",
                         brokers);
                return -1;
        }
        snprintf(err, errsz,
                 "no Kafka broker answered at %s within %d ms (%s): check -b/--brokers and that "
                 "Kafka is running",
                 brokers, timeout_ms, e ? rd_kafka_err2str(e) : "no brokers in the metadata");
        return -1;
}

/* The idempotent producer, with -X/kafka.* properties applied; its
 * delivery reports are counted in s. */
static int open_producer(submit_t *s, const mm_config_t *cfg, char *err, size_t errsz) {
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        if (mm_kafka_conf_set(conf, "bootstrap.servers", mm_config_get_str(cfg, "brokers"), err,
                              errsz) ||
            mm_kafka_conf_set(conf, "client.id", "minutes-submit", err, errsz) ||
            mm_kafka_conf_set(conf, "enable.idempotence", "true", err, errsz) ||
            mm_kafka_conf_set(conf, "message.max.bytes", "104857600", err, errsz) ||
            mm_kafka_conf_set(conf, "linger.ms", "20", err, errsz) ||
            mm_kafka_conf_apply(conf, cfg, err, errsz)) {
                rd_kafka_conf_destroy(conf);
                return -1;
        }
        rd_kafka_conf_set_opaque(conf, s);
        rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
        rd_kafka_conf_set_log_cb(conf, submit_log_cb);
        rd_kafka_conf_set_error_cb(conf, submit_error_cb);
        s->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, errsz);
        if (!s->rk) {
                rd_kafka_conf_destroy(conf);
                return -1;
        }
        return 0; /* conf is owned by s->rk */
}

/* Frees the parser, the kommune names and the lists of s. */
static void submit_free(submit_t *s) {
        mm_parser_destroy(s->parser);
        mm_classify_destroy(s->cls);
        for (size_t i = 0; i < s->nskip; i++)
                free(s->skip[i]);
        free(s->skip);
        for (size_t i = 0; i < s->nshas; i++)
                free(s->shas[i]);
        free(s->shas);
        mm_export_atts_destroy(s->atts);
}

/* Waits for every delivery report (message.timeout.ms bounds it), closes
 * the producer, prints the summary and frees s. Returns the exit status:
 * 1 if a file failed or a message was not delivered, else 0. */
static int submit_finish(submit_t *s) {
        while (rd_kafka_outq_len(s->rk) > 0)
                rd_kafka_flush(s->rk, 1000);
        rd_kafka_destroy(s->rk);
        s->rk = NULL;
        int rc = s->failed > 0 || s->delivered != s->sent || s->att_failed > 0 ||
                                 s->att_delivered != s->att_sent
                         ? 1
                         : 0;
        printf("submitted %zu, delivered %zu, failed %zu, not sent (export parts) %zu\n", s->sent,
               s->delivered, s->failed, s->skipped);
        if (s->attachments && (s->att_sent || s->att_failed))
                printf("attachments: submitted %zu (%zu of them empty records: too_large or "
                       "not_in_export), delivered %zu, failed %zu\n",
                       s->att_sent, s->att_skipped, s->att_delivered, s->att_failed);
        submit_free(s);
        return rc;
}

int main(int argc, char **argv) {
        char err[1024];
        mm_config_t *cfg;
        submit_t s;
        mm_log_set_prog("minutes-submit");
        int rc = load_options(argc, argv, &cfg);
        if (rc >= 0) {
                mm_config_destroy(cfg);
                return rc;
        }
        if (submit_init(&s, cfg, err, sizeof(err)) != 0) {
                mm_log(MM_LOG_ERROR, "parser: %s", err);
                mm_config_destroy(cfg);
                return 1;
        }
        if (open_producer(&s, cfg, err, sizeof(err)) != 0) {
                fprintf(stderr, "minutes-submit: %s\n", err);
                submit_free(&s);
                mm_config_destroy(cfg);
                return 2;
        }
        if (check_brokers(&s, mm_config_get_str(cfg, "brokers"),
                          (int)mm_config_get_int(cfg, "broker-timeout-ms"), err,
                          sizeof(err)) != 0) {
                fprintf(stderr, "minutes-submit: %s\n", err);
                rd_kafka_destroy(s.rk);
                submit_free(&s);
                mm_config_destroy(cfg);
                return 1;
        }
        for (size_t i = 0; i < mm_config_arg_count(cfg); i++)
                submit_path(&s, mm_config_arg(cfg, i));
        att_send_all(&s);
        rc = submit_finish(&s);
        mm_config_destroy(cfg);
        return rc;
}
