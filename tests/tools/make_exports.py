#!/usr/bin/env python3
"""Writes the invented document-system exports of tests/fixtures and their gold.

    make_exports.py FIXTURES_DIR

Every meeting, person, place and text here is invented by the project (the
kommune names are real, as the municipality field only). The exports have
the shapes the real systems publish (see ../shared/corpus for real ones):

  firstagenda/NAME.json      FirstAgenda (Prepare) publishing API, one meeting
  gold/firstagenda/NAME.json their gold (contract of ../shared/eval/README.md)
  edoc/<committee>/<meeting>/Dagsorden/Dagsorden/<name>/<publication time>/
                             eDoc (Fujitsu) publication: GUID.xml and GUID.html
                             (the Attachments/*.pdf are rendered from
                             edoc-attachments/*.txt by tests/tools/mkfixtures:
                             see edoc-attachments/README)
  sbsys/NAME.xml             SBSYS eDagsorden publications (an agenda, and
                             minutes in the variant with sub-items "1.1")
  source/invalid/*           broken copies of the above (source/invalid.tsv)

The output is deterministic: run it again after an edit and commit the diff.
"""
import json
import os
import sys
import uuid

HOST = "dagsordener.solroed.dk"
MUNI = "Solrød Kommune"
NS = uuid.UUID("6f1d2b7c-0c55-4a8e-9a59-1b7f0e1a2c3d")


def uid(*parts):
    return str(uuid.uuid5(NS, "/".join(str(p) for p in parts)))


# ---------------------------------------------------------------- FirstAgenda
# item: (number, title, case, decision or None, outcome, absent, attachments,
#        sections [(heading, text)], history or None)
ECON = ["Lone Bækgaard", "Frank Ravn Olsen", "Hasse Lindqvist", "Birthe Stougaard",
        "Malik Demir", "Vibeke Grønlund", "Carsten Holt"]
TEK = ["Jakob Fenger", "Rikke Ahl Madsen", "Ole Bonde", "Trine Sølvhøj", "Emil Qvist"]
BOERN = ["Sanne Vedel", "Peder Lunding", "Amira Haddad", "Kristian Møllgaard", "Iben Sejer"]
BYRAAD = ["Lone Bækgaard", "Frank Ravn Olsen", "Hasse Lindqvist", "Birthe Stougaard",
          "Malik Demir", "Vibeke Grønlund", "Carsten Holt", "Jakob Fenger", "Rikke Ahl Madsen",
          "Ole Bonde", "Trine Sølvhøj", "Emil Qvist", "Sanne Vedel", "Peder Lunding",
          "Amira Haddad", "Kristian Møllgaard", "Iben Sejer", "Gunnar Askholm",
          "Nadia Friis Kold", "Torben Lykkegaard", "Helga Rosenquist"]

STD = [("Resume", "Administrationen forelægger sagen til beslutning."),
       ("Indstilling", "Center for Politik og Borgerservice indstiller, at sagen godkendes."),
       ("Sagsbeskrivelse", "Sagen er beskrevet i det vedlagte notat.")]


def sec(resume, indst, beskr):
    return [("Resume", resume), ("Indstilling", indst), ("Sagsbeskrivelse", beskr)]


