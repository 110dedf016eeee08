/*
 * minutes-worker: wires the modules together. The options table, the
 * signal handlers and --migrate live here; the consumer loop is mm_worker
 * (common/ingest/mm_worker.c), which follows librdkafka's examples/consumer.c.
 *
 *   minutes-worker --migrate --pg OWNER_URL
 *   minutes-worker -b BROKERS --pg WORKER_URL [-X key=value ...]
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "mm_config.h"
#include "mm_envelope.h"
#include "mm_extract.h"
#include "mm_log.h"
#include "mm_store.h"
#include "mm_worker.h"

/* Embedded migrations (worker/embed_sql.cmake). */
extern const char *const mm_sql_names[];
extern const char *const mm_sql_texts[];
extern const size_t mm_sql_count;

static const mm_config_option_t options[] = {
        {"config", 'c', MM_CONFIG_STRING, NULL, "MM_CONFIG", 0,
         "config file of key=value lines (keys as below; kafka.KEY=VALUE for librdkafka)"},
        {"brokers", 'b', MM_CONFIG_STRING, "localhost:9092", "MM_BROKERS", 0,
         "Kafka bootstrap servers"},
        {"group", 'g', MM_CONFIG_STRING, "minutes-ingest", "MM_GROUP", 0, "consumer group id"},
        {"topic", 't', MM_CONFIG_STRING, "minutes.raw", "MM_TOPIC", 0, "raw document topic"},
        {"dlq-topic", 0, MM_CONFIG_STRING, "minutes.raw.dlq", "MM_DLQ_TOPIC", 0,
         "dead-letter topic"},
        {"attachments-topic", 0, MM_CONFIG_STRING, "minutes.attachments", "MM_ATTACHMENTS_TOPIC", 0,
         "attachment topic (docs/attachments.md)"},
        {"attachments", 0, MM_CONFIG_BOOL, "true", "MM_ATTACHMENTS", 0,
         "also consume the attachments topic: extract and store each attachment's text"},
        {"pg", 0, MM_CONFIG_STRING, NULL, "MM_PG_URL", 1,
         "PostgreSQL URL or conninfo (unset: libpq PG* environment variables)"},
        {"batch-size", 0, MM_CONFIG_INT, "500", "MM_BATCH_SIZE", 0,
         "max messages per database transaction"},
        {"batch-ms", 0, MM_CONFIG_INT, "200", "MM_BATCH_MS", 0,
         "max time a batch collects messages (ms)"},
        {"shutdown-timeout-ms", 0, MM_CONFIG_INT, "10000", "MM_SHUTDOWN_TIMEOUT_MS", 0,
         "on SIGTERM/SIGINT: finish, commit and close within this time (ms)"},
        {"max-doc-bytes", 0, MM_CONFIG_SIZE, MM_ENVELOPE_MAX_DOC_BYTES, "MM_MAX_DOC_BYTES", 0,
         "larger documents are dead-lettered (too_large); minutes-submit has the same default"},
        /* extraction limits (mm_extract; output is capped at max-doc-bytes) */
        {"extract-max-pages", 0, MM_CONFIG_INT, "2000", "MM_EXTRACT_MAX_PAGES", 0,
         "PDFs with more pages are dead-lettered (extract_limit)"},
        {"extract-max-pdf-inflated", 0, MM_CONFIG_SIZE, "256MiB", "MM_EXTRACT_MAX_PDF_INFLATED", 0,
         "cap on the inflated size of a PDF's Flate streams (extract_limit)"},
        {"extract-max-html-depth", 0, MM_CONFIG_INT, "256", "MM_EXTRACT_MAX_HTML_DEPTH", 0,
         "deeper HTML element nesting is dead-lettered (html_too_deep)"},
        {"extract-max-html-nodes", 0, MM_CONFIG_INT, "500000", "MM_EXTRACT_MAX_HTML_NODES", 0,
         "HTML with more elements and text nodes is dead-lettered (html_too_many_nodes)"},
        {"extract-cpu-seconds", 0, MM_CONFIG_INT, "30", "MM_EXTRACT_CPU_SECONDS", 0,
         "CPU time of the extraction child per document (extract_limit)"},
        {"extract-max-memory", 0, MM_CONFIG_SIZE, "512MiB", "MM_EXTRACT_MAX_MEMORY", 0,
         "address space the extraction child may add (extract_limit)"},
        {"extract-sandbox", 0, MM_CONFIG_BOOL, "true", "MM_EXTRACT_SANDBOX", 0,
         "extract PDF and HTML, and run the export adapters, in a forked child with CPU and "
         "memory limits"},
        /* OCR of scanned PDF pages (mm_ocr, docs/ocr.md) */
        {"ocr", 0, MM_CONFIG_BOOL, "true", "MM_OCR", 0,
         "OCR (Tesseract, Danish) the scanned pages of PDFs: pages with no text layer and an "
         "image"},
        {"extract-max-ocr-pages", 0, MM_CONFIG_INT, "50", "MM_EXTRACT_MAX_OCR_PAGES", 0,
         "scanned pages OCRed per document; later ones stay empty (a warning says so)"},
        {"ocr-seconds", 0, MM_CONFIG_INT, "90", "MM_OCR_SECONDS", 0,
         "OCR budget per document in CPU seconds, added to extract-cpu-seconds once a page is "
         "OCRed; scanned pages past it stay empty"},
        {"ocr-min-confidence", 0, MM_CONFIG_INT, "50", "MM_OCR_MIN_CONFIDENCE", 0,
         "an OCRed page whose mean word confidence (0-100) is lower stays empty"},
        {"ocr-dpi", 0, MM_CONFIG_INT, "200", "MM_OCR_DPI", 0,
         "resolution scanned pages are rendered at for OCR (70-600)"},
        {"ocr-tessdata", 0, MM_CONFIG_STRING, MM_EXTRACT_DEFAULT_OCR_TESSDATA, "MM_OCR_TESSDATA", 0,
         "folder of Tesseract's dan.traineddata (tesseract-ocr-dan)"},
        {"retry-max-ms", 0, MM_CONFIG_INT, "5000", "MM_RETRY_MAX_MS", 0,
         "cap of the exponential backoff while PostgreSQL or the DLQ is unavailable (ms)"},
        {"metrics-port", 0, MM_CONFIG_INT, "0", "MM_METRICS_PORT", 0,
         "Prometheus /metrics port (0 = off)"},
        {"metrics-bind", 0, MM_CONFIG_STRING, "127.0.0.1", "MM_METRICS_BIND", 0,
         "address the metrics server binds to"},
        {"log-level", 0, MM_CONFIG_STRING, "info", "MM_LOG_LEVEL", 0, "debug, info, warn or error"},
        /* liveness and parse-quality metrics (mm_metrics) */
        {"liveness-timeout-ms", 0, MM_CONFIG_INT, "60000", "MM_LIVENESS_TIMEOUT_MS", 0,
         "/healthz fails when the main loop has not turned for this long (ms, 0 = never)"},
        {"low-confidence", 0, MM_CONFIG_STRING, "0.6", "MM_LOW_CONFIDENCE", 0,
         "documents parsed with a confidence below this (0-1) are counted in "
         "mm_documents_low_confidence_total"},
        {"migrate", 0, MM_CONFIG_BOOL, "false", "MM_MIGRATE", 0,
         "apply the embedded schema migrations (as the owner role) and exit"},
        /* faults: bounded waits, batch memory, dead letters in SQL, poison inputs */
        {"batch-max-bytes", 0, MM_CONFIG_SIZE, "16MiB", "MM_BATCH_MAX_BYTES", 0,
         "a batch is written once its messages hold this many bytes"},
        {"dead-letter-max-bytes", 0, MM_CONFIG_SIZE, MM_ENVELOPE_MAX_DOC_BYTES,
         "MM_DEAD_LETTER_MAX_BYTES", 0,
         "dead letters up to this size keep their bytes in table dead_letters"},
        {"max-crashes", 0, MM_CONFIG_INT, "2", "MM_MAX_CRASHES", 0,
         "an input that workers disappeared with this often is tested in the sandbox and "
         "dead-lettered only if it fails there (common/ingest/mm_attempts.h); 0 = off"},
        {"rebalance-wait-ms", 0, MM_CONFIG_INT, "10000", "MM_REBALANCE_WAIT_MS", 0,
         "longest wait for PostgreSQL or dead-letter acks inside a rebalance callback (ms)"},
        {"dlq-timeout-ms", 0, MM_CONFIG_INT, "30000", "MM_DLQ_TIMEOUT_MS", 0,
         "a dead-letter copy not acknowledged by then is retried (message.timeout.ms)"},
        {"pg-connect-timeout-s", 0, MM_CONFIG_INT, "10", "MM_PG_CONNECT_TIMEOUT_S", 0,
         "libpq connect_timeout (s; 0 = libpq default)"},
        {"pg-startup-timeout-s", 0, MM_CONFIG_INT, "60", "MM_PG_STARTUP_TIMEOUT_S", 0,
         "at start-up, give up (exit 1) when PostgreSQL is not reachable for this long "
         "(s; 0 = retry for ever)"},
        {"pg-keepalives-idle-s", 0, MM_CONFIG_INT, "30", "MM_PG_KEEPALIVES_IDLE_S", 0,
         "TCP keepalives on the PostgreSQL connection after this idle time (s; 0 = off)"},
        {"pg-statement-timeout-ms", 0, MM_CONFIG_INT, "60000", "MM_PG_STATEMENT_TIMEOUT_MS", 0,
         "statement_timeout of the worker's session (ms; 0 = none)"},
        {"pg-lock-timeout-ms", 0, MM_CONFIG_INT, "10000", "MM_PG_LOCK_TIMEOUT_MS", 0,
         "lock_timeout of the worker's session (ms; 0 = none)"},
};

