#!/usr/bin/env bash
# Document system exports through real Kafka into real PostgreSQL:
# a) a whole FirstAgenda directory (the 370 real Greve meetings when ../shared
#    is there, else the invented ones in tests/fixtures) with minutes-submit: every
#    meeting, item and attachment stored (expected counts computed from the
#    files), 0 dead letters; prints docs/s;
# b) the same directory again changes no row;
# c) the eDoc export folder: its two publications of one meeting end as ONE
#    current meeting (the later publication); the HTML rendering and the
#    attachment PDFs are not sent; an older publication arriving later
#    never wins;
# d) upgrade: a database at the migrations before 004 holding data is migrated
#    with its rows untouched and then ingests exports.
source "$(dirname "$0")/lib.sh"
it_init exports

GREVE="$MM_SOURCE_DIR/../shared/corpus/firstagenda-greve" GREVE_MUNI="Greve Kommune"
if [[ ! -d "$GREVE" ]]; then
    log "../shared not present: the invented FirstAgenda meetings of tests/fixtures instead of Greve's"
    GREVE="$MM_SOURCE_DIR/tests/fixtures/firstagenda" GREVE_MUNI="Solrød Kommune"
fi
FA_FIX="$MM_SOURCE_DIR/tests/fixtures/firstagenda"
NFA_FIX="$(find "$FA_FIX" -name '*.json' | wc -l)"
EDOC="$MM_SOURCE_DIR/tests/fixtures/edoc"
# a meeting is the committee (Udvalg.Id) at its start (MeetingBeginUtc,
# else Dato); each file is one publication of it (issue 18)
read -r NDOC NMEET NITEMS NATT < <(python3 - "$GREVE" <<'PY'
import json, os, sys
d = sys.argv[1]
docs = [json.load(open(os.path.join(d, f), encoding="utf-8")) for f in sorted(os.listdir(d)) if f.endswith(".json")]
print(len({x["Id"] for x in docs}),
      len({(x["Udvalg"]["Id"], x["Moede"].get("MeetingBeginUtc") or x["Moede"]["Dato"]) for x in docs}),
      sum(len(x["Dagsordenpunkter"]) for x in docs),
      sum(len(i.get("Bilag") or []) for x in docs for i in x["Dagsordenpunkter"]))
PY
)
log "FirstAgenda directory $GREVE: $NDOC publications of $NMEET meetings, $NITEMS items, $NATT attachments"
dlq_count() { "$MM_BIN/mm-kafka-tool" count "$KAFKA_BOOTSTRAP" "$DLQ"; }
dlq_is() { [[ "$(dlq_count)" == "$1" ]]; }

# a) the whole directory
start_worker 1
t0=$(date +%s.%N)
submit "$GREVE" >"$WORK/submit1.out" || fail "minutes-submit of $GREVE"
wait_until 600 "$NDOC documents stored" eq_sql "SELECT count(*) FROM documents" "$NDOC"
t1=$(date +%s.%N)
wait_until 120 "offsets at the end of the topic" pg_offsets_at_end
python3 -c "import sys; n, a, b = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]); print(f'exports: {n} FirstAgenda meetings submitted and stored in {b - a:.1f} s: {n / (b - a):.1f} docs/s')" "$NDOC" "$t0" "$t1"
[[ "$(sql "SELECT count(*) FROM meetings WHERE source_system = 'firstagenda'")" == "$NMEET" ]] ||
    fail "meetings: $(sql "SELECT count(*) FROM meetings"), want $NMEET"
[[ "$(sql "SELECT count(*) FROM current_items")" == "$NITEMS" ]] ||
    fail "items: $(sql "SELECT count(*) FROM current_items"), want $NITEMS"
[[ "$(sql "SELECT count(*) FROM attachments")" == "$NATT" ]] ||
    fail "attachments: $(sql "SELECT count(*) FROM attachments"), want $NATT"
[[ "$(sql "SELECT count(DISTINCT municipality) || ' ' || min(municipality) FROM meetings")" == "1 $GREVE_MUNI" ]] ||
    fail "municipality: $(sql "SELECT DISTINCT municipality FROM meetings")"
