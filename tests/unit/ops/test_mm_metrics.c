/* Unit tests for common/ingest/mm_metrics: serves on an ephemeral port, records
 * values, fetches /metrics, /healthz and /readyz with a tiny HTTP client and
 * validates the exposition with `promtool check metrics`.
 * Usage: test_mm_metrics PROMTOOL STATS_JSON */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mm_metrics.h"

static const char *promtool;
static const char *stats_path;

typedef struct reply_s {
        int status;
        char *body; /* malloc'd, NUL-terminated */
} reply_t;

/* HTTP/1.0 GET against 127.0.0.1:port. Returns 0 and fills *r. */
static int http_get(int port, const char *path, reply_t *r) {
        struct sockaddr_in sa;
        char req[512], *buf = NULL, *body;
        size_t len = 0, cap = 0;
        int fd, n;

        memset(r, 0, sizeof(*r));
        fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0)
                return -1;
        memset(&sa, 0, sizeof(sa));
        sa.sin_family = AF_INET;
        sa.sin_port = htons((uint16_t)port);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
                close(fd);
                return -1;
        }
        n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n", path);
        if (write(fd, req, (size_t)n) != n) {
                close(fd);
                return -1;
        }
        for (;;) {
                ssize_t got;
                if (cap - len < 4096) {
                        char *nb = realloc(buf, cap + 65536);
                        if (nb == NULL)
                                break;
                        buf = nb;
                        cap += 65536;
                }
                got = read(fd, buf + len, cap - len - 1);
                if (got <= 0)
                        break;
                len += (size_t)got;
        }
        close(fd);
        if (buf == NULL)
                return -1;
        buf[len] = '\0';
        if (sscanf(buf, "HTTP/1.%*d %d", &r->status) != 1) {
                free(buf);
                return -1;
        }
        body = strstr(buf, "\r\n\r\n");
        r->body = strdup(body ? body + 4 : "");
        free(buf);
        return r->body ? 0 : -1;
}

/* Pipes `text` into `promtool check metrics`; returns its exit status. */
static int promtool_check(const char *text) {
        char cmd[1024];
        FILE *p;
        int st;

        snprintf(cmd, sizeof(cmd), "'%s' check metrics", promtool);
        p = popen(cmd, "w");
        if (p == NULL)
                return -1;
        fputs(text, p);
        st = pclose(p);
        if (st == -1 || !WIFEXITED(st))
                return -1;
        return WEXITSTATUS(st);
}

static int has_line(const char *text, const char *line) {
        size_t l = strlen(line);
        const char *p = text;

        while ((p = strstr(p, line)) != NULL) {
                if ((p == text || p[-1] == '\n') && (p[l] == '\n' || p[l] == '\0'))
                        return 1;
                p += l;
        }
        return 0;
}

#define assert_line(text, line)                                                                    \
        do {                                                                                       \
                if (!has_line((text), (line)))                                                     \
                        fail_msg("missing line: %s\n--- got:\n%s", (line), (text));                \
        } while (0)

static char *read_file(const char *path, size_t *len) {
        FILE *f = fopen(path, "rb");
        char *buf;
        long sz;

        if (f == NULL)
                return NULL;
        fseek(f, 0, SEEK_END);
        sz = ftell(f);
        fseek(f, 0, SEEK_SET);
        buf = malloc((size_t)sz + 1);
        if (buf == NULL || fread(buf, 1, (size_t)sz, f) != (size_t)sz) {
                free(buf);
                fclose(f);
                return NULL;
        }
        fclose(f);
        buf[sz] = '\0';
        *len = (size_t)sz;
        return buf;
}

static void test_promtool_rejects_garbage(void **state) {
        (void)state;
        /* Guards the check below: promtool must be present and must fail on
     * a broken exposition, otherwise a passing check proves nothing. */
        assert_int_equal(promtool_check("# TYPE x_total counter\nx_total{code=\"a} 1\n") != 0, 1);
        assert_int_equal(
                promtool_check("# HELP ok_total Fine.\n# TYPE ok_total counter\nok_total 1\n"), 0);
}

