#!/usr/bin/env python3
"""Render FirstAgenda meetings into the text layouts of other systems.

Usage: render_firstagenda.py SRC_DIR GOLD_DIR OUT_DIR [--seed N]

SRC_DIR holds FirstAgenda exports (NAME.json: exact item numbers, titles,
journal numbers, attachments and section texts of a real meeting); GOLD_DIR
the structure gold made from them (NAME.json). For every meeting and every
layout family below, OUT_DIR/corpus gets a rendering and OUT_DIR/gold its
gold, in the format of score.py: the renderings in OUT_DIR/corpus, the gold
of family F in OUT_DIR/gold/F (--corpus OUT_DIR/corpus --gold OUT_DIR/gold/F).

Families (issue 7):
  edoc     eDoc PDF text: "N." alone, the title below, page header blocks
           (committee, "Referat", "Dato: ...", "Side N") anywhere, "Sagsnr.:"
           and "Dok.nr.:" lines before the first heading
  acadre   Acadre PDF text: running numbers across the year ("412. Title"),
           labels whose values come a few lines later, "Bilag:" lists
  toc      a table of contents (dot leaders or page numbers, sometimes split
           from the numbers) before "N. Title" items
  punkt    "Punkt N: Title" headings
  markdown "## N. Title" headings, bold labels
  web      web-page text with UI strings ("Hent som PDF", "Kopier link", lone
           page numbers) and a header without labels
  html     the meeting as a web page (HTML: headings, paragraphs, a list of
           attachment links, buttons), read through minutes-parse's HTML
           extraction
Every choice that is not the meeting's own content (wrapping width, blank
lines, header wording, attachment list form, page length) is drawn from a
seeded random generator, so no rule can key on one rendering.
"""
import html
import json
import os
import random
import re
import sys
import textwrap

MONTHS = ["januar", "februar", "marts", "april", "maj", "juni", "juli", "august",
          "september", "oktober", "november", "december"]
DAYS = ["mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag"]
FAMILIES = ["edoc", "acadre", "toc", "punkt", "markdown", "web", "html"]


def html_sections(item):
    """(heading, [paragraph]) pairs of an item's HTML fields, in order."""
    out = []
    for f in item.get("Felter") or []:
        h = f.get("Html") or ""
        h = re.sub(r"<span class='sagsforloeb'>.*?</span>", "", h, flags=re.S)
        h = re.sub(r"<h3>\s*Sagens forløb\s*</h3>", "", h)
        parts = re.split(r"<h3>(.*?)</h3>", h, flags=re.S)
        for k in range(1, len(parts), 2):
            head = html.unescape(re.sub(r"<[^>]+>", "", parts[k])).strip()
            body = parts[k + 1] if k + 1 < len(parts) else ""
            body = re.sub(r"<(div|br|p|li)[^>]*>", "\n", body)
            body = html.unescape(re.sub(r"<[^>]+>", "", body))
            paras = [re.sub(r"\s+", " ", p).strip() for p in body.split("\n")]
            paras = [p for p in paras if p]
            if head and head != "Fremstilling":
                out.append((head, paras))
    # Greve prints the decision first; minutes elsewhere print it last.
    dec = [s for s in out if s[0].startswith("Beslutning")]
    rest = [s for s in out if not s[0].startswith("Beslutning")]
    return rest + dec


def wrap(r, text, width):
    return textwrap.wrap(text, width=width, break_long_words=False) or [""]


class Doc:
    """Collects lines; inserts a page header block every `page` lines."""

    def __init__(self, r, header_block, page):
        self.r, self.lines, self.header, self.page, self.pageno = r, [], header_block, page, 1
        self.since = 0

    def add(self, *lines):
        for ln in lines:
            self.lines.append(ln)
            self.since += 1
            if self.header and self.since >= self.page:
                self.pageno += 1
                self.since = 0
                self.lines.append("\f" if self.r.random() < 0.5 else "")
                for h in self.header(self.pageno):
                    self.lines.append(h)
                self.lines.append("")

    def blank(self, lo=1, hi=2):
        self.add(*([""] * self.r.randint(lo, hi)))


