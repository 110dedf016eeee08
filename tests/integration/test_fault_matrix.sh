#!/usr/bin/env bash
# Issues 10 and 11: valid documents and bad inputs mixed, three workers (the
# TEST BUILD minutes-worker-testhooks), and every fault one after the other
# while documents flow:
#   - a worker SIGKILL (and restart);
#   - PostgreSQL read-only for >= 10 s (ALTER SYSTEM default_transaction_read_only);
#     /readyz must go red meanwhile;
#   - INSERT on documents revoked from the worker role, then granted again (42501);
#   - a constraint that refuses every document (23514 for all: systemic after
#     isolation and a probe document), then dropped;
#   - a statement hanging on a lock (lock_timeout 1.5 s -> 55P03, retried);
#   - a broker SIGKILL and restart;
#   - a PostgreSQL crash (immediate stop) and restart;
#   - a DLQ topic whose max.message.bytes (1 MiB) is below two bad inputs' sizes
#     (header-only dead letters, bytes kept in table dead_letters);
#   - an input that crashes the worker (test hook): it kills two workers, the
#     third tests it in the sandbox, where it crashes again, and dead-letters
#     it as extract_crash;
#   - envelopes with a year-0000 ce_time and with "Århus" (valid documents);
#   - two documents PostgreSQL refuses for their content (a CHECK constraint
#     added for this test: SQLSTATE 23514), sent back to back: isolation
#     dead-letters exactly those two (db_rejected), even when a batch holds
#     nothing else (then a rolled-back probe document tells them from a
#     database that refuses everything).
# Afterwards: every valid document is stored exactly once; nothing valid is
# dead-lettered; dead_letters holds exactly one row per bad input; the DLQ
# topic holds at least one copy of each; no worker is stuck (offsets at the
# end of the topic, lag 0, every worker answers and stops cleanly).
# Faults are held until their effect is observed (polled with generous
# bounds), never for a fixed time used as an assertion.
source "$(dirname "$0")/lib.sh"
it_init fault_matrix
N="${MM_IT_MATRIX_DOCS:-300}"
export MM_WORKER_BIN="$MM_BIN/minutes-worker-testhooks"
[[ -x "$MM_WORKER_BIN" ]] || fail "test build $MM_WORKER_BIN missing"
export MM_TEST_CRASH_MARKER="MM-TEST-CRASH-7f3a9c"

# a DLQ topic with a small size limit (the raw topic takes 64 MiB)
DLQ="$DLQ.small"
bash "$TOPICS" --create "$DLQ" 4 --config max.message.bytes=1048576 >"$WORK/topic-dlq-small.log" 2>&1 ||
    { cat "$WORK/topic-dlq-small.log" >&2; fail "create $DLQ"; }

# Superuser statements that must work while the server is read-only.
sqlrw() { PGOPTIONS="-c default_transaction_read_only=off" psql "$SUPER_URL" -qAtX -v ON_ERROR_STOP=1 -c "$1"; }
restore_db() {
    PGOPTIONS="-c default_transaction_read_only=off" psql "$MM_PG_SUPERUSER_URL" -qAtX \
        -c "ALTER SYSTEM RESET default_transaction_read_only" -c "SELECT pg_reload_conf()" >/dev/null 2>&1 || true
    sqlrw "GRANT INSERT ON documents TO minutes_worker" >/dev/null 2>&1 || true
    sqlrw "ALTER TABLE documents DROP CONSTRAINT IF EXISTS it_all" >/dev/null 2>&1 || true
}
matrix_cleanup() {
    local rc=$?
    set +e # (exit $rc) below must not end the trap before it_cleanup stops the workers
    restore_db
    [[ -n "${LOCKER:-}" ]] && { kill "$LOCKER" 2>/dev/null; wait "$LOCKER" 2>/dev/null; } || true
    (exit $rc)
    it_cleanup
}
trap matrix_cleanup EXIT

