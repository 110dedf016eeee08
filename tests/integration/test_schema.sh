#!/usr/bin/env bash
# Schema on real PostgreSQL:
# a) upgrade: a database that holds data under migration 001 only is
#    migrated to the current schema by `minutes-worker --migrate`; its rows
#    stay, the worker role gets exactly the new grants;
# b) the lenient casts mm_try_* never throw: one row per case in
#    tests/fixtures/worker/try_casts.tsv (year 0000, underflow, overflow ...),
#    each called with a literal (constant-folded by the planner) and with a
#    value from a table (evaluated at run time).
source "$(dirname "$0")/lib.sh"
it_init schema

# a) fresh database with 001 only, plus data
DB2="mm_it_schema_upgrade"
it_new_db "$DB2"
SUPER2="${MM_PG_SUPERUSER_URL%/*}/$DB2" OWNER2="${MM_PG_OWNER_URL%/*}/$DB2" WORKER2="${MM_PG_WORKER_URL%/*}/$DB2"
F001="$MM_SOURCE_DIR/schemas/001_init.sql"
# as `--migrate` of a 001-only build did: schema_migrations first, then 001
psql "$OWNER2" -qAtX -v ON_ERROR_STOP=1 -c "CREATE TABLE schema_migrations (version text PRIMARY KEY,
    checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())" >/dev/null || fail "schema_migrations"
psql "$OWNER2" -qAtX -v ON_ERROR_STOP=1 -f "$F001" >/dev/null || fail "apply 001"
psql "$OWNER2" -qAtX -v ON_ERROR_STOP=1 -v sum="$(md5sum "$F001" | cut -d' ' -f1)" >/dev/null <<'SQL' || fail "seed 001 data"
INSERT INTO schema_migrations (version, checksum) VALUES ('001_init.sql', :'sum');
SELECT * FROM mm_ingest_batch('g', '[{"sha256":"aa","topic":"t","partition":0,"offset":0,
  "byte_length":3,"raw_text":"x","parse":{"document":{"kind":"minutes","municipality":"Greve Kommune",
  "committee":"Byrådet","meeting_date":"2025-01-02"},"items":[{"number":1,"title":"T"}]}}]',
  '[{"topic":"t","partition":0,"first_offset":0,"next_offset":1}]');
SQL
"$MM_BIN/minutes-worker" --migrate --pg "$OWNER2" 2>"$WORK/migrate2.log" ||
    { cat "$WORK/migrate2.log" >&2; fail "upgrade migration"; }
s2() { psql "$SUPER2" -qAtX -v ON_ERROR_STOP=1 -c "$1"; }
[[ "$(s2 "SELECT count(*) FROM documents")|$(s2 "SELECT count(*) FROM agenda_items")" == "1|1" ]] ||
    fail "rows lost in the upgrade"
[[ "$(s2 "SELECT string_agg(version, ',' ORDER BY version) FROM schema_migrations")" == 001_init.sql,002_dead_letters.sql* ]] ||
    fail "migrations recorded: $(s2 "SELECT string_agg(version, ',') FROM schema_migrations")"
# the worker role: INSERT/SELECT on dead_letters, no UPDATE/DELETE there
w2() { psql "$WORKER2" -qAtX -v ON_ERROR_STOP=1 -c "$1"; }
w2 "INSERT INTO dead_letters (source_topic, source_partition, source_offset, stage, code, reason,
      sha256, byte_length, payload_complete) VALUES ('t', 0, 5, 'parse', 'x', 'y', 'z', 0, true)
      ON CONFLICT DO NOTHING" >/dev/null || fail "worker role cannot insert a dead letter"
w2 "SELECT mm_input_attempt('g', 't', 0, 7, NULL, NULL, NULL)" >/dev/null || fail "worker role cannot count attempts"
if w2 "DELETE FROM dead_letters" >/dev/null 2>&1; then fail "worker role may delete dead letters"; fi
if w2 "UPDATE dead_letters SET code = 'changed'" >/dev/null 2>&1; then fail "worker role may update dead letters"; fi
# the attempt counter (a table of calls and expected counts):
#  7 again (crashed once) -> 2 and known as a crasher; a lower offset that
#  passed -> 0; partition 1 (told that 0/7 did NOT pass) -> 1; 7 re-read
#  after partition 0 moved on -> still counted (3); 0/9 passed then 1/4
#  started, told 0/9 passed; 0/9 again -> 1 (its count was cleared);
#  mm_inputs_passed clears a partition's count below an offset.
att() { w2 "SELECT mm_input_attempt('g', 't', $1, $2, ${3:-NULL}, ${4:-NULL}, ${5:-NULL})"; }
[[ "$(att 0 7)" == 2 ]] || fail "second attempt not counted"
[[ "$(att 0 6)" == 0 ]] || fail "re-read of a passed input counted"
[[ "$(att 0 9)" == 1 ]] || fail "next input not at 1"
[[ "$(att 0 7)" == 3 ]] || fail "a known crasher below the mark not counted"
[[ "$(att 1 4 "'t'" 0 9)" == 1 ]] || fail "other partition"
[[ "$(att 0 9 "'t'" 1 4)" == 1 ]] || fail "an input told passed keeps counting"
w2 "SELECT mm_inputs_passed('g', 't', 0, 10)" >/dev/null
[[ "$(att 0 9)" == 1 ]] || fail "mm_inputs_passed did not clear"
# 006: the worker role writes through mm_ingest_documents (same meeting as
# the 001 row: it becomes current), and mm_ingest_batch still works (an
# older worker during a rolling upgrade)
# (every migration up to the newest file of schemas/ is applied, 007 among them)
[[ "$(s2 "SELECT version FROM schema_migrations ORDER BY version DESC LIMIT 1")" == \
   "$(basename "$(ls "$MM_SOURCE_DIR"/schemas/[0-9]*.sql | sort | tail -n 1)")" &&
   "$(s2 "SELECT count(*) FROM schema_migrations WHERE version = '007_raw_text_param.sql'")" == 1 ]] ||
    fail "007 or the newest migration not applied"
