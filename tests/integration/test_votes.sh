#!/usr/bin/env bash
# Votes (issue 21, migration 010) on real PostgreSQL:
# a) a database at the migrations before 010 that already holds documents
#    (as a worker of that schema stored them: no votes); the worker refuses
#    that schema; `minutes-worker --migrate` applies 010 and the later ones,
#    and the stored rows are all still there;
# b) the invented minutes of tests/fixtures/votes/docs written by mm_store
#    (the worker's COPY path) as the worker role: vote_events, vote_counts,
#    party_votes, person_votes and item_reservations hold exactly the
#    parses' votes, in the batch transaction;
# c) party_vote_summary('Odder', D) gives, per party and option, the
#    number of votes and items that the parses give; a later date and
#    another kommune give nothing; the view reads the current documents
#    only (the superseded round's rows are not counted twice).
source "$(dirname "$0")/lib.sh"
it_init votes
TOOL="$MM_BIN/mm-store-tool"
mapfile -t inputs < <(find "$MM_SOURCE_DIR/tests/fixtures/votes/docs" -type f | sort)

# a) before 010, with data
OLD="mm_it_votes_old"
it_new_db "$OLD"
OLD_OWNER="${MM_PG_OWNER_URL%/*}/$OLD" OLD_WORKER="${MM_PG_WORKER_URL%/*}/$OLD"
OLD_SUPER="${MM_PG_SUPERUSER_URL%/*}/$OLD"
psql "$OLD_OWNER" -qAtX -v ON_ERROR_STOP=1 -c "CREATE TABLE schema_migrations (version text PRIMARY KEY,
    checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())" >/dev/null
for f in "$MM_SOURCE_DIR"/schemas/00[0-9]_*.sql; do
    PGOPTIONS="-c client_min_messages=warning" psql "$OLD_OWNER" -qAtX -v ON_ERROR_STOP=1 -1 -f "$f" \
        >"$WORK/old-apply.log" 2>&1 || { cat "$WORK/old-apply.log" >&2; fail "apply $f"; }
    # as `minutes-worker --migrate` records it: file name and md5 of the text
    psql "$OLD_OWNER" -qAtX -v ON_ERROR_STOP=1 -c "INSERT INTO schema_migrations (version, checksum)
        VALUES ('$(basename "$f")', '$(md5sum <"$f" | cut -d' ' -f1)')" >/dev/null
done
MM_VOTES_STRIP=1 python3 "$IT_DIR/make_vote_docs.py" "$MM_BIN/minutes-parse" "$WORK" 0 "${inputs[@]}" ||
    fail "make_vote_docs.py (before 010)"
out="$("$TOOL" new "$OLD_WORKER" "$WORK/docs-0.json" 2>"$WORK/old-new.err")" ||
    { cat "$WORK/old-new.err" >&2; fail "mm_store refused documents without votes before 010"; }
[[ "$out" == "rc=0 inserted=${#inputs[@]} duplicates=0" ]] || fail "before 010: $out"
# a worker of this build refuses the schema before 010 (one write path)
rc=0
timeout 60 "$MM_BIN/minutes-worker" -b "$KAFKA_BOOTSTRAP" -t it.votes.refused --pg "$OLD_WORKER" \
    2>"$WORK/old-worker.err" || rc=$?
[[ $rc -eq 1 ]] || fail "a worker on the schema before 010 exited with $rc, want 1"
grep -q "schema is at migration 009, this worker needs .*: run \`minutes-worker --migrate\`" \
    "$WORK/old-worker.err" || fail "no clear refusal: $(grep -v debug "$WORK/old-worker.err" | tail -n 3)"
python3 "$IT_DIR/make_vote_docs.py" "$MM_BIN/minutes-parse" "$WORK" 1 "${inputs[@]}" || fail "make_vote_docs.py"
osql() { psql "$OLD_SUPER" -qAtX -v ON_ERROR_STOP=1 -c "$1"; }
before="$(osql "SELECT count(*) FROM agenda_items") $(osql "SELECT count(*) FROM item_sections")"
[[ "$(osql "SELECT to_regclass('vote_events') IS NULL")" == t ]] || fail "vote_events before 010"
"$MM_BIN/minutes-worker" --migrate --pg "$OLD_OWNER" 2>"$WORK/old-migrate.log" ||
    { cat "$WORK/old-migrate.log" >&2; fail "migrate to 010 over data"; }
