#!/usr/bin/env python3
"""The project's own parse-quality scorer.

It scores `minutes-parse` output against gold annotations field by field,
with the same rules as the evaluation the project is judged by, so the
repository can test its parse quality without anything beside the clone.

Usage:
  score.py --parse 'build/bin/minutes-parse {}' --corpus DIR --gold DIR
           [--verbose] [--json] [--per-doc]
           [--min-overall X] [--min-field X] [--min-doc X] [--min-votes X]

For every gold file NAME.json in --gold, the command is run on the document
that the gold's "source" names (default NAME.txt) in --corpus; '{}' in the
command is replaced by that path. A gold value of null is not scored.

Fields: meeting kind, municipality, committee, date, start and end time and
location (exact after normalisation; start and end time are scored even
when the gold is null), participants (F1), items (F1 over item numbers),
item order, and per item, paired by number in document order: title, case
number, closed, outcome (exact), absent and attachments (F1).

Votes (issue 21), where the gold item has "votes": the item's vote events
are paired in text order (the first with the first, ...). votes.events is
the F1 of the number of events; votes.count the F1 of the stated counts
(event, side, count) over for/against/abstain; votes.parties and
votes.members the F1 of (event, side, party) and (event, side, member);
reservations the F1 of the reserving parties and members. --min-votes X
is a bar on every votes.* and reservations field.

The last line is 'overall X.XXX', the mean of the field scores. With
--min-* bars the exit status is 1 when a bar is missed (named on stderr),
and also when a document fails to parse.
"""
import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import unicodedata

TEXT_FIELDS = ("kind", "municipality", "committee", "meeting_date", "location")
TIME_FIELDS = ("start_time", "end_time")  # scored even when the gold is null
EXTENSIONS = r"\.(pdf|docx?|xlsx?|pptx?)$"


def canon(value):
    """Unicode-, case- and white-space-insensitive form; None stays None."""
    if value is None:
        return None
    s = unicodedata.normalize("NFC", str(value)).replace("\u00a0", " ")
    s = " ".join(s.replace(",", " ").split()).casefold()
    return s.rstrip(" .:;,")


def canon_attachment(value):
    """An attachment name without a 'Bilag N:' prefix or a file extension."""
    s = canon(value) or ""
    s = re.sub(r"^bilag(_|\s*\d+\s*[.:)-]?\s*)", "", s)
    s = re.sub(EXTENSIONS, "", s)
    return s.strip(" -_")


class Scores:
    """Accuracy fields (hits/total) and F1 fields (tp, predicted, gold)."""

    def __init__(self):
        self.acc = {}
        self.f1 = {}

    def hit(self, field, ok):
        h, n = self.acc.get(field, (0, 0))
        self.acc[field] = (h + bool(ok), n + 1)

    def sets(self, field, gold, got):
        g, p = set(gold), set(got)
        tp, np_, ng = self.f1.get(field, (0, 0, 0))
        self.f1[field] = (tp + len(g & p), np_ + len(p), ng + len(g))

    def counts(self, field, tp, npred, ngold):
        a, b, c = self.f1.get(field, (0, 0, 0))
        self.f1[field] = (a + tp, b + npred, c + ngold)

    def merge(self, other):
        for k, (h, n) in other.acc.items():
            a, b = self.acc.get(k, (0, 0))
            self.acc[k] = (a + h, b + n)
        for k, v in other.f1.items():
            self.counts(k, *v)

    def table(self):
        out = {k: h / n for k, (h, n) in self.acc.items()}
        for k, (tp, npred, ngold) in self.f1.items():
            prec = tp / npred if npred else (0.0 if ngold else 1.0)
            rec = tp / ngold if ngold else 1.0
            out[k] = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        return out


def overall(table):
    return sum(table.values()) / len(table) if table else 0.0


def pair_items(gold_items, got_items):
    """Each gold item with the first unused parsed item of its number."""
    by_number = {}
    for it in got_items:
        by_number.setdefault(it.get("number"), []).append(it)
    return [(g, (by_number.get(g["number"]) or [None]).pop(0)) for g in gold_items]


