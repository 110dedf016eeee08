#!/usr/bin/env bash
# Meeting identity through real Kafka into real PostgreSQL (issue 18, and
# issue 19 defects 3, 5 and 8):
# a) one FirstAgenda meeting (invented: tests/fixtures/firstagenda-identity)
#    published four times, each under its own Id: agenda, supplementary
#    agenda, republished agenda, minutes; the first without an envelope
#    municipality, the rest with one. One meeting throughout; the
#    supplement adds its item and replaces nothing (live beside the
#    agenda, history under the minutes); the republication supersedes the
#    agenda; the minutes supersede everything; an agenda published after
#    the minutes is history at once. current_meeting_items shows the
#    meeting's items as they stand after each step;
# b) a real Greve export (../shared, skipped without it) and its
#    republication under a new Id: one meeting, the republication current;
# c) long ids: a FirstAgenda export with a 3,000 character Id is
#    dead-lettered (export_invalid) and the partition goes on;
# d) an export whose municipality neither it nor the envelope names is
#    dead-lettered (export_invalid), never stored under an empty one; with
#    an envelope municipality it is stored;
# e) SBSYS meeting id 26 of two kommuner: two meetings, neither supersedes
#    the other;
# f) a newer revision that moves the meeting (another day, another
#    committee name): the meeting's date and committee follow it.
source "$(dirname "$0")/lib.sh"
it_init identity

FIX="$MM_SOURCE_DIR/tests/fixtures/firstagenda-identity"
SBSYS="$MM_SOURCE_DIR/tests/fixtures/sbsys"
GREVE="$MM_SOURCE_DIR/../shared/corpus/firstagenda-greve"
FA_MID="0d1e2f30-4a5b-4c6d-8e7f-90a1b2c3d4e5@2026-03-04T15:00:00Z"
FA="m.source_system = 'firstagenda' AND m.source_meeting_id = '$FA_MID'"
ndocs() { sql "SELECT count(*) FROM documents"; }
docs_are() { [[ "$(ndocs)" == "$1" ]]; }
dl_code() { sql "SELECT coalesce(string_agg(code, ','), '-') FROM dead_letters WHERE reason LIKE '%$1%'"; }
dl_is() { [[ "$(dl_code "$1")" == "$2" ]]; }

# state: meetings of the FirstAgenda meeting id | its kind/state | current
# publication | live publications | current_meeting_items (titles)
fa_state() {
    sql "SELECT (SELECT count(*) FROM meetings m WHERE $FA) || '|' || m.kind || '/' || m.state || '|'
            || d.source_publication_id || '|'
            || (SELECT string_agg(right(x.source_publication_id, 1) || CASE WHEN x.supplement THEN 's' ELSE '' END,
                                  ',' ORDER BY x.source_publication_id)
                  FROM documents x WHERE x.meeting_id = m.id AND x.superseded_by IS NULL) || '|'
            || (SELECT string_agg(i.number || ' ' || i.title, '; ' ORDER BY i.number)
                  FROM current_meeting_items i WHERE i.meeting_id = m.id)
       FROM meetings m JOIN documents d ON d.id = m.current_document_id WHERE $FA"
}
expect_fa() {
    local got
    got="$(fa_state)"
    [[ "$got" == "$2" ]] || fail "$1: $got, want $2"
    log "  $1: $got"
}

start_worker 1

# a) one meeting, four publications
P="a1000000-0000-4000-8000-00000000000"
T1="1 Godkendelse af dagsorden" T2="2 Ny cykelsti langs Strandvejen" T3="3 Vintertjeneste 2026"
submit "$FIX/1-agenda.json" >/dev/null || fail "submit agenda"
wait_until 60 "agenda stored" docs_are 1
expect_fa "agenda" "1|agenda/scheduled|${P}1|1|$T1; $T2"
[[ "$(sql "SELECT municipality FROM meetings m WHERE $FA")" == "Hvidovre Kommune" ]] || fail "municipality from the export"
submit --municipality "Hvidovre Kommune" "$FIX/2-supplement.json" >/dev/null || fail "submit supplement"
wait_until 60 "supplement stored" docs_are 2
expect_fa "supplement" "1|agenda/scheduled|${P}1|1,2s|$T1; $T2; $T3"
[[ "$(sql "SELECT count(*) FROM current_items i JOIN meetings m ON m.id = i.meeting_id WHERE $FA")" == 2 ]] ||
    fail "current_items (the current document only) changed"