# ---------------------------------------------------------------- inputs
python3 "$IT_DIR/gen_variants.py" "$SEEDS" "$WORK/docs" "$N" >"$WORK/dirs.tsv"
S2="$SEEDS/002_odsherred_web.txt" S3="$SEEDS/003_struer_dagsorden.txt" S4="$SEEDS/004_toender_punkt.txt"
mkdir -p "$WORK/env" "$WORK/bad"
{ cat "$S2"; echo; } >"$WORK/env/aarhus.txt"
{ cat "$S3"; echo; echo; } >"$WORK/env/year0.txt"
B="$WORK/bad"
: >"$B/empty.txt"
{ cat "$S4"; echo "$MM_TEST_CRASH_MARKER"; } >"$B/crash.txt"
S0="$SEEDS/000_egedal_markdown.txt" S1="$SEEDS/001_faxe_pdftext.txt"
{ cat "$S0"; echo "MM-IT-POISON one"; } >"$B/poison-1.txt"
{ cat "$S1"; echo "MM-IT-POISON two"; } >"$B/poison-2.txt"
sqlrw "ALTER TABLE documents ADD CONSTRAINT it_poison CHECK (position('MM-IT-POISON' in raw_text) = 0)" >/dev/null
python3 - "$B" <<'PY'
import random, sys
d = sys.argv[1]
r = random.Random(1111)
open(f"{d}/random.bin", "wb").write(r.randbytes(4096))
open(f"{d}/english.txt", "w").write(
    "The committee of the chess club met on a rainy evening. Everybody agreed that the new "
    "boards look splendid. Nothing else was discussed, and nobody took any notes.\n")
open(f"{d}/random-2mib.bin", "wb").write(r.randbytes(2 * 1024 * 1024))   # > DLQ limit
open(f"{d}/huge-17mib.bin", "wb").write(r.randbytes(17 * 1024 * 1024))   # > max-doc-bytes
open(f"{d}/broken.json", "w").write('{"specversion": "1.0", "data": ')
PY
NBAD=9
# valid documents in chunks, one per fault phase
mkdir -p "$WORK/chunks"
i=0
while IFS= read -r f; do
    c=$((i % 7)); mkdir -p "$WORK/chunks/$c"; cp "$f" "$WORK/chunks/$c/"; i=$((i + 1))
done < <(find "$WORK/docs" -type f | sort)
{ find "$WORK/docs" -type f; echo "$WORK/env/aarhus.txt"; echo "$WORK/env/year0.txt"; } |
    xargs sha256sum | awk '{print $1}' | sort >"$WORK/expected.sha"
NVALID=$((N + 2))
[[ "$(sort -u "$WORK/expected.sha" | wc -l)" == "$NVALID" ]] || fail "valid documents are not distinct"

produce() { "$MM_BIN/mm-kafka-tool" produce "$KAFKA_BOOTSTRAP" "$RAW" "$@" >/dev/null || fail "produce $*"; }
submit_chunk() { submit -X partitioner=random "$WORK/chunks/$1" >/dev/null || fail "submit chunk $1"; log "chunk $1 submitted"; }

# ---------------------------------------------------------------- workers
read -r -a PORTS < <(python3 -c '
import socket
ss = [socket.socket() for _ in range(3)]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))')
WOPTS=(--batch-size 40 --retry-max-ms 1000 --pg-lock-timeout-ms 1500 --pg-statement-timeout-ms 20000
       --rebalance-wait-ms 3000 --dlq-timeout-ms 20000 --metrics-bind 127.0.0.1)
start_w() { start_worker "$1" "${WOPTS[@]}" --metrics-port "${PORTS[$(($1 - 1))]}"; }
for id in 1 2 3; do start_w "$id"; done

# Restarts a worker that died (the crash input kills workers by design).
revive() {
    local id
    for id in 1 2 3; do
        if [[ -n "${WPID[$id]:-}" ]] && ! kill -0 "${WPID[$id]}" 2>/dev/null; then
            wait "${WPID[$id]}" 2>/dev/null || true
            log "worker $id died; restarting it"
            start_w "$id"
        fi
    done
}
# wait_for TIMEOUT DESCRIPTION COMMAND...: as wait_until, reviving workers.
wait_for() {
    local timeout="$1" desc="$2"; shift 2
    local end=$((SECONDS + timeout))
    until "$@" >/dev/null 2>&1; do
        [[ $SECONDS -lt $end ]] || fail "timed out after ${timeout}s waiting for: $desc"
        revive
        sleep 0.3
    done
}
readyz() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${PORTS[$(($1 - 1))]}/readyz" 2>/dev/null; }
any_red() { local id; for id in 1 2 3; do [[ "$(readyz "$id")" == 503 ]] && return 0; done; return 1; }
all_green() { local id; for id in 1 2 3; do [[ "$(readyz "$id")" == 200 ]] || return 1; done; }
docs() { sql "SELECT count(*) FROM documents" 2>/dev/null || echo 0; }
at_least() { [[ "$(docs)" -ge "$1" ]]; }
logged() { grep -q -- "$1" "$WORK"/worker-*.log 2>/dev/null; } # no pipe: grep -q + pipefail = SIGPIPE

