#!/usr/bin/env bash
# Input forms: a plain value without headers, a plain value with the
# content-type/source-url/municipality/document-id headers (envelope
# metadata wins over the parser), CloudEvents binary mode, structured mode
# with "data" and with "data_base64", and a broken structured event (DLQ).
# Issue 11: "Århus" in the header is stored as the parser's name "Aarhus
# Kommune"; a ce_time of year 0000 is stored as NULL (the cast cannot throw)
# without failing its batch.
source "$(dirname "$0")/lib.sh"
it_init envelopes

produce() { "$MM_BIN/mm-kafka-tool" produce "$KAFKA_BOOTSTRAP" "$RAW" "$@" || fail "produce $*"; }
S0="$SEEDS/000_egedal_markdown.txt" S1="$SEEDS/001_faxe_pdftext.txt"
S2="$SEEDS/002_odsherred_web.txt" S3="$SEEDS/003_struer_dagsorden.txt"
S4="$SEEDS/004_toender_punkt.txt"
python3 - "$S4" "$S0" "$WORK" <<'PY'
import base64, json, sys
s4, s0, work = sys.argv[1:4]
ev = {"specversion": "1.0", "id": "ev-structured-data", "source": "test/structured",
      "type": "dk.minutes.document.raw", "time": "2025-02-01T10:00:00Z",
      "datacontenttype": "text/plain", "sourceurl": "https://example.invalid/s4",
      "data": open(s4, encoding="utf-8").read()}
json.dump(ev, open(f"{work}/structured.json", "w"))
ev = {"specversion": "1.0", "id": "ev-structured-b64", "source": "test/structured",
      "type": "dk.minutes.document.raw", "datacontenttype": "text/plain",
      "municipality": "Base64 Kommune",
      "data_base64": base64.b64encode(open(s0, "rb").read()).decode()}
json.dump(ev, open(f"{work}/structured64.json", "w"))
open(f"{work}/broken.json", "w").write('{"specversion": "1.0", "data": ')
PY

produce - "$S2"
produce k1 "$S1" "content-type=text/plain" "source-url=https://example.invalid/s1" \
    "municipality=Override Kommune" "document-id=doc-s1"
produce k3 "$S3" "ce_specversion=1.0" "ce_id=ev-binary" "ce_source=test/binary" \
    "ce_type=dk.minutes.document.raw" "ce_time=2025-01-01T12:00:00Z" "content-type=text/plain"
produce k4 "$WORK/structured.json" "content-type=application/cloudevents+json; charset=utf-8"
produce k0 "$WORK/structured64.json" "content-type=application/cloudevents+json"
produce kb "$WORK/broken.json" "content-type=application/cloudevents+json"
{ cat "$S2"; echo; } >"$WORK/aarhus.txt"
{ cat "$S4"; echo; } >"$WORK/aarhus-submit.txt"
{ cat "$S3"; echo; echo; } >"$WORK/year0.txt"
produce ka "$WORK/aarhus.txt" "content-type=text/plain" "municipality=Århus"
produce ky "$WORK/year0.txt" "ce_specversion=1.0" "ce_id=ev-year0" "ce_source=test/binary" \
    "ce_type=dk.minutes.document.raw" "ce_time=0000-01-01T00:00:00Z" "content-type=text/plain"

# minutes-submit keys by the same official name as the worker stores
submit --municipality "Århus" "$WORK/aarhus-submit.txt" >/dev/null || fail "submit Århus"
start_worker 1
wait_until 60 "offsets stored up to the end of the topic" pg_offsets_at_end
wait_until 60 "group lag 0" lag_is_zero
[[ "$(sql "SELECT count(*) FROM documents")" == 8 ]] || fail "$(sql "SELECT count(*) FROM documents") documents, expected 8"

sha() { sha256sum "$1" | cut -d' ' -f1; }
check() { # check SHA-OF-DOCUMENT SQL-EXPR EXPECTED
    local got
    got="$(sql "SELECT $2 FROM documents d JOIN meetings m ON m.id = d.meeting_id WHERE d.sha256 = '$1'")"
    [[ "$got" == "$3" ]] || fail "document $1: $2 is '$got', expected '$3'"
}
check "$(sha "$S2")" "m.municipality" "Odsherred Kommune"
check "$(sha "$S1")" "m.municipality || '|' || d.source_url || '|' || d.external_id" \
    "Override Kommune|https://example.invalid/s1|doc-s1"
check "$(sha "$S3")" "d.ce_id || '|' || d.ce_source || '|' || d.ce_time" \
    "ev-binary|test/binary|2025-01-01 12:00:00+00"
check "$(sha "$S4")" "d.ce_id || '|' || d.source_url || '|' || m.municipality" \
    "ev-structured-data|https://example.invalid/s4|Tønder Kommune"
check "$(sha "$S0")" "d.ce_id || '|' || m.municipality" "ev-structured-b64|Base64 Kommune"
check "$(sha "$WORK/aarhus.txt")" "d.municipality || '|' || m.municipality" "Aarhus Kommune|Aarhus Kommune"
check "$(sha "$WORK/aarhus-submit.txt")" "m.municipality" "Aarhus Kommune"
"$MM_BIN/mm-kafka-tool" dump "$KAFKA_BOOTSTRAP" "$RAW" >"$WORK/raw.jsonl"
python3 - "$WORK/raw.jsonl" "$(sha "$WORK/aarhus-submit.txt")" <<'PY' || fail "minutes-submit key not normalised"
import json, sys
m = [json.loads(l) for l in open(sys.argv[1])]
m = [x for x in m if x["value_sha256"] == sys.argv[2]]
assert len(m) == 1 and m[0]["key"] == "Aarhus Kommune", [x["key"] for x in m]
assert m[0]["headers"].get("municipality") == "Aarhus Kommune", m[0]["headers"]
PY
check "$(sha "$WORK/year0.txt")" "d.ce_id || '|' || coalesce(d.ce_time::text, 'NULL')" "ev-year0|NULL"

"$MM_BIN/mm-kafka-tool" dump "$KAFKA_BOOTSTRAP" "$DLQ" >"$WORK/dlq.jsonl"
[[ "$(wc -l <"$WORK/dlq.jsonl")" == 1 ]] || fail "expected 1 dead letter"
grep -q '"minutes.error.code":"envelope_invalid"' "$WORK/dlq.jsonl" || fail "broken event not dead-lettered as envelope_invalid"
[[ "$(sql "SELECT count(*) || ' ' || string_agg(code || '/' || stage || '/' || byte_length, ',') FROM dead_letters")" == "1 envelope_invalid/extract/$(stat -c %s "$WORK/broken.json")" ]] ||
    fail "dead_letters: $(sql "SELECT count(*), string_agg(code, ',') FROM dead_letters")"
stop_worker 1
log "PASS envelopes"
