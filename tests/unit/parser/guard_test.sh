#!/usr/bin/env bash
# Issue 20: parse quality per document, guarded against regressions.
#   guard_test.sh MODE MINUTES_PARSE FIXTURES SHARED [WEB_BAR]
# MODE web: the web-page excerpts of ../shared (real pages of many
#   kommuner): every excerpt parses (never no_items), the set scores
#   overall >= WEB_BAR with the in-repo scorer and with ../shared's own
#   score.py, and no excerpt drops more than 0.02 below its recorded score.
# MODE guard: the same per-document guard on the invented text meetings
#   (tests/fixtures/minutes) and issue 7's renderings of the invented
#   FirstAgenda meetings; with ../shared also on the real seeds, the Greve
#   exports and the renderings of the 30 Greve meetings named in
#   tests/fixtures/shared-sets (read from ../shared, never copied).
# Recorded scores: tests/fixtures/scores/*.tsv; refresh them with
# tests/tools/refresh_scores.sh after an intended change (GUARD_UPDATE=1
# makes this script record instead of compare).
set -u
mode=$1
bin=$2
fix=$3
shared=$4
bar=${5:-0.90}
tools=$(cd "$(dirname "$0")/../../tools" && pwd)
scores=$fix/scores
guard() { # NAME CORPUS GOLD [extra args]
    local name=$1 corpus=$2 gold=$3
    shift 3
    python3 "$tools/score_guard.py" --parse "$bin {}" --corpus "$corpus" --gold "$gold" \
        --scores "$scores/$name.tsv" ${GUARD_UPDATE:+--update} "$@"
}
rc=0
case $mode in
web)
    if [ ! -d "$shared/corpus/web-excerpts" ]; then
        echo "skipped: ../shared not present"
        exit 0
    fi
    for f in "$shared"/corpus/web-excerpts/*.txt; do
        if ! "$bin" "$f" >/dev/null 2>"${TMPDIR:-/tmp}/guard_err.$$"; then
            echo "guard_test: $(basename "$f") does not parse: $(cat "${TMPDIR:-/tmp}/guard_err.$$")"
            rc=1
        fi
    done
    rm -f "${TMPDIR:-/tmp}/guard_err.$$"
    guard web-excerpts "$shared/corpus/web-excerpts" "$shared/eval/gold-web-excerpts" \
        --min-overall "$bar" || rc=1
    [ -n "${GUARD_UPDATE:-}" ] && exit $rc
    out=$(python3 "$shared/eval/score.py" --parse "$bin {}" --corpus "$shared/corpus/web-excerpts" \
        --gold "$shared/eval/gold-web-excerpts" 2>&1 | tail -n 1)
    echo "guard_test: shared/eval score.py on the web excerpts: $out"
    python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) >= float(sys.argv[2]) else 1)" \
        "${out##* }" "$bar" || { echo "guard_test: below $bar"; rc=1; }
    ;;
guard)
    # the invented sets of the repository: always
    guard minutes "$fix/minutes" "$fix/gold/minutes" || rc=1
    out=$(mktemp -d)
    trap 'rm -rf "$out"' EXIT
    # render LABEL SRC GOLD: issue 7's renderings (seeded, every family)
    render() {
        mkdir -p "$out/$1"
        python3 "$tools/render_firstagenda.py" "$2" "$3" "$out/$1" --seed=7 >/dev/null || return 1
        local gold fam
        for gold in "$out/$1"/gold/*/; do
            fam=$(basename "$gold")
            guard "$4-$fam" "$out/$1/corpus" "$gold" || rc=1
        done
    }
    render invented "$fix/firstagenda" "$fix/gold/firstagenda" rendered-invented || rc=1
    # the real sets of ../shared: the seeds, the Greve exports, and the
    # renderings of the 30 Greve meetings named in tests/fixtures/shared-sets
    if [ ! -d "$shared/corpus/firstagenda-greve" ]; then
        echo "skipped: ../shared not present (seeds, Greve exports and their renderings)"
        exit $rc
    fi
    guard seeds "$shared/corpus/seeds" "$shared/eval/gold" || rc=1
    guard greve "$shared/corpus/firstagenda-greve" "$shared/eval/gold-firstagenda" || rc=1
    mkdir -p "$out/greve30" "$out/greve30-gold"
    while read -r name; do
        case $name in '#'* | '') continue ;; esac
        ln -s "$(cd "$shared/corpus/firstagenda-greve" && pwd)/$name" "$out/greve30/$name"
        ln -s "$(cd "$shared/eval/gold-firstagenda" && pwd)/$name" "$out/greve30-gold/$name"
    done <"$fix/shared-sets/firstagenda-greve-30.txt"
    render greve30 "$out/greve30" "$out/greve30-gold" rendered || rc=1
    ;;
*)
    echo "usage: guard_test.sh web|guard MINUTES_PARSE FIXTURES SHARED [WEB_BAR]" >&2
    exit 2
    ;;
esac
[ $rc -eq 0 ] && echo "guard_test: $mode ok" || echo "guard_test: $mode FAIL"
exit $rc
