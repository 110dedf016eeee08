/*
 * minutes-source: polls the kommuner's FirstAgenda publishing API and
 * produces every new or changed publication to the raw topic (mm_poll).
 *
 *   minutes-source -b BROKERS --pg URL [--once] [--kommune NAME]...
 *                  [--base-url NAME=URL]... [--hosts FILE] [--interval S]
 *
 * The kommuner: all of common/data/firstagenda_hosts.tsv, or of --hosts
 * FILE (same two columns: kommune, host), narrowed by --kommune. This file
 * only wires modules together: options, the host table, the producer, the
 * metrics server and signals.
 */
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "mm_attach.h"
#include "mm_classify.h"
#include "mm_config.h"
#include "mm_envelope.h"
#include "mm_http.h"
#include "mm_kafka.h"
#include "mm_log.h"
#include "mm_metrics.h"
#include "mm_poll.h"
#include "mm_table.h"

static const mm_config_option_t options[] = {
        {"config", 'c', MM_CONFIG_STRING, NULL, "MM_CONFIG", 0,
         "config file of key=value lines (kafka.KEY=VALUE for librdkafka)"},
        {"brokers", 'b', MM_CONFIG_STRING, "localhost:9092", "MM_BROKERS", 0,
         "Kafka bootstrap servers"},
        {"topic", 't', MM_CONFIG_STRING, "minutes.raw", "MM_TOPIC", 0, "raw document topic"},
        {"pg", 0, MM_CONFIG_STRING, NULL, "MM_PG_URL", 1,
         "PostgreSQL URL or conninfo of the state (unset: libpq PG* environment variables)"},
        {"once", 0, MM_CONFIG_BOOL, "false", "MM_SOURCE_ONCE", 0,
         "poll every kommune once and exit: 0 when all were polled, 1 naming the failed"},
        {"kommune", 'k', MM_CONFIG_LIST, NULL, "MM_SOURCE_KOMMUNER", 0,
         "poll only this kommune (repeatable; environment and file: comma-separated)"},
        {"base-url", 0, MM_CONFIG_LIST, NULL, "MM_SOURCE_BASE_URLS", 0,
         "NAME=URL: poll kommune NAME at URL instead of https://HOST (repeatable)"},
        {"hosts", 0, MM_CONFIG_STRING, NULL, "MM_SOURCE_HOSTS", 0,
         "table of kommune<TAB>host lines instead of the built-in one"},
        {"interval", 0, MM_CONFIG_INT, "900", "MM_SOURCE_INTERVAL", 0,
         "seconds between two polls of a kommune"},
        {"threads", 0, MM_CONFIG_INT, "8", "MM_SOURCE_THREADS", 0,
         "kommuner polled at the same time (one request at a time per kommune)"},
        {"max-attempts", 0, MM_CONFIG_INT, "3", "MM_SOURCE_MAX_ATTEMPTS", 0,
         "fetches of a body that is not JSON before it is produced anyway (dead letter)"},
        {"contact", 0, MM_CONFIG_STRING, NULL, "MM_SOURCE_CONTACT", 0,
         "operator contact (mail or URL) in the User-Agent, so a kommune can reach you"},
        {"request-interval-ms", 0, MM_CONFIG_INT, "1000", "MM_SOURCE_REQUEST_INTERVAL_MS", 0,
         "least time between two requests to one host (ms)"},
        {"connect-timeout-ms", 0, MM_CONFIG_INT, "10000", "MM_SOURCE_CONNECT_TIMEOUT_MS", 0,
         "HTTP connect timeout (ms)"},
        {"timeout-ms", 0, MM_CONFIG_INT, "60000", "MM_SOURCE_TIMEOUT_MS", 0,
         "HTTP timeout of a whole request (ms)"},
        {"max-body-bytes", 0, MM_CONFIG_SIZE, MM_ENVELOPE_MAX_DOC_BYTES, "MM_SOURCE_MAX_BODY_BYTES",
         0, "larger HTTP answers are refused"},
        {"http-retries", 0, MM_CONFIG_INT, "4", "MM_SOURCE_HTTP_RETRIES", 0,
         "retries of a request after a timeout, a connection fault, 5xx or 429"},
        {"backoff-ms", 0, MM_CONFIG_INT, "2000", "MM_SOURCE_BACKOFF_MS", 0,
         "first retry delay ceiling (ms; doubles, with jitter)"},
        {"backoff-max-ms", 0, MM_CONFIG_INT, "60000", "MM_SOURCE_BACKOFF_MAX_MS", 0,
         "largest retry delay (ms)"},
        {"max-retry-after-ms", 0, MM_CONFIG_INT, "300000", "MM_SOURCE_MAX_RETRY_AFTER_MS", 0,
         "a longer Retry-After ends the poll of the host (retried next cycle)"},
        {"ca-file", 0, MM_CONFIG_STRING, NULL, "MM_SOURCE_CA_FILE", 0,
         "CA bundle for TLS verification (unset: the system's)"},
        {"source", 's', MM_CONFIG_STRING, "minutes-source", "MM_SOURCE", 0,
         "CloudEvents source attribute prefix (ce_source = PREFIX/HOST)"},
        {"silent-days", 0, MM_CONFIG_INT, "21", "MM_SOURCE_SILENT_DAYS", 0,
         "a kommune that released nothing for longer is silent (metric for the alert)"},
        {"metrics-port", 0, MM_CONFIG_INT, "0", "MM_METRICS_PORT", 0,
         "Prometheus /metrics and /healthz port (0 = off)"},
        {"metrics-bind", 0, MM_CONFIG_STRING, "127.0.0.1", "MM_METRICS_BIND", 0,
         "address the metrics server binds to"},
        {"liveness-timeout-ms", 0, MM_CONFIG_INT, "60000", "MM_LIVENESS_TIMEOUT_MS", 0,
         "/healthz fails when the main loop has not turned for this long (ms, 0 = never)"},
        {"attachments", 0, MM_CONFIG_STRING, "on", "MM_ATTACHMENTS", 0,
         "on: fetch every attachment (Bilag) of the publications and produce it to the "
         "attachments topic; off: publications only"},
        {"attachments-topic", 0, MM_CONFIG_STRING, MM_ATTACH_DEFAULT_TOPIC, "MM_ATTACHMENTS_TOPIC",
         0, "topic of the attachments (must exist when attachments are on)"},
        {"attachment-max-bytes", 0, MM_CONFIG_SIZE, MM_ENVELOPE_MAX_DOC_BYTES,
         "MM_ATTACHMENT_MAX_BYTES", 0,
         "a larger attachment is not downloaded past this size: an empty record "
         "(attachment-skipped: too_large) with its size is produced instead"},
        {"attachments-per-poll", 0, MM_CONFIG_INT, "0", "MM_ATTACHMENTS_PER_POLL", 0,
         "at most this many attachment requests per poll of a kommune, the rest in the next "
         "polls (0 = all): bounds how long a first sync holds a kommune's poll"},
        {"log-level", 0, MM_CONFIG_STRING, "info", "MM_LOG_LEVEL", 0, "debug, info, warn or error"},
};

