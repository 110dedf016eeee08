/*
 * Test helper for tests/ops/lag-it.sh (not installed).
 *
 *   lag_it_helper produce BROKERS TOPIC PARTITIONS PER_PARTITION
 *       writes PER_PARTITION messages to each of partitions 0..PARTITIONS-1
 *       (acks=all, flushed), so every high watermark is known exactly.
 *   lag_it_helper consume BROKERS TOPIC GROUP PARTITION COUNT
 *       as a member of GROUP (manual assignment, never subscribing),
 *       consumes COUNT messages of PARTITION from the group's committed
 *       offset (earliest if none) and commits synchronously.
 * Exit 0 on success, 1 on failure, 2 on usage.
 */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static rd_kafka_t *make(rd_kafka_type_t type, const char *brokers, const char *group) {
        char err[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_t *rk;

        if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, err, sizeof(err)) ||
            (type == RD_KAFKA_PRODUCER &&
             rd_kafka_conf_set(conf, "acks", "all", err, sizeof(err))) ||
            (group != NULL &&
             (rd_kafka_conf_set(conf, "group.id", group, err, sizeof(err)) ||
              rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err)) ||
              rd_kafka_conf_set(conf, "enable.auto.offset.store", "false", err, sizeof(err)) ||
              rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", err, sizeof(err))))) {
                fprintf(stderr, "lag_it_helper: %s\n", err);
                rd_kafka_conf_destroy(conf);
                return NULL;
        }
        rk = rd_kafka_new(type, conf, err, sizeof(err));
        if (rk == NULL) {
                fprintf(stderr, "lag_it_helper: %s\n", err);
                rd_kafka_conf_destroy(conf);
        }
        /* on success conf is owned by rk */
        return rk;
}

static int produce(const char *brokers, const char *topic, int parts, int per) {
        rd_kafka_t *rk = make(RD_KAFKA_PRODUCER, brokers, NULL);
        int p, i, rc = 0;

        if (rk == NULL)
                return 1;
        for (p = 0; p < parts && rc == 0; p++) {
                for (i = 0; i < per; i++) {
                        char val[64];
                        rd_kafka_resp_err_t err;
                        snprintf(val, sizeof(val), "msg p%d n%d", p, i);
                        err = rd_kafka_producev(
                                rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(p),
                                RD_KAFKA_V_VALUE(val, strlen(val)),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
                        if (err) {
                                fprintf(stderr, "lag_it_helper: produce: %s\n",
                                        rd_kafka_err2str(err));
                                rc = 1;
                                break;
                        }
                        rd_kafka_poll(rk, 0);
                }
        }
        if (rd_kafka_flush(rk, 30000) != RD_KAFKA_RESP_ERR_NO_ERROR || rd_kafka_outq_len(rk) != 0) {
                fprintf(stderr, "lag_it_helper: flush failed\n");
                rc = 1;
        }
        rd_kafka_destroy(rk);
        return rc;
}

static int consume(const char *brokers, const char *topic, const char *group, int part, int count) {
        rd_kafka_t *rk = make(RD_KAFKA_CONSUMER, brokers, group);
        rd_kafka_topic_partition_list_t *list;
        rd_kafka_resp_err_t err;
        int got = 0, idle = 0, rc = 1;

        if (rk == NULL)
                return 1;
        rd_kafka_poll_set_consumer(rk);
        list = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(list, topic, part)->offset = RD_KAFKA_OFFSET_STORED;
        err = rd_kafka_assign(rk, list);
        rd_kafka_topic_partition_list_destroy(list);
        if (err) {
                fprintf(stderr, "lag_it_helper: assign: %s\n", rd_kafka_err2str(err));
                goto out;
        }
        while (got < count && idle < 30) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 1000);
                if (m == NULL) {
                        idle++;
                        continue;
                }
                if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                        got++;
                        idle = 0;
                        /* store this message's offset + 1 for the commit below */
                        rd_kafka_offset_store(m->rkt, m->partition, m->offset);
                } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                        fprintf(stderr, "lag_it_helper: consume: %s\n", rd_kafka_message_errstr(m));
                }
                rd_kafka_message_destroy(m);
        }
        if (got < count) {
                fprintf(stderr, "lag_it_helper: got %d of %d messages\n", got, count);
                goto out;
        }
        err = rd_kafka_commit(rk, NULL, 0);
        if (err) {
                fprintf(stderr, "lag_it_helper: commit: %s\n", rd_kafka_err2str(err));
                goto out;
        }
        rc = 0;
out:
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        return rc;
}

int main(int argc, char **argv) {
        if (argc == 6 && strcmp(argv[1], "produce") == 0)
                return produce(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]));
        if (argc == 7 && strcmp(argv[1], "consume") == 0)
                return consume(argv[2], argv[3], argv[4], atoi(argv[5]), atoi(argv[6]));
        fprintf(stderr, "usage: lag_it_helper produce BROKERS TOPIC PARTITIONS PER_PARTITION\n"
                        "       lag_it_helper consume BROKERS TOPIC GROUP PARTITION COUNT\n");
        return 2;
}
