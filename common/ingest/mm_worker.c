/*
 * mm_worker: the consumer side of minutes-worker. A stateless member of a
 * Kafka consumer group: consumes raw documents, extracts and parses them,
 * and writes the records together with the consumed offsets to PostgreSQL
 * in one transaction per batch (exactly-once effect). Documents that cannot
 * be extracted or parsed go to the dead-letter topic with error headers.
 *
 * The consumer loop follows librdkafka's examples/consumer.c. This file:
 * set-up, the main loop, the graceful stop; the other parts are
 * mm_worker_rebalance.c, mm_worker_ahead.c, mm_worker_batch.c and
 * mm_worker_dlq.c (mm_worker_int.h; states: docs/worker-states.md).
 */
#include "mm_worker.h"

#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <malloc.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "mm_classify.h"
#include "mm_envelope.h"
#include "mm_attempts.h"
#include "mm_extract.h"
#include "mm_isolate.h"
#include "mm_sandbox.h"
#include "mm_kafka.h"
#include "mm_log.h"
#include "mm_metrics.h"
#include "mm_parser.h"
#include "mm_pipe.h"
#include "mm_source.h"
#include "mm_store.h"
#include "mm_text.h"

#include "mm_worker_int.h"

#ifndef MM_VERSION
#define MM_VERSION "0.0.0"
#endif

/* Liveness (/healthz): the main loop turns, and the read-ahead stage is
 * not stuck in one message for longer than the liveness timeout (its
 * count can wait on a hung PostgreSQL, as a batch write can). */
void mm_worker_heartbeat(worker_t *w) {
        if (w->liveness_ms <= 0 || mm_pipe_busy_ms(w->pipe) < w->liveness_ms)
                mm_metrics_heartbeat(w->metrics);
}

/* 1 once a stop was requested and the graceful-stop deadline has passed.
 * The deadline starts with the first signal, wherever the worker is. */
int mm_worker_stop_deadline_passed(worker_t *w) {
        if (*w->run && !w->fatal)
                return 0;
        if (!w->stop_at) {
                w->stop_at = now_ms() + w->shutdown_ms;
                mm_log(MM_LOG_INFO, "stop requested: finishing within %lld ms",
                       (long long)w->shutdown_ms);
        }
        return now_ms() >= w->stop_at;
}