static volatile sig_atomic_t stop_flag = 0;

static void on_signal(int sig) {
        (void)sig;
        if (stop_flag)
                _exit(1);
        stop_flag = 1;
}

/* The kommuner to poll: owned strings. */
typedef struct hosts_s {
        mm_poll_host_t *h;
        char **own; /* every string the entries point at */
        size_t n, nown;
} hosts_t;

static const char *keep(hosts_t *hs, char *s) {
        char **no = realloc(hs->own, (hs->nown + 1) * sizeof(char *));
        if (!no || !s) {
                free(s);
                return NULL;
        }
        hs->own = no;
        hs->own[hs->nown++] = s;
        return s;
}

static void hosts_free(hosts_t *hs) {
        for (size_t i = 0; i < hs->nown; i++)
                free(hs->own[i]);
        free(hs->own);
        free(hs->h);
}

/* The official name of a kommune as the user or a table writes it. */
static const char *official(const mm_classify_t *cls, const char *name) {
        const char *o = mm_envelope_kommune(cls, name);
        return o ? o : name;
}

/* Adds kommune `name` at `host`. */
static int add_host(hosts_t *hs, const mm_classify_t *cls, const char *name, const char *host) {
        mm_poll_host_t *nh = realloc(hs->h, (hs->n + 1) * sizeof(*nh));
        char *url;
        if (!nh || asprintf(&url, "https://%s", host) < 0)
                return -1;
        hs->h = nh;
        nh[hs->n].kommune = keep(hs, strdup(official(cls, name)));
        nh[hs->n].host = keep(hs, strdup(host));
        nh[hs->n].base_url = keep(hs, url);
        if (!nh[hs->n].kommune || !nh[hs->n].host || !nh[hs->n].base_url)
                return -1;
        hs->n++;
        return 0;
}