/* --help's headings; an option left out is listed under "Other". */
static const char *const g_kafka[] = {"brokers",
                                      "group",
                                      "topic",
                                      "dlq-topic",
                                      "dlq-timeout-ms",
                                      "rebalance-wait-ms",
                                      "attachments",
                                      "attachments-topic",
                                      NULL};
static const char *const g_pg[] = {"pg",
                                   "pg-connect-timeout-s",
                                   "pg-startup-timeout-s",
                                   "pg-keepalives-idle-s",
                                   "pg-statement-timeout-ms",
                                   "pg-lock-timeout-ms",
                                   "retry-max-ms",
                                   NULL};
static const char *const g_batch[] = {"batch-size", "batch-ms", "batch-max-bytes",
                                      "shutdown-timeout-ms", NULL};
static const char *const g_docs[] = {"max-doc-bytes", "dead-letter-max-bytes", "max-crashes", NULL};
static const char *const g_extract[] = {"extract-max-pages",      "extract-max-pdf-inflated",
                                        "extract-max-html-depth", "extract-max-html-nodes",
                                        "extract-cpu-seconds",    "extract-max-memory",
                                        "extract-sandbox",        "ocr",
                                        "extract-max-ocr-pages",  "ocr-seconds",
                                        "ocr-min-confidence",     "ocr-dpi",
                                        "ocr-tessdata",           NULL};
