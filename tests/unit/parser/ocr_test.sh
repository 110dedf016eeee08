#!/usr/bin/env bash
# OCR through minutes-parse (issue 22, docs/ocr.md). Scanned documents are
# made in the test from text: the meetings are set as printed PDFs
# (mkfixtures --styled), then scanned (mkscan: grey raster, noise, a
# rotation of at most 1.5 degrees, JPEG, no text layer).
#
#   ocr_test.sh same  BIN MKFIXTURES SEEDS...
#       A text PDF is never OCRed: the output is byte-identical with --ocr
#       on and off (plain and styled renderings of every SEEDS/*.txt), and
#       document.text_source is "text".
#   ocr_test.sh mixed BIN MKFIXTURES MKSCAN SEEDS
#       Page 2 of a three-page meeting scanned: only it is OCRed, the
#       document is "mixed", a warning names page 2; with --ocr off the
#       page is empty and the document "text".
#   ocr_test.sh score BIN MKFIXTURES MKSCAN SCORE_PY SEEDS GOLD DPI BAR [NAME...]
#       The meetings (all of SEEDS, or the NAMEs) scanned at DPI are scored
#       against GOLD (the same gold as their text) with score.py
#       --min-overall BAR; every one must be text_source "ocr". Prints
#       "skipped" and exits 77 when SEEDS is missing (../shared).
#   ocr_test.sh greve BIN MKFIXTURES MKSCAN SCORE_PY RENDER SHARED LIST N BAR
#       The N shortest real Greve meetings of LIST (read from SHARED),
#       rendered as eDoc PDF text by RENDER (render_firstagenda.py), then
#       scanned at 300 dpi and scored as in "score" against the gold made
#       from their JSON. Skipped (77) without SHARED.
set -u
mode=$1
shift
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*" >&2; fail=$((fail + 1)); }
# a scanned page is about 0.5-1 MB: scanned meetings pass the 16 MiB default
big=--max-bytes=268435456
field() { # field JSON KEY: document.KEY as JSON
    python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["document"].get(sys.argv[2])))' "$1" "$2"
}
finish() {
    echo "ocr $mode: $pass passed, $fail failed"
    [ "$fail" -eq 0 ]
    exit
}

