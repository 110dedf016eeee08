#!/usr/bin/env bash
# Issue 7's own real-document set: 30 real Greve meetings (exact structure
# in their FirstAgenda JSON) rendered into the layouts of seven publishing
# families by tests/tools/render_firstagenda.py (seeded, so the set is the
# same on every run), parsed by minutes-parse and scored by the in-repo
# scorer against gold derived from the JSON. Every family must score >= 0.95
# overall, with no document below 0.75.
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
    if res=$(python3 "$scorer" --parse "$bin {}" --corpus "$out/corpus" --gold "$gold" \
        --min-overall 0.95 --min-doc 0.75 2>&1); then
        echo "rendered_test: $fam $(echo "$res" | tail -n 1)"
    else
        echo "$res"
        echo "rendered_test: $fam FAIL"
        fail=1
    fi
done
[ $fail -eq 0 ] && echo "rendered_test: ok" || echo "rendered_test: FAIL"
exit $fail