static void test_serve_and_record(void **state) {
        mm_metrics_t *m, *m2;
        char err[256];
        reply_t r;
        int port;
        size_t slen = 0;
        char *stats;

        (void)state;
        m = mm_metrics_new("1.2.3-test", err, sizeof(err));
        assert_non_null(m);
        assert_int_equal(mm_metrics_port(m), -1);
        assert_int_equal(mm_metrics_start(m, "127.0.0.1", 0, err, sizeof(err)), 0);
        port = mm_metrics_port(m);
        assert_true(port > 0);
        assert_int_equal(mm_metrics_start(m, "127.0.0.1", 0, err, sizeof(err)), -1);

        /* a second server on the same port must fail */
        m2 = mm_metrics_new(NULL, err, sizeof(err));
        assert_non_null(m2);
        assert_int_equal(mm_metrics_start(m2, "127.0.0.1", port, err, sizeof(err)), -1);
        assert_int_equal(mm_metrics_start(m2, "not-an-ip", 0, err, sizeof(err)), -1);
        mm_metrics_destroy(m2);

        /* health */
        assert_int_equal(http_get(port, "/healthz", &r), 0);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.body, "ok\n");
        free(r.body);
        assert_int_equal(http_get(port, "/readyz", &r), 0);
        assert_int_equal(r.status, 503);
        assert_non_null(strstr(r.body, "no partitions assigned"));
        free(r.body);
        mm_metrics_set_assigned(m, 3);
        assert_int_equal(http_get(port, "/readyz", &r), 0);
        assert_int_equal(r.status, 503);
        assert_non_null(strstr(r.body, "database not reachable"));
        free(r.body);
        mm_metrics_set_db_ok(m, 1);
        assert_int_equal(mm_metrics_is_ready(m), 1);
        assert_int_equal(http_get(port, "/readyz", &r), 0);
        assert_int_equal(r.status, 200);
        free(r.body);
        assert_int_equal(http_get(port, "/nope", &r), 0);
        assert_int_equal(r.status, 404);
        free(r.body);

        /* record */
        mm_metrics_add_consumed(m, 5);
        mm_metrics_add_consumed(m, 2);
        mm_metrics_add_written(m, 4);
        mm_metrics_add_dead_letter(m, "not_minutes");
        mm_metrics_add_dead_letter(m, "not_minutes");
        mm_metrics_add_dead_letter(m, "Bad-Code\"!");
        mm_metrics_add_dead_letter(m, NULL);
        mm_metrics_observe_parse(m, 0.003);
        mm_metrics_observe_parse(m, 0.2);
        mm_metrics_observe_parse(m, 20.0);
        mm_metrics_observe_db_batch(m, 0.05);
        mm_metrics_add_db_retry(m);
        mm_metrics_add_db_retry(m);
        mm_metrics_add_db_paused(m, 1.5);
        mm_metrics_add_db_paused(m, -3.0); /* ignored */
        mm_metrics_add_rebalance(m);
        stats = read_file(stats_path, &slen);
        assert_non_null(stats);
        assert_int_equal(mm_metrics_update_stats(m, stats, slen, err, sizeof(err)), 0);
        free(stats);
        assert_int_equal(mm_metrics_update_stats(m, "{nope", 5, err, sizeof(err)), -1);

        assert_int_equal(http_get(port, "/metrics", &r), 0);
        assert_int_equal(r.status, 200);
        assert_line(r.body, "mm_worker_build_info{version=\"1.2.3-test\"} 1");
        assert_line(r.body, "mm_messages_consumed_total 7");
        assert_line(r.body, "mm_documents_written_total 4");
        assert_line(r.body, "mm_dead_letters_total{code=\"not_minutes\"} 2");
        assert_line(r.body, "mm_dead_letters_total{code=\"badcode\"} 1");
        assert_line(r.body, "mm_dead_letters_total{code=\"unknown\"} 1");
        assert_line(r.body, "mm_dead_letters_total{code=\"empty\"} 0");
        assert_line(r.body, "mm_parse_seconds_bucket{le=\"0.001\"} 0");
        assert_line(r.body, "mm_parse_seconds_bucket{le=\"0.005\"} 1");
        assert_line(r.body, "mm_parse_seconds_bucket{le=\"0.25\"} 2");
        assert_line(r.body, "mm_parse_seconds_bucket{le=\"10\"} 2");
        assert_line(r.body, "mm_parse_seconds_bucket{le=\"+Inf\"} 3");
        assert_line(r.body, "mm_parse_seconds_count 3");
        assert_line(r.body, "mm_parse_seconds_sum 20.203");
        assert_line(r.body, "mm_db_batch_seconds_bucket{le=\"0.025\"} 0");
        assert_line(r.body, "mm_db_batch_seconds_bucket{le=\"0.05\"} 1");
        assert_line(r.body, "mm_db_batch_seconds_count 1");
        assert_line(r.body, "mm_db_retries_total 2");
        assert_line(r.body, "mm_db_paused_seconds_total 1.500000");
        assert_line(r.body, "mm_db_up 1");
        assert_line(r.body, "mm_rebalances_total 1");
        assert_line(r.body, "mm_assigned_partitions 3");
        assert_line(r.body, "mm_ready 1");
        assert_line(r.body, "mm_consumer_lag{topic=\"minutes.raw\",partition=\"0\"} 50");
        assert_line(r.body, "mm_consumer_lag{topic=\"minutes.raw\",partition=\"1\"} 0");
        assert_line(r.body, "mm_consumer_lag{topic=\"minutes.raw\",partition=\"5\"} 400");
        assert_line(r.body, "mm_consumer_lag{topic=\"minutes.raw\",partition=\"3\"} 42");
        assert_null(strstr(r.body, "partition=\"2\""));
        assert_null(strstr(r.body, "minutes.raw.dlq"));
        assert_line(r.body,
                    "mm_partition_high_watermark{topic=\"minutes.raw\",partition=\"0\"} 1500");
        assert_line(r.body,
                    "mm_partition_committed_offset{topic=\"minutes.raw\",partition=\"5\"} 600");
        assert_line(r.body, "mm_stats_errors_total 1");
        assert_int_equal(promtool_check(r.body), 0);
        free(r.body);

        /* a new statistics document replaces the partition set; label values
     * are escaped */
        {
                static const char two[] =
                        "{\"topics\":{\"a\\\"b\\\\c\":{\"partitions\":{\"9\":{\"partition\":9,"
                        "\"fetch_state\":\"active\",\"hi_offset\":10,\"committed_offset\":4,"
                        "\"consumer_lag\":6}}}}}";
                char *text;
                size_t tlen = 0;
                assert_int_equal(mm_metrics_update_stats(m, two, strlen(two), err, sizeof(err)), 0);
                text = mm_metrics_render(m, &tlen);
                assert_non_null(text);
                assert_int_equal(strlen(text), tlen);
                assert_line(text, "mm_consumer_lag{topic=\"a\\\"b\\\\c\",partition=\"9\"} 6");
                assert_null(strstr(text, "topic=\"minutes.raw\""));
                assert_int_equal(promtool_check(text), 0);
                free(text);
        }

        /* readiness drops with the database */
        mm_metrics_set_db_ok(m, 0);
        assert_int_equal(http_get(port, "/readyz", &r), 0);
        assert_int_equal(r.status, 503);
        free(r.body);
        assert_int_equal(http_get(port, "/metrics", &r), 0);
        assert_line(r.body, "mm_ready 0");
        free(r.body);

        mm_metrics_destroy(m);
}