MEETINGS = [
    {  # Økonomiudvalget: minutes with a closed item, an item absence and history
        "name": "2024-02-05_okonomiudvalget", "udvalg": "Økonomiudvalget",
        "dato": "2024-02-05T16:00:00+01:00", "end": "2024-02-05T18:15:00+01:00",
        "sted": "Mødelokale Strandvejen", "members": ECON, "absent": ["Carsten Holt"],
        "items": [
            (1, "Godkendelse af dagsorden", "24-000311", "Dagsordenen blev godkendt.",
             "approved", [], [], [("Resume", "Godkendelse af dagsorden for mødet.")], None),
            (2, "Budgetopfølgning pr. 31. december 2023", "24-000402",
             "Taget til efterretning.", "noted", [],
             [("Regnskabsnotat 2023", 2), ("Oversigt over overførsler", 1)],
             sec("Budgetopfølgningen viser et mindreforbrug på 4,1 mio. kr.",
                 "Økonomi og Digitalisering indstiller, at budgetopfølgningen tages til efterretning.",
                 "Mindreforbruget skyldes især lavere udgifter til energi i kommunens bygninger."),
             None),
            (3, "Salg af grund ved Tryllehaven", "23-019877",
             "Godkendt med den ændring, at mindsteprisen hæves til 2,4 mio. kr.",
             "approved_with_changes", ["Malik Demir"], [("Udbudsvilkår Tryllehaven", 1)],
             sec("Grunden har været udbudt én gang uden bud.",
                 "Administrationen indstiller, at grunden udbydes igen med en mindstepris på 2,1 mio. kr.",
                 "Grunden er på 1.850 m² og er omfattet af lokalplan 308."),
             "06-11-2023 Økonomiudvalget: Sagen blev udsat."),
            (4, "Ansøgning om kommunegaranti til Havdrup Hallen", "24-000519",
             "Udsat til næste møde.", "postponed", [], [],
             sec("Hallen søger om garanti for et lån på 6 mio. kr.",
                 "Administrationen indstiller, at der gives garanti.",
                 "Lånet skal finansiere en ny ventilation."), None),
            (5, "Lukket: Køb af ejendom", "24-000601", None, "none", [], [], [], None),
        ],
    },
    {  # Teknik- og Miljøudvalget: the agenda, a supplementary agenda and the minutes
        "name": "2024-03-04_teknik-dagsorden", "udvalg": "Teknik- og Miljøudvalget",
        "dato": "2024-03-04T17:00:00+01:00", "sted": "Mødelokale 3", "members": TEK,
        "absent": [], "agenda": True, "moede_id": "tek-0304",
        "items": [
            (1, "Godkendelse af dagsorden", "24-001100", None, "none", [], [],
             [("Resume", "Godkendelse af dagsorden.")], None),
            (2, "Vintertjeneste - regulativ 2024-2027", "24-001131", None, "none", [],
             [("Regulativ for vintervedligeholdelse", 1), ("Kort over ruter", 2)],
             sec("Regulativet fastlægger serviceniveauet for snerydning og glatførebekæmpelse.",
                 "Teknik og Miljø indstiller, at regulativet sendes i høring.",
                 "Cykelstier ryddes før boligveje."), None),
            (3, "Lukket: Erstatningssag", "24-001177", None, "none", [], [], [], None),
        ],
    },
    {
        "name": "2024-03-04_teknik-tillaeg", "udvalg": "Teknik- og Miljøudvalget",
        "dato": "2024-03-04T17:00:00+01:00", "sted": "Mødelokale 3", "members": TEK,
        "absent": [], "agenda": True, "supplementary": True, "moede_id": "tek-0304",
        "items": [
            (4, "Tillæg: Skybrudssikring af Jersie Strand", "24-001240", None, "none", [],
             [("Skitseprojekt skybrud", 1)],
             sec("Et skitseprojekt for skybrudssikring foreligger.",
                 "Teknik og Miljø indstiller, at projektet godkendes.",
                 "Projektet udføres sammen med forsyningen."), None),
            (5, "Lukket: Forlig i entreprisesag", "24-001251", None, "none", [], [], [],
             None),
        ],
    },
    {
        "name": "2024-03-04_teknik-referat", "udvalg": "Teknik- og Miljøudvalget",
        "dato": "2024-03-04T17:00:00+01:00", "end": "2024-03-04T19:00:00+01:00",
        "sted": "Mødelokale 3", "members": TEK, "absent": ["Emil Qvist"],
        "moede_id": "tek-0304",
        "items": [
            (1, "Godkendelse af dagsorden", "24-001100", "Godkendt.", "approved", [], [],
             [("Resume", "Godkendelse af dagsorden.")], None),
            (2, "Vintertjeneste - regulativ 2024-2027", "24-001131",
             "Indstillingen blev godkendt.", "approved", [],
             [("Regulativ for vintervedligeholdelse", 1), ("Kort over ruter", 2)],
             sec("Regulativet fastlægger serviceniveauet for snerydning og glatførebekæmpelse.",
                 "Teknik og Miljø indstiller, at regulativet sendes i høring.",
                 "Cykelstier ryddes før boligveje."), None),
            (3, "Lukket: Erstatningssag", "24-001177", None, "none", [], [], [], None),
            (4, "Tillæg: Skybrudssikring af Jersie Strand", "24-001240",
             "Sagen blev drøftet.", "discussed", [], [("Skitseprojekt skybrud", 1)],
             sec("Et skitseprojekt for skybrudssikring foreligger.",
                 "Teknik og Miljø indstiller, at projektet godkendes.",
                 "Projektet udføres sammen med forsyningen."), None),
            (5, "Lukket: Forlig i entreprisesag", "24-001251", None, "none", [], [], [],
             None),
        ],
    },
    {  # Byrådet: 21 members, two absent for the whole meeting, one item without Punktnummer
        "name": "2024-03-25_byraad", "udvalg": "Byråd 2022-2025",
        "dato": "2024-03-25T19:00:00+01:00", "sted": "Byrådssalen", "members": BYRAAD,
        "absent": ["Gunnar Askholm", "Helga Rosenquist"], "number_only": {3},
        "items": [
            (1, "Godkendelse af dagsorden", "24-002001", "Godkendt.", "approved", [], [], [], None),
            (2, "Spørgetid for borgere", "24-002002", "Ingen bemærkninger.", "noted", [], [],
             [("Resume", "Borgerne kan stille spørgsmål til Byrådet.")], None),
            (3, "Anlægsbevilling til renovering af Solrød Strandpark", "23-021456",
             "Anbefalingen fra Økonomiudvalget blev godkendt.", "approved", ["Ole Bonde"],
             [("Projektbeskrivelse Strandparken", 1), ("Tidsplan", 2), ("Økonomioversigt", 3)],
             sec("Der søges om 7,5 mio. kr. til renovering af stier, broer og toiletter.",
                 "Økonomiudvalget anbefaler, at bevillingen gives.",
                 "Arbejdet udføres i to etaper i 2024 og 2025."),
             "11-03-2024 Økonomiudvalget: Anbefales."),
            (4, "Forslag fra Enhedslisten om økologi i kommunens køkkener", "24-002010",
             "Forslaget blev forkastet med 7 stemmer for og 12 imod.", "rejected", [], [],
             sec("Enhedslisten foreslår 90 % økologi i 2026.",
                 "Forslagsstilleren indstiller, at forslaget vedtages.",
                 "Andelen er i dag 61 %."), None),
            (5, "Lukket: Salg af erhvervsgrund", "24-002020", "Godkendt.", "approved", [], [],
             [], None),
            (6, "Lukket: Personalesag", "24-002021", None, "none", [], [], [], None),
        ],
    },
    {  # Questions to the council: a body without members, one item, an agenda
        "name": "2024-04-02_spoergsmaal", "udvalg": ".Spørgsmål / Svar til Byrådet 2022-2025",
        "dato": "2024-04-02T12:00:00+02:00", "sted": "Virtuelt møde", "members": None,
        "absent": [], "agenda": True,
        "items": [
            (1, "Spørgsmål om vejbump på Gammel Køgevej", "24-003300", None, "none", [],
             [("Spørgsmål og svar", 1)],
             [("Spørgsmål", "Et medlem spørger, hvornår vejbumpene etableres."),
              ("Svar", "Vejbumpene etableres i maj.")], None),
        ],
    },
    {  # Børne- og Ungeudvalget: item absences and several attachments
        "name": "2024-04-08_boern-og-unge", "udvalg": "Børne- og Ungeudvalget",
        "dato": "2024-04-08T16:30:00+02:00", "sted": "Havdrup Skole, personalerummet",
        "members": BOERN, "absent": [],
        "items": [
            (1, "Godkendelse af dagsorden", "24-003901", "Godkendt.", "approved", [], [], [], None),
            (2, "Kvalitetsrapport for dagtilbud 2023", "24-003915",
             "Orienteringen blev taget til efterretning.", "noted", ["Amira Haddad"],
             [("Kvalitetsrapport dagtilbud 2023", 1), ("Bilagstabeller", 2)],
             sec("Rapporten viser høj forældretilfredshed.",
                 "Børn og Læring indstiller, at rapporten tages til efterretning.",
                 "Svarprocenten var 71."), None),
            (3, "Skoledistrikter fra skoleåret 2025/26", "24-003920",
             "Udvalget anbefaler over for Byrådet, at forslaget sendes i høring.", "approved",
             ["Amira Haddad", "Peder Lunding"], [("Forslag til distriktsgrænser", 1)],
             sec("Elevtallet stiger i den nordlige del af kommunen.",
                 "Børn og Læring indstiller, at forslaget sendes i høring.",
                 "Ændringen berører 40 elever."), None),
            (4, "Eventuelt", "24-003999", "Drøftet.", "discussed", [], [], [], None),
        ],
    },
    {  # Ekstraordinært møde
        "name": "2024-05-13_byraad-ekstra", "udvalg": "Byråd 2022-2025",
        "moede_navn": "Ekstraordinær dagsorden",
        "dato": "2024-05-13T18:00:00+02:00", "sted": "Byrådssalen", "members": BYRAAD,
        "absent": ["Torben Lykkegaard"],
        "items": [
            (1, "Godkendelse af dagsorden", "24-004500", "Godkendt.", "approved", [], [], [], None),
            (2, "Udpegning af nyt medlem til Folkeoplysningsudvalget", "24-004501",
             "Nadia Friis Kold blev udpeget.", "decided", [], [],
             sec("Et medlem er udtrådt.", "Borgmesteren indstiller, at der udpeges et nyt medlem.",
                 "Udpegningen gælder resten af valgperioden."), None),
        ],
    },
]


