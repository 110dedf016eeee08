/*
 * minutes-lag: consumer-group lag of one topic, per partition, like
 * `kafka-consumer-groups --describe`, plus a Burrow-style status over a
 * window of samples (rules in common/ingest/mm_lag.h).
 *
 *   minutes-lag -b HOST:PORT [-g GROUP] [-t TOPIC] [--json] [--max-lag N]
 *               [--samples K --interval MS] [--fail-on STATUS] [-X key=value]
 *
 * It never joins the group: a consumer handle configured with group.id
 * reads the committed offsets (rd_kafka_committed) and the watermarks
 * (rd_kafka_query_watermark_offsets).
 *
 * One sample shows no trend: a partition with lag and no committed offset
 * is then UNKNOWN ("not enough samples"), never STOP, and --fail-on other
 * than ERR needs --samples 2 or more. librdkafka's own log lines are
 * written as JSON (mm_log), like the worker's.
 *
 * Exit status: 0 fine; 1 total lag above --max-lag, or a status at least
 * as bad as --fail-on; 2 usage or Kafka error.
 */
#include <errno.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mm_config.h"
#include "mm_kafka.h"
#include "mm_lag.h"
#include "mm_log.h"

#define MAX_SAMPLES 1000

static const mm_config_option_t options[] = {
        {"brokers", 'b', MM_CONFIG_STRING, NULL, "MM_BROKERS", 0,
         "Kafka bootstrap servers, host:port[,host:port]"},
        {"group", 'g', MM_CONFIG_STRING, "minutes-ingest", "MM_GROUP", 0, "consumer group"},
        {"topic", 't', MM_CONFIG_STRING, "minutes.raw", "MM_TOPIC", 0, "topic"},
        {"json", 0, MM_CONFIG_BOOL, "false", NULL, 0, "print JSON instead of a table"},
        {"max-lag", 0, MM_CONFIG_INT, NULL, NULL, 0, "exit 1 when the total lag is above N"},
        {"samples", 0, MM_CONFIG_INT, "1", NULL, 0,
         "samples in the evaluation window (1..1000); trends need >= 2"},
        {"interval", 0, MM_CONFIG_INT, "5000", NULL, 0,
         "milliseconds between samples; use at least auto.commit.interval.ms"},
        {"fail-on", 0, MM_CONFIG_STRING, NULL, NULL, 0,
         "exit 1 when a partition status is this bad or worse: WARNING, STALL, STOP, ERR"},
        {"timeout", 0, MM_CONFIG_INT, "10000", NULL, 0, "Kafka request timeout in milliseconds"},
        {"log-level", 0, MM_CONFIG_STRING, "warn", "MM_LOG_LEVEL", 0,
         "debug, info, warn or error (JSON lines on stderr)"},
        {"config", 0, MM_CONFIG_STRING, NULL, "MM_CONFIG", 0,
         "key=value file with these options (kafka.KEY=VALUE for librdkafka)"},
};

#define USAGE                                                                                      \
        "usage: minutes-lag -b BROKERS [-g GROUP] [-t TOPIC] [--json] [--max-lag N]\n"             \
        "                   [--samples K --interval MS] [--fail-on STATUS] [-X key=value]\n"       \
        "Lag of a consumer group per partition: committed offset, high watermark, lag.\n"          \
        "A status (OK, WARNING, STALL, STOP, ERR) needs a trend: --samples 2 or more.\n"           \
        "Exit 0 fine, 1 over --max-lag or --fail-on, 2 error.\n"

typedef struct partition_s {
        int32_t id;
        mm_lag_sample_t *samples; /* window, oldest first */
        mm_lag_status_t status;
        int unknown; /* one sample only: lag without a committed offset shows no trend */
} partition_t;

/* Printed instead of STOP when one sample cannot tell. */
#define UNKNOWN_NAME "UNKNOWN"
#define UNKNOWN_NOTE                                                                               \
        "not enough samples: one sample shows no trend; use --samples 2 or more (e.g. "            \
        "--samples 3 --interval 5000) for STOP, STALL or WARNING"

static const char *status_name(mm_lag_status_t st, int unknown) {
        return unknown ? UNKNOWN_NAME : mm_lag_status_name(st);
}

static void sleep_ms(long ms) {
        struct timespec ts;

        ts.tv_sec = ms / 1000;
        ts.tv_nsec = (ms % 1000) * 1000000L;
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
                ;
}

