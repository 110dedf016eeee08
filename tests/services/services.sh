#!/usr/bin/env bash
# Start/stop a real Apache Kafka 3.9 broker (KRaft, single node, combined
# broker+controller) and a private PostgreSQL 15 cluster on free ports of
# 127.0.0.1, for integration tests and the README demo.
#
#   services.sh start RUNDIR [--owner-pid PID]
#                                   start both (fresh data), wait until ready, write RUNDIR/env;
#                                   with --owner-pid (or $MM_SERVICES_OWNER_PID) a watchdog
#                                   runs `stop` as soon as PID is gone (e.g. ctest was killed)
#   services.sh stop RUNDIR         stop both; idempotent; safe on a half-started RUNDIR
#   services.sh status RUNDIR       print what runs; exit 0 only if both run
#   services.sh pg-stop RUNDIR [fast|immediate]     stop PostgreSQL (immediate = crash-like)
#   services.sh pg-start RUNDIR     start PostgreSQL again, same port and data
#   services.sh pg-restart RUNDIR   pg-stop fast + pg-start
#   services.sh kafka-stop RUNDIR [term|kill]       stop the broker (kill = SIGKILL)
#   services.sh kafka-start RUNDIR  start the broker again, same port and data
#   services.sh kafka-restart RUNDIR
#
# RUNDIR/env is a sourceable file (export KEY=value) with KAFKA_BOOTSTRAP,
# PGHOST/PGPORT/PGDATABASE, MM_PG_OWNER_URL, MM_PG_WORKER_URL,
# MM_PG_SUPERUSER_URL, KAFKA_PID, PG_PID, PG_DATA, ... ; it is rewritten
# after every (re)start, so re-source it after a restart (PIDs change, ports
# do not). Logs: RUNDIR/kafka.log and RUNDIR/pg.log.
#
# PostgreSQL refuses to run as root: when run as root, the cluster runs as the
# OS user $MM_PG_OSUSER (default postgres, or a system user mmtest created on
# demand). If that user cannot write RUNDIR, the cluster's files go to
# /tmp/mm-pg.XXXXXX instead, which `stop` removes.
set -uo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KAFKA_START_TIMEOUT="${MM_KAFKA_START_TIMEOUT:-90}"
PG_START_TIMEOUT="${MM_PG_START_TIMEOUT:-30}"
STOP_TIMEOUT=60