def fa_html(it):
    num, title, case, decision, outcome, absent, atts, secs, hist = it
    parts = ["<div><div id='sagsfremstillingContainer'>\r\n\r\n"]
    if decision:
        dec = f"<div>{decision}</div>"
        if absent:
            dec += f"<div>Fraværende: {', '.join(absent)}</div>"
        parts.append(f"<div><h3>Beslutning</h3>\r\n<span>{dec}</span>\r\n</div>\r\n")
    if secs:
        body = " ".join(f"<h3>{h}</h3> <div>{t}</div>" for h, t in secs)
        parts.append(f"<h3>Fremstilling</h3>\r\n<span class='ukendt'>{body}</span>\r\n\r\n")
    if hist:
        d, _, rest = hist.partition(" ")
        parts.append("<h3>Sagens forløb</h3>\r\n<span class='sagsforloeb'>"
                     f"<u>{d} {rest.split(':')[0]}</u><br>\r {rest.split(': ', 1)[1]}<br>\r </span>\r\n")
    parts.append("</div></div>")
    return "".join(parts)


def fa_meeting(m):
    aid = uid("fa", m["name"])
    items = []
    for k, it in enumerate(m["items"]):
        num, title, case, decision, outcome, absent, atts, secs, hist = it
        iid = uid("fa", m["name"], num)
        doc = uid("fa-doc", m["name"], num)
        bilag = [{"Navn": n, "Order": o, "Id": uid("bilag", m["name"], num, n),
                  "Link": f"https://{HOST}/Vis/Pdf/bilag/{uid('bilag', m['name'], num, n)}"}
                 for n, o in sorted(atts, key=lambda x: -x[1])]  # published out of order
        items.append({
            "Lydfiler": None, "Ressourcer": None,
            "Felter": [{"Navn": "", "Html": fa_html(it), "Tekst": None,
                        "Id": "00000000-0000-0000-0000-000000000000",
                        "Link": f"https://{HOST}/Vis/Pdf/bilag/{doc}", "DocumentId": doc}],
            "Presentations": None, "ItemDecision": None, "SagsNummer": case, "Navn": title,
            "Punktnummer": None if num in m.get("number_only", ()) else str(num),
            "Bilag": bilag, "Documents": None, "Id": iid, "AgendaUid": aid, "Number": str(num),
            "Sorting": k + 1, "IsOpen": not title.startswith("Lukket"), "CaseNumber": case,
            "Caption": title,
            "ExternalAgendaItemAttendees": [
                {"Name": a, "Email": None, "AttendanceType": 2, "Reason": "Fraværende",
                 "AgendaItemUid": iid} for a in absent],
        })
    members = None
    if m["members"] is not None:
        members = [{"Name": n, "Absent": n in m["absent"], "ParticipationCancelled": False,
                    "AttendanceType": 0} for n in m["members"]]
    return {
        "Dagsordenpunkter": items,
        "Udvalg": {"Id": uid("udvalg", m["udvalg"]), "Navn": m["udvalg"], "Historisk": False},
        "Moede": {"Id": uid("moede", m.get("moede_id", m["name"])),
                  "MeetingBeginUtc": m["dato"], "MeetingEndUtc": m.get("end"),
                  "ReleasedDate": None, "Dato": m["dato"], "Sted": m["sted"],
                  "Afsluttet": not m.get("agenda", False), "Moededeltagere": members,
                  "Navn": m.get("moede_navn", "Dagsorden"), "Description": "",
                  "ElasticSearchResults": None,
                  "IsSupplementaryAgenda": m.get("supplementary", False)},
        "TillaegsDagsorden": m.get("supplementary", False),
        "Id": aid, "Lydfiler": None,
    }


