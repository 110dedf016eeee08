#!/usr/bin/env bash
# b) garbage (empty, random binary, an English paragraph, a 20 MiB file)
#    lands on the DLQ, each copy with its original bytes, key and headers plus
#    the error headers; nothing of it reaches the tables; table dead_letters
#    names each file (source URL, document id, kommune, content type).
source "$(dirname "$0")/lib.sh"
it_init dlq

G="$WORK/garbage"
mkdir -p "$G"
: >"$G/empty.txt"
python3 - "$G" <<'PY'
import random, sys
d = sys.argv[1]
r = random.Random(4711)
open(f"{d}/random.bin", "wb").write(bytes(r.getrandbits(8) for _ in range(4096)))
open(f"{d}/english.txt", "w").write(
    "The committee of the local football club met on a sunny afternoon. "
    "Everybody agreed that the new goal posts look splendid, and the cake "
    "was excellent. Nothing else was discussed, and nobody took any notes.\n")
open(f"{d}/big.bin", "wb").write(r.randbytes(20 * 1024 * 1024))
PY

start_worker 1
# the worker's own size check: submit a 20 MiB file past submit's limit
submit --municipality "Testby Kommune" --max-doc-bytes 64MiB "$G" >/dev/null || fail "minutes-submit"
wait_until 90 "4 messages on the DLQ" \
    bash -c "[[ \$('$MM_BIN/mm-kafka-tool' count '$KAFKA_BOOTSTRAP' '$DLQ') == 4 ]]"
wait_until 60 "offsets stored up to the end of the topic" pg_offsets_at_end
wait_until 60 "group lag 0" lag_is_zero

"$MM_BIN/mm-kafka-tool" dump "$KAFKA_BOOTSTRAP" "$DLQ" >"$WORK/dlq.jsonl" || fail "dump DLQ"
"$MM_BIN/mm-kafka-tool" dump "$KAFKA_BOOTSTRAP" "$RAW" >"$WORK/raw.jsonl" || fail "dump raw"
python3 - "$G" "$WORK/dlq.jsonl" "$WORK/raw.jsonl" "$RAW" <<'PY' || fail "DLQ content"
import hashlib, json, os, sys
gdir, dlq_path, raw_path, raw_topic = sys.argv[1:5]
dlq = [json.loads(l) for l in open(dlq_path)]
raw = {(m["partition"], m["offset"]): m for m in (json.loads(l) for l in open(raw_path))}
need = ["minutes.error.code", "minutes.error.reason", "minutes.error.stage",
        "minutes.source.topic", "minutes.source.partition", "minutes.source.offset",
        "minutes.worker.version", "minutes.error.timestamp"]
ok = True
assert len(dlq) == 4, f"{len(dlq)} DLQ messages"
for name in sorted(os.listdir(gdir)):
    data = open(os.path.join(gdir, name), "rb").read()
    sha = hashlib.sha256(data).hexdigest()
    hits = [m for m in dlq if m["value_sha256"] == sha and m["value_len"] == len(data)]
    if len(hits) != 1:
        print(f"{name}: {len(hits)} DLQ copies with its bytes"); ok = False; continue
    m = hits[0]; h = m["headers"]
    missing = [k for k in need if k not in h]
    if missing:
        print(f"{name}: missing headers {missing}"); ok = False; continue
    src = raw[(int(h["minutes.source.partition"]), int(h["minutes.source.offset"]))]
    if h["minutes.source.topic"] != raw_topic or src["value_sha256"] != sha:
        print(f"{name}: source topic/partition/offset do not point at the original"); ok = False
    if m["key"] != src["key"]:
        print(f"{name}: key changed"); ok = False
    for k, v in src["headers"].items():
        if h.get(k) != v:
            print(f"{name}: original header {k} changed"); ok = False
    if h["minutes.error.stage"] not in ("extract", "parse"):
        print(f"{name}: stage {h['minutes.error.stage']}"); ok = False
    print(f"{name}: {len(data)} bytes -> DLQ code={h['minutes.error.code']} stage={h['minutes.error.stage']}")
sys.exit(0 if ok else 1)
PY
# table dead_letters names each file (migration 014): its source URL is the
# file's path as minutes-submit sent it, its document id the file name
for f in empty.txt random.bin english.txt big.bin; do
    row="$(sql "SELECT document_id || '|' || municipality || '|' || (content_type IS NOT NULL)
                  FROM dead_letters WHERE source_url = 'file://$(realpath "$G/$f")'")"
    [[ "$row" == "$f|Testby Kommune|true" ]] || fail "dead_letters row of $f: '$row'"
done
counts="$(row_counts)"
[[ "$counts" == "0 0 0 0 0 0 0 0 0" ]] || fail "garbage reached the tables: $counts"
grep -q '"code":"too_large"' "$WORK/worker-1.log" || fail "the 20 MiB file was not refused as too_large"
stop_worker 1
log "PASS dead_letters"