/* The host table: --hosts FILE, else the built-in table. */
static int load_table(hosts_t *hs, const mm_classify_t *cls, const char *file, char *err,
                      size_t esz) {
        if (!file) {
                mm_table_t *t = mm_table_load("firstagenda_hosts", 2, err, esz);
                if (!t)
                        return -1;
                int rc = 0;
                for (size_t i = 0; i < mm_table_rows(t) && rc == 0; i++)
                        rc = add_host(hs, cls, mm_table_get(t, i, 0), mm_table_get(t, i, 1));
                mm_table_destroy(t);
                return rc;
        }
        FILE *fp = fopen(file, "r");
        char line[1024];
        if (!fp) {
                snprintf(err, esz, "--hosts %s: cannot open", file);
                return -1;
        }
        int rc = 0, ln = 0;
        while (rc == 0 && fgets(line, sizeof(line), fp)) {
                ln++;
                line[strcspn(line, "\r\n")] = '\0';
                if (!line[0] || line[0] == '#')
                        continue;
                char *tab = strchr(line, '\t');
                if (!tab || !tab[1] || strchr(tab + 1, '\t')) {
                        snprintf(err, esz, "--hosts %s:%d: expected kommune<TAB>host", file, ln);
                        rc = -1;
                        break;
                }
                *tab = '\0';
                rc = add_host(hs, cls, line, tab + 1);
        }
        fclose(fp);
        return rc;
}

static long find_host(const hosts_t *hs, const mm_classify_t *cls, const char *name) {
        const char *o = official(cls, name);
        for (size_t i = 0; i < hs->n; i++)
                if (!strcasecmp(hs->h[i].kommune, o) || !strcasecmp(hs->h[i].host, name))
                        return (long)i;
        return -1;
}

/* Applies --base-url NAME=URL: a kommune of the table gets another URL
 * (its state stays keyed by its host); another name is added, keyed by
 * the URL. */
static int apply_base_urls(hosts_t *hs, const mm_classify_t *cls, char **items, size_t n, char *err,
                           size_t esz) {
        for (size_t i = 0; i < n; i++) {
                char *eq = strchr(items[i], '=');
                if (!eq || eq == items[i] || !eq[1]) {
                        snprintf(err, esz, "--base-url needs NAME=URL, got \"%s\"", items[i]);
                        return -1;
                }
                *eq = '\0';
                long k = find_host(hs, cls, items[i]);
                if (k < 0) {
                        const char *host = strstr(eq + 1, "://");
                        if (add_host(hs, cls, items[i], host ? host + 3 : eq + 1) != 0)
                                goto oom;
                        k = (long)hs->n - 1;
                }
                if (!(hs->h[k].base_url = keep(hs, strdup(eq + 1))))
                        goto oom;
        }
        return 0;
oom:
        snprintf(err, esz, "out of memory");
        return -1;
}

/* Keeps only the kommuner named by --kommune (each must exist). */
static int select_kommuner(hosts_t *hs, const mm_classify_t *cls, char **names, size_t n, char *err,
                           size_t esz) {
        if (n == 0)
                return 0;
        mm_poll_host_t *sel = calloc(n, sizeof(*sel));
        size_t m = 0;
        if (!sel) {
                snprintf(err, esz, "out of memory");
                return -1;
        }
        for (size_t i = 0; i < n; i++) {
                long k = find_host(hs, cls, names[i]);
                if (k < 0) {
                        snprintf(err, esz, "--kommune %s: not in the host table", names[i]);
                        free(sel);
                        return -1;
                }
                sel[m++] = hs->h[k];
        }
        free(hs->h);
        hs->h = sel;
        hs->n = m;
        return 0;
}

