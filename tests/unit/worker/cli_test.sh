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
    max-doc-bytes metrics-port log-level migrate config pg-startup-timeout-s; do
    grep -q -- "--$o" "$TMP/out" && pass=$((pass + 1)) || { failed=$((failed + 1)); echo "FAIL help lacks --$o"; }
done
# --help is grouped under headings, and no option is left over under "Other"
for g in '^General:' '^Kafka:' '^PostgreSQL' '^Batches' '^Documents' '^Extraction' '^Metrics'; do
    grep -q -- "$g" "$TMP/out" && pass=$((pass + 1)) || { failed=$((failed + 1)); echo "FAIL help lacks heading $g"; }
done
if sed -n '/^Other:/,$p' "$TMP/out" | grep -v -e '-X KEY=VALUE' -e '--help' | grep -q -- '--[a-z]'; then
    failed=$((failed + 1))
    echo "FAIL an option is in no group of --help:"
    sed -n '/^Other:/,$p' "$TMP/out"
else
    pass=$((pass + 1))
fi
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
# (the output is copied first: check's own redirection empties $TMP/out)
cp "$TMP/out" "$TMP/log"
check log-lines-are-json 0 '' -- python3 -c '
import json, sys
n = 0
for line in open(sys.argv[1]):
    if line.startswith("{"):
        d = json.loads(line)
        assert {"ts", "level", "msg"} <= d.keys(), line
        n += 1
assert n > 0, "no log line"
' "$TMP/log"
# A wrong --pg gives up after pg-startup-timeout-s (exit 1), not never;
# one that cannot be a PostgreSQL URL stops at once (exit 2).
t0=$SECONDS
check pg-startup-gives-up 1 'giving up after .*pg-startup-timeout-s 2' -- "$W" -b 127.0.0.1:1 \
    --pg "$NOPG" --pg-startup-timeout-s 2
[[ $((SECONDS - t0)) -le 10 ]] && pass=$((pass + 1)) || { failed=$((failed + 1)); echo "FAIL pg-startup took $((SECONDS - t0)) s"; }
check pg-bad-port 2 'port is not a number' -- "$W" -b 127.0.0.1:1 --pg "postgresql://u@h:notaport/x"
check pg-bad-url 2 'is not a PostgreSQL URL or conninfo' -- "$W" -b 127.0.0.1:1 \
    --pg "postgresql://u@h/x?no_such_parameter=1"

MOCK=(-X test.mock.num.brokers=1) # librdkafka's in-process mock cluster
check submit-no-args 2 'no FILE' -- "$S" -b 127.0.0.1:1
# No broker: one clear line, at once, instead of a log line per retry
# until every message's delivery timeout (300 s).
t0=$SECONDS
check submit-no-broker 1 '^minutes-submit: no Kafka broker answered at 127.0.0.1:1' -- "$S" \
    -b 127.0.0.1:1 --municipality X "$SEEDS/000_egedal_markdown.txt"
[[ $((SECONDS - t0)) -le 5 ]] && pass=$((pass + 1)) || { failed=$((failed + 1)); echo "FAIL submit-no-broker took $((SECONDS - t0)) s"; }
[[ $(wc -l <"$TMP/out") == 1 ]] && pass=$((pass + 1)) || { failed=$((failed + 1)); echo "FAIL submit-no-broker printed more than one line"; }
# a broker that never answers (a socket that listens and says nothing):
# --broker-timeout-ms bounds the wait
python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
print(s.getsockname()[1], flush=True); time.sleep(60)' >"$TMP/silent.port" &
SILENT=$!
for _ in $(seq 50); do [[ -s "$TMP/silent.port" ]] && break; sleep 0.1; done
t0=$SECONDS
check submit-broker-timeout 1 'no Kafka broker answered at 127.0.0.1:[0-9]+ within 1000 ms' -- "$S" \
    -b "127.0.0.1:$(cat "$TMP/silent.port")" --broker-timeout-ms 1000 --municipality X \
    "$SEEDS/000_egedal_markdown.txt"
