# shellcheck shell=bash
# Common helpers for tests/services/*.sh. Sourced, never executed.
#
# Environment knobs (all optional):
#   MM_CACHE_DIR        cache root (default: <repo>/.cache, gitignored)
#   MM_KAFKA_HEAP       broker heap (default: 512m)
#   MM_JAVA             java binary (default: java from PATH)
#   MM_PG_BIN           PostgreSQL bin dir (default: /usr/lib/postgresql/15/bin)
#   MM_PG_OSUSER        OS user that runs postgres when we are root
#                       (default: postgres if it exists, else mmtest, created on demand)
#   MM_KAFKA_START_TIMEOUT / MM_PG_START_TIMEOUT   seconds (default 90 / 30)

MM_SERVICES_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MM_REPO_ROOT="$(cd "$MM_SERVICES_DIR/../.." && pwd)"
MM_CACHE_DIR="${MM_CACHE_DIR:-$MM_REPO_ROOT/.cache}"
MM_KAFKA_POM="$MM_SERVICES_DIR/kafka-pom.xml"
MM_KAFKA_LIB="$MM_CACHE_DIR/kafka/lib"
MM_JAVA="${MM_JAVA:-java}"
MM_PG_BIN="${MM_PG_BIN:-/usr/lib/postgresql/15/bin}"

mm_log() { printf '[services %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
mm_err() { printf '[services] ERROR: %s\n' "$*" >&2; }

# Stamp = hash of the pom, so changing the Kafka version refetches.
mm_kafka_stamp() { sha256sum "$MM_KAFKA_POM" | cut -c1-64; }

# Fetch the Kafka jars into $MM_KAFKA_LIB unless a complete copy for the
# current pom is already there. Safe to call concurrently (flock).
mm_fetch_kafka() {
    local want tmp t0 rc
    want="$(mm_kafka_stamp)"
    if [[ -f "$MM_KAFKA_LIB/.complete" ]] && [[ "$(cat "$MM_KAFKA_LIB/.complete")" == "$want" ]]; then
        return 0
    fi
    command -v mvn >/dev/null || { mm_err "mvn not found (needed once to fetch Kafka jars)"; return 1; }
    mkdir -p "$MM_CACHE_DIR/kafka"
    (
        flock -w 900 9 || { mm_err "timeout waiting for $MM_CACHE_DIR/kafka/.lock"; exit 1; }
        if [[ -f "$MM_KAFKA_LIB/.complete" ]] && [[ "$(cat "$MM_KAFKA_LIB/.complete")" == "$want" ]]; then
            exit 0
        fi
        tmp="$MM_CACHE_DIR/kafka/lib.tmp.$$"
        rm -rf "$tmp"
        t0=$SECONDS
        mm_log "fetching Kafka jars with Maven into $MM_KAFKA_LIB (one-off) ..."
        rc=0
        mvn -q -B -f "$MM_KAFKA_POM" -Dmaven.repo.local="$MM_CACHE_DIR/m2" \
            dependency:copy-dependencies -DoutputDirectory="$tmp" \
            >"$MM_CACHE_DIR/kafka/fetch.log" 2>&1 || rc=$?
        if [[ $rc -ne 0 ]] || ! ls "$tmp"/kafka_2.13-*.jar >/dev/null 2>&1; then
            mm_err "Maven fetch of Kafka failed (rc=$rc); tail of $MM_CACHE_DIR/kafka/fetch.log:"
            tail -n 30 "$MM_CACHE_DIR/kafka/fetch.log" >&2
            rm -rf "$tmp"
            exit 1
        fi
        printf '%s\n' "$want" >"$tmp/.complete"
        rm -rf "$MM_KAFKA_LIB"
        mv "$tmp" "$MM_KAFKA_LIB"
        mm_log "Kafka jars fetched in $((SECONDS - t0)) s ($(ls "$MM_KAFKA_LIB" | wc -l) jars)"
    ) 9>"$MM_CACHE_DIR/kafka/.lock"
}

# Run a short-lived Kafka tool class (quiet logging, fast JIT start).
mm_kafka_tool() {
    local cls="$1"
    shift
    mm_fetch_kafka || return 1
    "$MM_JAVA" -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Djava.awt.headless=true \
        -Dlog4j.configuration="file:$MM_SERVICES_DIR/log4j-tools.properties" \
        -cp "$MM_KAFKA_LIB/*" "$cls" "$@"
}

# Benchmarks: a fresh broker creates its __consumer_offsets topic at the
# first consumer group's first request, which then takes about 1.2 s (later
# ones about 0.1 s). A running cluster has that topic, so a benchmark makes
# it exist before it times a worker (or Connect, whichever would come
# first): one lag query of a throwaway group. BIN BOOTSTRAP TOPIC
mm_warm_group_coordinator() {
    "$1/minutes-lag" -b "$2" -g mm-bench-warm-up -t "$3" >/dev/null 2>&1 || true
}

# Resolve the bootstrap address: $KAFKA_BOOTSTRAP, else from a RUNDIR/env given
# by --rundir DIR (handled by callers) or $MM_SERVICES_RUNDIR.
mm_resolve_bootstrap() {
    if [[ -n "${KAFKA_BOOTSTRAP:-}" ]]; then
        printf '%s\n' "$KAFKA_BOOTSTRAP"
        return 0
    fi
    if [[ -n "${MM_SERVICES_RUNDIR:-}" && -f "$MM_SERVICES_RUNDIR/env" ]]; then
        # shellcheck disable=SC1091
        (source "$MM_SERVICES_RUNDIR/env" && printf '%s\n' "$KAFKA_BOOTSTRAP")
        return $?
    fi
    mm_err "no broker: set KAFKA_BOOTSTRAP, MM_SERVICES_RUNDIR, or pass --rundir DIR"
    return 1
}
