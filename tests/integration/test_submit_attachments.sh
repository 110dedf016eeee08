#!/usr/bin/env bash
# minutes-submit of an eDoc export folder sends the attachment files the
# export names to the attachments topic (issue 22, item 1, bulk import),
# with a real Kafka. The folder is the invented eDoc fixture
# (tests/fixtures/edoc: two publications of one meeting, the older one
# without its Attachments folder), copied, with invented attachment files
# added: names in upper case (.PDF, as eDoc writes them), one over
# --attachment-max-bytes, and some named by the export but absent.
#  1. every attachment id the eDoc adapter emits (items[].attachment_files[].id,
#     from minutes-parse) is in the topic exactly once, with the contract's
#     headers: the file's bytes when the folder holds it (also when only the
#     newer publication's folder does), else an empty record: too_large with
#     the file's size, or not_in_export; the 2 publications go to the raw
#     topic as before;
#  2. --attachments off: the attachment files are not sent (today's
#     behaviour), the publications are;
#  3. an attachments topic that does not exist: said once, at once (no
#     delivery timeout per message), exit 1, the publications sent.
source "$(dirname "$0")/lib.sh"
it_init submit_attachments
PY=python3
[[ -x /usr/bin/python3 ]] && PY=/usr/bin/python3

src="$MM_SOURCE_DIR/tests/fixtures/edoc"
dir="$WORK/edoc"
cp -r "$src" "$dir"
pub_new="$(find "$dir" -type d -name '2024-06-12 08.45.05')"
pub_old="$(find "$dir" -type d -name '2024-06-03 09.12.40')"
[[ -d "$pub_new/Attachments" && -d "$pub_old" ]] || fail "the eDoc fixture changed shape"
# eDoc writes "x.PDF" where the export links "x.pdf"
for f in "$pub_new"/Attachments/*.pdf; do mv "$f" "${f%.pdf}.PDF"; done
"$PY" "$IT_DIR/firstagenda_world.py" pdf text "$pub_new/Attachments/7700040-8800041-1.PDF"
"$PY" "$IT_DIR/firstagenda_world.py" pdf huge "$pub_new/Attachments/7700050-8800051-1.PDF"
CAP=$((1024 * 1024))

# the ids, names, links and items the adapter emits, per export file
for x in "$pub_old"/*.xml "$pub_new"/*.xml; do
    "$MM_BIN/minutes-parse" "$x" >"$WORK/$(basename "$x").json" || fail "minutes-parse $x"
done

# --- 1. attachments on (the default) ----------------------------------------------
submit --municipality "Middelfart Kommune" --attachment-max-bytes "$CAP" "$dir" >"$WORK/submit-1.out" ||
    fail "minutes-submit: $(tail -3 "$WORK/submit-1.out")"
grep -q "^submitted 2, delivered 2, failed 0" "$WORK/submit-1.out" ||
    fail "publications: $(grep submitted "$WORK/submit-1.out")"
[[ "$("$MM_BIN/mm-kafka-tool" count "$KAFKA_BOOTSTRAP" "$RAW")" == 2 ]] || fail "raw topic: not 2 publications"
"$MM_BIN/mm-kafka-tool" dump "$KAFKA_BOOTSTRAP" "$ATT" >"$WORK/att.jsonl"
"$PY" - "$WORK/att.jsonl" "$pub_old" "$pub_new" "$CAP" "$WORK" <<'PY' || fail "the attachments topic (above)"
import hashlib, json, os, sys
dump, old, new, cap, work = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
msgs = [json.loads(l) for l in open(dump, encoding="utf-8")]
errors, want = [], {}
for pub in (old, new):   # the older publication first, as submitted
    x = [f for f in os.listdir(pub) if f.endswith(".xml")][0]
    doc = json.load(open(os.path.join(work, x + ".json"), encoding="utf-8"))
    for it in doc["items"]:
        for f in it.get("attachment_files", []):
            w = want.setdefault(f["id"], {"name": f["name"], "link": f["link"], "item": str(it["number"]),
                                          "docs": [], "file": None})
            w["docs"].append(x)
            p = os.path.join(pub, "Attachments", os.path.basename(f["link"].replace("\\", "/")))
            for cand in (p, p[:-4] + ".PDF"):
                if w["file"] is None and os.path.exists(cand):
                    w["file"], w["doc"] = cand, x
ids = [m["headers"].get("attachment-id") for m in msgs]
if sorted(ids) != sorted(want):
    errors.append("ids in the topic %s, want %s" % (sorted(ids), sorted(want)))
kinds = {"bytes": 0, "too_large": 0, "not_in_export": 0}
for m in msgs:
    h, aid = m["headers"], m["headers"].get("attachment-id")
    w = want.get(aid)
    if not w:
        continue
    exp = {"ce_specversion": "1.0", "ce_type": "dk.minutes.attachment.raw", "ce_source": "minutes-submit",
           "municipality": "Middelfart Kommune", "document-id": aid, "attachment-name": w["name"],
           "source-url": w["link"], "item-number": w["item"], "meeting-key": "Middelfart Kommune"}
    for k, v in exp.items():
        if h.get(k) != v:
            errors.append("%s: %s = %r, want %r" % (aid, k, h.get(k), v))
    if m["key"] != "Middelfart Kommune|" + aid:
        errors.append("%s: key %r" % (aid, m["key"]))
    f = w["file"]
    size = os.path.getsize(f) if f else None
    reason = None if f and size <= cap else "too_large" if f else "not_in_export"
    kinds[reason or "bytes"] += 1
    if h.get("meeting-document-id") != (w["doc"] if f else w["docs"][0]):
        errors.append("%s: meeting-document-id %r" % (aid, h.get("meeting-document-id")))
    # the folder's time (2024-06-12 08.45.05 Danish summer time) is the event time
    t = {"2024-06-12": "2024-06-12T06:45:05Z", "2024-06-03": "2024-06-03T07:12:40Z"}
    if h.get("ce_time") not in t.values():
        errors.append("%s: ce_time %r" % (aid, h.get("ce_time")))
    if reason is None:
        data = open(f, "rb").read()
        sha = hashlib.sha256(data).hexdigest()
        if (m["value_len"], m["value_sha256"], h.get("ce_id"), h.get("attachment-size"),
                h.get("content-type")) != (len(data), sha, sha, str(len(data)), "application/pdf"):
            errors.append("%s: value/ce_id/size/type %r" % (aid, (m["value_len"], h.get("ce_id"),
                                                                   h.get("attachment-size"), h.get("content-type"))))
        if "attachment-skipped" in h:
            errors.append("%s: skipped %r" % (aid, h["attachment-skipped"]))
    else:
        ce = hashlib.sha256(("Middelfart Kommune|%s|%s" % (aid, reason)).encode()).hexdigest()
        if (m["value_len"], h.get("attachment-skipped"), h.get("ce_id")) != (0, reason, ce):
            errors.append("%s: %r, want an empty record skipped %s" % (aid, (m["value_len"], h.get("attachment-skipped")), reason))
        if reason == "too_large" and h.get("attachment-size") != str(size):
            errors.append("%s: attachment-size %r, want %d" % (aid, h.get("attachment-size"), size))
for e in errors[:30]:
    print("submit attachments: " + e, file=sys.stderr)
print("submit attachments: %d messages for %d ids: %d with bytes, %d too_large, %d not_in_export"
      % (len(msgs), len(want), kinds["bytes"], kinds["too_large"], kinds["not_in_export"]), file=sys.stderr)
sys.exit(1 if errors or kinds["bytes"] < 3 or not kinds["too_large"] or not kinds["not_in_export"] else 0)
PY
n_att="$("$MM_BIN/mm-kafka-tool" count "$KAFKA_BOOTSTRAP" "$ATT")"
grep -q "^attachments: submitted $n_att (.*), delivered $n_att, failed 0" "$WORK/submit-1.out" ||
    fail "summary: $(grep '^attachments' "$WORK/submit-1.out")"
log "1. eDoc folder: 2 publications, $n_att attachments, each id once with the contract's headers"

# --- 2. --attachments off -----------------------------------------------------------------
submit --municipality "Middelfart Kommune" --attachments off "$dir" >"$WORK/submit-2.out" ||
    fail "minutes-submit --attachments off"
[[ "$("$MM_BIN/mm-kafka-tool" count "$KAFKA_BOOTSTRAP" "$ATT")" == "$n_att" ]] ||
    fail "--attachments off sent attachments"
[[ "$("$MM_BIN/mm-kafka-tool" count "$KAFKA_BOOTSTRAP" "$RAW")" == 4 ]] || fail "--attachments off: publications not sent"
grep -q "not sent (export parts) [1-9]" "$WORK/submit-2.out" || fail "--attachments off: $(tail -1 "$WORK/submit-2.out")"
if grep -q "^attachments:" "$WORK/submit-2.out"; then fail "--attachments off printed attachments"; fi
log "2. --attachments off: the attachment files are not sent"
# --- 3. the attachments topic does not exist -----------------------------------------------
t0=$SECONDS rc=0
submit --municipality "Middelfart Kommune" --attachments-topic "$ATT.missing" "$dir" >"$WORK/submit-3.out" || rc=$?
[[ $rc == 1 && $((SECONDS - t0)) -lt 20 ]] || fail "missing topic: exit $rc after $((SECONDS - t0)) s, want 1 at once"
grep -q "attachments topic $ATT.missing: .*create it" "$WORK/submit.log" || fail "missing topic not named: $(tail -2 "$WORK/submit.log")"
[[ "$("$MM_BIN/mm-kafka-tool" count "$KAFKA_BOOTSTRAP" "$RAW")" == 6 ]] || fail "missing attachments topic: publications not sent"
log "3. a missing attachments topic: named at once, exit 1, publications sent"
log "PASS submit_attachments"
