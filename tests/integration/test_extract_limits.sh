#!/usr/bin/env bash
# Extraction limits on the worker: a PDF page bomb (20,000 pages sharing one
# content stream, ~3 MB) and a 200,000-deep HTML document are dead-lettered
# with their true codes (extract_limit, html_too_deep), the worker process
# lives on, and a good document sent after them is stored.
#   1. default limits: the bomb is refused at once (extract-max-pages 2000);
#   2. page limit lifted, extract-cpu-seconds 3: the sandboxed child is
#      stopped by RLIMIT_CPU;
#   3. the test-hook worker (minutes-worker-testhooks) on an input that
#      makes the extraction child segfault: extract_crash, worker lives on;
#      and on a FirstAgenda export whose adapter run spins (the export
#      adapters run in the sandbox child, mm_isolate): extract_limit by the
#      CPU limit, worker lives on.
source "$(dirname "$0")/lib.sh"
it_init extract_limits

B="$WORK/bad"
mkdir -p "$B"
python3 - "$B" <<'PY'
import sys
d = sys.argv[1]
def pdf(pages, content):
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Count %d /Kids [" % pages +
            b"".join(b"%d 0 R " % (5 + i) for i in range(pages)) + b"] >>",
            b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    objs += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 3 0 R "
             b"/Resources << /Font << /F1 4 0 R >> >> >>"] * pages
    out, offs = bytearray(b"%PDF-1.4\n"), []
    for i, o in enumerate(objs):
        offs.append(len(out))
        out += b"%d 0 obj\n" % (i + 1) + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offs)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)
content = b"BT /F1 12 Tf 72 760 Td (Side) Tj ET\n" + b"0 0 m 9 9 l S\n" * 100000
open(f"{d}/bomb.pdf", "wb").write(pdf(20000, content))
open(f"{d}/deep.html", "w").write("<!DOCTYPE html><html><body>" + "<div>" * 200000 +
                                  "Punkt 1. Godkendelse af dagsorden")
PY
bomb_size=$(stat -c %s "$B/bomb.pdf")
log "page bomb: $bomb_size bytes"

# dlq_codes: the error codes on the DLQ, sorted, space-separated
dlq_codes() {
    "$MM_BIN/mm-kafka-tool" dump "$KAFKA_BOOTSTRAP" "$DLQ" |
        python3 -c 'import json,sys; print(" ".join(sorted(json.loads(l)["headers"]["minutes.error.code"] for l in sys.stdin)))'
}
docs() { sql "SELECT count(*) FROM documents"; }
seed="$(ls "$SEEDS"/*.txt | head -n 1)"

# 1. default limits
start_worker 1
submit --municipality "Testby Kommune" "$B/bomb.pdf" "$B/deep.html" >/dev/null || fail "submit"
wait_until 120 "2 messages on the DLQ" \
    bash -c "[[ \$('$MM_BIN/mm-kafka-tool' count '$KAFKA_BOOTSTRAP' '$DLQ') == 2 ]]"
[[ "$(dlq_codes)" == "extract_limit html_too_deep" ]] || fail "DLQ codes: $(dlq_codes)"
grep -q 'extract-max-pages' "$WORK/worker-1.log" || fail "the page limit is not named in the log"
submit "$seed" >/dev/null || fail "submit seed"
wait_until 60 "the seed stored after the bomb" eq_sql "SELECT count(*) FROM documents" 1
kill -0 "${WPID[1]}" || fail "worker 1 died"
stop_worker 1

# 2. no page limit: the CPU limit of the extraction child stops the bomb
start_worker 2 --extract-max-pages 1000000 --extract-cpu-seconds 3
submit --municipality "Testby Kommune" "$B/bomb.pdf" >/dev/null || fail "submit"
wait_until 120 "3 messages on the DLQ" \
    bash -c "[[ \$('$MM_BIN/mm-kafka-tool' count '$KAFKA_BOOTSTRAP' '$DLQ') == 3 ]]"
[[ "$(dlq_codes)" == "extract_limit extract_limit html_too_deep" ]] || fail "DLQ codes: $(dlq_codes)"
# the CPU limit (or, on a very busy machine, the wall-time limit derived from it)
grep -q 'extract-cpu-seconds' "$WORK/worker-2.log" || fail "the CPU limit is not named in the log"
submit "$(ls "$SEEDS"/*.txt | sed -n 2p)" >/dev/null || fail "submit seed 2"
wait_until 60 "the second seed stored after the bomb" eq_sql "SELECT count(*) FROM documents" 2
kill -0 "${WPID[2]}" || fail "worker 2 died"
wait_until 60 "offsets stored up to the end of the topic" pg_offsets_at_end
# no extraction child is left behind
[[ -z "$(pgrep -P "${WPID[2]}" || true)" ]] || fail "worker 2 has child processes left"
stop_worker 2

# 3. a crashing extractor (the test-hook build of the worker): the input is
#    dead-lettered as extract_crash and the worker goes on
printf '<html><body><p>Punkt 1. MM_EXTRACT_TEST_CRASH</p></body></html>\n' >"$B/crash.html"
start_worker_hooks() {
    "$MM_BIN/minutes-worker-testhooks" -b "$KAFKA_BOOTSTRAP" -g "$GROUP" -t "$RAW" --dlq-topic "$DLQ" \
        --pg "$WORKER_URL" --batch-ms 100 -X session.timeout.ms=6000 -X heartbeat.interval.ms=500 \
        --extract-cpu-seconds 3 2>>"$WORK/worker-3.log" &
    WPID[3]=$!
}
start_worker_hooks
submit --municipality "Testby Kommune" "$B/crash.html" >/dev/null || fail "submit crash"
wait_until 120 "4 messages on the DLQ" \
    bash -c "[[ \$('$MM_BIN/mm-kafka-tool' count '$KAFKA_BOOTSTRAP' '$DLQ') == 4 ]]"
[[ "$(dlq_codes)" == "extract_crash extract_limit extract_limit html_too_deep" ]] || fail "DLQ codes: $(dlq_codes)"
submit "$(ls "$SEEDS"/*.txt | sed -n 3p)" >/dev/null || fail "submit seed 3"
wait_until 60 "the third seed stored after the crash" eq_sql "SELECT count(*) FROM documents" 3
kill -0 "${WPID[3]}" || fail "worker 3 died"
# an export whose adapter burns CPU: before mm_isolate it ran in the worker
fa="$(ls "$MM_SOURCE_DIR"/tests/fixtures/firstagenda/*.json | head -n 1)"
sed '0,/"SagsNummer": "/s//"SagsNummer": "MM_EXTRACT_TEST_SPIN /' "$fa" >"$B/spin.json"
grep -q MM_EXTRACT_TEST_SPIN "$B/spin.json" || fail "no marker in the export"
submit "$B/spin.json" >/dev/null || fail "submit spinning export"
wait_until 120 "5 messages on the DLQ" \
    bash -c "[[ \$('$MM_BIN/mm-kafka-tool' count '$KAFKA_BOOTSTRAP' '$DLQ') == 5 ]]"
[[ "$(dlq_codes)" == "extract_crash extract_limit extract_limit extract_limit html_too_deep" ]] ||
    fail "DLQ codes: $(dlq_codes)"
kill -0 "${WPID[3]}" || fail "worker 3 died"
[[ -z "$(pgrep -P "${WPID[3]}" || true)" ]] || fail "worker 3 has child processes left"
stop_worker 3
log "PASS extract_limits"
