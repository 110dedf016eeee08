#!/usr/bin/env bash
# Attachments (issue 22, docs/attachments.md): the worker consumes the
# attachments topic beside the raw topic, extracts each attachment in the
# sandbox and stores its text in attachment_texts, in the batch's
# transaction with the offsets.
# a) an invented FirstAgenda meeting (tests/fixtures/firstagenda, three
#    Bilag with Ids on one item) and attachment messages for its Bilag, made
#    here as the producer makes them (ATTACH-CONTRACT.md section 3), with
#    invented PDFs (make_attachment_pdf.py):
#      A1  a text PDF that arrives BEFORE its meeting (kept, then linked);
#      A2  a text PDF delivered twice (stored once), then new bytes (replaced);
#      A3  skipped by the producer as too_large (empty value, its size);
#      A4  a PDF without text for an id of no meeting (pdf_no_text: a row,
#          no dead letter);
#      A5  a corrupt PDF (pdf_corrupt: a row AND a dead letter with the bytes);
#    then in PostgreSQL: every attachment stored once, linked to its item,
#    a Danish full-text search finds the item by a word that appears only in
#    its attachment; offsets cover the attachments topic; /metrics counts.
# b) a worker killed with SIGKILL in the middle of 40 attachments, then
#    restarted: each stored once, nothing written twice, offsets at the end;
# c) a document's text source; e) a worker for attachments only; f) an eDoc
#    folder end to end (when minutes-submit sends attachments); g)
#    PostgreSQL down while attachments arrive; d) a throughput figure.
source "$(dirname "$0")/lib.sh"
it_init attachments

if [[ -z "${ATT:-}" ]]; then  # it_init makes it once the producers' side is there
    ATT="${RAW%.raw}.att"
    bash "$TOPICS" --create "$ATT" 4 --config max.message.bytes=67108864 >"$WORK/topic-att.log" 2>&1 ||
        { cat "$WORK/topic-att.log" >&2; fail "create topic $ATT"; }
fi
FIX="$MM_SOURCE_DIR/tests/fixtures/firstagenda/2024-03-25_byraad_54caab1a.json"
KOMMUNE="Solrød Kommune"
MEETING_ID="54caab1a-e306-5673-8b4e-2205ef307581"
ITEM_TITLE="Anlægsbevilling til renovering af Solrød Strandpark"
# the item's Bilag: Økonomioversigt, Tidsplan, Projektbeskrivelse Strandparken
read -r A1 A2 A3 < <(python3 - "$FIX" <<'PY'
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
print(*[b["Id"] for i in d["Dagsordenpunkter"] for b in (i.get("Bilag") or [])])
PY
)
[[ -n "$A3" ]] || fail "the fixture has no three Bilag"
A4="aaaaaaaa-0000-4000-8000-000000000004"   # no meeting names it
A5="aaaaaaaa-0000-4000-8000-000000000005"
# words that appear only in the attachments (not in the fixture)
W1="klitfyrretræerne" W2="tangvoldsmålingen" W2B="ålegræsbedene"
for w in "$W1" "$W2" "$W2B"; do
    ! grep -qi "$w" "$FIX" || fail "$w is in the meeting itself"
done
PDF="$IT_DIR/make_attachment_pdf.py"
python3 "$PDF" "$WORK/a1.pdf" "Økonomioversigt for Strandparken" \
    "De gamle ${W1} langs stien fældes i etape to." "Budgettet er 7,5 mio. kr. i alt." || fail "a1.pdf"
python3 "$PDF" "$WORK/a2.pdf" "Tidsplan for renoveringen" \
    "Etape et: broerne og ${W2} i foråret 2024." "Etape to: toiletterne i efteråret." || fail "a2.pdf"
python3 "$PDF" "$WORK/a2v2.pdf" "Tidsplan for renoveringen (revideret)" \
    "Etape et flyttes: ${W2B} skal beskyttes i yngletiden." "Etape to uændret." || fail "a2v2.pdf"
