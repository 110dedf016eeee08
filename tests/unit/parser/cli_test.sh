#!/usr/bin/env bash
# minutes-parse as a program: exit statuses, the one-line JSON error on
# stderr, and the not-minutes inputs of the issue (empty, random bytes, an
# English paragraph, a 20 MiB file, NUL and control bytes).
set -u
bin=$1
seeds=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0
fail=0

ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*" >&2; fail=$((fail + 1)); }

# expect_reject NAME FILE CODE: exit 3 and {"code": CODE, "reason": ...}
expect_reject() {
    local name=$1 file=$2 code=$3 rc
    "$bin" "$file" >"$work/out" 2>"$work/err"
    rc=$?
    if [ "$rc" -ne 3 ]; then
        bad "$name: exit $rc, want 3"
        return
    fi
    if [ -s "$work/out" ]; then
        bad "$name: printed something on stdout"
        return
    fi
    if [ "$(wc -l <"$work/err")" -ne 1 ]; then
        bad "$name: stderr is not one line"
        return
    fi
    if python3 -c 'import json,sys; e=json.load(open(sys.argv[1])); sys.exit(0 if e["code"]==sys.argv[2] and e["reason"] else 1)' \
        "$work/err" "$code"; then
        ok
    else
        bad "$name: stderr $(cat "$work/err"), want code $code"
    fi
}

: >"$work/empty"
expect_reject empty "$work/empty" empty
printf '  \n\t\n' >"$work/blank"
expect_reject blank "$work/blank" empty
head -c 65536 /dev/urandom >"$work/random"
expect_reject random "$work/random" binary
printf 'Mødedato: 6. september 2021\n\0\0\0\1\2\3\4\5binary\0' >"$work/nul"
expect_reject nul-and-control "$work/nul" binary
python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(0,32))*200)' >"$work/control"
expect_reject control "$work/control" binary
cat >"$work/english" <<'TXT'
It is a truth universally acknowledged, that a single man in possession of a
good fortune, must be in want of a wife. However little known the feelings or
views of such a man may be on his first entering a neighbourhood, this truth is
so well fixed in the minds of the surrounding families, that he is considered
the rightful property of some one or other of their daughters.
TXT
expect_reject english "$work/english" not_minutes
# 20 MiB of otherwise good minutes text: over the default 16 MiB limit.
f=$(ls "$seeds"/*.txt | head -n 1)
cat "$f" >"$work/big"
while [ "$(stat -c %s "$work/big")" -lt 20971520 ]; do cat "$work/big" "$work/big" >"$work/big2" && mv "$work/big2" "$work/big"; done
expect_reject 20MiB "$work/big" too_large
# ... and the limit is configurable.
"$bin" --max-bytes 100 "$f" >/dev/null 2>"$work/err"
[ $? -eq 3 ] && grep -q too_large "$work/err" && ok || bad "--max-bytes 100 not enforced"

# Usage errors: exit 2 with a message.
for args in "" "a b" "--bogus x" "--max-bytes abc x"; do
    # shellcheck disable=SC2086
    "$bin" $args >/dev/null 2>"$work/err"
    rc=$?
    if [ "$rc" -eq 2 ] && [ -s "$work/err" ]; then ok; else bad "args '$args': exit $rc, want 2 and a message"; fi
done
"$bin" "$work/does-not-exist" >/dev/null 2>&1
[ $? -eq 1 ] && ok || bad "missing file: want exit 1"

# Good input, from a file and from stdin, with and without --pretty.
# Reals are printed with limited precision: a confidence such as 0.929
# prints as 0.929, not as 0.92900000000000005 (the nearest double).
short_reals() {
    if grep -Eq '[0-9]\.[0-9]*[0-9]{16}' "$1"; then
        bad "$2: a real printed with 17 digits: $(grep -Eo '"[a-z_]+":[0-9]\.[0-9]{16,}' "$1" | head -n 2)"
    elif grep -Eq '"confidence":[01](\.[0-9]{1,6})?[,}]' "$1"; then
        ok
    else
        bad "$2: no confidence printed as a short real"
    fi
}
for s in "$seeds"/*.txt; do
    "$bin" "$s" >"$work/out" 2>"$work/err" && python3 -m json.tool "$work/out" >/dev/null && ok || bad "seed $s"
    short_reals "$work/out" "seed $s"
done
"$bin" --pretty - <"$f" >"$work/out" && [ "$(wc -l <"$work/out")" -gt 50 ] && ok || bad "stdin with --pretty"

# --help names every adapter and option the README documents.
"$bin" --help >"$work/help" 2>&1
for w in SBSYS FirstAgenda eDoc --published-at --content-type --max-bytes --pretty \
    application/vnd.sbsys-agenda+xml; do
    grep -q -- "$w" "$work/help" && ok || bad "--help does not mention $w"
done

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
