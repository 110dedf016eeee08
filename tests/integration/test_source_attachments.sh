#!/usr/bin/env bash
# minutes-source fetches each publication's attachments (Bilag) and produces
# them to the attachments topic (issue 22, items 1-2), against the local
# FirstAgenda test server, a real Kafka and PostgreSQL:
#  1. first poll: every attachment the publications name is in the topic
#     once, with the headers of the attachment message; the one over the cap
#     (4 MiB) is an empty record, too_large, with its size: from
#     Content-Length (alpha), or counted past the cap when the server sends
#     no length (beta). An attachment answering 404 is not recorded yet
#     (retried), a 500 inside the request's retries is fetched;
#  2. the next poll: the 404 is recorded as skipped (http_404) after
#     --max-attempts 2; only that attachment is requested;
#  3. a poll with nothing new: 0 attachment requests, 0 agenda requests,
#     0 messages on either topic;
#  4. the minutes of a meeting, naming the agenda's attachments: the minutes
#     are produced, no attachment is fetched again;
#  5. a kommune polled with --attachments off first: no attachment; then on:
#     each publication is fetched once more to register its Bilag (the
#     upgrade path); a 500 past the retries ends that poll and records no
#     skip; the next poll produces every attachment once, although its
#     session expires before an attachment request (the request lands on
#     the login page, HTML: the connector redoes the handshake);
#  6. upgrade: a state database at the migrations before 013 that holds the
#     state of a poll (as the connector left it before attachments existed)
#     is migrated (its rows stay); the connector then fetches each
#     publication once more, produces none of them again, and produces
#     every attachment once (at most 4 in the first poll with
#     --attachments-per-poll 4, the rest in the next); then nothing.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/source_lib.sh"
it_init source_attachments

CAP=$((4 * 1024 * 1024))
fa_start alpha:21:5 beta:22:3 gamma:23:3 delta:24:3
KOM=(--kommune Hvidovre --base-url "Hvidovre=$FA/k/alpha" --kommune Albertslund
     --base-url "Albertslund=$FA/k/beta")
GAMMA=(--kommune Dragør --base-url "Dragør=$FA/k/gamma")
dump_att() { "$MM_BIN/mm-kafka-tool" dump "$KAFKA_BOOTSTRAP" "$ATT" >"$WORK/att.jsonl"; }
att_json() { fa_get "/_attachments/$1" >"$WORK/att-$1.json"; }
# att_of SLUG KIND: the first attachment Id of that kind
att_of() {
    "$PY" -c "import json,sys; print(next(k for k, v in json.load(open(sys.argv[1])).items()
              if v['kind'] == sys.argv[2]))" "$WORK/att-$1.json" "$2"
}
check() {
    "$PY" "$IT_DIR/check_attachments.py" "$WORK/att.jsonl" "$@" \
        "Hvidovre Kommune=$FA/k/alpha=$WORK/att-alpha.json=$CAP" \
        "Albertslund Kommune=$FA/k/beta=$WORK/att-beta.json=$CAP"
}
sum_stat() { local n=0 s; for s in "$@"; do n=$((n + $(fa_stat "$s" "$FIELD"))); done; echo "$n"; }

att_json alpha
att_json beta
n_alpha="$("$PY" -c "import json,sys; print(len(json.load(open(sys.argv[1]))))" "$WORK/att-alpha.json")"
n_beta="$("$PY" -c "import json,sys; print(len(json.load(open(sys.argv[1]))))" "$WORK/att-beta.json")"
n_att=$((n_alpha + n_beta))
[[ $n_alpha -ge 3 && $n_beta -ge 3 ]] || fail "the invented worlds name too few attachments ($n_alpha, $n_beta)"
# the scanned one has no text layer (an image-only page); a text one has its code word
scan="$(att_of alpha scanned)" text="$(att_of alpha text)"
fa_get "/k/alpha/blob/$scan.pdf" >"$WORK/scan.pdf" && fa_get "/k/alpha/blob/$text.pdf" >"$WORK/text.pdf" ||
    fail "test server: attachment files"
[[ -z "$(pdftotext "$WORK/scan.pdf" - | tr -d '[:space:]')" && "$(pdfimages -list "$WORK/scan.pdf" | wc -l)" -gt 2 ]] ||
    fail "the scanned attachment has a text layer, or no image"