python3 "$PDF" --blank "$WORK/a4.pdf" || fail "a4.pdf"
printf '%%PDF-1.4\nthis is no PDF at all, only its first line\n' >"$WORK/a5.pdf"
: >"$WORK/empty"

# produce_att FILE KOMMUNE_HEADER ID NAME [EXTRA HEADERS...]: one attachment
# message as minutes-source sends it
produce_att() {
    local file="$1" kom="$2" id="$3" name="$4"; shift 4
    local sha size
    sha="$(sha256sum <"$file" | cut -c1-64)"
    size="attachment-size=$(stat -c %s "$file")"
    [[ " $* " != *" attachment-size="* ]] || size="attachment-name=$name" # the caller's size
    "$MM_BIN/mm-kafka-tool" produce "$KAFKA_BOOTSTRAP" "$ATT" "$KOMMUNE|$id" "$file" \
        ce_specversion=1.0 ce_id="$sha" ce_source=minutes-source/test ce_type=dk.minutes.attachment.raw \
        ce_time=2024-03-20T12:00:00Z content-type=application/pdf municipality="$kom" \
        source-url="https://dagsordener.solroed.dk/vis/pdf/bilag/$id?redirectDirectlyToPdf=true" \
        document-id="$id" attachment-id="$id" attachment-name="$name" "$size" \
        meeting-document-id="$MEETING_ID" meeting-key="$KOMMUNE|Byrådet|2024-03-25T19:00" "$@" \
        >>"$WORK/produce.log" 2>&1 || fail "produce attachment $id"
}

PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
start_worker 1 --metrics-port "$PORT"
att_rows() { sql "SELECT count(*) FROM attachment_texts"; }

# A1 before its meeting (kommune named as the short form: normalised)
produce_att "$WORK/a1.pdf" "Solrød" "$A1" "Økonomioversigt"
wait_until 60 "A1 stored before its meeting" eq_sql "SELECT count(*) FROM attachment_texts" 1
[[ "$(sql "SELECT count(*) FROM documents")" == 0 ]] || fail "a document before the meeting was submitted"
[[ "$(sql "SELECT municipality || '|' || coalesce(skipped, '-') || '|' || text_source FROM attachment_texts")" == "$KOMMUNE|-|text" ]] ||
    fail "A1: $(sql "SELECT municipality, skipped, text_source FROM attachment_texts")"
log "A1 stored before its meeting"

submit --municipality "$KOMMUNE" "$FIX" >/dev/null || fail "submit the meeting"
wait_until 60 "the meeting stored" eq_sql "SELECT count(*) FROM documents" 1
produce_att "$WORK/a2.pdf" "$KOMMUNE" "$A2" "Tidsplan"
produce_att "$WORK/a2.pdf" "$KOMMUNE" "$A2" "Tidsplan"           # delivered twice
produce_att "$WORK/empty" "$KOMMUNE" "$A3" "Projektbeskrivelse Strandparken" \
    attachment-skipped=too_large attachment-size=99999999
produce_att "$WORK/a4.pdf" "$KOMMUNE" "$A4" "Skannet brev"
produce_att "$WORK/a5.pdf" "$KOMMUNE" "$A5" "Ødelagt fil"
wait_until 60 "five attachments" eq_sql "SELECT count(*) FROM attachment_texts" 5
nmsg="$("$MM_BIN/mm-kafka-tool" count "$KAFKA_BOOTSTRAP" "$ATT")"
[[ "$nmsg" == 6 ]] || fail "attachment messages: $nmsg, want 6"
att_offsets_at_end() {
    [[ "$(sql "SELECT coalesce(sum(next_offset), 0) FROM consumer_offsets
               WHERE group_id = '$GROUP' AND topic = '$ATT'")" == \
       "$("$MM_BIN/mm-kafka-tool" count "$KAFKA_BOOTSTRAP" "$ATT")" ]]
}
wait_until 60 "offsets at the end of the attachments topic" att_offsets_at_end

