#!/usr/bin/env bash
# Command-line behaviour of minutes-worker and minutes-submit that needs no
# services: option errors, -X pass-through errors, masking of secrets in
# logs, --help, and minutes-submit's exit status when delivery fails.
#   cli_test.sh BIN_DIR FIXTURES_DIR SEEDS_DIR
set -uo pipefail
BIN="$1" FIX="$2" SEEDS="$3"
W="$BIN/minutes-worker" S="$BIN/minutes-submit"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
pass=0 failed=0
check() { # check NAME EXPECTED_RC GREP_PATTERN (in stdout+stderr) -- CMD...
    local name="$1" want="$2" pat="$3"
    shift 4
    local rc=0
    timeout 20 "$@" >"$TMP/out" 2>&1 || rc=$?
    if [[ "$rc" == "$want" ]] && { [[ -z "$pat" ]] || grep -Eq -- "$pat" "$TMP/out"; }; then
        pass=$((pass + 1))
    else
        failed=$((failed + 1))
        echo "FAIL $name: exit $rc (want $want), pattern '$pat'"
        head -c 2000 "$TMP/out"
    fi
}
refute() { # refute NAME PATTERN: the last output must not contain PATTERN
    if grep -q -- "$2" "$TMP/out"; then
        failed=$((failed + 1))
        echo "FAIL $1: output contains '$2'"
    else
        pass=$((pass + 1))
    fi
}
NOPG="host=127.0.0.1 port=1 connect_timeout=1 dbname=x"

check help 0 'MM_BROKERS' -- "$W" --help
for o in brokers group topic dlq-topic pg batch-size batch-ms shutdown-timeout-ms \
    max-doc-bytes metrics-port log-level migrate config; do
    grep -q -- "--$o" "$TMP/out" && pass=$((pass + 1)) || { failed=$((failed + 1)); echo "FAIL help lacks --$o"; }
done
check unknown-option 2 'unknown option --bogus' -- "$W" --bogus
check bad-int 2 'batch-size' -- "$W" --batch-size many
check stray-argument 2 'unexpected argument' -- "$W" extra
check unknown-config-key 2 'unknown key "no-such-key"' -- "$W" --config "$FIX/unknown-key.conf"
check bad-X 2 'no.such.property' -- "$W" -X no.such.property=1 --pg "$NOPG"
check X-secret-masked 1 '"kafka_property":"sasl.password","value":"\*\*\*\*"' -- "$W" --migrate \
    --log-level debug -X sasl.password=hunter2 --pg "$NOPG"
refute X-secret-not-logged hunter2
# secrets in the debug config dump and in the PostgreSQL URL are masked
check migrate-unreachable 1 'postgresql://u:\*\*\*\*@127.0.0.1:1/db' -- "$W" --migrate --log-level debug \
    --config "$FIX/worker.conf" --pg "postgresql://u:hunter2@127.0.0.1:1/db?connect_timeout=1"
refute migrate-unreachable-masked hunter2
check log-lines-are-json 0 '' -- python3 -c '
import json, sys
for line in open(sys.argv[1]):
    if line.startswith("{"):
        d = json.loads(line)
        assert {"ts", "level", "msg"} <= d.keys(), line
' "$TMP/out"
check submit-no-args 2 'no FILE' -- "$S" -b 127.0.0.1:1
check submit-undeliverable 1 'failed 1' -- "$S" -b 127.0.0.1:1 -X message.timeout.ms=1500 \
    --municipality X "$SEEDS/000_egedal_markdown.txt"
check submit-missing-file 1 'failed 1' -- "$S" -b 127.0.0.1:1 -X message.timeout.ms=1500 \
    "$TMP/does-not-exist.txt"
# one size limit: minutes-submit refuses what the worker would dead-letter
# as too_large (both default to 16 MiB), and both print the same default
head -c $((16 * 1024 * 1024 + 1)) /dev/zero | tr '\0' 'a' >"$TMP/big.txt"
check submit-over-limit 1 'larger than 16777216 bytes' -- "$S" -b 127.0.0.1:1 \
    -X message.timeout.ms=1500 --municipality X "$TMP/big.txt"
check submit-limit-help 0 'MM_MAX_DOC_BYTES, default 16MiB' -- "$S" --help
check worker-limit-help 0 'MM_MAX_DOC_BYTES, default 16MiB' -- "$W" --help
echo "worker cli: $pass passed, $failed failed"
[[ $failed -eq 0 ]]
