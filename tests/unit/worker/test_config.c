/* Unit tests of mm_config: precedence, types, -X, unknown keys, masking. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mm_config.h"

static const char *fixtures;

static const mm_config_option_t table[] = {
        {"config", 'c', MM_CONFIG_STRING, NULL, "MMT_CONFIG", 0, "config file"},
        {"brokers", 'b', MM_CONFIG_STRING, "localhost:9092", "MMT_BROKERS", 0, "brokers"},
        {"group", 'g', MM_CONFIG_STRING, "minutes-ingest", "MMT_GROUP", 0, "group"},
        {"batch-size", 0, MM_CONFIG_INT, "500", "MMT_BATCH_SIZE", 0, "batch size"},
        {"max-doc-bytes", 0, MM_CONFIG_SIZE, "16MiB", "MMT_MAX", 0, "max bytes"},
        {"pg", 0, MM_CONFIG_STRING, NULL, "MMT_PG", 1, "pg url"},
        {"migrate", 0, MM_CONFIG_BOOL, "false", NULL, 0, "migrate"},
};
#define NOPT (sizeof(table) / sizeof(table[0]))

static mm_config_t *load(int argc, char **argv, int expect_ok, char *err, size_t errsz) {
        mm_config_t *c = mm_config_new(table, NOPT);
        assert_non_null(c);
        int rc = mm_config_load(c, argc, argv, err, errsz);
        if (expect_ok)
                assert_int_equal(rc, 0);
        else
                assert_int_equal(rc, -1);
        return c;
}

static void test_defaults(void **state) {
        (void)state;
        char err[256];
        char *argv[] = {"prog", NULL};
        mm_config_t *c = load(1, argv, 1, err, sizeof(err));
        assert_string_equal(mm_config_get_str(c, "brokers"), "localhost:9092");
        assert_int_equal(mm_config_get_int(c, "batch-size"), 500);
        assert_int_equal(mm_config_get_int(c, "max-doc-bytes"), 16 * 1024 * 1024);
        assert_null(mm_config_get_str(c, "pg"));
        assert_int_equal(mm_config_get_bool(c, "migrate"), 0);
        mm_config_destroy(c);
}

static void test_precedence(void **state) {
        (void)state;
        char err[256], path[512];
        snprintf(path, sizeof(path), "%s/worker.conf", fixtures);
        setenv("MMT_GROUP", "env-group", 1);
        setenv("MMT_BATCH_SIZE", "7", 1);
        char *argv[] = {"prog",      "--config", path, "--batch-size=9", "-X", "acks=all",
                        "--migrate", "extra",    NULL};
        mm_config_t *c = load(8, argv, 1, err, sizeof(err));
        /* file beats default, env beats file, flag beats env */
        assert_string_equal(mm_config_get_str(c, "brokers"), "file-broker:9092");
        assert_string_equal(mm_config_get_str(c, "group"), "env-group");
        assert_int_equal(mm_config_get_int(c, "batch-size"), 9);
        assert_int_equal(mm_config_get_int(c, "max-doc-bytes"), 2 * 1024 * 1024);
        assert_int_equal(mm_config_get_bool(c, "migrate"), 1);
        assert_int_equal(mm_config_kafka_count(c), 3);
        assert_string_equal(mm_config_kafka_key(c, 0), "session.timeout.ms");
        assert_string_equal(mm_config_kafka_value(c, 0), "7000");
        assert_string_equal(mm_config_kafka_key(c, 2), "acks");
        assert_int_equal(mm_config_arg_count(c), 1);
        assert_string_equal(mm_config_arg(c, 0), "extra");
        unsetenv("MMT_GROUP");
        unsetenv("MMT_BATCH_SIZE");
        mm_config_destroy(c);
}

