#!/usr/bin/env bash
# Schema on real PostgreSQL:
# a) upgrade: a database that holds data under migration 001 only is
#    migrated to the current schema by `minutes-worker --migrate` (through
#    008); its rows stay, the worker role gets exactly the new grants;
# c) 008 on a database at 007 that holds data: rows and meeting keys stay
#    (also a key with an empty municipality, 'src:sbsys::26'), the old
#    write functions are gone, the case number index is a hash index, old
#    documents are no supplements, current_meeting_items shows them; a
#    worker started against the database before the upgrade refuses with a
#    message naming both migrations and --migrate, and starts after it;
# b) the lenient casts mm_try_* never throw: one row per case in
#    tests/fixtures/worker/try_casts.tsv (year 0000, underflow, overflow ...),
#    each called with a literal (constant-folded by the planner) and with a
#    value from a table (evaluated at run time);
# d) 012 on a database at 011 that holds data (attachments, see below);
# e) 014 on a database at 013 that holds a dead letter (see below).
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
# 011: mm_input_settle withdraws one attempt (stop, revoke) or clears (passed)
settle() { w2 "SELECT mm_input_settle('g', 't', 5, 1, $1)" >/dev/null; }
[[ "$(att 5 1)" == 1 && "$(att 5 1)" == 2 ]] || fail "counting on partition 5"
settle false
[[ "$(s2 "SELECT attempts FROM input_attempts WHERE partition = 5")" == 1 ]] || fail "withdraw: input_attempts"
[[ "$(att 5 1)" == 2 ]] || fail "a withdrawn attempt still counted"
settle true
[[ "$(att 5 1)" == 1 ]] || fail "settled as passed, yet counted on"
# the worker role writes through mm_ingest_documents (same meeting as the
# 001 row: it becomes current); 008 dropped the older write functions
[[ "$(s2 "SELECT count(*) FROM schema_migrations WHERE version = '008_one_write_path.sql'")" == 1 ]] ||
    fail "008 not applied"
[[ "$(s2 "SELECT to_regprocedure('mm_ingest_batch(text,jsonb,jsonb)') IS NULL
             AND to_regprocedure('mm_ingest_documents(text,jsonb,jsonb)') IS NULL")" == t ]] ||
    fail "an older write function is still there"
last_sql="$(basename "$(ls "$MM_SOURCE_DIR"/schemas/[0-9]*.sql | sort | tail -n 1)")"
[[ "$(s2 "SELECT version FROM schema_migrations ORDER BY version DESC LIMIT 1")" == "$last_sql" ]] ||
    fail "$last_sql not applied last"
[[ "$(w2 "SELECT status || ' ' || (meeting_id = (SELECT id FROM meetings)) FROM mm_ingest_documents('g',
      '[{\"sha256\":\"bb\",\"topic\":\"t\",\"partition\":0,\"offset\":1,\"byte_length\":1,\"raw_text\":\"y\",
        \"parse\":{\"document\":{\"kind\":\"minutes\",\"municipality\":\"Greve Kommune\",
        \"committee\":\"Byrådet\",\"meeting_date\":\"2025-01-02\"}}}]',
      '[{\"topic\":\"t\",\"partition\":0,\"first_offset\":1,\"next_offset\":2}]', NULL)")" == "inserted true" ]] ||
    fail "mm_ingest_documents on the upgraded database"
[[ "$(s2 "SELECT d.sha256 FROM meetings m JOIN documents d ON d.id = m.current_document_id")" == bb ]] ||
    fail "the new document did not supersede the 001 row"
