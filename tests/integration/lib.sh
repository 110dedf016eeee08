# Shared helpers of the worker integration tests (sourced by test_*.sh).
# Environment (set by CMake): MM_BIN, MM_SOURCE_DIR, MM_SERVICES_RUNDIR,
# MM_IT_WORKDIR, MM_GOLD_DIR.
set -euo pipefail

: "${MM_BIN:?}" "${MM_SOURCE_DIR:?}" "${MM_SERVICES_RUNDIR:?}"
IT_DIR="$MM_SOURCE_DIR/tests/integration"
SERVICES="$MM_SOURCE_DIR/tests/services/services.sh"
TOPICS="$MM_SOURCE_DIR/tests/services/kafka-topics.sh"
# the invented text meetings (the real seeds are in ../shared, never copied here)
SEEDS="$MM_SOURCE_DIR/tests/fixtures/minutes"
NSEEDS="$(find "$SEEDS" -maxdepth 1 -name '*.txt' | wc -l)"
# shellcheck disable=SC1091
source "$MM_SERVICES_RUNDIR/env"

declare -A WPID=()

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }

# it_new_db NAME: an empty database NAME (dropped first if it is there),
# owned by minutes_owner, which the worker role may connect to.
it_new_db() {
    PGOPTIONS="-c client_min_messages=warning" psql "$MM_PG_SUPERUSER_URL" -qAtX -v ON_ERROR_STOP=1 \
        -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1 OWNER minutes_owner" \
        -c "GRANT CONNECT ON DATABASE $1 TO minutes_worker" >/dev/null
    # the owner creates the schema; public must belong to it in PG 15
    psql "${MM_PG_SUPERUSER_URL%/*}/$1" -qAtX -v ON_ERROR_STOP=1 \
        -c "ALTER SCHEMA public OWNER TO minutes_owner" >/dev/null
}

# it_init NAME: fresh database, topics and group for this test.
it_init() {
    IT_NAME="$1"
    WORK="${MM_IT_WORKDIR:-/tmp/mm-it}/$IT_NAME"
    rm -rf "$WORK" && mkdir -p "$WORK"
    DB="mm_it_${IT_NAME}"
    local run_id
    run_id="$(date +%s)-$$"   # fresh topics and group even when services are reused
    RAW="it.${IT_NAME}.${run_id}.raw"
    DLQ="it.${IT_NAME}.${run_id}.dlq"
    ATT="it.${IT_NAME}.${run_id}.att"   # attachments (minutes-source, minutes-submit)
    GROUP="it-${IT_NAME}-${run_id}"
    SUPER_URL="${MM_PG_SUPERUSER_URL%/*}/$DB"
    OWNER_URL="${MM_PG_OWNER_URL%/*}/$DB"
    WORKER_URL="${MM_PG_WORKER_URL%/*}/$DB"
    it_new_db "$DB"
    "$MM_BIN/minutes-worker" --migrate --pg "$OWNER_URL" 2>"$WORK/migrate.log" ||
        { cat "$WORK/migrate.log" >&2; fail "migration"; }
    for t in "$RAW" "$DLQ" "$ATT"; do
        bash "$TOPICS" --create "$t" 4 --config max.message.bytes=67108864 >"$WORK/topic-$t.log" 2>&1 ||
            { cat "$WORK/topic-$t.log" >&2; fail "create topic $t"; }
    done
    trap it_cleanup EXIT
    log "init $IT_NAME: db $DB, topics $RAW/$DLQ/$ATT, group $GROUP"
}

it_cleanup() {
    local rc=$?
    for id in "${!WPID[@]}"; do
        kill -KILL "${WPID[$id]}" 2>/dev/null || true
        wait "${WPID[$id]}" 2>/dev/null || true
    done
    if [[ $rc -ne 0 ]]; then
        for f in "$WORK"/worker-*.log; do
            [[ -f "$f" ]] || continue
            log "---- last lines of $f"
            grep -v '"debug"' "$f" | tail -n 25 >&2 || true
        done
    fi
    exit $rc
}