pdftotext "$WORK/text.pdf" - | grep -q "^Kodeord: " || fail "the text attachment has no text layer"
gone="$(att_of beta text)"
huge_b="$(att_of beta huge)"
fa_ctl "beta/fault?mode=attgone&id=$gone"
fa_ctl "beta/fault?mode=attnolength&id=$huge_b"
fa_ctl "alpha/fault?mode=att500&count=2"   # inside one request's 3 retries

# --- 1. first poll -------------------------------------------------------------
for s in alpha beta; do fa_entries "$s"; done >"$WORK/ids-1"
n_pub="$(wc -l <"$WORK/ids-1")"
rc=0
source_run 1 --once --max-attempts 2 "${KOM[@]}" || rc=$?
[[ $rc == 1 ]] || fail "first poll: exit $rc, want 1 (the 404 is an attachment error)"
grep -q "Albertslund Kommune .* failed" "$WORK/source-1.log" || fail "the kommune with the 404 is not named"
if grep -q "Hvidovre Kommune .* failed" "$WORK/source-1.log"; then fail "Hvidovre reported failed"; fi
[[ "$(raw_count)" == "$n_pub" ]] || fail "first poll: $(raw_count) publications, want $n_pub"
dump_att
check --pending "$gone" || fail "first poll: the attachments topic (above)"
[[ "$(att_count)" == $((n_att - 1)) ]] || fail "first poll: $(att_count) attachment messages, want $((n_att - 1))"
[[ "$(sql "SELECT attempts || ' ' || last_error_kind || ' ' || (produced_at IS NULL)
           FROM source_attachments WHERE attachment_id = '$gone'")" == "1 permanent true" ]] ||
    fail "state of the 404: $(sql "SELECT * FROM source_attachments WHERE attachment_id = '$gone'")"
[[ "$(sql "SELECT count(*) FROM source_attachments WHERE produced_at IS NOT NULL")" == $((n_att - 1)) ]] ||
    fail "state: $(sql "SELECT count(*) FROM source_attachments WHERE produced_at IS NOT NULL") produced"