# the raw text as a parameter of its own (an element that is NULL falls
# back to the JSON's)
[[ "$(w2 "SELECT string_agg(status, ' ' ORDER BY idx) FROM mm_ingest_documents('g',
      '[{\"sha256\":\"dd\",\"topic\":\"t\",\"partition\":0,\"offset\":3,\"byte_length\":1,\"parse\":{}},
        {\"sha256\":\"ee\",\"topic\":\"t\",\"partition\":0,\"offset\":4,\"byte_length\":1,\"raw_text\":\"in json\",\"parse\":{}}]',
      '[]', ARRAY['from the array', NULL])")" == "inserted inserted" ]] ||
    fail "mm_ingest_documents with raw texts"
[[ "$(s2 "SELECT string_agg(sha256 || '=' || raw_text, ' ' ORDER BY sha256) FROM documents
          WHERE sha256 IN ('bb', 'dd', 'ee')")" == "bb=y dd=from the array ee=in json" ]] ||
    fail "raw texts: $(s2 "SELECT string_agg(sha256 || '=' || coalesce(raw_text, '-'), ' ') FROM documents")"
log "upgrade from 001 with data: ok"

# c) a database at 007 with data, then 008
DB3="mm_it_schema_at007"
it_new_db "$DB3"
SUPER3="${MM_PG_SUPERUSER_URL%/*}/$DB3" OWNER3="${MM_PG_OWNER_URL%/*}/$DB3" WORKER3="${MM_PG_WORKER_URL%/*}/$DB3"
s3() { psql "$SUPER3" -qAtX -v ON_ERROR_STOP=1 -c "$1"; }
psql "$OWNER3" -qAtX -v ON_ERROR_STOP=1 -c "CREATE TABLE schema_migrations (version text PRIMARY KEY,
    checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())" >/dev/null || fail "schema_migrations"
for f in "$MM_SOURCE_DIR"/schemas/00[1-7]_*.sql; do
    PGOPTIONS="-c client_min_messages=warning" psql "$OWNER3" -qAtX -v ON_ERROR_STOP=1 -1 -f "$f" \
        >"$WORK/at007.log" 2>&1 || { cat "$WORK/at007.log" >&2; fail "apply $f"; }
    s3 "INSERT INTO schema_migrations (version, checksum) VALUES ('$(basename "$f")', '$(md5sum <"$f" | cut -c1-32)')"
done
# data as a worker of 007 wrote it: a text meeting with items, an export
# with a municipality and one without (its key has an empty municipality)
psql "$WORKER3" -qAtX -v ON_ERROR_STOP=1 >/dev/null <<'SQL' || fail "seed 007 data"
SELECT * FROM mm_ingest_batch('g', '[
 {"sha256":"t1","topic":"t","partition":0,"offset":0,"byte_length":1,"raw_text":"x",
  "parse":{"document":{"kind":"agenda","municipality":"Greve Kommune","committee":"Byrådet",
   "meeting_date":"2025-01-02"},"items":[{"number":1,"title":"T","case_number":"25-000001"}]}},
 {"sha256":"e1","topic":"t","partition":0,"offset":1,"byte_length":1,"raw_text":"x",
  "parse":{"document":{"kind":"agenda","municipality":"Ballerup Kommune","committee":"KMB",
   "meeting_date":"2013-05-15","source":{"system":"sbsys","meeting_id":"26"}},"items":[{"title":"A"}]}},
 {"sha256":"e2","topic":"t","partition":0,"offset":2,"byte_length":1,"raw_text":"x",
  "parse":{"document":{"kind":"agenda","committee":"KMB","meeting_date":"2016-10-06",
   "source":{"system":"sbsys","meeting_id":"26"}},"items":[{"title":"B"}]}}]',
 '[{"topic":"t","partition":0,"first_offset":0,"next_offset":3}]');
SQL
keys_before="$(s3 "SELECT string_agg(meeting_key, ' ' ORDER BY meeting_key) FROM meetings")"
[[ "$keys_before" == "greve kommune|byrådet|2025-01-02 src:sbsys::26 src:sbsys:ballerup kommune:26" ]] ||
    fail "keys at 007: $keys_before"
