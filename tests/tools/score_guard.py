#!/usr/bin/env python3
"""Per-document regression guard for parse quality (issue 20).

Scores every document of one set with the in-repository scorer
(tests/tools/score.py --per-doc) and compares each document's score with
the score recorded for it in a file of the repository
(tests/fixtures/scores/SET.tsv: "name<TAB>score" lines). A document whose
score drops by more than --tolerance (default 0.02) below its recorded
score fails the guard, so a fix for one kommune cannot silently break
another. A document that is new to the set, or missing from it, is named
but does not fail (refresh the file to record it).

Usage:
  score_guard.py --parse CMD --corpus DIR --gold DIR --scores FILE
                 [--tolerance 0.02] [--min-overall X] [--update]

--update writes FILE from this run instead of comparing: the documented
way to refresh the recorded scores after an intended change (see
tests/tools/refresh_scores.sh). The file holds our scores and document
names only, never text of the documents.
"""
import argparse
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def run_scores(a):
    cmd = [sys.executable, os.path.join(HERE, "score.py"), "--parse", a.parse,
           "--corpus", a.corpus, "--gold", a.gold, "--per-doc"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    docs, overall = {}, None
    for line in r.stdout.splitlines():
        m = re.match(r"^doc (\d+\.\d+) (.+)$", line)
        if m:
            docs[m.group(2)] = float(m.group(1))
        m = re.match(r"^overall (\d+\.\d+)", line)
        if m:
            overall = float(m.group(1))
    if overall is None:
        sys.stderr.write(r.stdout + r.stderr)
        raise SystemExit("score_guard: the scorer printed no overall")
    return docs, overall


def read_scores(path):
    rec = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip() or line.startswith("#"):
                continue
            name, score = line.rstrip("\n").split("\t")
            rec[name] = float(score)
    return rec


def write_scores(path, docs, overall):
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("# Per-document parse scores (tests/tools/score.py), recorded by\n")
        fh.write("# tests/tools/score_guard.py --update; the guard fails when a\n")
        fh.write(f"# document drops more than 0.02 below its score. overall {overall:.3f}\n")
        for name in sorted(docs):
            fh.write(f"{name}\t{docs[name]:.3f}\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--parse", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--gold", required=True)
    ap.add_argument("--scores", required=True)
    ap.add_argument("--tolerance", type=float, default=0.02)
    ap.add_argument("--min-overall", type=float)
    ap.add_argument("--update", action="store_true")
    a = ap.parse_args()

    docs, overall = run_scores(a)
    name = os.path.basename(a.scores)
    if a.update:
        write_scores(a.scores, docs, overall)
        print(f"score_guard: {name}: recorded {len(docs)} documents, overall {overall:.3f}")
        return 0
    rec = read_scores(a.scores)
    drops = [(n, rec[n], v) for n, v in sorted(docs.items())
             if n in rec and v < rec[n] - a.tolerance - 1e-9]
    gains = sum(1 for n, v in docs.items() if n in rec and v > rec[n] + 1e-9)
    for n in sorted(set(docs) - set(rec)):
        print(f"score_guard: {name}: {n} is not recorded (refresh the file)")
    for n in sorted(set(rec) - set(docs)):
        print(f"score_guard: {name}: {n} is recorded but was not scored")
    for n, was, now in drops:
        print(f"score_guard: {name}: {n} dropped {was:.3f} -> {now:.3f}")
    # a document scored but not recorded, or recorded but not scored, means
    # the set changed without its record: refresh the file with the change
    ok = not drops and set(docs) == set(rec)
    if a.min_overall is not None and overall < a.min_overall:
        print(f"score_guard: {name}: overall {overall:.3f} < {a.min_overall}")
        ok = False
    print(f"score_guard: {name}: {len(docs)} documents, overall {overall:.3f}, "
          f"{len(drops)} dropped, {gains} improved -> {'ok' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
