#!/usr/bin/env bash
# The parse-quality bar of the parser issue: shared/eval/score.py on the
# seeds must print overall >= 0.97 with no field below 0.90.
set -u
bin=$1
eval_dir=$2
if [ ! -f "$eval_dir/score.py" ]; then
    echo "score_test: $eval_dir/score.py not found (shared/ must stand beside the repo)" >&2
    exit 1
fi
out=$(python3 "$eval_dir/score.py" --json --parse "$bin {}")
rc=$?
echo "$out"
[ $rc -eq 0 ] || { echo "score_test: a document failed to parse" >&2; exit 1; }
echo "$out" | grep '^{' | python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
low = {k: v for k, v in r["scores"].items() if v < 0.90}
ok = r["overall"] >= 0.97 and not low and r["failed"] == 0
print("score_test: overall %.3f, %d fields, below 0.90: %s -> %s"
      % (r["overall"], len(r["scores"]), low or "none", "ok" if ok else "FAIL"))
sys.exit(0 if ok else 1)
'