static const char *const g_metrics[] = {"metrics-port", "metrics-bind", "liveness-timeout-ms",
                                        "low-confidence", NULL};
static const char *const g_general[] = {"config", "log-level", "migrate", NULL};
static const mm_config_group_t groups[] = {
        {"General", g_general},
        {"Kafka", g_kafka},
        {"PostgreSQL (waits and retries)", g_pg},
        {"Batches and shutdown", g_batch},
        {"Documents, dead letters and poison inputs", g_docs},
        {"Extraction limits, sandbox and OCR (PDF, HTML)", g_extract},
        {"Metrics and health (/metrics, /healthz, /readyz)", g_metrics},
};

static volatile sig_atomic_t run = 1;

/* First SIGTERM/SIGINT asks for a graceful stop; a second one exits at
 * once. */
static void on_signal(int sig) {
        (void)sig;
        if (!run)
                _exit(1);
        run = 0;
}

/* The hard deadline of a graceful stop: shutdown-timeout-ms plus 2 s after
 * the first signal, the process ends even if the stop is not done. A thread
 * rather than alarm() in the handler, so the handler only sets the flag. */
static void *watchdog(void *arg) {
        unsigned ms = *(unsigned *)arg;
        struct timespec tick = {0, 100 * 1000 * 1000};
        struct timespec grace = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000 * 1000};
        while (run)
                nanosleep(&tick, NULL);
        nanosleep(&grace, NULL);
        mm_log(MM_LOG_ERROR, "shutdown deadline exceeded");
        _exit(1);
        return NULL;
}