static int cmp_partition(const void *a, const void *b) {
        const partition_t *pa = a, *pb = b;
        return (pa->id > pb->id) - (pa->id < pb->id);
}

static rd_kafka_t *make_consumer(const mm_config_t *cfg, const char *brokers, const char *group,
                                 char *errstr, size_t errstr_size) {
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_t *rk;
        size_t i;

        rd_kafka_conf_set_log_cb(conf, mm_kafka_log_cb); /* JSON lines, not librdkafka's own */

        if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr, errstr_size) !=
                    RD_KAFKA_CONF_OK ||
            rd_kafka_conf_set(conf, "group.id", group, errstr, errstr_size) != RD_KAFKA_CONF_OK ||
            rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, errstr_size) !=
                    RD_KAFKA_CONF_OK ||
            rd_kafka_conf_set(conf, "client.id", "minutes-lag", errstr, errstr_size) !=
                    RD_KAFKA_CONF_OK) {
                rd_kafka_conf_destroy(conf);
                return NULL;
        }
        for (i = 0; i < mm_config_kafka_count(cfg); i++) {
                if (rd_kafka_conf_set(conf, mm_config_kafka_key(cfg, i),
                                      mm_config_kafka_value(cfg, i), errstr,
                                      errstr_size) != RD_KAFKA_CONF_OK) {
                        rd_kafka_conf_destroy(conf);
                        return NULL;
                }
        }
        rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, errstr_size);
        if (rk == NULL) {
                rd_kafka_conf_destroy(conf);
                return NULL;
        }
        conf = NULL; /* ownership passed to rk */
        return rk;
}

/* Fills parts/nparts with the topic's partition ids (sorted). */
static int list_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms, partition_t **parts,
                           size_t *nparts, char *errstr, size_t errstr_size) {
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t err;
        int i, n;

        *parts = NULL;
        *nparts = 0;
        if (rkt == NULL) {
                snprintf(errstr, errstr_size, "topic %s: %s", topic,
                         rd_kafka_err2str(rd_kafka_last_error()));
                return -1;
        }
        err = rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms);
        rd_kafka_topic_destroy(rkt);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                snprintf(errstr, errstr_size, "metadata: %s", rd_kafka_err2str(err));
                return -1;
        }
        if (md->topic_cnt != 1 || md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR ||
            md->topics[0].partition_cnt == 0) {
                snprintf(errstr, errstr_size, "topic %s: %s", topic,
                         md->topic_cnt == 1 && md->topics[0].err
                                 ? rd_kafka_err2str(md->topics[0].err)
                                 : "no partitions");
                rd_kafka_metadata_destroy(md);
                return -1;
        }
        n = md->topics[0].partition_cnt;
        *parts = calloc((size_t)n, sizeof(**parts));
        if (*parts == NULL) {
                snprintf(errstr, errstr_size, "out of memory");
                rd_kafka_metadata_destroy(md);
                return -1;
        }
        for (i = 0; i < n; i++)
                (*parts)[i].id = md->topics[0].partitions[i].id;
        rd_kafka_metadata_destroy(md);
        qsort(*parts, (size_t)n, sizeof(**parts), cmp_partition);
        *nparts = (size_t)n;
        return 0;
}

/* Takes sample number k of every partition. */
static int take_sample(rd_kafka_t *rk, const char *topic, int timeout_ms, partition_t *parts,
                       size_t nparts, size_t k, char *errstr, size_t errstr_size) {
        rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new((int)nparts);
        rd_kafka_resp_err_t err;
        size_t i;
        int j;

        for (i = 0; i < nparts; i++)
                rd_kafka_topic_partition_list_add(list, topic, parts[i].id);
        err = rd_kafka_committed(rk, list, timeout_ms);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                snprintf(errstr, errstr_size, "committed offsets: %s", rd_kafka_err2str(err));
                rd_kafka_topic_partition_list_destroy(list);
                return -1;
        }
        for (i = 0; i < nparts; i++) {
                mm_lag_sample_t *s = &parts[i].samples[k];
                int64_t lo = -1, hi = -1;

                s->committed = MM_LAG_OFFSET_NONE;
                for (j = 0; j < list->cnt; j++) {
                        if (list->elems[j].partition == parts[i].id) {
                                if (list->elems[j].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                                        snprintf(errstr, errstr_size,
                                                 "committed offset of partition %d: %s",
                                                 (int)parts[i].id,
                                                 rd_kafka_err2str(list->elems[j].err));
                                        rd_kafka_topic_partition_list_destroy(list);
                                        return -1;
                                }
                                if (list->elems[j].offset >= 0)
                                        s->committed = list->elems[j].offset;
                        }
                }
                err = rd_kafka_query_watermark_offsets(rk, topic, parts[i].id, &lo, &hi,
                                                       timeout_ms);
                if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                        /* Recorded as unknown: the partition's status becomes ERR. */
                        mm_log(MM_LOG_WARN, "watermarks of %s [%d]: %s", topic, (int)parts[i].id,
                               rd_kafka_err2str(err));
                        lo = hi = -1;
                }
                s->low = lo;
                s->high = hi;
        }
        rd_kafka_topic_partition_list_destroy(list);
        return 0;
}

