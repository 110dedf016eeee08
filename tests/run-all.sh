#!/usr/bin/env bash
# The whole test suite, as the README gives it and .ci/run calls it:
#   1. build (build/) with -Wall -Wextra and -DMM_WERROR=ON (-Werror; a
#      user's own build leaves it off)
#   2. clang-format check of every C file
#   3. unit tests (ctest -L unit): parser, extract, worker, ops, deploy checks
#   4. every build type compiles without a warning: gcc Debug, Release and
#      MinSizeRel, clang default and Release (compile only, build-types/)
#   5. the same unit tests in an ASan+UBSan build (build-asan/)
#   6. the libFuzzer targets (build-fuzz/): the parser's for 60 s from the
#      text seeds, the source adapters' (source_fuzz) for 50 s from the
#      export fixtures, each seeded once per content type
#   7. integration tests (ctest -L integration) on a real Kafka 3.9 broker
#      and a private PostgreSQL 15, started by tests/services/services.sh
# Set MM_SKIP_SLOW=1 locally to run only steps 1-3 (CI never sets it).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
jobs=${MM_JOBS:-2}
failed=()
passed=()

step() {
    local name=$1
    shift
    echo
    echo "=== $name"
    local t0=$SECONDS
    if "$@"; then
        passed+=("$name")
        echo "=== $name: ok ($((SECONDS - t0)) s)"
    else
        failed+=("$name")
        echo "=== $name: FAILED ($((SECONDS - t0)) s)"
    fi
}

build() {
    local dir=$1
    shift
    cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMM_WERROR=ON "$@" >/dev/null &&
        cmake --build "$dir" -j"$jobs"
}

# Compiles every target in the build types a packager may pick, with both
# compilers, warnings as errors: -O2/-O3/-Os find warnings -O0 does not.
build_types() {
    local cc_type cc type rc=0
    for cc_type in gcc:Debug gcc:Release gcc:MinSizeRel clang:RelWithDebInfo clang:Release; do
        cc=${cc_type%%:*}
        type=${cc_type#*:}
        echo "--- $cc $type"
        CC=$cc cmake -S "$root" -B "$root/build-types/$cc-$type" -DCMAKE_BUILD_TYPE="$type" \
            -DMM_WERROR=ON >/dev/null &&
            cmake --build "$root/build-types/$cc-$type" -j"$jobs" >"$root/build-types/$cc-$type.log" 2>&1 ||
            {
                rc=1
                grep -E 'error|warning' "$root/build-types/$cc-$type.log" | head -n 40
            }
    done
    return "$rc"
}

format_check() {
    local files
    files=$(git ls-files '*.c' '*.h' 2>/dev/null || find common worker tests -name '*.[ch]')
    # shellcheck disable=SC2086
    clang-format --dry-run --Werror $files
}

# Writes source_fuzz's seeds into $1: every export fixture (FirstAgenda
# JSON, eDoc and SBSYS XML, the invalid ones too) once per content type.
# source_fuzz.c picks the type from the first byte modulo 4 and parses the
# whole input, that byte included, so each prefix keeps the export well
# formed: ' ' (0x20: none, sniffed), '\t' (0x09: FirstAgenda) and '\n'
# (0x0a: eDoc) come before the export without its BOM and its XML
# declaration (nothing may precede one), the UTF-8 BOM (0xef: SBSYS) before
# the export without its own BOM; and the file as it is (a BOM picks SBSYS,
# '<' none, '{' SBSYS).
source_seeds() {
    local dir=$1 f n=0
    while IFS= read -r -d '' f; do
        n=$((n + 1))
        LC_ALL=C sed '1s/^\xef\xbb\xbf//' "$f" >"$dir/nobom" || return 1
        LC_ALL=C sed '1s/^<?xml[^>]*?>//' "$dir/nobom" >"$dir/nodecl" || return 1
        { printf ' ' && cat "$dir/nodecl"; } >"$dir/$n-sniff"
        { printf '\t' && cat "$dir/nodecl"; } >"$dir/$n-firstagenda"
        { printf '\n' && cat "$dir/nodecl"; } >"$dir/$n-edoc"
        { printf '\xef\xbb\xbf' && cat "$dir/nobom"; } >"$dir/$n-sbsys"
        cp "$f" "$dir/$n-raw"
    done < <(find tests/fixtures/firstagenda tests/fixtures/edoc tests/fixtures/sbsys \
        tests/fixtures/source -type f \( -name '*.json' -o -name '*.xml' \) -print0 | sort -z)
    rm -f "$dir/nobom" "$dir/nodecl"
    [ "$n" -gt 0 ]
}

# Runs a libFuzzer target ($1) for $2 seconds with inputs up to $3 bytes
# on the corpus $4. Prints the last lines of its output (the whole output
# is in build-fuzz/$1.log; a crash, leak or timeout input is written to
# build-fuzz/ as crash-*, leak-* or timeout-*).
run_fuzzer() {
    local name=$1 secs=$2 max_len=$3 corpus=$4 rc
    echo "--- $name: ${secs} s, $(find "$corpus" -type f | wc -l) seeds"
    "$root/build-fuzz/bin/$name" -max_total_time="$secs" -max_len="$max_len" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$root/build-fuzz/" \
        "$corpus" >"$root/build-fuzz/$name.log" 2>&1
    rc=$?
    if [ "$rc" -eq 0 ]; then
        tail -n 12 "$root/build-fuzz/$name.log"
    else
        tail -n 80 "$root/build-fuzz/$name.log"
    fi
    return "$rc"
}

# The parser's target for 60 s from the text seeds, then the source
# adapters' (exports) for 50 s from the export fixtures: about 2 minutes.
fuzz() {
    CC=clang cmake -S "$root" -B "$root/build-fuzz" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMM_FUZZ=ON \
        -DMM_WERROR=ON >/dev/null &&
        cmake --build "$root/build-fuzz" -j"$jobs" --target parse_fuzz source_fuzz || return 1
    local corpus rc=0
    corpus=$(mktemp -d)
    mkdir "$corpus/parse" "$corpus/source"
    cp tests/fixtures/minutes/*.txt tests/fixtures/parser/docs/*.txt "$corpus/parse/"
    run_fuzzer parse_fuzz 60 65536 "$corpus/parse" || rc=1
    # Inputs up to 384 KB (the real exports in ../shared reach about 300 KB).
    if source_seeds "$corpus/source"; then
        run_fuzzer source_fuzz 50 393216 "$corpus/source" || rc=1
    else
        echo "source_fuzz: no seeds written"
        rc=1
    fi
    rm -rf "$corpus"
    return "$rc"
}

step build build "$root/build"
step clang-format format_check
step unit ctest --test-dir "$root/build" -L unit --output-on-failure -j"$jobs"
if [ "${MM_SKIP_SLOW:-0}" != 1 ]; then
    step build-types build_types
    step asan-build build "$root/build-asan" -DMM_SANITIZE=ON
    step asan-unit env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ctest --test-dir "$root/build-asan" -L unit --output-on-failure -j"$jobs"
    step fuzz fuzz
    step integration ctest --test-dir "$root/build" -L integration --output-on-failure
fi

echo
echo "steps passed: ${passed[*]:-none}"
echo "steps failed: ${failed[*]:-none}"
echo "run-all: ${#passed[@]} passed, ${#failed[@]} failed"
[ "${#failed[@]}" -eq 0 ]