/* ---------- callbacks ---------- */

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
        worker_t *w = opaque;
        if (err == RD_KAFKA_RESP_ERR__FATAL) {
                char fatal[512];
                rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
                mm_log(MM_LOG_ERROR, "fatal librdkafka error in %s: %s: %s", rd_kafka_name(rk),
                       rd_kafka_err2name(orig), fatal);
                w->fatal = 1; /* ends mm_worker_run's loop */
                return;
        }
        /* Transient: librdkafka retries by itself. */
        mm_log(MM_LOG_WARN, "librdkafka error in %s: %s: %s", rd_kafka_name(rk),
               rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

static int stats_cb(rd_kafka_t *rk, char *json, size_t json_len, void *opaque) {
        (void)rk;
        worker_t *w = opaque;
        char err[256];
        if (mm_metrics_update_stats(w->metrics, json, json_len, err, sizeof(err)) != 0)
                mm_log(MM_LOG_DEBUG, "stats: %s", err);
        return 0;
}

/* Sleeps up to `ms` while serving the consumer (rebalances, errors).
 * Messages that arrive meanwhile (only possible for unpaused partitions)
 * are handed to `on_msg`. Returns early when a stop is requested. */

void mm_worker_serve_for(worker_t *w, int64_t ms) {
        int64_t end = now_ms() + ms;
        while (!w->fatal) {
                mm_worker_heartbeat(w); /* retrying a batch is alive */
                int64_t left = end - now_ms();
                if (left <= 0)
                        break;
                mm_worker_pump(w, (int)(left < 100 ? left : 100));
                rd_kafka_poll(w->producer, 0);
                if (mm_worker_stop_deadline_passed(w))
                        break;
        }
}

/* ---------- set-up ---------- */

static rd_kafka_t *make_consumer(worker_t *w, const mm_config_t *cfg, char *err, size_t errsz) {
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        char cid[128], host[64] = "host";
        gethostname(host, sizeof(host) - 1);
        snprintf(cid, sizeof(cid), "minutes-worker-%s-%d", host, (int)getpid());
        if (mm_kafka_conf_set(conf, "bootstrap.servers", mm_config_get_str(cfg, "brokers"), err,
                              errsz) ||
            mm_kafka_conf_set(conf, "group.id", w->group, err, errsz) ||
            mm_kafka_conf_set(conf, "client.id", cid, err, errsz) ||
            mm_kafka_conf_set(conf, "partition.assignment.strategy", "cooperative-sticky", err,
                              errsz) ||
            /* a member learns of a rebalance from its next mm_worker_heartbeat, and a
             * joining worker waits for every member twice: 1 s instead of
             * librdkafka's 3 s formed a group of two in 3 s, not 6-10 s.
             * -X overrides. */
            mm_kafka_conf_set(conf, "heartbeat.interval.ms", "1000", err, errsz) ||
            /* auto-commit only commits offsets we stored after a PostgreSQL
             * commit (see mm_worker_commit_kafka): it retries failed commits */
            mm_kafka_conf_set(conf, "enable.auto.commit", "true", err, errsz) ||
            mm_kafka_conf_set(conf, "auto.commit.interval.ms", "1000", err, errsz) ||
            mm_kafka_conf_set(conf, "enable.auto.offset.store", "false", err, errsz) ||
            mm_kafka_conf_set(conf, "auto.offset.reset", "earliest", err, errsz) ||
            /* bounded memory (issue 10): librdkafka's prefetch queue and
             * fetch responses default to 64 MiB and 50 MiB; a bigger message
             * still comes through (one at a time). -X overrides. */
            mm_kafka_conf_set(conf, "queued.max.messages.kbytes", "8192", err, errsz) ||
            mm_kafka_conf_set(conf, "fetch.max.bytes", "8388608", err, errsz) ||
            (w->metrics &&
             mm_kafka_conf_set(conf, "statistics.interval.ms", "10000", err, errsz)) ||
            mm_kafka_conf_apply(conf, cfg, err, errsz)) {
                rd_kafka_conf_destroy(conf);
                return NULL;
        }
        rd_kafka_conf_set_opaque(conf, w);
        rd_kafka_conf_set_error_cb(conf, error_cb);
        rd_kafka_conf_set_rebalance_cb(conf, mm_worker_rebalance_cb);
        rd_kafka_conf_set_log_cb(conf, mm_kafka_log_cb);
        if (w->metrics)
                rd_kafka_conf_set_stats_cb(conf, stats_cb);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, errsz);
        if (!rk) {
                rd_kafka_conf_destroy(conf);
                return NULL;
        }
        conf = NULL; /* owned by rk now */
        rd_kafka_poll_set_consumer(rk);
        return rk;
}

