# Helpers of minutes-source's integration tests (sourced after lib.sh and
# it_init): the local FirstAgenda test server (firstagenda_server.py) and
# minutes-source runs with short timeouts.
#
# Kommuner of the test server are served under $FA/k/SLUG; a test points a
# real kommune name at a slug with --base-url (its state is then keyed by
# that kommune's host).

GREVE_DIR="$MM_SOURCE_DIR/../shared/corpus/firstagenda-greve"
declare -A SPID=()
# Debian's python3 (CI's): a version manager's shim can take seconds to start
PY=python3
[[ -x /usr/bin/python3 ]] && PY=/usr/bin/python3

# fa_start SLUG:SEED:N...: starts the test server; sets FA (its base URL).
fa_start() {
    local greve=()
    [[ -d "$GREVE_DIR" ]] && greve=(--greve "$GREVE_DIR")
    rm -f "$WORK/fa.port"
    "$PY" "$IT_DIR/firstagenda_server.py" --port-file "$WORK/fa.port" "${greve[@]}" "$@" \
        2>"$WORK/fa-server.log" &
    WPID[fa]=$!
    wait_until 60 "test server" test -s "$WORK/fa.port"
    FA="http://127.0.0.1:$(cat "$WORK/fa.port")"
    log "FirstAgenda test server at $FA"
}

have_greve() { [[ -d "$GREVE_DIR" ]]; }

fa_get() { curl -sf --max-time 10 "$FA$1"; }
fa_ctl() { fa_get "/_control/$1" >/dev/null || fail "test server control $1"; }

# fa_stat SLUG FIELD: handshake | listing | agenda count since the last reset.
fa_stat() {
    fa_get /_stats | "$PY" -c "import json,sys; print(json.load(sys.stdin)['$1']['$2'])"
}
fa_reset_stats() { local s; for s in "$@"; do fa_ctl "$s/reset_stats"; done; }

# fa_entries SLUG: the listed Ids, one a line.
fa_entries() {
    fa_get "/_entries/$1" | "$PY" -c "import json,sys; print('\n'.join(json.load(sys.stdin)))"
}

# fa_meeting SLUG WANT: the index of the first invented meeting whose
# publications are exactly WANT (e.g. "Dagsorden").
fa_meeting() {
    fa_get "/_meetings/$1" | "$PY" -c "
import json,sys
for m in json.load(sys.stdin):
    if ','.join(m['navn']) == '$2':
        print(m['index']); break"
}

# fa_publish SLUG KIND INDEX: publishes and prints the new Id.
fa_publish() {
    fa_get "/_control/$1/publish?kind=$2&meeting=$3" |
        "$PY" -c "import json,sys; print(json.load(sys.stdin)['id'])"
}

# The options every test run of minutes-source uses: fast, no politeness
# pause (the test server is local), short timeouts.
SOURCE_FAST=(--request-interval-ms 0 --connect-timeout-ms 1000 --timeout-ms 2000
             --http-retries 3 --backoff-ms 100 --backoff-max-ms 400 --max-retry-after-ms 5000
             --max-body-bytes 4MiB --threads 4 --log-level info --attachment-max-bytes 4MiB)

# source_run ID ARGS...: one minutes-source run in the foreground; its
# exit status is the function's. Log: $WORK/source-ID.log.
source_run() {
    local id="$1" t0=$SECONDS rc=0; shift
    "$MM_BIN/minutes-source" -b "$KAFKA_BOOTSTRAP" -t "$RAW" --pg "$WORKER_URL" \
        --attachments-topic "$ATT" "${SOURCE_FAST[@]}" "$@" >>"$WORK/source-$id.out" \
        2>>"$WORK/source-$id.log" || rc=$?
    log "minutes-source run $id: exit $rc after $((SECONDS - t0)) s"
    return $rc
}

# source_start ID ARGS...: minutes-source in the background (SPID[ID]).
source_start() {
    local id="$1"; shift
    "$MM_BIN/minutes-source" -b "$KAFKA_BOOTSTRAP" -t "$RAW" --pg "$WORKER_URL" \
        --attachments-topic "$ATT" "${SOURCE_FAST[@]}" "$@" >>"$WORK/source-$id.out" \
        2>>"$WORK/source-$id.log" &
    WPID[src-$id]=$!
    SPID[$id]=$!
}

raw_count() { "$MM_BIN/mm-kafka-tool" count "$KAFKA_BOOTSTRAP" "$RAW"; }
att_count() { "$MM_BIN/mm-kafka-tool" count "$KAFKA_BOOTSTRAP" "$ATT"; }

# ids_stored_once FILE: every Id of FILE is stored as exactly one document.
ids_stored_once() {
    local list
    list="$(paste -sd, "$1" | sed "s/[^,]\+/'&'/g")"
    [[ "$(sql "SELECT count(*) FROM documents WHERE external_id IN ($list)")" == "$(wc -l <"$1")" ]] &&
        [[ "$(sql "SELECT count(*) FROM (SELECT external_id FROM documents WHERE external_id IN ($list)
                   GROUP BY external_id HAVING count(*) > 1) d")" == 0 ]]
}

# no_duplicates: no publication is stored twice.
no_duplicates() {
    [[ "$(sql "SELECT count(*) FROM (SELECT external_id FROM documents GROUP BY external_id
               HAVING count(*) > 1) d")" == 0 ]]
}

# One meeting for the publications $@ (Ids): prints its meeting id.
one_meeting_of() {
    local list
    list="$(printf "'%s'," "$@")"
    sql "SELECT CASE WHEN count(DISTINCT meeting_id) = 1 AND count(*) = $# THEN min(meeting_id)::text
                ELSE 'documents ' || count(*) || ', meetings ' || count(DISTINCT meeting_id) END
         FROM documents WHERE external_id IN (${list%,})"
}

# current_of MEETING: "kind state external_id" of the meeting's current document.
current_of() {
    sql "SELECT m.kind || ' ' || m.state || ' ' || d.external_id FROM meetings m
         JOIN documents d ON d.id = m.current_document_id WHERE m.id = $1"
}

# A port nobody listens on (a host that refuses connections).
closed_port() {
    "$PY" -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1]); s.close()"
}
