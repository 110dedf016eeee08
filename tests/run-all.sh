#!/usr/bin/env bash
# The whole test suite, as the README gives it and .ci/run calls it:
#   1. build (build/) with -Wall -Wextra and -DMM_WERROR=ON (-Werror; a
#      user's own build leaves it off)
#   2. clang-format check of every C file
#   3. unit tests (ctest -L unit): parser, extract, worker, ops, deploy checks
#   4. every build type compiles without a warning: gcc Debug, Release and
#      MinSizeRel, clang default and Release (compile only, build-types/)
#   5. the same unit tests in an ASan+UBSan build (build-asan/)
#   6. the parser's libFuzzer target for 60 s from the seeds (build-fuzz/)
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

fuzz() {
    CC=clang cmake -S "$root" -B "$root/build-fuzz" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMM_FUZZ=ON \
        -DMM_WERROR=ON >/dev/null &&
        cmake --build "$root/build-fuzz" -j"$jobs" --target parse_fuzz || return 1
    local corpus
    corpus=$(mktemp -d)
    cp tests/fixtures/seeds/*.txt tests/fixtures/parser/docs/*.txt "$corpus/"
    "$root/build-fuzz/bin/parse_fuzz" -max_total_time=60 -max_len=65536 -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 "$corpus" 2>&1 | tail -n 12
    local rc=${PIPESTATUS[0]}
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
