#!/usr/bin/env bash
# Benchmark (not a test): one minutes-worker against the tool a user would
# otherwise pick for moving Kafka records into PostgreSQL, Apache Kafka
# Connect (standalone) with a JDBC sink, writing the same rows.
#
#   tests/bench/connect-bench.sh [BUILD_DIR] [N_DOCS]
#
# 1. generates N distinct meeting documents from the seeds (as
#    tests/bench/worker-bench.sh does), publishes them with minutes-submit,
#    and times one worker from start until every row is in PostgreSQL;
# 2. dumps every row the worker wrote as Kafka Connect records, JSON with
#    schemas (tests/bench/connect/rows-to-connect-json.py), one topic per
#    table: Connect gets the documents already parsed;
# 3. starts Kafka Connect standalone (connect-runtime of the broker's version)
#    with Debezium's JDBC sink, insert mode, into a fresh database with the
#    same schema (minutes-worker --migrate), and times it from start until
#    every row is there;
# 4. checks that both databases hold the same rows, and prints docs/s and
#    rows/s of both and the ratio worker / Connect.
# Both sides are timed "from start" (process launch to the last row) and
# "steady" (first rows visible to the last row, rate of the rows in between:
# leaves out the JVM's start-up and the worker's first batch). docs/s is
# rows/s in documents' worth of rows. With MM_BENCH_REPEAT=k the worker and
# Connect run k times in turn, and the ratios are of the medians.
#
# The Connect jars come from Maven Central via mvn into .cache/connect/
# (poms under tests/bench/connect/), once. Starts its own Kafka + PostgreSQL
# (tests/services/services.sh) unless MM_SERVICES_RUNDIR points at running
# ones. Environment:
#   MM_BENCH_BATCH    worker --batch-size (default 500)
#   MM_CONNECT_BATCH  sink batch.size and consumer max.poll.records (default
#                     2000: Connect's best of 500 (both defaults), 2000, 5000)
#   MM_CONNECT_TASKS  sink tasks.max = partitions per topic (default 1)
#   MM_BENCH_WORKERS  worker processes in one consumer group (default 1; the
#                     raw topic has 4 partitions). Compare like with like:
#                     MM_BENCH_WORKERS=2 with MM_CONNECT_TASKS=2
#   MM_CONNECT_HEAP   Connect's -Xmx (default 2g, as connect-standalone.sh)
#   MM_BENCH_REPEAT   run both sides that many times, in turn (default 1);
#                     the machine is shared, so single figures vary
#   MM_BENCH_KEEP=1   keep the work directory
set -euo pipefail
SRC="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="${1:-$SRC/build}"
N="${2:-2000}"
BIN="$BUILD/bin"
BATCH="${MM_BENCH_BATCH:-500}"
CBATCH="${MM_CONNECT_BATCH:-2000}"
CTASKS="${MM_CONNECT_TASKS:-1}"
WORKERS="${MM_BENCH_WORKERS:-1}"
CHEAP="${MM_CONNECT_HEAP:-2g}"
REPEAT="${MM_BENCH_REPEAT:-1}"
POLL=0.25 # seconds between row counts while waiting
for b in minutes-worker minutes-submit minutes-lag; do
    [[ -x "$BIN/$b" ]] || { echo "missing $BIN/$b: build first" >&2; exit 2; }
done
# shellcheck source=../services/lib.sh
source "$SRC/tests/services/lib.sh"
CONNECT_DIR="$SRC/tests/bench/connect"
CONNECT_CACHE="$MM_CACHE_DIR/connect"
CONNECT_RUNTIME="$CONNECT_CACHE/runtime"
CONNECT_PLUGINS="$CONNECT_CACHE/plugins"

