#!/usr/bin/env bash
# d) 2,000 distinct documents through two workers; the second joins
#    mid-stream (the first hands partitions over: a cooperative revoke that
#    leaves their messages in its batch to the new owner), one worker is
#    SIGKILLed mid-stream and restarted, PostgreSQL is restarted
#    mid-stream. Afterwards
#    every document is in the database exactly once, nothing was
#    dead-lettered, the offsets in PostgreSQL cover the whole topic and the
#    group's lag reaches 0.
source "$(dirname "$0")/lib.sh"
it_init faults
N="${MM_IT_FAULT_DOCS:-2000}"

python3 "$IT_DIR/gen_variants.py" "$SEEDS" "$WORK/docs" "$N" >"$WORK/dirs.tsv"
find "$WORK/docs" -type f -exec sha256sum {} + | awk '{print $1}' | sort >"$WORK/expected.sha"
[[ "$(sort -u "$WORK/expected.sha" | wc -l)" == "$N" ]] || fail "generated documents are not distinct"

WOPTS=(--batch-size 50 --retry-max-ms 1000)
start_worker 1 "${WOPTS[@]}"
# keyed by municipality, spread over all partitions (random partitioner)
while IFS=$'\t' read -r slug muni count; do
    submit --municipality "$muni" -X partitioner=random "$WORK/docs/$slug" >/dev/null ||
        fail "submit $slug"
    log "submitted $count documents of $muni"
done <"$WORK/dirs.tsv"
TOTAL="$("$MM_BIN/mm-kafka-tool" count "$KAFKA_BOOTSTRAP" "$RAW")"
[[ "$TOTAL" == "$N" ]] || fail "topic holds $TOTAL messages, expected $N"

docs() { sql "SELECT count(*) FROM documents"; }
at_least() { [[ "$(docs 2>/dev/null || echo 0)" -ge "$1" ]]; }

wait_until 240 "$((N / 10)) documents stored" at_least $((N / 10))
log "$(docs) documents stored: worker 2 joins"
start_worker 2 "${WOPTS[@]}"
moved() { grep -q 'moved to another member' "$WORK/worker-1.log"; }
wait_until 60 "worker 1 handed partitions over to worker 2" moved

wait_until 240 "$((N / 5)) documents stored" at_least $((N / 5))
log "$(docs) documents stored: SIGKILL worker 1"
kill_worker 1
start_worker 1 "${WOPTS[@]}"

wait_until 240 "$((N / 2)) documents stored" at_least $((N / 2))
log "$(docs) documents stored: restarting PostgreSQL"
bash "$SERVICES" pg-restart "$MM_SERVICES_RUNDIR" >"$WORK/pg-restart.log" 2>&1 ||
    { cat "$WORK/pg-restart.log" >&2; fail "pg-restart"; }
log "PostgreSQL restarted"

wait_until 300 "all $N documents stored" eq_sql "SELECT count(*) FROM documents" "$N"
wait_until 60 "offsets stored up to the end of the topic" pg_offsets_at_end
wait_until 60 "group lag 0" lag_is_zero

sql "SELECT sha256 FROM documents ORDER BY 1" >"$WORK/stored.sha"
sort "$WORK/stored.sha" | diff -q - "$WORK/expected.sha" >/dev/null ||
    fail "stored documents differ from the submitted ones"
[[ "$(sql "SELECT count(*) FROM meetings")" == "$N" ]] ||
    fail "$(sql "SELECT count(*) FROM meetings") meetings, expected $N distinct meetings"
[[ "$(sql "SELECT count(*) FROM documents WHERE superseded_by IS NOT NULL")" == 0 ]] ||
    fail "documents superseded"
# every item belongs to exactly one stored document: no double writes
[[ "$(sql "SELECT count(*) FROM (SELECT document_id, ord FROM agenda_items GROUP BY 1, 2 HAVING count(*) > 1) x")" == 0 ]] ||
    fail "items written twice"
dlq="$("$MM_BIN/mm-kafka-tool" count "$KAFKA_BOOTSTRAP" "$DLQ")"
[[ "$dlq" == 0 ]] || fail "$dlq messages dead-lettered"
grep -q 'paused all partitions' "$WORK"/worker-*.log ||
    log "note: no worker had to pause (PostgreSQL came back between batches)"
stop_worker 1
stop_worker 2
log "PASS faults_2000"