def danish_date(r, y, m, d, wd):
    form = r.randint(0, 3)
    if form == 0:
        return f"{DAYS[wd]} den {d}. {MONTHS[m - 1]} {y}"
    if form == 1:
        return f"{DAYS[wd].capitalize()} d. {d}. {MONTHS[m - 1]} {y}"
    if form == 2:
        return f"{d:02d}.{m:02d}.{y}"
    return f"{d}. {MONTHS[m - 1]} {y}"


# The municipality of the meeting being rendered (its gold's), set by main().
MUNI = "Greve Kommune"


def committee_name(src):
    n = re.sub(r"\s+\d{4}-\d{4}$", "", src["Udvalg"]["Navn"]).strip()
    if n.startswith("."):
        return None
    return MUNI.replace(" Kommune", " Byråd") if n == "Byråd" else n


def absent_members(src):
    """Members the export marks absent from the whole meeting."""
    return [p["Name"] for p in (src["Moede"].get("Moededeltagere") or []) if p.get("Absent")]


def header(r, fam, src, gold, doc):
    import datetime
    g = gold["document"]
    y, m, d = map(int, g["meeting_date"].split("-"))
    wd = datetime.date(y, m, d).weekday()
    com = committee_name(src) or MUNI
    kind = "Referat" if g["kind"] == "minutes" else "Dagsorden"
    t, loc = g["start_time"], g["location"]
    hh, mm = t.split(":")
    tt = r.choice([f"kl. {hh}:{mm}", f"kl. {hh}.{mm}"])
    if g.get("end_time"):  # no random draw: meetings without an end render as before
        tt += " - " + (g["end_time"] if ":" in tt else g["end_time"].replace(":", "."))
    if fam in ("web", "toc") and r.random() < 0.7:
        # No labels: a date line, then the time and place.
        doc.add(r.choice([MUNI, f"{MUNI} - {com}"]), com, "")
        doc.add(f"{kind}")
        form = r.randint(0, 2)
        if form == 0:
            doc.add(f"{danish_date(r, y, m, d, wd)}, {tt}", f"i {loc}")
        elif form == 1:
            doc.add(danish_date(r, y, m, d, wd), "", tt.capitalize(), loc)
        else:
            doc.add(f"{danish_date(r, y, m, d, wd)} {tt}", loc)
    else:
        doc.add(MUNI, com, "", kind, "")
        labels = r.choice([("Mødedato", "Mødetidspunkt", "Mødested"),
                           ("Dato", "Tidspunkt", "Sted"), ("Dato", "Starttidspunkt", "Lokale")])
        doc.add(f"{labels[0]}: {danish_date(r, y, m, d, wd)}", f"{labels[1]}: {tt}",
                f"{labels[2]}: {loc}")
    if g.get("participants"):
        doc.blank()
        if r.random() < 0.5:
            doc.add("Deltagere: " + ", ".join(g["participants"]))
        else:
            doc.add("Medlemmer", "")
            doc.add(*g["participants"])
        if absent_members(src):
            doc.add("", "Fraværende: " + ", ".join(absent_members(src)))
    doc.blank(1, 3)


def attachments(r, fam, names, doc):
    if not names:
        return
    form = r.randint(0, 2) if fam != "acadre" else r.choice([0, 2])
    doc.blank(1, 2)
    doc.add("Bilag:" if fam == "acadre" or r.random() < 0.5 else "Bilag")
    if r.random() < 0.5:
        doc.add("")
    for k, a in enumerate(names, 1):
        if form == 0:
            doc.add(a)
        elif form == 1:
            doc.add(f"Bilag {k}: {a}")
        else:
            doc.add(f"{r.randint(2015, 2025)}-{r.randint(100000, 999999)} - {a}")