submit --municipality "Hvidovre Kommune" "$FIX/3-republished.json" >/dev/null || fail "submit republication"
wait_until 60 "republication stored" docs_are 3
expect_fa "republished" "1|agenda/scheduled|${P}3|2s,3|$T1; $T2 (revideret); $T3"
submit --municipality "Hvidovre Kommune" "$FIX/4-minutes.json" >/dev/null || fail "submit minutes"
wait_until 60 "minutes stored" docs_are 4
expect_fa "minutes" "1|minutes/held|${P}4|4|$T1; $T2; $T3"
# an agenda published after the minutes, under yet another Id
python3 - "$FIX/3-republished.json" "$WORK/5-late-agenda.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
d["Id"] = "a1000000-0000-4000-8000-000000000005"
d["Moede"]["ReleasedDate"] = "2026-03-06T09:00:00+01:00"
json.dump(d, open(sys.argv[2], "w", encoding="utf-8"), ensure_ascii=False)
PY
submit --municipality "Hvidovre Kommune" "$WORK/5-late-agenda.json" >/dev/null || fail "submit late agenda"
wait_until 60 "late agenda stored" docs_are 5
expect_fa "agenda after the minutes" "1|minutes/held|${P}4|4|$T1; $T2; $T3"
[[ "$(sql "SELECT count(*) FILTER (WHERE d.superseded_by IS NOT NULL) || ' '
                  || count(*) FILTER (WHERE d.superseded_by = m.current_document_id)
             FROM documents d JOIN meetings m ON m.id = d.meeting_id WHERE $FA")" == "4 3" ]] ||
    fail "history: every other publication, three of them (supplement, republication, late agenda) under the minutes"
log "a) one FirstAgenda meeting: agenda, supplement, republication, minutes, a late agenda"

# b) a real Greve export and its republication under a new Id
n=5
if [[ -d "$GREVE" ]]; then
    real="$(ls "$GREVE"/*.json | sort | sed -n 2p)"
    python3 - "$real" "$WORK/republished.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
d["Id"] = "b2000000-0000-4000-8000-000000000001"
json.dump(d, open(sys.argv[2], "w", encoding="utf-8"), ensure_ascii=False)
PY
    submit "$real" >/dev/null || fail "submit $real"
    wait_until 60 "real export stored" docs_are 6
    submit "$WORK/republished.json" >/dev/null || fail "submit the republication"
    wait_until 60 "republication stored" docs_are 7
    n=7
    # the meeting id: committee Id @ the start as one UTC instant
    key="$(python3 -c 'import datetime,json,sys; d=json.load(open(sys.argv[1])); m=d["Moede"]; t=datetime.datetime.fromisoformat(m.get("MeetingBeginUtc") or m["Dato"]); t=t if t.tzinfo else t.replace(tzinfo=datetime.timezone.utc); print(d["Udvalg"]["Id"] + "@" + t.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))' "$real")"
    got="$(sql "SELECT count(*) || ' ' || min(d.source_publication_id) FROM meetings m
                JOIN documents d ON d.id = m.current_document_id WHERE m.source_meeting_id = '$key'")"
    [[ "$got" == "1 b2000000-0000-4000-8000-000000000001" ]] || fail "real republication: $got"
    log "b) $(basename "$real") and its republication: one meeting, the republication current"
else
    log "b) skipped: ../shared not present"
fi

# c) a 3,000 character Id: dead-lettered, and the partition goes on
python3 - "$FIX/1-agenda.json" "$WORK/long-id.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
d["Id"] = "".join("%04x" % (i * 7919 % 65521) for i in range(750))
json.dump(d, open(sys.argv[2], "w", encoding="utf-8"), ensure_ascii=False)
PY
submit --municipality "Hvidovre Kommune" "$WORK/long-id.json" >/dev/null || fail "submit long id"
wait_until 60 "long id dead-lettered" dl_is "publication id is 3000 bytes" export_invalid
[[ "$(ndocs)" == "$n" ]] || fail "the long id was stored"