static void test_null_is_noop(void **state) {
        char err[64];

        (void)state;
        mm_metrics_add_consumed(NULL, 1);
        mm_metrics_add_written(NULL, 1);
        mm_metrics_add_dead_letter(NULL, "x");
        mm_metrics_observe_parse(NULL, 1);
        mm_metrics_observe_db_batch(NULL, 1);
        mm_metrics_add_db_retry(NULL);
        mm_metrics_add_db_paused(NULL, 1);
        mm_metrics_add_rebalance(NULL);
        mm_metrics_set_assigned(NULL, 1);
        mm_metrics_set_db_ok(NULL, 1);
        assert_int_equal(mm_metrics_is_ready(NULL), 0);
        assert_int_equal(mm_metrics_update_stats(NULL, "x", 1, err, sizeof(err)), 0);
        assert_int_equal(mm_metrics_port(NULL), -1);
        mm_metrics_destroy(NULL);
}

static void test_many_codes(void **state) {
        mm_metrics_t *m;
        char err[64], code[32], *text;
        int i;

        (void)state;
        m = mm_metrics_new(NULL, err, sizeof(err));
        assert_non_null(m);
        for (i = 0; i < 100; i++) {
                snprintf(code, sizeof(code), "code_%d", i);
                mm_metrics_add_dead_letter(m, code);
        }
        text = mm_metrics_render(m, NULL);
        assert_non_null(text);
        /* 4 built-in codes + 60 new ones, the remaining 40 as "other" */
        assert_line(text, "mm_dead_letters_total{code=\"code_59\"} 1");
        assert_null(strstr(text, "code=\"code_60\""));
        assert_line(text, "mm_dead_letters_total{code=\"other\"} 40");
        assert_int_equal(promtool_check(text), 0);
        free(text);
        mm_metrics_destroy(m);
}

