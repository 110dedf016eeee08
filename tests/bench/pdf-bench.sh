#!/usr/bin/env bash
# Benchmark (not a test): PDF text extraction through mm_extract next to
# poppler-utils' pdftotext, on the same files in the same run.
#
#   tests/bench/pdf-bench.sh [BUILD_DIR] [ROUNDS]
#
# Sets: the eDoc (Fujitsu) attachment PDFs of ../shared/corpus/edoc-fujitsu
# when that folder is present, else the two copied into
# tests/fixtures/extract/; and the seeds rendered to PDF with cairo by
# tests/tools/mkfixtures (the extract tests' fixtures). Prints pages/s and
# MB/s and the ratio mm_extract / pdftotext (goal >= 0.9) per set, and the
# sandbox's cost per document.
set -euo pipefail
SRC="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="${1:-$SRC/build}"
ROUNDS="${2:-3}"
BIN="$BUILD/bin"
for b in pdf_bench mkfixtures; do
    [[ -x "$BIN/$b" ]] || { echo "missing $BIN/$b: build first" >&2; exit 2; }
done
command -v pdftotext >/dev/null || { echo "pdftotext (poppler-utils) is needed" >&2; exit 2; }
WORK="$(mktemp -d /tmp/mm-pdf-bench.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

corpus=()
if [[ -d "$SRC/../shared/corpus/edoc-fujitsu" ]]; then
    while IFS= read -r -d '' f; do corpus+=("$f"); done \
        < <(find "$SRC/../shared/corpus/edoc-fujitsu" -iname '*.pdf' -print0 | sort -z)
    name="edoc-fujitsu attachments (../shared)"
else
    for f in "$SRC"/tests/fixtures/extract/*.pdf; do corpus+=("$f"); done
    name="edoc-fujitsu attachments (2 in tests/fixtures/extract)"
fi
"$BIN/mkfixtures" "$WORK/seeds" "$SRC"/tests/fixtures/seeds/*.txt >/dev/null
seeds=()
for f in "$SRC"/tests/fixtures/seeds/*.txt; do
    seeds+=("$WORK/seeds/$(basename "${f%.txt}").pdf")
done

"$BIN/pdf_bench" --rounds "$ROUNDS" "$name" "${corpus[@]}"
echo
"$BIN/pdf_bench" --rounds "$ROUNDS" "seeds rendered to PDF (cairo)" "${seeds[@]}"
