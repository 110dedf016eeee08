#!/usr/bin/env python3
"""Compares the meetings stored in PostgreSQL with the gold annotations.

    check_gold.py --db URL --gold DIR [--exact-meetings]

For every gold/NAME.json: the meeting (municipality, committee, meeting_date)
must exist exactly once, and its CURRENT items must have the gold's item
count, numbers, journal numbers (case_number) and outcomes, in order
(a gold outcome of null is not scored, as in tests/tools/score.py).
With --exact-meetings the database must hold no other meetings.
--known NAME:ITEM:FIELD names a parser failure on a hard case that the gold
records truthfully (listed in tests/fixtures/gold/KNOWN-FAILURES): it is
printed as KNOWN and does not fail the check; every other mismatch does.
Uses psql (no Python driver needed). Exit 0 when everything matches.
"""
import argparse
import glob
import json
import os
import subprocess
import sys

QUERY = """
SELECT coalesce(json_agg(json_build_object(
  'municipality', m.municipality, 'committee', m.committee,
  'meeting_date', m.meeting_date, 'kind', m.kind,
  'items', (SELECT coalesce(json_agg(json_build_object(
               'number', i.number, 'case_number', i.case_number,
               'outcome', i.outcome, 'closed', NOT i.public) ORDER BY i.ord), '[]')
            FROM agenda_items i WHERE i.document_id = m.current_document_id))), '[]')
FROM meetings m
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--gold", required=True)
    ap.add_argument("--exact-meetings", action="store_true")
    ap.add_argument("--known", action="append", default=[])
    a = ap.parse_args()
    out = subprocess.run(["psql", a.db, "-qAtX", "-v", "ON_ERROR_STOP=1", "-c", QUERY],
                         check=True, capture_output=True, text=True).stdout
    meetings = json.loads(out)
    golds = sorted(glob.glob(os.path.join(a.gold, "*.json")))
    if not golds:
        print(f"no gold files in {a.gold}")
        return 1
    problems = []
    for path in golds:
        name = os.path.basename(path)
        g = json.load(open(path, encoding="utf-8"))
        gd = g["document"]
        key = (gd.get("municipality"), gd.get("committee"), gd.get("meeting_date"))
        found = [m for m in meetings
                 if (m["municipality"], m["committee"], m["meeting_date"]) == key]
        if len(found) != 1:
            problems.append(f"{name}: {len(found)} meetings for {key}")
            continue
        items = found[0]["items"]
        gitems = g["items"]
        if len(items) != len(gitems):
            problems.append(f"{name}: {len(items)} items, gold has {len(gitems)}")
        for gi, di in zip(gitems, items):
            for field in ("number", "case_number", "outcome"):
                if field == "outcome" and gi.get(field) is None:
                    continue  # gold null = not scored (see tests/tools/score.py)
                if gi.get(field) != di.get(field):
                    if f"{name[:-5]}:{gi.get('number')}:{field}" in a.known:
                        print(f"KNOWN {name}: item {gi.get('number')}: {field} is "
                              f"{di.get(field)!r}, gold {gi.get(field)!r}")
                        continue
                    problems.append(f"{name}: item {gi.get('number')}: {field} is "
                                    f"{di.get(field)!r}, gold {gi.get(field)!r}")
        print(f"{name}: meeting {key}: {len(items)} items checked")
    if a.exact_meetings and len(meetings) != len(golds):
        problems.append(f"{len(meetings)} meetings stored, expected {len(golds)}")
    for p in problems:
        print("MISMATCH", p)
    print(f"{len(golds) - len({p.split(':')[0] for p in problems})} of {len(golds)} gold documents match")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
