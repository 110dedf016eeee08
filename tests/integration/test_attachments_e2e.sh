#!/usr/bin/env bash
# Attachments end to end (issue 22): minutes-source polls the local
# FirstAgenda test server (invented meetings of two kommuner; their
# attachment PDFs: text ones, one scanned (image-only), one over the 4 MiB
# cap), a worker with OCR on consumes both topics, PostgreSQL holds the
# result:
#  1. every attachment the publications name has exactly one row in
#     attachment_texts, linked to its item through current_item_attachments;
#     the text ones are text_source 'text', the scanned one 'ocr' with its
#     code word read by OCR, the huge one is skipped as too_large with its
#     size; no attachment went to the dead-letter topic;
#  2. a Danish full-text search (item_attachment_search) finds an item by its
#     attachment's code word, which no item section holds;
#  3. a second poll fetches no attachment again (0 attachment requests, 0
#     messages), and the stored rows are unchanged (versions 1).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/source_lib.sh"
it_init attachments_e2e

fa_start epsilon:31:4 zeta:32:3
KOM=(--kommune Hvidovre --base-url "Hvidovre=$FA/k/epsilon" --kommune Albertslund
     --base-url "Albertslund=$FA/k/zeta")
for s in epsilon zeta; do fa_get "/_attachments/$s" >"$WORK/att-$s.json" || fail "test server: /_attachments/$s"; done
# expected rows: kommune, attachment id, kind, item number, code word
"$PY" - "$IT_DIR" "$WORK/att-epsilon.json=Hvidovre Kommune" "$WORK/att-zeta.json=Albertslund Kommune" \
    >"$WORK/expected.tsv" <<'PYEOF' || fail "expected attachments"
import hashlib, json, sys
sys.path.insert(0, sys.argv[1])
from firstagenda_world import CODEWORDS
for arg in sys.argv[2:]:
    path, kommune = arg.split("=", 1)
    for aid, a in json.load(open(path)).items():
        word = CODEWORDS[int(hashlib.sha256(aid.encode()).hexdigest(), 16) % len(CODEWORDS)]
        print("\t".join([kommune, aid, a["kind"], str(a["item"]), word]))
PYEOF
n_att="$(wc -l <"$WORK/expected.tsv")"
[[ $n_att -ge 6 ]] || fail "the invented worlds name too few attachments ($n_att)"
grep -q "	scanned	" "$WORK/expected.tsv" && grep -q "	huge	" "$WORK/expected.tsv" ||
    fail "the invented worlds have no scanned or no huge attachment"

start_worker 1 --ocr=on
source_run 1 --once "${KOM[@]}" || fail "first poll: exit $?"
n_pub="$(raw_count)"
wait_until 240 "every publication stored" eq_sql "SELECT count(*) FROM documents" "$n_pub"
wait_until 240 "every attachment stored" eq_sql "SELECT count(*) FROM attachment_texts" "$n_att"

# --- 1. one row per attachment, with where its text came from ------------------------
while IFS=$'\t' read -r kommune aid kind item word; do
    row="$(sql "SELECT coalesce(text_source, '-') || ' ' || coalesce(skipped, '-') || ' ' || versions
                  FROM attachment_texts WHERE municipality = '$kommune' AND source_id = '$aid'")"
    case $kind in
    text) want="text - 1" ;;
    scanned) want="ocr - 1" ;;
    huge) want="- too_large 1" ;;
    *) fail "unknown kind $kind" ;;
    esac
    [[ "$row" == "$want" ]] || fail "attachment $aid ($kind): '$row', want '$want'"
    if [[ $kind != huge ]]; then
        sql "SELECT text FROM attachment_texts WHERE source_id = '$aid'" | grep -qi "$word" ||
            fail "attachment $aid ($kind): its code word '$word' is not in the stored text"
        [[ "$(sql "SELECT count(DISTINCT item_id) FROM current_item_attachments c
                    WHERE c.municipality = '$kommune' AND c.source_id = '$aid'
                      AND c.item_number = $item")" -ge 1 ]] ||
            fail "attachment $aid is not linked to item $item of $kommune"
    fi
done <"$WORK/expected.tsv"
[[ "$(sql "SELECT count(*) FROM attachment_texts WHERE text_source = 'ocr' AND ocr_confidence > 50
             AND ocr_pages = '{1}'")" -ge 1 ]] || fail "the scanned attachment: no OCR confidence or page"
[[ "$(sql "SELECT count(*) FROM dead_letters")" == 0 ]] || fail "dead letters: $(sql "SELECT code, reason FROM dead_letters")"
log "1. $n_att attachments stored once each: text, ocr (the scanned one), too_large; linked to their items"

# --- 2. an item found by a word only its attachment holds -----------------------------
IFS=$'\t' read -r kommune aid kind item word < <(grep "	scanned	" "$WORK/expected.tsv" | head -n 1)
[[ "$(sql "SELECT count(*) FROM item_sections WHERE text ILIKE '%$word%'")" == 0 ]] ||
    fail "the code word '$word' stands in an item section: the test proves nothing"
hits="$(sql "SELECT item_number || ' ' || source_id FROM item_attachment_search('$word', '$kommune')")"
grep -qx "$item $aid" <<<"$hits" || fail "search for '$word' in $kommune: '$hits', want item $item by $aid"
log "2. item $item of $kommune found by '$word', a word that only its scanned attachment holds (read by OCR)"

# --- 3. a second poll fetches nothing again ---------------------------------------------
n_msg="$(att_count)"
fa_reset_stats epsilon zeta
source_run 2 --once "${KOM[@]}" || fail "second poll: exit $?"
for s in epsilon zeta; do
    [[ "$(fa_stat "$s" bilag)" == 0 && "$(fa_stat "$s" blob)" == 0 ]] ||
        fail "second poll of $s: $(fa_stat "$s" bilag) attachment requests, $(fa_stat "$s" blob) files"
done
[[ "$(att_count)" == "$n_msg" && "$(raw_count)" == "$n_pub" ]] ||
    fail "second poll produced messages: attachments $(att_count) (was $n_msg), publications $(raw_count)"
wait_until 60 "offsets at the end" pg_offsets_at_end
[[ "$(sql "SELECT count(*) || ' ' || max(versions) FROM attachment_texts")" == "$n_att 1" ]] ||
    fail "stored attachments changed: $(sql "SELECT count(*), max(versions) FROM attachment_texts")"
log "3. a second poll: 0 attachment requests, 0 messages, the stored rows unchanged"
stop_worker 1
log "PASS"