/* A clock the test moves by hand: liveness is tested without sleeping. */
static int64_t fake_now = 1000;
static int64_t fake_clock(void) {
        return fake_now;
}

static void test_liveness(void **state) {
        mm_metrics_t *m;
        char err[256], why[160];
        reply_t r;
        int port;

        (void)state;
        m = mm_metrics_new(NULL, err, sizeof(err));
        assert_non_null(m);
        mm_metrics_set_clock(m, fake_clock);
        mm_metrics_set_liveness_timeout(m, 5000);
        assert_int_equal(mm_metrics_start(m, "127.0.0.1", 0, err, sizeof(err)), 0);
        port = mm_metrics_port(m);

        /* not armed before the first turn (start-up waits for PostgreSQL) */
        fake_now = 1000000;
        assert_int_equal(mm_metrics_is_live(m, why, sizeof(why)), 1);
        fake_now = 1000;
        mm_metrics_heartbeat(m);
        fake_now = 6000; /* exactly the timeout: still live */
        assert_int_equal(mm_metrics_is_live(m, NULL, 0), 1);
        assert_int_equal(http_get(port, "/healthz", &r), 0);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.body, "ok\n");
        free(r.body);

        fake_now = 6001; /* one ms past it: the loop is stuck */
        assert_int_equal(mm_metrics_is_live(m, why, sizeof(why)), 0);
        assert_non_null(strstr(why, "main loop stalled: no turn for 5.0 s"));
        assert_int_equal(http_get(port, "/healthz", &r), 0);
        assert_int_equal(r.status, 503);
        assert_string_equal(r.body,
                            "main loop stalled: no turn for 5.0 s (liveness-timeout-ms 5000)\n");
        free(r.body);
        fake_now = 13500;
        assert_int_equal(http_get(port, "/metrics", &r), 0);
        assert_line(r.body, "mm_main_loop_last_turn_age_seconds 12.500");
        assert_int_equal(promtool_check(r.body), 0);
        free(r.body);

        /* the next turn makes it live again */
        mm_metrics_heartbeat(m);
        assert_int_equal(http_get(port, "/healthz", &r), 0);
        assert_int_equal(r.status, 200);
        free(r.body);

        /* 0 = never fails */
        mm_metrics_set_liveness_timeout(m, 0);
        fake_now += 86400000;
        assert_int_equal(mm_metrics_is_live(m, why, sizeof(why)), 1);
        mm_metrics_destroy(m);
        assert_int_equal(mm_metrics_is_live(NULL, why, sizeof(why)), 1);
        mm_metrics_heartbeat(NULL);
}