/* The kommuner to poll, from the options. */
static int make_hosts(hosts_t *hs, const mm_config_t *cfg, char *err, size_t esz) {
        size_t nk = 0, nb = 0;
        memset(hs, 0, sizeof(*hs));
        mm_classify_t *cls = mm_classify_new(err, esz);
        if (!cls)
                return -1;
        char **kom = mm_config_get_list(cfg, "kommune", &nk);
        char **urls = mm_config_get_list(cfg, "base-url", &nb);
        int rc = load_table(hs, cls, mm_config_get_str(cfg, "hosts"), err, esz);
        if (rc == 0)
                rc = apply_base_urls(hs, cls, urls, nb, err, esz);
        if (rc == 0)
                rc = select_kommuner(hs, cls, kom, nk, err, esz);
        if (rc == 0 && hs->n == 0) {
                snprintf(err, esz, "no kommune to poll");
                rc = -1;
        }
        mm_config_list_free(kom, nk);
        mm_config_list_free(urls, nb);
        mm_classify_destroy(cls);
        if (rc != 0)
                hosts_free(hs); /* the caller frees hosts only after a success */
        return rc;
}

/* The idempotent producer whose delivery reports mm_poll waits for. */
static rd_kafka_t *open_producer(const mm_config_t *cfg, char *err, size_t esz) {
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        if (mm_kafka_conf_set(conf, "bootstrap.servers", mm_config_get_str(cfg, "brokers"), err,
                              esz) ||
            mm_kafka_conf_set(conf, "client.id", "minutes-source", err, esz) ||
            mm_kafka_conf_set(conf, "enable.idempotence", "true", err, esz) ||
            mm_kafka_conf_set(conf, "message.max.bytes", "104857600", err, esz) ||
            mm_kafka_conf_set(conf, "linger.ms", "5", err, esz) ||
            mm_kafka_conf_apply(conf, cfg, err, esz)) {
                rd_kafka_conf_destroy(conf);
                return NULL;
        }
        rd_kafka_conf_set_dr_msg_cb(conf, mm_poll_delivery_cb);
        rd_kafka_conf_set_log_cb(conf, mm_kafka_log_cb);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, esz);
        if (!rk)
                rd_kafka_conf_destroy(conf);
        return rk; /* conf is owned by rk */
}

static void beat(void *arg) {
        mm_metrics_heartbeat(arg);
}

/* Loads the options. Returns -1 to go on, else the exit status. */
static int load_options(int argc, char **argv, mm_config_t **cfgp) {
        char err[1024];
        mm_config_t *cfg = mm_config_new(options, sizeof(options) / sizeof(options[0]));
        *cfgp = cfg;
        if (!cfg || mm_config_load(cfg, argc, argv, err, sizeof(err)) != 0) {
                fprintf(stderr, "minutes-source: %s\n", cfg ? err : "out of memory");
                return 2;
        }
        if (mm_config_help_requested(cfg)) {
                mm_config_print_help(cfg, stdout,
                                     "Usage: minutes-source [OPTIONS]\n\n"
                                     "Polls the kommuner's FirstAgenda publishing API and produces "
                                     "new or changed publications to the raw topic.");
                return 0;
        }
        if (mm_log_set_level_name(mm_config_get_str(cfg, "log-level")) != 0) {
                fprintf(stderr, "minutes-source: unknown log-level\n");
                return 2;
        }
        if (mm_config_arg_count(cfg) > 0) {
                fprintf(stderr, "minutes-source: unexpected argument %s\n", mm_config_arg(cfg, 0));
                return 2;
        }
        if (mm_attach_switch(mm_config_get_str(cfg, "attachments")) < 0) {
                fprintf(stderr, "minutes-source: --attachments must be on or off\n");
                return 2;
        }
        if (mm_config_get_int(cfg, "attachment-max-bytes") < 1 ||
            mm_config_get_int(cfg, "attachments-per-poll") < 0) {
                fprintf(stderr, "minutes-source: attachment-max-bytes must be > 0 and "
                                "attachments-per-poll >= 0\n");
                return 2;
        }
        if (mm_config_get_int(cfg, "interval") <= 0 || mm_config_get_int(cfg, "max-attempts") < 1 ||
            mm_config_get_int(cfg, "threads") < 1) {
                fprintf(stderr, "minutes-source: interval, max-attempts and threads must be > 0\n");
                return 2;
        }
        return -1;
}

