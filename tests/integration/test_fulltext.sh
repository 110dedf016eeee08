#!/usr/bin/env bash
# Full text never rejects a document (schemas/003_fulltext_bounded.sql):
# a) migration 003 upgrades a database that already holds the seeds: the old
#    whole-section indexes are replaced by bounded ones, and the demo's search
#    (tests/sql/demo_search.sql, run by tests/demo.sh) finds exactly what the
#    search through the old index found, using the new index;
# b) migration 005 (schemas/005_write_path.sql) upgrades that database again:
#    every stored section and title gets its vector in the generated column
#    (equal to 003's expression), the expression indexes are replaced by
#    indexes over the columns, and the demo's search (now over
#    item_sections.fts) still finds exactly the same rows, through the new
#    index;
# c) a document whose section holds 3 MB of distinct words (more than the
#    1 MB of lexemes to_tsvector accepts) is stored, not dead-lettered, and
#    the words of its indexed prefix are found.
source "$(dirname "$0")/lib.sh"
it_init fulltext

# it_init applied every migration. Start again from the schema as it was
# before 003, migrated the way minutes-worker records it (md5 of the text).
PGOPTIONS="-c client_min_messages=warning" psql "$SUPER_URL" -qAtX -v ON_ERROR_STOP=1 \
    -c "DROP SCHEMA public CASCADE" -c "CREATE SCHEMA public AUTHORIZATION minutes_owner" \
    -c "GRANT USAGE ON SCHEMA public TO minutes_worker" >/dev/null || fail "reset schema"
psql "$OWNER_URL" -qAtX -v ON_ERROR_STOP=1 \
    -c "CREATE TABLE schema_migrations (version text PRIMARY KEY, checksum text NOT NULL,
                                        applied_at timestamptz NOT NULL DEFAULT now())" >/dev/null ||
    fail "schema_migrations"
for f in "$MM_SOURCE_DIR"/schemas/[0-9]*.sql; do
    v="$(basename "$f")"
    [[ "$v" < "003" ]] || continue
    PGOPTIONS="-c client_min_messages=warning" psql "$OWNER_URL" -qAtX -v ON_ERROR_STOP=1 -1 -f "$f" \
        >"$WORK/pre-$v.log" 2>&1 || { cat "$WORK/pre-$v.log" >&2; fail "apply $v"; }
    sql "INSERT INTO schema_migrations (version, checksum) VALUES ('$v', '$(md5sum <"$f" | cut -c1-32)')"
    log "applied $v by hand"
done
[[ "$(sql "SELECT count(*) FROM pg_indexes WHERE indexname = 'item_sections_fts'")" == 1 ]] ||
    fail "the pre-003 schema has no item_sections_fts"

# The seeds (invented), stored as a worker of that schema stored them (this build's
# worker refuses a schema older than its own): their parses through the
# schema's mm_ingest_batch.
n="$(python3 "$IT_DIR/make_store_docs.py" --parsed-only "$MM_BIN/minutes-parse" "$WORK/docs" "$SEEDS"/*.txt)" ||
    fail "parse the seeds"
"$MM_BIN/mm-store-tool" legacy "$WORKER_URL" "$WORK/docs/parsed.json" >"$WORK/legacy.out" 2>&1 ||
    fail "store the seeds at 002: $(cat "$WORK/legacy.out")"
[[ "$(sql "SELECT count(*) FROM documents")" == "$NSEEDS" && "$n" == "$NSEEDS" ]] ||
    fail "$NSEEDS seeds not stored: $(cat "$WORK/legacy.out")"

# The demo's search as tests/demo.sh ran it before 003 (the old expression).
old_query="SELECT DISTINCT m.committee, m.meeting_date, i.number, left(i.title, 60) AS title
  FROM current_items i JOIN meetings m ON m.id = i.meeting_id
  JOIN item_sections s ON s.item_id = i.id
 WHERE to_tsvector('danish', coalesce(s.heading, '') || ' ' || coalesce(s.text, ''))
       @@ plainto_tsquery('danish', 'budget økonomi')
 ORDER BY 2, 3 LIMIT 10;"
# explain_sections PREDICATE: the plan of a search of item_sections alone
# (the seeds are too few for the planner to pick a full-text index in the
# demo's join, whatever the expression)
explain_sections() { sql "SET enable_seqscan = off; EXPLAIN SELECT s.id FROM item_sections s WHERE $1"; }
explain_sections "to_tsvector('danish', coalesce(s.heading, '') || ' ' || coalesce(s.text, ''))
                  @@ plainto_tsquery('danish', 'budget økonomi')" >"$WORK/explain-old.txt"
