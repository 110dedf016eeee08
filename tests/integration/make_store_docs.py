#!/usr/bin/env python3
"""Documents for test_store_copy.sh, in the shape the store writes (the
envelope's fields, raw_text and parse; see mm_store_batch_add_doc): real
parses of the given files (by minutes-parse) plus hand-made documents with
nasty values.

  make_store_docs.py MINUTES_PARSE OUT_DIR FILE...
  make_store_docs.py --parsed-only MINUTES_PARSE OUT_DIR FILE...


Writes OUT_DIR/compare.json (written by mm_store and compared with the
rows store_expected.py reads from it) and OUT_DIR/bad_*.json (each holds
one document PostgreSQL must refuse, between two good ones)."""
import hashlib
import json
import os
import subprocess
import sys


def envelope(i, raw, parse, sha=None):
    return {"sha256": sha or hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest(),
            "content_type": "text/plain", "source_url": None, "external_id": f"ext-{i}",
            "ce_id": f"ce-{i}", "ce_source": "it", "ce_type": "minutes", "ce_time": "2025-01-02T03:04:05Z",
            "topic": "it.store", "partition": i % 3, "offset": i, "byte_length": len(raw),
            "raw_text": raw, "parse": parse}


def parsed(binary, files):
    docs = []
    for f in files:
        r = subprocess.run([binary, f], capture_output=True)
        if r.returncode != 0:
            continue
        raw = open(f, "rb").read().decode("utf-8", "replace")
        p = json.loads(r.stdout)
        d = p["document"]
        if d.get("source") and not d.get("municipality"):
            # an export that names no kommune: the worker stores it only with
            # the envelope's (as minutes-submit --municipality gives it)
            d["municipality"], d["municipality_source"] = "Middelfart Kommune", "envelope"
        docs.append((raw, p))
    return docs


NASTY_TEXT = "T\t\\N \\. \\\\ \r\n end \"q\" {b} æøå € \U0001F600 \u2028 \x01 \x7f"

NASTY_ITEM = {
    "number": "  +12 ", "order": "7", "title": NASTY_TEXT, "case_number": 12345,
    "case_number_kind": None,
    "kle": {"code": 1.5, "main_group": "00", "main_group_name": {"x": "y", "ab": [1, 0.1], "b": None}},
    "closed": True, "outcome": "approved",
    "outcome_parts": ["a,b", "{c}", "d\"e", "f\\g", "NULL", "", " s ", "t\tu\nv\r", None, 1, 2.5,
                      {"k": "v\t"}, ["x", "y"], True],
    "decision": "D\\\t", "confidence": 0.87, "offset": "1e5", "length": "99999999999999999999",
    "sections": [
        {"heading": "H\\", "kind": "case", "text": NASTY_TEXT, "offset": "12", "history": "true"},
        "not an object", 5, None,
        {"history": True, "offset": 1.0},
        {"history": False, "offset": -5, "heading": 7, "kind": ["k"]},
        {"text": {"nested": [1, 2.50, "s\u0001", {"bb": 1, "a": 2, "c": {"z": None, "y": []}}]},
         "offset": " 123456789012345678 "},
        {"offset": "1234567890123456789"}, {"offset": 9223372036854775807}],
    "absent": ["X", 7, "Y\tZ", {"n": 1}, 1e-7],
    "attachments": ["a.pdf", "b\\c.pdf", "d\ne.pdf", 3.25],
    "amounts": [
        {"value": "120576.50", "text": "120.576,50 kr.", "sentence": "s\tt"},
        {"value": 1e99}, {"value": "1e999"}, {"value": "NaN"}, {"value": " 12.5 "},
        {"value": "12,5"}, {"value": 120576.5}, {"value": ".5"}, {"value": "1."},
        {"value": "-0.0"}, {"value": "+3e-5"}, {"value": "1234567890123456789012345678901"},
        {"value": "123456789012345678901234567890.123456789012345678901234567890e-99"},
        {"value": "1e"}, {"value": "1e123"}, {"value": "\t7\n"}, {"value": "."},
        "not an object", {"value": True}, {"value": 0.1}, {"value": -1e-5}, {"value": 12}],
    "laws": [{"text": "§ 5", "law": "Serviceloven", "paragraph": "5"}, {"law": None}, 3,
             {"text": ["a"], "law": 1, "paragraph": {"p": 2}}],
}

