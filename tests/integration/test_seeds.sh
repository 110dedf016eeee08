#!/usr/bin/env bash
# a) the invented text meetings (tests/fixtures/minutes), submitted with
#    minutes-submit, land as one meeting each with
#    the gold item counts, journal numbers and outcomes;
# c) the same seeds submitted again change no row counts.
source "$(dirname "$0")/lib.sh"
it_init seeds

start_worker 1
submit "$SEEDS" >/dev/null || fail "minutes-submit"
wait_until 60 "$NSEEDS documents stored" eq_sql "SELECT count(*) FROM documents" "$NSEEDS"
wait_until 60 "offsets stored up to the end of the topic" pg_offsets_at_end
wait_until 60 "group lag 0" lag_is_zero

# every stored field as the gold has it (a known parser failure on an
# invented hard case would be named with --known; tests/fixtures/gold/KNOWN-FAILURES)
python3 "$IT_DIR/check_gold.py" --db "$SUPER_URL" --gold "$MM_GOLD_DIR" --exact-meetings ||
    fail "stored meetings differ from gold"
[[ "$(sql "SELECT count(*) FROM consumer_offsets WHERE group_id='$GROUP'")" -ge 1 ]] || fail "no offsets"
[[ "$(sql "SELECT count(*) FROM documents WHERE superseded_by IS NOT NULL")" == 0 ]] || fail "superseded rows"
before="$(row_counts)"
log "row counts after the first submit: $before"

# c) again: same bytes, same sha256 -> nothing new
submit "$SEEDS" >/dev/null || fail "minutes-submit (again)"
wait_until 60 "offsets cover the resubmitted seeds" pg_offsets_at_end
wait_until 60 "group lag 0 after resubmit" lag_is_zero
after="$(row_counts)"
log "row counts after the second submit: $after"
[[ "$before" == "$after" ]] || fail "row counts changed: $before -> $after"
[[ "$(sql "SELECT sum(next_offset) FROM consumer_offsets WHERE group_id='$GROUP'")" == $((2 * NSEEDS)) ]] ||
    fail "offsets do not cover $((2 * NSEEDS)) messages"

# the worker role cannot delete
if psql "$WORKER_URL" -qAtX -v ON_ERROR_STOP=1 -c "DELETE FROM agenda_items" >/dev/null 2>&1; then
    fail "the worker role could DELETE"
fi
stop_worker 1
log "PASS seeds_resubmit"
