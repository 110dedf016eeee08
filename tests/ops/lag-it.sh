#!/usr/bin/env bash
# Integration test of minutes-lag against a real Kafka broker
# (tests/services/services.sh). ctest: lag_integration, label integration.
#
#   tests/ops/lag-it.sh MINUTES_LAG LAG_IT_HELPER [RUNDIR]
#
# Produces 10 messages to each of 3 partitions, commits group offsets
# partway with lag_it_helper, and checks minutes-lag's per-partition numbers,
# --max-lag exit codes, the window statuses, and the committed partitions
# against Kafka's own kafka-consumer-groups (tests/services/kafka-groups.sh).
# Prints "lag-it: N passed, M failed"; exit 0 only if M == 0.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SERVICES="$HERE/../services/services.sh"

if [[ $# -lt 2 ]]; then
    sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
fi
LAG="$1"
HELPER="$2"
# shellcheck source=tests/services/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/../services/harness.sh"
harness_init lag-it "${3:-}"

# expect_rc NAME WANT CMD...: pass if CMD exits with status WANT
expect_rc() {
    local name="$1" want="$2" rc
    shift 2
    "$@" >"$RUNDIR/out" 2>"$RUNDIR/err"
    rc=$?
    if [[ $rc == "$want" ]]; then
        ok "$name"
    else
        bad "$name (exit $rc, wanted $want)"
        sed 's/^/    /' "$RUNDIR/out" "$RUNDIR/err" >&2
    fi
}

# check_json NAME EXPR: run minutes-lag --json (options in LAGARGS) and
# evaluate the python expression EXPR over the parsed document `d` and the
# per-partition dict `p` (partition id -> object).
check_json() {
    local name="$1" expr="$2"
    if ! "$LAG" "${LAGARGS[@]}" --json >"$RUNDIR/json" 2>"$RUNDIR/err"; then
        bad "$name (minutes-lag failed)"
        sed 's/^/    /' "$RUNDIR/err" >&2
        return
    fi
    if python3 - "$RUNDIR/json" "$expr" <<'PY'; then
import json, sys
d = json.load(open(sys.argv[1]))
p = {x["partition"]: x for x in d["partitions"]}
ok = eval(sys.argv[2])
if not ok:
    print(json.dumps(d, indent=1), file=sys.stderr)
sys.exit(0 if ok else 1)
PY
        ok "$name"
    else
        bad "$name"
    fi
}

if ! "$SERVICES" start "$RUNDIR"; then
    bad "services start"
    finish
fi
# shellcheck disable=SC1091
source "$RUNDIR/env"
B="$KAFKA_BOOTSTRAP"
TOPIC=lagit.raw
GROUP=lagit-group
export KAFKA_BOOTSTRAP

if "$HERE/../services/kafka-topics.sh" --create "$TOPIC" 3 >/dev/null; then
    ok "create topic with 3 partitions"
else
    bad "create topic"
fi
if "$HELPER" produce "$B" "$TOPIC" 3 10; then ok "produce 3 x 10"; else bad "produce"; fi

LAGARGS=(-b "$B" -g "$GROUP" -t "$TOPIC")

# 1. Nothing committed: lag = whole log. One sample shows no trend (a group
# that has not committed yet since a submit): UNKNOWN with a note, not
# STOP; two samples without a commit between them: STOP.
check_json "no commits: 3 partitions, lag 10 each, committed null" \
    'len(p) == 3 and all(p[i]["lag"] == 10 and p[i]["committed_offset"] is None and p[i]["high_watermark"] == 10 for i in range(3)) and d["total_lag"] == 30'
check_json "no commits, one sample: UNKNOWN, not STOP" 'd["status"] == "UNKNOWN" and "not enough samples" in d["note"] and all(x["status"] == "UNKNOWN" for x in d["partitions"])'
LAGARGS=(-b "$B" -g "$GROUP" -t "$TOPIC" --samples 2 --interval 100)
check_json "no commits, two samples: status STOP" 'd["status"] == "STOP" and "note" not in d and all(x["status"] == "STOP" for x in d["partitions"])'
LAGARGS=(-b "$B" -g "$GROUP" -t "$TOPIC")
expect_rc "no commits, one sample: table says not enough samples" 0 "$LAG" "${LAGARGS[@]}"
grep -q '^TOTAL LAG 30  STATUS UNKNOWN' "$RUNDIR/out" && grep -q '^not enough samples' "$RUNDIR/out" &&
    ok "no commits, one sample: table rows" || bad "no commits, one sample: table rows"
expect_rc "--fail-on STOP with one sample is a usage error" 2 "$LAG" "${LAGARGS[@]}" --fail-on STOP
expect_rc "no commits: --max-lag 0 exits 1" 1 "$LAG" "${LAGARGS[@]}" --max-lag 0
expect_rc "no commits: --max-lag 30 exits 0" 0 "$LAG" "${LAGARGS[@]}" --max-lag 30

# 2. Commit partway: p0 at 4, p1 at 10, p2 nothing.
if "$HELPER" consume "$B" "$TOPIC" "$GROUP" 0 4 && "$HELPER" consume "$B" "$TOPIC" "$GROUP" 1 10; then
    ok "consume and commit 4 of p0, 10 of p1"
else
    bad "consume and commit partway"
fi
check_json "partway: per-partition committed offsets and lag" \
    'p[0]["committed_offset"] == 4 and p[0]["lag"] == 6 and p[1]["committed_offset"] == 10 and p[1]["lag"] == 0 and p[2]["committed_offset"] is None and p[2]["lag"] == 10 and d["total_lag"] == 16'
expect_rc "partway: --max-lag 0 exits 1" 1 "$LAG" "${LAGARGS[@]}" --max-lag 0
expect_rc "partway: --max-lag 15 exits 1" 1 "$LAG" "${LAGARGS[@]}" --max-lag 15
expect_rc "partway: --max-lag 16 exits 0" 0 "$LAG" "${LAGARGS[@]}" --max-lag 16
expect_rc "partway: table output" 0 "$LAG" "${LAGARGS[@]}"
if grep -Eq "^$GROUP +$TOPIC +0 +4 +10 +6 +" "$RUNDIR/out" && grep -q '^TOTAL LAG 16 ' "$RUNDIR/out"; then
    ok "partway: table rows"
else
    bad "partway: table rows"
    sed 's/^/    /' "$RUNDIR/out" >&2
fi
# Kafka's own tool lists the partitions with a committed offset (p0, p1):
# their offsets and lag must agree with minutes-lag's.
LAGARGS=(-b "$B" -g "$GROUP" -t "$TOPIC")
"$LAG" "${LAGARGS[@]}" --json >"$RUNDIR/json" 2>/dev/null
if "$HERE/../services/kafka-groups.sh" --offsets "$GROUP" >"$RUNDIR/kafka-offsets" 2>"$RUNDIR/err" &&
    python3 - "$RUNDIR/json" "$RUNDIR/kafka-offsets" "$TOPIC" <<'PY'; then
import json, sys
d = json.load(open(sys.argv[1]))
p = {x["partition"]: x for x in d["partitions"]}
rows = [l.split() for l in open(sys.argv[2]) if l.split() and l.split()[0] == sys.argv[3]]
seen = set()
for topic, part, cur, end, lag in rows:
    part = int(part)
    seen.add(part)
    if cur == "-":
        continue
    if (int(cur), int(end), int(lag)) != (p[part]["committed_offset"], p[part]["high_watermark"], p[part]["lag"]):
        print("mismatch on partition", part, rows, d, file=sys.stderr)
        sys.exit(1)
sys.exit(0 if {0, 1} <= seen else 1)
PY
    ok "partway: kafka-consumer-groups agrees on committed partitions"
else
    bad "partway: kafka-consumer-groups disagrees"
    sed 's/^/    /' "$RUNDIR/kafka-offsets" "$RUNDIR/err" >&2
fi

# 3. A window with no commits in it: p0 and p2 STOP, p1 OK (caught up).
LAGARGS=(-b "$B" -g "$GROUP" -t "$TOPIC" --samples 3 --interval 200)
check_json "window without commits: p0 STOP, p1 OK, p2 STOP" \
    'd["samples"] == 3 and p[0]["status"] == "STOP" and p[1]["status"] == "OK" and p[2]["status"] == "STOP" and d["status"] == "STOP"'
expect_rc "window: --fail-on STOP exits 1" 1 "$LAG" "${LAGARGS[@]}" --fail-on STOP

# 4. Consume the rest and commit: lag 0 everywhere.
if "$HELPER" consume "$B" "$TOPIC" "$GROUP" 0 6 && "$HELPER" consume "$B" "$TOPIC" "$GROUP" 2 10; then
    ok "consume and commit the rest"
else
    bad "consume and commit the rest"
fi
LAGARGS=(-b "$B" -g "$GROUP" -t "$TOPIC")
check_json "caught up: lag 0 on every partition" \
    'all(p[i]["lag"] == 0 and p[i]["committed_offset"] == 10 for i in range(3)) and d["total_lag"] == 0 and d["status"] == "OK"'
expect_rc "caught up: --max-lag 0 exits 0" 0 "$LAG" "${LAGARGS[@]}" --max-lag 0
expect_rc "caught up: --fail-on WARNING exits 0" 0 "$LAG" "${LAGARGS[@]}" --samples 2 --interval 100 --fail-on WARNING

# 5. Errors.
expect_rc "unknown topic exits 2" 2 "$LAG" -b "$B" -g "$GROUP" -t no.such.topic --timeout 5000
expect_rc "bad --fail-on exits 2" 2 "$LAG" "${LAGARGS[@]}" --fail-on REWIND

finish