static rd_kafka_t *make_producer(worker_t *w, const mm_config_t *cfg, char *err, size_t errsz) {
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        if (mm_kafka_conf_set(conf, "bootstrap.servers", mm_config_get_str(cfg, "brokers"), err,
                              errsz) ||
            mm_kafka_conf_set(conf, "client.id", "minutes-worker-dlq", err, errsz) ||
            mm_kafka_conf_set(conf, "enable.idempotence", "true", err, errsz) ||
            mm_kafka_conf_set(conf, "message.max.bytes", "104857600", err, errsz) ||
            mm_kafka_conf_set(conf, "linger.ms", "5", err, errsz) ||
            /* bounded: a copy not delivered by then fails and is retried by
             * mm_worker_flush_batch (with readiness red) instead of waiting 300 s */
            mm_kafka_conf_set(conf, "message.timeout.ms", mm_config_get_str(cfg, "dlq-timeout-ms"),
                              err, errsz)) {
                rd_kafka_conf_destroy(conf);
                return NULL;
        }
        /* -X applies to the producer too, but consumer-only keys would only
         * produce warnings there: pass the ones the producer understands. */
        for (size_t i = 0; i < mm_config_kafka_count(cfg); i++) {
                const char *k = mm_config_kafka_key(cfg, i);
                if (!strncmp(k, "group.", 6) || !strncmp(k, "session.", 8) ||
                    !strncmp(k, "heartbeat.", 10) || !strncmp(k, "auto.", 5) ||
                    !strncmp(k, "enable.auto", 11) || !strncmp(k, "partition.assignment", 20) ||
                    !strncmp(k, "max.poll", 8) || !strncmp(k, "fetch.", 6) ||
                    !strncmp(k, "queued.", 7) || !strcmp(k, "isolation.level") ||
                    !strcmp(k, "enable.partition.eof") || !strcmp(k, "check.crcs"))
                        continue;
                if (mm_kafka_conf_set(conf, k, mm_config_kafka_value(cfg, i), err, errsz)) {
                        rd_kafka_conf_destroy(conf);
                        return NULL;
                }
        }
        rd_kafka_conf_set_opaque(conf, w);
        rd_kafka_conf_set_error_cb(conf, error_cb);
        rd_kafka_conf_set_dr_msg_cb(conf, mm_worker_dr_msg_cb);
        rd_kafka_conf_set_log_cb(conf, mm_kafka_log_cb);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, errsz);
        if (!rk) {
                rd_kafka_conf_destroy(conf);
                return NULL;
        }
        return rk;
}

/* A store (one connection) with the pg-* limits of `cfg`. */
static mm_store_t *new_store(const mm_config_t *cfg, const char *pg, char *errstr,
                             size_t errstr_size) {
        mm_store_t *st = mm_store_new(pg, errstr, errstr_size);
        if (st)
                mm_store_set_limits(st, mm_config_get_int(cfg, "pg-connect-timeout-s"),
                                    mm_config_get_int(cfg, "pg-keepalives-idle-s"),
                                    mm_config_get_int(cfg, "pg-statement-timeout-ms"),
                                    mm_config_get_int(cfg, "pg-lock-timeout-ms"));
        return st;
}

/* The worker's settings from `cfg`, with the floors the loop relies on
 * (a batch of at least one message and one byte, a retry cap of at least
 * 100 ms, rebalance waits of at least 100 ms). */
static void read_settings(worker_t *w, const mm_config_t *cfg) {
        w->group = mm_config_get_str(cfg, "group");
        w->topic = mm_config_get_str(cfg, "topic");
        w->dlq_topic = mm_config_get_str(cfg, "dlq-topic");
        /* attachments on: also subscribe to the attachments topic (012) */
        w->att_route = mm_config_get_str(cfg, "attachments-topic");
        w->att_topic = mm_config_get_bool(cfg, "attachments") ? w->att_route : NULL;
        if (w->att_topic && (!*w->att_topic || !strcmp(w->att_topic, w->topic)))
                w->att_topic = NULL;
        w->batch_size = (size_t)(mm_config_get_int(cfg, "batch-size") > 0
                                         ? mm_config_get_int(cfg, "batch-size")
                                         : 1);
        w->batch_ms = mm_config_get_int(cfg, "batch-ms");
        w->shutdown_ms = mm_config_get_int(cfg, "shutdown-timeout-ms");
        w->retry_max_ms = mm_config_get_int(cfg, "retry-max-ms") > 100
                                  ? mm_config_get_int(cfg, "retry-max-ms")
                                  : 100;
        w->max_doc_bytes = (size_t)mm_config_get_int(cfg, "max-doc-bytes");
        w->max_batch_bytes = (size_t)mm_config_get_int(cfg, "batch-max-bytes");
        if (w->max_batch_bytes == 0)
                w->max_batch_bytes = 1;
        w->dl_payload_cap = (size_t)mm_config_get_int(cfg, "dead-letter-max-bytes");
        w->liveness_ms = mm_config_get_int(cfg, "liveness-timeout-ms");
        w->rebalance_wait_ms = mm_config_get_int(cfg, "rebalance-wait-ms");
        if (w->rebalance_wait_ms < 100)
                w->rebalance_wait_ms = 100;
}

