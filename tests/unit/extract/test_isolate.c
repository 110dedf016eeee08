/*
 * mm_isolate: the export adapters under the sandbox's limits (issue 19,
 * defect 2). The binary has its own copies of mm_isolate.c and
 * mm_sandbox.c built with the test hooks: in the sandbox child, an export
 * holding MM_EXTRACT_TEST_SPIN/_HOG/_CRASH spins, eats memory or
 * segfaults inside the adapter's run, as an adversarial export would.
 *
 * usage: test_isolate FIXTURES_DIR
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mm_extract.h"
#include "mm_isolate.h"
#include "mm_parser.h"
#include "mm_source.h"

static const char *g_fix;
static mm_parser_t *g_parser;

static char *read_fixture(const char *rel, size_t *len) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", g_fix, rel);
        FILE *f = fopen(path, "rb");
        if (!f)
                fail_msg("cannot open %s", path);
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        char *b = malloc((size_t)n + 1);
        assert_non_null(b);
        assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
        fclose(f);
        b[n] = '\0';
        *len = (size_t)n;
        return b;
}

#define FA_FIXTURE    "firstagenda/2024-02-05_okonomiudvalget_e0627ff2.json"
#define SBSYS_FIXTURE "sbsys/01_social-og-sundhedsudvalget_dagsorden_2024-09-10.xml"

/* `buf` with `marker` inserted after the first occurrence of `after`. */
static char *with_marker(const char *buf, size_t len, const char *after, const char *marker,
                         size_t *out_len) {
        const char *at = strstr(buf, after);
        assert_non_null(at);
        size_t pre = (size_t)(at - buf) + strlen(after), m = strlen(marker);
        char *out = malloc(len + m + 1);
        assert_non_null(out);
        memcpy(out, buf, pre);
        memcpy(out + pre, marker, m);
        memcpy(out + pre + m, buf + pre, len - pre);
        out[len + m] = '\0';
        *out_len = len + m;
        return out;
}

static void set_sandbox(long cpu_seconds, size_t max_memory, int on) {
        mm_extract_limits_t l;
        mm_extract_limits_default(&l);
        l.cpu_seconds = cpu_seconds;
        l.max_memory = max_memory;
        l.sandbox = on;
        mm_extract_set_limits(&l);
}

static void no_children_left(void) {
        errno = 0;
        assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
        assert_int_equal(errno, ECHILD);
}

/* Parses `buf` in-process and through the sandbox: the same model, text
 * and adapter. */
static void same_both_ways(const char *buf, size_t len, const char *ct, mm_isolate_mode_t mode,
                           const char *adapter) {
        mm_source_result_t a, b;
        mm_parse_error_t ea, eb;
        assert_int_equal(mm_source_parse(g_parser, buf, len, ct, &a, &ea), 0);
        set_sandbox(30, 512u << 20, 1);
        if (mm_isolate_parse(g_parser, buf, len, ct, mode, &b, &eb) != 0)
                fail_msg("isolated parse failed: %s: %s", eb.code, eb.reason);
        assert_string_equal(a.adapter, adapter);
        assert_string_equal(b.adapter, adapter);
        assert_true(json_equal(a.doc, b.doc));
        assert_int_equal(a.text_len, b.text_len);
        assert_memory_equal(a.text, b.text, a.text_len);
        mm_source_result_clear(&a);
        mm_source_result_clear(&b);
}

static void test_same_model(void **state) {
        (void)state;
        size_t len = 0;
        char *fa = read_fixture(FA_FIXTURE, &len);
        same_both_ways(fa, len, NULL, MM_ISOLATE_EXPORTS, "firstagenda");
        free(fa);
        char *sb = read_fixture(SBSYS_FIXTURE, &len);
        same_both_ways(sb, len, NULL, MM_ISOLATE_EXPORTS, "sbsys");
        free(sb);
        char *txt = read_fixture("minutes/000_egedal_markdown.txt", &len);
        same_both_ways(txt, len, "text/plain", MM_ISOLATE_ALL, "text");
        free(txt);
        no_children_left();
}

/* Expects the isolated parse of `buf` to fail with `code` at stage extract. */
static void isolated_fails(const char *buf, size_t len, const char *ct, const char *code) {
        mm_source_result_t r;
        mm_parse_error_t e;
        assert_int_equal(mm_isolate_parse(g_parser, buf, len, ct, MM_ISOLATE_EXPORTS, &r, &e), -1);
        if (strcmp(e.code, code) != 0)
                fail_msg("%s (%s) instead of %s", e.code, e.reason, code);
        assert_null(r.doc);
        assert_string_equal(r.stage, "extract");
        assert_true(strlen(e.reason) > 0);
}

/* An export that burns CPU in its adapter is stopped by the CPU limit and
 * is the document's extract_limit; the caller lives on and parses the next
 * export. Before mm_isolate the adapter ran in the caller, unlimited. */