# every attachment once, with what it is
got="$(sql "SELECT string_agg(x, ' ' ORDER BY x) FROM (
              SELECT concat_ws(':', CASE source_id WHEN '$A1' THEN 'A1' WHEN '$A2' THEN 'A2'
                     WHEN '$A3' THEN 'A3' WHEN '$A4' THEN 'A4' WHEN '$A5' THEN 'A5' END,
                     coalesce(skipped, 'text'), coalesce(text_source, '-'), versions) AS x
                FROM attachment_texts) s")"
want="A1:text:text:1 A2:text:text:1 A3:too_large:-:1 A4:pdf_no_text:-:1 A5:pdf_corrupt:-:1"
[[ "$got" == "$want" ]] || fail "attachment_texts: $got, want $want"
# pages: each PDF here has one (NULL while extraction does not count them:
# the mm_extract_text_info stub before OCR)
[[ "$(sql "SELECT count(*) FROM attachment_texts WHERE pages IS NOT NULL AND
           (pages <> 1 OR source_id NOT IN ('$A1', '$A2', '$A4'))")" == 0 ]] ||
    fail "pages: $(sql "SELECT string_agg(source_id || '=' || pages, ' ') FROM attachment_texts")"
[[ "$(sql "SELECT byte_length FROM attachment_texts WHERE source_id = '$A3'")" == 99999999 ]] ||
    fail "A3's size is not the producer's"
[[ "$(sql "SELECT sha256 FROM attachment_texts WHERE source_id = '$A2'")" == "$(sha256sum <"$WORK/a2.pdf" | cut -c1-64)" ]] ||
    fail "A2's sha256 is not of its bytes"
# the corrupt one went to the DLQ with its bytes; the one without text did not
[[ "$(sql "SELECT string_agg(code || ':' || stage || ':' || payload_complete, ' ') FROM dead_letters")" == "pdf_corrupt:extract:true" ]] ||
    fail "dead letters: $(sql "SELECT string_agg(code, ' ') FROM dead_letters")"
[[ "$(sql "SELECT encode(sha256(payload), 'hex') FROM dead_letters")" == "$(sha256sum <"$WORK/a5.pdf" | cut -c1-64)" ]] ||
    fail "the dead letter does not hold A5's bytes"
dlq_has_one() { [[ "$("$MM_BIN/mm-kafka-tool" count "$KAFKA_BOOTSTRAP" "$DLQ")" == 1 ]]; }
wait_until 30 "the DLQ copy" dlq_has_one
log "a) six messages: five rows, one duplicate, one dead letter"

# linked to the item (A1 arrived first), by the attachments' source ids
got="$(sql "SELECT string_agg(x, ' ' ORDER BY x) FROM (
              SELECT CASE c.source_id WHEN '$A1' THEN 'A1' WHEN '$A2' THEN 'A2' WHEN '$A3' THEN 'A3' END
                     || ':' || coalesce(c.skipped, c.text_source, 'none') AS x
                FROM current_item_attachments c WHERE c.item_title = '$ITEM_TITLE') s")"
[[ "$got" == "A1:text A2:text A3:too_large" ]] || fail "current_item_attachments: $got"
[[ "$(sql "SELECT count(*) FROM attachments WHERE source_id IS NULL")" == 0 ]] ||
    fail "attachments without source_id: $(sql "SELECT name FROM attachments WHERE source_id IS NULL")"
[[ "$(sql "SELECT text_source || '|' || ocr_pages::text || '|' || (ocr_confidence IS NULL) FROM documents")" == "text|{}|true" ]] ||
    fail "documents.text_source: $(sql "SELECT text_source, ocr_pages FROM documents")"

