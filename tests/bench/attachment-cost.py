#!/usr/bin/env python3
"""What a first sync of a kommune's attachments costs, from the Greve
publications of ../shared (read in place, never copied): attachments per
publication, the requests of a first sync and its hours at one request a
second (the connector's politeness), and the bytes, from a size per
attachment given on the command line (the corpus has the Bilag Ids, not
the files).

    tests/bench/attachment-cost.py [SHARED_DIR] [--mean-bytes N]

Prints "skipped: ../shared not present" and exits 0 without it.
"""
import argparse
import glob
import json
import os
import statistics
import sys

ap = argparse.ArgumentParser()
ap.add_argument("shared", nargs="?",
                default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../shared"))
ap.add_argument("--mean-bytes", type=int, default=503625,
                help="mean bytes of an attachment (default: the mean of the 12 real eDoc "
                     "attachment PDFs in ../shared/corpus/edoc-fujitsu)")
ap.add_argument("--interval-s", type=float, default=1.0, help="seconds between two requests")
ap.add_argument("--kommuner", type=int, default=88, help="kommuner on FirstAgenda")
ap.add_argument("--threads", type=int, default=8, help="kommuner polled at once")
a = ap.parse_args()

files = sorted(glob.glob(os.path.join(a.shared, "corpus/firstagenda-greve/*.json")))
if not files:
    print("skipped: ../shared not present")
    sys.exit(0)
per_pub, items, ids, meetings = [], 0, set(), set()
for f in files:
    d = json.load(open(f, encoding="utf-8"))
    meetings.add((d["Udvalg"].get("Id"), d["Moede"].get("MeetingBeginUtc") or d["Moede"]["Dato"]))
    n = 0
    for it in d.get("Dagsordenpunkter") or []:
        items += 1
        for b in it.get("Bilag") or []:
            if b.get("Id") and b["Id"] not in ids:
                ids.add(b["Id"])
                n += 1
    per_pub.append(n)
pubs, att = len(files), len(ids)
q = statistics.quantiles(per_pub, n=10)
req_pub = 1 + 1 + pubs          # handshake, listing, each publication
req_att = att                   # one request per attachment (its redirect is followed in it)
hours = lambda n: n * a.interval_s / 3600
print("greve: %d publications of %d meetings, %d items, %d attachments (distinct Ids)" %
      (pubs, len(meetings), items, att))
print("attachments per publication: mean %.1f, median %.0f, p90 %.0f, max %d; per item %.2f" %
      (att / pubs, statistics.median(per_pub), q[8], max(per_pub), att / items))
print("first sync, publications only: %d requests, %.2f h at %.1f s/request" %
      (req_pub, hours(req_pub), a.interval_s))
print("first sync, with attachments: %d requests (+%d), %.2f h" %
      (req_pub + req_att, req_att, hours(req_pub + req_att)))
print("bytes at %.0f KB per attachment: %.2f GB for this kommune's %d meetings" %
      (a.mean_bytes / 1000, att * a.mean_bytes / 1e9, len(meetings)))
per_k = req_pub + req_att
print("%d kommuner like this one, %d at a time: %.0f h wall clock, %.0f GB" %
      (a.kommuner, a.threads, hours(per_k) * a.kommuner / a.threads,
       a.kommuner * att * a.mean_bytes / 1e9))
print("steady state: %.1f attachment requests per new publication" % (att / pubs))
