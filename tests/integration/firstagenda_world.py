#!/usr/bin/env python3
"""Invented FirstAgenda meetings for the connector's test server.

A "world" is one kommune's committees, meetings and publications (listing
entries with their bodies), in the shape of the FirstAgenda publishing API:
GET /api/agenda/udvalgsliste and GET /api/agenda/dagsorden/{Id}. Every name,
title and text here is invented by this generator (seeded, so a test sees
the same world every run). The Greve meetings of ../shared can be loaded as
a world too (load_dir): read from there, never copied.

Attachments (Bilag): every item of an invented meeting has 0-2 of them,
the same Ids in each publication of the meeting (agenda and minutes name
the same files), served as invented PDFs (attachment_pdf): a text PDF
whose text names the item and a code word (so a search can find an item
by a word that only its attachment holds), and in each invented world one
scanned (image-only) PDF and one larger than 4 MiB. The real Greve
publications' Bilag Ids are served invented text PDFs too.

    firstagenda_world.py listing SEED N      # print an invented listing
    firstagenda_world.py pdf KIND OUT        # write an invented attachment PDF (text|scanned|huge)
"""
import datetime as dt
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
import uuid
import zlib

COMMITTEES = ["Udvalget for Stier og Grønne Arealer", "Skole- og Fritidsudvalget",
              "Udvalget for Ældre og Sundhed", "Økonomiudvalget", "Kommunalbestyrelsen",
              "Udvalget for Klima og Vand", "Kultur- og Idrætsudvalget"]
FIRST = ["Birte", "Holger", "Sanne", "Jesper", "Ulla", "Mikkel", "Tove", "Rasmus", "Lene", "Kaj"]
LAST = ["Vangsgaard", "Kirkeby", "Thornlund", "Bækholm", "Dalsgaard", "Engvad", "Lykkegaard"]
TOPICS = ["Ny belysning på stien ved Mosevej", "Budgetopfølgning for 2. kvartal",
          "Tilskud til foreningernes sommeraktiviteter", "Renovering af skolegården på Lærkevej",
          "Høring om lokalplan for Søndermarken", "Takster for madservice",
          "Regnvandsbassin ved Engparken", "Orientering om sygefravær",
          "Valg af repræsentant til Ungdomsrådet", "Anlægsbevilling til nyt tag på hallen",
          "Plan for vintervedligeholdelse", "Godkendelse af dagsorden"]
ATTACHMENT_NAMES = ["Notat om økonomi", "Kort over området", "Høringssvar", "Tidsplan",
                    "Skitseprojekt", "Budgetoversigt", "Referat af borgermøde", "Lokalplanforslag"]
# invented code words, one per attachment: a search can find an item by a word only its
# attachment holds
CODEWORDS = ["kildevæld", "pilekrat", "skærvebunke", "mosekant", "rævegrav", "stendige",
             "vandhulsbred", "lyngtue", "hasselhegn", "engkarse", "birkelund", "tangvold"]
HUGE_BYTES = 5 * 1024 * 1024   # over the tests' attachment cap (4 MiB)
DECISIONS = ["Godkendt.", "Indstillingen blev godkendt.", "Taget til efterretning.",
             "Udsat til næste møde.", "Anbefales over for Økonomiudvalget."]


def guid(rng):
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def iso(t):
    """Local Danish wall time with its offset, as the API writes it."""
    off = 2 if 4 <= t.month <= 9 else 1
    return t.strftime("%Y-%m-%dT%H:%M:%S") + "+0%d:00" % off


def released(t, rng):
    return iso(t) [:19] + ".%07d" % rng.randrange(10 ** 7) + iso(t)[19:]


