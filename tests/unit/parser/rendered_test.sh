#!/usr/bin/env bash
# Issue 7's rendered set: FirstAgenda meetings (exact structure in their
# JSON) rendered into the layouts of seven publishing families by
# tests/tools/render_firstagenda.py (seeded, so the set is the same on every
# run), parsed by minutes-parse and scored by the in-repo scorer against
# gold derived from the JSON. Every family must score >= 0.95 overall, with
# no document below 0.75. Two sets: the invented meetings of
# tests/fixtures/firstagenda, and, when ../shared is there, the 30 real
# Greve meetings named in tests/fixtures/shared-sets/firstagenda-greve-30.txt
# (read from ../shared, never copied).
set -u
bin=$1
render=$2
fix=$3
scorer=$4
seed=${5:-7}
shared=$fix/../../../shared
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail=0

# run LABEL SRC_DIR GOLD_DIR
run() {
    local o="$out/$1"
    mkdir -p "$o"
    python3 "$render" "$2" "$3" "$o" --seed="$seed" || { fail=1; return; }
    for gold in "$o"/gold/*/; do
        fam=$(basename "$gold")
        if res=$(python3 "$scorer" --parse "$bin {}" --corpus "$o/corpus" --gold "$gold" \
            --min-overall 0.95 --min-doc 0.75 2>&1); then
            echo "rendered_test: $1 $fam $(echo "$res" | tail -n 1)"
        else
            echo "$res"
            echo "rendered_test: $1 $fam FAIL"
            fail=1
        fi
    done
}

run invented "$fix/firstagenda" "$fix/gold/firstagenda"
if [ -d "$shared/corpus/firstagenda-greve" ] && [ -d "$shared/eval/gold-firstagenda" ]; then
    mkdir -p "$out/greve-gold"
    while read -r name; do
        case $name in '#'* | '') continue ;; esac
        ln -s "$(cd "$shared/eval/gold-firstagenda" && pwd)/$name" "$out/greve-gold/$name"
    done <"$fix/shared-sets/firstagenda-greve-30.txt"
    run greve "$shared/corpus/firstagenda-greve" "$out/greve-gold"
else
    echo "rendered_test: skipped: ../shared not present (the 30 real Greve meetings)"
fi
[ $fail -eq 0 ] && echo "rendered_test: ok" || echo "rendered_test: FAIL"
exit $fail
