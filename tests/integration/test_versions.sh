#!/usr/bin/env bash
# e) a document sent as agenda and later as minutes ends with ONE meeting
#    holding the minutes' outcomes; the agenda stays as history
#    (superseded_by), and an agenda arriving after the minutes does not
#    replace them.
source "$(dirname "$0")/lib.sh"
it_init versions

SEED="$SEEDS/001_faxe_pdftext.txt"
GOLD1="$WORK/gold"
mkdir -p "$GOLD1" "$WORK/agenda" "$WORK/late"
cp "$MM_GOLD_DIR/001_faxe_pdftext.json" "$GOLD1/"
python3 "$IT_DIR/make_agenda.py" "$SEED" "$WORK/agenda/001_agenda.txt"
# a second, slightly different agenda (other bytes) that arrives late
{ cat "$WORK/agenda/001_agenda.txt"; printf '\n\n'; } >"$WORK/late/001_agenda_late.txt"

start_worker 1
submit "$WORK/agenda/001_agenda.txt" >/dev/null || fail "submit agenda"
wait_until 60 "agenda stored" eq_sql "SELECT count(*) FROM documents" 1
kind="$(sql "SELECT kind || ' ' || state FROM meetings")"
log "after the agenda: meeting is '$kind'"
[[ "$kind" == "agenda scheduled" ]] || fail "the agenda was stored as '$kind'"
[[ "$(sql "SELECT count(*) FROM current_items WHERE outcome IS NOT NULL AND outcome <> 'none'")" == 0 ]] ||
    fail "agenda items carry outcomes"

submit "$SEED" >/dev/null || fail "submit minutes"
wait_until 60 "minutes stored" eq_sql "SELECT count(*) FROM documents" 2
python3 "$IT_DIR/check_gold.py" --db "$SUPER_URL" --gold "$GOLD1" --exact-meetings ||
    fail "the meeting does not hold the minutes' outcomes"
[[ "$(sql "SELECT kind || ' ' || state || ' ' || version FROM meetings")" == "minutes held 2" ]] ||
    fail "meeting state: $(sql "SELECT kind, state, version FROM meetings")"
[[ "$(sql "SELECT count(*) FROM documents d JOIN meetings m ON d.superseded_by = m.current_document_id WHERE d.kind = 'agenda'")" == 1 ]] ||
    fail "the agenda row is not kept as superseded history"

submit "$WORK/late/001_agenda_late.txt" >/dev/null || fail "submit late agenda"
wait_until 60 "late agenda stored" eq_sql "SELECT count(*) FROM documents" 3
python3 "$IT_DIR/check_gold.py" --db "$SUPER_URL" --gold "$GOLD1" --exact-meetings ||
    fail "a late agenda replaced the minutes"
[[ "$(sql "SELECT count(*) FROM documents WHERE superseded_by IS NULL")" == 1 ]] ||
    fail "more than one current document"
wait_until 60 "group lag 0" lag_is_zero
stop_worker 1
log "PASS agenda_then_minutes"