# Fetch Connect and the sink into .cache/connect unless a complete copy for
# the current poms is there (stamp = hash of both poms; flock as lib.sh).
fetch_connect() {
    local want
    want="$(cat "$CONNECT_DIR/runtime-pom.xml" "$CONNECT_DIR/jdbc-sink-pom.xml" | sha256sum | cut -c1-64)"
    [[ -f "$CONNECT_CACHE/.complete" && "$(cat "$CONNECT_CACHE/.complete")" == "$want" ]] && return 0
    command -v mvn >/dev/null || { echo "mvn not found (needed once to fetch Kafka Connect)" >&2; return 1; }
    mkdir -p "$CONNECT_CACHE"
    (
        flock -w 900 9 || { echo "timeout waiting for $CONNECT_CACHE/.lock" >&2; exit 1; }
        [[ -f "$CONNECT_CACHE/.complete" && "$(cat "$CONNECT_CACHE/.complete")" == "$want" ]] && exit 0
        echo "fetching Kafka Connect and the JDBC sink with Maven into $CONNECT_CACHE (one-off) ..." >&2
        rm -rf "$CONNECT_RUNTIME" "$CONNECT_PLUGINS" "$CONNECT_CACHE/.complete"
        if ! mvn -q -B -f "$CONNECT_DIR/runtime-pom.xml" -Dmaven.repo.local="$MM_CACHE_DIR/m2" \
            dependency:copy-dependencies -DoutputDirectory="$CONNECT_RUNTIME" >"$CONNECT_CACHE/fetch.log" 2>&1 ||
            ! mvn -q -B -f "$CONNECT_DIR/jdbc-sink-pom.xml" -Dmaven.repo.local="$MM_CACHE_DIR/m2" \
                dependency:copy-dependencies -DoutputDirectory="$CONNECT_PLUGINS/debezium-jdbc" \
                >>"$CONNECT_CACHE/fetch.log" 2>&1; then
            echo "Maven fetch of Kafka Connect failed; tail of $CONNECT_CACHE/fetch.log:" >&2
            tail -n 30 "$CONNECT_CACHE/fetch.log" >&2
            exit 1
        fi
        printf '%s\n' "$want" >"$CONNECT_CACHE/.complete"
    ) 9>"$CONNECT_CACHE/.lock"
}
fetch_connect
mm_fetch_kafka # the console producer (tests/services/lib.sh)

WORK="$(mktemp -d /tmp/mm-connect-bench.XXXXXX)"
OWN_SERVICES=0
if [[ -z "${MM_SERVICES_RUNDIR:-}" ]]; then
    MM_SERVICES_RUNDIR="$WORK/services"
    OWN_SERVICES=1
    bash "$SRC/tests/services/services.sh" start "$MM_SERVICES_RUNDIR" --owner-pid $$ >"$WORK/services.log" 2>&1 ||
        { cat "$WORK/services.log" >&2; exit 1; }