[[ "$(dlq_count)" == 0 ]] || fail "dead letters: $(dlq_count)"
[[ "$(sql "SELECT count(*) FROM documents WHERE superseded_by IS NOT NULL")" == 0 ]] || fail "superseded rows"
log "outcomes: $(sql "SELECT string_agg(outcome || '=' || n, ' ') FROM (SELECT outcome, count(*) n FROM current_items GROUP BY 1 ORDER BY 2 DESC) x")"

# b) again: nothing changes
before="$(row_counts)"
submit "$GREVE" >/dev/null || fail "minutes-submit (again)"
wait_until 120 "offsets cover the resubmission" pg_offsets_at_end
wait_until 60 "group lag 0" lag_is_zero
after="$(row_counts)"
[[ "$before" == "$after" ]] || fail "row counts changed: $before -> $after"
[[ "$(dlq_count)" == 0 ]] || fail "dead letters after resubmit: $(dlq_count)"
log "resubmission changed nothing: $after"

# c) the eDoc folder: two publications, one current meeting
check_edoc() {
    local where="$1"
    [[ "$(sql "SELECT count(*) FROM meetings WHERE source_system = 'edoc'")" == 1 ]] ||
        fail "$where: eDoc meetings: $(sql "SELECT count(*) FROM meetings WHERE source_system = 'edoc'")"
    # the current document is the later publication (the minutes, 6 items, 1..6)
    local cur
    cur="$(sql "SELECT string_agg(i.number::text, ',' ORDER BY i.ord) FROM current_items i JOIN meetings m ON m.id = i.meeting_id WHERE m.source_system = 'edoc'")"
    [[ "$cur" == "1,2,3,4,5,6" ]] || fail "$where: current eDoc items $cur, want 1..6"
    [[ "$(sql "SELECT to_char(source_published_at AT TIME ZONE 'Europe/Copenhagen', 'YYYY-MM-DD HH24.MI.SS') FROM meetings WHERE source_system = 'edoc'")" == "2024-06-12 08.45.05" ]] ||
        fail "$where: current publication $(sql "SELECT source_published_at FROM meetings WHERE source_system = 'edoc'")"
    [[ "$(sql "SELECT count(*) FROM documents WHERE source_system = 'edoc' AND superseded_by IS NULL")" == 1 ]] ||
        fail "$where: more than one current eDoc document"
}
submit --municipality "Middelfart Kommune" "$EDOC" >"$WORK/submit-edoc.out" || fail "submit eDoc folder"
grep -q "submitted 2," "$WORK/submit-edoc.out" || fail "eDoc folder: $(cat "$WORK/submit-edoc.out"), want 2 publications sent"
wait_until 60 "eDoc publications stored" eq_sql "SELECT count(*) FROM documents WHERE source_system = 'edoc'" 2
check_edoc "in order"
[[ "$(sql "SELECT count(*) FROM attachments a JOIN current_items i ON i.id = a.item_id JOIN meetings m ON m.id = i.meeting_id WHERE m.source_system = 'edoc'")" == 12 ]] ||
    fail "eDoc attachments of the current publication"
