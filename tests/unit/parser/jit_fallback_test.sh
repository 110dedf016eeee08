#!/usr/bin/env bash
# PCRE2 JIT refused, as under systemd's MemoryDenyWriteExecute=yes (the
# deploy/systemd unit keeps it): run minutes-parse under nowx, which installs
# the same seccomp rule. Every seed must parse to exactly the output of an
# unrestricted run, and the fallback must be logged once per process (and
# not at all when the JIT works).
#   jit_fallback_test.sh MINUTES_PARSE NOWX SEEDS
set -u
bin=$1
nowx=$2
seeds=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*" >&2; fail=$((fail + 1)); }

for f in "$seeds"/*.txt; do
    b=$(basename "$f" .txt)
    "$bin" "$f" >"$work/jit.json" 2>"$work/jit.err" || bad "$b: exit $? with JIT"
    "$nowx" "$bin" "$f" >"$work/nojit.json" 2>"$work/nojit.err" || bad "$b: exit $? without JIT"
    cmp -s "$work/jit.json" "$work/nojit.json" && ok || bad "$b: output differs without JIT"
    n=$(grep -c '"PCRE2 JIT unavailable' "$work/nojit.err")
    [ "$n" -eq 1 ] && ok || bad "$b: the fallback was logged $n times, want once: $(cat "$work/nojit.err")"
    grep -q 'JIT' "$work/jit.err" && bad "$b: JIT message without the sandbox: $(cat "$work/jit.err")" || ok
    python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$work/nojit.err" &&
        ok || bad "$b: the log line is not JSON"
done
echo "jit_fallback: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