def fa_gold(m, fname):
    agenda = m.get("agenda", False)
    present = [n for n in (m["members"] or []) if n not in m["absent"]]
    return {
        "source": fname,
        "document": {"kind": "agenda" if agenda else "minutes", "municipality": MUNI,
                     "committee": None, "meeting_date": m["dato"][:10],
                     "start_time": m["dato"][11:16],
                     "end_time": m["end"][11:16] if m.get("end") else None,
                     "location": m["sted"], "participants": present},
        "items": [{"number": num, "title": title, "case_number": case,
                   "closed": title.startswith("Lukket"), "outcome": outcome,
                   "absent": m["absent"] + absent, "attachments": [n for n, _ in sorted(atts, key=lambda x: x[1])]}
                  for num, title, case, decision, outcome, absent, atts, secs, hist in m["items"]],
    }


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)


def jdump(o):
    return json.dumps(o, ensure_ascii=False, indent=1) + "\n"


def firstagenda(fix):
    docs = {}
    for m in MEETINGS:
        fname = f"{m['name']}_{uid('fa', m['name'])[:8]}.json"
        docs[m["name"]] = fa_meeting(m)
        write(f"{fix}/firstagenda/{fname}", json.dumps(docs[m["name"]], ensure_ascii=False))
        write(f"{fix}/gold/firstagenda/{fname}", jdump(fa_gold(m, fname)))
    return docs


# ----------------------------------------------------------------------- eDoc
EDOC_COMMITTEE = "Miljø- og Naturudvalget"
EDOC_MEETING = ("11-06-2024 15:00", "11-06-2024 17:30", "Mødelokale Lillebælt, Rådhuset")
EDOC_MEMBERS = [("Kirsten Vang Nørby", "Formand", True), ("Poul Erik Sandahl", "Medlem", True),
                ("Jytte Borre", "Medlem", True), ("Anders Kjærsgaard", "Medlem", False),
                ("Lise Mørup", "Medlem", True)]