def say(verbose, name, text):
    if verbose:
        print(f"  {name} {text}")


def score_meeting(gold, got, sc, verbose, name):
    gd, pd = gold.get("document") or {}, got.get("document") or {}
    for f in TEXT_FIELDS + TIME_FIELDS:
        if gd.get(f) is None and f not in TIME_FIELDS:
            continue
        ok = canon(gd.get(f)) == canon(pd.get(f))
        sc.hit("meeting." + f, ok)
        if not ok:
            say(verbose, name, f"meeting.{f}: want {gd.get(f)!r} got {pd.get(f)!r}")
    if gd.get("participants"):
        sc.sets("participants", map(canon, gd["participants"]),
                map(canon, pd.get("participants") or []))


def score_numbers(gold, got_items, sc, verbose, name):
    want = [g["number"] for g in gold["items"]]
    have = [i.get("number") for i in got_items]
    tp = sum(min(want.count(n), have.count(n)) for n in set(want))
    sc.counts("items", tp, len(have), len(want))
    if sorted(map(str, want)) != sorted(map(str, have)):
        say(verbose, name, f"items: want {want} got {have}")
    common = [n for n in have if n in want]
    sc.hit("items.order", len(common) > 1 and common == [n for n in want if n in have])


def score_item(g, p, sc, verbose, tag):
    missing = p is None
    p = p or {}
    exact = [("item.title", canon(g["title"]), canon(p.get("title"))),
             ("item.case_number", canon(g["case_number"]), canon(p.get("case_number"))),
             ("item.closed", bool(g["closed"]), bool(p.get("closed")))]
    if g.get("outcome") is not None:
        exact.append(("item.outcome", g["outcome"], p.get("outcome")))
    for field, want, have in exact:
        ok = not missing and want == have
        sc.hit(field, ok)
        if not ok:
            say(verbose, tag, f"{field}: want {want!r} got {have!r}")
    lists = [("item.attachments", canon_attachment, g["attachments"])]
    if g.get("absent") is not None:
        lists.insert(0, ("item.absent", canon, g["absent"]))
    for field, fn, gold_list in lists:
        want = [fn(x) for x in gold_list]
        have = [fn(x) for x in (p.get(field.split(".")[1]) or [])]
        if missing and not want:
            want = ["(missing item)"]
        sc.sets(field, want, have)
        if set(want) != set(have):
            say(verbose, tag, f"{field.split('.')[1]}: want {want} got {have}")


VOTE_SIDES = ("for", "against", "abstain")


def vote_tuples(events, key, fn):
    """(event index, side, value) for every value of `key` in the events."""
    out = set()
    for i, ev in enumerate(events):
        for side in VOTE_SIDES:
            got = (ev.get(side) or {}).get(key)
            if key == "count":
                if got is not None:
                    out.add((i, side, got))
            else:
                out.update((i, side, fn(x)) for x in got or [])
    return out


def score_votes(g, p, sc, verbose, tag):
    if g.get("votes") is None:
        return
    want, have = g["votes"], (p or {}).get("votes") or []
    sc.counts("votes.events", min(len(want), len(have)), len(have), len(want))
    for key, field, fn in (("count", "votes.count", None), ("parties", "votes.parties", canon),
                           ("members", "votes.members", canon)):
        w, h = vote_tuples(want, key, fn), vote_tuples(have, key, fn)
        sc.sets(field, w, h)
        if w != h:
            say(verbose, tag, f"{field}: want {sorted(w, key=str)} got {sorted(h, key=str)}")
    if g.get("reservations") is not None:
        def flat(rs):
            return {(k, canon(x)) for r in rs for k in ("parties", "members")
                    for x in r.get(k) or []}
        w, h = flat(g["reservations"]), flat((p or {}).get("reservations") or [])
        sc.sets("reservations", w, h)
        if w != h:
            say(verbose, tag, f"reservations: want {sorted(w)} got {sorted(h)}")


