#!/usr/bin/env bash
# Benchmark (not a test): end-to-end throughput of ONE minutes-worker, and
# the limit set by PostgreSQL itself.
#
#   tests/bench/worker-bench.sh [BUILD_DIR] [N_DOCS]
#
# 1. generates N distinct meeting documents from the seeds
#    (tests/integration/gen_variants.py), publishes them with minutes-submit;
# 2. starts one worker and times it from start until all N documents are
#    in PostgreSQL: docs/s and MB/s (input bytes);
# 3. exports every row the worker wrote and times COPYing the same rows
#    into an empty copy of the schema: the database's own rate (docs/s);
# 4. prints the ratio worker / COPY, and beside it (in brackets) the time
#    of the same COPY with the child rows' foreign keys checked, as the
#    worker's are;
# 5. prints the worker's RSS: steady after the stream, its peak (VmHWM) and
#    after one huge (15 MiB) input has passed.
# Starts its own Kafka + PostgreSQL (tests/services/services.sh) unless
# MM_SERVICES_RUNDIR points at running ones. Environment: MM_BENCH_BATCH
# (worker --batch-size, default 500).
set -euo pipefail
SRC="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="${1:-$SRC/build}"
N="${2:-2000}"
BIN="$BUILD/bin"
BATCH="${MM_BENCH_BATCH:-500}"
for b in minutes-worker minutes-submit minutes-lag mm-kafka-tool; do
    [[ -x "$BIN/$b" ]] || { echo "missing $BIN/$b: build first" >&2; exit 2; }
done
WORK="$(mktemp -d /tmp/mm-bench.XXXXXX)"
OWN_SERVICES=0
if [[ -z "${MM_SERVICES_RUNDIR:-}" ]]; then
    MM_SERVICES_RUNDIR="$WORK/services"
    OWN_SERVICES=1
    bash "$SRC/tests/services/services.sh" start "$MM_SERVICES_RUNDIR" --owner-pid $$ >"$WORK/services.log" 2>&1 ||
        { cat "$WORK/services.log" >&2; exit 1; }
fi
# shellcheck disable=SC1091
source "$MM_SERVICES_RUNDIR/env"
WPID=""
cleanup() {
    [[ -n "$WPID" ]] && kill -KILL "$WPID" 2>/dev/null || true
    [[ $OWN_SERVICES == 1 ]] && bash "$SRC/tests/services/services.sh" stop "$MM_SERVICES_RUNDIR" >/dev/null 2>&1 || true
    [[ -n "${MM_BENCH_KEEP:-}" ]] && echo "kept $WORK" >&2 || rm -rf "$WORK"
}
trap cleanup EXIT

now() { date +%s.%N; }
run_id="$(date +%s)"
DB=mm_bench DB2=mm_bench_copy DB3=mm_bench_copy_fk RAW="bench.$run_id.raw" DLQ="bench.$run_id.dlq" GROUP="bench-$run_id"
SUPER="${MM_PG_SUPERUSER_URL%/*}"
for d in $DB $DB2 $DB3; do
    PGOPTIONS="-c client_min_messages=warning" psql "$MM_PG_SUPERUSER_URL" -qAtX -v ON_ERROR_STOP=1 \
        -c "DROP DATABASE IF EXISTS $d" -c "CREATE DATABASE $d OWNER minutes_owner" \
        -c "GRANT CONNECT ON DATABASE $d TO minutes_worker" >/dev/null
    "$BIN/minutes-worker" --migrate --pg "${MM_PG_OWNER_URL%/*}/$d" 2>>"$WORK/migrate.log"
done
for t in "$RAW" "$DLQ"; do
    bash "$SRC/tests/services/kafka-topics.sh" --create "$t" 4 --config max.message.bytes=67108864 >/dev/null 2>&1
done

# shellcheck source=../services/lib.sh
source "$SRC/tests/services/lib.sh"
mm_warm_group_coordinator "$BIN" "$KAFKA_BOOTSTRAP" "$RAW" # as on a running cluster
# the real seeds of ../shared when present (the figures are measured on
# them), else the invented text meetings of tests/fixtures/minutes
SEEDS_DIR="$SRC/../shared/corpus/seeds"
[[ -d "$SEEDS_DIR" ]] || SEEDS_DIR="$SRC/tests/fixtures/minutes"
echo "documents: $N variants of $SEEDS_DIR" >&2
python3 "$SRC/tests/integration/gen_variants.py" "$SEEDS_DIR" "$WORK/docs" "$N" >"$WORK/dirs.tsv"
BYTES="$(find "$WORK/docs" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')"
t0="$(now)"
while IFS=$'\t' read -r slug muni count; do
    "$BIN/minutes-submit" -b "$KAFKA_BOOTSTRAP" -t "$RAW" --municipality "$muni" \
        -X partitioner=random "$WORK/docs/$slug" >/dev/null 2>>"$WORK/submit.log"