counts3() { s3 "SELECT (SELECT count(*) FROM documents) || ' ' || (SELECT count(*) FROM meetings) || ' '
                       || (SELECT count(*) FROM agenda_items) || ' ' || (SELECT count(*) FROM consumer_offsets)"; }
before3="$(counts3)"
# a worker of this build against 007 refuses (it needs the highest migration it embeds)
need="$(basename "$(ls "$MM_SOURCE_DIR"/schemas/[0-9]*.sql | sort | tail -n 1)" | cut -c1-3)"
rc=0
timeout 60 "$MM_BIN/minutes-worker" -b "$KAFKA_BOOTSTRAP" -t "it.schema.refused" --pg "$WORKER3" \
    2>"$WORK/refused.log" || rc=$?
[[ $rc -eq 1 ]] || fail "a worker against 007 exited with $rc, want 1: $(tail -n 3 "$WORK/refused.log")"
grep -q "schema is at migration 007, this worker needs $need: run \`minutes-worker --migrate\`" "$WORK/refused.log" ||
    fail "no clear refusal: $(grep -v debug "$WORK/refused.log" | tail -n 3)"
[[ "$(counts3)" == "$before3" ]] || fail "the refused worker wrote"
"$MM_BIN/minutes-worker" --migrate --pg "$OWNER3" 2>"$WORK/migrate3.log" ||
    { cat "$WORK/migrate3.log" >&2; fail "008 on a database at 007 with data"; }
[[ "$(counts3)" == "$before3" ]] || fail "008 changed rows: $before3 -> $(counts3)"
[[ "$(s3 "SELECT string_agg(meeting_key, ' ' ORDER BY meeting_key) FROM meetings")" == "$keys_before" ]] ||
    fail "008 changed meeting keys"
[[ "$(s3 "SELECT indexdef ~ 'USING hash' FROM pg_indexes WHERE indexname = 'agenda_items_case_number_idx'")" == t ]] ||
    fail "case numbers are not hash-indexed"
[[ "$(s3 "SELECT count(*) FROM documents WHERE supplement")" == 0 ]] || fail "old documents became supplements"
[[ "$(s3 "SELECT count(*) FROM current_meeting_items")" == 3 ]] || fail "current_meeting_items: $(s3 "SELECT count(*) FROM current_meeting_items")"
[[ "$(psql "$WORKER3" -qAtX -c "SELECT count(*) FROM current_meeting_items WHERE case_number = '25-000001'")" == 1 ]] ||
    fail "the worker role cannot read current_meeting_items by case number"
[[ "$(s3 "SELECT array_to_string(proconfig, ',') FROM pg_proc WHERE proname = 'mm_ingest_documents'")" == "jit=off" ]] ||
    fail "mm_ingest_documents lost jit = off"
# the same worker now starts (and is stopped)
timeout -s TERM 8 "$MM_BIN/minutes-worker" -b "$KAFKA_BOOTSTRAP" -t "it.schema.refused" --pg "$WORKER3" \
    2>"$WORK/started.log" || true
grep -q "refusing" "$WORK/started.log" && fail "the worker refused the migrated schema"
log "c) 007 with data -> 008: rows and keys kept; a worker refused 007 and starts on $need"

# d) 012 (attachments) on a database at 011 that holds data: the rows stay,
#    old attachments have no source_id (their parse is not stored), old
#    documents came from a text layer ('text', no OCR); the worker role
#    writes attachment texts (once per sha256, new bytes replace), sets a
#    document's text source, and finds an item by its attachment's words.
DB4="mm_it_schema_at011"
it_new_db "$DB4"
SUPER4="${MM_PG_SUPERUSER_URL%/*}/$DB4" OWNER4="${MM_PG_OWNER_URL%/*}/$DB4" WORKER4="${MM_PG_WORKER_URL%/*}/$DB4"
s4() { psql "$SUPER4" -qAtX -v ON_ERROR_STOP=1 -c "$1"; }
w4() { psql "$WORKER4" -qAtX -v ON_ERROR_STOP=1 -c "$1"; }
psql "$OWNER4" -qAtX -v ON_ERROR_STOP=1 -c "CREATE TABLE schema_migrations (version text PRIMARY KEY,
    checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())" >/dev/null || fail "schema_migrations"
for f in "$MM_SOURCE_DIR"/schemas/0[0-1][0-9]_*.sql; do
    [[ "$(basename "$f")" < "012" ]] || continue
    PGOPTIONS="-c client_min_messages=warning" psql "$OWNER4" -qAtX -v ON_ERROR_STOP=1 -1 -f "$f" \
        >"$WORK/at011.log" 2>&1 || { cat "$WORK/at011.log" >&2; fail "apply $f"; }
    s4 "INSERT INTO schema_migrations (version, checksum) VALUES ('$(basename "$f")', '$(md5sum <"$f" | cut -c1-32)')"
done
# a meeting as a worker of 011 wrote it: the document by mm_ingest_documents,
# an item with two attachments (names only, as 001-011 stored them)
w4 "SELECT count(*) FROM mm_ingest_documents('g', '[{\"sha256\":\"m1\",\"topic\":\"t\",\"partition\":0,
      \"offset\":0,\"byte_length\":1,\"raw_text\":\"x\",\"parse\":{\"document\":{\"kind\":\"minutes\",
      \"municipality\":\"Greve Kommune\",\"committee\":\"Byrådet\",\"meeting_date\":\"2025-02-03\"}}}]',
      '[{\"topic\":\"t\",\"partition\":0,\"first_offset\":0,\"next_offset\":1}]', NULL)" >/dev/null ||
    fail "seed 011 document"