static int do_migrate(mm_store_t *store) {
        char err[1024];
        if (mm_store_connect(store, err, sizeof(err)) != 0) {
                mm_log(MM_LOG_ERROR, "cannot connect to PostgreSQL: %s", err);
                return 1;
        }
        int n = mm_store_migrate(store, mm_sql_names, mm_sql_texts, mm_sql_count, err, sizeof(err));
        if (n < 0) {
                mm_log(MM_LOG_ERROR, "migration failed: %s", err);
                return 1;
        }
        mm_log(MM_LOG_INFO, "migrations: %d applied, %zu known", n, mm_sql_count);
        return 0;
}

/* Seconds since an arbitrary start (CLOCK_MONOTONIC). */
static double now_s(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A reason when the parsed --pg names a port that is no number from 1 to
 * 65535 (libpq only says so at each connect, as if the server were down),
 * else NULL. */
static const char *bad_port(const PQconninfoOption *opts) {
        for (const PQconninfoOption *o = opts; o->keyword; o++) {
                if (strcmp(o->keyword, "port") || !o->val || !*o->val)
                        continue;
                for (const char *p = o->val; *p;) { /* a list: host1,host2 */
                        char *end;
                        long v = strtol(p, &end, 10);
                        if (end == p || v < 1 || v > 65535 || (*end && *end != ','))
                                return "the port is not a number from 1 to 65535";
                        p = *end ? end + 1 : end;
                }
        }
        return NULL;
}

/* Start-up: waits until PostgreSQL answers, with backoff, for at most
 * pg-startup-timeout-s (it may be starting; a wrong --pg must not retry
 * for ever). Returns 0 when it answered (the probe connection is closed
 * again: mm_worker connects its own), 1 when it gave up or was stopped
 * (logged), 2 when --pg cannot be parsed at all. */
static int wait_for_pg(const mm_config_t *cfg) {
        char err[1024], masked[1024], *perr = NULL;
        const char *pg = mm_config_get_str(cfg, "pg");
        mm_config_mask_secret(pg ? pg : "(PG* environment)", masked, sizeof(masked));
        PQconninfoOption *opts = PQconninfoParse(pg ? pg : "", &perr);
        if (!opts) {
                mm_log(MM_LOG_ERROR, "--pg %s is not a PostgreSQL URL or conninfo: %s", masked,
                       perr ? perr : "out of memory");
                PQfreemem(perr);
                return 2;
        }
        const char *bad = bad_port(opts);
        PQconninfoFree(opts);
        if (bad) {
                mm_log(MM_LOG_ERROR, "--pg %s cannot be used: %s", masked, bad);
                return 2;
        }
        long long limit = mm_config_get_int(cfg, "pg-startup-timeout-s");
        long long retry_max = mm_config_get_int(cfg, "retry-max-ms");
        mm_store_t *st = mm_store_new(pg, err, sizeof(err));
        if (!st) {
                mm_log(MM_LOG_ERROR, "%s", err);
                return 1;
        }
        mm_store_set_limits(st, mm_config_get_int(cfg, "pg-connect-timeout-s"), 0, 0, 0);
        double t0 = now_s();
        long long backoff = 100;
        int rc = 0;
        while (mm_store_connect(st, err, sizeof(err)) != 0) {
                double spent = now_s() - t0;
                if (!run || (limit > 0 && spent + (double)backoff / 1000.0 > (double)limit)) {
                        mm_log(MM_LOG_ERROR,
                               "giving up after %.1f s%s: PostgreSQL %s is not reachable "
                               "(pg-startup-timeout-s %lld): %s",
                               spent, run ? "" : " (stopped)", masked, limit, err);
                        rc = 1;
                        break;
                }
                mm_log(MM_LOG_WARN, "PostgreSQL %s not reachable, retrying in %lld ms: %s", masked,
                       backoff, err);
                usleep((useconds_t)backoff * 1000);
                backoff =
                        backoff * 2 > retry_max ? (retry_max > 100 ? retry_max : 100) : backoff * 2;
        }
        mm_store_destroy(st);
        return rc;
}

int main(int argc, char **argv) {
        char err[1024];
        mm_log_set_prog("minutes-worker");
        mm_config_t *cfg = mm_config_new(options, sizeof(options) / sizeof(options[0]));
        if (!cfg || mm_config_load(cfg, argc, argv, err, sizeof(err)) != 0) {
                fprintf(stderr, "minutes-worker: %s\n", cfg ? err : "out of memory");
                mm_config_destroy(cfg);
                return 2;
        }
        if (mm_config_help_requested(cfg)) {
                mm_config_print_help_groups(cfg, stdout,
                                            "Usage: minutes-worker [OPTIONS]\n"
                                            "       minutes-worker --migrate --pg OWNER_URL\n\n"
                                            "Consumes raw documents from Kafka, writes meetings "
                                            "to PostgreSQL, dead-letters what cannot be parsed.",
                                            groups, sizeof(groups) / sizeof(groups[0]));
                mm_config_destroy(cfg);
                return 0;
        }
        if (mm_config_arg_count(cfg) > 0) {
                fprintf(stderr, "minutes-worker: unexpected argument \"%s\" (see --help)\n",
                        mm_config_arg(cfg, 0));
                mm_config_destroy(cfg);
                return 2;
        }
        if (mm_log_set_level_name(mm_config_get_str(cfg, "log-level")) != 0) {
                fprintf(stderr, "minutes-worker: unknown log-level \"%s\"\n",
                        mm_config_get_str(cfg, "log-level"));
                mm_config_destroy(cfg);
                return 2;
        }
        mm_config_log(cfg);

        if (mm_config_get_bool(cfg, "migrate")) {
                char masked[1024];
                const char *pg = mm_config_get_str(cfg, "pg");
                mm_config_mask_secret(pg ? pg : "(PG* environment)", masked, sizeof(masked));
                mm_store_t *store = mm_store_new(pg, err, sizeof(err));
                if (!store) {
                        mm_log(MM_LOG_ERROR, "%s", err);
                        mm_config_destroy(cfg);
                        return 1;
                }
                mm_log(MM_LOG_INFO, "migrating %s", masked);
                int rc = do_migrate(store);
                mm_store_destroy(store);
                mm_config_destroy(cfg);
                return rc;
        }

        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        static unsigned hard_ms;
        hard_ms = (unsigned)mm_config_get_int(cfg, "shutdown-timeout-ms") + 2000;
        pthread_t wd;
        if (pthread_create(&wd, NULL, watchdog, &hard_ms) == 0)
                pthread_detach(wd);

        mm_worker_t *w = mm_worker_new(cfg, &run, err, sizeof(err));
        if (!w) {
                mm_log(MM_LOG_ERROR, "%s", err);
                mm_config_destroy(cfg);
                return 2;
        }
        int exit_code = wait_for_pg(cfg);
        if (exit_code == 0)
                exit_code = mm_worker_run(w);
        mm_worker_destroy(w);
        mm_config_destroy(cfg);
        mm_log(exit_code ? MM_LOG_ERROR : MM_LOG_INFO, "exiting with %d", exit_code);
        return exit_code;
}
