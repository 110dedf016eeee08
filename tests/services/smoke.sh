#!/usr/bin/env bash
# Smoke test of tests/services: start Kafka + PostgreSQL in a temp dir, create a
# 3-partition topic, produce and consume a message, check group lag, talk to
# PostgreSQL as both roles, restart both services (data must survive), stop.
# Usage: tests/services/smoke.sh [RUNDIR]   (default: a fresh mktemp -d, removed at the end)
# Prints "smoke: N passed, M failed"; exit status 0 only if M == 0.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
S="$HERE/services.sh"

# shellcheck source=tests/services/harness.sh
source "$HERE/harness.sh"
harness_init smoke "${1:-}"
# check NAME CMD...: pass if CMD exits 0
check() {
    local name="$1"
    shift
    if "$@"; then ok "$name"; else bad "$name"; fi
}
# expect_eq NAME EXPECTED ACTUAL
expect_eq() {
    if [[ "$2" == "$3" ]]; then ok "$1"; else bad "$1 (expected '$2', got '$3')"; fi
}


t0=$(date +%s%N)
if ! "$S" start "$RUNDIR" >/dev/null; then
    bad "services start"
    finish
fi
t1=$(date +%s%N)
ok "services start ($(((t1 - t0) / 1000000)) ms)"
# shellcheck disable=SC1091
source "$RUNDIR/env"

# ---------------------------------------------------------------- Kafka
TOPIC="smoke-$$-$RANDOM"
TOKEN="hello from smoke $(head -c8 /dev/urandom | od -An -tx1 | tr -d ' \n') æøå"
GROUP="smoke-group-$$"

check "create topic with 3 partitions" "$HERE/kafka-topics.sh" --create "$TOPIC" 3
desc="$("$HERE/kafka-topics.sh" --describe "$TOPIC" 2>&1)"
check "topic has 3 partitions" grep -q 'PartitionCount: 3' <<<"$desc"
check "topic listed" bash -c '"$1" --list | grep -qx "$2"' _ "$HERE/kafka-topics.sh" "$TOPIC"
check "auto topic creation is off" bash -c \
    '! "$1" --describe "$2" >/dev/null 2>&1' _ "$HERE/kafka-topics.sh" "no-such-topic-$$"

check "produce one message" bash -c 'printf "k1|%s\n" "$2" | "$1" produce "$3" "|"' _ \
    "$HERE/kafka-console.sh" "$TOKEN" "$TOPIC"
got="$("$HERE/kafka-console.sh" consume "$TOPIC" 1 20000 "$GROUP" 2>/dev/null)"
expect_eq "consume the message back" "$TOKEN" "$got"
lag="$("$HERE/kafka-groups.sh" --lag "$GROUP")"
expect_eq "group lag after consuming" "0" "$lag"
offs="$("$HERE/kafka-groups.sh" --offsets "$GROUP" | awk '{ s += $3 } END { print s + 0 }')"
expect_eq "group committed offsets sum" "1" "$offs"

# ---------------------------------------------------------------- PostgreSQL
PSQL=(psql -X -q -A -t -v ON_ERROR_STOP=1)
expect_eq "connect as minutes_owner" "minutes_owner|minutes" \
    "$("${PSQL[@]}" "$MM_PG_OWNER_URL" -c 'SELECT current_user, current_database()')"
expect_eq "connect as minutes_worker" "minutes_worker|minutes" \
    "$("${PSQL[@]}" "$MM_PG_WORKER_URL" -c 'SELECT current_user, current_database()')"
check "owner can create a table" "${PSQL[@]}" "$MM_PG_OWNER_URL" \
    -c "CREATE TABLE smoke(id int PRIMARY KEY, t text); INSERT INTO smoke VALUES (1, 'æøå');
        GRANT SELECT, INSERT ON smoke TO minutes_worker;"
check "worker cannot create a table" bash -c '! "${@:2}" "$1" -c "CREATE TABLE w(x int)" 2>/dev/null' _ \
    "$MM_PG_WORKER_URL" "${PSQL[@]}"
check "worker cannot delete" bash -c '! "${@:2}" "$1" -c "DELETE FROM smoke" 2>/dev/null' _ \
    "$MM_PG_WORKER_URL" "${PSQL[@]}"
check "worker can insert" "${PSQL[@]}" "$MM_PG_WORKER_URL" -c "INSERT INTO smoke VALUES (2, 'x')"
expect_eq "PGHOST/PGPORT/PGDATABASE work" "2" \
    "$("${PSQL[@]}" -U minutes_worker -c 'SELECT count(*) FROM smoke')"

# ---------------------------------------------------------------- restarts
old_pg="$PG_PID"
check "pg-restart" "$S" pg-restart "$RUNDIR"
source "$RUNDIR/env"
check "pg pid changed" test "$old_pg" != "$PG_PID"
expect_eq "data survives pg-restart" "2" \
    "$("${PSQL[@]}" "$MM_PG_WORKER_URL" -c 'SELECT count(*) FROM smoke')"
check "pg-stop immediate" "$S" pg-stop "$RUNDIR" immediate
check "psql fails while pg is down" bash -c '! "${@:2}" "$1" -c "SELECT 1" 2>/dev/null' _ \
    "$MM_PG_WORKER_URL" "${PSQL[@]}"
check "pg-start after crash" "$S" pg-start "$RUNDIR"
expect_eq "data survives crash" "2" \
    "$("${PSQL[@]}" "$MM_PG_WORKER_URL" -c 'SELECT count(*) FROM smoke')"

check "kafka-stop (SIGKILL)" "$S" kafka-stop "$RUNDIR" kill
check "kafka-start" "$S" kafka-start "$RUNDIR"
source "$RUNDIR/env"
got="$("$HERE/kafka-console.sh" consume "$TOPIC" 1 20000 2>/dev/null)"
expect_eq "message survives broker kill" "$TOKEN" "$got"

# ---------------------------------------------------------------- stop
kpid="$KAFKA_PID" ppid="$PG_PID"
check "services stop" "$S" stop "$RUNDIR"
check "broker process gone" bash -c '! kill -0 "$1" 2>/dev/null' _ "$kpid"
check "postgres process gone" bash -c '! kill -0 "$1" 2>/dev/null' _ "$ppid"
check "stop is idempotent" "$S" stop "$RUNDIR"
finish
