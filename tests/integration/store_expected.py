#!/usr/bin/env python3
"""The child rows a batch must leave, read from the documents by the rules
of common/ingest/mm_store_copy.c (its header comment), independently of that C
code: for test_store_copy.sh.

  store_expected.py DOCS.json > compare.sql

Prints a psql script that loads the expected rows of participants,
agenda_items, item_sections, item_absences, attachments, amounts and
law_references into typed temporary tables (PostgreSQL reads the numbers,
so 0.87 is the same real on both sides) and prints every row that is
expected but not stored, or stored but not expected ("missing ..." /
"unexpected ..."), then one "count TABLE N" line per table. A document is
identified by its sha256, an item by its position among the document's
items. The second document with a sha256 is a duplicate: no rows."""
import decimal
import json
import math
import re
import sys

SPACE = "[ \t\n\x0b\x0c\r]*"
INTEGER = re.compile(f"^{SPACE}([-+]?)([0-9]+){SPACE}$")
NUMERIC = re.compile(
    f"^{SPACE}([-+]?([0-9]{{1,30}}(\\.[0-9]{{0,30}})?|\\.[0-9]{{1,30}})([eE][-+]?[0-9]{{1,2}})?){SPACE}$")


def text_of(v):
    """A text column: a string, an integer in decimal, true/false; else None."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return v
    if isinstance(v, int):
        return str(v)
    return None


def integer_of(v, max_digits):
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v if abs(v) <= 10 ** max_digits - 1 else None
    if isinstance(v, str):
        m = INTEGER.match(v)
        if m and 1 <= len(m.group(2)) <= max_digits:
            return int(m.group(1) + m.group(2))
    return None


def number_of(v):
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "%.17g" % v if math.isfinite(v) and abs(v) < 1e30 else None
    if isinstance(v, str):
        m = NUMERIC.match(v)
        return m.group(1) if m else None
    return None


def real_of(v):
    t = number_of(v)
    if t is None:
        return None
    d = decimal.Decimal(t).copy_abs()  # exact: abs() would round to 28 digits
    if d == 0:
        return "0"
    return t if decimal.Decimal("1e-30") <= d <= decimal.Decimal("1e30") else None


def obj(v):
    return v if isinstance(v, dict) else {}


def arr(v):
    return v if isinstance(v, list) else []


def copy_field(v):
    if v is None:
        return "\\N"
    if isinstance(v, bool):
        return "t" if v else "f"
    v = str(v)
    return v.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def text_array(a):
    els = []
    for e in arr(a):
        t = text_of(e)
        els.append("NULL" if t is None else '"' + t.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return "{" + ",".join(els) + "}"


TABLES = {
    "participants": ("sha256 text, ord integer, name text",
                     "SELECT d.sha256, p.ord, p.name FROM participants p"
                     " JOIN documents d ON d.id = p.document_id"),
    "agenda_items": ("sha256 text, pos bigint, number integer, ord integer, title text,"
                     " case_number text, case_number_kind text, kle_code text, kle_main_group text,"
                     " kle_main_group_name text, public boolean, outcome text, outcome_parts text[],"
                     " decision text, confidence real, text_offset bigint, text_length bigint",
                     "SELECT sha256, pos, number, ord, title, case_number, case_number_kind,"
                     " kle_code, kle_main_group, kle_main_group_name, public, outcome, outcome_parts,"
                     " decision, confidence, text_offset, text_length FROM it"),
    "item_sections": ("sha256 text, pos bigint, ord integer, heading text, kind text, text text,"
                      " text_offset bigint, history boolean",
                      "SELECT it.sha256, it.pos, s.ord, s.heading, s.kind, s.text, s.text_offset,"
                      " s.history FROM item_sections s JOIN it ON it.id = s.item_id"),
    "item_absences": ("sha256 text, pos bigint, name text",
                      "SELECT it.sha256, it.pos, a.name FROM item_absences a"
                      " JOIN it ON it.id = a.item_id"),
    "attachments": ("sha256 text, pos bigint, ord integer, name text, source_id text, link text",
                    "SELECT it.sha256, it.pos, a.ord, a.name, a.source_id, a.link FROM attachments a"
                    " JOIN it ON it.id = a.item_id"),
    "amounts": ("sha256 text, pos bigint, value numeric, text text, sentence text",
                "SELECT it.sha256, it.pos, a.value, a.text, a.sentence FROM amounts a"
                " JOIN it ON it.id = a.item_id"),
    "law_references": ("sha256 text, pos bigint, text text, law text, paragraph text",
                       "SELECT it.sha256, it.pos, l.text, l.law, l.paragraph FROM law_references l"
                       " JOIN it ON it.id = l.item_id"),
}


def item_rows(sha, pos, it, rows):
    kle = obj(it.get("kle"))
    order = integer_of(it.get("order"), 9)
    rows["agenda_items"].append((
        sha, pos, integer_of(it.get("number"), 9), pos if order is None else order,
        text_of(it.get("title")), text_of(it.get("case_number")), text_of(it.get("case_number_kind")),
        text_of(kle.get("code")), text_of(kle.get("main_group")), text_of(kle.get("main_group_name")),
        it.get("closed") is not True, text_of(it.get("outcome")), text_array(it.get("outcome_parts")),
        text_of(it.get("decision")), real_of(it.get("confidence")),
        integer_of(it.get("offset"), 18), integer_of(it.get("length"), 18)))
    for k, s in enumerate(arr(it.get("sections")), 1):
        s = obj(s)
        h = s.get("history")
        rows["item_sections"].append((
            sha, pos, k, text_of(s.get("heading")), text_of(s.get("kind")), text_of(s.get("text")),
            integer_of(s.get("offset"), 18), h if isinstance(h, bool) else None))
    for a in arr(it.get("absent")):
        if text_of(a) is not None:
            rows["item_absences"].append((sha, pos, text_of(a)))
    # 012: source_id and link from attachment_files: the file at the same
    # position when its name is the same, else the first of that name
    files = [obj(f) for f in arr(it.get("attachment_files"))]
    for k, a in enumerate(arr(it.get("attachments")), 1):
        if text_of(a) is not None:
            name = a if isinstance(a, str) else None
            f = files[k - 1] if k <= len(files) and name is not None and files[k - 1].get("name") == name \
                else next((f for f in files if name is not None and f.get("name") == name), {})
            rows["attachments"].append((sha, pos, k, text_of(a), text_of(f.get("id")), text_of(f.get("link"))))
    for a in arr(it.get("amounts")):
        a = obj(a)
        rows["amounts"].append((sha, pos, number_of(a.get("value")), text_of(a.get("text")),
                                text_of(a.get("sentence"))))
    for law in arr(it.get("laws")):
        law = obj(law)
        rows["law_references"].append((sha, pos, text_of(law.get("text")), text_of(law.get("law")),
                                       text_of(law.get("paragraph"))))


def main():
    docs = json.load(open(sys.argv[1], encoding="utf-8"))
    rows = {t: [] for t in TABLES}
    seen = set()
    for d in docs:
        if d["sha256"] in seen:
            continue
        seen.add(d["sha256"])
        parse = obj(d.get("parse"))
        for k, p in enumerate(arr(obj(parse.get("document")).get("participants")), 1):
            if text_of(p) is not None:
                rows["participants"].append((d["sha256"], k, text_of(p)))
        for pos, it in enumerate(arr(parse.get("items")), 1):
            item_rows(d["sha256"], pos, obj(it), rows)
    out = sys.stdout
    out.write("CREATE TEMP VIEW it AS SELECT i.*, d.sha256, row_number() OVER"
              " (PARTITION BY i.document_id ORDER BY i.id) AS pos"
              " FROM agenda_items i JOIN documents d ON d.id = i.document_id;\n")
    for t, (cols, got) in TABLES.items():
        out.write(f"CREATE TEMP TABLE exp_{t} ({cols});\nCOPY exp_{t} FROM STDIN;\n")
        for r in rows[t]:
            out.write("\t".join(copy_field(v) for v in r) + "\n")
        out.write("\\.\n")
        out.write(f"CREATE TEMP VIEW got_{t} AS {got};\n")
        out.write(f"SELECT 'missing {t}', e.* FROM (SELECT * FROM exp_{t} EXCEPT ALL"
                  f" SELECT * FROM got_{t}) e;\n")
        out.write(f"SELECT 'unexpected {t}', g.* FROM (SELECT * FROM got_{t} EXCEPT ALL"
                  f" SELECT * FROM exp_{t}) g;\n")
        out.write(f"SELECT 'count {t} ' || count(*) FROM exp_{t};\n")


main()