/* The processing parts: the PostgreSQL store (not connected yet), the
 * kommune table, extraction, the parser, the batches, the read-ahead
 * stage and its own store. Returns 0, or -1 with `errstr` set (the parts
 * made so far are freed by mm_worker_destroy). */
static int open_processing(worker_t *w, const mm_config_t *cfg, char *errstr, size_t errstr_size) {
        char err[1024];
        const char *pg = mm_config_get_str(cfg, "pg");
        char masked[1024];
        mm_config_mask_secret(pg ? pg : "(PG* environment)", masked, sizeof(masked));
        snprintf(w->masked_pg, sizeof(w->masked_pg), "%s", masked);
        w->store = new_store(cfg, pg, errstr, errstr_size);
        if (!w->store)
                return -1;
        mm_store_set_wait_cb(w->store, mm_worker_free_spent, w);
        w->cls = mm_classify_new(err, sizeof(err));
        if (!w->cls) {
                snprintf(errstr, errstr_size, "kommune table: %s", err);
                return -1;
        }
        mm_extract_global_init();
        /* extraction limits and sandbox (extract-* options, max-doc-bytes) */
        if (mm_extract_configure(cfg, err, sizeof(err)) != 0) {
                snprintf(errstr, errstr_size, "%s", err);
                return -1;
        }
        w->parser = mm_parser_new(w->max_doc_bytes, err, sizeof(err));
        if (!w->parser) {
                snprintf(errstr, errstr_size, "parser: %s", err);
                return -1;
        }
        w->batch = mm_store_batch_new();
        w->spent = mm_store_batch_new();
        if (!w->batch || !w->spent) {
                snprintf(errstr, errstr_size, "out of memory");
                return -1;
        }
        /* the read-ahead stage counts attempts on a connection of its own */
        w->count_store = new_store(cfg, pg, errstr, errstr_size);
        if (!w->count_store)
                return -1;
        w->attempts = mm_attempts_new(w->group, (int)mm_config_get_int(cfg, "max-crashes"));
        if (!w->attempts) {
                snprintf(errstr, errstr_size, "out of memory");
                return -1;
        }
        w->pipe = mm_pipe_new(mm_worker_prep_message, w, w->batch_size, err, sizeof(err));
        if (!w->pipe) {
                snprintf(errstr, errstr_size, "read-ahead: %s", err);
                return -1;
        }
        return 0;
}

/* The metrics endpoint, if metrics-port is set. Before the Kafka clients:
 * make_consumer asks for statistics only when there are metrics. Returns
 * 0, or -1 with `errstr` set. */
static int start_metrics(worker_t *w, const mm_config_t *cfg, char *errstr, size_t errstr_size) {
        char err[1024];
        long long mport = mm_config_get_int(cfg, "metrics-port");
        if (mport <= 0)
                return 0;
        w->metrics = mm_metrics_new(MM_VERSION, err, sizeof(err));
        if (!w->metrics || mm_metrics_configure(w->metrics, cfg, err, sizeof(err)) != 0 ||
            mm_metrics_start(w->metrics, mm_config_get_str(cfg, "metrics-bind"), (int)mport, err,
                             sizeof(err)) != 0) {
                snprintf(errstr, errstr_size, "metrics: %s", err);
                return -1;
        }
        mm_log(MM_LOG_INFO, "metrics on port %d", mm_metrics_port(w->metrics));
        return 0;
}

/* The Kafka clients: the dead-letter producer, then the consumer. Returns
 * 0, or -1 with `errstr` set. */
static int make_clients(worker_t *w, const mm_config_t *cfg, char *errstr, size_t errstr_size) {
        char err[1024];
        w->producer = make_producer(w, cfg, err, sizeof(err));
        if (!w->producer) {
                snprintf(errstr, errstr_size, "producer: %s", err);
                return -1;
        }
        w->consumer = make_consumer(w, cfg, err, sizeof(err));
        if (!w->consumer) {
                snprintf(errstr, errstr_size, "consumer: %s", err);
                return -1;
        }
        return 0;
}