wait_for 60 "all workers ready" all_green

# ---------------------------------------------------------------- phase 1: bad inputs, envelopes, SIGKILL
submit --municipality "Testby Kommune" "$B/poison-1.txt" "$B/poison-2.txt" >/dev/null || fail "submit poison"
submit --municipality "Testby Kommune" "$B/empty.txt" "$B/random.bin" "$B/english.txt" \
    "$B/random-2mib.bin" "$B/crash.txt" >/dev/null || fail "submit bad inputs"
produce big "$B/huge-17mib.bin" "content-type=application/octet-stream"
produce broken "$B/broken.json" "content-type=application/cloudevents+json"
produce aarhus "$WORK/env/aarhus.txt" "content-type=text/plain" "municipality=Århus"
produce year0 "$WORK/env/year0.txt" "ce_specversion=1.0" "ce_id=ev-year0" "ce_source=test/matrix" \
    "ce_type=dk.minutes.document.raw" "ce_time=0000-01-01T00:00:00Z" "content-type=text/plain"
submit_chunk 0
wait_for 120 "40 documents stored" at_least 40
# The crash input kills a worker twice; kill worker 1 only after that (and
# after reviving it), or the SIGKILL may find it already dead.
crashed_twice() { [[ "$(cat "$WORK"/worker-*.log | grep -c 'test hook: crashing')" -ge 2 ]]; }
wait_for 120 "the crash input crashed two workers" crashed_twice
revive
kill_worker 1
start_w 1

# ---------------------------------------------------------------- phase 2: read-only
before="$(docs)"  # a batch in flight may still commit after this
sqlrw "ALTER SYSTEM SET default_transaction_read_only = on" >/dev/null
sqlrw "SELECT pg_reload_conf()" >/dev/null
ro_start=$SECONDS
log "PostgreSQL read-only"
submit_chunk 1
wait_for 90 "/readyz red while read-only" any_red
log "/readyz went red while read-only"
wait_for 60 "a worker sees the read-only server" logged "25006"
while ((SECONDS - ro_start < 10)); do revive; sleep 0.5; done # hold the fault for 10 s
sqlrw "ALTER SYSTEM RESET default_transaction_read_only" >/dev/null
sqlrw "SELECT pg_reload_conf()" >/dev/null
log "PostgreSQL writable again after $((SECONDS - ro_start)) s"
wait_for 120 "chunk 1 stored after read-only" at_least $((before + 1))
wait_for 90 "/readyz green again" all_green

# ---------------------------------------------------------------- phase 3: revoked grant
sqlrw "REVOKE INSERT ON documents FROM minutes_worker" >/dev/null
log "INSERT on documents revoked"
submit_chunk 2
wait_for 90 "a worker meets the missing grant" logged "42501"
sqlrw "GRANT INSERT ON documents TO minutes_worker" >/dev/null
log "INSERT on documents granted again"

# ---------------------------------------------------------------- phase 3b: a constraint refusing everything
# 23514 is a data class, but when every document fails alone and so does a
# probe document, the refusal is systemic: nothing may be dead-lettered.
sqlrw "ALTER TABLE documents ADD CONSTRAINT it_all CHECK (sha256 = '') NOT VALID" >/dev/null
log "constraint refusing every document added"
submit_chunk 6
wait_for 90 "a worker finds the refusal systemic" logged "and so does a minimal valid document"
sqlrw "ALTER TABLE documents DROP CONSTRAINT it_all" >/dev/null
log "constraint dropped"