[[ $((SECONDS - t0)) -le 6 ]] && pass=$((pass + 1)) || { failed=$((failed + 1)); echo "FAIL submit-broker-timeout took $((SECONDS - t0)) s"; }
kill "$SILENT" 2>/dev/null
wait "$SILENT" 2>/dev/null
check submit-bad-broker-timeout 2 'broker-timeout-ms must be' -- "$S" --broker-timeout-ms 0 "$TMP"
check submit-missing-file 1 'does-not-exist.txt -> not sent: No such file' -- "$S" "${MOCK[@]}" \
    "$TMP/does-not-exist.txt"
# one size limit: minutes-submit refuses what the worker would dead-letter
# as too_large (both default to 16 MiB), and both print the same default
head -c $((16 * 1024 * 1024 + 1)) /dev/zero | tr '\0' 'a' >"$TMP/big.txt"
check submit-over-limit 1 'big.txt -> not sent: .*larger than 16777216 bytes' -- "$S" "${MOCK[@]}" \
    --municipality X "$TMP/big.txt"
# One line per file (file -> key -> topic [partition] @ offset), the
# summary once.
nseeds=$(find "$SEEDS" -maxdepth 1 -name '*.txt' | wc -l)
check submit-one-line-per-file 0 "submitted $nseeds, delivered $nseeds, failed 0" -- "$S" "${MOCK[@]}" "$SEEDS"
n=$(grep -Ec '^.+\.txt -> [^ ]+ Kommune -> minutes\.raw \[[0-9]+\] @ [0-9]+$' "$TMP/out")
[[ $n == "$nseeds" ]] && pass=$((pass + 1)) || { failed=$((failed + 1)); echo "FAIL $n of $nseeds files got their line:"; cat "$TMP/out"; }
n=$(grep -c 'submitted' "$TMP/out")
[[ $n == 1 ]] && pass=$((pass + 1)) || { failed=$((failed + 1)); echo "FAIL the summary is printed $n times"; }
# A warning before an empty or binary file is sent.
: >"$TMP/empty.txt"
head -c 4096 /dev/urandom >"$TMP/random.bin"
printf 'PK\003\004 not a meeting' >"$TMP/archive.zip"
check submit-warns-empty 0 'empty.txt is empty: sending it anyway' -- "$S" "${MOCK[@]}" \
    --municipality X "$TMP/empty.txt"
check submit-warns-binary 0 'random.bin holds NUL bytes' -- "$S" "${MOCK[@]}" --municipality X \
    "$TMP/random.bin"
check submit-warns-unsupported 0 'archive.zip is not text, HTML, PDF' -- "$S" "${MOCK[@]}" \
    --municipality X "$TMP/archive.zip"
check submit-no-warning-for-text 0 'submitted 1' -- "$S" "${MOCK[@]}" "$SEEDS/000_egedal_markdown.txt"
refute submit-no-warning-for-text-2 'sending it anyway'

# minutes-lag: one sample is no trend (no STOP from it; --fail-on needs
# two); librdkafka's lines come as the JSON log, not as raw "%3|..." lines.
L="$BIN/minutes-lag"
check lag-fail-on-one-sample 2 'fail-on STOP needs --samples 2 or more' -- "$L" -b 127.0.0.1:1 --fail-on STOP
check lag-fail-on-err-one-sample 2 'metadata' -- "$L" -b 127.0.0.1:1 --fail-on ERR --timeout 1500
refute lag-raw-librdkafka-lines '^%[0-9]|'
cp "$TMP/out" "$TMP/log"
check lag-log-is-json 0 '' -- python3 -c '
import json, sys
n = 0
for line in open(sys.argv[1]):
    if line.startswith("{"):
        d = json.loads(line)
        assert d["prog"] == "minutes-lag" and d.get("component") == "librdkafka", line
        n += 1
assert n > 0, "no librdkafka line at all"
' "$TMP/log"
check lag-empty-topic-one-sample 0 'TOTAL LAG 0  STATUS OK' -- "$L" -b x "${MOCK[@]}" -t t1
check submit-limit-help 0 'MM_MAX_DOC_BYTES, default 16MiB' -- "$S" --help
check worker-limit-help 0 'MM_MAX_DOC_BYTES, default 16MiB' -- "$W" --help
echo "worker cli: $pass passed, $failed failed"
[[ $failed -eq 0 ]]