class Meeting:
    """One meeting of a committee and its publications (listing entries)."""

    def __init__(self, committee, begin, place, items, people):
        self.committee, self.begin, self.place = committee, begin, place
        self.items, self.people = items, people
        self.entries = []   # dicts: Id, Navn, ReleasedDate, Afsluttet, body
        self.bilag = {}     # item number -> [(Id, Navn)], the same in every publication
        # its own generator: the world's draws (and so every other test's world) stay as before
        self.arng = random.Random("%s|%s" % (committee[0], iso(begin)))

    def bilag_of(self, num):
        if num not in self.bilag:
            r = self.arng
            self.bilag[num] = [(guid(r), "Bilag %d - %s" % (j + 1, r.choice(ATTACHMENT_NAMES)))
                               for j in range(r.randrange(3))]
        return self.bilag[num]

    def body(self, eid, navn, rel, decided, items, supplementary=False):
        moede = {
            "Id": "00000000-0000-0000-0000-000000000000",
            "MeetingBeginUtc": iso(self.begin),
            "MeetingEndUtc": iso(self.begin + dt.timedelta(hours=2)),
            "ReleasedDate": None, "Dato": iso(self.begin), "Sted": self.place,
            "Afsluttet": decided, "Navn": navn, "Description": "",
            "ElasticSearchResults": None, "IsSupplementaryAgenda": supplementary,
            "Moededeltagere": [{"Name": p, "Absent": False, "ParticipationCancelled": False,
                                "AttendanceType": 0} for p in self.people]}
        punkter = []
        for k, (num, title, case, decision) in enumerate(items):
            html = ("<div><h3>Sagsfremstilling</h3><div>%s. Sagen forelægges udvalget.</div>"
                    "<h3>Indstilling</h3><div>Forvaltningen indstiller, at sagen godkendes.</div>"
                    % title)
            if decided:
                html = "<div><h3>Beslutning</h3><div>%s</div></div>" % decision + html
            punkter.append({"Punktnummer": str(num), "Number": str(num), "Sorting": k + 1,
                            "Navn": title, "Caption": title, "SagsNummer": case,
                            "CaseNumber": case, "IsOpen": True, "Id": str(uuid.uuid5(
                                uuid.NAMESPACE_URL, eid + str(num))),
                            "Felter": [{"Navn": "", "Html": html + "</div>"}],
                            "Bilag": [{"Navn": n, "Order": j, "Id": i, "HarPdfVersion": "true"}
                                      for j, (i, n) in enumerate(self.bilag_of(num))],
                            "ExternalAgendaItemAttendees": []})
        return {"Dagsordenpunkter": punkter,
                "Udvalg": {"Id": self.committee[0], "Navn": self.committee[1], "Historisk": False},
                "Moede": moede, "TillaegsDagsorden": supplementary, "Id": eid, "Lydfiler": None}

    def publish(self, rng, navn, when, decided, items=None, supplementary=False):
        eid = guid(rng)
        items = self.items if items is None else items
        e = {"Id": eid, "Navn": navn, "ReleasedDate": released(when, rng), "Afsluttet": decided,
             "body": self.body(eid, navn, when, decided, items, supplementary)}
        self.entries.append(e)
        return e

    def listing_entries(self):
        out = []
        for e in self.entries:
            out.append({"Id": e["Id"], "MeetingBeginUtc": iso(self.begin),
                        "MeetingEndUtc": iso(self.begin + dt.timedelta(hours=2)),
                        "ReleasedDate": e["ReleasedDate"], "Dato": iso(self.begin),
                        "Sted": self.place, "Afsluttet": e["Afsluttet"],
                        "Moededeltagere": None, "Navn": e["Navn"], "Description": None,
                        "ElasticSearchResults": None, "SourceId": None,
                        "IsSupplementaryAgenda": False})
        return out


