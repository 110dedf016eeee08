#!/usr/bin/env bash
# Demo of the whole pipeline on a new Debian 12 machine:
#   installs the build and run-time packages (when run as root), builds,
#   starts a local Kafka 3.9 broker and a private PostgreSQL 15
#   (tests/services/services.sh), applies the schema, runs TWO workers,
#   submits the invented meetings of tests/fixtures/minutes and prints meetings, items and outcomes
#   together with the SQL that produced them.
#
#   tests/demo.sh            # MM_DEMO_KEEP=1 leaves Kafka, PostgreSQL and the
#                            # workers running (tests/.run/demo/env has the URLs)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${MM_DEMO_BUILD:-$ROOT/build}"
RUN="$ROOT/tests/.run/demo"

if [[ "$(id -u)" -eq 0 && -z "${MM_DEMO_NO_INSTALL:-}" ]]; then
    echo "== installing packages (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends \
        build-essential cmake pkg-config librdkafka-dev libjansson-dev libpq-dev \
        libutf8proc-dev libpcre2-dev libcmocka-dev libpoppler-glib-dev libcairo2-dev \
        libxml2-dev libmicrohttpd-dev postgresql-15 postgresql-client-15 \
        maven default-jdk-headless python3 >/dev/null
fi

echo "== building in $BUILD"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target minutes-worker minutes-submit >/dev/null
BIN="$BUILD/bin"

echo "== starting Kafka and PostgreSQL (first run downloads Kafka's jars from Maven Central)"
bash "$ROOT/tests/services/services.sh" stop "$RUN" >/dev/null 2>&1 || true
if [[ -n "${MM_DEMO_KEEP:-}" ]]; then
    bash "$ROOT/tests/services/services.sh" start "$RUN"
else
    bash "$ROOT/tests/services/services.sh" start "$RUN" --owner-pid $$
fi
# shellcheck disable=SC1091
source "$RUN/env"
W1="" W2=""
finish() {
    [[ -n "${MM_DEMO_KEEP:-}" ]] && { echo "== left running; stop with: tests/services/services.sh stop $RUN (workers: $W1 $W2)"; return; }
    for p in $W1 $W2; do kill -TERM "$p" 2>/dev/null || true; done
    for p in $W1 $W2; do wait "$p" 2>/dev/null || true; done
    bash "$ROOT/tests/services/services.sh" stop "$RUN" >/dev/null 2>&1 || true
}
trap finish EXIT

for t in minutes.raw minutes.raw.dlq; do
    bash "$ROOT/tests/services/kafka-topics.sh" --create "$t" 4 \
        --config max.message.bytes=67108864 >/dev/null 2>&1
done
echo "== schema: minutes-worker --migrate (as the owner role)"
"$BIN/minutes-worker" --migrate --pg "$MM_PG_OWNER_URL"

echo "== two workers (role minutes_worker: SELECT/INSERT/UPDATE only); logs in $RUN/worker-*.log"
"$BIN/minutes-worker" -b "$KAFKA_BOOTSTRAP" --pg "$MM_PG_WORKER_URL" 2>"$RUN/worker-1.log" &
W1=$!
"$BIN/minutes-worker" -b "$KAFKA_BOOTSTRAP" --pg "$MM_PG_WORKER_URL" 2>"$RUN/worker-2.log" &
W2=$!

# invented meetings of six kommuner (tests/fixtures/minutes: our own texts)
DOCS="$ROOT/tests/fixtures/minutes"
NDOCS="$(find "$DOCS" -maxdepth 1 -name '*.txt' | wc -l)"
echo "== minutes-submit tests/fixtures/minutes ($NDOCS invented meetings)"
"$BIN/minutes-submit" -b "$KAFKA_BOOTSTRAP" "$DOCS" 2>/dev/null

q() { psql "$MM_PG_SUPERUSER_URL" -X -P pager=off -c "$1"; }
for _ in $(seq 1 600); do
    [[ "$(psql "$MM_PG_SUPERUSER_URL" -qAtX -c 'SELECT count(*) FROM documents' 2>/dev/null)" == "$NDOCS" ]] && break
    sleep 0.1
done

show() {
    echo
    echo "-- $1"
    echo "$2"
    q "$2"
}
show "meetings, one row per meeting (current version)" \
"SELECT m.municipality, m.committee, m.meeting_date, m.start_time, m.kind, m.state,
       (SELECT count(*) FROM current_items i WHERE i.meeting_id = m.id) AS items
  FROM meetings m ORDER BY m.meeting_date;"
show "agenda items with journal number and outcome" \
"SELECT m.meeting_date, i.number, left(i.title, 48) AS title, i.case_number,
       i.outcome, array_to_string(i.outcome_parts, ',') AS parts, NOT i.public AS closed
  FROM meetings m JOIN current_items i ON i.meeting_id = m.id
 ORDER BY m.meeting_date, i.ord;"
show "outcomes overall" \
"SELECT outcome, count(*) FROM current_items GROUP BY outcome ORDER BY count(*) DESC;"
# item_sections.fts is the indexed column (schemas/005_write_path.sql, the
# bounded expression of 003); the integration test it_worker_fulltext runs the same file.
show "Danish full-text search over item sections (the index covers each section's first 100,000 characters)" \
"$(cat "$ROOT/tests/sql/demo_search.sql")"
show "which partition (and so which worker) carried each document; offsets stored with the rows" \
"SELECT kafka_partition, kafka_offset, municipality, committee, meeting_date
  FROM documents ORDER BY kafka_partition, kafka_offset;"
q "SELECT group_id, topic, partition, next_offset FROM consumer_offsets ORDER BY partition;"