def item_body(r, fam, item, gi, doc, width):
    secs = html_sections(item)
    for head, paras in secs:
        doc.blank(1, 2)
        doc.add(f"**{head}**" if fam == "markdown" and r.random() < 0.5 else head)
        if r.random() < 0.5:
            doc.add("")
        for p in paras:
            doc.add(*wrap(r, p, width))
            if r.random() < 0.6:
                doc.add("")
    attachments(r, fam, [a for a in gi["attachments"]], doc)
    if fam == "web" and r.random() < 0.5:
        doc.blank()
        doc.add(r.choice(["Hent som PDF", "PDF", "Kopier link"]))


def render(r, fam, src, gold):
    com = committee_name(src) or MUNI
    g = gold["document"]
    y, m, d = g["meeting_date"].split("-")
    hdr = None
    if fam in ("edoc", "acadre", "toc"):
        date = r.choice([f"{d}.{m}.{y}", f"{d}-{m}-{y}"])
        lines = [com, r.choice(["Referat", "Åbent referat", "Dagsorden"]), f"Dato: {date}"]
        r.shuffle(lines)

        def hdr(n, lines=lines):
            return lines + [f"Side {n}"] if r.random() < 0.5 else [f"Side {n} af 99"] + lines
    doc = Doc(r, hdr, r.randint(35, 70))
    header(r, fam, src, gold, doc)
    offset = r.randint(150, 700) if fam == "acadre" else 0
    width = r.randint(60, 100)
    items = src["Dagsordenpunkter"]
    if fam == "toc":
        doc.add(r.choice(["Indholdsfortegnelse", "Indhold", "Dagsorden"]), "")
        split = r.random() < 0.4
        for k, (it, gi) in enumerate(zip(items, gold["items"])):
            page = 2 + k * 2
            if split:
                doc.add(f"{gi['number']}.", gi["title"], str(page))
            else:
                lead = "." * r.randint(3, 20)
                doc.add(f"{gi['number']}. {gi['title']} {lead} {page}")
        doc.blank(2, 3)
    for it, gi in zip(items, gold["items"]):
        n = gi["number"] + offset
        gi["number"] = n
        title = gi["title"]
        doc.blank(1, 3)
        if fam == "edoc":
            doc.add(f"{n}.", "")
            doc.add(*wrap(r, title, width))
            doc.blank()
            if gi["case_number"]:
                doc.add(f"Sagsnr.: {gi['case_number']}", "")
            doc.add(f"Dok.nr.: {r.randint(2015, 2025)}-{r.randint(100000, 999999)}", "")
        elif fam == "acadre":
            doc.add(*wrap(r, f"{n}. {title}", width))
            doc.blank()
            doc.add("Sagsnr.:", "Sagen afgøres i:", "")
            doc.add(gi["case_number"] or "", com)
        elif fam == "punkt":
            doc.add(f"Punkt {n}: {title}")
            if gi["case_number"]:
                doc.add(f"Sagsnr.: {gi['case_number']}")
        elif fam == "markdown":
            doc.add(f"## {n}. {title}")
            if gi["case_number"]:
                doc.add("", f"Sagsnr. {gi['case_number']}")
        else:
            doc.add(f"{n}. {title}")
            if gi["case_number"]:
                doc.add(f"Sagsnummer: {gi['case_number']}")
            if fam == "web" and r.random() < 0.5:
                doc.add(r.choice(["Hent som PDF", "Kopier link", "PDF"]))
        item_body(r, fam, it, gi, doc, width)
    if fam == "web":
        doc.blank()
        doc.add("1", "2", "Kopier link")
    return "\n".join(doc.lines) + "\n"