/* The HTTP options from the config; `ua` receives the User-Agent. */
static void http_opts(const mm_config_t *cfg, mm_http_opts_t *h, char *ua, size_t uasz) {
        const char *contact = mm_config_get_str(cfg, "contact");
        snprintf(ua, uasz, "minutes-ingest/%s minutes-source (+contact: %s)", MM_VERSION,
                 contact && *contact ? contact : "unset");
        memset(h, 0, sizeof(*h));
        h->user_agent = ua;
        h->connect_timeout_ms = (long)mm_config_get_int(cfg, "connect-timeout-ms");
        h->timeout_ms = (long)mm_config_get_int(cfg, "timeout-ms");
        h->max_bytes = (size_t)mm_config_get_int(cfg, "max-body-bytes");
        h->retries = (int)mm_config_get_int(cfg, "http-retries");
        h->backoff_base_ms = (long)mm_config_get_int(cfg, "backoff-ms");
        h->backoff_max_ms = (long)mm_config_get_int(cfg, "backoff-max-ms");
        h->max_retry_after_ms = (long)mm_config_get_int(cfg, "max-retry-after-ms");
        h->min_interval_ms = (long)mm_config_get_int(cfg, "request-interval-ms");
        h->ca_file = mm_config_get_str(cfg, "ca-file");
        h->stop = &stop_flag;
}

/* The metrics registry and, with --metrics-port, its server. */
static int start_metrics(const mm_config_t *cfg, const hosts_t *hs, mm_metrics_t **m,
                         mm_poll_metrics_t **pm, char *err, size_t esz) {
        const char **names = calloc(hs->n, sizeof(char *));
        if (!names)
                return -1;
        for (size_t i = 0; i < hs->n; i++)
                names[i] = hs->h[i].kommune;
        *pm = mm_poll_metrics_new(names, hs->n,
                                  86400.0 * (double)mm_config_get_int(cfg, "silent-days"));
        free(names);
        *m = mm_metrics_new(NULL, err, esz);
        if (!*pm || !*m)
                return -1;
        mm_metrics_set_liveness_timeout(*m, mm_config_get_int(cfg, "liveness-timeout-ms"));
        mm_metrics_hooks_t hooks = {mm_poll_metrics_render, mm_poll_metrics_ready, *pm};
        mm_metrics_set_hooks(*m, &hooks);
        int port = (int)mm_config_get_int(cfg, "metrics-port");
        if (port > 0 &&
            mm_metrics_start(*m, mm_config_get_str(cfg, "metrics-bind"), port, err, esz) != 0)
                return -1;
        return 0;
}

/* With attachments on: 1 when the brokers say the attachments topic does
 * not exist (said on stderr); a broker that does not answer within 2 s is
 * only a warning (the polls then fail on Kafka, as they would anyway). */
static int attachments_topic_missing(const mm_config_t *cfg, rd_kafka_t *rk) {
        char err[512];
        if (mm_attach_switch(mm_config_get_str(cfg, "attachments")) != 1)
                return 0;
        int rc = mm_attach_topic_check(rk, mm_config_get_str(cfg, "attachments-topic"), 2000, err,
                                       sizeof(err));
        if (rc > 0)
                fprintf(stderr, "minutes-source: %s\n", err);
        else if (rc < 0)
                mm_log(MM_LOG_WARN, "%s", err);
        return rc > 0;
}

