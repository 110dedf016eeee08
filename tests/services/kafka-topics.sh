#!/usr/bin/env bash
# Topic admin for the test broker (org.apache.kafka.tools.TopicCommand; no Kafka
# distribution scripts needed). The broker is $KAFKA_BOOTSTRAP, else the one in
# --rundir DIR / $MM_SERVICES_RUNDIR (services.sh start writes DIR/env).
#
#   kafka-topics.sh [--rundir DIR] --create NAME PARTITIONS [TopicCommand options...]
#   kafka-topics.sh [--rundir DIR] --delete NAME
#   kafka-topics.sh [--rundir DIR] --list
#   kafka-topics.sh [--rundir DIR] --describe [NAME]
#   kafka-topics.sh [--rundir DIR] --raw TopicCommand options...   (--bootstrap-server is added)
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

if [[ "${1:-}" == --rundir ]]; then
    [[ $# -ge 2 ]] || usage
    MM_SERVICES_RUNDIR="$2"; unset KAFKA_BOOTSTRAP; shift 2
fi
[[ $# -ge 1 ]] || usage
BOOT="$(mm_resolve_bootstrap)" || exit 1
TC=org.apache.kafka.tools.TopicCommand

case "$1" in
--create)
    [[ $# -ge 3 && "$3" =~ ^[0-9]+$ ]] || usage
    name="$2" parts="$3"; shift 3
    exec_args=(--create --topic "$name" --partitions "$parts" --replication-factor 1 "$@")
    ;;
--delete) [[ $# -eq 2 ]] || usage; exec_args=(--delete --topic "$2") ;;
--list) exec_args=(--list) ;;
--describe) if [[ $# -ge 2 ]]; then exec_args=(--describe --topic "$2"); else exec_args=(--describe); fi ;;
--raw) shift; exec_args=("$@") ;;
*) usage ;;
esac
mm_kafka_tool "$TC" --bootstrap-server "$BOOT" "${exec_args[@]}"