def render_html(r, src, gold):
    """The meeting as a publishing system's web page."""
    g = gold["document"]
    com = committee_name(src) or MUNI
    y, m, d = g["meeting_date"].split("-")
    esc = html.escape
    out = ["<!DOCTYPE html>", "<html><head><meta charset=\"utf-8\">",
           f"<title>{esc(com)} - {d}.{m}.{y}</title></head><body>",
           "<nav><a href=\"#\">Forside</a> <a href=\"#\">Politik</a></nav>",
           "<button>Hent som PDF</button>", f"<h1>{MUNI}</h1>", f"<h2>{esc(com)}</h2>"]
    kind = "Referat" if g["kind"] == "minutes" else "Dagsorden"
    out.append(f"<p>{kind}</p>")
    rows = [("Mødedato", f"{int(d)}. {MONTHS[int(m) - 1]} {y}"),
            ("Mødetidspunkt", f"kl. {g['start_time']}" +
             (f" - {g['end_time']}" if g.get("end_time") else "")), ("Mødested", g["location"])]
    if r.random() < 0.5:
        out.append("<table>" + "".join(f"<tr><td>{k}:</td><td>{esc(v)}</td></tr>"
                                        for k, v in rows) + "</table>")
    else:
        out.extend(f"<p><b>{k}:</b> {esc(v)}</p>" for k, v in rows)
    if g.get("participants"):
        out.append("<p><b>Deltagere:</b> " + esc(", ".join(g["participants"])) + "</p>")
    if absent_members(src):
        out.append("<p><b>Fraværende:</b> " + esc(", ".join(absent_members(src))) + "</p>")
    for it, gi in zip(src["Dagsordenpunkter"], gold["items"]):
        tag = r.choice(["h2", "h3"])
        out.append(f"<div class=\"punkt\"><{tag}>{gi['number']}. {esc(gi['title'])}</{tag}>")
        if gi["case_number"]:
            out.append(f"<p>Sagsnr.: {esc(gi['case_number'])}</p>")
        for head, paras in html_sections(it):
            out.append(f"<h4>{esc(head)}</h4>")
            out.extend(f"<p>{esc(p)}</p>" for p in paras)
        if gi["attachments"]:
            out.append("<h4>Bilag</h4><ul>")
            out.extend(f"<li><a href=\"#\">{esc(a)}</a></li>" for a in gi["attachments"])
            out.append("</ul>")
        out.append("<p><a href=\"#\">Kopier link</a></p></div>")
    addr = "Rådhusholmen 10, 2670 Greve" if MUNI == "Greve Kommune" else "Rådhuset"
    out.append(f"<footer>{MUNI}, {addr}</footer></body></html>")
    return "\n".join(out) + "\n"


def main():
    global MUNI
    args = [a for a in sys.argv[1:] if not a.startswith("--seed")]
    seed = 7
    for a in sys.argv[1:]:
        if a.startswith("--seed="):
            seed = int(a.split("=", 1)[1])
    src_dir, gold_dir, out = args
    os.makedirs(os.path.join(out, "corpus"), exist_ok=True)
    for fam in FAMILIES:
        os.makedirs(os.path.join(out, "gold", fam), exist_ok=True)
    n = 0
    for name in sorted(f[:-5] for f in os.listdir(gold_dir) if f.endswith(".json")):
        with open(os.path.join(src_dir, name + ".json"), encoding="utf-8") as fh:
            src = json.load(fh)
        for k, fam in enumerate(FAMILIES):
            with open(os.path.join(gold_dir, name + ".json"), encoding="utf-8") as fh:
                gold = json.load(fh)
            MUNI = gold["document"].get("municipality") or "Greve Kommune"
            r = random.Random(f"{seed}:{name}:{fam}")
            text = render_html(r, src, gold) if fam == "html" else render(r, fam, src, gold)
            gold["document"]["committee"] = committee_name(src)
            gold["source"] = f"{fam}_{name}." + ("html" if fam == "html" else "txt")
            with open(os.path.join(out, "corpus", gold["source"]), "w", encoding="utf-8") as fh:
                fh.write(text)
            with open(os.path.join(out, "gold", fam, f"{name}.json"), "w",
                      encoding="utf-8") as fh:
                json.dump(gold, fh, ensure_ascii=False, indent=1)
            n += 1
    print(f"rendered {n} documents into {out}")


if __name__ == "__main__":
    main()
