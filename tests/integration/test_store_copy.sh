#!/usr/bin/env bash
# The write path (mm_ingest_documents + COPY of the child rows,
# common/ingest/mm_store_copy.c; the only one, migration 008) on real PostgreSQL:
# a) the same documents (the seeds and the in-repo exports parsed by
#    minutes-parse, plus hand-made ones with tabs, newlines, backslashes,
#    quotes and braces, numbers out of range, non-array and non-object
#    values, NULs and white space where numbers go) written by mm_store as
#    the worker role: every child row is the row store_expected.py reads
#    from the documents by the rules of mm_store_copy.c (an independent
#    reading: Python, not the C code); a changed row is seen (the
#    comparison can fail);
# b) a NUL or invalid UTF-8 in a stored value, an export without a
#    municipality: a data error (MM_STORE_ERR_DATA, SQLSTATE class
#    22/23/MM), in the batch and alone (mm_store_write_single); a meeting key
#    over an index row (SQLSTATE 54000): a program limit
#    (MM_STORE_ERR_LIMIT), in the batch and alone, so the worker's isolation
#    pins it on that document; the good documents beside them store alone;
# c) the offset fence (MM001) and a duplicate, mm_store_probe leaves nothing;
# d) a reconnect keeps statement_timeout and lock_timeout (issue 19,
#    defect 4): the store's session is ended (pg_terminate_backend), the
#    store reconnects (PQreset), and SHOW on the new session gives them.
source "$(dirname "$0")/lib.sh"
it_init store_copy
TOOL="$MM_BIN/mm-store-tool"

mapfile -t inputs < <(find "$SEEDS" "$MM_SOURCE_DIR/tests/fixtures/firstagenda" \
    "$MM_SOURCE_DIR/tests/fixtures/sbsys" "$MM_SOURCE_DIR/tests/fixtures/edoc" \
    -type f \( -name '*.txt' -o -name '*.json' -o -name '*.xml' \) | sort)
n="$(python3 "$IT_DIR/make_store_docs.py" "$MM_BIN/minutes-parse" "$WORK/docs" "${inputs[@]}")" ||
    fail "make_store_docs.py"
log "$n documents from ${#inputs[@]} files and the hand-made ones"

# a) written by mm_store, then every child row against the expected ones
out_new="$("$TOOL" new "$WORKER_URL" "$WORK/docs/compare.json" 2>"$WORK/new.err")" ||
    { cat "$WORK/new.err" >&2; fail "mm_store refused the documents"; }
[[ "$out_new" == "rc=0 inserted=$((n - 1)) duplicates=1" ]] || fail "unexpected counts: $out_new"
python3 "$IT_DIR/store_expected.py" "$WORK/docs/compare.json" >"$WORK/compare.sql" ||
    fail "store_expected.py"
compare() { psql "$SUPER_URL" -qAtX -v ON_ERROR_STOP=1 -f "$WORK/compare.sql"; }
compare >"$WORK/compare.out" 2>"$WORK/compare.err" || { cat "$WORK/compare.err" >&2; fail "compare.sql"; }
if grep -Eq '^(missing|unexpected) ' "$WORK/compare.out"; then
    grep -E '^(missing|unexpected) ' "$WORK/compare.out" | head -n 40 >&2
    fail "stored rows differ from the expected ones ($(grep -Ec '^(missing|unexpected) ' "$WORK/compare.out") rows)"
fi
# every table has rows, and the nasty values are there
for t in participants agenda_items item_sections item_absences attachments amounts law_references; do
    c="$(sql "SELECT count(*) FROM $t")"
    [[ "$c" -gt 0 ]] || fail "no rows in $t"
    grep -qx "count $t $c" "$WORK/compare.out" || fail "$t: $c rows, expected $(grep "^count $t " "$WORK/compare.out")"
    log "  $t: $c rows, as expected"
done
[[ "$(sql "SELECT count(*) FROM agenda_items WHERE title LIKE E'T\\t\\\\\\\\N %' AND outcome_parts[4] = E'f\\\\g'")" -ge 1 ]] ||
    fail "the nasty item is not there"
[[ "$(sql "SELECT count(*) FROM amounts WHERE value IS NULL") $(sql "SELECT count(*) FROM agenda_items WHERE confidence IS NULL AND title LIKE 'item %'")" != "0 0" ]] ||
    fail "no lenient value gave NULL"
# the comparison sees one changed character
last="(SELECT max(id) FROM item_sections WHERE text IS NOT NULL)"
sql "UPDATE item_sections SET text = text || ' ' WHERE id = $last" >/dev/null
compare >"$WORK/compare-changed.out" 2>&1 || fail "compare.sql after a change"
grep -q '^missing item_sections' "$WORK/compare-changed.out" ||
    fail "the comparison does not see a changed section"
sql "UPDATE item_sections SET text = left(text, -1) WHERE id = $last" >/dev/null
log "a) every stored child row is the expected one"

# b) refused values: a data error (or a program limit) in the batch and
#    alone; the good ones store alone
for f in "$WORK"/docs/bad_*.json; do
    name="$(basename "$f" .json)"
    want=-3 states='(22|23|MM)[0-9A-Z]{3}'
    [[ "$name" != bad_limit_* ]] || want=-4 states='54[0-9A-Z]{3}'
    out="$("$TOOL" new "$WORKER_URL" "$f" 2>"$WORK/$name.err")" && fail "$name: batch accepted"
    [[ "$out" == rc=$want* ]] || fail "$name: batch not rc=$want: $out $(cat "$WORK/$name.err")"
    grep -Eq "\[$states\]" "$WORK/$name.err" || fail "$name: no SQLSTATE $states: $(cat "$WORK/$name.err")"
    out="$("$TOOL" single "$WORKER_URL" "$f" 1 2>"$WORK/$name-single.err")" && fail "$name: accepted alone"
    [[ "$out" == rc=$want* ]] || fail "$name: alone not rc=$want: $out $(cat "$WORK/$name-single.err")"
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

# d) the timeouts survive a reconnect
want="statement_timeout=1500ms lock_timeout=700ms"
out="$("$TOOL" reconnect "$WORKER_URL" "$SUPER_URL" 1500 700 \
    2>"$WORK/reconnect.err")" || fail "reconnect: $(cat "$WORK/reconnect.err")"
[[ "$out" == "$want"$'\n'"$want" ]] || fail "timeouts before / after the reconnect: $(tr '\n' '|' <<<"$out")"
log "d) after pg_terminate_backend the new session has $want"
log "PASS store_copy"