CONFIDENCES = [1e31, "1e30", "1e-30", "1e-31", 0, "-0", 1e30, "10e29",
               "0.0000000000000000000000000000010", "1.0000000000000000000000000000e30",
               "1.0000000000000000000000000001e30", 1e-5, 1e-40, "-3.5", " 0.5 ", "x", None,
               True, [0.5], 3.4e38, "0.000000000000000000000000000001", "-1e30", "-1.5e30"]
NUMBERS = [999999999, 1000000000, -7, "4a", 3.0, True, "007", " -0 ", "+999999999", "", None,
           2147483648, "1 2", "\u00a012", "12\u2007", "\u200b3", "4\u202f"]
ORDERS = ["x", 2147483647, "  42\n", 0, -3, "99", None, 1.0, "1e2", "+5", "- 5"]
CLOSED = ["true", 1, True, False, None, "false", {"v": True}]
KLE = ["string", [1], None, {"code": None}, 5]
PARTS = ["not an array", {"a": 1}, [], [[1, 2]], ["x"], None, [None], ["\\\"{},"]]
NAMES = ["not an array", {"a": 1}, [], [[1, 2]], ["x"], None, ["\\\"{},"], [0.5, False]]
SECTIONS = [{}, "x", None, [], [{"text": ""}], [{"history": None}]]


def nasty_items():
    items = [NASTY_ITEM]
    n = max(len(CONFIDENCES), len(NUMBERS), len(ORDERS), len(CLOSED), len(KLE), len(PARTS),
            len(SECTIONS))
    for i in range(n):
        it = {"title": f"item {i}"}
        for key, vals in (("confidence", CONFIDENCES), ("number", NUMBERS), ("order", ORDERS),
                          ("closed", CLOSED), ("kle", KLE), ("outcome_parts", PARTS),
                          ("sections", SECTIONS), ("absent", NAMES), ("attachments", NAMES),
                          ("amounts", SECTIONS), ("laws", SECTIONS), ("offset", ORDERS),
                          ("length", NUMBERS)):
            if i < len(vals):
                it[key] = vals[i]
        items.append(it)
    return items + ["just a string", 5, None, [1, 2], {}, True]


def nasty_docs():
    doc = {"municipality": "Nasty Kommune", "committee": "Udvalg\tmed \\tab", "kind": "minutes",
           "meeting_date": "2025-02-03", "start_time": "9.30", "confidence": 1e31,
           "participants": ["A\tB", "C\nD", "E\\F", "G\"H", 5, 1.5, True,
                            {"b": 1, "a": [1, "x\ty"]}, ["q"], "   ", "æ\r"],
           "warnings": ["w\t1"]}
    agenda = {"municipality": "Nasty Kommune", "committee": "Other", "kind": "agenda",
              "meeting_date": "2025-02-04", "participants": ["P"]}
    minutes = dict(agenda, kind="minutes", participants="not an array")
    return [
        ("nasty 1", {"document": doc, "items": nasty_items()}),
        ("nasty 2", {"document": {"participants": {"a": 1}}, "items": {"not": "array"}}),
        ("nasty 3", "a parse that is a string"),
        ("nasty 4", {"document": "not an object", "items": [{"title": "only"}]}),
        ("nasty 5", {"document": {}, "items": []}),
        ("nasty 6 agenda", {"document": agenda, "items": [{"title": "a1", "sections": [{"text": "x"}]}]}),
        ("nasty 7 minutes", {"document": minutes, "items": [{"title": "m1", "absent": ["Q"]}]}),
        ("nasty 8 agenda again", {"document": agenda, "items": [{"title": "a2"}]}),
    ]