fi
# shellcheck disable=SC1091
source "$MM_SERVICES_RUNDIR/env"
WPIDS=() CPID=""
stop_pid() { # PID: TERM, then KILL after 30 s; only processes this script started
    local pid="$1" i
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 300; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
cleanup() {
    local p
    for p in "${WPIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    [[ -n "$CPID" ]] && kill -KILL "$CPID" 2>/dev/null || true
    [[ $OWN_SERVICES == 1 ]] && bash "$SRC/tests/services/services.sh" stop "$MM_SERVICES_RUNDIR" >/dev/null 2>&1 || true
    [[ -n "${MM_BENCH_KEEP:-}" ]] && echo "kept $WORK" >&2 || rm -rf "$WORK"
}
trap cleanup EXIT

now() { date +%s.%N; }
run_id="$(date +%s)"
# DB: the first worker run (the rows Connect gets); DBW: later worker runs;
# DBC: Connect's database, fresh for each run.
DB=mm_cbench_worker DBW=mm_cbench_worker_rep DBC=mm_cbench_connect
RAW="cbench.$run_id.raw" DLQ="cbench.$run_id.dlq"
SUPER="${MM_PG_SUPERUSER_URL%/*}"
TABLES=(documents meetings participants agenda_items item_sections item_absences attachments amounts law_references)
fresh_db() { # NAME: empty database with the project's schema (minutes-worker --migrate)
    PGOPTIONS="-c client_min_messages=warning" psql "$MM_PG_SUPERUSER_URL" -qAtX -v ON_ERROR_STOP=1 \
        -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1 OWNER minutes_owner" \
        -c "GRANT CONNECT ON DATABASE $1 TO minutes_worker" >/dev/null
    "$BIN/minutes-worker" --migrate --pg "${MM_PG_OWNER_URL%/*}/$1" 2>>"$WORK/migrate.log"
}
topic_create() { # TOPIC PARTITIONS
    bash "$SRC/tests/services/kafka-topics.sh" --create "$1" "$2" --config max.message.bytes=67108864 >/dev/null 2>&1
}
topic_create "$RAW" 4
topic_create "$DLQ" 4

# wait_rows DB SECONDS TABLE=COUNT...: wait inside ONE backend (a psql per
# poll would take CPU from PostgreSQL) until every table holds its count.
# Prints "first rows_at_first done": epoch seconds when rows were first
# visible, the rows (all listed tables) visible then, and when the last
# table was complete. COUNT 0: not waited for.
wait_rows() {
    local db="$1" secs="$2" tabs="" want="" tc
    shift 2
    for tc in "$@"; do
        tabs+="${tabs:+,}'${tc%=*}'"
        want+="${want:+,}${tc#*=}"
    done
    PGAPPNAME="mm-cbench-wait-$run_id" psql "$SUPER/$db" -qAtX -v ON_ERROR_STOP=1 -c "DO \$\$
DECLARE
    tabs text[] := ARRAY[$tabs];
    want bigint[] := ARRAY[$want];
    done_ boolean[] := array_fill(false, ARRAY[cardinality(tabs)]);
    deadline timestamptz := clock_timestamp() + interval '$secs s';
    have bigint; total bigint; pending boolean;
    first_t timestamptz; first_rows bigint;
BEGIN
    LOOP
        pending := false; total := 0;
        FOR i IN 1..cardinality(tabs) LOOP
            IF done_[i] THEN
                have := want[i];
            ELSE
                EXECUTE format('SELECT count(*) FROM %I', tabs[i]) INTO have;
                done_[i] := have >= want[i];
                pending := pending OR NOT done_[i];
            END IF;
            total := total + have;
        END LOOP;
        IF first_t IS NULL AND total > 0 THEN
            first_t := clock_timestamp(); first_rows := 0;
            FOR i IN 1..cardinality(tabs) LOOP
                EXECUTE format('SELECT count(*) FROM %I', tabs[i]) INTO have;
                first_rows := first_rows + have;
            END LOOP;
        END IF;
        EXIT WHEN NOT pending;
        IF clock_timestamp() > deadline THEN
            RAISE EXCEPTION 'not complete after $secs s: % rows', total;
        END IF;
        PERFORM pg_sleep($POLL);
    END LOOP;
    RAISE NOTICE 'mm-wait % % %', extract(epoch FROM first_t), first_rows,
        extract(epoch FROM clock_timestamp());
END \$\$;" 2>&1 | sed -n 's/.*mm-wait //p'
}

# same_rows DB1 DB2: "yes" when every table holds the same rows in both
same_rows() {
    local t q
    for t in "${TABLES[@]}"; do
        q="SELECT md5(string_agg(t::text, E'\\n' ORDER BY id)) FROM $t t"
        if [[ "$(psql "$SUPER/$1" -qAtX -c "$q")" != "$(psql "$SUPER/$2" -qAtX -c "$q")" ]]; then
            echo "NO ($t differs)"
            return 0
        fi
    done
    echo yes
}

# cpu_s PID...: CPU seconds (user + system, all threads) the live processes used
cpu_s() {
    local pid ticks=0 f
    for pid in "$@"; do
        [[ -r "/proc/$pid/stat" ]] || continue
        f="$(sed 's/.*) //' "/proc/$pid/stat")" # fields after "pid (comm) "
        ticks=$((ticks + $(awk '{print $12 + $13}' <<<"$f")))
    done
    awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", t / hz}'
}
# backend_cpu DB: CPU seconds of the PostgreSQL backends connected to DB
# (the writer's connections; the waiting backend has ended by then)
backend_cpu() {
    # shellcheck disable=SC2046
    cpu_s $(psql "$SUPER/$1" -qAtX -c "SELECT pid FROM pg_stat_activity WHERE datname = '$1'
                                       AND pid <> pg_backend_pid()")
}

# run_worker REP DB: one worker (MM_BENCH_WORKERS of them), new consumer group, from start until all N
# documents are in DB. The worker writes a batch in one transaction:
# waiting for the documents is waiting for every table (the other tables
# are listed for the rows counted at the first observation).
run_worker() {
    local rep="$1" db="$2" t0 res k0 cpu children=("${TABLES[@]:1}")
    fresh_db "$db"
    t0="$(now)"
    local wk
    WPIDS=()
    for ((wk = 0; wk < WORKERS; wk++)); do # one consumer group: the partitions are split
        "$BIN/minutes-worker" -b "$KAFKA_BOOTSTRAP" -g "cbench-$run_id-$rep" -t "$RAW" --dlq-topic "$DLQ" \
            --pg "${MM_PG_WORKER_URL%/*}/$db" --batch-size "$BATCH" \
            --log-level "${MM_BENCH_LOG_LEVEL:-warn}" 2>>"$WORK/worker.log" &
        WPIDS+=($!)
    done
    k0="$(cpu_s "$KAFKA_PID")"
    res="$(wait_rows "$db" 1800 "documents=$N" "${children[@]/%/=0}")" || true
    cpu="$(cpu_s "${WPIDS[@]}") $(backend_cpu "$db") $(awk -v a="$k0" -v b="$(cpu_s "$KAFKA_PID")" 'BEGIN {print b - a}')"
    for wk in "${WPIDS[@]}"; do stop_pid "$wk"; done
    WPIDS=()
    [[ -n "$res" ]] || { echo "worker did not finish in 1800 s" >&2; tail "$WORK/worker.log" >&2; exit 1; }
    printf 'worker\t%s\t%s %s %s\n' "$rep" "$t0" "$res" "$cpu" >>"$WORK/results"
}

# run_connect REP: Kafka Connect standalone with the JDBC sink, new
# connector (so a new consumer group), into a fresh DBC; from JVM start
# until every table holds the worker's rows.
run_connect() {
    local rep="$1" t0 res port waitpid k0 cpu
    fresh_db "$DBC"
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    mkdir -p "$WORK/connect"
    cat >"$WORK/connect/worker.properties" <<PROPS
bootstrap.servers=$KAFKA_BOOTSTRAP
key.converter=org.apache.kafka.connect.json.JsonConverter
key.converter.schemas.enable=false
value.converter=org.apache.kafka.connect.json.JsonConverter
value.converter.schemas.enable=true
offset.storage.file.filename=$WORK/connect/offsets.$rep
plugin.path=$CONNECT_PLUGINS
# the sink ships ServiceLoader manifests: skip the reflective scan (9 s here),
# as Connect's own start-up warning advises
plugin.discovery=service_load
listeners=http://127.0.0.1:$port
consumer.max.poll.records=$CBATCH
PROPS
    # Foreign keys: the topics of the tables arrive in no particular order
    # (and meetings <-> documents refer to each other), so the sink's session
    # runs with session_replication_role = replica, as the COPY limit in
    # worker-bench.sh does; Connect writes as the superuser for that.
    cat >"$WORK/connect/jdbc-sink.properties" <<PROPS
name=mm-jdbc-sink-$run_id-$rep
connector.class=io.debezium.connector.jdbc.JdbcSinkConnector
tasks.max=$CTASKS
topics=$TOPICS
connection.url=jdbc:postgresql://127.0.0.1:$PGPORT/$DBC?options=-c%20session_replication_role%3Dreplica&reWriteBatchedInserts=true
connection.username=postgres
connection.password=unused
insert.mode=insert
delete.enabled=false
primary.key.mode=none
schema.evolution=none
batch.size=$CBATCH
use.time.zone=UTC
transforms=table
transforms.table.type=org.apache.kafka.connect.transforms.RegexRouter
transforms.table.regex=cbench[0-9]+\\\\.(.*)
transforms.table.replacement=\$1
PROPS
    t0="$(now)"
    "$MM_JAVA" -Xms256m -Xmx"$CHEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
        -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
        -Dlog4j.configuration="file:$CONNECT_DIR/log4j-connect.properties" -cp "$CONNECT_RUNTIME/*" \
        org.apache.kafka.connect.cli.ConnectStandalone "$WORK/connect/worker.properties" \
        "$WORK/connect/jdbc-sink.properties" >"$WORK/connect.$rep.log" 2>&1 &
    CPID=$!
    k0="$(cpu_s "$KAFKA_PID")"
    wait_rows "$DBC" 3600 "${EXPECT[@]}" >"$WORK/connect.wait" &
    waitpid=$!
    # A sink task that dies stays dead (Connect does not restart it): stop
    # waiting then, instead of for an hour.
    while kill -0 "$waitpid" 2>/dev/null; do
        if ! kill -0 "$CPID" 2>/dev/null || grep -q 'unrecoverable exception' "$WORK/connect.$rep.log"; then
            psql "$SUPER/$DBC" -qAtX -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity
                                         WHERE application_name = 'mm-cbench-wait-$run_id'" >/dev/null || true
            break
        fi
        sleep 1
    done
    wait "$waitpid" 2>/dev/null || true
    res="$(cat "$WORK/connect.wait")"
    cpu="$(cpu_s "$CPID") $(backend_cpu "$DBC") $(awk -v a="$k0" -v b="$(cpu_s "$KAFKA_PID")" 'BEGIN {print b - a}')"
    stop_pid "$CPID"
    CPID=""
    if [[ -z "$res" ]]; then
        echo "Kafka Connect did not write all $ROWS rows; errors in its log:" >&2
        grep -E -A3 'ERROR|Caused by' "$WORK/connect.$rep.log" | head -40 >&2
        exit 1
    fi
    printf 'connect\t%s\t%s %s %s\n' "$rep" "$t0" "$res" "$cpu" >>"$WORK/results"
    SAME="$(same_rows "$DB" "$DBC")"
    [[ "$SAME" == yes ]] || { echo "Connect's rows differ from the worker's: $SAME" >&2; exit 1; }
}

# ---------------------------------------------------------------- documents in Kafka
# the real seeds of ../shared when present (the figures are measured on
# them), else the invented text meetings of tests/fixtures/minutes
SEEDS_DIR="$SRC/../shared/corpus/seeds"
[[ -d "$SEEDS_DIR" ]] || SEEDS_DIR="$SRC/tests/fixtures/minutes"
echo "documents: $N variants of $SEEDS_DIR" >&2
python3 "$SRC/tests/integration/gen_variants.py" "$SEEDS_DIR" "$WORK/docs" "$N" >"$WORK/dirs.tsv"
BYTES="$(find "$WORK/docs" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')"
while IFS=$'\t' read -r slug muni count; do
    "$BIN/minutes-submit" -b "$KAFKA_BOOTSTRAP" -t "$RAW" --municipality "$muni" \
        -X partitioner=random "$WORK/docs/$slug" >/dev/null 2>>"$WORK/submit.log"
done <"$WORK/dirs.tsv"

# ---------------------------------------------------------------- the worker, once
: >"$WORK/results"
mm_warm_group_coordinator "$BIN" "$KAFKA_BOOTSTRAP" "$RAW" # as on a running cluster
run_worker 1 "$DB"
EXPECT=()
ROWS=0
for t in "${TABLES[@]}"; do
    c="$(psql "$SUPER/$DB" -qAtX -c "SELECT count(*) FROM $t")"
    EXPECT+=("$t=$c")
    ROWS=$((ROWS + c))
done

# ---------------------------------------------------------------- its rows as Connect records
python3 "$CONNECT_DIR/rows-to-connect-json.py" "$SUPER/$DB" "$WORK/records" "${TABLES[@]}" >"$WORK/records.txt"
RECBYTES="$(awk '{s+=$3} END {print s}' "$WORK/records.txt")"
TOPICS=""
for t in "${TABLES[@]}"; do
    topic="cbench$run_id.$t"
    topic_create "$topic" "$CTASKS"
    TOPICS+="${TOPICS:+,}$topic"
    # acks=all + idempotence: when the producer exits 0, every record is in the log
    "$MM_JAVA" -Xmx512m -Djava.awt.headless=true \
        -Dlog4j.configuration="file:$MM_SERVICES_DIR/log4j-tools.properties" -cp "$MM_KAFKA_LIB/*" \
        kafka.tools.ConsoleProducer --bootstrap-server "$KAFKA_BOOTSTRAP" --topic "$topic" \
        --producer-property acks=all --producer-property enable.idempotence=true \
        --producer-property linger.ms=20 --producer-property batch.size=1048576 \
        --producer-property max.request.size=67108864 --producer-property compression.type=none \
        --producer-property partitioner.class=org.apache.kafka.clients.producer.RoundRobinPartitioner \
        <"$WORK/records/$t.jsonl" 2>>"$WORK/produce.log" ||
        { echo "producing $topic failed" >&2; tail "$WORK/produce.log" >&2; exit 1; }
done
rm -rf "$WORK/records"

# ---------------------------------------------------------------- Connect, then both in turn
run_connect 1
for ((rep = 2; rep <= REPEAT; rep++)); do
    run_worker "$rep" "$DBW"
    run_connect "$rep"
done

python3 - "$N" "$BYTES" "$ROWS" "$RECBYTES" "$SAME" "$BATCH" "$CBATCH" "$CTASKS" "$WORK/results" "$WORKERS" <<'PY'
import statistics
import sys
n, nbytes, rows, recbytes = map(int, sys.argv[1:5])
same, batch, cbatch, ctasks, results, workers = sys.argv[5:11]
runs = {"worker": [], "connect": []}
for line in open(results):
    side, rep, vals = line.rstrip("\n").split("\t")
    t0, first, first_rows, done, c_cli, c_pg, c_kafka = map(float, vals.split())
    # from start: all rows / (launch -> last row); steady: the rows written
    # after the first observation / (first observation -> last row)
    runs[side].append((done - t0, rows / (done - t0),
                       # nan: everything arrived in the first batch seen
                       (rows - first_rows) / (done - first) if first_rows < rows else float("nan"),
                       c_cli, c_pg, c_kafka))
print(f"documents {n} ({nbytes / 1e6:.1f} MB of text), {rows} rows; as Connect records "
      f"(JSON with schemas) {recbytes / 1e6:.1f} MB; runs: {len(runs['worker'])} each")
print(f"worker --batch-size {batch}, {workers} process(es) in one group; Connect 3.9.2 standalone, Debezium JDBC sink 3.0.0.Final, "
      f"insert mode, batch.size {cbatch}, tasks {ctasks}; Connect's rows = the worker's: {same}")
def docs(r):
    return r * n / rows  # documents' worth of rows per second
print(f"{'':<11} {'from start':>10} {'docs/s':>8} {'rows/s':>8}   {'steady docs/s':>13} {'rows/s':>8}"
      f"   CPU s: {'client':>6} {'pg':>6} {'kafka':>6}")
for side, name in (("worker", "worker"), ("connect", "Connect")):
    for i, (t, r, s, c_cli, c_pg, c_kafka) in enumerate(runs[side], 1):
        print(f"{name + ' ' + str(i):<11} {t:9.2f}s {docs(r):8.1f} {r:8.0f}   {docs(s):13.1f} {s:8.0f}"
              f"          {c_cli:6.1f} {c_pg:6.1f} {c_kafka:6.1f}")
med = {k: (statistics.median(x[1] for x in v), statistics.median(x[2] for x in v)) for k, v in runs.items()}
if len(runs["worker"]) > 1:
    for side, name in (("worker", "worker"), ("connect", "Connect")):
        r, s = med[side]
        print(f"{name + ' median':<11} {'':>10} {docs(r):8.1f} {r:8.0f}   {docs(s):13.1f} {s:8.0f}")
print("CPU s: the worker or Connect's JVM, its PostgreSQL backends, the broker (from start to the last row)")
cpu = {k: statistics.median(x[3] + x[4] + x[5] for x in v) for k, v in runs.items()}
print(f"CPU for the {n} documents: worker {cpu['worker']:.1f} s, Connect {cpu['connect']:.1f} s "
      f"(Connect / worker {cpu['connect'] / cpu['worker']:.2f})")
print(f"ratio worker / Connect: from start {med['worker'][0] / med['connect'][0]:.2f}, "
      f"steady {med['worker'][1] / med['connect'][1]:.2f}" + (" (medians)" if len(runs["worker"]) > 1 else ""))
PY
