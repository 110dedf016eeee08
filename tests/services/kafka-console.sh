#!/usr/bin/env bash
# Produce/consume with the Kafka console clients against the test broker.
# Broker: $KAFKA_BOOTSTRAP, else --rundir DIR / $MM_SERVICES_RUNDIR.
#
#   kafka-console.sh [--rundir DIR] produce TOPIC [KEYSEP]
#       one message per stdin line; with KEYSEP, "key<KEYSEP>value" lines.
#       acks=all, so when it exits 0 every message is committed to the log.
#   kafka-console.sh [--rundir DIR] consume TOPIC MAX [TIMEOUT_MS] [GROUP]
#       print up to MAX values (one per line) from the beginning of TOPIC,
#       giving up after TIMEOUT_MS (default 20000) without a new message.
#       Without GROUP no offsets are committed. Exits 3 if fewer than MAX arrived.
# A message that contains a newline cannot go through these; use librdkafka for that.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

if [[ "${1:-}" == --rundir ]]; then
    [[ $# -ge 2 ]] || usage
    MM_SERVICES_RUNDIR="$2"; unset KAFKA_BOOTSTRAP; shift 2
fi
[[ $# -ge 2 ]] || usage
BOOT="$(mm_resolve_bootstrap)" || exit 1

case "$1" in
produce)
    topic="$2"
    args=(--bootstrap-server "$BOOT" --topic "$topic" --producer-property acks=all
        --producer-property enable.idempotence=true
        --producer-property request.timeout.ms=10000 --producer-property delivery.timeout.ms=30000)
    if [[ $# -ge 3 ]]; then
        args+=(--property parse.key=true --property "key.separator=$3")
    fi
    mm_kafka_tool kafka.tools.ConsoleProducer "${args[@]}"
    ;;
consume)
    [[ $# -ge 3 && "$3" =~ ^[0-9]+$ ]] || usage
    topic="$2" max="$3" tmo="${4:-20000}"
    args=(--bootstrap-server "$BOOT" --topic "$topic" --from-beginning
        --max-messages "$max" --timeout-ms "$tmo")
    if [[ $# -ge 5 ]]; then args+=(--group "$5"); else
        args+=(--consumer-property enable.auto.commit=false); fi
    errf="$(mktemp)"
    mm_kafka_tool org.apache.kafka.tools.consumer.ConsoleConsumer "${args[@]}" 2>"$errf"
    rc=$?
    n="$(sed -n 's/^Processed a total of \([0-9]*\) messages.*/\1/p' "$errf" | tail -n1)"
    # The expected timeout when the topic runs dry is not an error by itself.
    grep -v -e 'TimeoutException' -e 'terminating consumer process' -e '^Processed a total of' "$errf" >&2
    rm -f "$errf"
    if [[ -z "$n" ]]; then exit $((rc ? rc : 1)); fi
    if ((n < max)); then
        mm_err "consumed $n of $max messages from $topic before the timeout"
        exit 3
    fi
    ;;
*) usage ;;
esac