static void test_export_cpu_limit(void **state) {
        (void)state;
        size_t len = 0, mlen = 0;
        char *fa = read_fixture(FA_FIXTURE, &len);
        char *spin = with_marker(fa, len, "\"SagsNummer\": \"", "MM_EXTRACT_TEST_SPIN ", &mlen);
        set_sandbox(1, 512u << 20, 1);
        isolated_fails(spin, mlen, MM_SOURCE_CT_FIRSTAGENDA, "extract_limit");
        char *sb = read_fixture(SBSYS_FIXTURE, &len);
        char *sspin = with_marker(sb, len, "?>", "<!-- MM_EXTRACT_TEST_SPIN -->", &mlen);
        isolated_fails(sspin, mlen, NULL, "extract_limit");
        same_both_ways(fa, strlen(fa), NULL, MM_ISOLATE_EXPORTS, "firstagenda");
        free(spin);
        free(sspin);
        free(sb);
        free(fa);
        no_children_left();
}

/* An export that eats memory in its adapter reaches the memory limit
 * (reported by the child): extract_limit. (RLIMIT_AS is not set under
 * ASan.) An adapter that crashes: extract_crash. */
static void test_export_memory_and_crash(void **state) {
        (void)state;
        size_t len = 0, mlen = 0;
        char *fa = read_fixture(FA_FIXTURE, &len);
#if !defined(__SANITIZE_ADDRESS__)
        char *hog = with_marker(fa, len, "\"SagsNummer\": \"", "MM_EXTRACT_TEST_HOG ", &mlen);
        set_sandbox(30, 64u << 20, 1);
        isolated_fails(hog, mlen, NULL, "extract_limit");
        free(hog);
#endif
        char *crash = with_marker(fa, len, "\"SagsNummer\": \"", "MM_EXTRACT_TEST_CRASH ", &mlen);
        set_sandbox(30, 512u << 20, 1);
        isolated_fails(crash, mlen, NULL, "extract_crash");
        free(crash);
        free(fa);
        no_children_left();
}

/* Its ordinary errors come back as they are (export_invalid, stage parse). */
static void test_export_error_passed_back(void **state) {
        (void)state;
        const char *bad = "{\"Dagsordenpunkter\": 7}";
        mm_source_result_t r, r2;
        mm_parse_error_t e, e2;
        set_sandbox(30, 512u << 20, 1);
        int rc = mm_isolate_parse(g_parser, bad, strlen(bad), MM_SOURCE_CT_FIRSTAGENDA,
                                  MM_ISOLATE_EXPORTS, &r, &e);
        int rc2 = mm_source_parse(g_parser, bad, strlen(bad), MM_SOURCE_CT_FIRSTAGENDA, &r2, &e2);
        assert_int_equal(rc, -1);
        assert_int_equal(rc2, -1);
        assert_string_equal(e.code, e2.code);
        assert_string_equal(e.reason, e2.reason);
        assert_string_equal(r.stage, r2.stage);
        assert_string_equal(r.adapter, r2.adapter);
        mm_source_result_clear(&r);
        mm_source_result_clear(&r2);
}

/* No process for the child: extract_transient, never run in the caller. */
static void test_export_no_fork(void **state) {
        (void)state;
        size_t len = 0, mlen = 0;
        char *fa = read_fixture(FA_FIXTURE, &len);
        char *crash = with_marker(fa, len, "\"SagsNummer\": \"", "MM_EXTRACT_TEST_CRASH ", &mlen);
        set_sandbox(30, 512u << 20, 1);
        setenv("MM_SANDBOX_TEST_FAIL_FORK", "1", 1);
        isolated_fails(fa, len, NULL, "extract_transient");
        isolated_fails(crash, mlen, NULL, "extract_transient");
        unsetenv("MM_SANDBOX_TEST_FAIL_FORK");
        free(crash);
        free(fa);
}

int main(int argc, char **argv) {
        if (argc != 2) {
                fprintf(stderr, "usage: test_isolate FIXTURES_DIR\n");
                return 2;
        }
        g_fix = argv[1];
        mm_extract_global_init();
        char err[256];
        g_parser = mm_parser_new(0, err, sizeof err);
        if (!g_parser) {
                fprintf(stderr, "parser: %s\n", err);
                return 1;
        }
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_same_model),
                cmocka_unit_test(test_export_cpu_limit),
                cmocka_unit_test(test_export_memory_and_crash),
                cmocka_unit_test(test_export_error_passed_back),
                cmocka_unit_test(test_export_no_fork),
        };
        int rc = cmocka_run_group_tests_name("extract_isolate", tests, NULL, NULL);
        mm_parser_destroy(g_parser);
        return rc == 0 ? 0 : 1;
}
