#!/usr/bin/env bash
# Graceful stop and outages:
#  - PostgreSQL down: the worker pauses, keeps the batch, and on SIGTERM
#    still exits 0 within --shutdown-timeout-ms; nothing is lost: a new
#    worker stores every document once PostgreSQL is back;
#  - a second signal exits at once (non-zero);
#  - the broker down and up again: the worker does not exit and goes on.
source "$(dirname "$0")/lib.sh"
it_init shutdown

# all 4 partitions assigned (offsets read from PostgreSQL) before the outage
assigned() { [[ "$(grep -c 'assigned; starting' "$WORK/worker-$1.log")" -ge 4 ]]; }

start_worker 1 --shutdown-timeout-ms 3000 --retry-max-ms 500
wait_until 60 "worker 1 assigned" assigned 1
bash "$SERVICES" pg-stop "$MM_SERVICES_RUNDIR" fast >"$WORK/pg.log" 2>&1 || fail "pg-stop"
submit --municipality "Egedal Kommune" "$SEEDS" >/dev/null || fail "submit"
wait_until 60 "the worker pauses (PostgreSQL down)" grep -q 'paused all partitions' "$WORK/worker-1.log"
t0=$SECONDS
stop_worker 1 # asserts exit status 0
(( SECONDS - t0 <= 6 )) || fail "SIGTERM took $((SECONDS - t0)) s with a 3 s deadline"
grep -q 'not written before the deadline' "$WORK/worker-1.log" || fail "no deadline message"
bash "$SERVICES" pg-start "$MM_SERVICES_RUNDIR" >>"$WORK/pg.log" 2>&1 || fail "pg-start"
source "$MM_SERVICES_RUNDIR/env"

start_worker 2
wait_until 60 "$NSEEDS documents stored after the outage" eq_sql "SELECT count(*) FROM documents" "$NSEEDS"
wait_until 60 "offsets at the end" pg_offsets_at_end
stop_worker 2

# second signal: exit at once, non-zero
start_worker 3 --shutdown-timeout-ms 60000
wait_until 60 "worker 3 assigned" assigned 3
bash "$SERVICES" pg-stop "$MM_SERVICES_RUNDIR" fast >>"$WORK/pg.log" 2>&1 || fail "pg-stop"
submit --municipality "Tønder Kommune" "$SEEDS/004_toender_punkt.txt" "$IT_DIR/test_seeds.sh" >/dev/null || fail "submit"
wait_until 60 "worker 3 pauses" grep -q 'paused all partitions' "$WORK/worker-3.log"
kill -TERM "${WPID[3]}"
wait_until 10 "worker 3 begins to stop" grep -q 'stop requested' "$WORK/worker-3.log"
kill -TERM "${WPID[3]}"
rc=0
wait "${WPID[3]}" || rc=$?
unset "WPID[3]"
[[ $rc -ne 0 ]] || fail "a second SIGTERM did not exit non-zero"
log "second SIGTERM: exit status $rc"
bash "$SERVICES" pg-start "$MM_SERVICES_RUNDIR" >>"$WORK/pg.log" 2>&1 || fail "pg-start"
source "$MM_SERVICES_RUNDIR/env"

# broker outage: the worker survives and continues
start_worker 4
wait_until 60 "worker 4 catches up" pg_offsets_at_end
bash "$SERVICES" kafka-stop "$MM_SERVICES_RUNDIR" term >"$WORK/kafka.log" 2>&1 || fail "kafka-stop"
wait_until 30 "worker 4 notices the broker is gone" \
    grep -q -e 'Connection refused' -e 'Disconnected' -e 'brokers are down' "$WORK/worker-4.log"
kill -0 "${WPID[4]}" || fail "the worker exited while the broker was down"
bash "$SERVICES" kafka-start "$MM_SERVICES_RUNDIR" >>"$WORK/kafka.log" 2>&1 || fail "kafka-start"
source "$MM_SERVICES_RUNDIR/env"
kill -0 "${WPID[4]}" || fail "the worker exited during the broker outage"
python3 "$IT_DIR/make_agenda.py" "$SEEDS/002_odsherred_web.txt" "$WORK/agenda-002.txt"
submit --municipality "Odsherred Kommune" "$WORK/agenda-002.txt" >/dev/null || fail "submit after broker restart"
wait_until 90 "document stored after the broker restart" pg_offsets_at_end
wait_until 60 "group lag 0" lag_is_zero
[[ "$(sql "SELECT count(*) FROM documents")" == $((NSEEDS + 1)) ]] || fail "expected $((NSEEDS + 1)) documents ($NSEEDS meetings + 1 agenda), got $(sql "SELECT count(*) FROM documents")"
stop_worker 4
log "PASS shutdown_and_outages"
