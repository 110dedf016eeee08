#!/usr/bin/env bash
# Issue 11: a dead-letter topic that refuses every copy (here: it does not
# exist, and the broker does not create topics) must not leave the worker
# spinning with paused partitions. The full copy is refused for good
# (unknown topic), so the worker sends a header-only copy; when that is
# refused too, it stops with a clear fatal log and a non-zero exit. Nothing
# is lost: the bad input's offset is not committed, and /readyz was red.
source "$(dirname "$0")/lib.sh"
it_init dlq_fatal

printf 'The chess club met. Nothing was decided.\n' >"$WORK/english.txt"
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
DLQ="$DLQ.missing"  # never created
start_worker 1 --metrics-port "$PORT" -X topic.metadata.propagation.max.ms=2000 --dlq-timeout-ms 5000
submit --municipality "Testby Kommune" "$WORK/english.txt" >/dev/null || fail "submit"

readyz() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/readyz" 2>/dev/null; }
red=0
end=$((SECONDS + 120))
while kill -0 "${WPID[1]}" 2>/dev/null; do
    [[ $SECONDS -lt $end ]] || fail "worker still running 120 s after the dead letter was refused"
    [[ "$(readyz)" == 503 ]] && red=1
    sleep 0.2
done
rc=0
wait "${WPID[1]}" || rc=$?
unset "WPID[1]"
[[ $rc -ne 0 ]] || fail "worker exited 0 although dead letters cannot be delivered"
grep -q 'sending a header-only copy' "$WORK/worker-1.log" || fail "no header-only attempt logged"
grep -q 'FATAL: dead-letter topic' "$WORK/worker-1.log" || fail "no clear fatal log"
[[ $red == 1 ]] || fail "/readyz never went red while dead letters could not be delivered"
[[ "$(sql "SELECT coalesce(sum(next_offset), 0) FROM consumer_offsets")" == 0 ]] ||
    fail "the bad input's offset was committed although its dead letter was not delivered"
[[ "$(sql "SELECT count(*) FROM dead_letters")" == 0 ]] || fail "dead letter recorded without delivery"
log "PASS dlq_fatal (exit $rc)"
