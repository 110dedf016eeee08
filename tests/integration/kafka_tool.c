/*
 * mm-kafka-tool: test helper for the integration tests.
 *
 *   mm-kafka-tool dump BROKERS TOPIC
 *       prints every message of TOPIC (all partitions, from the beginning to
 *       the current end) as one JSON object per line: partition, offset,
 *       key, value_len, value_sha256, headers {name: value}.
 *   mm-kafka-tool lag BROKERS GROUP TOPIC
 *       prints the group's total lag on TOPIC: sum over partitions of
 *       high watermark - committed offset (no commit: high - low).
 *   mm-kafka-tool count BROKERS TOPIC
 *       prints the number of messages in TOPIC (sum of high - low).
 *   mm-kafka-tool produce BROKERS TOPIC KEY FILE [NAME=VALUE...]
 *       produces the bytes of FILE with KEY ("-" = no key) and the given
 *       headers, and waits for the delivery report (exit 0 if delivered).
 */
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm_envelope.h"

static rd_kafka_t *make_consumer(const char *brokers, const char *group) {
        char err[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, err, sizeof(err)) ||
            rd_kafka_conf_set(conf, "group.id", group, err, sizeof(err)) ||
            rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err)) ||
            rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err))) {
                fprintf(stderr, "config: %s\n", err);
                exit(2);
        }
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
        if (!rk) {
                fprintf(stderr, "consumer: %s\n", err);
                exit(2);
        }
        return rk;
}

/* Partition ids of a topic. */
static int partitions(rd_kafka_t *rk, const char *topic, int32_t **out) {
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
        if (e || md->topic_cnt != 1 || md->topics[0].err) {
                fprintf(stderr, "metadata of %s: %s\n", topic,
                        rd_kafka_err2str(e ? e : md->topics[0].err));
                exit(2);
        }
        int n = md->topics[0].partition_cnt;
        *out = calloc((size_t)n, sizeof(int32_t));
        for (int i = 0; i < n; i++)
                (*out)[i] = md->topics[0].partitions[i].id;
        rd_kafka_metadata_destroy(md);
        rd_kafka_topic_destroy(rkt);
        return n;
}

static int cmd_dump(const char *brokers, const char *topic) {
        rd_kafka_t *rk = make_consumer(brokers, "mm-kafka-tool-dump");
        int32_t *ids;
        int n = partitions(rk, topic, &ids);
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(n);
        int64_t *high = calloc((size_t)n, sizeof(int64_t));
        int remaining = 0;
        for (int i = 0; i < n; i++) {
                int64_t lo, hi;
                if (rd_kafka_query_watermark_offsets(rk, topic, ids[i], &lo, &hi, 10000)) {
                        fprintf(stderr, "watermarks failed\n");
                        return 2;
                }
                high[i] = hi;
                if (hi > lo) {
                        rd_kafka_topic_partition_list_add(l, topic, ids[i])->offset = lo;
                        remaining++;
                }
        }
        rd_kafka_assign(rk, l);
        rd_kafka_topic_partition_list_destroy(l);
        int idle = 0;
        while (remaining > 0 && idle < 300) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
                if (!m) {
                        idle++;
                        continue;
                }
                idle = 0;
                if (m->err) {
                        rd_kafka_message_destroy(m);
                        continue;
                }
                json_t *o = json_object();
                json_object_set_new(o, "partition", json_integer(m->partition));
                json_object_set_new(o, "offset", json_integer(m->offset));
                json_object_set_new(o, "key",
                                    m->key ? json_stringn(m->key, m->key_len) : json_null());
                char sha[65];
                mm_envelope_sha256_hex(m->payload, m->len, sha);
                json_object_set_new(o, "value_len", json_integer((json_int_t)m->len));
                json_object_set_new(o, "value_sha256", json_string(sha));
                json_t *h = json_object();
                rd_kafka_headers_t *hdrs = NULL;
                if (!rd_kafka_message_headers(m, &hdrs)) {
                        const char *name;
                        const void *val;
                        size_t len;
                        for (size_t i = 0; !rd_kafka_header_get_all(hdrs, i, &name, &val, &len);
                             i++)
                                json_object_set_new(h, name,
                                                    val ? json_stringn(val, len) : json_null());
                }
                json_object_set_new(o, "headers", h);
                char *s = json_dumps(o, JSON_COMPACT);
                puts(s);
                free(s);
                json_decref(o);
                for (int i = 0; i < n; i++)
                        if (ids[i] == m->partition && m->offset + 1 == high[i])
                                remaining--;
                rd_kafka_message_destroy(m);
        }
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        free(ids);
        free(high);
        return remaining ? 1 : 0;
}

