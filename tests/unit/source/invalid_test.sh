#!/usr/bin/env bash
# Bad exports through minutes-parse: exit 3, the code and a reason naming
# the field, from the table tests/fixtures/source/invalid.tsv.
set -u
bin=$1
dir=$2
fail=0 n=0
while IFS=$'\t' read -r file ct code want; do
    case $file in '#'* | '') continue ;; esac
    n=$((n + 1))
    args=()
    [ "$ct" = - ] || args=(--content-type "$ct")
    err=$("$bin" "${args[@]}" "$dir/$file" 2>&1 >/dev/null)
    rc=$?
    if [ $rc -ne 3 ]; then
        echo "FAIL $file ($ct): exit $rc, want 3: $err"
        fail=1
        continue
    fi
    got=$(printf '%s' "$err" | python3 -c 'import json,sys; e=json.load(sys.stdin); print(e["code"] + "\t" + e["reason"])')
    if [ "${got%%$'\t'*}" != "$code" ] || [[ "${got#*$'\t'}" != *"$want"* ]]; then
        echo "FAIL $file ($ct): got '$got', want code $code and a reason with '$want'"
        fail=1
    fi
done <"$dir/invalid.tsv"
echo "invalid exports: $n cases"
[ $n -gt 0 ] && exit $fail
exit 1