usage() {
    sed -n '2,28p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

# ---------------------------------------------------------------- helpers

abs_dir() { mkdir -p "$1" && (cd "$1" && pwd -P); }

# True if PID is alive and its command line contains MARK (guards against
# PID reuse: we never signal a process we did not start).
pid_is_ours() {
    local pid="$1" mark="$2"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$mark"
}

# Wait until PID is gone, up to $2 seconds. Returns 1 on timeout.
wait_gone() {
    local pid="$1" secs="$2" i
    for ((i = 0; i < secs * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    return 1
}

# Print N distinct free TCP ports on 127.0.0.1, chosen below the ephemeral
# range so outgoing connections cannot grab them between restarts.
pick_ports() {
    local n="$1" eph_lo
    eph_lo="$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)"
    if command -v python3 >/dev/null 2>&1; then
        python3 - "$n" "$eph_lo" <<'PY'
import random, socket, sys
n, eph_lo = int(sys.argv[1]), int(sys.argv[2])
lo, hi = 20000, max(20001, min(32000, eph_lo - 1))
got = []
for _ in range(10000):
    if len(got) == n:
        break
    p = random.randint(lo, hi)
    if p in got:
        continue
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", p))
        got.append(p)
    except OSError:
        pass
    finally:
        s.close()
if len(got) != n:
    sys.exit(1)
print(" ".join(map(str, got)))
PY
        return $?
    fi
    local got=() p tries=0
    while ((${#got[@]} < n && tries < 10000)); do
        tries=$((tries + 1))
        p=$((20000 + RANDOM % (eph_lo > 32000 ? 12000 : eph_lo - 20000)))
        [[ " ${got[*]} " == *" $p "* ]] && continue
        ss -Htan "( sport = :$p )" 2>/dev/null | grep -q . && continue
        got+=("$p")
    done
    ((${#got[@]} == n)) || return 1
    echo "${got[*]}"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Run a command as the PostgreSQL OS user (directly if we are not root).
as_pg() {
    if [[ $EUID -eq 0 ]]; then
        setpriv --reuid="$PG_OSUSER" --regid="$PG_OSUSER" --init-groups -- \
            env HOME=/ USER="$PG_OSUSER" LOGNAME="$PG_OSUSER" "$@"
    else
        "$@"
    fi
}

choose_pg_osuser() {
    if [[ $EUID -ne 0 ]]; then
        PG_OSUSER="$(id -un)"
        return 0
    fi
    PG_OSUSER="${MM_PG_OSUSER:-}"
    if [[ -z "$PG_OSUSER" ]]; then
        if id -u postgres >/dev/null 2>&1; then PG_OSUSER=postgres; else PG_OSUSER=mmtest; fi
    fi
    if ! id -u "$PG_OSUSER" >/dev/null 2>&1; then
        mm_log "creating system user $PG_OSUSER to run PostgreSQL"
        useradd --system --no-create-home --home-dir / --shell /usr/sbin/nologin "$PG_OSUSER" ||
            { mm_err "could not create OS user $PG_OSUSER"; return 1; }
    fi
}

load_state() {
    STATE="$RUNDIR/state"
    [[ -f "$STATE" ]] || return 1
    # shellcheck disable=SC1090
    source "$STATE"
}

save_state() {
    {
        printf 'KAFKA_PORT=%q\nKAFKA_CONTROLLER_PORT=%q\nPG_PORT=%q\n' \
            "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" "$PG_PORT"
        printf 'PG_OSUSER=%q\nPG_BASE=%q\nPG_BASE_EXTERNAL=%q\nPG_SOCKET_DIR=%q\n' \
            "$PG_OSUSER" "$PG_BASE" "$PG_BASE_EXTERNAL" "$PG_SOCKET_DIR"
    } >"$RUNDIR/state.tmp" && mv "$RUNDIR/state.tmp" "$RUNDIR/state"
}

read_pid() { [[ -f "$1" ]] && head -n1 "$1" | tr -dc '0-9'; }

kafka_pid() {
    local pid
    pid="$(read_pid "$RUNDIR/kafka.pid")"
    pid_is_ours "$pid" " $RUNDIR/kafka/server.properties" && echo "$pid"
}

pg_pid() {
    local pid
    pid="$(read_pid "$RUNDIR/pg.pid")"
    pid_is_ours "$pid" " $PG_BASE/data" && echo "$pid"
}

write_env() {
    local kpid ppid tmp="$RUNDIR/env.tmp"
    kpid="$(kafka_pid || true)"
    ppid="$(pg_pid || true)"
    {
        echo "# generated by tests/services/services.sh; source it (set -a not needed)"
        printf 'export MM_SERVICES_RUNDIR=%q\n' "$RUNDIR"
        printf 'export KAFKA_BOOTSTRAP=%q\n' "127.0.0.1:$KAFKA_PORT"
        printf 'export KAFKA_PORT=%q\n' "$KAFKA_PORT"
        printf 'export KAFKA_CONTROLLER_PORT=%q\n' "$KAFKA_CONTROLLER_PORT"
        printf 'export KAFKA_PID=%q\n' "$kpid"
        printf 'export KAFKA_LOG=%q\n' "$RUNDIR/kafka.log"
        printf 'export KAFKA_DATA=%q\n' "$RUNDIR/kafka/data"
        printf 'export KAFKA_LIB=%q\n' "$MM_KAFKA_LIB"
        printf 'export PGHOST=%q\n' "127.0.0.1"
        printf 'export PGPORT=%q\n' "$PG_PORT"
        printf 'export PGDATABASE=%q\n' "minutes"
        printf 'export MM_PG_OWNER_URL=%q\n' "postgresql://minutes_owner@127.0.0.1:$PG_PORT/minutes"
        printf 'export MM_PG_WORKER_URL=%q\n' "postgresql://minutes_worker@127.0.0.1:$PG_PORT/minutes"
        printf 'export MM_PG_SUPERUSER_URL=%q\n' "postgresql://postgres@127.0.0.1:$PG_PORT/minutes"
        printf 'export PG_PID=%q\n' "$ppid"
        printf 'export PG_DATA=%q\n' "$PG_BASE/data"
        printf 'export PG_LOG=%q\n' "$RUNDIR/pg.log"
        printf 'export PG_BIN=%q\n' "$MM_PG_BIN"
        printf 'export PG_SOCKET_DIR=%q\n' "$PG_SOCKET_DIR"
    } >"$tmp" && mv "$tmp" "$RUNDIR/env"
}

show_tail() {
    local f="$1"
    [[ -f "$f" ]] || return 0
    echo "----- last 40 lines of $f -----" >&2
    tail -n 40 "$f" >&2
    echo "-----" >&2
}

# ---------------------------------------------------------------- Kafka

kafka_jvm_opts() {
    KAFKA_JVM_OPTS=(-Xmx"${MM_KAFKA_HEAP:-512m}" -Xms128m -XX:+UseG1GC -XX:MaxGCPauseMillis=20
        -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true
        -Dlog4j.configuration="file:$MM_SERVICES_DIR/log4j-broker.properties"
        -Dkafka.logs.dir="$RUNDIR/kafka/logs" -cp "$MM_KAFKA_LIB/*")
}

kafka_configure_and_format() {
    local kdir="$RUNDIR/kafka" cluster_id
    mkdir -p "$kdir/data" "$kdir/logs"
    cat >"$kdir/server.properties" <<EOF
# generated by tests/services/services.sh
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$kdir/data
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=false
delete.topic.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
group.initial.rebalance.delay.ms=0
# quick re-registration after a SIGKILL (kafka-stop RUNDIR kill)
broker.session.timeout.ms=3000
broker.heartbeat.interval.ms=500
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.retention.hours=24
log.segment.bytes=67108864
EOF
    # KRaft cluster id: 16 random bytes, URL-safe base64 without padding.
    # (Kafka's own generator also avoids a leading '-', which looks like an option.)
    cluster_id="-"
    while [[ "$cluster_id" == -* ]]; do
        cluster_id="$(head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
    done
    kafka_jvm_opts
    if ! "$MM_JAVA" "${KAFKA_JVM_OPTS[@]}" kafka.tools.StorageTool format --cluster-id="$cluster_id" \
        -c "$kdir/server.properties" >>"$RUNDIR/kafka.log" 2>&1; then
        mm_err "kafka storage format failed"
        return 1
    fi
}

# Launch the broker in its own session; PID (== process group) to RUNDIR/kafka.pid.
kafka_launch() {
    local pid
    KAFKA_LOG_OFFSET="$(stat -c %s "$RUNDIR/kafka.log" 2>/dev/null || echo 0)"
    if port_open "$KAFKA_PORT" || port_open "$KAFKA_CONTROLLER_PORT"; then
        mm_err "Kafka port $KAFKA_PORT or $KAFKA_CONTROLLER_PORT is already in use"
        return 1
    fi
    kafka_jvm_opts
    # Not a process-group leader here, so setsid does not fork: $! is the JVM,
    # and its PID is also its process group id.
    (
        cd "$RUNDIR" || exit 1
        exec setsid "$MM_JAVA" "${KAFKA_JVM_OPTS[@]}" kafka.Kafka "$RUNDIR/kafka/server.properties"
    ) >>"$RUNDIR/kafka.log" 2>&1 </dev/null &
    pid=$!
    KAFKA_LAUNCH_T=$SECONDS
    echo "$pid" >"$RUNDIR/kafka.pid"
}

kafka_wait_ready() {
    local pid t0="${KAFKA_LAUNCH_T:-$SECONDS}"
    pid="$(read_pid "$RUNDIR/kafka.pid")"
    while ((SECONDS - t0 < KAFKA_START_TIMEOUT)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            mm_err "Kafka broker (pid $pid) exited during startup"
            return 1
        fi
        if tail -c +"$((KAFKA_LOG_OFFSET + 1))" "$RUNDIR/kafka.log" 2>/dev/null |
            grep -q 'Kafka Server started' && port_open "$KAFKA_PORT"; then
            mm_log "Kafka ready on 127.0.0.1:$KAFKA_PORT after $((SECONDS - t0)) s (pid $pid)"
            return 0
        fi
        sleep 0.2
    done
    mm_err "Kafka not ready after ${KAFKA_START_TIMEOUT} s"
    return 1
}

kafka_stop() {
    local mode="${1:-term}" pid
    pid="$(kafka_pid || true)"
    if [[ -z "$pid" ]]; then
        rm -f "$RUNDIR/kafka.pid"
        return 0
    fi
    if [[ "$mode" == kill ]]; then
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
    else
        kill -TERM "$pid" 2>/dev/null
    fi
    if ! wait_gone "$pid" "$STOP_TIMEOUT"; then
        mm_log "Kafka (pid $pid) ignored SIGTERM for ${STOP_TIMEOUT} s; killing"
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
        wait_gone "$pid" 10 || { mm_err "could not kill Kafka pid $pid"; return 1; }
    fi
    rm -f "$RUNDIR/kafka.pid"
    mm_log "Kafka stopped ($mode)"
}

kafka_start_existing() {
    [[ -f "$RUNDIR/kafka/server.properties" ]] || { mm_err "no Kafka config in $RUNDIR (run start first)"; return 1; }
    if [[ -n "$(kafka_pid || true)" ]]; then
        mm_log "Kafka already running"
        return 0
    fi
    mm_fetch_kafka || return 1
    if ! kafka_launch || ! kafka_wait_ready; then
        show_tail "$RUNDIR/kafka.log"
        kafka_stop kill
        return 1
    fi
}

# ---------------------------------------------------------------- PostgreSQL

pg_init() {
    local data
    [[ -x "$MM_PG_BIN/postgres" ]] || { mm_err "PostgreSQL binaries not found in $MM_PG_BIN"; return 1; }
    PG_BASE="$RUNDIR/pg"
    PG_BASE_EXTERNAL=0
    mkdir -p "$PG_BASE"
    if [[ $EUID -eq 0 ]]; then
        chown "$PG_OSUSER" "$PG_BASE"
        if ! as_pg test -w "$PG_BASE" 2>/dev/null; then
            PG_BASE="$(mktemp -d /tmp/mm-pg.XXXXXX)"
            PG_BASE_EXTERNAL=1
            chown "$PG_OSUSER" "$PG_BASE"
            mm_log "$RUNDIR is not writable by $PG_OSUSER; PostgreSQL files in $PG_BASE"
        fi
    fi
    # Unix socket in the run dir unless the path is too long for sun_path.
    PG_SOCKET_DIR="$PG_BASE"
    if ((${#PG_SOCKET_DIR} + 20 > 100)); then PG_SOCKET_DIR=""; fi
    data="$PG_BASE/data"
    if ! (cd / && as_pg "$MM_PG_BIN/initdb" -D "$data" -U postgres -A trust -E UTF8 \
        --locale=C.UTF-8 --no-sync) >>"$RUNDIR/pg.log" 2>&1; then
        mm_err "initdb failed"
        return 1
    fi
    cat >"$RUNDIR/pg-extra.conf" <<EOF
# appended by tests/services/services.sh
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_SOCKET_DIR'
max_connections = 100
fsync = off
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
log_timezone = 'UTC'
timezone = 'UTC'
lc_messages = 'C'
EOF
    as_pg tee -a "$data/postgresql.conf" <"$RUNDIR/pg-extra.conf" >/dev/null &&
        printf 'local all all trust\nhost all all 127.0.0.1/32 trust\n' |
        as_pg tee "$data/pg_hba.conf" >/dev/null
}

pg_launch() {
    local pid data="$PG_BASE/data"
    if port_open "$PG_PORT"; then
        mm_err "PostgreSQL port $PG_PORT is already in use"
        return 1
    fi
    (
        cd / || exit 1
        if [[ $EUID -eq 0 ]]; then
            exec setsid setpriv --reuid="$PG_OSUSER" --regid="$PG_OSUSER" --init-groups -- \
                env HOME=/ USER="$PG_OSUSER" LOGNAME="$PG_OSUSER" "$MM_PG_BIN/postgres" -D "$data"
        else
            exec setsid "$MM_PG_BIN/postgres" -D "$data"
        fi
    ) >>"$RUNDIR/pg.log" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$RUNDIR/pg.pid"
}

pg_wait_ready() {
    local pid t0=$SECONDS
    pid="$(read_pid "$RUNDIR/pg.pid")"
    while ((SECONDS - t0 < PG_START_TIMEOUT)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            mm_err "PostgreSQL (pid $pid) exited during startup"
            return 1
        fi
        if "$MM_PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -t 2; then
            mm_log "PostgreSQL ready on 127.0.0.1:$PG_PORT after $((SECONDS - t0)) s (pid $pid)"
            return 0
        fi
        sleep 0.1
    done
    mm_err "PostgreSQL not ready after ${PG_START_TIMEOUT} s"
    return 1
}

pg_setup_roles() {
    "$MM_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres \
        >>"$RUNDIR/pg.log" 2>&1 <<'SQL'
CREATE ROLE minutes_owner LOGIN;
CREATE ROLE minutes_worker LOGIN;
CREATE DATABASE minutes OWNER minutes_owner ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE minutes FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE minutes TO minutes_worker;
\connect minutes
-- PG15: schema public is owned by pg_database_owner (= minutes_owner) and
-- PUBLIC has no CREATE on it. Make that explicit; the worker gets USAGE only.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO minutes_worker;
SQL
}

pg_stop() {
    local mode="${1:-fast}" pid sig
    pid="$(pg_pid || true)"
    if [[ -z "$pid" ]]; then
        rm -f "$RUNDIR/pg.pid"
        return 0
    fi
    case "$mode" in
    fast) sig=INT ;;
    immediate) sig=QUIT ;;
    smart) sig=TERM ;;
    *) mm_err "pg-stop mode must be fast, immediate or smart"; return 2 ;;
    esac
    kill -"$sig" "$pid" 2>/dev/null
    if ! wait_gone "$pid" "$STOP_TIMEOUT"; then
        mm_log "PostgreSQL (pid $pid) still up after ${STOP_TIMEOUT} s; killing"
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
        wait_gone "$pid" 10 || { mm_err "could not kill PostgreSQL pid $pid"; return 1; }
    fi
    # Backends of an immediate/killed postmaster exit on their own; make sure.
    kill -KILL -- "-$pid" 2>/dev/null || true
    rm -f "$RUNDIR/pg.pid"
    mm_log "PostgreSQL stopped ($mode)"
}

pg_start_existing() {
    [[ -d "$PG_BASE/data" ]] || { mm_err "no PostgreSQL data dir $PG_BASE/data (run start first)"; return 1; }
    if [[ -n "$(pg_pid || true)" ]]; then
        mm_log "PostgreSQL already running"
        return 0
    fi
    if ! pg_launch || ! pg_wait_ready; then
        show_tail "$RUNDIR/pg.log"
        pg_stop immediate
        return 1
    fi
}

# ---------------------------------------------------------------- watchdog

start_watchdog() {
    local owner="$1"
    [[ "$owner" =~ ^[0-9]+$ ]] && kill -0 "$owner" 2>/dev/null ||
        { mm_err "--owner-pid $owner is not a running process"; return 1; }
    (
        exec setsid bash -c '
            owner="$1" script="$2" rundir="$3"
            while kill -0 "$owner" 2>/dev/null; do sleep 1; done
            echo "[watchdog $(date -u +%H:%M:%S)] owner $owner is gone; stopping services"
            exec "$script" stop "$rundir"
        ' mm-services-watchdog "$owner" "$MM_SERVICES_DIR/services.sh" "$RUNDIR"
    ) >>"$RUNDIR/watchdog.log" 2>&1 </dev/null &
    echo "$!" >"$RUNDIR/watchdog.pid"
    mm_log "watchdog pid $! stops the services when pid $owner exits"
}

stop_watchdog() {
    local pid
    pid="$(read_pid "$RUNDIR/watchdog.pid")"
    [[ -n "$pid" ]] || return 0
    # Do not kill the watchdog that is running us.
    if [[ "$pid" != "$PPID" ]] && pid_is_ours "$pid" "mm-services-watchdog"; then
        kill -TERM "$pid" 2>/dev/null
    fi
    rm -f "$RUNDIR/watchdog.pid"
}

# ---------------------------------------------------------------- commands

do_stop() {
    local rc=0
    local kjob
    load_state || true
    stop_watchdog
    # Stop both at once; each waits for its process to exit.
    kafka_stop term &
    kjob=$!
    if [[ -n "${PG_BASE:-}" ]]; then
        pg_stop fast || rc=1
        if [[ "${PG_BASE_EXTERNAL:-0}" == 1 && "$PG_BASE" == /tmp/mm-pg.* && -z "$(pg_pid || true)" ]]; then
            rm -rf "$PG_BASE"
        fi
    fi
    wait "$kjob" || rc=1
    [[ -f "$RUNDIR/state" ]] && write_env
    return $rc
}

START_FAILED=0
start_fail() {
    [[ $START_FAILED == 1 ]] && exit 1
    START_FAILED=1
    mm_err "$1"
    show_tail "$RUNDIR/kafka.log"
    show_tail "$RUNDIR/pg.log"
    mm_log "stopping whatever was started"
    do_stop >/dev/null 2>&1 || true
    exit 1
}

do_start() {
    local t0=$SECONDS ports owner="${MM_SERVICES_OWNER_PID:-}"
    if [[ "${1:-}" == --owner-pid ]]; then
        [[ $# -ge 2 ]] || usage
        owner="$2"
    elif [[ $# -gt 0 ]]; then
        usage
    fi
    trap 'start_fail "interrupted"' INT TERM HUP
    if [[ -f "$RUNDIR/state" ]]; then
        load_state
        if [[ -n "$(kafka_pid || true)" || -n "$(pg_pid || true)" ]]; then
            mm_err "services already running in $RUNDIR; run: $0 stop $RUNDIR"
            exit 1
        fi
        if [[ "${PG_BASE_EXTERNAL:-0}" == 1 && "$PG_BASE" == /tmp/mm-pg.* ]]; then rm -rf "$PG_BASE"; fi
    fi
    rm -rf "$RUNDIR/kafka" "$RUNDIR/pg" "$RUNDIR/kafka.log" "$RUNDIR/pg.log" "$RUNDIR/env" \
        "$RUNDIR/state" "$RUNDIR/kafka.pid" "$RUNDIR/pg.pid" "$RUNDIR/watchdog.log"
    : >"$RUNDIR/kafka.log"
    : >"$RUNDIR/pg.log"

    command -v "$MM_JAVA" >/dev/null || start_fail "java not found"
    mm_fetch_kafka || start_fail "could not fetch Kafka jars"
    choose_pg_osuser || start_fail "no OS user for PostgreSQL"
    ports="$(pick_ports 3)" || start_fail "could not find 3 free ports"
    read -r KAFKA_PORT KAFKA_CONTROLLER_PORT PG_PORT <<<"$ports"
    PG_BASE="$RUNDIR/pg" PG_BASE_EXTERNAL=0 PG_SOCKET_DIR=""
    save_state

    kafka_configure_and_format || start_fail "Kafka storage format failed"
    kafka_launch || start_fail "Kafka launch failed"

    # PostgreSQL comes up while the broker boots.
    pg_init || start_fail "PostgreSQL initdb failed"
    save_state
    pg_launch || start_fail "PostgreSQL launch failed"
    pg_wait_ready || start_fail "PostgreSQL did not become ready"
    pg_setup_roles || start_fail "creating database/roles failed"

    kafka_wait_ready || start_fail "Kafka did not become ready"
    if [[ -n "$owner" ]]; then start_watchdog "$owner" || start_fail "watchdog"; fi
    write_env
    trap - INT TERM HUP
    mm_log "services up in $((SECONDS - t0)) s; source $RUNDIR/env"
    cat "$RUNDIR/env"
}

do_status() {
    local rc=0 k p
    load_state || { echo "not started"; return 1; }
    k="$(kafka_pid || true)"
    p="$(pg_pid || true)"
    if [[ -n "$k" ]]; then echo "kafka: running pid $k on 127.0.0.1:$KAFKA_PORT"; else echo "kafka: stopped"; rc=1; fi
    if [[ -n "$p" ]]; then echo "postgresql: running pid $p on 127.0.0.1:$PG_PORT"; else echo "postgresql: stopped"; rc=1; fi
    return $rc
}

need_state() { load_state || { mm_err "no services state in $RUNDIR (run start first)"; exit 1; }; }

[[ $# -ge 2 ]] || usage
CMD="$1"
if [[ "$CMD" != start && ! -d "$2" ]]; then
    # Nothing was ever started there: stop is a no-op, the rest are errors.
    [[ "$CMD" == stop ]] && exit 0
    mm_err "no such run dir: $2"
    exit 1
fi
RUNDIR="$(abs_dir "$2")" || { mm_err "cannot create $2"; exit 1; }
shift 2

case "$CMD" in
start) do_start "$@" ;;
stop) do_stop ;;
status) do_status ;;
pg-stop) need_state; pg_stop "${1:-fast}"; rc=$?; write_env; exit $rc ;;
pg-start) need_state; pg_start_existing; rc=$?; write_env; exit $rc ;;
pg-restart) need_state; pg_stop fast && pg_start_existing; rc=$?; write_env; exit $rc ;;
kafka-stop) need_state; kafka_stop "${1:-term}"; rc=$?; write_env; exit $rc ;;
kafka-start) need_state; kafka_start_existing; rc=$?; write_env; exit $rc ;;
kafka-restart) need_state; kafka_stop term && kafka_start_existing; rc=$?; write_env; exit $rc ;;
*) usage ;;
esac