huge_a="$(att_of alpha huge)"
[[ "$(sql "SELECT skipped || ' ' || size_bytes FROM source_attachments WHERE attachment_id = '$huge_a'")" == \
   "too_large $("$PY" -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]]['size'])" "$WORK/att-alpha.json" "$huge_a")" ]] ||
    fail "state of the over-cap attachment: $(sql "SELECT skipped, size_bytes FROM source_attachments WHERE attachment_id = '$huge_a'")"
log "1. first poll: $((n_att - 1)) of $n_att attachments produced once with their headers (2 over the cap recorded too_large with their size), the 404 left for later"

# --- 2. the 404 again: recorded as skipped ----------------------------------------
fa_reset_stats alpha beta
rc=0
source_run 2 --once --max-attempts 2 "${KOM[@]}" || rc=$?
[[ $rc == 0 ]] || fail "second poll: exit $rc"
FIELD=bilag
[[ "$(sum_stat alpha beta)" == 1 ]] || fail "second poll: $(sum_stat alpha beta) attachment requests, want 1"
dump_att
check --skipped "$gone=http_404" || fail "second poll: the attachments topic (above)"
[[ "$(att_count)" == "$n_att" ]] || fail "second poll: $(att_count) attachment messages, want $n_att"
log "2. second poll: the 404 recorded as skipped (http_404), 1 attachment request"

# --- 3. nothing new ------------------------------------------------------------------
fa_reset_stats alpha beta
source_run 3 --once --max-attempts 2 "${KOM[@]}" || fail "third poll: exit $?"
for FIELD in bilag blob agenda; do
    [[ "$(sum_stat alpha beta)" == 0 ]] || fail "third poll: $(sum_stat alpha beta) $FIELD requests, want 0"
done
[[ "$(att_count)" == "$n_att" && "$(raw_count)" == "$n_pub" ]] ||
    fail "third poll produced messages: attachments $(att_count), publications $(raw_count)"
log "3. a poll with nothing new: 0 attachment requests, 0 messages"

# --- 4. the minutes name the agenda's attachments ----------------------------------
m="$(fa_meeting alpha Dagsorden)"
[[ -n "$m" ]] || fail "no agenda-only meeting in alpha"
ref="$(fa_publish alpha referat "$m")"
fa_reset_stats alpha beta
source_run 4 --once --max-attempts 2 "${KOM[@]}" || fail "poll after the Referat: exit $?"
FIELD=bilag
[[ "$(fa_stat alpha agenda)" == 1 && "$(sum_stat alpha beta)" == 0 ]] ||
    fail "the Referat: $(fa_stat alpha agenda) agenda and $(sum_stat alpha beta) attachment requests, want 1 and 0"
[[ "$(raw_count)" == $((n_pub + 1)) && "$(att_count)" == "$n_att" ]] ||
    fail "the Referat: publications $(raw_count), attachments $(att_count)"
log "4. minutes naming the agenda's attachments: produced, no attachment fetched again"

# --- 5. attachments off, then on (the upgrade path), with a transient failure --------
source_run 5 --once --attachments off "${GAMMA[@]}" || fail "gamma, attachments off: exit $?"
n_g_pub="$(fa_entries gamma | wc -l)"
att_json gamma
n_g="$("$PY" -c "import json,sys; print(len(json.load(open(sys.argv[1]))))" "$WORK/att-gamma.json")"
[[ "$(att_count)" == "$n_att" && "$(sql "SELECT count(*) FROM source_attachments")" == "$n_att" ]] ||
    fail "--attachments off produced or registered attachments"
fa_reset_stats gamma
fa_ctl "gamma/fault?mode=att500&count=4"   # more than the request's 3 retries
rc=0
source_run 6 --once "${GAMMA[@]}" || rc=$?
[[ $rc == 1 ]] || fail "gamma with a 500 past the retries: exit $rc, want 1"
[[ "$(fa_stat gamma agenda)" == "$n_g_pub" ]] ||
    fail "gamma: $(fa_stat gamma agenda) publications fetched again to register their Bilag, want $n_g_pub"
[[ "$(att_count)" == "$n_att" ]] || fail "gamma: a transient failure produced $(( $(att_count) - n_att )) messages"
[[ "$(sql "SELECT count(*) FROM source_attachments WHERE skipped IS NOT NULL")" == 3 &&
   "$(sql "SELECT count(*) FROM source_attachments WHERE last_error_kind = 'transient'
           AND produced_at IS NULL AND attempts = 1")" == 1 ]] ||
    fail "gamma: the transient failure: $(sql "SELECT attachment_id, skipped, last_error_kind FROM source_attachments WHERE last_error_kind IS NOT NULL")"
fa_reset_stats gamma
fa_ctl "gamma/fault?mode=attrelogin&count=1"
source_run 7 --once "${GAMMA[@]}" || fail "gamma after the 500s: exit $?"
[[ "$(fa_stat gamma agenda)" == 0 ]] || fail "gamma: publications fetched again"
[[ "$(fa_stat gamma handshake)" == 2 ]] ||
    fail "gamma: $(fa_stat gamma handshake) handshakes, want 2 (start, and after the login page)"
[[ "$(att_count)" == $((n_att + n_g)) ]] || fail "gamma: $(( $(att_count) - n_att )) attachments, want $n_g"
dump_att
"$PY" "$IT_DIR/check_attachments.py" "$WORK/att.jsonl" --skipped "$gone=http_404" \
    "Hvidovre Kommune=$FA/k/alpha=$WORK/att-alpha.json=$CAP" \
    "Albertslund Kommune=$FA/k/beta=$WORK/att-beta.json=$CAP" \
    "Dragør Kommune=$FA/k/gamma=$WORK/att-gamma.json=$CAP" || fail "gamma: the attachments topic (above)"
log "5. off then on: each publication fetched once more, a transient failure retried (never skipped), then $n_g attachments once, through a new session"

# --- 6. upgrade of a state database that holds data -----------------------------------
DB3="mm_it_source_att_upgrade"
it_new_db "$DB3"
OWNER3="${MM_PG_OWNER_URL%/*}/$DB3" WORKER3="${MM_PG_WORKER_URL%/*}/$DB3" SUPER3="${MM_PG_SUPERUSER_URL%/*}/$DB3"
s3() { psql "$SUPER3" -qAtX -v ON_ERROR_STOP=1 -c "$1"; }
psql "$OWNER3" -qAtX -v ON_ERROR_STOP=1 -c "CREATE TABLE schema_migrations (version text PRIMARY KEY,
    checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())" >/dev/null
