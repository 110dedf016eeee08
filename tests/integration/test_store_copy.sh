#!/usr/bin/env bash
# The write path of migrations 006 and 007 (mm_ingest_documents + COPY of
# the child rows, common/mm_store.c) against 004's mm_ingest_batch, on real
# PostgreSQL:
# a) the same documents (the seeds and the in-repo exports parsed by
#    minutes-parse, plus hand-made ones with tabs, newlines, backslashes,
#    quotes and braces, numbers out of range, non-array and non-object
#    values) written once by mm_ingest_batch and once by mm_store into two
#    databases, as the worker role: every row of every ingest table is the
#    same (ids aside); a changed row is seen (the comparison can fail); on a
#    schema before 006 mm_store falls back to mm_ingest_batch, on one at
#    006 it sends the raw texts inside the JSON (007: beside it);
# b) a NUL or invalid UTF-8 in a child value, a NULL name, a number with a
#    space \s matches but the cast refuses (U+2003): the batch is a data
#    error (MM_STORE_ERR_DATA) with SQLSTATE class 22/23 as with
#    mm_ingest_batch, alone too (mm_store_write_single), and the good
#    documents beside it store alone;
# c) the offset fence (MM001) and a duplicate, mm_store_probe leaves nothing.
source "$(dirname "$0")/lib.sh"
it_init store_copy
TOOL="$MM_BIN/mm-store-tool"

OLD_DB="mm_it_store_copy_old"
it_new_db "$OLD_DB"
OLD_SUPER="${MM_PG_SUPERUSER_URL%/*}/$OLD_DB" OLD_WORKER="${MM_PG_WORKER_URL%/*}/$OLD_DB"
"$MM_BIN/minutes-worker" --migrate --pg "${MM_PG_OWNER_URL%/*}/$OLD_DB" 2>"$WORK/migrate-old.log" ||
    { cat "$WORK/migrate-old.log" >&2; fail "migration of $OLD_DB"; }

mapfile -t inputs < <(find "$SEEDS" "$MM_SOURCE_DIR/tests/fixtures/firstagenda" \
    "$MM_SOURCE_DIR/tests/fixtures/sbsys" "$MM_SOURCE_DIR/tests/fixtures/edoc" \
    -type f \( -name '*.txt' -o -name '*.json' -o -name '*.xml' \) | sort)
n="$(python3 "$IT_DIR/make_store_docs.py" "$MM_BIN/minutes-parse" "$WORK/docs" "${inputs[@]}")" ||
    fail "make_store_docs.py"
log "$n documents from ${#inputs[@]} files and the hand-made ones"

# a) both ways, then every row
out_old="$("$TOOL" old "$OLD_WORKER" "$WORK/docs/compare.json" 2>"$WORK/old.err")" ||
    { cat "$WORK/old.err" >&2; fail "mm_ingest_batch refused the documents"; }
out_new="$("$TOOL" new "$WORKER_URL" "$WORK/docs/compare.json" 2>"$WORK/new.err")" ||
    { cat "$WORK/new.err" >&2; fail "mm_store refused the documents"; }
[[ "$out_old" == "$out_new" ]] || fail "counts differ: old '$out_old', new '$out_new'"
[[ "$out_new" == "rc=0 inserted=$((n - 1)) duplicates=1" ]] || fail "unexpected counts: $out_new"
rows() { psql "$1" -qAtX -v ON_ERROR_STOP=1 -f "$IT_DIR/store_rows.sql"; }
rows "$OLD_SUPER" >"$WORK/rows-old.txt" || fail "dump old rows"
rows "$SUPER_URL" >"$WORK/rows-new.txt" || fail "dump new rows"
if ! diff "$WORK/rows-old.txt" "$WORK/rows-new.txt" >"$WORK/rows.diff"; then
    head -n 40 "$WORK/rows.diff" >&2
    fail "rows differ between mm_ingest_batch and the COPY path ($(grep -c '^[<>]' "$WORK/rows.diff") lines)"
fi
# every table has rows, and the nasty values are there
for t in participants agenda_items item_sections item_absences attachments amounts law_references; do
    c="$(sql "SELECT count(*) FROM $t")"
    [[ "$c" -gt 0 ]] || fail "no rows in $t"
    log "  $t: $c rows, same both ways"
done
[[ "$(sql "SELECT count(*) FROM agenda_items WHERE title LIKE E'T\\t\\\\\\\\N %' AND outcome_parts[4] = E'f\\\\g'")" -ge 1 ]] ||
    fail "the nasty item is not there"
[[ "$(sql "SELECT count(*) FROM amounts WHERE value IS NULL") $(sql "SELECT count(*) FROM agenda_items WHERE confidence IS NULL AND title LIKE 'item %'")" != "0 0" ]] ||
    fail "no lenient cast gave NULL"
# the comparison sees one changed character
sql "UPDATE item_sections SET text = text || ' ' WHERE id = (SELECT max(id) FROM item_sections)" >/dev/null
rows "$SUPER_URL" >"$WORK/rows-changed.txt" || fail "dump changed rows"
if diff -q "$WORK/rows-old.txt" "$WORK/rows-changed.txt" >/dev/null; then
    fail "the comparison does not see a changed section"
