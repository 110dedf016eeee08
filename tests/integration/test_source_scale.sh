#!/usr/bin/env bash
# minutes-source: crash safety and many pollers (issue 18, tests 5 and 6).
#  5. SIGKILL of minutes-source in the middle of a cycle, then a restart:
#     nothing missing; the state never claims a publication Kafka does not
#     have (it advances only after the delivery report).
#  6. two pollers at once (polling for ever, as a Deployment's replicas do):
#     each host is polled by one of them (one listing request per host),
#     every publication stored once; when one dies, the other takes its
#     kommuner in the next cycle.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/source_lib.sh"
it_init source_scale

fa_start alpha:31:40 beta:32:40 gamma:33:6 delta:34:6 epsilon:35:6 zeta:36:6
start_worker 1

# --- 5. SIGKILL mid-cycle ------------------------------------------------------
KOM=(--kommune Hvidovre --base-url "Hvidovre=$FA/k/alpha" --kommune Albertslund
     --base-url "Albertslund=$FA/k/beta")
{ fa_entries alpha; fa_entries beta; } >"$WORK/ids-5"
n5="$(wc -l <"$WORK/ids-5")"
# slow enough to be killed in the middle: 25 ms between two requests to a host
source_start crash --interval 3600 --request-interval-ms 25 "${KOM[@]}"
a_third_produced() { (( $(raw_count) >= n5 / 3 )); }
wait_until 60 "a third of the publications produced" a_third_produced
kill -KILL "${SPID[crash]}"
wait "${SPID[crash]}" 2>/dev/null || true
unset "WPID[src-crash]"
produced="$(raw_count)"
claimed="$(sql "SELECT count(*) FROM source_entries WHERE body_sha256 IS NOT NULL")"
log "killed after $produced of $n5 messages; the state claims $claimed"
(( produced < n5 )) || fail "the kill came too late: $produced of $n5 produced"
(( claimed <= produced )) || fail "the state claims $claimed publications, Kafka has $produced"
source_run restart --once "${KOM[@]}" || fail "restart: exit $?"
wait_until 120 "every publication stored" ids_stored_once "$WORK/ids-5"
no_duplicates || fail "a publication is stored twice"
[[ "$(sql "SELECT count(*) FROM source_entries WHERE body_sha256 IS NOT NULL")" == "$n5" ]] ||
    fail "state after the restart: $(sql "SELECT count(*) FROM source_entries WHERE body_sha256 IS NOT NULL") of $n5"
log "5. SIGKILL mid-cycle and a restart: nothing missing ($(raw_count) messages for $n5 publications)"

# --- 6. two pollers at once ----------------------------------------------------
KOM6=(--kommune Ballerup --base-url "Ballerup=$FA/k/gamma" --kommune Brøndby
      --base-url "Brøndby=$FA/k/delta" --kommune Dragør --base-url "Dragør=$FA/k/epsilon"
      --kommune Egedal --base-url "Egedal=$FA/k/zeta")
S6=(gamma delta epsilon zeta)
for s in "${S6[@]}"; do fa_entries "$s"; done >"$WORK/ids-6"
fa_reset_stats "${S6[@]}"
# 100 ms between requests: a host takes about a second, so the two overlap;
# every 30 s a host is due again
source_start p1 --interval 30 --threads 2 --request-interval-ms 100 "${KOM6[@]}"
MPORT="$(closed_port)"
source_start p2 --interval 30 --threads 2 --request-interval-ms 100 "${KOM6[@]}" \
    --metrics-port "$MPORT" --metrics-bind 127.0.0.1
IN6="kommune IN ('Ballerup Kommune', 'Brøndby Kommune', 'Dragør Kommune', 'Egedal Kommune')"
hosts6_polled() { [[ "$(sql "SELECT count(*) FROM source_hosts WHERE $IN6 AND last_success_at IS NOT NULL")" == 4 ]]; }
wait_until 25 "every host polled" hosts6_polled
sleep 2   # a late second poll of a host by the other poller would show now
for s in "${S6[@]}"; do
    [[ "$(fa_stat "$s" listing)" == 1 ]] || fail "$s: $(fa_stat "$s" listing) listing requests from two pollers, want 1"
done
pollers="$(sql "SELECT count(DISTINCT polled_by) FROM source_hosts WHERE $IN6")"
log "6. two pollers: each host polled once (by $pollers distinct pollers)"
# the survivor-to-be serves /healthz and per-kommune /metrics
[[ "$(curl -sf "http://127.0.0.1:$MPORT/healthz")" == ok ]] || fail "/healthz"
curl -sf "http://127.0.0.1:$MPORT/metrics" >"$WORK/metrics.txt" || fail "/metrics"
mine="$(sql "SELECT kommune FROM source_hosts WHERE polled_by LIKE '%:${SPID[p2]}' ORDER BY kommune LIMIT 1")"
[[ -n "$mine" ]] || fail "poller 2 polled no kommune"
for want in "mm_source_last_success_timestamp_seconds{kommune=\"$mine\"}" \
            "mm_source_requests_total{kommune=\"$mine\",status=\"200\"}" \
            "mm_source_publications_total{kommune=\"$mine\"}" \
            'mm_source_consecutive_failures{kommune="Brøndby Kommune"} 0'; do
    grep -qF "$want" "$WORK/metrics.txt" || fail "/metrics lacks $want"
done
! command -v promtool >/dev/null || promtool check metrics <"$WORK/metrics.txt" >"$WORK/promtool.txt" 2>&1 ||
    { cat "$WORK/promtool.txt" >&2; fail "promtool check metrics"; }
wait_until 120 "the pollers' publications stored" ids_stored_once "$WORK/ids-6"
no_duplicates || fail "a publication is stored twice"

# one poller dies; the other takes every kommune in the next cycle
kill -KILL "${SPID[p1]}"; wait "${SPID[p1]}" 2>/dev/null || true; unset "WPID[src-p1]"
killed_at="$(sql "SELECT now()")"
wait_until 90 "the survivor polled every host" eq_sql \
    "SELECT count(*) FROM source_hosts WHERE polled_by LIKE '%:${SPID[p2]}' AND last_poll_at > '$killed_at'" 4
kill -TERM "${SPID[p2]}"; wait "${SPID[p2]}" || fail "poller 2 did not stop cleanly on SIGTERM"
unset "WPID[src-p2]"
log "6b. a poller killed: the other polled its kommuner in the next cycle"

wait_until 60 "group lag 0" lag_is_zero
stop_worker 1
log "PASS source_scale"