# d) no municipality from the export or the envelope (the invented SBSYS
#    minutes name none): dead-lettered; with the envelope's: stored
aarhus="$SBSYS/02_digitaliseringsgruppen_referat_2024-10-17.xml"
submit "$aarhus" >/dev/null || fail "submit Aarhus without municipality"
wait_until 60 "no municipality dead-lettered" dl_is "names no municipality" export_invalid
[[ "$(ndocs)" == "$n" ]] || fail "an export without a municipality was stored"
submit --municipality "Aarhus Kommune" "$aarhus" >/dev/null || fail "submit Aarhus with municipality"
n=$((n + 1))
wait_until 60 "Aarhus stored" docs_are "$n"
[[ "$(sql "SELECT count(*) FROM meetings WHERE meeting_key LIKE 'src:%::%'")" == 0 ]] ||
    fail "a meeting keyed with an empty municipality"
log "c), d) a 3,000 character Id and an export without a municipality: export_invalid; the partition went on"

# e) SBSYS meeting 241 (the invented agenda) of Ballerup, and (other bytes)
#    of another kommune
ballerup="$SBSYS/01_social-og-sundhedsudvalget_dagsorden_2024-09-10.xml"
submit --municipality "Ballerup Kommune" "$ballerup" >/dev/null || fail "submit Ballerup"
n=$((n + 1))
wait_until 60 "Ballerup stored" docs_are "$n"
{ cat "$ballerup"; printf '\n'; } >"$WORK/other-kommune.xml"
submit --municipality "Furesø Kommune" "$WORK/other-kommune.xml" >/dev/null || fail "submit the other kommune's 26"
n=$((n + 1))
wait_until 60 "other kommune stored" docs_are "$n"
got="$(sql "SELECT string_agg(municipality || ':' || version, ' ' ORDER BY municipality) FROM meetings
            WHERE source_system = 'sbsys' AND source_meeting_id = '241'")"
[[ "$got" == "Ballerup Kommune:1 Furesø Kommune:1" ]] || fail "meeting 241 of two kommuner: $got"
[[ "$(sql "SELECT count(*) FROM documents WHERE source_system = 'sbsys' AND superseded_by IS NOT NULL")" == 0 ]] ||
    fail "one kommune's meeting 241 superseded another's"
log "e) SBSYS meeting 241 of two kommuner: two meetings"

# f) Ballerup's meeting 241 moved: a later publication with another day and
#    committee name
sed -e 's/10-09-2024 16:00:00/11-09-2024 09:00:00/; s/10-09-2024 18:00:00/11-09-2024 11:00:00/' \
    -e 's/02-09-2024 10:05:31/03-09-2024 10:00:00/' \
    -e 's/<Name><!\[CDATA\[Social- og Sundhedsudvalget\]\]>/<Name><![CDATA[Social-, Sundheds- og Ældreudvalget]]>/' \
    "$ballerup" >"$WORK/moved.xml"
cmp -s "$ballerup" "$WORK/moved.xml" && fail "the moved revision is the same bytes"
submit --municipality "Ballerup Kommune" "$WORK/moved.xml" >/dev/null || fail "submit the moved revision"
n=$((n + 1))
wait_until 60 "moved revision stored" docs_are "$n"
got="$(sql "SELECT meeting_date || ' ' || start_time || ' ' || committee || ' ' || version FROM meetings
            WHERE source_system = 'sbsys' AND municipality = 'Ballerup Kommune'")"
[[ "$got" == "2024-09-11 09:00:00 Social-, Sundheds- og Ældreudvalget 2" ]] || fail "moved meeting: $got"
log "f) a newer revision moved the meeting: $got"

wait_until 60 "group lag 0" lag_is_zero
stop_worker 1
log "PASS identity"
