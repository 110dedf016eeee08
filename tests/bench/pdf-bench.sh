#!/usr/bin/env bash
# Benchmark (not a test): PDF text extraction through mm_extract next to
# poppler-utils' pdftotext, on the same files in the same run.
#
#   tests/bench/pdf-bench.sh [BUILD_DIR] [ROUNDS]
#
# Sets: the eDoc (Fujitsu) attachment PDFs of ../shared/corpus/edoc-fujitsu
# when that folder is present, else the two invented ones of the eDoc
# fixture (tests/fixtures/edoc); and the real seeds of ../shared/corpus/seeds
# (else the invented text meetings of tests/fixtures/minutes) rendered to
# PDF with cairo by tests/tools/mkfixtures. Each set says which. Prints pages/s and
# MB/s and the ratio mm_extract / pdftotext (goal >= 0.9) per set, and the
# sandbox's cost per document. OCR is off, as pdftotext has none: the eDoc
# set has a slide page that OCR reads (docs/benchmarks.md#ocr-issue-22).
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
    while IFS= read -r -d '' f; do corpus+=("$f"); done \
        < <(find "$SRC/tests/fixtures/edoc" -iname '*.pdf' -print0 | sort -z)
    name="invented eDoc attachments (tests/fixtures/edoc; ../shared not present)"
fi
SEEDS="$SRC/../shared/corpus/seeds" seeds_name="seeds (../shared) rendered to PDF (cairo)"
if [[ ! -d "$SEEDS" ]]; then
    SEEDS="$SRC/tests/fixtures/minutes"
    seeds_name="invented text meetings (tests/fixtures/minutes; ../shared not present) rendered to PDF (cairo)"
fi
"$BIN/mkfixtures" "$WORK/seeds" "$SEEDS"/*.txt >/dev/null
seeds=()
for f in "$SEEDS"/*.txt; do
    seeds+=("$WORK/seeds/$(basename "${f%.txt}").pdf")
done

"$BIN/pdf_bench" --rounds "$ROUNDS" --ocr off "$name" "${corpus[@]}"
echo
"$BIN/pdf_bench" --rounds "$ROUNDS" --ocr off "$seeds_name" "${seeds[@]}"