[[ "$(w2 "SELECT status || ' ' || (meeting_id = (SELECT id FROM meetings)) FROM mm_ingest_documents('g',
      '[{\"sha256\":\"bb\",\"topic\":\"t\",\"partition\":0,\"offset\":1,\"byte_length\":1,\"raw_text\":\"y\",
        \"parse\":{\"document\":{\"kind\":\"minutes\",\"municipality\":\"Greve Kommune\",
        \"committee\":\"Byrådet\",\"meeting_date\":\"2025-01-02\"}}}]',
      '[{\"topic\":\"t\",\"partition\":0,\"first_offset\":1,\"next_offset\":2}]')")" == "inserted true" ]] ||
    fail "mm_ingest_documents on the upgraded database"
[[ "$(s2 "SELECT d.sha256 FROM meetings m JOIN documents d ON d.id = m.current_document_id")" == bb ]] ||
    fail "the new document did not supersede the 001 row"
[[ "$(w2 "SELECT status FROM mm_ingest_batch('g', '[{\"sha256\":\"cc\",\"topic\":\"t\",\"partition\":0,
      \"offset\":2,\"byte_length\":1,\"raw_text\":\"z\",\"parse\":{\"items\":[{\"title\":\"T\"}]}}]', '[]')")" == inserted ]] ||
    fail "mm_ingest_batch after the upgrade"
# 007: the raw text as a parameter of its own (an element that is NULL
# falls back to the JSON's), and 006's three-argument call still works
[[ "$(w2 "SELECT string_agg(status, ' ' ORDER BY idx) FROM mm_ingest_documents('g',
      '[{\"sha256\":\"dd\",\"topic\":\"t\",\"partition\":0,\"offset\":3,\"byte_length\":1,\"parse\":{}},
        {\"sha256\":\"ee\",\"topic\":\"t\",\"partition\":0,\"offset\":4,\"byte_length\":1,\"raw_text\":\"in json\",\"parse\":{}}]',
      '[]', ARRAY['from the array', NULL])")" == "inserted inserted" ]] ||
    fail "mm_ingest_documents with raw texts"
[[ "$(s2 "SELECT string_agg(sha256 || '=' || raw_text, ' ' ORDER BY sha256) FROM documents
          WHERE sha256 IN ('bb', 'dd', 'ee')")" == "bb=y dd=from the array ee=in json" ]] ||
    fail "raw texts: $(s2 "SELECT string_agg(sha256 || '=' || coalesce(raw_text, '-'), ' ') FROM documents")"
log "upgrade from 001 with data: ok"

# b) casts
python3 - "$MM_SOURCE_DIR/tests/fixtures/worker/try_casts.tsv" >"$WORK/casts.sql" <<'PY'
import sys
rows = []
for line in open(sys.argv[1], encoding="utf-8"):
    if line.startswith("#") or not line.strip():
        continue
    fn, arg, want = (line.rstrip("\n").split("\t") + ["", ""])[:3]
    q = lambda s: "'" + s.replace("'", "''") + "'"
    rows.append((fn, arg, want, q))
print("CREATE TEMP TABLE c (n int, fn text, arg text, want text);")
for i, (fn, arg, want, q) in enumerate(rows):
    print(f"INSERT INTO c VALUES ({i}, {q(fn)}, {q(arg)}, {q(want)});")
# literal calls: the planner folds constants, the old casts threw there
for i, (fn, arg, want, q) in enumerate(rows):
    print(f"SELECT 'literal', {i}, {q(fn)}, {q(arg)}, coalesce({fn}({q(arg)})::text, 'NULL'), {q(want)};")
# run-time calls over a table
for fn in sorted({r[0] for r in rows}):
    print(f"SELECT 'table', n, fn, arg, coalesce({fn}(arg)::text, 'NULL'), want FROM c WHERE fn = {q(fn)} ORDER BY n;")
PY
psql "$SUPER_URL" -qAtX -F $'\t' -v ON_ERROR_STOP=1 -f "$WORK/casts.sql" >"$WORK/casts.out" 2>"$WORK/casts.err" ||
    { cat "$WORK/casts.err" >&2; fail "a cast threw"; }
awk -F'\t' '$5 != $6 { print "  " $1 " " $3 "(" $4 ") = " $5 ", expected " $6; bad++ }
            END { exit bad > 0 }' "$WORK/casts.out" >&2 || fail "casts give wrong values"
n="$(wc -l <"$WORK/casts.out")"
[[ "$n" -ge 100 ]] || fail "only $n cast results"
log "PASS schema ($n cast checks)"