case "$mode" in
same)
    bin=$1 mkfixtures=$2
    shift 2
    for seeds in "$@"; do
        [ -d "$seeds" ] || { echo "skipped: $seeds not present"; continue; }
        for style in plain styled; do
            d="$work/$style-$(basename "$seeds")"
            opt=()
            [ "$style" = styled ] && opt=(--styled)
            "$mkfixtures" "${opt[@]}" "$d" "$seeds"/*.txt >/dev/null || { bad "mkfixtures $seeds"; continue; }
            for f in "$seeds"/*.txt; do
                b=$(basename "$f" .txt)
                "$bin" --ocr off "$d/$b.pdf" >"$work/off.json" 2>&1
                "$bin" --ocr on "$d/$b.pdf" >"$work/on.json" 2>&1
                cmp -s "$work/off.json" "$work/on.json" &&
                    [ "$(field "$work/on.json" text_source)" = '"text"' ] &&
                    [ "$(field "$work/on.json" ocr_pages)" = '[]' ] && ok ||
                    bad "$style $b.pdf: output differs with OCR on and off, or is not text"
            done
        done
    done
    finish
    ;;
mixed)
    bin=$1 mkfixtures=$2 mkscan=$3 seeds=$4
    "$mkfixtures" --styled "$work/fx" "$seeds/001_faxe_pdftext.txt" >/dev/null || bad mkfixtures
    "$mkscan" --dpi 300 --pages 2 "$work/fx/001_faxe_pdftext.pdf" "$work/mixed.pdf" || bad mkscan
    n=$(pdfinfo "$work/mixed.pdf" 2>/dev/null | awk '/^Pages/{print $2}')
    [ "${n:-3}" -ge 3 ] && ok || bad "the mixed document has $n pages, want 3 or more"
    "$bin" "$big" "$work/mixed.pdf" >"$work/on.json" 2>"$work/err" || bad "mixed: $(cat "$work/err")"
    [ "$(field "$work/on.json" text_source)" = '"mixed"' ] && ok || bad "text_source $(field "$work/on.json" text_source), want mixed"
    [ "$(field "$work/on.json" ocr_pages)" = '[2]' ] && ok || bad "ocr_pages $(field "$work/on.json" ocr_pages), want [2]"
    python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["document"]["ocr_confidence"]; sys.exit(0 if 50 <= c <= 100 else 1)' "$work/on.json" &&
        ok || bad "ocr_confidence $(field "$work/on.json" ocr_confidence)"
    field "$work/on.json" warnings | grep -q 'read by OCR.*pages 2"' && ok || bad "no warning names page 2: $(field "$work/on.json" warnings)"
    "$bin" "$big" --ocr off "$work/mixed.pdf" >"$work/off.json" 2>"$work/err" || bad "mixed, OCR off: $(cat "$work/err")"
    [ "$(field "$work/off.json" text_source)" = '"text"' ] && ok || bad "OCR off: text_source $(field "$work/off.json" text_source)"
    # the scanned page's text is only there with OCR
    [ "$(field "$work/on.json" length)" -gt "$(field "$work/off.json" length)" ] && ok ||
        bad "OCR adds no text: length $(field "$work/on.json" length) vs $(field "$work/off.json" length)"
    finish
    ;;
score)
    bin=$1 mkfixtures=$2 mkscan=$3 score=$4 seeds=$5 gold=$6 dpi=$7 bar=$8
    shift 8
    [ -d "$seeds" ] || { echo "skipped: ../shared not present ($seeds)"; exit 77; }
    names=("$@")
    if [ ${#names[@]} -eq 0 ]; then
        for f in "$seeds"/*.txt; do names+=("$(basename "$f" .txt)"); done
    fi
    mkdir -p "$work/scan"
    srcs=()
    for b in "${names[@]}"; do srcs+=("$seeds/$b.txt"); done
    "$mkfixtures" --styled "$work/fx" "${srcs[@]}" >/dev/null || { bad mkfixtures; finish; }
    mkdir -p "$work/gold"
    for b in "${names[@]}"; do
        # score.py reads NAME.txt; the bytes are the scanned PDF, sniffed
        "$mkscan" --dpi "$dpi" "$work/fx/$b.pdf" "$work/scan/$b.txt" || bad "mkscan $b"
        cp "$gold/$b.json" "$work/gold/"
        "$bin" "$big" --ocr-seconds 600 "$work/scan/$b.txt" >"$work/$b.json" 2>"$work/err" &&
            [ "$(field "$work/$b.json" text_source)" = '"ocr"' ] && ok ||
            bad "$b: $(cat "$work/err") text_source $(field "$work/$b.json" text_source 2>/dev/null)"
    done
    # score.py reads the outputs above (OCR is slow: each document once)
    printf '#!/bin/sh\nf="%s/$(basename "$1" .txt).json"\n[ -s "$f" ] && cat "$f"\n' "$work" >"$work/cached"
    chmod +x "$work/cached"
    out=$(python3 "$score" --corpus "$work/scan" --gold "$work/gold" \
        --parse "$work/cached {}" --min-overall "$bar" 2>&1) && ok ||
        bad "scanned at $dpi dpi: below the bar $bar"
    echo "$out" | tail -n 20
    finish
    ;;
greve)
    bin=$1 mkfixtures=$2 mkscan=$3 score=$4 render=$5 shared=$6 list=$7 n=$8 bar=$9
    skip=${10:-0}
    if [ ! -d "$shared/corpus/firstagenda-greve" ] || [ ! -d "$shared/eval/gold-firstagenda" ]; then
        echo "skipped: ../shared not present ($shared)"
        exit 77
    fi
    # the N shortest meetings of the list (OCR costs about 1.5 s a page)
    mkdir -p "$work/ggold" "$work/edoc" "$work/edoc-gold"
    grep -v '^#' "$list" | grep . | while read -r name; do
        printf '%s %s\n' "$(stat -c %s "$shared/corpus/firstagenda-greve/$name")" "$name"
    done | sort -n | head -n "$((skip + n))" | tail -n "$n" | while read -r _ name; do
        ln -s "$(cd "$shared/eval/gold-firstagenda" && pwd)/$name" "$work/ggold/$name"
    done
    python3 "$render" "$shared/corpus/firstagenda-greve" "$work/ggold" "$work/r" --seed=7 >/dev/null ||
        { bad render; finish; }
    # the eDoc PDF-text family, as NAME.txt beside its gold NAME.json
    python3 - "$work/r" "$work/edoc" "$work/edoc-gold" <<'PY' || { bad "edoc family"; finish; }
import json, os, shutil, sys
r, corpus, gold = sys.argv[1:4]
for g in sorted(os.listdir(os.path.join(r, "gold", "edoc"))):
    d = json.load(open(os.path.join(r, "gold", "edoc", g)))
    name = g[:-len(".json")]
    shutil.copy(os.path.join(r, "corpus", d["source"]), os.path.join(corpus, name + ".txt"))
    d["source"] = name + ".txt"
    json.dump(d, open(os.path.join(gold, g), "w"), ensure_ascii=False)
PY
    echo "ocr greve: the $n shortest of $(basename "$list"), rendered as eDoc PDF text, printed and scanned"
    "$0" score "$bin" "$mkfixtures" "$mkscan" "$score" "$work/edoc" "$work/edoc-gold" 300 "$bar"
    exit $?
    ;;
*)
    echo "usage: ocr_test.sh same|mixed|score|greve ..." >&2
    exit 2
    ;;
esac