class World:
    """A kommune's committees and meetings."""

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.committees = []   # (Id, Navn)
        self.meetings = []
        self.raw = {}          # Id -> bytes of a loaded (real) body
        self.raw_entries = []  # (committee, listing entry) of loaded bodies
        self.raw_bilag = {}    # Bilag Id of a loaded body -> item title
        self.special = {}      # attachment Id -> "scanned" | "huge"
        self.pdfs = {}         # attachment Id -> bytes (made on first request)

    def invent(self, n, minutes_share=0.5):
        """n meetings, each with an agenda; some also with their minutes."""
        rng = self.rng
        self.committees = [(guid(rng), name) for name in rng.sample(COMMITTEES, 3)]
        start = dt.datetime(2026, 1, 5, 16, 0)
        for i in range(n):
            c = self.committees[i % len(self.committees)]
            begin = start + dt.timedelta(days=7 * i + rng.randrange(3), hours=rng.randrange(3))
            nitems = rng.randrange(3, 7)
            items = [(k + 1, rng.choice(TOPICS), "%02d-%06d" % (26, rng.randrange(10 ** 6)),
                      rng.choice(DECISIONS)) for k in range(nitems)]
            people = ["%s %s" % (rng.choice(FIRST), rng.choice(LAST)) for _ in range(5)]
            m = Meeting(c, begin, "Mødelokale %d" % rng.randrange(1, 9), items, people)
            m.publish(rng, "Dagsorden", begin - dt.timedelta(days=5, hours=-3), False)
            if rng.random() < minutes_share:
                self.minutes(m)
            self.meetings.append(m)
        every = [a for m in self.meetings for num, *_ in m.items for a in m.bilag_of(num)]
        if len(every) >= 2:
            self.special = {every[0][0]: "scanned", every[1][0]: "huge"}
        return self

    def attachments(self):
        """Every attachment a publication names: Id -> dict(name, item, title, kind, docs)
        (cached until a publication is added)."""
        stamp = sum(len(m.entries) for m in self.meetings)
        if getattr(self, "_att_stamp", None) != stamp:
            self._att, self._att_stamp = self._attachments(), stamp
        return self._att

    def _attachments(self):
        out = {}
        for m in self.meetings:
            for e in m.entries:
                for it in e["body"]["Dagsordenpunkter"]:
                    for b in it["Bilag"]:
                        a = out.setdefault(b["Id"], {"name": b["Navn"], "item": it["Punktnummer"],
                                                     "title": it["Navn"],
                                                     "kind": self.special.get(b["Id"], "text"),
                                                     "docs": []})
                        a["docs"].append(e["Id"])
        for aid, title in self.raw_bilag.items():
            out.setdefault(aid, {"name": "", "item": None, "title": title, "kind": "text",
                                 "docs": []})
        return out

    def attachment(self, aid):
        """The PDF of attachment aid, or None when no publication names it."""
        if aid in self.pdfs:
            return self.pdfs[aid]
        a = self.attachments().get(aid)
        if a is None:
            return None
        word = CODEWORDS[int(hashlib.sha256(aid.encode()).hexdigest(), 16) % len(CODEWORDS)]
        lines = ["Bilag til punktet: %s" % a["title"][:70], "Kodeord: %s" % word,
                 "Dette bilag er opfundet til testene af minutes-ingest (%s)." % aid]
        self.pdfs[aid] = attachment_pdf(a["kind"], lines)
        return self.pdfs[aid]

    def minutes(self, m):
        last = max(released_dt(e) for e in m.entries)
        when = max(last, m.begin) + dt.timedelta(days=1, hours=2)
        return m.publish(self.rng, "Referat", when, True)

    def supplement(self, m):
        last = max(released_dt(e) for e in m.entries)
        num = max(i[0] for i in m.items) + 1
        extra = [(num, "Tillægspunkt: " + self.rng.choice(TOPICS), "26-%06d" %
                  self.rng.randrange(10 ** 6), self.rng.choice(DECISIONS))]
        m.items = m.items + extra
        return m.publish(self.rng, "Tillægsdagsorden", last + dt.timedelta(hours=5), False,
                         items=extra, supplementary=True)

    def republish(self, m):
        """The newest publication again under a new Id; the old Id disappears."""
        old = m.entries.pop()
        when = released_dt(old) + dt.timedelta(hours=6)
        e = m.publish(self.rng, old["Navn"], when, old["Afsluttet"])
        return old, e

    def load_dir(self, path):
        """Real publications (GET /api/agenda/dagsorden/{Id} answers) as a world."""
        seen = {}
        for name in sorted(os.listdir(path)):
            if not name.endswith(".json"):
                continue
            data = open(os.path.join(path, name), "rb").read()
            d = json.loads(data)
            u, m = d["Udvalg"], d["Moede"]
            seen.setdefault(u["Id"], u["Navn"])
            begin = m.get("MeetingBeginUtc") or m["Dato"]
            t = dt.datetime.fromisoformat(begin[:19])
            navn = m.get("Navn") or "Dagsorden"
            shift = dt.timedelta(days=2) if navn == "Referat" else -dt.timedelta(days=5)
            entry = {"Id": d["Id"], "MeetingBeginUtc": begin, "MeetingEndUtc": m.get(
                "MeetingEndUtc"), "ReleasedDate": iso(t + shift), "Dato": m["Dato"],
                "Sted": m.get("Sted"), "Afsluttet": bool(m.get("Afsluttet")),
                "Moededeltagere": None, "Navn": navn, "Description": None,
                "ElasticSearchResults": None, "SourceId": None, "IsSupplementaryAgenda": False}
            self.raw[d["Id"]] = data
            self.raw_entries.append((u["Id"], entry))
            for it in d.get("Dagsordenpunkter") or []:
                for b in it.get("Bilag") or []:
                    if b.get("Id"):
                        self.raw_bilag[b["Id"]] = "punkt %s" % it.get("Punktnummer")
        self.committees += list(seen.items())
        return self

    def listing(self):
        moeder = {c[0]: [] for c in self.committees}
        for m in self.meetings:
            moeder[m.committee[0]].extend(m.listing_entries())
        for cid, e in self.raw_entries:
            moeder[cid].append(e)
        return {"Udvalg": {"Udvalg 2026-2029": [
            {"Id": cid, "Navn": name, "Moeder": moeder[cid]} for cid, name in self.committees]}}

    def body(self, eid):
        if eid in self.raw:
            return self.raw[eid]
        for m in self.meetings:
            for e in m.entries:
                if e["Id"] == eid:
                    return json.dumps(e["body"], ensure_ascii=False).encode()
        return None

    def entry_ids(self):
        return [e["Id"] for m in self.meetings for e in m.entries] + \
               [e["Id"] for _, e in self.raw_entries]


