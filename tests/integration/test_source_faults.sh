#!/usr/bin/env bash
# minutes-source while one of 3 kommuner misbehaves (issue 18, test 4):
# 500s, 429 with Retry-After, answers slower than the timeout, a truncated
# listing, a 302 to a login page until the session handshake is redone, a
# 50 MB body, a host that refuses connections; and a publication that is not
# JSON (produced after --max-attempts, dead-lettered as export_invalid).
# Each case ends with every publication of the healthy hosts stored,
# nothing stored twice, and the failing host reported (exit 1 naming it),
# then retried: once the fault is gone, the next cycle catches up.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/source_lib.sh"
it_init source_faults

fa_start alpha:21:3 beta:22:3 gamma:23:3
SLUGS=(alpha beta gamma)
declare -A NAME=([alpha]="Hvidovre Kommune" [beta]="Albertslund Kommune" [gamma]="Ballerup Kommune")
KOM=(--kommune Hvidovre --base-url "Hvidovre=$FA/k/alpha" --kommune Albertslund
     --base-url "Albertslund=$FA/k/beta" --kommune Ballerup --base-url "Ballerup=$FA/k/gamma")
start_worker 1
RUN=0

# all_ids FILE: every listed Id of the three kommuner.
all_ids() { for s in "${SLUGS[@]}"; do fa_entries "$s"; done >"$1"; }

# healthy_stored BAD: every publication of the kommuner but BAD is stored once.
healthy_stored() {
    local s
    for s in "${SLUGS[@]}"; do [[ "$s" == "$1" ]] || fa_entries "$s"; done >"$WORK/healthy"
    wait_until 60 "healthy hosts stored" ids_stored_once "$WORK/healthy"
}

# new_minutes: every kommune publishes the minutes of one agenda-only meeting.
new_minutes() {
    local s m
    for s in "${SLUGS[@]}"; do
        m="$(fa_meeting "$s" Dagsorden)"
        [[ -n "$m" ]] || m="$(fa_meeting "$s" Dagsorden,Tillægsdagsorden)"
        [[ -n "$m" ]] && fa_publish "$s" referat "$m" >/dev/null
        # and a new Tillægsdagsorden somewhere, so there is always news
        fa_publish "$s" tillaeg 0 >/dev/null
    done
}

# fault_case NAME BAD EXPECT_RC [source options...]: one cycle with the fault
# set on BAD; checks the healthy hosts, the exit status and the report;
# then clears the fault and checks that the next cycle catches up.
fault_case() {
    local name="$1" bad="$2" want="$3" rc=0; shift 3
    RUN=$((RUN + 1))
    source_run "$RUN" --once "${KOM[@]}" "$@" || rc=$?
    [[ $rc == "$want" ]] || fail "$name: exit $rc, want $want ($(grep -v '"debug"' "$WORK/source-$RUN.log" | tail -3))"
    healthy_stored "$bad"
    if [[ $want == 1 ]]; then
        grep -q "minutes-source: ${NAME[$bad]} (.*) failed" "$WORK/source-$RUN.log" ||
            fail "$name: ${NAME[$bad]} not reported as failed"
        for s in "${SLUGS[@]}"; do
            [[ "$s" == "$bad" ]] && continue
            ! grep -q "minutes-source: ${NAME[$s]} (.*) failed" "$WORK/source-$RUN.log" ||
                fail "$name: healthy ${NAME[$s]} reported as failed"
        done
        [[ "$(sql "SELECT failures > 0 AND last_error IS NOT NULL FROM source_hosts
                   WHERE kommune = '${NAME[$bad]}'")" == t ]] || fail "$name: the failure is not in the state"
        [[ -z "${AFTER_FAIL:-}" ]] || eval "$AFTER_FAIL" || fail "$name: $AFTER_FAIL"
    fi
    fa_ctl "$bad/fault?mode=clear"
    RUN=$((RUN + 1))
    source_run "$RUN" --once "${KOM[@]}" || fail "$name: the cycle after the fault: exit $?"
    all_ids "$WORK/all"
    wait_until 60 "every publication stored" ids_stored_once "$WORK/all"
    no_duplicates || fail "$name: a publication is stored twice"
    [[ "$(sql "SELECT count(*) FROM source_hosts WHERE failures > 0")" == 0 ]] ||
        fail "$name: a host still counts failures"
    log "$name: healthy hosts stored, ${NAME[$bad]} reported ($want) and caught up"
}