/* Polls; returns the exit status. */
static int run(const mm_config_t *cfg, const hosts_t *hs, rd_kafka_t *rk, mm_metrics_t *m,
               mm_poll_metrics_t *pm) {
        char err[1024], ua[512], id[300], hn[256] = "?";
        mm_poll_run_opts_t o;
        memset(&o, 0, sizeof(o));
        http_opts(cfg, &o.poll.http, ua, sizeof(ua));
        gethostname(hn, sizeof(hn) - 1);
        snprintf(id, sizeof(id), "%s:%d", hn, (int)getpid());
        o.poll.rk = rk;
        o.poll.topic = mm_config_get_str(cfg, "topic");
        o.poll.ce_source = mm_config_get_str(cfg, "source");
        o.poll.max_attempts = (int)mm_config_get_int(cfg, "max-attempts");
        o.poll.metrics = pm;
        o.poll.stop = &stop_flag;
        o.poll.attachments = mm_attach_switch(mm_config_get_str(cfg, "attachments")) == 1;
        o.poll.attachments_topic = mm_config_get_str(cfg, "attachments-topic");
        o.poll.attachment_max_bytes = (size_t)mm_config_get_int(cfg, "attachment-max-bytes");
        o.poll.attachments_per_poll = (long)mm_config_get_int(cfg, "attachments-per-poll");
        o.pg = mm_config_get_str(cfg, "pg");
        o.threads = (int)mm_config_get_int(cfg, "threads");
        o.interval_s = (double)mm_config_get_int(cfg, "interval");
        o.once = mm_config_get_bool(cfg, "once");
        o.poller_id = id;
        o.beat = beat;
        o.beat_arg = m;
        int *failed = calloc(hs->n, sizeof(int));
        int n = failed ? mm_poll_run(&o, hs->h, hs->n, failed, err, sizeof(err)) : -1;
        if (n < 0) {
                mm_log(MM_LOG_ERROR, "%s", failed ? err : "out of memory");
                free(failed);
                return 2;
        }
        for (size_t i = 0; o.once && i < hs->n; i++)
                if (failed[i])
                        fprintf(stderr, "minutes-source: %s (%s) failed\n", hs->h[i].kommune,
                                hs->h[i].base_url);
        if (o.once)
                printf("polled %zu kommuner, %d failed\n", hs->n, n);
        free(failed);
        return n > 0 || (o.once && stop_flag) ? 1 : 0;
}

int main(int argc, char **argv) {
        char err[1024];
        mm_config_t *cfg;
        hosts_t hs;
        mm_metrics_t *m = NULL;
        mm_poll_metrics_t *pm = NULL;
        mm_log_set_prog("minutes-source");
        int rc = load_options(argc, argv, &cfg);
        if (rc >= 0) {
                mm_config_destroy(cfg);
                return rc;
        }
        mm_config_log(cfg);
        signal(SIGTERM, on_signal);
        signal(SIGINT, on_signal);
        signal(SIGPIPE, SIG_IGN);
        snprintf(err, sizeof(err), "libcurl cannot start");
        if (mm_http_global_init() != 0 || make_hosts(&hs, cfg, err, sizeof(err)) != 0) {
                fprintf(stderr, "minutes-source: %s\n", err);
                mm_config_destroy(cfg);
                return 2;
        }
        rd_kafka_t *rk = open_producer(cfg, err, sizeof(err));
        if (rk && attachments_topic_missing(cfg, rk)) {
                rc = 2;
        } else if (!rk || start_metrics(cfg, &hs, &m, &pm, err, sizeof(err)) != 0) {
                fprintf(stderr, "minutes-source: %s\n", err);
                rc = 2;
        } else {
                mm_log(MM_LOG_INFO, "polling %zu kommuner", hs.n);
                rc = run(cfg, &hs, rk, m, pm);
        }
        if (rk) {
                rd_kafka_flush(rk, 10000);
                rd_kafka_destroy(rk);
        }
        mm_metrics_destroy(m);
        mm_poll_metrics_destroy(pm);
        hosts_free(&hs);
        mm_http_global_cleanup();
        mm_config_destroy(cfg);
        return rc;
}