# ---------------------------------------------------------------- phase 4: a statement hanging on a lock
psql "$SUPER_URL" -qAtX -c "BEGIN" -c "LOCK TABLE documents IN SHARE ROW EXCLUSIVE MODE" \
    -c "SELECT pg_sleep(8)" -c "COMMIT" >/dev/null 2>&1 &
LOCKER=$!
submit_chunk 3
wait_for 90 "a worker's statement times out on the lock" logged "55P03"
wait "$LOCKER" 2>/dev/null || true
LOCKER=
log "lock released"

# ---------------------------------------------------------------- phase 5: broker SIGKILL and restart
wait_for 180 "chunks 0-3 and 6 stored" at_least $((5 * (N / 7)))
bash "$SERVICES" kafka-stop "$MM_SERVICES_RUNDIR" kill >"$WORK/kafka-stop.log" 2>&1 ||
    { cat "$WORK/kafka-stop.log" >&2; fail "kafka-stop"; }
log "broker killed"
bash "$SERVICES" kafka-start "$MM_SERVICES_RUNDIR" >"$WORK/kafka-start.log" 2>&1 ||
    { cat "$WORK/kafka-start.log" >&2; fail "kafka-start"; }
source "$MM_SERVICES_RUNDIR/env"
log "broker restarted"
submit_chunk 4

# ---------------------------------------------------------------- phase 6: PostgreSQL crash
wait_for 180 "some of chunk 4 stored" at_least $((5 * (N / 7) + 5))
bash "$SERVICES" pg-stop "$MM_SERVICES_RUNDIR" immediate >"$WORK/pg-stop.log" 2>&1 ||
    { cat "$WORK/pg-stop.log" >&2; fail "pg-stop"; }
log "PostgreSQL crashed (immediate stop)"
submit_chunk 5
bash "$SERVICES" pg-start "$MM_SERVICES_RUNDIR" >"$WORK/pg-start.log" 2>&1 ||
    { cat "$WORK/pg-start.log" >&2; fail "pg-start"; }
source "$MM_SERVICES_RUNDIR/env"
log "PostgreSQL restarted"

# ---------------------------------------------------------------- the end state
wait_for 300 "all $NVALID valid documents stored" eq_sql "SELECT count(*) FROM documents" "$NVALID"
wait_for 120 "one dead_letters row per bad input" eq_sql "SELECT count(*) FROM dead_letters" "$NBAD"
wait_for 120 "offsets stored up to the end of the topic" pg_offsets_at_end
wait_for 120 "group lag 0" lag_is_zero
wait_for 60 "every worker ready" all_green

sql "SELECT sha256 FROM documents ORDER BY 1" | diff -q - "$WORK/expected.sha" >/dev/null ||
    fail "stored documents differ from the valid ones"
[[ "$(sql "SELECT count(*) FROM (SELECT document_id, ord FROM agenda_items GROUP BY 1, 2 HAVING count(*) > 1) x")" == 0 ]] ||
    fail "items written twice"
[[ "$(sql "SELECT municipality || '|' || coalesce(ce_time::text, '-') FROM documents WHERE sha256 = '$(sha256sum "$WORK/env/aarhus.txt" | cut -d' ' -f1)'")" == "Aarhus Kommune|-" ]] ||
    fail "Århus envelope not stored as Aarhus Kommune"
[[ "$(sql "SELECT ce_id || '|' || coalesce(ce_time::text, 'NULL') FROM documents WHERE sha256 = '$(sha256sum "$WORK/env/year0.txt" | cut -d' ' -f1)'")" == "ev-year0|NULL" ]] ||
    fail "year-0000 envelope not stored with ce_time NULL"

"$MM_BIN/mm-kafka-tool" dump "$KAFKA_BOOTSTRAP" "$DLQ" >"$WORK/dlq.jsonl" || fail "dump DLQ"
"$MM_BIN/mm-kafka-tool" dump "$KAFKA_BOOTSTRAP" "$RAW" >"$WORK/raw.jsonl" || fail "dump raw"
sql "SELECT source_partition || ' ' || source_offset || ' ' || sha256 || ' ' || byte_length || ' ' || code
            || ' ' || dlq_delivery || ' ' || payload_complete || ' ' || coalesce(length(payload), -1)
       FROM dead_letters WHERE source_topic = '$RAW' ORDER BY 1" >"$WORK/dead_letters.txt"