done <"$WORK/dirs.tsv"
t1="$(now)"

# A checkpoint before each timed part (here and before the COPY): neither
# side pays for writing out the dirty pages of what ran before it.
psql "$SUPER/$DB" -qAtX -v ON_ERROR_STOP=1 -c "CHECKPOINT" >/dev/null
t2="$(now)"
"$BIN/minutes-worker" -b "$KAFKA_BOOTSTRAP" -g "$GROUP" -t "$RAW" --dlq-topic "$DLQ" \
    --pg "${MM_PG_WORKER_URL%/*}/$DB" --batch-size "$BATCH" --log-level "${MM_BENCH_LOG_LEVEL:-warn}" 2>"$WORK/worker.log" &
WPID=$!
# Wait inside ONE backend: a psql process every 0.1 s would take CPU from
# PostgreSQL that the COPY measurement below never has to share. It looks
# every 20 ms (a count of a few thousand rows): the wait's step is part of
# the time measured, and the COPY side has none.
psql "$SUPER/$DB" -qAtX -v ON_ERROR_STOP=1 -c "DO \$\$
BEGIN
    FOR i IN 1..45000 LOOP
        EXIT WHEN (SELECT count(*) FROM documents) >= $N;
        PERFORM pg_sleep(0.02);
    END LOOP;
END \$\$;" || { echo "waiting for the worker failed" >&2; exit 1; }
# CPU seconds of each side (the worker process, its PostgreSQL backend, and
# below the COPY's backend), printed with the ratio in CPU time: on a shared
# machine wall time also measures the neighbours.
# cpu_s PID: CPU seconds (utime + stime) of a process, "" if /proc does not tell
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat" 2>/dev/null || true; }
CPU_WORKER="$(cpu_s "$WPID")"
CPU_WORKER_PG="$(for p in $(psql "$SUPER/$DB" -qAtX -c "SELECT pid FROM pg_stat_activity
                   WHERE datname = '$DB' AND application_name = 'minutes-worker'"); do cpu_s "$p"; echo; done |
                 awk 'NF {s += $1; n++} END {if (n) printf "%.2f", s}')"
[[ "$(psql "$SUPER/$DB" -qAtX -c "SELECT count(*) FROM documents")" -ge "$N" ]] ||
    { echo "worker did not finish in 900 s" >&2; tail "$WORK/worker.log" >&2; exit 1; }
t3="$(now)"
# Memory (issue 10): the worker's RSS once the stream has passed (steady),
# then after one huge input (a 15 MiB binary: dead-lettered, its bytes kept
# in dead_letters) has passed too, and the peak (VmHWM) over the whole run.
rss() { awk -v k="$1:" '$1 == k {print int($2 / 1024)}' "/proc/$WPID/status"; }
sleep 3 # a benchmark, not a test: let the last batch be freed (steady state)
RSS_STEADY="$(rss VmRSS)"
RSS_PEAK="$(rss VmHWM)"
python3 -c "import random; open('$WORK/huge.bin', 'wb').write(random.Random(7).randbytes(15 * 1024 * 1024))"
"$BIN/minutes-submit" -b "$KAFKA_BOOTSTRAP" -t "$RAW" --municipality "Bench Kommune" \
    "$WORK/huge.bin" >/dev/null 2>>"$WORK/submit.log"
psql "$SUPER/$DB" -qAtX -v ON_ERROR_STOP=1 -c "DO \$\$
BEGIN
    FOR i IN 1..3000 LOOP
        EXIT WHEN (SELECT count(*) FROM dead_letters) >= 1;
        PERFORM pg_sleep(0.1);
    END LOOP;
END \$\$;" >/dev/null
RSS_HUGE_PEAK="$(rss VmHWM)"
"$BIN/minutes-submit" -b "$KAFKA_BOOTSTRAP" -t "$RAW" --municipality "Bench Kommune" \
    "$SEEDS_DIR" >/dev/null 2>>"$WORK/submit.log" # a small batch after it
psql "$SUPER/$DB" -qAtX -v ON_ERROR_STOP=1 -c "DO \$\$
BEGIN
    FOR i IN 1..3000 LOOP
        EXIT WHEN (SELECT count(*) FROM documents) >= $N + 5;
        PERFORM pg_sleep(0.1);
    END LOOP;
END \$\$;" >/dev/null
sleep 3
RSS_AFTER_HUGE="$(rss VmRSS)"
kill -TERM "$WPID"; wait "$WPID" || true; WPID=""

