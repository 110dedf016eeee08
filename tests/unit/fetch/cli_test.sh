#!/usr/bin/env bash
# minutes-source's command line without services: usage errors exit 2 with a
# clear message; the built-in table holds the 88 FirstAgenda kommuner; with
# the state database unreachable, --once exits 1 naming every kommune (and
# sends no request to any of them: a host is polled only under its lock).
#   cli_test.sh BIN_DIR
set -uo pipefail
BIN="$1/minutes-source"
FAILS=0
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
TMP="$(mktemp -d /tmp/mm-source-cli.XXXXXX)"
trap 'rm -rf "$TMP"' EXIT

# expect RC PATTERN ARGS...: exit status RC and PATTERN in stdout+stderr
expect() {
    local want="$1" pat="$2" rc=0; shift 2
    "$BIN" "$@" >"$TMP/out" 2>&1 || rc=$?
    [[ $rc == "$want" ]] || fail "$*: exit $rc, want $want ($(tail -2 "$TMP/out"))"
    grep -q -- "$pat" "$TMP/out" || fail "$*: output lacks \"$pat\" ($(tail -2 "$TMP/out"))"
}

expect 0 "--kommune" --help
expect 2 "not in the host table" --kommune Atlantis
expect 2 "needs NAME=URL" --base-url Hvidovre
expect 2 "must be > 0" --interval 0
expect 2 "must be > 0" --max-attempts 0
expect 2 "must be on or off" --attachments sometimes
expect 2 "attachments-per-poll >= 0" --attachments-per-poll -1
expect 2 "cannot open" --hosts /nonexistent/hosts.tsv
expect 2 "unknown option --bogus" --bogus
expect 2 "unexpected argument" somefile
printf 'Testkommune\n' >"$TMP/bad.tsv"
expect 2 "expected kommune<TAB>host" --hosts "$TMP/bad.tsv"

# no state database: every kommune of the built-in table fails, none is polled
NOPG="host=$TMP/nosocket dbname=x connect_timeout=1"
expect 1 "polled 88 kommuner, 88 failed" --once --pg "$NOPG" -b 127.0.0.1:1 --threads 4
grep -q "minutes-source: Aabenraa Kommune (https://dagsordener.aabenraa.dk) failed" "$TMP/out" ||
    fail "Aabenraa not named"
grep -q "minutes-source: Hvidovre Kommune (https://" "$TMP/out" || fail "Hvidovre not named"
# --kommune narrows, names resolve to the official name, --base-url replaces the URL
expect 1 "polled 2 kommuner, 2 failed" --once --pg "$NOPG" -b 127.0.0.1:1 --kommune greve \
    -k "Hvidovre Kommune" --base-url "Greve=http://127.0.0.1:9/k/greve"
grep -q "Greve Kommune (http://127.0.0.1:9/k/greve) failed" "$TMP/out" || fail "--base-url not applied"
# environment: comma-separated list
MM_SOURCE_KOMMUNER="Dragør, Egedal" expect 1 "polled 2 kommuner" --once --pg "$NOPG" -b 127.0.0.1:1
# --hosts FILE replaces the table
printf '# ours\nTestkommune\tdagsordener.test.invalid\n' >"$TMP/hosts.tsv"
expect 1 "polled 1 kommuner, 1 failed" --once --pg "$NOPG" -b 127.0.0.1:1 --hosts "$TMP/hosts.tsv"

[[ $FAILS == 0 ]] && echo "source cli: all passed"
exit $((FAILS > 0))
