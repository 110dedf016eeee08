#!/usr/bin/env bash
# Demo of the whole pipeline on a new Debian 12 machine:
#   installs the build and run-time packages (when run as root), builds,
#   starts a local Kafka 3.9 broker and a private PostgreSQL 15
#   (tests/services/services.sh), applies the schema, runs TWO workers
#   (each with a /metrics port), submits the invented meetings of
#   tests/fixtures/minutes and one invented meeting printed and scanned
#   (OCR reads it), runs the source connector (minutes-source) once against
#   a local FirstAgenda test server (tests/integration/firstagenda_server.py:
#   invented meetings of two kommuner and their attachment PDFs, one of them
#   scanned), and prints meetings, items, outcomes, the OCRed document, the
#   attachments and a search hit inside one, together with the SQL that
#   produced them, then what each worker did (from its /metrics).
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
        libxml2-dev libmicrohttpd-dev libcurl4-openssl-dev postgresql-15 postgresql-client-15 \
        libtesseract-dev libleptonica-dev tesseract-ocr-dan ghostscript \
        maven default-jdk-headless python3 curl >/dev/null
fi

echo "== building in $BUILD"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target minutes-worker minutes-submit minutes-source \
    minutes-lag minutes-parse mkfixtures mkscan >/dev/null
BIN="$BUILD/bin"

echo "== starting Kafka and PostgreSQL (first run downloads Kafka's jars from Maven Central)"
bash "$ROOT/tests/services/services.sh" stop "$RUN" >/dev/null 2>&1 || true
# (services.sh prints the env file on stdout: not shown, it is in $RUN/env)
if [[ -n "${MM_DEMO_KEEP:-}" ]]; then
    bash "$ROOT/tests/services/services.sh" start "$RUN" >/dev/null
else
    bash "$ROOT/tests/services/services.sh" start "$RUN" --owner-pid $$ >/dev/null
fi
# shellcheck disable=SC1091
source "$RUN/env"
echo "== Kafka at $KAFKA_BOOTSTRAP, PostgreSQL at 127.0.0.1:$PGPORT (all URLs: $RUN/env)"
W1="" W2="" FA=""
finish() {
    [[ -n "$FA" ]] && { kill -TERM "$FA" 2>/dev/null || true; wait "$FA" 2>/dev/null || true; }
    [[ -n "${MM_DEMO_KEEP:-}" ]] && { echo "== left running; stop with: tests/services/services.sh stop $RUN (workers: $W1 $W2)"; return; }
    for p in $W1 $W2; do kill -TERM "$p" 2>/dev/null || true; done
    for p in $W1 $W2; do wait "$p" 2>/dev/null || true; done
    bash "$ROOT/tests/services/services.sh" stop "$RUN" >/dev/null 2>&1 || true
}
trap finish EXIT

for t in minutes.raw minutes.raw.dlq minutes.attachments; do
    bash "$ROOT/tests/services/kafka-topics.sh" --create "$t" 4 \
        --config max.message.bytes=67108864 >/dev/null 2>&1
done
echo "== schema: minutes-worker --migrate (as the owner role)"
"$BIN/minutes-worker" --migrate --pg "$MM_PG_OWNER_URL"

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
M1=$(free_port) M2=$(free_port)
while [[ "$M2" == "$M1" ]]; do M2=$(free_port); done
echo "== two workers (role minutes_worker: SELECT/INSERT/UPDATE only); logs in $RUN/worker-*.log"
echo "   metrics: http://127.0.0.1:$M1/metrics and http://127.0.0.1:$M2/metrics"
"$BIN/minutes-worker" -b "$KAFKA_BOOTSTRAP" --pg "$MM_PG_WORKER_URL" --metrics-port "$M1" \
    2>"$RUN/worker-1.log" &
W1=$!
"$BIN/minutes-worker" -b "$KAFKA_BOOTSTRAP" --pg "$MM_PG_WORKER_URL" --metrics-port "$M2" \
    2>"$RUN/worker-2.log" &
W2=$!
printf 'export MM_DEMO_METRICS_1=%q MM_DEMO_METRICS_2=%q MM_DEMO_WORKERS=%q\n' \
    "http://127.0.0.1:$M1/metrics" "http://127.0.0.1:$M2/metrics" "$W1 $W2" >>"$RUN/env"