# Danish full-text search finds the item by a word only its attachment has
[[ "$(sql "SELECT count(*) FROM current_sections WHERE fts @@ plainto_tsquery('danish', '$W1')")" == 0 &&
   "$(sql "SELECT count(*) FROM current_items WHERE title_fts @@ plainto_tsquery('danish', '$W1')")" == 0 ]] ||
    fail "$W1 is in the meeting's own text"
got="$(sql "SELECT item_title || '|' || attachment_name || '|' || municipality FROM item_attachment_search('$W1')")"
[[ "$got" == "$ITEM_TITLE|Økonomioversigt|$KOMMUNE" ]] || fail "search $W1: $got"
# another form of the word finds it too (the Danish stemmer)
[[ "$(sql "SELECT count(*) FROM item_attachment_search('klitfyrretræ')")" == 1 ]] || fail "Danish stemming"
[[ "$(sql "SELECT count(*) FROM current_item_attachments WHERE fts @@ plainto_tsquery('danish', '$W1')")" == 1 ]] ||
    fail "the view's fts does not find $W1"
[[ "$(sql "SELECT count(*) FROM item_attachment_search('$W2', '$KOMMUNE')")" == 1 ]] || fail "search $W2"
[[ "$(sql "SELECT count(*) FROM item_attachment_search('$W2', 'Greve Kommune')")" == 0 ]] ||
    fail "the kommune filter of item_attachment_search"
# the demo's query (tests/sql/demo_attachment_search.sql)
psql "$SUPER_URL" -qAtX -v ON_ERROR_STOP=1 -v words="$W1" -f "$MM_SOURCE_DIR/tests/sql/demo_attachment_search.sql" \
    >"$WORK/demo.txt" || fail "demo_attachment_search.sql"
[[ "$(cut -d'|' -f5 "$WORK/demo.txt")" == "Økonomioversigt" ]] || fail "demo query: $(cat "$WORK/demo.txt")"
sql "SET enable_seqscan = off; EXPLAIN SELECT * FROM attachment_texts WHERE fts @@ plainto_tsquery('danish', '$W1')" \
    >"$WORK/explain.txt"
grep -q "attachment_texts_fts" "$WORK/explain.txt" || fail "the search does not use the index: $(cat "$WORK/explain.txt")"
log "a) linked and found: $W1 -> $ITEM_TITLE"

# new bytes for A2 replace its text (no history)
produce_att "$WORK/a2v2.pdf" "$KOMMUNE" "$A2" "Tidsplan"
wait_until 60 "A2 replaced" eq_sql "SELECT versions FROM attachment_texts WHERE source_id = '$A2'" 2
[[ "$(sql "SELECT count(*) FROM item_attachment_search('$W2')") $(sql "SELECT count(*) FROM item_attachment_search('$W2B')")" == "0 1" ]] ||
    fail "A2's new text did not replace the old one"
[[ "$(att_rows)" == 5 ]] || fail "a replaced attachment added a row"

# /metrics: stored A1, A2, A2 again (new bytes); duplicate A2; skipped A3; failed A4, A5
metric() { curl -sf "http://127.0.0.1:$PORT/metrics" | awk -v k="$1" '$1 == k { print $2 }'; }
wait_until 20 "metrics" test "$(metric 'mm_attachments_total{result="stored"}')" = 3
got="$(for r in stored duplicate skipped failed; do metric "mm_attachments_total{result=\"$r\"}"; done | tr '\n' ' ')"
[[ "$got" == "3 1 1 2 " ]] || fail "mm_attachments_total stored/duplicate/skipped/failed: $got"
# pages extracted: A1, A2 twice, A2's new bytes, A4 (0 while the extraction counts none)
pages="$(sql "SELECT count(*) FROM attachment_texts WHERE pages IS NOT NULL")"
[[ "$(metric 'mm_extract_pages_total{kind="attachment"}')" == "$([[ $pages == 0 ]] && echo 0 || echo 5)" ]] ||
    fail "pages: $(metric 'mm_extract_pages_total{kind="attachment"}')"