RUN=$((RUN + 1))
source_run "$RUN" --once "${KOM[@]}" || fail "first poll: exit $?"
all_ids "$WORK/all"
wait_until 60 "first poll stored" ids_stored_once "$WORK/all"

# 500s: a few are retried within the cycle; many fail the host
new_minutes; fa_ctl "alpha/fault?mode=500&count=2"
fault_case "500 twice (retried)" alpha 0
new_minutes; fa_ctl "alpha/fault?mode=500"
fault_case "500 always" alpha 1

# 429 with Retry-After: waited for; a Retry-After beyond --max-retry-after-ms ends the poll
new_minutes; fa_ctl "beta/fault?mode=429&count=2&retry_after=1"
t0=$SECONDS
fault_case "429 Retry-After 1 s, twice" beta 0
(( SECONDS - t0 >= 2 )) || fail "429: Retry-After was not honoured"
new_minutes; fa_ctl "beta/fault?mode=429&retry_after=60"
fault_case "429 Retry-After 60 s" beta 1

# slower than --timeout-ms (2 s)
new_minutes; fa_ctl "gamma/fault?mode=slow&seconds=3"
fault_case "slow answers" gamma 1

# a truncated listing changes no state
new_minutes
entries_of_alpha() {
    sql "SELECT count(*) || ' ' || coalesce(max(last_seen_at)::text, '') FROM source_entries e
         JOIN source_hosts h USING (host) WHERE h.kommune = '${NAME[alpha]}'"
}
before="$(entries_of_alpha)"
fa_ctl "alpha/fault?mode=truncated"
AFTER_FAIL='[[ "$(entries_of_alpha)" == "$before" ]]'
fault_case "truncated listing" alpha 1
AFTER_FAIL=""
grep -q "listing is not JSON" "$WORK/source-$((RUN - 1)).log" || fail "truncated listing: no clear error"

# sessions that expire: the API redirects to a login page until GET / is redone
new_minutes; fa_reset_stats alpha; fa_ctl "alpha/fault?mode=relogin&every=2"
fault_case "302 to a login page" alpha 0
(( $(fa_stat alpha handshake) >= 3 )) || fail "relogin: only $(fa_stat alpha handshake) handshakes"

# a 50 MB listing (no Content-Length) is cut off at --max-body-bytes
new_minutes; fa_ctl "beta/fault?mode=huge"
fault_case "50 MB body" beta 1
grep -q "too_large\|exceeded\|Failure writing" "$WORK/source-$((RUN - 1)).log" || fail "50 MB: no clear error"

# a host that refuses connections
new_minutes
RUN=$((RUN + 1)); rc=0
source_run "$RUN" --once "${KOM[@]}" --base-url "Ballerup=http://127.0.0.1:$(closed_port)/k/gamma" || rc=$?
[[ $rc == 1 ]] || fail "refused: exit $rc"
grep -q "minutes-source: Ballerup Kommune (.*) failed" "$WORK/source-$RUN.log" || fail "refused: not reported"
healthy_stored gamma
fault_case "refused connections (then back)" gamma 0
log "refused connections: healthy hosts stored, Ballerup reported and caught up"

# a publication that is not JSON: not produced until --max-attempts, then dead-lettered
m="$(fa_meeting gamma Dagsorden)"; [[ -n "$m" ]] || m=0
bad_id="$(fa_publish gamma tillaeg "$m")"
fa_ctl "gamma/fault?mode=badjson&id=$bad_id"
n0="$(raw_count)"
RUN=$((RUN + 1)); rc=0
source_run "$RUN" --once "${KOM[@]}" --max-attempts 2 || rc=$?
[[ $rc == 1 && "$(raw_count)" == "$n0" ]] || fail "not JSON, attempt 1: exit $rc, $(( $(raw_count) - n0 )) messages"
RUN=$((RUN + 1))
source_run "$RUN" --once "${KOM[@]}" --max-attempts 2 || fail "not JSON, attempt 2: exit $?"
[[ "$(raw_count)" == $((n0 + 1)) ]] || fail "not JSON: not produced after --max-attempts"
wait_until 60 "dead letter export_invalid" eq_sql \
    "SELECT count(*) FROM dead_letters WHERE code = 'export_invalid'" 1
log "not JSON: produced after 2 attempts, dead-lettered as export_invalid"

no_duplicates || fail "a publication is stored twice"
wait_until 60 "group lag 0" lag_is_zero
stop_worker 1
log "PASS source_faults"