# invented meetings of six kommuner (tests/fixtures/minutes: our own texts),
# and three invented minutes of Odder with votes (tests/fixtures/votes/docs)
DOCS="$ROOT/tests/fixtures/minutes"
VOTES=("$ROOT"/tests/fixtures/votes/docs/*.txt)
NDOCS=$(($(find "$DOCS" -maxdepth 1 -name '*.txt' | wc -l) + ${#VOTES[@]}))
echo "== minutes-submit tests/fixtures/minutes and tests/fixtures/votes/docs/*.txt ($NDOCS invented meetings)"
"$BIN/minutes-submit" -b "$KAFKA_BOOTSTRAP" "$DOCS" "${VOTES[@]}" 2>/dev/null

# one invented meeting printed and scanned (tests/tools/mkscan: a grey
# image-only PDF with noise, a slight rotation and JPEG): OCR reads it
SCAN_SRC="$ROOT/tests/fixtures/parser/docs/a_decision_first.txt"
"$BIN/mkfixtures" --styled "$RUN/scan" "$SCAN_SRC" >/dev/null
"$BIN/mkscan" --dpi 300 "$RUN/scan/a_decision_first.pdf" "$RUN/scan/scanned-meeting.pdf"
echo "== minutes-submit a scanned meeting (image-only PDF made from $(basename "$SCAN_SRC"))"
"$BIN/minutes-submit" -b "$KAFKA_BOOTSTRAP" "$RUN/scan/scanned-meeting.pdf" 2>/dev/null
NDOCS=$((NDOCS + 1))

echo "== minutes-source --once: two kommuner of a local FirstAgenda test server (invented meetings"
echo "   and their attachments: text PDFs, one scanned, one over --attachment-max-bytes 4MiB)"
rm -f "$RUN/fa.port"
python3 "$ROOT/tests/integration/firstagenda_server.py" --port-file "$RUN/fa.port" demo1:7:3 demo2:8:2 \
    2>"$RUN/fa-server.log" &
FA=$!
for _ in $(seq 1 100); do [[ -s "$RUN/fa.port" ]] && break; sleep 0.1; done
FA_URL="http://127.0.0.1:$(cat "$RUN/fa.port")"
"$BIN/minutes-source" --once -b "$KAFKA_BOOTSTRAP" --pg "$MM_PG_WORKER_URL" --request-interval-ms 100 \
    --kommune Hvidovre --base-url "Hvidovre=$FA_URL/k/demo1" \
    --kommune Albertslund --base-url "Albertslund=$FA_URL/k/demo2" --attachment-max-bytes 4MiB \
    2>"$RUN/source.log"
listed="$(psql "$MM_PG_SUPERUSER_URL" -qAtX -c 'SELECT count(*) FROM source_entries WHERE body_sha256 IS NOT NULL')"
attached="$(psql "$MM_PG_SUPERUSER_URL" -qAtX -c 'SELECT count(*) FROM source_attachments WHERE produced_at IS NOT NULL')"

q() { psql "$MM_PG_SUPERUSER_URL" -X -P pager=off -c "$1"; }
for _ in $(seq 1 600); do
    [[ "$(psql "$MM_PG_SUPERUSER_URL" -qAtX -c 'SELECT count(*) FROM documents' 2>/dev/null)" == $((NDOCS + listed)) ]] && break
    sleep 0.1
done
for _ in $(seq 1 1200); do
    [[ "$(psql "$MM_PG_SUPERUSER_URL" -qAtX -c 'SELECT count(*) FROM attachment_texts' 2>/dev/null)" -ge "$attached" ]] && break
    sleep 0.1
done
show() {
    echo
    echo "-- $1"
    echo "$2"
    q "$2"
}
show "what minutes-source polled (its state: schemas/009_source_state.sql)" \
"SELECT kommune, host, last_success_at, entries_listed, failures FROM source_hosts ORDER BY kommune;"

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
show "a scanned meeting: its text came from OCR (documents.text_source; docs/ocr.md)" \
"SELECT municipality, committee, meeting_date, text_source, round(ocr_confidence) AS ocr_confidence,
       ocr_pages, (SELECT count(*) FROM agenda_items i WHERE i.document_id = d.id) AS items
  FROM documents d WHERE text_source <> 'text';"
show "attachments: what minutes-source fetched, and the text the workers stored (docs/attachments.md)" \
"SELECT coalesce(text_source, '-') AS text_source, coalesce(skipped, '') AS skipped, count(*),
       round(avg(ocr_confidence)) AS ocr_confidence, sum(byte_length) AS bytes
  FROM attachment_texts GROUP BY 1, 2 ORDER BY 1, 2;"
# each invented attachment holds a code word ("Kodeord: ...") that no item text
# holds; the one of the scanned attachment is known only through OCR
WORD="$(psql "$MM_PG_SUPERUSER_URL" -qAtX -c "SELECT substring(text from 'Kodeord: *([[:alpha:]æøå]+)')
  FROM attachment_texts WHERE text ~ 'Kodeord' ORDER BY text_source = 'ocr' DESC, id LIMIT 1")"
echo
echo "-- an item found by a word that only its attachment holds: '$WORD' (tests/sql/demo_attachment_search.sql)"
cat "$ROOT/tests/sql/demo_attachment_search.sql"
psql "$MM_PG_SUPERUSER_URL" -X -P pager=off -v words="$WORD" -f "$ROOT/tests/sql/demo_attachment_search.sql"
show "how each party voted in Odder Kommune since 2024-01-01 (schemas/010_votes.sql; docs/votes.md)" \
"SELECT * FROM party_vote_summary('Odder Kommune', '2024-01-01') ORDER BY party, option;"
show "where each document sat in Kafka: the key is the kommune, so one kommune's documents share a partition and stay in order" \
"SELECT kafka_partition, kafka_offset, municipality, committee, meeting_date
  FROM documents ORDER BY kafka_partition, kafka_offset;"
show "offsets stored in PostgreSQL in each batch's transaction: a worker resumes from here" \
"SELECT group_id, topic, partition, next_offset FROM consumer_offsets ORDER BY partition;"

# A partition is worked by one worker at a time: a worker whose partitions
# received no document writes nothing (its partitions wait for other keys).
echo
echo "-- what each worker did (its /metrics: mm_assigned_partitions, mm_documents_written_total)"
for i in 1 2; do
    port=$M1
    [[ $i == 2 ]] && port=$M2
    curl -s "http://127.0.0.1:$port/metrics" | awk -v w="worker $i" '
        $1 == "mm_assigned_partitions" { a = $2 }
        $1 ~ /^mm_documents_written_total/ { d = $2 }
        END { printf "%s: partitions assigned %s, documents written %s\n", w, a, d }' || true
done

