#!/usr/bin/env bash
# Integration test of a running worker's health and metrics endpoints
# (tests/services/services.sh: real Kafka + PostgreSQL). ctest:
# metrics_integration, label integration.
#
#   tests/ops/metrics-it.sh BINDIR [RUNDIR]
#
# BINDIR holds minutes-worker, minutes-submit and minutes-lag. While no
# worker runs, submits 300 distinct meetings (variants of the seeds, spread
# over 3 partitions) plus one text that is not minutes: minutes-lag must
# show lag on every partition and --max-lag 0 must exit 1. Then starts a
# worker and checks /healthz, /readyz, that mm_consumer_lag first rises
# above 0 and then returns to 0 on every partition, that the document,
# message and dead-letter counters match what was sent exactly,
# `promtool check metrics` on the live output, and minutes-lag --max-lag 0
# exiting 0. Last, liveness: PostgreSQL stops answering (its processes are
# stopped, as in a network partition) while a batch is written, so the
# worker's main loop hangs; /healthz must fail, and recover once
# PostgreSQL answers again.
# Prints "metrics-it: N passed, M failed"; exit 0 only if M == 0.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SERVICES="$HERE/../services/services.sh"
SEEDS="${MM_SEEDS_DIR:-$HERE/../fixtures/minutes}"
VARIANTS="${MM_METRICS_IT_DOCS:-300}"
DEADLINE="${MM_METRICS_IT_TIMEOUT:-120}"

