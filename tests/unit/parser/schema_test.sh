#!/usr/bin/env bash
# Validates minutes-parse output for every seed and fixture document
# against schemas/minutes-parse.schema.json (python3-jsonschema, Debian).
set -u
bin=$1
schema=$2
shift 2
py=/usr/bin/python3
[ -x "$py" ] || py=python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
n=0
for dir in "$@"; do
    for f in "$dir"/*.txt; do
        "$bin" "$f" >"$work/$n.json" || { echo "schema_test: $f did not parse" >&2; exit 1; }
        n=$((n + 1))
    done
done
"$py" - "$schema" "$work"/*.json <<'PY'
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
cls = jsonschema.validators.validator_for(schema)
cls.check_schema(schema)
v = cls(schema)
bad = 0
for path in sys.argv[2:]:
    doc = json.load(open(path))
    for e in v.iter_errors(doc):
        bad += 1
        print("%s: %s at %s" % (path, e.message, "/".join(map(str, e.absolute_path))))
# The schema must reject what breaks the contract.
for broken in ({"document": {}, "items": []},
               {"document": json.load(open(sys.argv[2]))["document"], "items": [{"number": "82"}]}):
    if v.is_valid(broken):
        bad += 1
        print("schema accepts a broken document")
print("schema: %d passed, %d failed" % (len(sys.argv) - 2 - (1 if bad else 0), bad))
sys.exit(1 if bad else 0)
PY
