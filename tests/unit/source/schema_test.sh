#!/usr/bin/env bash
# The export adapters' output validates against the minutes-parse JSON
# Schema (python3-jsonschema): every FirstAgenda, eDoc and SBSYS fixture, and
# the real exports of ../shared/corpus when it is there.
set -u
bin=$1
schema=$2
fix=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
n=0
while IFS= read -r -d '' f; do
    "$bin" "$f" >"$work/$n.json" || { echo "schema: $f did not parse" >&2; exit 1; }
    n=$((n + 1))
done < <(find "$fix/firstagenda" "$fix/edoc" "$fix/sbsys" \( -name '*.json' -o -name '*.xml' \) -print0)
[ $n -ge 12 ] || { echo "schema: only $n exports found" >&2; exit 1; }
shared=$fix/../../../shared/corpus
if [ -d "$shared/firstagenda-greve" ]; then
    while IFS= read -r -d '' f; do
        "$bin" "$f" >"$work/$n.json" || { echo "schema: $f did not parse" >&2; exit 1; }
        n=$((n + 1))
    done < <(find "$shared/firstagenda-greve" "$shared/edoc-fujitsu" "$shared/sbsys" \
        \( -name '*.json' -o -name '*.xml' \) -print0)
else
    echo "schema: skipped: ../shared not present (its real exports)"
fi
python3 - "$schema" "$work"/*.json <<'PY'
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
v = jsonschema.validators.validator_for(schema)(schema)
bad = 0
for path in sys.argv[2:]:
    for e in v.iter_errors(json.load(open(path))):
        bad += 1
        print(path, list(e.path), e.message[:200])
print(f"schema: {len(sys.argv) - 2} export models, {bad} errors")
sys.exit(1 if bad else 0)
PY
