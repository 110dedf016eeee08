#!/usr/bin/env bash
# Consumer-group inspection for the test broker
# (org.apache.kafka.tools.consumer.group.ConsumerGroupCommand), e.g. to
# cross-check a worker's committed offsets and lag. Broker: $KAFKA_BOOTSTRAP,
# else --rundir DIR / $MM_SERVICES_RUNDIR.
#
#   kafka-groups.sh [--rundir DIR] --list
#   kafka-groups.sh [--rundir DIR] --describe GROUP    full table (TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG ...)
#   kafka-groups.sh [--rundir DIR] --offsets GROUP     "TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG" per partition
#   kafka-groups.sh [--rundir DIR] --lag GROUP         one integer: total lag; a partition without a
#                                                     committed offset counts its whole LOG-END-OFFSET
#   kafka-groups.sh [--rundir DIR] --raw ConsumerGroupCommand options...
# --describe/--offsets/--lag exit 1 if the group does not exist.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

if [[ "${1:-}" == --rundir ]]; then
    [[ $# -ge 2 ]] || usage
    MM_SERVICES_RUNDIR="$2"; unset KAFKA_BOOTSTRAP; shift 2
fi
[[ $# -ge 1 ]] || usage
BOOT="$(mm_resolve_bootstrap)" || exit 1
GC=org.apache.kafka.tools.consumer.group.ConsumerGroupCommand

describe() {
    local out rc
    out="$(mm_kafka_tool "$GC" --bootstrap-server "$BOOT" --describe --group "$1" 2>&1)"
    rc=$?
    if [[ $rc -ne 0 ]] || grep -q 'does not exist' <<<"$out"; then
        printf '%s\n' "$out" >&2
        return 1
    fi
    printf '%s\n' "$out"
}

# Print "TOPIC PARTITION CURRENT LEO LAG" rows, columns located by header name.
offsets() {
    local out
    out="$(describe "$1")" || return 1
    awk '
        $1 == "GROUP" && $2 == "TOPIC" {
            for (i = 1; i <= NF; i++) col[$i] = i
            hdr = 1; next
        }
        hdr && NF >= 6 && $(col["PARTITION"]) ~ /^[0-9]+$/ {
            print $(col["TOPIC"]), $(col["PARTITION"]), $(col["CURRENT-OFFSET"]), \
                  $(col["LOG-END-OFFSET"]), $(col["LAG"])
        }' <<<"$out"
}

case "${1:-}" in
--list) mm_kafka_tool "$GC" --bootstrap-server "$BOOT" --list ;;
--describe) [[ $# -eq 2 ]] || usage; describe "$2" ;;
--offsets) [[ $# -eq 2 ]] || usage; offsets "$2" ;;
--lag)
    [[ $# -eq 2 ]] || usage
    rows="$(offsets "$2")" || exit 1
    [[ -n "$rows" ]] || { mm_err "group $2 has no partitions with offsets"; exit 1; }
    awk '{ if ($5 ~ /^[0-9]+$/) s += $5; else if ($4 ~ /^[0-9]+$/) s += $4 } END { print s + 0 }' <<<"$rows"
    ;;
--raw) shift; mm_kafka_tool "$GC" --bootstrap-server "$BOOT" "$@" ;;
*) usage ;;
esac