psql "$WORKER4" -qAtX -v ON_ERROR_STOP=1 >/dev/null <<'SQL' || fail "seed 011 items"
INSERT INTO agenda_items (document_id, meeting_id, number, ord, title, public)
SELECT id, meeting_id, 1, 1, 'Lokalplan for havnen', true FROM documents;
INSERT INTO attachments (item_id, ord, name)
SELECT id, o, n FROM agenda_items, (VALUES (1, 'Lokalplanforslag'), (2, 'Høringssvar')) v(o, n);
SQL
counts4() { s4 "SELECT (SELECT count(*) FROM documents) || ' ' || (SELECT count(*) FROM agenda_items) || ' '
                       || (SELECT count(*) FROM attachments) || ' ' || (SELECT count(*) FROM consumer_offsets)"; }
before4="$(counts4)"
[[ "$before4" == "1 1 2 1" ]] || fail "seed at 011: $before4"
"$MM_BIN/minutes-worker" --migrate --pg "$OWNER4" 2>"$WORK/migrate4.log" ||
    { cat "$WORK/migrate4.log" >&2; fail "012 on a database at 011 with data"; }
[[ "$(counts4)" == "$before4" ]] || fail "012 changed rows: $before4 -> $(counts4)"
[[ "$(s4 "SELECT count(*) FROM attachments WHERE source_id IS NULL AND link IS NULL")" == 2 ]] ||
    fail "old attachments got a source_id"
[[ "$(s4 "SELECT text_source || ' ' || ocr_pages::text || ' ' || (ocr_confidence IS NULL) FROM documents")" == "text {} true" ]] ||
    fail "old documents' text source: $(s4 "SELECT text_source, ocr_pages, ocr_confidence FROM documents")"
[[ "$(s4 "SELECT count(*) FROM attachment_texts")" == 0 ]] || fail "attachment_texts not empty"
[[ "$(s4 "SELECT count(*) || ' ' || count(text_id) FROM current_item_attachments")" == "2 0" ]] ||
    fail "current_item_attachments on old rows: $(s4 "SELECT count(*) FROM current_item_attachments")"
# the worker role: an attachment text, again (duplicate), new bytes (replaced)
att4() { # SHA TEXT
    w4 "SELECT string_agg(status, ' ' ORDER BY idx) FROM mm_ingest_attachments('[{\"municipality\":\"Greve Kommune\",
          \"source_id\":\"bilag-1\",\"name\":\"Lokalplanforslag\",\"sha256\":\"$1\",\"text\":\"$2\",
          \"text_source\":\"ocr\",\"ocr_confidence\":87.5,\"pages\":2,\"ocr_pages\":[1,2],
          \"topic\":\"a\",\"partition\":0,\"offset\":0}]')"
}
[[ "$(att4 s1 "Kystsikringen af havnefronten")" == inserted ]] || fail "mm_ingest_attachments insert"
[[ "$(att4 s1 "Kystsikringen af havnefronten")" == duplicate ]] || fail "same sha256 not a duplicate"
[[ "$(att4 s2 "Bølgebryderen forlænges")" == replaced ]] || fail "new sha256 not replaced"
[[ "$(s4 "SELECT versions || ' ' || text || ' ' || ocr_pages::text || ' ' || ocr_confidence FROM attachment_texts")" == \
   "2 Bølgebryderen forlænges {1,2} 87.5" ]] || fail "attachment_texts: $(s4 "SELECT * FROM attachment_texts")"
if w4 "DELETE FROM attachment_texts" >/dev/null 2>&1; then fail "worker role may delete attachment texts"; fi
# an old attachment row gains its id (as a re-sent meeting's rows have it): linked, found
s4 "UPDATE attachments SET source_id = 'bilag-1' WHERE ord = 1"
[[ "$(w4 "SELECT item_title || '|' || attachment_name || '|' || text_source FROM item_attachment_search('bølgebryder')")" == \
   "Lokalplan for havnen|Lokalplanforslag|ocr" ]] || fail "item_attachment_search after 012"
[[ "$(w4 "SELECT count(*) FROM item_attachment_search('kystsikringen')")" == 0 ]] || fail "the replaced text is still found"
# a document's text source from its parse; an unknown value is not stored
w4 "SELECT mm_set_text_sources('[{\"id\":$(s4 "SELECT id FROM documents"),\"text_source\":\"mixed\",
      \"ocr_confidence\":71,\"ocr_pages\":[3,\"4\",\"x\"]}]')" >/dev/null || fail "mm_set_text_sources"
[[ "$(s4 "SELECT text_source || ' ' || ocr_pages::text || ' ' || ocr_confidence FROM documents")" == "mixed {3,4} 71" ]] ||
    fail "text source: $(s4 "SELECT text_source, ocr_pages, ocr_confidence FROM documents")"
w4 "SELECT mm_set_text_sources('[{\"id\":$(s4 "SELECT id FROM documents"),\"text_source\":\"bogus\"}]')" >/dev/null
[[ "$(s4 "SELECT text_source FROM documents")" == mixed ]] || fail "an unknown text source was stored"
log "d) 011 with data -> 012: rows kept, attachment texts written, linked and found"

# e) 014 (where a dead letter came from) on a database at 013 that holds a
#    dead letter: the row stays, its new columns are NULL (its headers were
#    not kept); the worker role writes the new columns.
DB5="mm_it_schema_at013"
it_new_db "$DB5"
SUPER5="${MM_PG_SUPERUSER_URL%/*}/$DB5" OWNER5="${MM_PG_OWNER_URL%/*}/$DB5" WORKER5="${MM_PG_WORKER_URL%/*}/$DB5"
s5() { psql "$SUPER5" -qAtX -v ON_ERROR_STOP=1 -c "$1"; }
psql "$OWNER5" -qAtX -v ON_ERROR_STOP=1 -c "CREATE TABLE schema_migrations (version text PRIMARY KEY,
    checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())" >/dev/null || fail "schema_migrations"
