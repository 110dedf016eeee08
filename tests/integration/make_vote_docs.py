#!/usr/bin/env python3
"""Documents for test_votes.sh: the invented minutes of
tests/fixtures/votes/docs parsed by minutes-parse, in the shape of
mm_ingest_batch's `docs`, and the answer party_vote_summary must give.

  make_vote_docs.py MINUTES_PARSE OUT_DIR ROUND FILE...

A document with no municipality of its own (the FirstAgenda export) gets
"Odder Kommune", as the worker takes it from the envelope. With
MM_VOTES_STRIP=1 the items carry no votes and reservations: what a worker
built before migration 010 (no votes pass) stored.

Writes OUT_DIR/docs-ROUND.json (ROUND changes the raw text, so a second
round stores new documents of the same meetings) and OUT_DIR/expect.txt:
"party|option|votes|items" per line, for the kommune of the documents and
every date, from the parses' own votes; and OUT_DIR/counts.txt: the number
of vote events, counts, party votes, person votes and reservations."""
import collections
import hashlib
import json
import os
import subprocess
import sys

binary, out, rnd, files = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
docs, summary = [], collections.defaultdict(lambda: [0, set()])
counts = [0, 0, 0, 0, 0]
for i, f in enumerate(files):
    parse = json.loads(subprocess.run([binary, f], capture_output=True, check=True).stdout)
    if not parse["document"].get("municipality"):
        parse["document"]["municipality"] = "Odder Kommune"  # the envelope's
    if os.environ.get("MM_VOTES_STRIP") == "1":
        for it in parse["items"]:
            it["votes"], it["reservations"] = [], []
    raw = open(f, encoding="utf-8").read() + f"\n<!-- round {rnd} -->\n"
    docs.append({"sha256": hashlib.sha256(raw.encode()).hexdigest(), "content_type": "text/plain",
                 "source_url": None, "external_id": f"votes-{i}", "ce_id": f"votes-{rnd}-{i}",
                 "ce_source": "it", "ce_type": "minutes", "ce_time": "2025-01-02T03:04:05Z",
                 "topic": "it.votes", "partition": 0, "offset": int(rnd) * 100 + i,
                 "byte_length": len(raw), "raw_text": raw, "parse": parse})
    kommune = parse["document"].get("municipality")
    for it in parse["items"]:
        counts[4] += sum(len(r["parties"]) + len(r["members"]) for r in it["reservations"])
        for e in it["votes"]:
            counts[0] += 1
            for opt in ("for", "against", "abstain"):
                counts[1] += e[opt]["count"] is not None
                counts[2] += len(e[opt]["parties"])
                counts[3] += len(e[opt]["members"])
                for p in e[opt]["parties"]:
                    if kommune == "Odder Kommune":
                        s = summary[(p, opt)]
                        s[0] += 1
                        s[1].add((i, it["number"]))
json.dump(docs, open(f"{out}/docs-{rnd}.json", "w"), ensure_ascii=False)
order = {"for": 0, "against": 1, "abstain": 2}
with open(f"{out}/expect.txt", "w") as fh:
    for (p, opt), (n, items) in sorted(summary.items(), key=lambda kv: (kv[0][0], order[kv[0][1]])):
        fh.write(f"{p}|{opt}|{n}|{len(items)}\n")
with open(f"{out}/counts.txt", "w") as fh:
    fh.write(" ".join(map(str, counts)) + "\n")