after="$(osql "SELECT count(*) FROM agenda_items") $(osql "SELECT count(*) FROM item_sections")"
[[ "$before" == "$after" && "$before" != "0 0" ]] || fail "rows changed by 010: $before -> $after"
[[ "$(osql "SELECT count(*) FROM vote_events")" == 0 ]] || fail "vote rows appeared from nowhere"
log "a) 010 applied over ${before% *} stored items (stored before it without votes); a worker refused the old schema"

# b) the COPY path writes the votes
out="$("$TOOL" new "$WORKER_URL" "$WORK/docs-1.json" 2>"$WORK/new1.err")" ||
    { cat "$WORK/new1.err" >&2; fail "mm_store refused the documents"; }
read -r ne nc np nm nr <"$WORK/counts.txt"
got="$(sql "SELECT count(*) FROM vote_events") $(sql "SELECT count(*) FROM vote_counts") $(sql "SELECT count(*) FROM party_votes") $(sql "SELECT count(*) FROM person_votes") $(sql "SELECT count(*) FROM item_reservations")"
[[ "$got" == "$ne $nc $np $nm $nr" ]] || fail "vote rows: want '$ne $nc $np $nm $nr' got '$got'"
[[ "$ne" -gt 10 && "$nm" -gt 5 && "$nr" -gt 3 ]] || fail "the fixtures hold too few votes: $ne $nm $nr"
# one row checked by value: item 2 of the first minutes, 27 - 3 - 5
[[ "$(sql "SELECT string_agg(c.option || '=' || c.value, ',' ORDER BY c.option)
      FROM vote_counts c JOIN agenda_items i ON i.id = c.item_id
      WHERE i.title = 'Lokalplan 112 for boliger ved Engvej'")" == "abstain=5,against=3,for=27" ]] ||
    fail "counts of 'Lokalplan 112' not stored"
[[ "$(sql "SELECT string_agg(voter_name, ',' ORDER BY voter_name) FROM person_votes p
      JOIN agenda_items i ON i.id = p.item_id WHERE i.title = 'Salg af grund på Havnevej' AND option = 'against'")" == "Dorte Lund,Erik Holm" ]] ||
    fail "members of 'Salg af grund på Havnevej' not stored"
log "b) $got rows (events, counts, party votes, person votes, reservations)"

# c) the view, after a second round of the same meetings (supersedes the first)
python3 "$IT_DIR/make_vote_docs.py" "$MM_BIN/minutes-parse" "$WORK" 2 "${inputs[@]}" || fail "round 2"
"$TOOL" new "$WORKER_URL" "$WORK/docs-2.json" >/dev/null 2>"$WORK/new2.err" ||
    { cat "$WORK/new2.err" >&2; fail "round 2 refused"; }
[[ "$(sql "SELECT count(*) FROM vote_events")" == "$((2 * ne))" ]] || fail "round 2 rows"
sql "SELECT party, option, votes, items FROM party_vote_summary('Odder', '2024-01-01')" >"$WORK/got.txt"
if ! diff "$WORK/expect.txt" "$WORK/got.txt" >"$WORK/view.diff"; then
    cat "$WORK/view.diff" >&2
    fail "party_vote_summary differs from the parses"
fi
[[ -s "$WORK/got.txt" ]] || fail "party_vote_summary is empty"
[[ "$(sql "SELECT count(*) FROM party_vote_summary('Odder Kommune', '2024-01-01')")" == "$(wc -l <"$WORK/expect.txt")" ]] ||
    fail "'Odder Kommune' and 'Odder' differ"
[[ "$(sql "SELECT count(*) FROM party_vote_summary('Odder', '2024-07-01')")" == 0 ]] || fail "date filter"
[[ "$(sql "SELECT count(*) FROM party_vote_summary('Greve', '2000-01-01')")" == 0 ]] || fail "kommune filter"
log "c) party_vote_summary('Odder', 2024-01-01):"
sed 's/^/      /' "$WORK/got.txt" >&2
log "PASS"