for f in "$MM_SOURCE_DIR"/schemas/0[0-1][0-9]_*.sql; do
    [[ "$(basename "$f")" < "014" ]] || continue
    PGOPTIONS="-c client_min_messages=warning" psql "$OWNER5" -qAtX -v ON_ERROR_STOP=1 -1 -f "$f" \
        >"$WORK/at013.log" 2>&1 || { cat "$WORK/at013.log" >&2; fail "apply $f"; }
    s5 "INSERT INTO schema_migrations (version, checksum) VALUES ('$(basename "$f")', '$(md5sum <"$f" | cut -c1-32)')"
done
psql "$WORKER5" -qAtX -v ON_ERROR_STOP=1 -c "INSERT INTO dead_letters (source_topic, source_partition,
    source_offset, stage, code, reason, sha256, byte_length, payload, payload_complete)
    VALUES ('raw', 0, 7, 'parse', 'no_items', 'no agenda items found', 'ab', 3, 'abc', true)" >/dev/null ||
    fail "seed a dead letter at 013"
"$MM_BIN/minutes-worker" --migrate --pg "$OWNER5" 2>"$WORK/migrate5.log" ||
    { cat "$WORK/migrate5.log" >&2; fail "014 on a database at 013 with data"; }
[[ "$(s5 "SELECT code || ' ' || encode(payload, 'escape') || ' ' || (source_url IS NULL AND document_id IS NULL
          AND content_type IS NULL AND municipality IS NULL) FROM dead_letters")" == "no_items abc true" ]] ||
    fail "the dead letter after 014: $(s5 "SELECT * FROM dead_letters")"
psql "$WORKER5" -qAtX -v ON_ERROR_STOP=1 -c "INSERT INTO dead_letters (source_topic, source_partition,
    source_offset, stage, code, reason, sha256, byte_length, payload_complete, source_url, document_id,
    content_type, municipality) VALUES ('raw', 0, 8, 'extract', 'pdf_corrupt', 'x', 'cd', 0, false,
    'file:///in/a.pdf', 'a.pdf', 'application/pdf', 'Greve Kommune')" >/dev/null ||
    fail "the worker role cannot write 014's columns"
log "e) 013 with a dead letter -> 014: the row kept, the worker role writes where a dead letter came from"

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