# start_worker ID [extra worker options...]
# The attachments topic is the test's own ($ATT, else RAW's name with .att;
# it need not exist): the default minutes.attachments is shared by every
# test on the broker.
start_worker() {
    local id="$1"; shift
    "${MM_WORKER_BIN:-$MM_BIN/minutes-worker}" -b "$KAFKA_BOOTSTRAP" -g "$GROUP" -t "$RAW" --dlq-topic "$DLQ" \
        --attachments-topic "${ATT:-${RAW%.raw}.att}" \
        --pg "$WORKER_URL" --batch-ms 100 \
        -X session.timeout.ms=6000 -X heartbeat.interval.ms=500 \
        -X topic.metadata.refresh.interval.ms=2000 "$@" \
        2>>"$WORK/worker-$id.log" &
    WPID[$id]=$!
    log "worker $id started (pid ${WPID[$id]})"
}

# stop_worker ID: SIGTERM, must exit 0.
stop_worker() {
    local id="$1" rc=0
    kill -TERM "${WPID[$id]}"
    wait "${WPID[$id]}" || rc=$?
    unset "WPID[$id]"
    [[ $rc -eq 0 ]] || fail "worker $id exited with $rc after SIGTERM"
    log "worker $id stopped cleanly"
}

# kill_worker ID: SIGKILL.
kill_worker() {
    local id="$1"
    kill -KILL "${WPID[$id]}"
    wait "${WPID[$id]}" 2>/dev/null || true
    unset "WPID[$id]"
    log "worker $id killed"
}

sql() { psql "$SUPER_URL" -qAtX -v ON_ERROR_STOP=1 -c "$1"; }

submit() { "$MM_BIN/minutes-submit" -b "$KAFKA_BOOTSTRAP" -t "$RAW" --attachments-topic "$ATT" "$@" 2>>"$WORK/submit.log"; }

lag() { "$MM_BIN/mm-kafka-tool" lag "$KAFKA_BOOTSTRAP" "$GROUP" "$RAW"; }

# wait_until TIMEOUT_S DESCRIPTION COMMAND...: polls until COMMAND succeeds.
wait_until() {
    local timeout="$1" desc="$2"; shift 2
    local end=$((SECONDS + timeout))
    until "$@" >/dev/null 2>&1; do
        [[ $SECONDS -lt $end ]] || fail "timed out after ${timeout}s waiting for: $desc"
        sleep 0.3
    done
}

# eq_sql SQL EXPECTED: true when the query prints EXPECTED.
eq_sql() { [[ "$(sql "$1" 2>/dev/null)" == "$2" ]]; }
lag_is_zero() { [[ "$(lag 2>/dev/null)" == 0 ]]; }

# Offsets in PostgreSQL cover every message of the raw topic (the
# attachments topic's offsets are the worker's too, and not counted here).
pg_offsets_at_end() {
    local total
    total="$("$MM_BIN/mm-kafka-tool" count "$KAFKA_BOOTSTRAP" "$RAW")"
    [[ "$(sql "SELECT coalesce(sum(next_offset),0) FROM consumer_offsets WHERE group_id='$GROUP' AND topic='$RAW'")" == "$total" ]]
}

row_counts() {
    sql "SELECT (SELECT count(*) FROM documents) || ' ' || (SELECT count(*) FROM meetings) || ' ' ||
                (SELECT count(*) FROM agenda_items) || ' ' || (SELECT count(*) FROM item_sections) || ' ' ||
                (SELECT count(*) FROM participants) || ' ' || (SELECT count(*) FROM item_absences) || ' ' ||
                (SELECT count(*) FROM attachments) || ' ' || (SELECT count(*) FROM amounts) || ' ' ||
                (SELECT count(*) FROM law_references)"
}