static int cmd_lag(const char *brokers, const char *group, const char *topic, int count_only) {
        rd_kafka_t *rk = make_consumer(brokers, group);
        int32_t *ids;
        int n = partitions(rk, topic, &ids);
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(n);
        for (int i = 0; i < n; i++)
                rd_kafka_topic_partition_list_add(l, topic, ids[i]);
        if (!count_only && rd_kafka_committed(rk, l, 10000)) {
                fprintf(stderr, "committed offsets failed\n");
                return 2;
        }
        long long lag = 0;
        for (int i = 0; i < n; i++) {
                int64_t lo, hi;
                if (rd_kafka_query_watermark_offsets(rk, topic, ids[i], &lo, &hi, 10000)) {
                        fprintf(stderr, "watermarks failed\n");
                        return 2;
                }
                int64_t c = count_only ? -1 : l->elems[i].offset;
                lag += c >= 0 ? hi - c : hi - lo;
        }
        printf("%lld\n", lag);
        rd_kafka_topic_partition_list_destroy(l);
        rd_kafka_destroy(rk);
        free(ids);
        return 0;
}

static int delivered_ok = 0;

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
        (void)rk;
        (void)opaque;
        if (m->err)
                fprintf(stderr, "delivery failed: %s\n", rd_kafka_err2str(m->err));
        else
                delivered_ok = 1;
}

static int cmd_produce(int argc, char **argv) {
        const char *brokers = argv[2], *topic = argv[3], *key = argv[4], *file = argv[5];
        FILE *fp = fopen(file, "rb");
        if (!fp) {
                perror(file);
                return 2;
        }
        fseek(fp, 0, SEEK_END);
        long len = ftell(fp);
        fseek(fp, 0, SEEK_SET);
        char *buf = malloc((size_t)len + 1);
        if (!buf || fread(buf, 1, (size_t)len, fp) != (size_t)len) {
                fclose(fp);
                return 2;
        }
        fclose(fp);
        char err[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, err, sizeof(err)) ||
            rd_kafka_conf_set(conf, "message.max.bytes", "104857600", err, sizeof(err))) {
                fprintf(stderr, "%s\n", err);
                return 2;
        }
        rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
        if (!rk) {
                fprintf(stderr, "%s\n", err);
                return 2;
        }
        rd_kafka_headers_t *h = rd_kafka_headers_new(8);
        for (int i = 6; i < argc; i++) {
                const char *eq = strchr(argv[i], '=');
                if (!eq) {
                        fprintf(stderr, "header must be NAME=VALUE: %s\n", argv[i]);
                        return 2;
                }
                rd_kafka_header_add(h, argv[i], eq - argv[i], eq + 1, -1);
        }
        /* locals: RD_KAFKA_V_KEY casts its argument without parentheses */
        int nokey = !strcmp(key, "-");
        const char *kptr = nokey ? NULL : key;
        size_t klen = nokey ? 0 : strlen(key);
        rd_kafka_resp_err_t e = rd_kafka_producev(
                rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(kptr, klen),
                RD_KAFKA_V_VALUE(buf, (size_t)len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE),
                RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
        if (e) {
                fprintf(stderr, "produce: %s\n", rd_kafka_err2str(e));
                return 1;
        }
        rd_kafka_flush(rk, 30000);
        rd_kafka_destroy(rk);
        return delivered_ok ? 0 : 1;
}

int main(int argc, char **argv) {
        if (argc >= 6 && !strcmp(argv[1], "produce"))
                return cmd_produce(argc, argv);
        if (argc == 4 && !strcmp(argv[1], "dump"))
                return cmd_dump(argv[2], argv[3]);
        if (argc == 5 && !strcmp(argv[1], "lag"))
                return cmd_lag(argv[2], argv[3], argv[4], 0);
        if (argc == 4 && !strcmp(argv[1], "count"))
                return cmd_lag(argv[2], "mm-kafka-tool-count", argv[3], 1);
        fprintf(stderr, "usage: mm-kafka-tool dump BROKERS TOPIC | lag BROKERS GROUP TOPIC | "
                        "count BROKERS TOPIC | produce BROKERS TOPIC KEY FILE [NAME=VALUE...]\n");
        return 2;
}