# (serial, title, case, public, decision of this meeting, earlier handling, attachments)
EDOC_ITEMS = [
    (1, "Godkendelse af dagsorden", "", True, "Godkendt.", None, []),
    (2, "Naturpleje på kommunens arealer 2024-2026", "24/8812", True,
     "Udvalget godkendte planen.", None,
     ["Plejeplan 2024-2026.pdf", "Kort over plejearealer.pdf", "Artsliste.pdf",
      "Høringssvar fra Danmarks Naturfredningsforening.pdf"]),
    (3, "Vandløbsregulativer - forslag til høring", "23/20117", True,
     "Godkendt, idet høringsperioden forlænges til ti uger.",
     ("Teknisk Udvalg", "14-05-2024", "Oversendt til Miljø- og Naturudvalget."),
     ["Regulativ Hindsgavl Bæk.pdf", "Regulativ Kolding Å opland.pdf"]),
    (4, "Tilskud til grønne lokale projekter", "24/9035", True,
     "Drøftet. Sagen genoptages i august.", None, ["Ansøgninger grønne projekter.pdf"]),
    (5, "Lukket punkt: Påbud om spildevandsrensning", "24/7701", False, "Godkendt.", None,
     ["Påbudsudkast.pdf", "Partshøring.pdf"]),
    (6, "Lukket punkt: Ekspropriation til cykelsti", "24/9120", False, "Godkendt.", None,
     ["Ekspropriationsplan.pdf", "Besigtigelsesrapport.pdf", "Erstatningsopgørelse.pdf"]),
]
# The two publications of the meeting: the agenda (items 1..5, no decisions
# released) and, later, the minutes (items 1..6 with decisions).
EDOC_PUBS = [("2024-06-03 09.12.40", "Dagsorden", [1, 2, 3, 4, 5], False),
             ("2024-06-12 08.45.05", "Referat", [1, 2, 3, 4, 5, 6], True)]
EDOC_MEETING_ID = "7C1E5A0B-3D2F-4E61-9B8A-55D0F7A3C214"


def x(s):
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def edoc_xml(stamp, kind, serials, released):
    when, end, loc = EDOC_MEETING
    o = ['\ufeff<Root xmlns:edoc="http://www.fujitsu.dk/agenda/xml/schemas/2009/03/31/">',
         f"  <edoc:OutputTypeEnumName>{'Minutes' if released else 'Agenda'}</edoc:OutputTypeEnumName>",
         "  <edoc:Committee>",
         f"    <edoc:Identifier>{uid('edoc-committee')}</edoc:Identifier>",
         f"    <edoc:Name>{x(EDOC_COMMITTEE)}</edoc:Name>",
         "    <edoc:ShortName>MNU</edoc:ShortName>",
         "    <edoc:Meeting>",
         f"      <edoc:MeetingIdentifier>{EDOC_MEETING_ID}</edoc:MeetingIdentifier>",
         f"      <edoc:MeetingDateTime>{when}</edoc:MeetingDateTime>",
         f"      <edoc:EndDateTime>{end}</edoc:EndDateTime>",
         f"      <edoc:MeetingLocation>{x(loc)}</edoc:MeetingLocation>",
         f"      <edoc:MeetingStateCode>{'AFHOLDT' if released else 'OPRETTET'}</edoc:MeetingStateCode>",
         "      <edoc:MeetingParticipants>"]
    for name, role, part in EDOC_MEMBERS:
        o += ["        <edoc:MeetingParticipant>",
              f"          <edoc:Identifier>{uid('edoc-member', name)}</edoc:Identifier>",
              f"          <edoc:Name>{x(name)}</edoc:Name>",
              f"          <edoc:RoleInMeeting>{role}</edoc:RoleInMeeting>",
              f"          <edoc:Participate>{'true' if part else 'false'}</edoc:Participate>",
              "        </edoc:MeetingParticipant>"]
    o += ["      </edoc:MeetingParticipants>",
          "      <edoc:Agenda>",
          f"        <edoc:Identifier>{uid('edoc-agenda', stamp)}</edoc:Identifier>",
          f"        <edoc:Type>{kind}</edoc:Type>",
          "        <edoc:AgendaElements>"]
    for serial, title, case, public, dec, hist, atts in EDOC_ITEMS:
        if serial not in serials:
            continue
        hid = uid("edoc-item", serial)
        o += ["          <edoc:AgendaElement>",
              f"            <edoc:Identifier>{uid('edoc-element', serial)}</edoc:Identifier>",
              f"            <edoc:AccessIsPublic>{'true' if public else 'false'}</edoc:AccessIsPublic>",
              f"            <edoc:SortOrder>{serial}</edoc:SortOrder>"]
        absent = [n for n, _, p in EDOC_MEMBERS if not p]
        if released and absent:
            o += ["            <edoc:Absences>"]
            o += [f"              <edoc:Absence><edoc:Name>{x(n)}</edoc:Name></edoc:Absence>"
                  for n in absent]
            o += ["            </edoc:Absences>"]
        else:
            o += ["            <edoc:Absences />"]
        o += ["            <edoc:HandlingItem>",
              f"              <edoc:Identifier>{hid}</edoc:Identifier>",
              f"              <edoc:SerialNo>{serial}</edoc:SerialNo>",
              f"              <edoc:Title>{x(title)}</edoc:Title>",
              f"              <edoc:CaseNumber>{case}</edoc:CaseNumber>",
              "              <edoc:HandlingPlan>"]
        if hist:
            o += ["                <edoc:Handling>",
                  "                  <edoc:Placement>Before</edoc:Placement>",
                  f"                  <edoc:CommitteeName>{x(hist[0])}</edoc:CommitteeName>",
                  f"                  <edoc:MeetingDate>{hist[1]}</edoc:MeetingDate>",
                  f"                  <edoc:Decision>&lt;p&gt;{x(hist[2])}&lt;/p&gt;</edoc:Decision>",
                  "                </edoc:Handling>"]
        d = dec if released else "Beslutning ikke frigivet"
        o += ["                <edoc:Handling>",
              "                  <edoc:Placement>This</edoc:Placement>",
              f"                  <edoc:CommitteeName>{x(EDOC_COMMITTEE)}</edoc:CommitteeName>",
              f"                  <edoc:MeetingDate>{when[:10]}</edoc:MeetingDate>",
              f"                  <edoc:Decision>&lt;p&gt;{x(d)}&lt;/p&gt;</edoc:Decision>",
              "                </edoc:Handling>",
              "              </edoc:HandlingPlan>",
              "              <edoc:CasePresentations>"]
        if public:
            o += ["                <edoc:CasePresentation>",
                  "                  <edoc:Title>Sagsfremstilling</edoc:Title>",
                  f"                  <edoc:Content>&lt;p&gt;{x(title)}: sagen forelægges udvalget.&lt;/p&gt;</edoc:Content>",
                  "                  <edoc:IsDecision>false</edoc:IsDecision>",
                  "                </edoc:CasePresentation>",
                  "                <edoc:CasePresentation>",
                  "                  <edoc:Title>Indstilling</edoc:Title>",
                  "                  <edoc:Content>&lt;p&gt;Forvaltningen indstiller, at sagen godkendes.&lt;/p&gt;</edoc:Content>",
                  "                  <edoc:IsDecision>false</edoc:IsDecision>",
                  "                </edoc:CasePresentation>"]
        o += ["              </edoc:CasePresentations>",
              "              <edoc:Attachments>"]
        for k, a in enumerate(atts, 1):
            aid = f"{7700000 + serial * 10}-{8800000 + serial * 10 + k}-{k}"
            o += ["                <edoc:Attachment>",
                  f"                  <edoc:Identifier>{aid}</edoc:Identifier>",
                  f"                  <edoc:Title>{x(a)}</edoc:Title>",
                  f"                  <edoc:Link>\\Attachments\\{aid}.pdf</edoc:Link>",
                  "                </edoc:Attachment>"]
        o += ["              </edoc:Attachments>",
              "            </edoc:HandlingItem>",
              "          </edoc:AgendaElement>"]
    o += ["        </edoc:AgendaElements>", "      </edoc:Agenda>", "    </edoc:Meeting>",
          "  </edoc:Committee>", "</Root>"]
    return "\r\n".join(o) + "\r\n"