grep -q "Index Scan on item_sections_fts\b" "$WORK/explain-old.txt" ||
    fail "the old expression did not use the old index: $(cat "$WORK/explain-old.txt")"
sql "$old_query" >"$WORK/search-before.txt"
[[ -s "$WORK/search-before.txt" ]] || fail "the demo search finds nothing in the seeds"
log "demo search before 003: $(wc -l <"$WORK/search-before.txt") rows"
rows_before="$(row_counts)"

# apply_by_hand FROM TO: the migrations FROM <= version < TO, as
# minutes-worker records them
apply_by_hand() {
    local f v
    for f in "$MM_SOURCE_DIR"/schemas/[0-9]*.sql; do
        v="$(basename "$f")"
        [[ ! "$v" < "$1" && "$v" < "$2" ]] || continue
        PGOPTIONS="-c client_min_messages=warning" psql "$OWNER_URL" -qAtX -v ON_ERROR_STOP=1 -1 -f "$f" \
            >"$WORK/up-$v.log" 2>&1 || { cat "$WORK/up-$v.log" >&2; fail "apply $v on a database with data"; }
        sql "INSERT INTO schema_migrations (version, checksum) VALUES ('$v', '$(md5sum <"$f" | cut -c1-32)')"
        log "applied $v by hand"
    done
}
fts_indexes() { sql "SELECT string_agg(indexname, ' ' ORDER BY indexname) FROM pg_indexes WHERE indexname LIKE '%fts%'
                         AND tablename IN ('agenda_items', 'item_sections')"; }

# 003 (and 004) on the database with data
apply_by_hand 003 005
[[ "$(sql "SELECT count(*) FROM schema_migrations WHERE version = '003_fulltext_bounded.sql'")" == 1 ]] ||
    fail "003 not recorded"
[[ "$(row_counts)" == "$rows_before" ]] || fail "003/004 changed rows: $rows_before -> $(row_counts)"
[[ "$(fts_indexes)" == "agenda_items_title_fts_bounded item_sections_fts_bounded" ]] ||
    fail "fts indexes after 003: $(fts_indexes)"
# the demo's search as it was under 003 (the bounded expression) finds the
# same rows, through the bounded index
pred003="mm_fts_section(s.heading, s.text) @@ plainto_tsquery('danish', 'budget økonomi')"
sql "SELECT DISTINCT m.committee, m.meeting_date, i.number, left(i.title, 60) AS title
  FROM current_items i JOIN meetings m ON m.id = i.meeting_id
  JOIN item_sections s ON s.item_id = i.id
 WHERE $pred003
 ORDER BY 2, 3 LIMIT 10;" >"$WORK/search-003.txt"
diff "$WORK/search-before.txt" "$WORK/search-003.txt" >&2 ||
    fail "the demo search finds other rows after 003"
explain_sections "$pred003" >"$WORK/explain-003.txt"
grep -q "Index Scan on item_sections_fts_bounded" "$WORK/explain-003.txt" ||
    fail "the 003 expression does not use the bounded index: $(cat "$WORK/explain-003.txt")"

# 005 (and whatever follows) the way a user upgrades
"$MM_BIN/minutes-worker" --migrate --pg "$OWNER_URL" 2>"$WORK/migrate-005.log" ||
    { cat "$WORK/migrate-005.log" >&2; fail "migration 005 on a database with data"; }
[[ "$(sql "SELECT count(*) FROM schema_migrations WHERE version = '005_write_path.sql'")" == 1 ]] ||
    fail "005 not recorded"
[[ "$(row_counts)" == "$rows_before" ]] || fail "005 changed rows: $rows_before -> $(row_counts)"
[[ "$(sql "SELECT array_to_string(proconfig, ',') FROM pg_proc WHERE proname = 'mm_ingest_documents'")" == "jit=off" ]] ||
    fail "mm_ingest_documents does not run with jit = off (005's setting, repeated by 006-008)"
[[ "$(fts_indexes)" == "agenda_items_title_fts item_sections_fts" ]] ||
    fail "fts indexes after 005: $(fts_indexes)"
# every stored row got the vector of 003's expression
[[ "$(sql "SELECT count(*) FROM item_sections
           WHERE fts IS DISTINCT FROM mm_fts_section(heading, text)")" == 0 ]] ||
    fail "item_sections.fts differs from mm_fts_section(heading, text)"
[[ "$(sql "SELECT count(*) FROM agenda_items WHERE title_fts IS DISTINCT FROM mm_fts_title(title)")" == 0 ]] ||
    fail "agenda_items.title_fts differs from mm_fts_title(title)"
[[ "$(sql "SELECT count(*) FROM item_sections WHERE length(fts) > 0")" -gt 0 ]] ||
    fail "no section has a non-empty vector"

# the demo's own query file finds the same rows, through the new index
query="$(cat "$MM_SOURCE_DIR/tests/sql/demo_search.sql")"
sql "$query" >"$WORK/search-after.txt"
diff "$WORK/search-before.txt" "$WORK/search-after.txt" >&2 ||
    fail "the demo search finds other rows after 005"
pred="s.fts @@ plainto_tsquery('danish', 'budget økonomi')"
grep -qF "$pred" <<<"$query" || fail "tests/sql/demo_search.sql does not search with: $pred"
explain_sections "$pred" >"$WORK/explain-new.txt"
grep -q "Index Scan on item_sections_fts\b" "$WORK/explain-new.txt" ||
    fail "the demo's search does not use the column's index: $(cat "$WORK/explain-new.txt")"
# the views show the new columns; a title search uses the title index
sql "SELECT count(*) FROM current_sections s JOIN current_items i ON i.id = s.item_id
      WHERE s.fts IS NOT NULL AND i.title_fts IS NOT NULL" >/dev/null ||
    fail "current_sections/current_items lack fts/title_fts"
sql "SET enable_seqscan = off; EXPLAIN SELECT id FROM agenda_items
     WHERE title_fts @@ plainto_tsquery('danish', 'budget')" >"$WORK/explain-title.txt"
grep -q "Index Scan on agenda_items_title_fts\b" "$WORK/explain-title.txt" ||
    fail "a title search does not use the title index: $(cat "$WORK/explain-title.txt")"

# c) one section of 3 MB of distinct words (numbered words: the Danish
#    stemmer cannot merge them), inside an invented meeting
python3 - "$SEEDS/000_egedal_markdown.txt" "$WORK/big/000_big.txt" <<'PY' || fail "make the big document"
import os, sys
src = open(sys.argv[1], encoding="utf-8").read()
anchor = "Puljen er på 85.000 kr. Fire aktivitetscentre har søgt om i alt 97.500 kr. Administrationen foreslår en forholdsmæssig fordeling.\n"
assert src.count(anchor) == 1
lines, line, n, size = [], [], 0, 0
while size < 3_000_000:
    line.append("k%dx" % (n * 7919 % 10_000_019))
    n += 1
    if len(line) == 12:
        lines.append(" ".join(line))
        size += len(lines[-1]) + 1
        line = []
os.makedirs(os.path.dirname(sys.argv[2]), exist_ok=True)
open(sys.argv[2], "w", encoding="utf-8").write(src.replace(anchor, anchor + "\n" + "\n".join(lines) + "\n"))
PY
start_worker 2
submit "$WORK/big/000_big.txt" >/dev/null || fail "submit the big document"
wait_until 120 "the big document stored" eq_sql "SELECT count(*) FROM documents" $((NSEEDS + 1))
wait_until 60 "group lag 0" lag_is_zero
stop_worker 2
[[ "$("$MM_BIN/mm-kafka-tool" count "$KAFKA_BOOTSTRAP" "$DLQ")" == 0 ]] || fail "something was dead-lettered"
big_id="$(sql "SELECT s.id FROM item_sections s WHERE octet_length(s.text) > 3000000")"
[[ "$big_id" =~ ^[0-9]+$ ]] || fail "no stored section of more than 3 MB: '$big_id'"
# the input really exceeds what 001's index accepted
if sql "SELECT length(to_tsvector('danish', text)) FROM item_sections WHERE id = $big_id" \
    >/dev/null 2>"$WORK/old-expr.err"; then
    fail "the 3 MB section fits a whole-text tsvector: the test does not test the limit"
fi
grep -q "string is too long for tsvector" "$WORK/old-expr.err" || fail "$(cat "$WORK/old-expr.err")"
# the first and a late word of the prefix are found, through the index
for w in k0x "k$((5000 * 7919 % 10000019))x"; do
    got="$(sql "SET enable_seqscan = off;
                SELECT string_agg(s.id::text, ',') FROM current_sections s
                 WHERE s.fts @@ to_tsquery('danish', '$w')")"
    [[ "$got" == "$big_id" ]] || fail "search for $w found '$got', want section $big_id"
done
# a word past the 100,000 indexed characters is not (the documented bound)
w="k$((300000 * 7919 % 10000019))x"
[[ "$(sql "SELECT count(*) FROM item_sections WHERE fts @@ to_tsquery('danish', '$w')")" == 0 ]] ||
    fail "$w, 2.7 MB into the section, was found: the index is not bounded"
[[ "$(sql "SELECT count(*) FROM item_sections WHERE id = $big_id AND text ~ '\\m$w\\M'")" == 1 ]] ||
    fail "$w is not in the stored text"
log "PASS fulltext"
