#!/usr/bin/env bash
# minutes-parse on PDF and HTML: the text meetings rendered to PDF (cairo, by
# the test helper mkfixtures) must still score >= 0.97 overall with no field
# below 0.90 (tests/tools/score.py against their gold); the
# HTML renderings must parse; a scan and a corrupt PDF must be refused with
# their own codes.
#   formats_test.sh MINUTES_PARSE MKFIXTURES SEEDS SCORE_PY GOLD
set -u
bin=$1
mkfixtures=$2
seeds=$3
score=$4
gold=$5
# the real seeds are read from ../shared, never copied into the repository
[ -d "$seeds" ] || { echo "skipped: ../shared not present ($seeds)"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*" >&2; fail=$((fail + 1)); }

"$mkfixtures" "$work/fx" "$seeds"/*.txt >/dev/null || { echo "mkfixtures failed" >&2; exit 1; }
mkdir -p "$work/pdf"
for f in "$seeds"/*.txt; do
    b=$(basename "$f" .txt)
    # score.py reads NAME.txt; the bytes are the PDF, sniffed by minutes-parse
    cp "$work/fx/$b.pdf" "$work/pdf/$b.txt"
    "$bin" "$work/fx/$b.html" >"$work/out.json" 2>"$work/err" &&
        python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["items"] else 1)' "$work/out.json" &&
        ok || bad "$b.html: $(cat "$work/err")"
done
out=$(python3 "$score" --corpus "$work/pdf" --gold "$gold" --parse "$bin {}" \
    --min-overall 0.97 --min-field 0.90 2>&1) && ok || bad "PDF renderings score below the bar"
echo "$out" | tail -n 3

for case in "scan.pdf pdf_no_text" "corrupt.pdf pdf_corrupt"; do
    set -- $case
    "$bin" "$work/fx/$1" >/dev/null 2>"$work/err"
    rc=$?
    [ "$rc" -eq 3 ] && grep -q "\"code\":\"$2\"" "$work/err" && ok || bad "$1: exit $rc, $(cat "$work/err"), want 3 and $2"
done
# A markdown text read as HTML loses its line breaks, so its items may be
# lost: then the answer is the clear error no_items (never an empty meeting).
"$bin" --content-type text/html "$(ls "$seeds"/*.txt | head -n 1)" >/dev/null 2>"$work/err"
rc=$?
{ [ "$rc" -eq 0 ] || { [ "$rc" -eq 3 ] && grep -q '"code":"no_items"' "$work/err"; }; } && ok ||
    bad "--content-type text/html on a text file: exit $rc, $(cat "$work/err")"

echo "formats: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