def edoc_html(kind, serials, released):
    when, end, loc = EDOC_MEETING
    o = ["<!DOCTYPE html>", "<html><head><meta charset=\"utf-8\">",
         f"<title>{x(EDOC_COMMITTEE)} - {kind}</title></head><body>",
         f"<h1>{x(EDOC_COMMITTEE)}</h1>", f"<h2>{kind}</h2>",
         f"<p>Mødedato: {when[:10]} kl. {when[11:]} - {end[11:]}</p>",
         f"<p>Mødested: {x(loc)}</p>"]
    for serial, title, case, public, dec, hist, atts in EDOC_ITEMS:
        if serial not in serials:
            continue
        o.append(f"<h3>{serial}. {x(title)}</h3>")
        if case:
            o.append(f"<p>Sagsnr.: {case}</p>")
        if released:
            o += ["<h4>Beslutning</h4>", f"<p>{x(dec)}</p>"]
    o.append("</body></html>")
    return "\n".join(o) + "\n"


def edoc(fix):
    base = (f"{fix}/edoc/{EDOC_COMMITTEE}/2024-06-11 15.00/Dagsorden/Dagsorden/"
            f"{EDOC_COMMITTEE} {EDOC_MEETING[0][:10]}")
    paths = []
    for stamp, kind, serials, released in EDOC_PUBS:
        g = uid("edoc-pub", stamp)
        write(f"{base}/{stamp}/{g}.xml", edoc_xml(stamp, kind, serials, released))
        write(f"{base}/{stamp}/{g}.html", edoc_html(kind, serials, released))
        paths.append(f"{base}/{stamp}")
    return paths


# ---------------------------------------------------------------------- SBSYS
def cd(s):
    return f"<![CDATA[{s}]]>"