static const mm_config_option_t config_table[] = {
        {"liveness-timeout-ms", 0, MM_CONFIG_INT, "60000", NULL, 0, "liveness"},
        {"low-confidence", 0, MM_CONFIG_STRING, "0.6", NULL, 0, "threshold"},
};

/* Loads `argv` (NULL-terminated, after the program name) and configures a
 * fresh registry with it; returns mm_metrics_configure's result. */
static int configure_with(mm_metrics_t **out, char **args) {
        char *argv[8] = {"test"};
        char err[256];
        int argc = 1, rc;
        mm_config_t *cfg = mm_config_new(config_table, 2);

        while (args && args[argc - 1])
                argv[argc] = args[argc - 1], argc++;
        assert_int_equal(mm_config_load(cfg, argc, argv, err, sizeof(err)), 0);
        *out = mm_metrics_new(NULL, err, sizeof(err));
        assert_non_null(*out);
        rc = mm_metrics_configure(*out, cfg, err, sizeof(err));
        mm_config_destroy(cfg);
        return rc;
}

static void test_configure(void **state) {
        mm_metrics_t *m;
        char why[160];
        json_t *doc = json_pack("{s:f,s:s}", "confidence", 0.35, "municipality", "Vejle Kommune");
        char *ok_args[] = {"--liveness-timeout-ms=2000", "--low-confidence=0.3", NULL};
        char *bad[][2] = {{"--low-confidence=abc", NULL},
                          {"--low-confidence=1.5", NULL},
                          {"--low-confidence=0.5x", NULL},
                          {"--liveness-timeout-ms=-1", NULL}};

        (void)state;
        /* the defaults: 60 s, 0.6 */
        assert_int_equal(configure_with(&m, NULL), 0);
        mm_metrics_set_clock(m, fake_clock);
        fake_now = 0;
        mm_metrics_heartbeat(m);
        fake_now = 60000;
        assert_int_equal(mm_metrics_is_live(m, why, sizeof(why)), 1);
        fake_now = 60001;
        assert_int_equal(mm_metrics_is_live(m, why, sizeof(why)), 0);
        mm_metrics_observe_confidence(m, doc);
        char *text = mm_metrics_render(m, NULL);
        assert_line(text, "mm_documents_low_confidence_total{municipality=\"Vejle Kommune\"} 1");
        free(text);
        mm_metrics_destroy(m);

        assert_int_equal(configure_with(&m, ok_args), 0);
        mm_metrics_set_clock(m, fake_clock);
        fake_now = 0;
        mm_metrics_heartbeat(m);
        fake_now = 2001;
        assert_int_equal(mm_metrics_is_live(m, why, sizeof(why)), 0);
        mm_metrics_observe_confidence(m, doc); /* 0.35 is not below 0.3 */
        text = mm_metrics_render(m, NULL);
        assert_null(strstr(text, "municipality="));
        free(text);
        mm_metrics_destroy(m);

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                assert_int_equal(configure_with(&m, bad[i]), -1);
                mm_metrics_destroy(m);
        }
        json_decref(doc);
}

