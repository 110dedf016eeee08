#!/usr/bin/env bash
# FirstAgenda adapter quality: the invented meetings in tests/fixtures
# scored against their gold (bar 0.99); when ../shared is there, also all
# 370 real Greve meetings (same bar). Prints the scores.
set -u
bin=$1
root=$2
shared=$root/../shared
score=$root/tests/tools/score.py
fail=0
echo "== in-repo: tests/fixtures/firstagenda (invented meetings)"
python3 "$score" --parse "$bin {}" --corpus "$root/tests/fixtures/firstagenda" \
    --gold "$root/tests/fixtures/gold/firstagenda" --min-overall 0.99 || fail=1
if [ -d "$shared/corpus/firstagenda-greve" ] && [ -d "$shared/eval/gold-firstagenda" ]; then
    echo "== shared: corpus/firstagenda-greve"
    python3 "$score" --parse "$bin {}" --corpus "$shared/corpus/firstagenda-greve" \
        --gold "$shared/eval/gold-firstagenda" --min-overall 0.99 || fail=1
else
    echo "== skipped: ../shared not present (the 370 real Greve meetings)"
fi
exit $fail