static void print_table(const char *group, const char *topic, const partition_t *parts,
                        size_t nparts, size_t k, int64_t total, mm_lag_status_t worst,
                        int worst_unknown) {
        size_t i;
        int wg = (int)strlen("GROUP"), wt = (int)strlen("TOPIC");

        if ((int)strlen(group) > wg)
                wg = (int)strlen(group);
        if ((int)strlen(topic) > wt)
                wt = (int)strlen(topic);
        printf("%-*s  %-*s  %9s  %14s  %14s  %10s  %s\n", wg, "GROUP", wt, "TOPIC", "PARTITION",
               "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "STATUS");
        for (i = 0; i < nparts; i++) {
                const mm_lag_sample_t *s = &parts[i].samples[k - 1];
                char cur[32], end[32], lag[32];
                int64_t l = mm_lag_sample_lag(s);

                if (s->committed >= 0)
                        snprintf(cur, sizeof(cur), "%lld", (long long)s->committed);
                else
                        snprintf(cur, sizeof(cur), "-");
                if (s->high >= 0)
                        snprintf(end, sizeof(end), "%lld", (long long)s->high);
                else
                        snprintf(end, sizeof(end), "-");
                if (l >= 0)
                        snprintf(lag, sizeof(lag), "%lld", (long long)l);
                else
                        snprintf(lag, sizeof(lag), "-");
                printf("%-*s  %-*s  %9d  %14s  %14s  %10s  %s\n", wg, group, wt, topic,
                       (int)parts[i].id, cur, end, lag,
                       status_name(parts[i].status, parts[i].unknown));
        }
        printf("TOTAL LAG %lld  STATUS %s  (%zu sample%s)\n", (long long)total,
               status_name(worst, worst_unknown), k, k == 1 ? "" : "s");
        if (worst_unknown)
                printf("%s\n", UNKNOWN_NOTE);
}

static int print_json(const char *group, const char *topic, const partition_t *parts, size_t nparts,
                      size_t k, long interval, int64_t total, mm_lag_status_t worst,
                      int worst_unknown) {
        json_t *root = json_object(), *arr = json_array();
        char *text;
        size_t i;

        if (root == NULL || arr == NULL) {
                json_decref(root);
                json_decref(arr);
                return -1;
        }
        for (i = 0; i < nparts; i++) {
                const mm_lag_sample_t *s = &parts[i].samples[k - 1];
                int64_t l = mm_lag_sample_lag(s);
                json_t *p = json_object();
                if (p == NULL)
                        continue;
                json_object_set_new(p, "partition", json_integer(parts[i].id));
                json_object_set_new(p, "committed_offset",
                                    s->committed >= 0 ? json_integer(s->committed) : json_null());
                json_object_set_new(p, "low_watermark",
                                    s->low >= 0 ? json_integer(s->low) : json_null());
                json_object_set_new(p, "high_watermark",
                                    s->high >= 0 ? json_integer(s->high) : json_null());
                json_object_set_new(p, "lag", l >= 0 ? json_integer(l) : json_null());
                json_object_set_new(p, "status",
                                    json_string(status_name(parts[i].status, parts[i].unknown)));
                json_array_append_new(arr, p);
        }
        json_object_set_new(root, "group", json_string(group));
        json_object_set_new(root, "topic", json_string(topic));
        json_object_set_new(root, "samples", json_integer((json_int_t)k));
        json_object_set_new(root, "interval_ms", json_integer(interval));
        json_object_set_new(root, "partitions", arr);
        arr = NULL; /* ownership passed to root */
        json_object_set_new(root, "total_lag", json_integer(total));
        json_object_set_new(root, "status", json_string(status_name(worst, worst_unknown)));
        if (worst_unknown)
                json_object_set_new(root, "note", json_string(UNKNOWN_NOTE));
        text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(root);
        if (text == NULL)
                return -1;
        printf("%s\n", text);
        free(text);
        return 0;
}

/* The checked options of one run. */
typedef struct lag_opts_s {
        const char *brokers, *group, *topic;
        const char *fail_on_s, *max_lag_s; /* NULL when not given */
        long long samples, interval, timeout, max_lag;
        mm_lag_status_t fail_on;
} lag_opts_t;

/* Reads and checks the options. On a bad one, fills errstr and sets
 * *usage when the usage text should follow the message. */
static int read_options(const mm_config_t *cfg, lag_opts_t *o, int *usage, char *errstr,
                        size_t errstr_size) {
        *usage = 0;
        o->brokers = mm_config_get_str(cfg, "brokers");
        o->group = mm_config_get_str(cfg, "group");
        o->topic = mm_config_get_str(cfg, "topic");
        o->samples = mm_config_get_int(cfg, "samples");
        o->interval = mm_config_get_int(cfg, "interval");
        o->timeout = mm_config_get_int(cfg, "timeout");
        o->fail_on_s = mm_config_get_str(cfg, "fail-on");
        o->max_lag_s = mm_config_get_str(cfg, "max-lag");
        o->max_lag = 0;
        o->fail_on = MM_LAG_ERR;
        if (o->brokers == NULL || *o->brokers == '\0') {
                snprintf(errstr, errstr_size, "-b/--brokers (or MM_BROKERS) is required");
                *usage = 1;
                return -1;
        }
        if (o->group == NULL || *o->group == '\0' || o->topic == NULL || *o->topic == '\0') {
                snprintf(errstr, errstr_size, "group and topic must not be empty");
                return -1;
        }
        if (o->samples < 1 || o->samples > MAX_SAMPLES || o->interval < 0 ||
            o->interval > 3600000 || o->timeout < 1 || o->timeout > 600000) {
                snprintf(errstr, errstr_size,
                         "--samples must be 1..%d, --interval 0..3600000, --timeout 1..600000",
                         MAX_SAMPLES);
                return -1;
        }
        if (o->max_lag_s != NULL) {
                o->max_lag = mm_config_get_int(cfg, "max-lag");
                if (o->max_lag < 0) {
                        snprintf(errstr, errstr_size, "--max-lag must be >= 0");
                        return -1;
                }
        }
        if (o->fail_on_s != NULL && mm_lag_status_parse(o->fail_on_s, &o->fail_on) != 0) {
                snprintf(errstr, errstr_size, "--fail-on must be WARNING, STALL, STOP or ERR");
                return -1;
        }
        if (o->fail_on_s != NULL && o->fail_on < MM_LAG_ERR && o->samples < 2) {
                snprintf(errstr, errstr_size,
                         "--fail-on %s needs --samples 2 or more: one sample shows no trend",
                         mm_lag_status_name(o->fail_on));
                *usage = 1;
                return -1;
        }
        return 0;
}

/* Takes the window: o->samples samples of every partition, o->interval ms
 * apart. */
static int sample_window(rd_kafka_t *rk, const lag_opts_t *o, partition_t *parts, size_t nparts,
                         char *errstr, size_t errstr_size) {
        size_t i, k;

        for (i = 0; i < nparts; i++) {
                parts[i].samples = calloc((size_t)o->samples, sizeof(mm_lag_sample_t));
                if (parts[i].samples == NULL) {
                        snprintf(errstr, errstr_size, "out of memory");
                        return -1;
                }
        }
        for (k = 0; k < (size_t)o->samples; k++) {
                if (k > 0)
                        sleep_ms((long)o->interval);
                if (take_sample(rk, o->topic, (int)o->timeout, parts, nparts, k, errstr,
                                errstr_size) != 0)
                        return -1;
        }
        return 0;
}

/* Sets each partition's status from its window; the worst status and the
 * total lag of the newest samples into *worst and *total. From a single
 * sample STOP only means "lag and no committed offset yet" (a group that
 * has not committed since a submit), so it is UNKNOWN instead; the group
 * is UNKNOWN (*worst_unknown) when a partition is and none is ERR. */
static void evaluate_window(partition_t *parts, size_t nparts, size_t samples, int64_t *total,
                            mm_lag_status_t *worst, int *worst_unknown) {
        int any_unknown = 0;
        *total = 0;
        *worst = MM_LAG_OK;
        for (size_t i = 0; i < nparts; i++) {
                int64_t l = mm_lag_sample_lag(&parts[i].samples[samples - 1]);
                parts[i].status = mm_lag_evaluate(parts[i].samples, samples);
                parts[i].unknown = samples < 2 && parts[i].status == MM_LAG_STOP;
                any_unknown |= parts[i].unknown;
                if (!parts[i].unknown && parts[i].status > *worst)
                        *worst = parts[i].status;
                if (l > 0)
                        *total += l;
        }
        *worst_unknown = any_unknown && *worst != MM_LAG_ERR;
}

/* Prints the table or the JSON and returns the exit status: 1 when the
 * total lag is above --max-lag or the worst status reaches --fail-on,
 * 2 when the JSON cannot be made, else 0. */
static int report(const lag_opts_t *o, int json, const partition_t *parts, size_t nparts,
                  int64_t total, mm_lag_status_t worst, int worst_unknown) {
        int rc = 0;

        if (json) {
                if (print_json(o->group, o->topic, parts, nparts, (size_t)o->samples,
                               (long)o->interval, total, worst, worst_unknown) != 0) {
                        fprintf(stderr, "minutes-lag: out of memory\n");
                        return 2;
                }
        } else {
                print_table(o->group, o->topic, parts, nparts, (size_t)o->samples, total, worst,
                            worst_unknown);
        }
        fflush(stdout);
        if (o->max_lag_s != NULL && total > o->max_lag) {
                fprintf(stderr, "minutes-lag: total lag %lld is above --max-lag %lld\n",
                        (long long)total, o->max_lag);
                rc = 1;
        }
        if (o->fail_on_s != NULL && !worst_unknown && worst >= o->fail_on) {
                fprintf(stderr, "minutes-lag: status %s is at least --fail-on %s\n",
                        mm_lag_status_name(worst), mm_lag_status_name(o->fail_on));
                rc = 1;
        }
        return rc;
}

int main(int argc, char **argv) {
        char errstr[512];
        mm_config_t *cfg = mm_config_new(options, sizeof(options) / sizeof(options[0]));
        lag_opts_t o;
        mm_lag_status_t worst;
        rd_kafka_t *rk = NULL;
        partition_t *parts = NULL;
        size_t nparts = 0, i;
        int64_t total;
        int rc = 2, usage, worst_unknown;

        mm_log_set_prog("minutes-lag");
        if (cfg == NULL) {
                fprintf(stderr, "minutes-lag: out of memory\n");
                return 2;
        }
        if (mm_config_load(cfg, argc, argv, errstr, sizeof(errstr)) != 0) {
                fprintf(stderr, "minutes-lag: %s\n", errstr);
                goto out;
        }
        if (mm_config_help_requested(cfg)) {
                mm_config_print_help(cfg, stdout, USAGE);
                rc = 0;
                goto out;
        }
        if (mm_config_arg_count(cfg) > 0) {
                fprintf(stderr, "minutes-lag: unexpected argument %s\n%s", mm_config_arg(cfg, 0),
                        USAGE);
                goto out;
        }
        if (mm_log_set_level_name(mm_config_get_str(cfg, "log-level")) != 0) {
                fprintf(stderr, "minutes-lag: unknown log-level\n");
                goto out;
        }
        if (read_options(cfg, &o, &usage, errstr, sizeof(errstr)) != 0) {
                fprintf(stderr, "minutes-lag: %s\n%s", errstr, usage ? USAGE : "");
                goto out;
        }
        rk = make_consumer(cfg, o.brokers, o.group, errstr, sizeof(errstr));
        if (rk == NULL ||
            list_partitions(rk, o.topic, (int)o.timeout, &parts, &nparts, errstr, sizeof(errstr)) !=
                    0 ||
            sample_window(rk, &o, parts, nparts, errstr, sizeof(errstr)) != 0) {
                fprintf(stderr, "minutes-lag: %s\n", errstr);
                goto out;
        }
        evaluate_window(parts, nparts, (size_t)o.samples, &total, &worst, &worst_unknown);
        rc = report(&o, mm_config_get_bool(cfg, "json"), parts, nparts, total, worst,
                    worst_unknown);

out:
        if (parts != NULL)
                for (i = 0; i < nparts; i++)
                        free(parts[i].samples);
        free(parts);
        if (rk != NULL) {
                rd_kafka_consumer_close(rk);
                rd_kafka_destroy(rk);
        }
        mm_config_destroy(cfg);
        return rc;
}
