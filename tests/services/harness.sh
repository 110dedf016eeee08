# Test harness shared by the scripts that start their own services
# (tests/services/smoke.sh, tests/ops/lag-it.sh, tests/ops/metrics-it.sh).
# Source it, then call:
#   harness_init NAME [RUNDIR]   # RUNDIR given: kept afterwards; else a temp dir
#   ok "what" / bad "what"       # count a check
#   finish                       # prints "NAME: N passed, M failed", exits 0 iff M == 0
# On exit the services in RUNDIR are stopped; a script may define
# harness_before_stop (e.g. to stop a worker) and it is called first.
HARNESS_SERVICES="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/services.sh"
PASS=0
FAIL=0

harness_init() {
    HARNESS_NAME="$1"
    if [[ $# -ge 2 && -n "$2" ]]; then
        RUNDIR="$2"
        HARNESS_KEEP=1
    else
        RUNDIR="$(mktemp -d "/tmp/mm-$HARNESS_NAME.XXXXXX")"
        HARNESS_KEEP=0
    fi
    trap harness_cleanup EXIT
    trap 'exit 130' INT TERM
}

harness_cleanup() {
    if declare -F harness_before_stop >/dev/null; then
        harness_before_stop
    fi
    "$HARNESS_SERVICES" stop "$RUNDIR" || echo "$HARNESS_NAME: services stop reported an error" >&2
    if [[ $HARNESS_KEEP == 0 ]]; then rm -rf "$RUNDIR"; fi
}

ok() { PASS=$((PASS + 1)); echo "ok   - $1"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL - $1"; }

finish() {
    echo "$HARNESS_NAME: $PASS passed, $FAIL failed"
    [[ $FAIL -eq 0 ]]
    exit $?
}
