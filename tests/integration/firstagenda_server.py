#!/usr/bin/env python3
"""A local FirstAgenda publishing API for minutes-source's tests (standard
library only).

    firstagenda_server.py --port-file F [--greve DIR] SLUG:SEED:N ...

Serves each kommune SLUG under http://127.0.0.1:PORT/k/SLUG with the real
API's shape: GET / opens a session (a cookie); without one the API answers
302 to a login page; GET /api/agenda/udvalgsliste lists every committee and
meeting; GET /api/agenda/dagsorden/{Id} answers one publication;
GET /vis/pdf/bilag/{Id}?redirectDirectlyToPdf=true (inside a session, else
302 to the login page) redirects to /blob/{Id}.pdf, which serves the
attachment's invented PDF (firstagenda_world.attachment_pdf). Kommune
SLUG holds N invented meetings (firstagenda_world.py, seeded with SEED); the
slug "greve" holds the Greve meetings of DIR instead (read, not copied).

Control (GET, for the test scripts):
  /_control/SLUG/fault?mode=M&count=C[&retry_after=S][&seconds=S][&every=K][&id=ID]
      M = 500 | 429 (Retry-After S) | slow (sleep S before answering) |
          truncated (a cut listing) | huge (a 50 MB listing, no length) |
          relogin (sessions expire now, and after every K API requests) |
          badjson (publication ID answers HTML) | gone (publication ID 404) |
          att500 | att429 (attachment requests, Retry-After S) | attrelogin (sessions
          expire at an attachment request) | attgone (attachment ID,
          or every one, answers 404) | attnolength (the attachment ID, or every one,
          is sent without Content-Length) |
          clear. C = how many API (attachment) requests it hits (default: all).
  /_control/SLUG/publish?kind=K&meeting=I   K = referat | tillaeg | republish
      -> {"id": new Id, "old": replaced Id or null}
  /_stats                          -> per SLUG: handshakes, listing, agenda, bilag (attachment
                                      requests), blob (files served), status counts
  /_attachments/SLUG               -> per attachment Id a publication names: name, item,
                                      kind (text | scanned | huge), docs (publication Ids),
                                      size and sha256 of its PDF
  /_control/SLUG/reset_stats
  /_entries/SLUG                   -> every listed Id
  /_meetings/SLUG                  -> per invented meeting: index, committee, Navn and Id
                                      of its publications
"""
import argparse
import hashlib
import http.server
import json
import os
import secrets
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from firstagenda_world import World  # noqa: E402

LOCK = threading.Lock()


class Kommune:
    def __init__(self, world):
        self.world = world
        self.sessions = set()
        self.faults = {}      # mode -> dict(count, params)
        self.api_requests = 0
        self.stats = {}
        self.reset_stats()

    def reset_stats(self):
        self.stats = {"handshake": 0, "listing": 0, "agenda": 0, "bilag": 0, "blob": 0,
                      "status": {}}


