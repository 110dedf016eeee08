#!/usr/bin/env python3
"""Invented FirstAgenda meetings for the connector's test server.

A "world" is one kommune's committees, meetings and publications (listing
entries with their bodies), in the shape of the FirstAgenda publishing API:
GET /api/agenda/udvalgsliste and GET /api/agenda/dagsorden/{Id}. Every name,
title and text here is invented by this generator (seeded, so a test sees
the same world every run). The Greve meetings of ../shared can be loaded as
a world too (load_dir): read from there, never copied.

    firstagenda_world.py listing SEED N      # print an invented listing
"""
import datetime as dt
import json
import os
import random
import sys
import uuid

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
                            "Felter": [{"Navn": "", "Html": html + "</div>"}], "Bilag": [],
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
        return self

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


def released_dt(e):
    return dt.datetime.fromisoformat(e["ReleasedDate"][:19])


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "listing":
        w = World(int(sys.argv[2])).invent(int(sys.argv[3]))
        json.dump(w.listing(), sys.stdout, ensure_ascii=False, indent=1)
    else:
        sys.exit(__doc__)