[[ -n "$(metric 'mm_extract_ocr_pages_total{kind="attachment"}')" ]] || fail "no OCR page counter"
[[ "$(metric 'mm_dead_letters_total{code="pdf_corrupt"}')" == 1 ]] || fail "dead letter metric"
stop_worker 1
log "a) new bytes replaced the text; metrics counted"

# b) SIGKILL in the middle of 40 attachments, then a restart
N=40
for i in $(seq 1 $N); do
    python3 "$PDF" "$WORK/s$i.pdf" "Bilag nummer $i til byrådets møde" \
        "Ordet stormflodssikring$i findes kun her, side 1." || fail "s$i.pdf"
done
some_stored() { [[ "$(sql "SELECT count(*) FROM attachment_texts WHERE source_id LIKE 'bbbbbbbb-%'")" -gt 7 ]]; }
start_worker 2 --batch-size 3
for i in $(seq 1 $N); do
    produce_att "$WORK/s$i.pdf" "$KOMMUNE" "bbbbbbbb-0000-4000-8000-$(printf '%012d' "$i")" "Bilag $i"
    if [[ $i == 15 ]]; then
        wait_until 60 "some of them stored" some_stored
        kill_worker 2
        at_kill="$(sql "SELECT count(*) FROM attachment_texts WHERE source_id LIKE 'bbbbbbbb-%'")"
    fi
done
start_worker 3
wait_until 120 "all $N stored" eq_sql "SELECT count(*) FROM attachment_texts WHERE source_id LIKE 'bbbbbbbb-%'" "$N"
wait_until 60 "offsets at the end of the attachments topic" att_offsets_at_end
[[ $at_kill -lt $N ]] || fail "the worker was killed after the stream"
# the restarted worker resumed at the offsets committed with the rows: it
# met none of them again (a duplicate would mean a re-read of a written row)
grep -q '"batch committed' "$WORK/worker-3.log" || fail "worker 3 committed nothing"
! grep '"batch committed' "$WORK/worker-3.log" | grep -q 'duplicates [1-9]' ||
    fail "worker 3 re-read stored attachments: $(grep -o 'attachments [0-9]* ([^)]*)' "$WORK/worker-3.log" | sort | uniq -c)"
[[ "$(sql "SELECT count(*) FROM attachment_texts WHERE source_id LIKE 'bbbbbbbb-%' AND versions <> 1")" == 0 ]] ||
    fail "an attachment was written twice"
[[ "$(sql "SELECT count(DISTINCT (kafka_partition, kafka_offset)) FROM attachment_texts WHERE source_id LIKE 'bbbbbbbb-%'")" == "$N" ]] ||
    fail "rows share Kafka offsets"
[[ "$(sql "SELECT count(*) FROM item_attachment_search('stormflodssikring7')")" == 0 ]] ||
    fail "an attachment of no meeting was linked to an item"
[[ "$(sql "SELECT count(*) FROM attachment_texts WHERE fts @@ plainto_tsquery('danish', 'stormflodssikring27')")" == 1 ]] ||
    fail "the text of attachment 27 is not searchable"
stop_worker 3
log "b) killed after $at_kill of $N stored; after the restart each once, none re-read"

# c) a document's text source from its parse (document.text_source,
#    ocr_confidence, ocr_pages; optional: absent = 'text', NULL, {}), through
#    the worker's write path (mm_store_write_batch)
cat >"$WORK/ocrdocs.json" <<'JSON'
[{"sha256":"ocr-1","topic":"t.ocr","partition":0,"offset":0,"byte_length":1,"raw_text":"x",
  "parse":{"document":{"kind":"minutes","municipality":"Greve Kommune","committee":"Byrådet",
   "meeting_date":"2024-01-02","text_source":"mixed","ocr_confidence":80.5,"ocr_pages":[2,5]}}},
 {"sha256":"ocr-2","topic":"t.ocr","partition":0,"offset":1,"byte_length":1,"raw_text":"y",
  "parse":{"document":{"kind":"minutes","municipality":"Greve Kommune","committee":"Byrådet",
   "meeting_date":"2024-01-03","text_source":"text","ocr_confidence":null,"ocr_pages":[]}}}]