mm_worker_t *mm_worker_new(const mm_config_t *cfg, const volatile sig_atomic_t *run, char *errstr,
                           size_t errstr_size) {
        worker_t *w = calloc(1, sizeof(*w));
        if (!w) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        w->run = run;
        read_settings(w, cfg);
        if (open_processing(w, cfg, errstr, errstr_size) != 0 ||
            start_metrics(w, cfg, errstr, errstr_size) != 0 ||
            make_clients(w, cfg, errstr, errstr_size) != 0) {
                mm_worker_destroy(w);
                return NULL;
        }
        return w;
}

/* Connects PostgreSQL before the worker joins the group, retrying with
 * backoff (it may be starting). Returns 1 once connected; 0 if the worker
 * was stopped first, with the run's exit code in `*exit_code`. */
static int connect_store(worker_t *w, int *exit_code) {
        char err[1024];
        int64_t backoff = 100;
        int rc = MM_STORE_ERR_TRANSIENT;
        /* connected, and the schema is the one this worker writes through */
        while (*w->run && !w->fatal &&
               (rc = mm_store_connect(w->store, err, sizeof(err)) != 0
                             ? MM_STORE_ERR_TRANSIENT
                             : mm_store_check_schema(w->store, err, sizeof(err))) != MM_STORE_OK &&
               rc != MM_STORE_ERR_SCHEMA) {
                mm_log(MM_LOG_WARN, "PostgreSQL %s not reachable, retrying in %lld ms: %s",
                       w->masked_pg, (long long)backoff, err);
                usleep((useconds_t)backoff * 1000);
                backoff = backoff * 2 > w->retry_max_ms ? w->retry_max_ms : backoff * 2;
        }
        if (rc == MM_STORE_ERR_SCHEMA) {
                mm_log(MM_LOG_ERROR, "refusing to start: %s", err);
                *exit_code = 1;
                return 0;
        }
        if (!*w->run || w->fatal) {
                mm_log(MM_LOG_INFO, "stopped before PostgreSQL was reachable");
                *exit_code = w->fatal ? 1 : 0;
                return 0;
        }
        mm_metrics_set_db_ok(w->metrics, 1);
        return 1;
}

/* Subscribes the consumer to the input topic, and to the attachments
 * topic when attachments are on. Returns 0, or -1 (logged). */
static int subscribe_topic(worker_t *w) {
        rd_kafka_topic_partition_list_t *subs = rd_kafka_topic_partition_list_new(2);
        rd_kafka_topic_partition_list_add(subs, w->topic, RD_KAFKA_PARTITION_UA);
        if (w->att_topic)
                rd_kafka_topic_partition_list_add(subs, w->att_topic, RD_KAFKA_PARTITION_UA);
        rd_kafka_resp_err_t kerr = rd_kafka_subscribe(w->consumer, subs);
        rd_kafka_topic_partition_list_destroy(subs);
        if (kerr) {
                mm_log(MM_LOG_ERROR, "subscribe to %s failed: %s", w->topic,
                       rd_kafka_err2str(kerr));
                return -1;
        }
        return 0;
}

/* The main loop until the caller stops the worker or a fatal error:
 * consume into the batch, serve the producer and the paused partitions,
 * and write the batch when it is full (messages or bytes) or old enough. */
static void consume_loop(worker_t *w) {
        while (*w->run && !w->fatal) {
                mm_worker_heartbeat(w); /* liveness: /healthz */
                int timeout = 100;
                if (w->batch_msgs > 0) {
                        int64_t left = w->batch_started + w->batch_ms - now_ms();
                        timeout = left <= 0 ? 0 : (left < 100 ? (int)left : 100);
                }
                mm_worker_pump(w, timeout);
                rd_kafka_poll(w->producer, 0);
                mm_worker_service_pending(w);
                mm_worker_trim_if_idle(w);
                if (w->batch_msgs > 0 &&
                    (w->batch_msgs >= w->batch_size || w->batch_bytes >= w->max_batch_bytes ||
                     now_ms() - w->batch_started >= w->batch_ms)) {
                        mm_worker_fill_ahead(w); /* the stage parses while the batch is written */
                        mm_worker_flush_batch(w, 0);
                }
        }
}

