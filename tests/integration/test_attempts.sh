#!/usr/bin/env bash
# Attempt counting charges an input only with evidence (common/ingest/mm_attempts.h):
#  1. a worker SIGTERMed three times while a slow but valid document is in
#     flight (its extraction child sleeps 3 s: MM_EXTRACT_TEST_SLOW) never
#     counts against it: after each stop its attempt is withdrawn, and the
#     fourth worker stores it (before: dead-lettered as extract_crash);
#  2. a worker SIGKILLed max-crashes (2) times with a slow valid document in
#     flight (as a whole-container OOM kill would) makes it a suspect: the
#     third worker tests it in the sandbox, where it passes, and stores it
#     (before: dead-lettered as extract_crash, with no evidence).
# (The crashing input, which the sandbox does convict, is test_fault_matrix.)
source "$(dirname "$0")/lib.sh"
it_init attempts
export MM_WORKER_BIN="$MM_BIN/minutes-worker-testhooks"

B="$WORK/in"
mkdir -p "$B"
# a valid document as HTML (<pre> keeps the lines) with the slow marker
slow_html() {
    python3 - "$1" "$2" <<'PY'
import html, sys
text = open(sys.argv[1], encoding="utf-8", errors="replace").read()
open(sys.argv[2], "w", encoding="utf-8").write(
    "<!DOCTYPE html><html><body><pre>" + html.escape(text) +
    "</pre><p>MM_EXTRACT_TEST_SLOW</p></body></html>\n")
PY
}
seeds=("$SEEDS"/*.txt)
slow_html "${seeds[0]}" "$B/slow-1.html"
slow_html "${seeds[1]}" "$B/slow-2.html"

dlq_count() { "$MM_BIN/mm-kafka-tool" count "$KAFKA_BOOTSTRAP" "$DLQ"; }
# in_flight T0: a worker counted an attempt after PostgreSQL time T0
in_flight() { [[ "$(sql "SELECT count(*) FROM input_attempts WHERE attempts >= 1 AND updated_at > '$1'")" -ge 1 ]]; }
attempts_now() { sql "SELECT coalesce(max(attempts), 0) FROM input_attempts"; }

# 1. graceful stops
submit --municipality "Testby Kommune" "$B/slow-1.html" >/dev/null || fail "submit slow-1"
for i in 1 2 3; do
    t0="$(sql "SELECT now()")"
    start_worker "$i"
    wait_until 60 "worker $i has the slow document in flight" in_flight "$t0"
    stop_worker "$i"
    [[ "$(attempts_now)" == 0 ]] ||
        fail "after a graceful stop the slow document keeps $(attempts_now) attempt(s)"
    [[ "$(sql "SELECT count(*) FROM documents")" == 0 ]] || fail "stored before the stop (too fast)"
done
start_worker 4
wait_until 90 "the slow document stored after three graceful stops" \
    eq_sql "SELECT count(*) FROM documents" 1
[[ "$(dlq_count)" == 0 ]] || fail "dead-lettered after graceful stops: $(dlq_count)"
wait_until 60 "offsets at the end" pg_offsets_at_end
stop_worker 4

# 2. kills from outside (no evidence against the document)
submit --municipality "Testby Kommune" "$B/slow-2.html" >/dev/null || fail "submit slow-2"
for i in 5 6; do
    t0="$(sql "SELECT now()")"
    start_worker "$i"
    wait_until 60 "worker $i has the slow document in flight" in_flight "$t0"
    kill_worker "$i"
done
[[ "$(attempts_now)" == 2 ]] || fail "two kills left $(attempts_now) attempt(s), expected 2"
start_worker 7
wait_until 90 "the slow document stored after two kills" \
    eq_sql "SELECT count(*) FROM documents" 2
grep -q 'testing it in the sandbox' "$WORK/worker-7.log" || fail "the suspect was not tested in the sandbox"
[[ "$(dlq_count)" == 0 ]] || fail "dead-lettered after kills from outside: $(dlq_count)"
wait_until 60 "offsets at the end" pg_offsets_at_end
[[ "$(attempts_now)" == 0 ]] || fail "the stored document keeps $(attempts_now) attempt(s)"
stop_worker 7
log "PASS attempts"