def sbsys_agenda():
    members = [("Henning Lyhne (A)", "Participating"), ("Susanne Dige", "Participating"),
               ("Bjørn Aagaard (V)", "Absent"), ("Maria Toft Jessen", "NotDecided"),
               ("Kasper Wium (F)", "Participating")]
    items = [
        (1, "Meddelelser", "00.01.00-A00-12-24", True,
         [("Sagsfremstilling", "<p>Formanden orienterer.</p>", False)], []),
        (2, "Ny ordning for aflastning af pårørende", "27.24.00-P20-3-24", True,
         [("Sagsfremstilling", "<p>Ordningen giver op til 40 timers aflastning om året.</p>", False),
          ("Indstilling", "<p>Direktionen indstiller, at ordningen godkendes.</p>", False),
          ("Beslutning", "", True)],
         [("Beskrivelse af aflastningsordningen", "Aflastning.pdf"),
          ("Økonomisk overslag", "Overslag.pdf")]),
        (3, "Bevilling til nyt plejecenter i Hvalsø", "82.06.00-G01-1-24", True,
         [("Sagsfremstilling", "<p>Plejecentret får 48 boliger.</p>", False),
          ("Beslutning", "", True), ("BYRÅDETS BESLUTNING", "", True)],
         [("Byggeprogram plejecenter Hvalsø", "Byggeprogram.pdf")]),
        (4, "Lukket: Klage over afgørelse", "27.24.08-K07-4-24", False, [], []),
    ]
    o = ['<?xml version="1.0" encoding="utf-8" standalone="yes"?>', "<Publication>",
         f"\t<Published>{cd('02-09-2024 10:05:31')}</Published>",
         f"\t<PublicationTypeAsEnum>{cd('Final')}</PublicationTypeAsEnum>",
         "\t<Agendas>", '\t\t<Agenda ID="118">',
         f"\t\t\t<Name>{cd('Social- og Sundhedsudvalget 10-09-2024')}</Name>",
         '\t\t\t<Committee ID="7">', f"\t\t\t\t<Name>{cd('Social- og Sundhedsudvalget')}</Name>",
         "\t\t\t</Committee>", '\t\t\t<Meeting ID="241">',
         f"\t\t\t\t<When>{cd('10-09-2024 16:00:00')}</When>",
         f"\t\t\t\t<Until>{cd('10-09-2024 18:00:00')}</Until>",
         f"\t\t\t\t<Where>{cd('Mødelokale 2, Rådhuset i Allerslev')}</Where>",
         "\t\t\t\t<Members>"]
    for k, (n, st) in enumerate(members):
        o += [f'\t\t\t\t\t<MeetingMember ID="{300 + k}">',
              f"\t\t\t\t\t\t<ParticipationStatusAsText>{cd(st)}</ParticipationStatusAsText>",
              f"\t\t\t\t\t\t<Name>{cd(n)}</Name>", "\t\t\t\t\t</MeetingMember>"]
    o += ["\t\t\t\t</Members>", "\t\t\t</Meeting>", "\t\t\t<Items>"]
    for num, cap, case, public, fields, encl in items:
        o += [f'\t\t\t\t<Item ID="{900 + num}">', f"\t\t\t\t\t<Number>{cd(num)}</Number>",
              f"\t\t\t\t\t<Caption>{cd(cap)}</Caption>",
              f"\t\t\t\t\t<IsPublic>{cd('True' if public else 'False')}</IsPublic>",
              f"\t\t\t\t\t<Case><Number>{cd(case)}</Number></Case>", "\t\t\t\t\t<Fields>"]
        for c, html, fb in fields:
            o += ["\t\t\t\t\t\t<ItemField>", f"\t\t\t\t\t\t\t<Caption>{cd(c)}</Caption>",
                  f"\t\t\t\t\t\t\t<Content>{cd(html)}</Content>",
                  f"\t\t\t\t\t\t\t<IsFeedback>{cd('True' if fb else 'False')}</IsFeedback>",
                  "\t\t\t\t\t\t</ItemField>"]
        o += ["\t\t\t\t\t</Fields>", "\t\t\t\t\t<Enclosures>"]
        for k, (n, fn) in enumerate(encl, 1):
            o += [f'\t\t\t\t\t\t<Enclosure ID="{5000 + num * 10 + k}">',
                  f"\t\t\t\t\t\t\t<Name>{cd(n)}</Name>", f"\t\t\t\t\t\t\t<FileName>{cd(fn)}</FileName>",
                  f"\t\t\t\t\t\t\t<Number>{cd(k)}</Number>", "\t\t\t\t\t\t</Enclosure>"]
        o += ["\t\t\t\t\t</Enclosures>", "\t\t\t\t</Item>"]
    o += ["\t\t\t</Items>", "\t\t</Agenda>", "\t</Agendas>", "</Publication>"]
    return "\n".join(o) + "\n"