for f in "$MM_SOURCE_DIR"/schemas/[0-9]*.sql; do
    v="$(basename "$f")"
    [[ $((10#${v%%_*})) -lt 13 ]] || continue
    psql "$OWNER3" -qAtX -v ON_ERROR_STOP=1 -f "$f" >/dev/null || fail "apply $v"
    psql "$OWNER3" -qAtX -v ON_ERROR_STOP=1 -c "INSERT INTO schema_migrations (version, checksum)
        VALUES ('$v', '$(md5sum "$f" | cut -d' ' -f1)')" >/dev/null
done
# the state a poll left before attachments: every publication produced (its body's sha256)
DHOST="${FA#http://}/k/delta"
"$PY" - "$FA/k/delta" "$DHOST" >"$WORK/seed.sql" <<'PY' || fail "seed the old state"
import hashlib, http.cookiejar, json, sys, urllib.request
base, host = sys.argv[1], sys.argv[2]
op = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
op.open(base + "/").read()
q = lambda v: "'" + str(v).replace("'", "''") + "'"
print("INSERT INTO source_hosts (host, kommune, last_poll_at, last_success_at) VALUES (%s, 'Testby', now(), now());" % q(host))
for period in json.load(op.open(base + "/api/agenda/udvalgsliste"))["Udvalg"].values():
    for c in period:
        for m in c["Moeder"]:
            body = op.open(base + "/api/agenda/dagsorden/" + m["Id"]).read()
            print("INSERT INTO source_entries (host, entry_id, committee_id, meeting_start, navn,"
                  " released_date, afsluttet, body_sha256, produced_at, last_success_at) VALUES"
                  " (%s, %s, %s, %s, %s, %s, %s, %s, now(), now());" % (
                      q(host), q(m["Id"]), q(c["Id"]), q(m["MeetingBeginUtc"]), q(m["Navn"]),
                      q(m["ReleasedDate"] or ""), "true" if m["Afsluttet"] else "false",
                      q(hashlib.sha256(body).hexdigest())))
PY
psql "$OWNER3" -qAtX -v ON_ERROR_STOP=1 -f "$WORK/seed.sql" >/dev/null || fail "seed.sql"
n_d_pub="$(s3 "SELECT count(*) FROM source_entries")"
"$MM_BIN/minutes-worker" --migrate --pg "$OWNER3" 2>"$WORK/migrate3.log" || { cat "$WORK/migrate3.log" >&2; fail "upgrade to 013"; }
[[ "$(s3 "SELECT count(*) FROM source_entries WHERE body_sha256 IS NOT NULL AND attachments_at IS NULL")" == "$n_d_pub" &&
   "$(s3 "SELECT count(*) FROM schema_migrations WHERE version = '013_attachment_fetch.sql'")" == 1 ]] ||
    fail "upgrade: the old state rows changed or 013 is not recorded"
att_json delta
n_d="$("$PY" -c "import json,sys; print(len(json.load(open(sys.argv[1]))))" "$WORK/att-delta.json")"
before_raw="$(raw_count)" before_att="$(att_count)"
fa_reset_stats delta
DELTA=(--pg "$WORKER3" --kommune Testby --base-url "Testby=$FA/k/delta")
source_run 8 --once --attachments-per-poll 4 "${DELTA[@]}" || fail "poll after the upgrade: exit $?"
[[ "$(fa_stat delta agenda)" == "$n_d_pub" && "$(raw_count)" == "$before_raw" ]] ||
    fail "after the upgrade: $(fa_stat delta agenda) publications fetched (want $n_d_pub), $(( $(raw_count) - before_raw )) produced (want 0)"
FIELD=bilag
[[ "$(att_count)" == $((before_att + 4)) && "$(sum_stat delta)" == 4 ]] ||
    fail "--attachments-per-poll 4: $(( $(att_count) - before_att )) attachments, $(sum_stat delta) requests"
source_run 9 --once "${DELTA[@]}" || fail "second poll after the upgrade: exit $?"
[[ "$(att_count)" == $((before_att + n_d)) ]] ||
    fail "after the upgrade: $(( $(att_count) - before_att )) attachments, want $n_d"
fa_reset_stats delta
source_run 10 --once "${DELTA[@]}" || fail "third poll after the upgrade: exit $?"
for FIELD in agenda bilag; do
    [[ "$(fa_stat delta "$FIELD")" == 0 ]] || fail "third poll after the upgrade: $(fa_stat delta "$FIELD") $FIELD requests"
done
[[ "$(att_count)" == $((before_att + n_d)) ]] || fail "third poll after the upgrade produced attachments"
log "6. upgrade of a state at 011 with $n_d_pub publications: migrated, each fetched once more, none produced again, $n_d attachments once (4, then the rest: --attachments-per-poll 4); then nothing"
log "PASS source_attachments"