KOMMUNER = {}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        if os.environ.get("FA_SERVER_VERBOSE"):
            sys.stderr.write("fa-server: " + fmt % args + "\n")

    def send(self, status, body=b"", ctype="application/json; charset=utf-8", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def count_status(self, k, status):
        with LOCK:
            k.stats["status"][str(status)] = k.stats["status"].get(str(status), 0) + 1

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        parts = [p for p in u.path.split("/") if p]
        if parts[:1] == ["_stats"]:
            with LOCK:
                out = {s: k.stats for s, k in KOMMUNER.items()}
            return self.send(200, json.dumps(out).encode())
        if parts[:1] == ["_entries"] and len(parts) == 2 and parts[1] in KOMMUNER:
            with LOCK:
                ids = KOMMUNER[parts[1]].world.entry_ids()
            return self.send(200, json.dumps(ids).encode())
        if parts[:1] == ["_meetings"] and len(parts) == 2 and parts[1] in KOMMUNER:
            with LOCK:
                out = [{"index": i, "committee": m.committee[0], "navn": [e["Navn"] for e in
                        m.entries], "ids": [e["Id"] for e in m.entries],
                        "released": [e["ReleasedDate"] for e in m.entries]}
                       for i, m in enumerate(KOMMUNER[parts[1]].world.meetings)]
            return self.send(200, json.dumps(out).encode())
        if parts[:1] == ["_attachments"] and len(parts) == 2 and parts[1] in KOMMUNER:
            w = KOMMUNER[parts[1]].world
            with LOCK:
                out = w.attachments()
                for aid, a in out.items():
                    pdf = w.attachment(aid)
                    a["size"], a["sha256"] = len(pdf), hashlib.sha256(pdf).hexdigest()
            return self.send(200, json.dumps(out, ensure_ascii=False).encode())
        if parts[:1] == ["_control"] and len(parts) == 3 and parts[1] in KOMMUNER:
            return self.control(KOMMUNER[parts[1]], parts[2], q)
        if len(parts) >= 2 and parts[0] == "k" and parts[1] in KOMMUNER:
            return self.site(KOMMUNER[parts[1]], parts[1], parts[2:])
        self.send(404, b'{"error":"not found"}')

    def control(self, k, what, q):
        with LOCK:
            if what == "fault":
                mode = q.get("mode", "clear")
                if mode == "clear":
                    k.faults.clear()
                else:
                    k.faults[mode] = {**q, "count": int(q.get("count", "1000000"))}
                    if mode == "relogin":
                        k.sessions.clear()
                return self.send(200, b'{"ok":true}')
            if what == "reset_stats":
                k.reset_stats()
                return self.send(200, b'{"ok":true}')
            if what == "publish":
                w = k.world
                m = w.meetings[int(q.get("meeting", "0"))]
                old = None
                if q.get("kind") == "referat":
                    e = w.minutes(m)
                elif q.get("kind") == "tillaeg":
                    e = w.supplement(m)
                elif q.get("kind") == "republish":
                    o, e = w.republish(m)
                    old = o["Id"]
                else:
                    return self.send(400, b'{"error":"kind"}')
                return self.send(200, json.dumps({"id": e["Id"], "old": old}).encode())
        self.send(400, b'{"error":"control"}')

    def fault(self, k, mode, eid=None):
        """Takes one use of fault `mode` (for publication eid when it names one)."""
        with LOCK:
            f = k.faults.get(mode)
            if not f or f["count"] <= 0 or (eid and f.get("id") and f["id"] != eid):
                return None
            f["count"] -= 1
            return f

    def site(self, k, slug, rest):
        if not rest:   # the handshake
            token = secrets.token_hex(16)
            with LOCK:
                k.sessions.add(token)
                k.stats["handshake"] += 1
            self.count_status(k, 200)
            return self.send(200, b"<html><body>Dagsordener</body></html>", "text/html",
                             [("Set-Cookie", "fa_session=%s; Path=/k/%s; HttpOnly" %
                               (token, slug))])
        if rest == ["login"]:
            return self.send(200, b"<html><body>Log ind</body></html>", "text/html")
        if rest[:3] == ["vis", "pdf", "bilag"] and len(rest) == 4:
            return self.bilag(k, slug, rest[3])
        if rest[:1] == ["blob"] and len(rest) == 2 and rest[1].endswith(".pdf"):
            return self.blob(k, rest[1][:-4])
        if rest[:2] != ["api", "agenda"]:
            return self.send(404, b'{"error":"not found"}')
        return self.api(k, slug, rest[2:])

    def has_session(self, k):
        cookies = self.headers.get("Cookie", "")
        for c in cookies.split(";"):
            name, _, val = c.strip().partition("=")
            if name == "fa_session" and val in k.sessions:
                return True
        return False

    def api(self, k, slug, rest):
        listing = rest == ["udvalgsliste"]
        eid = rest[1] if len(rest) == 2 and rest[0] == "dagsorden" else None
        with LOCK:
            k.stats["listing" if listing else "agenda"] += 1
            k.api_requests += 1
            rl = k.faults.get("relogin")
            if rl and int(rl.get("every", "0")) and k.api_requests % int(rl["every"]) == 0:
                k.sessions.clear()
        if not self.has_session(k):
            self.count_status(k, 302)
            return self.send(302, b"", "text/html", [("Location", "/k/%s/login" % slug)])
        for mode in ("500", "429", "slow"):
            f = self.fault(k, mode)
            if f and mode == "slow":
                time.sleep(float(f.get("seconds", "5")))
            elif f:
                status = int(mode)
                self.count_status(k, status)
                hdr = [("Retry-After", f.get("retry_after", "1"))] if status == 429 else []
                return self.send(status, b'{"error":"busy"}', headers=hdr)
        if listing:
            return self.listing(k)
        if eid:
            return self.agenda(k, eid)
        self.count_status(k, 404)
        self.send(404, b'{"error":"not found"}')

    def listing(self, k):
        if self.fault(k, "huge"):
            self.count_status(k, 200)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Connection", "close")   # no length: the client must cap it
            self.end_headers()
            chunk = b" " * (1 << 20)
            try:
                self.wfile.write(b'{"Udvalg":{"x":[')
                for _ in range(50):
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True
            return
        with LOCK:
            body = json.dumps(k.world.listing(), ensure_ascii=False).encode()
        if self.fault(k, "truncated"):
            body = body[: len(body) // 2]
        self.count_status(k, 200)
        self.send(200, body)

    def agenda(self, k, eid):
        with LOCK:
            body = k.world.body(eid)
        if body is None or self.fault(k, "gone", eid):
            self.count_status(k, 404)
            return self.send(404, b'{"Message":"Dagsordenen findes ikke"}')
        if self.fault(k, "badjson", eid):
            body = b"<html><body>Der opstod en fejl</body></html>"
        self.count_status(k, 200)
        self.send(200, body)


    def bilag(self, k, slug, aid):
        """/vis/pdf/bilag/{Id}: a redirect to the file, inside a session."""
        with LOCK:
            k.stats["bilag"] += 1
        if self.fault(k, "attrelogin"):
            with LOCK:
                k.sessions.clear()
        if not self.has_session(k):
            self.count_status(k, 302)
            return self.send(302, b"", "text/html", [("Location", "/k/%s/login" % slug)])
        for mode in ("att500", "att429"):
            f = self.fault(k, mode)
            if f:
                status = int(mode[3:])
                self.count_status(k, status)
                hdr = [("Retry-After", f.get("retry_after", "1"))] if status == 429 else []
                return self.send(status, b"<html>busy</html>", "text/html", headers=hdr)
        with LOCK:
            known = k.world.attachments().get(aid) is not None
        if not known or self.fault(k, "attgone", aid):
            self.count_status(k, 404)
            return self.send(404, b"<html>Bilaget findes ikke</html>", "text/html")
        self.count_status(k, 302)
        self.send(302, b"", "text/html", [("Location", "/k/%s/blob/%s.pdf" % (slug, aid))])

    def blob(self, k, aid):
        """The file storage a /vis/pdf request redirects to (no session needed)."""
        with LOCK:
            k.stats["blob"] += 1
            pdf = k.world.attachment(aid)
        if pdf is None:
            return self.send(404, b"<html>not found</html>", "text/html")
        if not self.fault(k, "attnolength", aid):
            return self.send(200, pdf, "application/pdf")
        self.send_response(200)
        self.send_header("Content-Type", "application/pdf")
        self.send_header("Connection", "close")   # no length: the client counts
        self.end_headers()
        try:
            for i in range(0, len(pdf), 1 << 16):
                self.wfile.write(pdf[i:i + (1 << 16)])
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--greve", help="directory of real Greve publications")
    ap.add_argument("kommuner", nargs="+", help="SLUG:SEED:N")
    a = ap.parse_args()
    for spec in a.kommuner:
        slug, seed, n = spec.split(":")
        w = World(int(seed))
        if slug == "greve":
            if not a.greve or not os.path.isdir(a.greve):
                continue
            w.load_dir(a.greve)
        else:
            w.invent(int(n))
        KOMMUNER[slug] = Kommune(w)
    srv = Server(("127.0.0.1", 0), Handler)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.replace(tmp, a.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