# The database's own limit: COPY the same rows into an empty schema.
TABLES="documents meetings participants agenda_items item_sections item_absences attachments amounts law_references"
{
    echo "BEGIN;"
    for t in $TABLES; do echo "\\copy $t TO '$WORK/$t.copy'"; done
    echo "COMMIT;"
} | psql "$SUPER/$DB" -qAtX -v ON_ERROR_STOP=1 >/dev/null
ROWS="$(for t in $TABLES; do psql "$SUPER/$DB" -qAtX -c "SELECT count(*) FROM $t"; done | awk '{s+=$1} END {print s}')"
# copy_sql ROLE: COPYs every table back in one transaction: documents and
# meetings unchecked (they refer to each other), the child rows with
# session_replication_role ROLE: replica skips the foreign keys (the rows
# came from a database where they held: the limit), origin checks them,
# as the worker's inserts are.
copy_sql() {
    echo "BEGIN;"
    echo "SET session_replication_role = replica;"
    for t in documents meetings; do echo "\\copy $t FROM '$WORK/$t.copy'"; done
    echo "SET session_replication_role = $1;"
    for t in $TABLES; do
        [[ $t == documents || $t == meetings ]] || echo "\\copy $t FROM '$WORK/$t.copy'"
    done
    echo "COMMIT;"
}
{
    echo "SELECT pg_backend_pid() AS bpid \\gset"
    copy_sql replica
    # the backend's CPU seconds, read while the session is still open
    echo "\\setenv MM_BPID :bpid"
    echo "\\! awk -v hz=\"\$(getconf CLK_TCK)\" '{printf \"%.2f\", (\$14 + \$15) / hz}' /proc/\$MM_BPID/stat >'$WORK/copy.cpu' 2>/dev/null"
} >"$WORK/copy.sql"
psql "$SUPER/$DB2" -qAtX -v ON_ERROR_STOP=1 -c "CHECKPOINT" >/dev/null
t4="$(now)"
psql "$SUPER/$DB2" -qAtX -v ON_ERROR_STOP=1 -f "$WORK/copy.sql" >/dev/null
t5="$(now)"
# The same COPY with the children's foreign keys checked: what those
# checks cost, shown beside the limit.
copy_sql origin >"$WORK/copy_fk.sql"
psql "$SUPER/$DB3" -qAtX -v ON_ERROR_STOP=1 -c "CHECKPOINT" >/dev/null
t6="$(now)"
psql "$SUPER/$DB3" -qAtX -v ON_ERROR_STOP=1 -f "$WORK/copy_fk.sql" >/dev/null
t7="$(now)"

echo "worker RSS             steady ${RSS_STEADY} MB after $N documents (peak ${RSS_PEAK} MB); peak ${RSS_HUGE_PEAK} MB with one 15 MiB input; ${RSS_AFTER_HUGE} MB after it passed"
python3 - "$N" "$BYTES" "$ROWS" "$t0" "$t1" "$t2" "$t3" "$t4" "$t5" "$BATCH" "$t6" "$t7" <<'PY'
import sys
n, nbytes, rows = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
t0, t1, t2, t3, t4, t5 = map(float, sys.argv[4:10])
batch = sys.argv[10]
cpfk = float(sys.argv[12]) - float(sys.argv[11])
mb = nbytes / 1e6
sub, wrk, cp = t1 - t0, t3 - t2, t5 - t4
print(f"documents              {n} ({mb:.1f} MB of text), {rows} rows written, batch-size {batch}")
print(f"minutes-submit         {sub:7.2f} s  {n / sub:8.1f} docs/s  {mb / sub:7.2f} MB/s")
print(f"one worker end-to-end  {wrk:7.2f} s  {n / wrk:8.1f} docs/s  {mb / wrk:7.2f} MB/s")
print(f"PostgreSQL COPY limit  {cp:7.2f} s  {n / cp:8.1f} docs/s  {mb / cp:7.2f} MB/s  ({rows / cp:.0f} rows/s)")
print(f"ratio worker / COPY    {(n / wrk) / (n / cp):.2f}")
print(f"(COPY, child keys checked {cpfk:5.2f} s  {n / cpfk:8.1f} docs/s; ratio worker / it {cpfk / wrk:.2f})")
PY
CPU_COPY="$(cat "$WORK/copy.cpu" 2>/dev/null || true)"
if [[ -n "$CPU_WORKER" && -n "$CPU_WORKER_PG" && -n "$CPU_COPY" ]]; then
    python3 - "$N" "$CPU_WORKER" "$CPU_WORKER_PG" "$CPU_COPY" <<'PY'
import sys
w, wpg, cp = map(float, sys.argv[2:5])
print(f"CPU seconds            worker {w:.2f} + its PostgreSQL backend {wpg:.2f}; COPY backend {cp:.2f}")
print(f"ratio in CPU time      COPY / worker's backend {cp / wpg:.2f}; COPY / (worker + backend) {cp / (w + wpg):.2f}")
PY
else
    echo "CPU seconds            not available (/proc of the PostgreSQL backends not readable)"
fi