def score_document(gold, got, verbose, name):
    sc = Scores()
    score_meeting(gold, got, sc, verbose, name)
    items = got.get("items") or []
    score_numbers(gold, items, sc, verbose, name)
    for g, p in pair_items(gold["items"], items):
        score_item(g, p, sc, verbose, f"{name} #{g['number']}")
        score_votes(g, p, sc, verbose, f"{name} #{g['number']}")
    return sc


def run_parser(command, path, timeout):
    words = shlex.split(command)
    argv = [w.replace("{}", path) for w in words]
    if not any("{}" in w for w in words):
        argv.append(path)
    r = subprocess.run(argv, capture_output=True, timeout=timeout)
    if r.returncode != 0:
        raise ValueError(f"exit {r.returncode}: {r.stderr.decode('utf-8', 'replace').strip()[:200]}")
    return json.loads(r.stdout.decode("utf-8"))


def check_bars(args, table, total, per_doc):
    missed = []
    if args.min_overall is not None and total < args.min_overall:
        missed.append(f"overall {total:.3f} < {args.min_overall}")
    if args.min_field is not None:
        missed += [f"{k} {v:.3f} < {args.min_field}" for k, v in sorted(table.items())
                   if v < args.min_field]
    if args.min_votes is not None:
        missed += [f"{k} {v:.3f} < {args.min_votes}" for k, v in sorted(table.items())
                   if (k.startswith("votes.") or k == "reservations") and v < args.min_votes]
        if not any(k.startswith("votes.") for k in table):
            missed.append("no votes in the gold")
    if args.min_doc is not None:
        missed += [f"document {n} {v:.3f} < {args.min_doc}" for n, v in per_doc
                   if v < args.min_doc]
    for m in missed:
        print(f"score.py: bar missed: {m}", file=sys.stderr)
    return not missed


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--parse", required=True, help="parse command; {} is the document's path")
    ap.add_argument("--corpus", required=True, help="folder of the documents")
    ap.add_argument("--gold", required=True, help="folder of NAME.json gold files")
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--verbose", "-v", action="store_true", help="print every mismatch")
    ap.add_argument("--json", action="store_true", help="print the scores as JSON too")
    ap.add_argument("--per-doc", action="store_true", help="print each document's overall")
    ap.add_argument("--min-overall", type=float)
    ap.add_argument("--min-field", type=float)
    ap.add_argument("--min-doc", type=float)
    ap.add_argument("--min-votes", type=float, help="bar on every votes.* and reservations field")
    args = ap.parse_args()

    names = sorted(f[:-5] for f in os.listdir(args.gold) if f.endswith(".json"))
    total, per_doc, failed = Scores(), [], 0
    for name in names:
        with open(os.path.join(args.gold, name + ".json"), encoding="utf-8") as fh:
            gold = json.load(fh)
        path = os.path.join(args.corpus, gold.get("source", name + ".txt"))
        try:
            got = run_parser(args.parse, path, args.timeout)
        except Exception as e:  # noqa: BLE001 - any failure scores as an empty parse
            failed += 1
            print(f"  {name}: parse failed: {e}", file=sys.stderr)
            got = {}
        sc = score_document(gold, got, args.verbose, name)
        per_doc.append((name, overall(sc.table())))
        total.merge(sc)

    table = total.table()
    for k in sorted(table):
        print(f"{k:28s} {table[k]:.3f}")
    if args.per_doc:
        for n, v in sorted(per_doc, key=lambda x: x[1]):
            print(f"doc {v:.3f} {n}")
    whole = overall(table)
    if args.json:
        print(json.dumps({"scores": table, "overall": whole, "failed": failed,
                          "documents": dict(per_doc)}))
    print(f"documents {len(names)}  failed {failed}")
    print(f"overall {whole:.3f}")
    ok = check_bars(args, table, whole, per_doc)
    return 0 if ok and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