python3 - "$B" "$WORK/dlq.jsonl" "$WORK/raw.jsonl" "$WORK/dead_letters.txt" "$WORK/expected.sha" <<'PY' || fail "dead letters"
import hashlib, json, os, sys
bdir, dlq_path, raw_path, dl_path, valid_path = sys.argv[1:6]
dlq = [json.loads(l) for l in open(dlq_path)]
raw = [json.loads(l) for l in open(raw_path)]
rows = [l.split() for l in open(dl_path) if l.strip()]
valid = set(open(valid_path).read().split())
ok = True
want_code = {"crash.txt": "extract_crash", "huge-17mib.bin": "too_large",
             "broken.json": "envelope_invalid", "poison-1.txt": "db_rejected",
             "poison-2.txt": "db_rejected"}
for name in sorted(os.listdir(bdir)):
    data = open(os.path.join(bdir, name), "rb").read()
    sha = hashlib.sha256(data).hexdigest()
    src = [m for m in raw if m["value_sha256"] == sha]
    if len(src) != 1:
        print(f"{name}: {len(src)} raw messages"); ok = False; continue
    p, o = src[0]["partition"], src[0]["offset"]
    mine = [r for r in rows if (int(r[0]), int(r[1])) == (p, o)]
    if len(mine) != 1:
        print(f"{name}: {len(mine)} dead_letters rows"); ok = False; continue
    _, _, dsha, blen, code, delivery, complete, plen = mine[0]
    if dsha != sha or int(blen) != len(data):
        print(f"{name}: dead_letters sha/length wrong"); ok = False
    if name in want_code and code != want_code[name]:
        print(f"{name}: code {code}, expected {want_code[name]}"); ok = False
    big = len(data) > 1024 * 1024
    if big != (delivery == "headers_only"):
        print(f"{name}: {len(data)} bytes, DLQ delivery {delivery}"); ok = False
    kept = len(data) <= 16 * 1024 * 1024
    if (complete == "true") != kept or (kept and int(plen) != len(data)):
        print(f"{name}: payload kept={complete} length={plen}"); ok = False
    copies = [m for m in dlq if m["headers"].get("minutes.source.partition") == str(p)
              and m["headers"].get("minutes.source.offset") == str(o)]
    if not copies:
        print(f"{name}: no copy on the DLQ topic"); ok = False; continue
    full = [m for m in copies if m["value_sha256"] == sha]
    hdr = [m for m in copies if m["headers"].get("minutes.dlq.headers_only") == "true"
           and "dead_letters" in m["headers"].get("minutes.error.reason", "")]
    if not (full or (big and hdr)):
        print(f"{name}: DLQ copies carry neither the bytes nor a header-only note"); ok = False
    print(f"{name}: {len(data)} bytes -> {code}, {len(copies)} DLQ copies ({delivery})")
if len(rows) != len(os.listdir(bdir)):
    print(f"{len(rows)} dead_letters rows for {len(os.listdir(bdir))} bad inputs"); ok = False
leaked = [m for m in dlq if m["value_sha256"] in valid]
if leaked:
    print(f"{len(leaked)} valid documents on the DLQ"); ok = False
sys.exit(0 if ok else 1)
PY
crashes="$(cat "$WORK"/worker-*.log | grep -c 'test hook: crashing on a marked input' || true)"
[[ "$crashes" == 2 ]] || fail "the crash input crashed workers $crashes times, expected 2"
# the third worker tested the suspect in the sandbox, where it crashed again:
# the evidence for extract_crash (common/ingest/mm_attempts.h)
grep -q 'test hook: crashing the sandbox child' "$WORK"/worker-*.log ||
    fail "the crash input was dead-lettered without being tested in the sandbox"
[[ "$(sql "SELECT count(*) FROM dead_letters WHERE code = 'db_rejected'")" == 2 ]] ||
    fail "db_rejected: $(sql "SELECT count(*) FROM dead_letters WHERE code = 'db_rejected'"), expected the 2 poison documents"
for id in 1 2 3; do revive; done
for id in 1 2 3; do stop_worker "$id"; done
log "PASS fault_matrix"