def _pdf(objects):
    """A PDF of the given object bodies (bytes), object 1 the catalog."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % (i + 1) + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for o in offsets:
        out += b"%010d 00000 n \n" % o
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def _stream(data, extra=b""):
    return b"<< /Length %d %s>>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def text_pdf(lines, padding=0):
    """One A4 page of Helvetica text (Latin-1: æøå work); `padding` bytes of an unused
    stream make it as large as wanted."""
    def esc(t):
        return t.encode("latin-1", "replace").replace(b"\\", b"\\\\").replace(
            b"(", b"\\(").replace(b")", b"\\)")
    content = b"BT /F1 12 Tf 16 TL 72 770 Td " + b" ".join(
        b"(" + esc(t) + b") '" for t in lines) + b" ET"
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
            b" /Resources << /Font << /F1 5 0 R >> >> >>",
            _stream(content),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"]
    if padding:
        objs.append(_stream(os.urandom(padding)))
    return _pdf(objs)


def image_pdf_fallback():
    """An image-only page (grey stripes) when Ghostscript is missing: no text layer."""
    w, h = 200, 280
    rows = b"".join(bytes([255 if (y // 8) % 2 else 40] * w) for y in range(h))
    img = zlib.compress(rows)
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
            b" /Resources << /XObject << /Im1 5 0 R >> >> >>",
            _stream(b"q 595 0 0 842 0 0 cm /Im1 Do Q"),
            _stream(img, b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace"
                         b" /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode " % (w, h))]
    return _pdf(objs)


def scanned_pdf(lines):
    """The text page rasterised at 150 dpi, grey, wrapped as an image-only PDF (Ghostscript's
    pdfimage8 device): a scan, with no text layer."""
    with tempfile.TemporaryDirectory() as d:
        src, dst = os.path.join(d, "t.pdf"), os.path.join(d, "s.pdf")
        with open(src, "wb") as f:
            f.write(text_pdf([t + "  " for t in lines]))
        try:
            subprocess.run(["gs", "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=pdfimage8",
                            "-r150", "-o", dst, src], check=True, timeout=60,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            return open(dst, "rb").read()
        except (OSError, subprocess.SubprocessError):
            return image_pdf_fallback()


def attachment_pdf(kind, lines):
    if kind == "scanned":
        return scanned_pdf(lines)
    if kind == "huge":
        return text_pdf(lines, HUGE_BYTES)
    return text_pdf(lines)


def released_dt(e):
    return dt.datetime.fromisoformat(e["ReleasedDate"][:19])


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "listing":
        w = World(int(sys.argv[2])).invent(int(sys.argv[3]))
        json.dump(w.listing(), sys.stdout, ensure_ascii=False, indent=1)
    elif len(sys.argv) == 4 and sys.argv[1] == "pdf":
        with open(sys.argv[3], "wb") as f:
            f.write(attachment_pdf(sys.argv[2], ["Et opfundet bilag", "Kodeord: kildevæld"]))
    else:
        sys.exit(__doc__)