fi
log "a) $(wc -l <"$WORK/rows-new.txt") rows the same both ways"

# store_at NAME GLOB WHAT: a database NAME with only the migrations
# schemas/GLOB (as a worker ahead of `--migrate` in a rolling upgrade
# meets it); mm_store writes the documents there: the same counts and rows
# as through 004's mm_ingest_batch.
store_at() {
    local owner="${MM_PG_OWNER_URL%/*}/$1" f out
    it_new_db "$1"
    psql "$owner" -qAtX -v ON_ERROR_STOP=1 -c "CREATE TABLE schema_migrations (version text PRIMARY KEY,
        checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())" >/dev/null
    for f in "$MM_SOURCE_DIR"/schemas/$2_*.sql; do
        PGOPTIONS="-c client_min_messages=warning" psql "$owner" -qAtX -v ON_ERROR_STOP=1 -1 -f "$f" \
            >"$WORK/$1.log" 2>&1 || { cat "$WORK/$1.log" >&2; fail "apply $f"; }
    done
    out="$("$TOOL" new "${MM_PG_WORKER_URL%/*}/$1" "$WORK/docs/compare.json" 2>"$WORK/$1.err")" ||
        { cat "$WORK/$1.err" >&2; fail "mm_store on $3"; }
    [[ "$out" == "$out_old" ]] || fail "counts on $3: $out"
    rows "${MM_PG_SUPERUSER_URL%/*}/$1" >"$WORK/rows-$1.txt" || fail "dump rows on $3"
    diff -q "$WORK/rows-old.txt" "$WORK/rows-$1.txt" >/dev/null || fail "rows differ on $3"
}
# a') before 006: mm_store falls back to mm_ingest_batch
store_at mm_it_store_copy_pre006 '00[1-5]' "a schema before 006"
log "a') a schema before 006: mm_ingest_batch, the same rows"
# a'') at 006: the raw texts inside the JSON, not beside it as 007 takes them
store_at mm_it_store_copy_at006 '00[1-6]' "a schema at 006"
log "a'') a schema at 006: raw texts in the JSON, the same rows"

# b) refused values: a data error in the batch and alone; the good ones store alone
for f in "$WORK"/docs/bad_*.json; do
    name="$(basename "$f" .json)"
    out="$("$TOOL" new "$WORKER_URL" "$f" 2>"$WORK/$name.err")" && fail "$name: batch accepted"
    [[ "$out" == rc=-3* ]] || fail "$name: batch not a data error: $out $(cat "$WORK/$name.err")"
    grep -Eq '\[(22|23)[0-9A-Z]{3}\]' "$WORK/$name.err" || fail "$name: no class 22/23 SQLSTATE: $(cat "$WORK/$name.err")"
    out="$("$TOOL" single "$WORKER_URL" "$f" 1 2>"$WORK/$name-single.err")" && fail "$name: accepted alone"
    [[ "$out" == rc=-3* ]] || fail "$name: alone not a data error: $out $(cat "$WORK/$name-single.err")"
    # 004 refused it too (a JSON text cannot carry invalid UTF-8: not asked)
    if [[ "$name" != bad_invalid_utf8_* ]]; then
        out="$("$TOOL" old "$OLD_WORKER" "$f" 2>"$WORK/$name-old.err")" && fail "$name: mm_ingest_batch accepted it"
        [[ "$out" == rc=-3* ]] || fail "$name: mm_ingest_batch: $out $(cat "$WORK/$name-old.err")"
    fi
    for i in 0 2; do
        "$TOOL" single "$WORKER_URL" "$f" "$i" >/dev/null 2>"$WORK/$name-$i.err" ||
            fail "$name: good document $i refused: $(cat "$WORK/$name-$i.err")"
    done
    log "  $name: $(grep -Eo '\[[0-9A-Z]{5}\]' "$WORK/$name.err" | head -n 1) in a batch and alone"
done
[[ "$(sql "SELECT count(*) FROM documents WHERE raw_text LIKE 'bad %'")" == 0 ]] || fail "a refused document stayed"
[[ "$(sql "SELECT count(*) FROM documents WHERE raw_text LIKE 'good %'")" == $((2 * $(ls "$WORK"/docs/bad_*.json | wc -l))) ]] ||
    fail "good documents missing"

# c) the fence, a duplicate alone, the probe
before="$(row_counts)"
out="$("$TOOL" new "$WORKER_URL" "$WORK/docs/compare.json" 2>"$WORK/fence.err")" && fail "fence: accepted again"
[[ "$out" == rc=-2* ]] && grep -q MM001 "$WORK/fence.err" || fail "fence: $out $(cat "$WORK/fence.err")"
"$TOOL" single "$WORKER_URL" "$WORK/docs/compare.json" 0 >/dev/null 2>&1 || fail "duplicate alone refused"
"$TOOL" probe "$WORKER_URL" >/dev/null 2>"$WORK/probe.err" || fail "probe: $(cat "$WORK/probe.err")"
[[ "$(row_counts)" == "$before" ]] || fail "rows changed by fence/duplicate/probe: $before -> $(row_counts)"
[[ "$(sql "SELECT count(*) FROM documents WHERE sha256 = 'mm-probe'")" == 0 ]] || fail "the probe stayed"
log "PASS store_copy"