# the older publication again, with other bytes, arriving last
late="$WORK/late/2024-06-03 09.12.40"
mkdir -p "$late"
cp "$EDOC"/*/*/*/*/*/"2024-06-03 09.12.40"/*.xml "$late/old.xml"
printf '\n' >>"$late/old.xml"
submit --municipality "Middelfart Kommune" "$late" >/dev/null || fail "submit late publication"
wait_until 60 "late publication stored" eq_sql "SELECT count(*) FROM documents WHERE source_system = 'edoc'" 3
check_edoc "older publication last"
[[ "$(dlq_count)" == 0 ]] || fail "dead letters: $(dlq_count)"
# a bad export goes to the dead-letter topic, nothing stored
bad="$WORK/bad" && mkdir -p "$bad"
head -c 3000 "$MM_SOURCE_DIR/tests/fixtures/source/invalid/fa_no_number.json" >"$bad/truncated.json"
ndocs="$(sql "SELECT count(*) FROM documents")"
submit --municipality "Solrød Kommune" "$bad/truncated.json" >/dev/null || fail "submit bad export"
wait_until 60 "bad export dead-lettered" dlq_is 1
wait_until 60 "group lag 0" lag_is_zero
[[ "$(sql "SELECT count(*) FROM documents")" == "$ndocs" ]] || fail "the bad export was stored"
stop_worker 1

# d) upgrade from the schema before 004 with data in the database
DB2="mm_it_exports_upgrade"
it_new_db "$DB2"
SUPER_URL="${MM_PG_SUPERUSER_URL%/*}/$DB2"
OWNER_URL="${MM_PG_OWNER_URL%/*}/$DB2"
WORKER_URL="${MM_PG_WORKER_URL%/*}/$DB2"
# as minutes-worker --migrate did before 004: schema_migrations first (001's
# grants name it), then every migration below 004, each recorded with its
# checksum. This build's worker needs the functions of 002 (attempt counts).
psql "$OWNER_URL" -qAtX -v ON_ERROR_STOP=1 \
    -c "CREATE TABLE schema_migrations (version text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())" >/dev/null
for f in "$MM_SOURCE_DIR"/schemas/[0-9]*.sql; do
    v="$(basename "$f")"
    [[ "$v" < "004" ]] || continue
    PGOPTIONS="-c client_min_messages=warning" psql "$OWNER_URL" -qAtX -v ON_ERROR_STOP=1 -1 -f "$f" \
        >"$WORK/pre-$v.log" 2>&1 || { cat "$WORK/pre-$v.log" >&2; fail "apply $v"; }
    psql "$OWNER_URL" -qAtX -v ON_ERROR_STOP=1 \
        -c "INSERT INTO schema_migrations (version, checksum) VALUES ('$v', '$(md5sum <"$f" | cut -c1-32)')" >/dev/null
done
RAW="$RAW.upgrade" DLQ="$DLQ.upgrade" GROUP="$GROUP-upgrade"
for t in "$RAW" "$DLQ"; do bash "$TOPICS" --create "$t" 2 >/dev/null 2>&1 || fail "topic $t"; done
# the data a worker of that schema stored (this build's worker refuses a
# schema older than its own): the parses of the seeds and the in-repo
# exports through the old schema's mm_ingest_batch (source ignored)
python3 "$IT_DIR/make_store_docs.py" --parsed-only "$MM_BIN/minutes-parse" "$WORK/docs" "$SEEDS"/*.txt \
    "$MM_SOURCE_DIR"/tests/fixtures/firstagenda/*.json >/dev/null || fail "parse the data before 004"
"$MM_BIN/mm-store-tool" legacy "$WORKER_URL" "$WORK/docs/parsed.json" >"$WORK/legacy.out" 2>&1 ||
    fail "store before 004: $(cat "$WORK/legacy.out")"
[[ "$(sql "SELECT count(*) FROM documents")" == $((NSEEDS + NFA_FIX)) ]] ||
    fail "$((NSEEDS + NFA_FIX)) documents not stored before 004"
old="$(row_counts)"
"$MM_BIN/minutes-worker" --migrate --pg "$OWNER_URL" 2>"$WORK/migrate2.log" ||
    { cat "$WORK/migrate2.log" >&2; fail "upgrade migration"; }
[[ "$(sql "SELECT count(*) FROM schema_migrations WHERE version = '004_source_revisions.sql'")" == 1 ]] || fail "004 not recorded"
[[ "$(row_counts)" == "$old" ]] || fail "the upgrade changed rows: $old -> $(row_counts)"
[[ "$(sql "SELECT count(*) FROM meetings m JOIN documents d ON d.id = m.current_document_id")" == "$(sql "SELECT count(*) FROM meetings")" ]] ||
    fail "meetings lost their current document"
start_worker 3
submit --municipality "Middelfart Kommune" "$EDOC" >/dev/null || fail "submit after upgrade"
wait_until 60 "eDoc stored after upgrade" eq_sql "SELECT count(*) FROM documents WHERE source_system = 'edoc'" 2
check_edoc "after upgrade"
[[ "$(sql "SELECT count(*) FROM documents WHERE source_system IS NULL")" == $((NSEEDS + NFA_FIX)) ]] || fail "old rows changed"
stop_worker 3
log "PASS exports"
