#!/usr/bin/env bash
# Records the per-document parse scores that the regression guard
# (tests/unit/parser/guard_test.sh, ctest parser_guard and
# parser_web_excerpts) compares against: tests/fixtures/scores/*.tsv.
# Run it from the repository root after an intended change, with
# ../shared beside the clone, and commit the files with the change:
#   tests/tools/refresh_scores.sh [build/bin/minutes-parse]
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$root/build/bin/minutes-parse}
[ -d "$root/../shared/corpus" ] || { echo "refresh_scores: ../shared not present" >&2; exit 1; }
GUARD_UPDATE=1 "$root/tests/unit/parser/guard_test.sh" guard "$bin" "$root/tests/fixtures" "$root/../shared"
GUARD_UPDATE=1 "$root/tests/unit/parser/guard_test.sh" web "$bin" "$root/tests/fixtures" "$root/../shared"