static int any_job(const void *job, void *arg) {
        (void)job;
        (void)arg;
        return 1;
}

/* Graceful stop: finish the batch, commit, close within the deadline.
 * Returns the run's exit code. */
static int stop_gracefully(worker_t *w) {
        int exit_code = 0;
        mm_worker_stop_deadline_passed(w); /* starts the deadline if not yet running */
        /* The read-ahead is re-read in any case: skip what has not started,
         * and end a sandboxed run in progress (and refuse later ones) now,
         * rather than hold the stop for a slow document. Its input is put
         * aside uncounted (mm_attempts.h). */
        mm_pipe_cancel_if(w->pipe, any_job, NULL);
        mm_sandbox_shutdown(1);
        if (!w->fatal) {
                mm_log(MM_LOG_INFO, "stopping: finishing the current batch (messages: %zu)",
                       w->batch_msgs);
                if (mm_worker_flush_batch(w, 0) != 0)
                        mm_log(MM_LOG_WARN,
                               "batch not written before the deadline; it will be re-read");
        }
        /* The read-ahead stage: its messages were never part of a batch
         * (they are re-read); stop its thread, free them before closing. */
        mm_pipe_destroy(w->pipe, mm_worker_free_prep);
        w->pipe = NULL;
        /* the last input counted leaves without a verdict: never counted */
        mm_attempts_release(w->attempts, w->store, NULL, 0);
        /* Dead-letter copies still in flight belong to batch entries that are
         * about to be freed: purge them and serve their delivery reports now
         * (their offsets were not committed, so they will be re-read). */
        rd_kafka_purge(w->producer, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_flush(w->producer, 1000);
        rd_kafka_resp_err_t kerr = rd_kafka_consumer_close(w->consumer);
        if (kerr) {
                mm_log(MM_LOG_ERROR, "consumer close failed: %s", rd_kafka_err2str(kerr));
                exit_code = 1;
        } else {
                mm_log(MM_LOG_INFO, "consumer closed");
        }
        mm_worker_clear_batch(w);
        int64_t left = w->stop_at - now_ms();
        rd_kafka_flush(w->producer, (int)(left > 0 ? left : 0));
        w->closed = 1;
        if (w->fatal)
                exit_code = 1;
        return exit_code;
}

int mm_worker_run(mm_worker_t *w) {
        int exit_code = 0;
        /* Kafka clients first (a bad -X stops start-up at once), then PostgreSQL
         * before joining the group (retry: it may be starting). */
        if (!connect_store(w, &exit_code))
                return exit_code;
        if (subscribe_topic(w) != 0)
                return 1;
        mm_log(MM_LOG_INFO, "started: group %s, topic %s, attachments %s, dlq %s, PostgreSQL %s",
               w->group, w->topic, w->att_topic ? w->att_topic : "off", w->dlq_topic, w->masked_pg);
        consume_loop(w);
        return stop_gracefully(w);
}

void mm_worker_destroy(mm_worker_t *w) {
        if (!w)
                return;
        mm_pipe_destroy(w->pipe, mm_worker_free_prep); /* before any rd_kafka_destroy */
        w->pipe = NULL;
        if (w->consumer && !w->closed)
                rd_kafka_consumer_close(w->consumer);
        if (w->batch)
                mm_worker_clear_batch(w);
        if (w->consumer)
                rd_kafka_destroy(w->consumer);
        if (w->producer)
                rd_kafka_destroy(w->producer);
        mm_store_batch_destroy(w->batch);
        mm_store_batch_destroy(w->spent);
        free(w->dlq);
        free(w->poison);
        free(w->pending);
        mm_classify_destroy(w->cls);
        mm_store_destroy(w->store);
        mm_store_destroy(w->count_store);
        mm_attempts_destroy(w->attempts);
        mm_parser_destroy(w->parser);
        mm_metrics_destroy(w->metrics);
        free(w);
}