if [[ $# -lt 1 ]]; then
    sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
fi
BIN="$1"
WORKER_PID=""
PG_STOPPED=""
# shellcheck source=tests/services/harness.sh
source "$HERE/../services/harness.sh"
harness_before_stop() {
    # shellcheck disable=SC2086
    [[ -z "$PG_STOPPED" ]] || kill -CONT $PG_STOPPED 2>/dev/null
    if [[ -n "$WORKER_PID" ]] && kill -0 "$WORKER_PID" 2>/dev/null; then
        kill -TERM "$WORKER_PID" 2>/dev/null
        wait "$WORKER_PID" 2>/dev/null
    fi
}
harness_init metrics-it "${2:-}"

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# http PATH: prints "STATUS" on line 1 and the body after it
http() {
    curl -s -o "$RUNDIR/body" -w '%{http_code}\n' "http://127.0.0.1:$PORT$1"
    cat "$RUNDIR/body" 2>/dev/null
}

# metric VALUE of an exact series line prefix, e.g. metric 'mm_ready'
metric() {
    curl -s "http://127.0.0.1:$PORT/metrics" | awk -v m="$1" '$1 == m {print $2}'
}

# wait_for NAME SHELL-CONDITION: polls the condition until it holds or the
# deadline passes (the deadline bounds the wait; it decides nothing).
wait_for() {
    local name="$1" cond="$2" end=$((SECONDS + DEADLINE))
    while ((SECONDS < end)); do
        if eval "$cond"; then
            ok "$name"
            return 0
        fi
        if [[ -n "$WORKER_PID" ]] && ! kill -0 "$WORKER_PID" 2>/dev/null; then
            bad "$name (worker exited)"
            tail -20 "$RUNDIR/worker.log" | sed 's/^/    /'
            return 1
        fi
        sleep 0.5
    done
    bad "$name (not within ${DEADLINE}s)"
    return 1
}

for tool in curl promtool python3; do
    command -v "$tool" >/dev/null 2>&1 || { bad "$tool not installed"; finish; }
done
mapfile -t seeds < <(find "$SEEDS" -maxdepth 1 -type f -name '*.txt' | sort)
if [[ ${#seeds[@]} -lt 1 ]]; then
    bad "no seed documents in $SEEDS"
    finish
fi

if ! "$SERVICES" start "$RUNDIR"; then
    bad "services start"
    finish
fi
# shellcheck disable=SC1091
source "$RUNDIR/env"
export KAFKA_BOOTSTRAP
B="$KAFKA_BOOTSTRAP"
TOPIC=minutes.raw
GROUP=metrics-it

if "$HERE/../services/kafka-topics.sh" --create "$TOPIC" 3 >/dev/null &&
    "$HERE/../services/kafka-topics.sh" --create "$TOPIC.dlq" 1 >/dev/null; then
    ok "create topics"
else
    bad "create topics"
    finish
fi
if "$BIN/minutes-worker" --migrate --pg "$MM_PG_OWNER_URL" >"$RUNDIR/migrate.log" 2>&1; then
    ok "migrate"
else
    bad "migrate"
    sed 's/^/    /' "$RUNDIR/migrate.log"
    finish
fi

# Phase 1: a backlog while no worker runs.
if python3 "$HERE/../integration/gen_variants.py" "$SEEDS" "$RUNDIR/docs" "$VARIANTS" >"$RUNDIR/dirs.tsv"; then
    ok "generate $VARIANTS distinct meetings"
else
    bad "generate documents"
    finish
fi
printf 'Dette er ikke et referat, bare en indkøbsliste: mælk, brød.\n' >"$RUNDIR/not-minutes.txt"
n=$((VARIANTS + 1))
submit_ok=1
while IFS=$'\t' read -r slug muni _; do
    "$BIN/minutes-submit" -b "$B" -t "$TOPIC" -m "$muni" -X partitioner=random \
        "$RUNDIR/docs/$slug" >>"$RUNDIR/submit.log" 2>&1 || submit_ok=0
done <"$RUNDIR/dirs.tsv"
"$BIN/minutes-submit" -b "$B" -t "$TOPIC" -m "Testby Kommune" "$RUNDIR/not-minutes.txt" >>"$RUNDIR/submit.log" 2>&1 || submit_ok=0
if [[ $submit_ok == 1 ]]; then ok "submit $n documents with no worker running"; else bad "submit"; sed 's/^/    /' "$RUNDIR/submit.log"; fi

"$BIN/minutes-lag" -b "$B" -g "$GROUP" -t "$TOPIC" --json >"$RUNDIR/lag-before.json" 2>"$RUNDIR/lag-before.err"
if python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
parts = r["partitions"]
sys.exit(0 if len(parts) == 3 and all(p["lag"] and p["lag"] > 0 for p in parts)
         and r["total_lag"] == int(sys.argv[2]) else 1)' "$RUNDIR/lag-before.json" "$n"; then
    ok "minutes-lag: lag > 0 on all 3 partitions, total $n, while no worker runs"
else
    bad "minutes-lag before the worker"
    sed 's/^/    /' "$RUNDIR/lag-before.json" "$RUNDIR/lag-before.err"
fi
"$BIN/minutes-lag" -b "$B" -g "$GROUP" -t "$TOPIC" --max-lag 0 >/dev/null 2>&1
rc=$?
if [[ $rc == 1 ]]; then ok "minutes-lag --max-lag 0 exits 1 with a backlog"; else bad "minutes-lag --max-lag 0 exited $rc with a backlog"; fi

# Phase 2: a worker catches up.
PORT="$(free_port)"
# --batch-ms 3000: the first batch collects for 3 s before it is written,
# so the backlog outlives several statistics intervals (500 ms); the
# worker alone drains 301 small documents in less than one interval.
"$BIN/minutes-worker" -b "$B" -g "$GROUP" -t "$TOPIC" --dlq-topic "$TOPIC.dlq" \
    --pg "$MM_PG_WORKER_URL" --metrics-port "$PORT" --metrics-bind 127.0.0.1 \
    --batch-ms 3000 --liveness-timeout-ms 5000 -X statistics.interval.ms=500 >"$RUNDIR/worker.log" 2>&1 &
WORKER_PID=$!

wait_for "/healthz answers 200" '[[ "$(http /healthz | head -1)" == 200 ]]' || finish
if [[ "$(http /healthz | sed -n 2p)" == ok ]]; then ok "/healthz body"; else bad "/healthz body"; fi

# Lag as the worker reports it, summed over the topic's partitions.
lag_sum() { curl -s "http://127.0.0.1:$PORT/metrics" | awk -v t="$TOPIC" 'index($1, "mm_consumer_lag{topic=\"" t "\"") == 1 {s += $2; n++} END {print (n ? s : -1)}'; }
wait_for "mm_consumer_lag rises above 0 while the backlog is worked off" '[[ "$(lag_sum)" -gt 0 ]]'
wait_for "/readyz answers 200 once partitions are assigned" '[[ "$(http /readyz | head -1)" == 200 ]]'
if [[ "$(metric mm_assigned_partitions)" == 3 ]]; then ok "mm_assigned_partitions 3"; else bad "mm_assigned_partitions is '$(metric mm_assigned_partitions)'"; fi
if [[ "$(metric mm_ready)" == 1 && "$(metric mm_db_up)" == 1 ]]; then ok "mm_ready 1, mm_db_up 1"; else bad "mm_ready/mm_db_up"; fi
if [[ "$(http /nope | head -1)" == 404 ]]; then ok "unknown path 404"; else bad "unknown path"; fi

dead() { curl -s "http://127.0.0.1:$PORT/metrics" | awk '$1 ~ /^mm_dead_letters_total\{/ {s += $2} END {print s + 0}'; }
wait_for "mm_messages_consumed_total reaches $n" '[[ "$(metric mm_messages_consumed_total)" == "$n" ]]'
wait_for "mm_documents_written_total is exactly $VARIANTS" '[[ "$(metric mm_documents_written_total)" == "$VARIANTS" ]]'
if [[ "$(dead)" == 1 && "$(metric 'mm_dead_letters_total{code="not_minutes"}')" == 1 ]]; then
    ok "exactly one dead letter, code not_minutes"
else
    bad "dead letters: $(dead)"
    curl -s "http://127.0.0.1:$PORT/metrics" | grep '^mm_dead_letters_total' | sed 's/^/    /'
fi
wait_for "mm_db_batch_seconds_count >= 1" '[[ "$(metric mm_db_batch_seconds_count)" -ge 1 ]]'
if [[ "$(metric mm_parse_seconds_count)" == "$n" ]]; then ok "mm_parse_seconds_count $n"; else bad "mm_parse_seconds_count '$(metric mm_parse_seconds_count)'"; fi
docs="$(psql "$MM_PG_OWNER_URL" -qAtX -c 'SELECT count(*) FROM documents' 2>/dev/null)"
if [[ "$docs" == "$VARIANTS" ]]; then ok "PostgreSQL holds $VARIANTS documents"; else bad "PostgreSQL holds '$docs' documents"; fi

lag0() {
    local out
    out="$(curl -s "http://127.0.0.1:$PORT/metrics" | grep "^mm_consumer_lag{topic=\"$TOPIC\"")"
    [[ "$(grep -c . <<<"$out")" == 3 ]] && ! grep -qv ' 0$' <<<"$out"
}
wait_for "mm_consumer_lag returns to 0 on all 3 partitions" lag0 ||
    curl -s "http://127.0.0.1:$PORT/metrics" | grep -E '^mm_(consumer_lag|partition_)' | sed 's/^/    /'
wait_for "minutes-lag: group lag 0 (--max-lag 0 exits 0)" \
    '"$BIN/minutes-lag" -b "$B" -g "$GROUP" -t "$TOPIC" --max-lag 0 >"$RUNDIR/lag.out" 2>&1'

curl -s "http://127.0.0.1:$PORT/metrics" >"$RUNDIR/metrics.txt"
if promtool check metrics <"$RUNDIR/metrics.txt" >"$RUNDIR/promtool.out" 2>&1; then
    ok "promtool check metrics on the live output"
else
    bad "promtool check metrics"
    sed 's/^/    /' "$RUNDIR/promtool.out"
fi
if grep -q '^mm_worker_build_info{version="[^"]\+"} 1$' "$RUNDIR/metrics.txt"; then ok "build info"; else bad "build info"; fi

# Phase 3: liveness. Stop PostgreSQL's processes (by their ids: the
# postmaster and its children, the worker's backend among them), then send
# one more document: the batch write blocks in libpq and the main loop stops.
PG_STOPPED="$PG_PID $(ps -o pid= --ppid "$PG_PID" | tr '\n' ' ')"
# shellcheck disable=SC2086
kill -STOP $PG_STOPPED
{ cat "${seeds[0]}"; printf '\n(liveness)\n'; } >"$RUNDIR/liveness.txt"
"$BIN/minutes-submit" -b "$B" -t "$TOPIC" -m "Testby Kommune" "$RUNDIR/liveness.txt" >>"$RUNDIR/submit.log" 2>&1 ||
    bad "submit the liveness document"
wait_for "/healthz answers 503 while the main loop hangs on PostgreSQL" \
    '[[ "$(http /healthz | head -1)" == 503 ]]'
if http /healthz | sed -n 2p | grep -q '^main loop stalled: no turn for'; then
    ok "/healthz says the main loop stalled"
else
    bad "/healthz body: $(http /healthz)"
fi
if awk '$1 == "mm_main_loop_last_turn_age_seconds" {exit !($2 > 5)}' <(curl -s "http://127.0.0.1:$PORT/metrics"); then
    ok "mm_main_loop_last_turn_age_seconds above the timeout"
else
    bad "mm_main_loop_last_turn_age_seconds is '$(metric mm_main_loop_last_turn_age_seconds)'"
fi
# shellcheck disable=SC2086
kill -CONT $PG_STOPPED
PG_STOPPED=""
wait_for "/healthz answers 200 again once PostgreSQL answers" '[[ "$(http /healthz | head -1)" == 200 ]]'
wait_for "the liveness document is written" \
    '[[ "$(metric mm_documents_written_total)" == "$((VARIANTS + 1))" ]]'

kill -TERM "$WORKER_PID"
if wait "$WORKER_PID"; then ok "worker exits 0 on SIGTERM"; else bad "worker exit status on SIGTERM"; fi
WORKER_PID=""
finish