static void test_short_flags_and_help(void **state) {
        (void)state;
        char err[256];
        char *argv[] = {"prog", "-b", "b1:1", "-gmygroup", "-Xclient.id=x", "-h", NULL};
        mm_config_t *c = load(6, argv, 1, err, sizeof(err));
        assert_string_equal(mm_config_get_str(c, "brokers"), "b1:1");
        assert_string_equal(mm_config_get_str(c, "group"), "mygroup");
        assert_int_equal(mm_config_kafka_count(c), 1);
        assert_int_equal(mm_config_help_requested(c), 1);
        mm_config_destroy(c);
}

static void test_errors(void **state) {
        (void)state;
        char err[256], path[512];
        char *a1[] = {"prog", "--no-such-option", NULL};
        mm_config_destroy(load(2, a1, 0, err, sizeof(err)));
        assert_non_null(strstr(err, "no-such-option"));
        char *a2[] = {"prog", "--batch-size", "lots", NULL};
        mm_config_destroy(load(3, a2, 0, err, sizeof(err)));
        assert_non_null(strstr(err, "batch-size"));
        char *a3[] = {"prog", "-X", "novalue", NULL};
        mm_config_destroy(load(3, a3, 0, err, sizeof(err)));
        /* a size whose multiplication would overflow (undefined behaviour
         * before) is refused, as is an integer out of range */
        char *a16[] = {"prog", "--max-doc-bytes", "9000000000000G", NULL};
        mm_config_destroy(load(3, a16, 0, err, sizeof(err)));
        assert_non_null(strstr(err, "max-doc-bytes"));
        char *a17[] = {"prog", "--batch-size", "99999999999999999999", NULL};
        mm_config_destroy(load(3, a17, 0, err, sizeof(err)));
        assert_non_null(strstr(err, "batch-size"));
        snprintf(path, sizeof(path), "%s/unknown-key.conf", fixtures);
        char *a4[] = {"prog", "--config", path, NULL};
        mm_config_destroy(load(3, a4, 0, err, sizeof(err)));
        assert_non_null(strstr(err, "no-such-key"));
        assert_non_null(strstr(err, ":2"));
        char *a5[] = {"prog", "--group", NULL};
        mm_config_destroy(load(2, a5, 0, err, sizeof(err)));
        setenv("MMT_MAX", "12 parsecs", 1);
        char *a6[] = {"prog", NULL};
        mm_config_destroy(load(1, a6, 0, err, sizeof(err)));
        assert_non_null(strstr(err, "MMT_MAX"));
        unsetenv("MMT_MAX");
}

static void test_mask(void **state) {
        (void)state;
        char out[256];
        mm_config_mask_secret("postgresql://user:s3cret@host:5432/db?sslmode=require", out,
                              sizeof(out));
        assert_string_equal(out, "postgresql://user:****@host:5432/db?sslmode=require");
        mm_config_mask_secret("postgres://u@h/db?password=s3cret&x=1", out, sizeof(out));
        assert_string_equal(out, "postgres://u@h/db?password=****&x=1");
        mm_config_mask_secret("host=h user=u password=s3cret dbname=d", out, sizeof(out));
        assert_string_equal(out, "host=h user=u password=**** dbname=d");
        mm_config_mask_secret("host=h password = 'a b\\' c' dbname=d", out, sizeof(out));
        assert_string_equal(out, "host=h password=**** dbname=d");
        mm_config_mask_secret("postgresql://u@h/db", out, sizeof(out));
        assert_string_equal(out, "postgresql://u@h/db");
        mm_config_mask_secret(NULL, out, sizeof(out));
        assert_string_equal(out, "");
        assert_null(strstr(out, "s3cret"));
        assert_int_equal(mm_config_is_secret_key("sasl.password"), 1);
        assert_int_equal(mm_config_is_secret_key("ssl.key.password"), 1);
        assert_int_equal(mm_config_is_secret_key("SASL.OAUTHBEARER.CONFIG"), 1);
        assert_int_equal(mm_config_is_secret_key("bootstrap.servers"), 0);
}

int main(int argc, char **argv) {
        fixtures = argc > 1 ? argv[1] : "tests/fixtures/worker";
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_precedence),
                cmocka_unit_test(test_short_flags_and_help),
                cmocka_unit_test(test_errors),
                cmocka_unit_test(test_mask),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