JSON
"$MM_BIN/mm-store-tool" new "$WORKER_URL" "$WORK/ocrdocs.json" >"$WORK/ocrdocs.out" 2>&1 ||
    fail "mm-store-tool: $(cat "$WORK/ocrdocs.out")"
got="$(sql "SELECT string_agg(sha256 || ':' || text_source || ':' || ocr_pages::text || ':' || coalesce(ocr_confidence::text, '-'),
            ' ' ORDER BY sha256) FROM documents WHERE sha256 LIKE 'ocr-%'")"
[[ "$got" == "ocr-1:mixed:{2,5}:80.5 ocr-2:text:{}:-" ]] || fail "documents' text source: $got"
log "c) documents' text source stored: $got"

# e) attachments in a group of their own (docs/attachments.md): a worker
#    whose --topic is the attachments topic, attachments off, recognises
#    them by the topic (this message has no ce_type)
ATT2="${RAW%.raw}.att2"
bash "$TOPICS" --create "$ATT2" 2 >"$WORK/topic-att2.log" 2>&1 || { cat "$WORK/topic-att2.log" >&2; fail "create $ATT2"; }
"$MM_BIN/mm-kafka-tool" produce "$KAFKA_BOOTSTRAP" "$ATT2" "$KOMMUNE|dddddddd-1" "$WORK/a1.pdf" \
    municipality="$KOMMUNE" attachment-id=dddddddd-1 attachment-name="Eget forbrugerbilag" \
    >>"$WORK/produce.log" 2>&1 || fail "produce to $ATT2"
start_worker 5 -g "$GROUP-att" -t "$ATT2" --attachments=off --attachments-topic "$ATT2"
wait_until 60 "the attachment of the own group" eq_sql \
    "SELECT text_source FROM attachment_texts WHERE source_id = 'dddddddd-1'" text
wait_until 30 "its offset" eq_sql "SELECT next_offset FROM consumer_offsets
    WHERE group_id = '$GROUP-att' AND topic = '$ATT2' AND next_offset > 0" 1
[[ "$(sql "SELECT count(*) FROM documents WHERE kafka_topic = '$ATT2'")" == 0 ]] || fail "it became a document"
stop_worker 5
log "e) a worker for attachments only (its own group and topic) stored it"

# f) end to end with the producer of bulk import, when this build has it
#    (minutes-submit of an eDoc folder sends its Attachments/*.pdf, issue
#    22): the invented eDoc meeting's two attachments are stored, linked to
#    their items by the ids the eDoc adapter gives, and found by a word that
#    only the attachment has (tests/fixtures/edoc-attachments/plejeplan.txt)
if "$MM_BIN/minutes-submit" --help 2>&1 | grep -q -- '--attachments-topic'; then
    EDOC="$MM_SOURCE_DIR/tests/fixtures/edoc"
    ! grep -rqi "kæmpebjørneklo" "$EDOC" --include='*.xml' --include='*.html' ||
        fail "the eDoc meeting itself has the word"
    start_worker 6
    "$MM_BIN/minutes-submit" -b "$KAFKA_BOOTSTRAP" -t "$RAW" --attachments-topic "$ATT" \
        --municipality "Middelfart Kommune" "$EDOC" >"$WORK/submit-edoc.out" 2>>"$WORK/submit.log" ||
        fail "minutes-submit of the eDoc folder"
    wait_until 60 "the eDoc attachments" eq_sql \
        "SELECT count(*) FROM attachment_texts WHERE municipality = 'Middelfart Kommune' AND text IS NOT NULL" 2
    wait_until 60 "linked to their items" eq_sql "SELECT count(DISTINCT text_id) FROM current_item_attachments
        WHERE municipality = 'Middelfart Kommune' AND text IS NOT NULL" 2
    # the export's other attachments (no file in the folder) are recorded with the reason
    [[ "$(sql "SELECT count(*) FROM current_item_attachments
               WHERE municipality = 'Middelfart Kommune' AND text_id IS NULL")" == 0 ]] ||
        fail "eDoc attachments without a row: $(sql "SELECT string_agg(name, ', ') FROM current_item_attachments
               WHERE municipality = 'Middelfart Kommune' AND text_id IS NULL")"
    [[ "$(sql "SELECT count(*) FROM item_attachment_search('kæmpebjørneklo', 'Middelfart Kommune')")" -ge 1 ]] ||
        fail "the eDoc item is not found by its attachment's word"
    stop_worker 6
    log "f) eDoc folder through minutes-submit: 2 attachments stored, linked and found"
