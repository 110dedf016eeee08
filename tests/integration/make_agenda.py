#!/usr/bin/env python3
"""Makes the agenda version of a minutes document (test helper).

    make_agenda.py MINUTES.txt AGENDA.txt

Drops every decision: each block that starts with a line "Beslutning" and
runs up to the next agenda item heading ("NNN.  Title") or the end, and
turns the "Referat" heading into "Dagsorden".
"""
import re
import sys

src, dst = sys.argv[1], sys.argv[2]
lines = open(src, encoding="utf-8").read().split("\n")
out, skipping = [], False
item = re.compile(r"^\s*\d{1,4}\.\s+\S")
for line in lines:
    if re.match(r"^\s*Beslutning\s*$", line):
        skipping = True
        continue
    if skipping and item.match(line):
        skipping = False
    if not skipping:
        out.append(re.sub(r"^(\s*)Referat(\s*)$", r"\1Dagsorden\2", line))
open(dst, "w", encoding="utf-8").write("\n".join(out))
