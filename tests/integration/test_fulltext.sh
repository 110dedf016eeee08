#!/usr/bin/env bash
# Full text never rejects a document (schemas/003_fulltext_bounded.sql):
# a) migration 003 upgrades a database that already holds the seeds: the old
#    whole-section indexes are replaced by bounded ones, and the demo's search
#    (tests/sql/demo_search.sql, run by tests/demo.sh) finds exactly what the
#    search through the old index found, using the new index;
# b) a document whose section holds 3 MB of distinct words (more than the
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

start_worker 1
submit "$SEEDS" >/dev/null || fail "minutes-submit"
wait_until 90 "5 documents stored" eq_sql "SELECT count(*) FROM documents" 5
wait_until 60 "group lag 0" lag_is_zero
stop_worker 1

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

"$MM_BIN/minutes-worker" --migrate --pg "$OWNER_URL" 2>"$WORK/migrate-003.log" ||
    { cat "$WORK/migrate-003.log" >&2; fail "migration 003 on a database with data"; }
[[ "$(sql "SELECT count(*) FROM schema_migrations WHERE version = '003_fulltext_bounded.sql'")" == 1 ]] ||
    fail "003 not recorded"
[[ "$(row_counts)" == "$rows_before" ]] || fail "the migration changed rows: $rows_before -> $(row_counts)"
[[ "$(sql "SELECT string_agg(indexname, ' ' ORDER BY indexname) FROM pg_indexes
           WHERE indexname LIKE '%fts%'")" == "agenda_items_title_fts_bounded item_sections_fts_bounded" ]] ||
    fail "fts indexes after 003: $(sql "SELECT string_agg(indexname, ' ') FROM pg_indexes WHERE indexname LIKE '%fts%'")"

# b) the demo's own query file finds the same rows, through the new index
query="$(cat "$MM_SOURCE_DIR/tests/sql/demo_search.sql")"
sql "$query" >"$WORK/search-after.txt"
diff "$WORK/search-before.txt" "$WORK/search-after.txt" >&2 ||
    fail "the demo search finds other rows after 003"
pred="mm_fts_section(s.heading, s.text) @@ plainto_tsquery('danish', 'budget økonomi')"
grep -qF "$pred" <<<"$query" || fail "tests/sql/demo_search.sql does not search with: $pred"
explain_sections "$pred" >"$WORK/explain-new.txt"
grep -q "Index Scan on item_sections_fts_bounded" "$WORK/explain-new.txt" ||
    fail "the demo's search expression does not use the bounded index: $(cat "$WORK/explain-new.txt")"
sql "SET enable_seqscan = off; EXPLAIN SELECT id FROM agenda_items
     WHERE mm_fts_title(title) @@ plainto_tsquery('danish', 'budget')" >"$WORK/explain-title.txt"
grep -q "Index Scan on agenda_items_title_fts_bounded" "$WORK/explain-title.txt" ||
    fail "a title search does not use the bounded index: $(cat "$WORK/explain-title.txt")"

# c) one section of 3 MB of distinct words (numbered words: the Danish
#    stemmer cannot merge them), inside a real seed
python3 - "$SEEDS/000_5c7e3b43a1136e53.txt" "$WORK/big/000_big.txt" <<'PY' || fail "make the big document"
import os, sys
src = open(sys.argv[1], encoding="utf-8").read()
anchor = "Der er afsat 1 time til dialogmødet.\n"
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
wait_until 120 "the big document stored" eq_sql "SELECT count(*) FROM documents" 6
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
                 WHERE mm_fts_section(s.heading, s.text) @@ to_tsquery('danish', '$w')")"
    [[ "$got" == "$big_id" ]] || fail "search for $w found '$got', want section $big_id"
done
# a word past the 100,000 indexed characters is not (the documented bound)
w="k$((300000 * 7919 % 10000019))x"
[[ "$(sql "SELECT count(*) FROM item_sections WHERE mm_fts_section(heading, text) @@ to_tsquery('danish', '$w')")" == 0 ]] ||
    fail "$w, 2.7 MB into the section, was found: the index is not bounded"
[[ "$(sql "SELECT count(*) FROM item_sections WHERE id = $big_id AND text ~ '\\m$w\\M'")" == 1 ]] ||
    fail "$w is not in the stored text"
log "PASS fulltext"