else
    log "f) skipped: this minutes-submit sends no attachments (issue 22's producer side is not in this build)"
fi

# g) PostgreSQL down while attachments arrive: they wait in the batch and
#    are stored after the outage, never skipped nor dead-lettered
start_worker 7
wait_until 60 "worker 7 assigned" grep -q '"assigned' "$WORK/worker-7.log"
bash "$SERVICES" pg-stop "$MM_SERVICES_RUNDIR" fast >"$WORK/pg.log" 2>&1 || fail "pg-stop"
for i in 1 2 3 4 5; do
    produce_att "$WORK/s$i.pdf" "$KOMMUNE" "eeeeeeee-0000-4000-8000-00000000000$i" "Under nedbrud $i"
done
wait_until 60 "worker 7 pauses" grep -q 'paused all partitions' "$WORK/worker-7.log"
sleep 2
bash "$SERVICES" pg-start "$MM_SERVICES_RUNDIR" >>"$WORK/pg.log" 2>&1 || fail "pg-start"
source "$MM_SERVICES_RUNDIR/env"
wait_until 90 "the five stored after the outage" eq_sql \
    "SELECT count(*) FROM attachment_texts WHERE source_id LIKE 'eeeeeeee-%' AND text IS NOT NULL" 5
wait_until 60 "offsets at the end of the attachments topic" att_offsets_at_end
[[ "$(sql "SELECT count(*) FROM dead_letters")" == 1 ]] || fail "the outage dead-lettered something"
stop_worker 7
log "g) PostgreSQL down: the attachments waited and were stored after it"

# d) a figure, not a check: M one-page text PDFs queued, then one worker
#    extracts (in the sandbox) and stores them
M=150
python3 - "$IT_DIR" "$WORK" "$M" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
from make_attachment_pdf import write_pdf
lines = [f"Linje {k}: bilag om kystsikring, vandløb og budget for etape {k % 7}." for k in range(45)]
for i in range(1, int(sys.argv[3]) + 1):
    write_pdf(f"{sys.argv[2]}/t{i}.pdf", [f"Bilag {i}"] + lines)
PY
for i in $(seq 1 $M); do
    produce_att "$WORK/t$i.pdf" "$KOMMUNE" "cccccccc-0000-4000-8000-$(printf '%012d' "$i")" "Bilag $i"
done
t0=$(date +%s.%N)
start_worker 4
wait_until 300 "all $M stored" eq_sql "SELECT count(*) FROM attachment_texts WHERE source_id LIKE 'cccccccc-%' AND text IS NOT NULL" "$M"
t1=$(date +%s.%N)
stop_worker 4
python3 -c "import sys; m, a, b = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]); print(f'attachments: {m} one-page text PDFs ({sys.argv[4]} bytes each) extracted in the sandbox and stored in {b - a:.1f} s from the worker start (group join included): {m / (b - a):.1f}/s')" \
    "$M" "$t0" "$t1" "$(stat -c %s "$WORK/t1.pdf")"
log "PASS attachments"