static void test_low_confidence(void **state) {
        mm_metrics_t *m;
        char err[64], name[64], *text;
        /* 30 x "Ø" (2 bytes each) + "x": cut at 79 bytes it would end in half
         * an "Ø" were the cut not aligned to a character */
        char longname[128] = "x";

        (void)state;
        for (int i = 0; i < 50; i++)
                strcat(longname, "\xc3\x98");
        m = mm_metrics_new(NULL, err, sizeof(err));
        assert_non_null(m);
        static const char *const docs[] = {
                "{\"confidence\":0.5,\"municipality\":\"Hedensted Kommune\"}",
                "{\"confidence\":0.1,\"municipality\":\"Hedensted Kommune\"}",
                "{\"confidence\":0.6,\"municipality\":\"Hedensted Kommune\"}", /* not below */
                "{\"confidence\":0.95,\"municipality\":\"Randers Kommune\"}",
                "{\"confidence\":0,\"municipality\":null}",
                "{\"confidence\":0.2}",
                "{\"municipality\":\"Aarhus Kommune\"}",                        /* no confidence */
                "{\"confidence\":\"0.1\",\"municipality\":\"Aarhus Kommune\"}", /* not a number */
                "{\"confidence\":0.3,\"municipality\":\"Sk\\\"ve\\nKommune\"}",
        };
        for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
                json_t *d = json_loads(docs[i], JSON_REJECT_DUPLICATES, NULL);
                assert_non_null(d);
                mm_metrics_observe_confidence(m, d);
                json_decref(d);
        }
        {
                json_t *d = json_pack("{s:f,s:s}", "confidence", 0.1, "municipality", longname);
                mm_metrics_observe_confidence(m, d);
                json_decref(d);
        }
        mm_metrics_observe_confidence(m, NULL);
        mm_metrics_observe_confidence(NULL, NULL);
        text = mm_metrics_render(m, NULL);
        assert_non_null(text);
        assert_line(text,
                    "mm_documents_low_confidence_total{municipality=\"Hedensted Kommune\"} 2");
        assert_line(text, "mm_documents_low_confidence_total{municipality=\"unknown\"} 2");
        assert_line(text, "mm_documents_low_confidence_total{municipality=\"Sk\\\"veKommune\"} 1");
        assert_null(strstr(text, "Randers"));
        assert_null(strstr(text, "Aarhus"));
        {
                /* "x" + 39 whole "Ø": 79 bytes, no half character */
                char want[200] = "mm_documents_low_confidence_total{municipality=\"x";
                for (int i = 0; i < 39; i++)
                        strcat(want, "\xc3\x98");
                strcat(want, "\"} 1");
                assert_line(text, want);
        }
        assert_int_equal(promtool_check(text), 0);
        free(text);

        /* label values are bounded: the 129th municipality is "other" */
        for (int i = 0; i < 140; i++) {
                json_t *d;
                snprintf(name, sizeof(name), "Kommune %d", i);
                d = json_pack("{s:f,s:s}", "confidence", 0.1, "municipality", name);
                mm_metrics_observe_confidence(m, d);
                json_decref(d);
        }
        text = mm_metrics_render(m, NULL);
        assert_line(text, "mm_documents_low_confidence_total{municipality=\"Kommune 123\"} 1");
        assert_null(strstr(text, "\"Kommune 124\""));
        assert_line(text, "mm_documents_low_confidence_total{municipality=\"other\"} 16");
        assert_int_equal(promtool_check(text), 0);
        free(text);
        mm_metrics_destroy(m);
}

int main(int argc, char **argv) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_promtool_rejects_garbage),
                cmocka_unit_test(test_serve_and_record),
                cmocka_unit_test(test_null_is_noop),
                cmocka_unit_test(test_many_codes),
                cmocka_unit_test(test_liveness),
                cmocka_unit_test(test_configure),
                cmocka_unit_test(test_low_confidence),
        };

        if (argc != 3) {
                fprintf(stderr, "usage: %s PROMTOOL STATS_JSON\n", argv[0]);
                return 2;
        }
        promtool = argv[1];
        stats_path = argv[2];
        signal(SIGPIPE, SIG_IGN);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
