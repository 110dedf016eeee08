#!/usr/bin/env bash
# Static checks of deploy/ (ctest deploy_checks, label unit). Run from the
# repository root or anywhere: paths are relative to this script.
#
#   promtool check config / check rules / test rules   (Prometheus)
#   docker-compose config -q                           (no Docker engine needed)
#   yamllint -s with deploy/.yamllint on every YAML file under deploy/
#   python3 -m json.tool on every JSON file under deploy/
#   systemd-analyze verify + security --offline (exposure <= 2.0) on the unit
#   every mm_* metric used by dashboards and alerts exists in common/ingest/mm_metrics.h
#
# Every check runs; a missing tool is a failure, not a skip. Prints
# "check-deploy: N passed, M failed" and exits 1 if anything failed.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
D="$ROOT/deploy"
PASS=0
FAIL=0
TMP="$(mktemp -d /tmp/mm-check-deploy.XXXXXX)"
trap 'rm -rf "$TMP"' EXIT

ok() { PASS=$((PASS + 1)); echo "ok   - $1"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL - $1"; }

# check NAME CMD...: pass if CMD exits 0; show its output otherwise
check() {
    local name="$1"
    shift
    if ! command -v "$1" >/dev/null 2>&1; then
        bad "$name ($1 not installed)"
        return
    fi
    if "$@" >"$TMP/out" 2>&1; then
        ok "$name"
    else
        bad "$name"
        sed 's/^/    /' "$TMP/out"
    fi
}

check "promtool check config prometheus.yml" promtool check config "$D/prometheus/prometheus.yml"
check "promtool check rules alerts.yml" promtool check rules "$D/prometheus/alerts.yml"
check "promtool test rules alerts_test.yml" promtool test rules "$D/prometheus/alerts_test.yml"
check "docker-compose config -q" docker-compose -f "$D/docker-compose.yml" config -q

mapfile -t yamls < <(find "$D" -type f \( -name '*.yml' -o -name '*.yaml' -o -name '.yamllint' \) | sort)
if [[ ${#yamls[@]} -lt 10 ]]; then
    bad "expected at least 10 YAML files under deploy/, found ${#yamls[@]}"
fi
for f in "${yamls[@]}"; do
    check "yamllint ${f#"$ROOT"/}" yamllint -s -c "$D/.yamllint" "$f"
done

mapfile -t jsons < <(find "$D" -type f -name '*.json' | sort)
if [[ ${#jsons[@]} -lt 1 ]]; then
    bad "expected a Grafana dashboard JSON under deploy/"
fi
for f in "${jsons[@]}"; do
    check "json ${f#"$ROOT"/}" python3 -m json.tool "$f"
done

unit="$D/systemd/minutes-worker.service"
# verify needs an existing ExecStart binary: check a copy that runs /bin/true.
sed 's|^ExecStart=.*|ExecStart=/bin/true|' "$unit" >"$TMP/minutes-worker.service"
verify_unit() {
    local out
    out="$(systemd-analyze verify "$TMP/minutes-worker.service" 2>&1)" || { echo "$out"; return 1; }
    # unknown keys and bad values are only warnings: treat any output as failure
    [[ -z "$out" ]] || { echo "$out"; return 1; }
}
if command -v systemd-analyze >/dev/null 2>&1; then
    check "systemd-analyze verify minutes-worker.service" verify_unit
    check "systemd-analyze security: exposure <= 2.0" \
        systemd-analyze security --offline=yes --threshold=20 "$unit"
else
    bad "systemd-analyze not installed"
fi
for key in DynamicUser=yes ProtectSystem=strict NoNewPrivileges=yes 'CapabilityBoundingSet=$'; do
    if grep -Eq "^$key" "$unit"; then ok "unit sets ${key%$}"; else bad "unit lacks ${key%$}"; fi
done

# Metric names: everything the dashboard and the alerts query must be a
# family documented (and rendered) by common/ingest/mm_metrics.h or, for
# minutes-source, common/fetch/mm_poll_metrics.h.
metrics_used() {
    grep -rhoE '\bmm_[a-z_]+' "$D/grafana" "$D/prometheus/alerts.yml" |
        sed -E 's/_(bucket|sum|count)$//' | sort -u
}
known="$(grep -ohE '^ \* +mm_[a-z_]+' "$ROOT/common/ingest/mm_metrics.h" "$ROOT/common/fetch/mm_poll_metrics.h" |
    awk '{print $2}' | sort -u)"
if [[ -z "$known" ]]; then
    bad "no metric list found in common/ingest/mm_metrics.h"
else
    missing=0
    for mname in $(metrics_used); do
        if ! grep -qx "$mname" <<<"$known"; then
            bad "deploy/ uses unknown metric $mname"
            missing=1
        fi
    done
    [[ $missing == 0 ]] && ok "deploy/ uses only metrics defined in common/ingest/mm_metrics.h and mm_poll_metrics.h"
fi
# KEDA must not scale beyond the partitions of minutes.raw (24).
max_rep="$(awk '/maxReplicaCount:/ {print $2}' "$D/k8s/keda-scaledobject.yaml")"
parts="$(grep -oE -- '--topic minutes\.raw --partitions [0-9]+' "$D/docker-compose.yml" | awk '{print $4}')"
if [[ -n "$max_rep" && -n "$parts" && "$max_rep" -le "$parts" ]]; then
    ok "KEDA maxReplicaCount ($max_rep) <= partitions of minutes.raw ($parts)"
else
    bad "KEDA maxReplicaCount '$max_rep' vs partitions '$parts'"
fi

echo "check-deploy: $PASS passed, $FAIL failed"
[[ $FAIL == 0 ]]