# Values the store takes leniently: stored as NULL (or no row, in a list of
# names), never an error (common/ingest/mm_store_copy.c).
LENIENT = {
    "nul_order": {"document": {}, "items": [{"order": "1\u0000", "title": "nul order"}]},
    "nul_confidence": {"document": {}, "items": [{"confidence": "0.5\u0000"}]},
    "nul_amount": {"document": {}, "items": [{"amounts": [{"value": "5\u0000"}]}]},
    "nul_nested": {"document": {}, "items": [{"title": {"t": "\u0000"}}]},
    "null_participant": {"document": {"participants": ["a", None, "b"]}, "items": []},
    "null_absent": {"document": {}, "items": [{"absent": [None, "z"]}]},
    # white space that is not ASCII around a number: not a number
    "wide_space_number": {"document": {}, "items": [{"number": "5\u2003"}]},
    "wide_space_order": {"document": {}, "items": [{"order": "\u16807"}]},
    "wide_space_confidence": {"document": {}, "items": [{"confidence": "0.5\u2028"}]},
    "wide_space_amount": {"document": {}, "items": [{"amounts": [{"value": "\u30001.5"}]}]},
    "wide_space_offset": {"document": {}, "items": [{"sections": [{"offset": "\u205f12"}]}]},
}

# A meeting key of 6,000 characters that do not compress: over the size of
# an index row (SQLSTATE 54000, a program limit).
LONG = ""
for _i in range(200):
    LONG += hashlib.sha256(str(_i).encode()).hexdigest()[:30]

BAD = {
    "nul_section": {"document": {}, "items": [{"sections": [{"text": "a\u0000b"}]}]},
    "nul_participant": {"document": {"participants": ["x\u0000"]}, "items": []},
    "nul_outcome_part": {"document": {}, "items": [{"outcome_parts": ["ok", "\u0000"]}]},
    "nul_title": {"document": {}, "items": [{"title": "t\u0000"}]},
    "nul_document": {"document": {"committee": "c\u0000"}, "items": []},
    "invalid_utf8_section": {"document": {}, "items": [{"sections": [{"text": "<<INVALID-UTF8>>"}]}]},
    "invalid_utf8_title": {"document": {}, "items": [{"title": "<<INVALID-UTF8>>"}]},
    # an export that names no municipality (MM003): never stored under an empty one
    "export_no_municipality": {"document": {"source": {"system": "sbsys", "meeting_id": "26",
                                                       "publication_id": None, "published_at": None}},
                               "items": []},
    # a program limit: refused in a batch and alone (54000)
    "limit_long_key": {"document": {"municipality": "Greve Kommune", "committee": LONG,
                                    "meeting_date": "2025-01-01"}, "items": []},
}


def main():
    if sys.argv[1] == "--parsed-only":
        binary, out = sys.argv[2], sys.argv[3]
        os.makedirs(out, exist_ok=True)
        docs = [envelope(i, raw, p) for i, (raw, p) in enumerate(parsed(binary, sys.argv[4:]))]
        json.dump(docs, open(os.path.join(out, "parsed.json"), "w"))
        print(len(docs))
        return
    binary, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    docs = []
    lenient = [(f"lenient {k}", v) for k, v in LENIENT.items()]
    for raw, p in parsed(binary, sys.argv[3:]) + nasty_docs() + lenient:
        docs.append(envelope(len(docs), raw, p))
    # a duplicate inside the batch: same sha256 as the document before
    docs.append(envelope(len(docs), "dup", {"document": {}, "items": [{"title": "dup"}]},
                         sha=docs[-1]["sha256"]))
    json.dump(docs, open(os.path.join(out, "compare.json"), "w"))
    for name, parse in BAD.items():
        trio = [envelope(1000, f"good {name} 1", {"document": {}, "items": [{"title": "g"}]}),
                envelope(1001, f"bad {name}", parse),
                envelope(1002, f"good {name} 2", {"document": {"participants": ["p"]},
                                                   "items": [{"title": "g"}]})]
        json.dump(trio, open(os.path.join(out, f"bad_{name}.json"), "w"))
    print(len(docs))


main()
