/* Unit tests of the error classification of minutes-worker (no services):
 * which PostgreSQL errors make a document poison (only what its content can
 * cause) and which dead-letter producer errors are permanent. Table-driven:
 * one row per SQLSTATE class of PostgreSQL 15 (Appendix A), plus the
 * specific codes issue 11 names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>

#include "mm_store.h"
#include "mm_worker.h"

#define D MM_STORE_ERR_DATA
#define S MM_STORE_ERR_TRANSIENT /* systemic: keep the batch, retry */
#define F MM_STORE_ERR_FENCED
#define L MM_STORE_ERR_LIMIT /* a program limit: the isolation decides */

static const struct {
        const char *state, *what;
        int want;
} sqlstates[] = {
        {"00000", "successful completion (never an error here)", S},
        {"01000", "warning", S},
        {"02000", "no data", S},
        {"03000", "SQL statement not yet complete", S},
        {"08006", "connection failure", S},
        {"08001", "cannot connect", S},
        {"09000", "triggered action exception", S},
        {"0A000", "feature not supported", S},
        {"0B000", "invalid transaction initiation", S},
        {"0F000", "locator exception", S},
        {"0L000", "invalid grantor", S},
        {"0P000", "invalid role specification", S},
        {"0Z000", "diagnostics exception", S},
        {"20000", "case not found", S},
        {"21000", "cardinality violation", S},
        {"22008", "datetime field overflow (year 0000)", D},
        {"22003", "numeric value out of range", D},
        {"22P02", "invalid text representation", D},
        {"22P05", "untranslatable character", D},
        {"22021", "character not in repertoire", D},
        {"23505", "unique violation", D},
        {"23502", "not null violation", D},
        {"23514", "check violation", D},
        {"24000", "invalid cursor state", S},
        {"25006", "read-only SQL transaction (failover)", S},
        {"25P02", "in failed SQL transaction", S},
        {"26000", "invalid SQL statement name", S},
        {"27000", "triggered data change violation", S},
        {"28000", "invalid authorization specification", S},
        {"28P01", "invalid password", S},
        {"2B000", "dependent privilege descriptors still exist", S},
        {"2D000", "invalid transaction termination", S},
        {"2F000", "SQL routine exception", S},
        {"34000", "invalid cursor name", S},
        {"38000", "external routine exception", S},
        {"39000", "external routine invocation exception", S},
        {"3B000", "savepoint exception", S},
        {"3D000", "invalid catalog name", S},
        {"3F000", "invalid schema name", S},
        {"40001", "serialization failure", S},
        {"40P01", "deadlock detected", S},
        {"42501", "insufficient privilege (missing grant)", S},
        {"42883", "undefined function (schema not migrated)", S},
        {"42P01", "undefined table", S},
        {"44000", "with check option violation", S},
        {"53100", "disk full", S},
        {"53200", "out of memory", S},
        {"54000", "program limit exceeded (index row too big, jsonb too big)", L},
        {"54001", "statement too complex", L},
        {"55000", "object not in prerequisite state", S},
        {"55P03", "lock not available (lock_timeout)", S},
        {"57014", "query canceled (statement_timeout)", S},
        {"57P01", "admin shutdown", S},
        {"57P03", "cannot connect now", S},
        {"58030", "io error", S},
        {"72000", "snapshot too old", S},
        {"F0000", "config file error", S},
        {"HV000", "FDW error", S},
        {"P0001", "raise exception (no code of ours)", S},
        {"XX000", "internal error", S},
        {"XX001", "data corrupted", S},
        {"MM001", "offset fence", F},
        {"MM002", "project validation code", D},
};

static void test_sqlstates(void **state) {
        (void)state;
        int bad = 0;
        for (size_t i = 0; i < sizeof(sqlstates) / sizeof(sqlstates[0]); i++) {
                int got = mm_store_classify_sqlstate(sqlstates[i].state);
                if (got != sqlstates[i].want) {
                        print_error("%s (%s): got %d, want %d\n", sqlstates[i].state,
                                    sqlstates[i].what, got, sqlstates[i].want);
                        bad++;
                }
        }
        /* no answer from the server at all: systemic */
        if (mm_store_classify_sqlstate(NULL) != S || mm_store_classify_sqlstate("") != S ||
            mm_store_classify_sqlstate("22") != S)
                bad++;
        assert_int_equal(bad, 0);
}

/* The verdict of an isolation (issue 19, defect 3): what each document
 * gave alone, what the minimal valid document gave, and which documents
 * are at fault. A program limit that one document gives alone (a 3,000
 * character meeting key: SQLSTATE 54000) is that document's fault. */
static void test_isolation_verdict(void **state) {
        (void)state;
        static const struct {
                int alone[3];
                size_t n;
                int probe, want;
                int fault[3];
        } rows[] = {
                {{MM_STORE_OK, L, MM_STORE_OK}, 3, MM_STORE_OK, 1, {0, 1, 0}},
                {{MM_STORE_OK, D, L}, 3, MM_STORE_OK, 2, {0, 1, 1}},
                {{L, L, L}, 3, MM_STORE_OK, 3, {1, 1, 1}}, /* the probe passes */
                {{L, L, L}, 3, L, 0, {0, 0, 0}},           /* so does the probe: systemic */
                {{D, D, D}, 3, S, 0, {0, 0, 0}},
                {{MM_STORE_OK, MM_STORE_OK, MM_STORE_OK}, 3, MM_STORE_OK, 0, {0, 0, 0}},
                {{L, S, MM_STORE_OK}, 3, MM_STORE_OK, -1, {0, 0, 0}},
                {{D, F, MM_STORE_OK}, 3, MM_STORE_OK, -1, {0, 0, 0}},
                {{L}, 1, MM_STORE_OK, 1, {1}},
                {{0}, 0, MM_STORE_OK, 0, {0}},
        };
        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
                int fault[3] = {9, 9, 9};
                int got =
                        mm_store_isolation_verdict(rows[i].alone, rows[i].n, rows[i].probe, fault);
                if (got != rows[i].want)
                        print_error("row %zu: got %d, want %d\n", i, got, rows[i].want);
                assert_int_equal(got, rows[i].want);
                for (size_t k = 0; got >= 0 && k < rows[i].n; k++)
                        assert_int_equal(fault[k], rows[i].fault[k]);
        }
}

static void test_dlq_errors(void **state) {
        (void)state;
        static const struct {
                rd_kafka_resp_err_t err;
                int permanent;
        } rows[] = {
                {RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, 1},
                {RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, 1},
                {RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC, 1},
                {RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, 1},
                {RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED, 1},
                {RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, 0},
                {RD_KAFKA_RESP_ERR__TRANSPORT, 0},
                {RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, 0},
                {RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, 0},
                {RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, 0},
        };
        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
                if (mm_worker_dlq_error_permanent(rows[i].err) != rows[i].permanent)
                        print_error("%s: want permanent=%d\n", rd_kafka_err2name(rows[i].err),
                                    rows[i].permanent);
                assert_int_equal(mm_worker_dlq_error_permanent(rows[i].err), rows[i].permanent);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sqlstates),
                cmocka_unit_test(test_isolation_verdict),
                cmocka_unit_test(test_dlq_errors),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
