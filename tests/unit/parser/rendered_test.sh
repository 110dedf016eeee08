#!/usr/bin/env bash
# Issue 7's own real-document set: 30 real Greve meetings (exact structure
# in their FirstAgenda JSON) rendered into the layouts of six other
# publishing systems by tests/tools/render_firstagenda.py (seeded, so the
# set is the same on every run), parsed by minutes-parse and scored against
# gold derived from the JSON. Every family must score >= 0.95 overall.
set -u
bin=$1
render=$2
fix=$3
scorer=$4
seed=${5:-7}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
python3 "$render" "$fix/firstagenda" "$fix/gold/firstagenda" "$out" --seed="$seed" || exit 1
fail=0
for gold in "$out"/gold/*/; do
    fam=$(basename "$gold")
    res=$(python3 "$scorer" --json --parse "$bin {}" --corpus "$out/corpus" --gold "$gold")
    rc=$?
    line=$(echo "$res" | grep '^{')
    ok=$(echo "$line" | python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
print("%.3f %d" % (r["overall"], r["overall"] >= 0.95 and r["failed"] == 0))')
    echo "rendered_test: $fam overall ${ok% *}"
    if [ "$rc" -ne 0 ] || [ "${ok#* }" != 1 ]; then
        echo "$res"
        fail=1
    fi
done
[ $fail -eq 0 ] && echo "rendered_test: ok" || echo "rendered_test: FAIL"
exit $fail
