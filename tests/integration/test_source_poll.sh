#!/usr/bin/env bash
# minutes-source against the local FirstAgenda test server, a real Kafka,
# PostgreSQL and a worker (issue 18, tests 1-3):
#  1. first poll: every listed publication is stored once (invented
#     meetings of two kommuner, and the Greve meetings of ../shared when
#     present), with ReleasedDate as its publication time;
#  2. a second poll with nothing changed: one listing request per host, no
#     agenda request, no message;
#  3. a "Dagsorden", then its "Referat" under a new Id in a later poll: one
#     meeting, held, the minutes current; the same for a "Tillægsdagsorden"
#     (it adds, and never replaces the minutes) and for a republication
#     under a new Id. (Needs the store's FirstAgenda meeting identity,
#     committee Id + meeting start.)
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/source_lib.sh"
it_init source_poll

fa_start alpha:11:6 beta:12:4 greve:0:0
# publications only: the attachments (8,346 of them in the Greve set) are
# test_source_attachments' part
KOM=(--attachments off --kommune Hvidovre --base-url "Hvidovre=$FA/k/alpha" --kommune Albertslund
     --base-url "Albertslund=$FA/k/beta")
SLUGS=(alpha beta)
if have_greve; then
    KOM+=(--kommune Greve --base-url "Greve=$FA/k/greve")
    SLUGS+=(greve)
else
    log "skipped (Greve part): ../shared not present"
fi
start_worker 1

# --- 1. first poll -----------------------------------------------------------
for s in "${SLUGS[@]}"; do fa_entries "$s"; done >"$WORK/ids-1"
n1="$(wc -l <"$WORK/ids-1")"
source_run 1 --once "${KOM[@]}" || fail "first poll: exit $? ($(tail -3 "$WORK/source-1.log"))"
[[ "$(raw_count)" == "$n1" ]] || fail "first poll produced $(raw_count) messages for $n1 publications"
wait_until 180 "$n1 publications stored" eq_sql "SELECT count(*) FROM documents" "$n1"
ids_stored_once "$WORK/ids-1" || fail "a listed publication is missing or stored twice"
[[ "$(sql "SELECT count(*) FROM dead_letters")" == 0 ]] || fail "dead letters after the first poll"
# the listing's ReleasedDate is the publication time; the kommune is the envelope's
id1="$(fa_meeting alpha Dagsorden)"
[[ -n "$id1" ]] || fail "no agenda-only meeting in the invented world"
first="$(fa_get /_meetings/alpha | "$PY" -c "import json,sys; print(json.load(sys.stdin)[$id1]['ids'][0])")"
rel="$(fa_get /_meetings/alpha | "$PY" -c "import json,sys; print(json.load(sys.stdin)[$id1]['released'][0])")"
[[ "$(sql "SELECT municipality FROM documents WHERE external_id = '$first'")" == "Hvidovre Kommune" ]] ||
    fail "municipality of $first: $(sql "SELECT municipality FROM documents WHERE external_id = '$first'")"
[[ "$(sql "SELECT ce_time = '$rel'::timestamptz AND source_published_at = '$rel'::timestamptz
           FROM documents WHERE external_id = '$first'")" == t ]] ||
    fail "the publication time of $first is not the listing's ReleasedDate $rel"
[[ "$(sql "SELECT count(*) FROM source_entries WHERE body_sha256 IS NOT NULL")" == "$n1" ]] ||
    fail "state: $(sql "SELECT count(*) FROM source_entries WHERE body_sha256 IS NOT NULL") entries with a produced body, want $n1"
log "1. first poll: $n1 publications stored once"

# --- 2. nothing changed ------------------------------------------------------
fa_reset_stats "${SLUGS[@]}"
source_run 2 --once "${KOM[@]}" || fail "second poll: exit $?"
for s in "${SLUGS[@]}"; do
    [[ "$(fa_stat "$s" listing)" == 1 ]] || fail "$s: $(fa_stat "$s" listing) listing requests, want 1"
    [[ "$(fa_stat "$s" agenda)" == 0 ]] || fail "$s: $(fa_stat "$s" agenda) agenda requests, want 0"
done
[[ "$(raw_count)" == "$n1" ]] || fail "second poll produced $(( $(raw_count) - n1 )) messages"
log "2. second poll: one listing request per host, 0 agenda requests, 0 messages"

# --- 3. agenda, then minutes under a new Id -----------------------------------
m1="$id1"
ag1="$first"
ref1="$(fa_publish alpha referat "$m1")"
source_run 3 --once "${KOM[@]}" || fail "poll after the Referat: exit $?"
[[ "$(raw_count)" == $((n1 + 1)) ]] || fail "the Referat: $(( $(raw_count) - n1 )) messages, want 1"
wait_until 60 "Referat stored" eq_sql "SELECT count(*) FROM documents WHERE external_id = '$ref1'" 1
mid="$(one_meeting_of "$ag1" "$ref1")"
[[ "$mid" =~ ^[0-9]+$ ]] || fail "Dagsorden $ag1 and Referat $ref1: $mid (want one meeting)"
[[ "$(current_of "$mid")" == "minutes held $ref1" ]] || fail "meeting $mid: $(current_of "$mid")"
log "3a. Dagsorden then Referat under a new Id: one meeting, held, minutes current"

# a supplementary agenda adds to the agenda; the minutes later still win
m2="$(fa_meeting alpha Dagsorden)"
[[ -n "$m2" ]] || fail "no second agenda-only meeting"
ag2="$(fa_get /_meetings/alpha | "$PY" -c "import json,sys; print(json.load(sys.stdin)[$m2]['ids'][0])")"
t2="$(fa_publish alpha tillaeg "$m2")"
source_run 4 --once "${KOM[@]}" || fail "poll after the Tillægsdagsorden: exit $?"
wait_until 60 "Tillægsdagsorden stored" eq_sql "SELECT count(*) FROM documents WHERE external_id = '$t2'" 1
mid2="$(one_meeting_of "$ag2" "$t2")"
[[ "$mid2" =~ ^[0-9]+$ ]] || fail "Dagsorden and Tillægsdagsorden: $mid2 (want one meeting)"
ref2="$(fa_publish alpha referat "$m2")"
source_run 5 --once "${KOM[@]}" || fail "poll after the second Referat: exit $?"
wait_until 60 "second Referat stored" eq_sql "SELECT count(*) FROM documents WHERE external_id = '$ref2'" 1
[[ "$(one_meeting_of "$ag2" "$t2" "$ref2")" == "$mid2" ]] || fail "the Referat made another meeting"
[[ "$(current_of "$mid2")" == "minutes held $ref2" ]] || fail "meeting $mid2: $(current_of "$mid2")"
log "3b. Dagsorden, Tillægsdagsorden, Referat: one meeting, minutes current"

# a republication of the minutes under a new Id is the same meeting
rep="$(fa_publish alpha republish "$m1")"
source_run 6 --once "${KOM[@]}" || fail "poll after the republication: exit $?"
wait_until 60 "republication stored" eq_sql "SELECT count(*) FROM documents WHERE external_id = '$rep'" 1
[[ "$(one_meeting_of "$ag1" "$ref1" "$rep")" == "$mid" ]] || fail "the republication made another meeting"
cur="$(current_of "$mid")"
[[ "$cur" == "minutes held $rep" || "$cur" == "minutes held $ref1" ]] || fail "meeting $mid: $cur"
no_duplicates || fail "a publication is stored twice"
log "3c. republication under a new Id: the same meeting"

wait_until 60 "group lag 0" lag_is_zero
stop_worker 1
log "PASS source_poll"