def sbsys_minutes():
    """The variant whose items carry sub-items "1.1" and meeting PDFs as item 0."""
    members = ["Rasmus Holmboe", "Dorthe Kjeldgaard", "Ib Sønderskov", "Pia Engholm"]
    items = [("1", "Nyt sagssystem", ""), ("1.1", "Status på udbuddet", ""),
             ("1.2", "Tidsplan for implementering", ""), ("2", "Digital post", ""),
             ("2.1", "Erfaringer fra pilotafdelingerne", ""), ("3", "Eventuelt", ""),
             ("0", "Åbent referat", "Referat - åbent.pdf")]
    o = ['<?xml version="1.0" encoding="utf-8"?><Publication xmlns:xsd="http://www.w3.org/2001/'
         'XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
         'TimeStamp="2024-10-24T09:30:12.1234567+02:00"><Agendas><Agenda ID="MDR-2024-01177">'
         "<PublicationTypeAsValue>2</PublicationTypeAsValue><IsPublic>true</IsPublic><Meeting><Members>"]
    o += [f"<MeetingMember><Name>{n}</Name><Participate>0</Participate></MeetingMember>"
          for n in members]
    o += ["</Members><When>17-10-2024 09:00:00</When><Where>Rådhuset lokale 114</Where>"
          "<Until>17-10-2024 11:00:00</Until></Meeting><Name>Digitaliseringsgruppen 17-10-2024</Name>"
          '<Committee ID="MFO-2023-00004"><Name>Digitaliseringsgruppen</Name></Committee><Items>']
    for k, (num, cap, pdf) in enumerate(items):
        enc = (f"<Enclosures><Enclosure><FileName>Appendix_{pdf}</FileName><Name>{pdf[:-4]}</Name>"
               f"<Number>1</Number><IsPublic>true</IsPublic></Enclosure></Enclosures>"
               if pdf else "<Enclosures />")
        o.append(f'<Item ID="{k + 1}_case_MDR-2024-01177"><Caption>{cap}</Caption>{enc}'
                 f"<IsPublic>true</IsPublic><Number>{num}</Number><IsExternal>false</IsExternal>"
                 f"<ExternalFiles /><Fields><ItemField><Caption>{cap}</Caption><Content><![CDATA[]]>"
                 "</Content><FieldTypeAsValue>1</FieldTypeAsValue><Index>1</Index></ItemField>"
                 "</Fields></Item>")
    o.append("</Items></Agenda></Agendas></Publication>")
    return "".join(o)


def sbsys(fix):
    write(f"{fix}/sbsys/01_social-og-sundhedsudvalget_dagsorden_2024-09-10.xml", sbsys_agenda())
    write(f"{fix}/sbsys/02_digitaliseringsgruppen_referat_2024-10-17.xml", sbsys_minutes())


# -------------------------------------------------------------- bad exports
def invalid(fix, fa, edoc_dirs):
    d = f"{fix}/source/invalid"
    base = fa["2024-02-05_okonomiudvalget"]
    text = json.dumps(base, ensure_ascii=False)
    write(f"{d}/fa_truncated.json", text[:3000])
    m = json.loads(text)
    for k in ("Punktnummer", "Number"):
        m["Dagsordenpunkter"][1][k] = None
    del m["Dagsordenpunkter"][1]["Sorting"]
    write(f"{d}/fa_no_number.json", json.dumps(m, ensure_ascii=False))
    m = json.loads(text)
    del m["Dagsordenpunkter"][0]["Navn"]
    del m["Dagsordenpunkter"][0]["Caption"]
    write(f"{d}/fa_no_title.json", json.dumps(m, ensure_ascii=False))
    m = json.loads(text)
    m["Moede"]["Dato"] = None
    m["Moede"]["MeetingBeginUtc"] = None
    write(f"{d}/fa_no_date.json", json.dumps(m, ensure_ascii=False))
    m = json.loads(text)
    m["Dagsordenpunkter"] = {"x": 1}
    write(f"{d}/fa_items_not_array.json", json.dumps(m, ensure_ascii=False))

    pub = edoc_xml(*EDOC_PUBS[1])
    write(f"{d}/edoc_truncated.xml", pub[:6000])
    write(f"{d}/edoc_no_meeting_id.xml",
          pub.replace(f"<edoc:MeetingIdentifier>{EDOC_MEETING_ID}</edoc:MeetingIdentifier>\r\n", ""))
    k = pub.index("<edoc:SerialNo>3</edoc:SerialNo>")  # AgendaElement[2]
    write(f"{d}/edoc_no_serial.xml", pub[:k] + pub[k + len("<edoc:SerialNo>3</edoc:SerialNo>"):])

    ag = sbsys_agenda()
    k = ag.index("\t\t\t\t<When>")
    write(f"{d}/sbsys_no_when.xml", ag[:k] + ag[ag.index("\n", k) + 1:])
    write(f"{d}/sbsys_truncated.xml", ag[: len(ag) // 2])


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_exports.py FIXTURES_DIR")
    fix = sys.argv[1]
    fa = firstagenda(fix)
    dirs = edoc(fix)
    sbsys(fix)
    invalid(fix, fa, dirs)


if __name__ == "__main__":
    main()
