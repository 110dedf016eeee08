#!/usr/bin/env python3
"""Checks the attachments topic against what the test server serves.

    check_attachments.py DUMP SPEC...

DUMP: `mm-kafka-tool dump` output of the attachments topic (one JSON line
per message). SPEC: KOMMUNE=BASE_URL=ATTACHMENTS_JSON (the server's
/_attachments/SLUG answer) [=CAP]. Every attachment the server lists must
be in the topic exactly once, with the headers of the attachment message
(docs/source-connector.md#attachments): the bytes and their sha256, or, for
the "huge" one, an empty record marked too_large with its size. Options:
  --pending ID     ID must not be in the topic yet (a failure retried later)
  --skipped ID=R   ID must be an empty record with attachment-skipped R
Prints one summary line; exits 1 naming every difference.
"""
import hashlib
import json
import sys

CE_TYPE = "dk.minutes.attachment.raw"


def main():
    args = sys.argv[1:]
    pending, skipped, specs = set(), {}, []
    while args:
        a = args.pop(0)
        if a == "--pending":
            pending.add(args.pop(0))
        elif a == "--skipped":
            k, _, r = args.pop(0).partition("=")
            skipped[k] = r
        else:
            specs.append(a)
    dump, specs = specs[0], specs[1:]
    msgs = [json.loads(l) for l in open(dump, encoding="utf-8") if l.strip()]
    by_id = {}
    errors = []
    for m in msgs:
        h = m["headers"]
        by_id.setdefault(h.get("attachment-id"), []).append(m)
    want = 0
    counts = {"bytes": 0, "too_large": 0, "other": 0}
    for spec in specs:
        parts = spec.split("=")
        kommune, base, path = parts[0], parts[1], parts[2]
        cap = int(parts[3]) if len(parts) > 3 else None
        atts = json.load(open(path, encoding="utf-8"))
        for aid, a in atts.items():
            got = by_id.get(aid, [])
            if aid in pending:
                if got:
                    errors.append("%s: in the topic, but its fetch failed" % aid)
                continue
            want += 1
            if len(got) != 1:
                errors.append("%s (%s): %d messages, want 1" % (aid, kommune, len(got)))
                continue
            m = got[0]
            h = m["headers"]
            url = "%s/vis/pdf/bilag/%s?redirectDirectlyToPdf=true" % (base, aid)
            expect = {"ce_specversion": "1.0", "ce_type": CE_TYPE, "municipality": kommune,
                      "document-id": aid, "attachment-id": aid, "attachment-name": a["name"],
                      "source-url": url}
            if a.get("item") is not None:
                expect["item-number"] = str(a["item"])
            for k, v in expect.items():
                if h.get(k) != v:
                    errors.append("%s: header %s = %r, want %r" % (aid, k, h.get(k), v))
            if m["key"] != "%s|%s" % (kommune, aid):
                errors.append("%s: key %r" % (aid, m["key"]))
            if h.get("meeting-document-id") not in a["docs"]:
                errors.append("%s: meeting-document-id %r not one of %r" %
                              (aid, h.get("meeting-document-id"), a["docs"]))
            if not (h.get("meeting-key") or "").startswith(kommune + "|"):
                errors.append("%s: meeting-key %r" % (aid, h.get("meeting-key")))
            if not h.get("ce_source", "").startswith("minutes-source/"):
                errors.append("%s: ce_source %r" % (aid, h.get("ce_source")))
            if not h.get("ce_time"):
                errors.append("%s: no ce_time" % aid)
            reason = skipped.get(aid, "too_large" if a["kind"] == "huge" else None)
            if reason is None:
                counts["bytes"] += 1
                if "attachment-skipped" in h:
                    errors.append("%s: skipped %r" % (aid, h["attachment-skipped"]))
                if m["value_len"] != a["size"] or m["value_sha256"] != a["sha256"]:
                    errors.append("%s: value %d bytes %s, want %d bytes %s" %
                                  (aid, m["value_len"], m["value_sha256"][:12], a["size"],
                                   a["sha256"][:12]))
                if h.get("ce_id") != a["sha256"]:
                    errors.append("%s: ce_id %r is not the sha256 of the bytes" % (aid, h.get("ce_id")))
                if h.get("attachment-size") != str(a["size"]):
                    errors.append("%s: attachment-size %r, want %d" %
                                  (aid, h.get("attachment-size"), a["size"]))
                if h.get("content-type") != "application/pdf":
                    errors.append("%s: content-type %r" % (aid, h.get("content-type")))
                continue
            counts["too_large" if reason == "too_large" else "other"] += 1
            if h.get("attachment-skipped") != reason or m["value_len"] != 0:
                errors.append("%s: skipped %r with %d bytes, want %r and an empty value" %
                              (aid, h.get("attachment-skipped"), m["value_len"], reason))
            ce_id = hashlib.sha256(("%s|%s|%s" % (kommune, aid, reason)).encode()).hexdigest()
            if h.get("ce_id") != ce_id:
                errors.append("%s: ce_id of a skipped record %r" % (aid, h.get("ce_id")))
            size = int(h.get("attachment-size", "-1"))
            if reason == "too_large":
                # the size announced (Content-Length), else the bytes counted past the cap
                ok = size == a["size"] or (cap is not None and cap < size <= a["size"])
                if not ok:
                    errors.append("%s: too_large with attachment-size %d (real %d, cap %s)" %
                                  (aid, size, a["size"], cap))
    extra = len(msgs) - sum(len(v) for k, v in by_id.items() if k in
                            {aid for s in specs for aid in json.load(open(s.split("=")[2]))})
    if extra:
        errors.append("%d messages of attachments the server does not list" % extra)
    for e in errors[:40]:
        print("attachments: " + e, file=sys.stderr)
    print("attachments: %d messages, %d expected: %d with bytes, %d too_large, %d other skipped"
          % (len(msgs), want, counts["bytes"], counts["too_large"], counts["other"]))
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
