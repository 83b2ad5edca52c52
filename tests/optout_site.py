"""Sites on 127.0.0.1 that say "do not train on this" in every way a site can: one page per signal
and form, and one site per robots.txt / tdmrep.json (those are per origin). Real formats, written
as the standards show them; nothing leaves the machine."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TEXT = "a page that says something about how it may be used " * 20


def page(meta: str = "") -> bytes:
    return f"<!doctype html><html><head><meta charset=utf-8>{meta}</head><body><p>{TEXT}</p></body></html>".encode()


class SignalSite:
    """A site: {path: (headers, body)}; robots.txt and /.well-known/tdmrep.json among the paths."""

    def __init__(self, files: dict[str, tuple[dict[str, str], bytes]]):
        self.files = files
        self.agents: list[str] = []  # the User-Agent of every page request
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                if not self.path.startswith(("/robots.txt", "/.well-known/")):
                    site.agents.append(self.headers.get("User-Agent", ""))
                headers, body = site.files.get(self.path.split("?")[0], ({}, None))
                if body is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                kinds = {".txt": "text/plain", ".json": "application/json"}
                kind = next((k for end, k in kinds.items() if self.path.endswith(end)), "text/html; charset=utf-8")
                self.send_header("Content-Type", kind)
                for name, value in headers.items():
                    for one in value.split("\n"):  # a repeated header
                        self.send_header(name, one)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> SignalSite:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


ROBOTS = "/robots.txt"
TDMREP = "/.well-known/tdmrep.json"


def text(body: str) -> tuple[dict[str, str], bytes]:
    return {}, body.encode()


# name -> files. Each site's pages, and the verdict each should get at each --opt-out level
# (robots-only, standard, strict): "ok" or the source of the refusing signal.
SITES = {
    "main": {
        ROBOTS: text("User-agent: *\nDisallow: /robots-off/\nContent-Usage: /usage-robots/ train-ai=n\n"),
        TDMREP: text(
            '[{"location": "/tdm-file/*", "tdm-reservation": 1, "tdm-policy": "https://example.org/tdm-policy.json"},'
            ' {"location": "/tdm-override/*", "tdm-reservation": 1}]'
        ),
        "/plain.html": ({}, page()),
        "/robots-off/page.html": ({}, page()),
        "/usage-robots/page.html": ({}, page()),
        "/header-noai.html": ({"X-Robots-Tag": "noai"}, page()),
        "/header-two.html": ({"X-Robots-Tag": "noarchive\nnoimageai"}, page()),
        "/header-other-agent.html": ({"X-Robots-Tag": "googlebot: noai, noindex"}, page()),
        "/header-our-agent.html": ({"X-Robots-Tag": "otherbot: noindex, boxcrawl: noimageai"}, page()),
        "/meta-noai.html": ({}, page('<meta name="robots" content="noai">')),
        "/meta-token.html": ({}, page('<meta name="BoxCrawl" content="noai, noimageai">')),
        "/noindex.html": ({"X-Robots-Tag": "noindex"}, page()),
        "/meta-none.html": ({}, page('<meta name="robots" content="none">')),
        "/tdm-header.html": ({"tdm-reservation": "1", "tdm-policy": "https://example.org/p.json"}, page()),
        "/tdm-meta.html": ({}, page('<meta name="tdm-reservation" content="1">')),
        "/tdm-file/page.html": ({}, page()),
        "/tdm-override/page.html": ({"tdm-reservation": "0"}, page()),
        "/tdm-file/meta-zero.html": ({}, page('<meta name="tdm-reservation" content="0">')),
        "/tdm-meta-zero-header-one.html": ({"tdm-reservation": "1"}, page('<meta name="tdm-reservation" content="0">')),
        "/tdm-meta-one-header-zero.html": ({"tdm-reservation": "0"}, page('<meta name="tdm-reservation" content="1">')),
        "/tdm-bad-header.html": ({"tdm-reservation": "yes"}, page()),
        "/usage-header.html": ({"Content-Usage": "train-ai=n"}, page()),
        "/usage-header-yes.html": ({"Content-Usage": "train-ai=y, search=y"}, page()),
    },
    "content-signal": {
        ROBOTS: text("# contentsignals.org\nUser-agent: *\nContent-Signal: search=yes, ai-train=no\nAllow: /\n"),
        "/plain.html": ({}, page()),
    },
    "ai-crawlers": {
        ROBOTS: text("User-agent: GPTBot\nUser-agent: CCBot\nDisallow: /\n\nUser-agent: *\nAllow: /\n"),
        "/plain.html": ({}, page()),
    },
    "our-token": {
        ROBOTS: text("User-agent: boxcrawl\nDisallow: /\n\nUser-agent: *\nAllow: /\n"),
        "/plain.html": ({}, page()),
    },
    "malformed": {
        # not robots.txt at all (an HTML error page, binary noise), and a Content-Signal with no value
        ROBOTS: ({}, b"\xff\xfe\x00garbage\n<html><body>Not found</body></html>\nContent-Signal: ai-train\n"),
        TDMREP: text('{"location": "/", "tdm-reservation": 1'),
        "/plain.html": ({}, page()),
    },
    "bad-rules": {
        TDMREP: text('[{"location": "/", "tdm-reservation": "yes"}]'),
        "/plain.html": ({}, page()),
    },
}

# (site, path) -> verdict under robots-only, standard, strict: "ok" or the refusing signal's source
EXPECTED = {
    ("main", "/plain.html"): ("ok", "ok", "ok"),
    ("main", "/robots-off/page.html"): ("robots.txt", "robots.txt", "robots.txt"),
    ("main", "/usage-robots/page.html"): ("ok", "robots.txt content-usage", "robots.txt content-usage"),
    ("main", "/header-noai.html"): ("ok", "x-robots-tag", "x-robots-tag"),
    ("main", "/header-two.html"): ("ok", "x-robots-tag", "x-robots-tag"),
    ("main", "/header-other-agent.html"): ("ok", "ok", "ok"),
    ("main", "/header-our-agent.html"): ("ok", "x-robots-tag", "x-robots-tag"),
    ("main", "/meta-noai.html"): ("ok", "meta robots", "meta robots"),
    ("main", "/meta-token.html"): ("ok", "meta boxcrawl", "meta boxcrawl"),
    ("main", "/noindex.html"): ("ok", "ok", "x-robots-tag"),
    ("main", "/meta-none.html"): ("ok", "ok", "meta robots"),
    ("main", "/tdm-header.html"): ("ok", "tdm-reservation header", "tdm-reservation header"),
    ("main", "/tdm-meta.html"): ("ok", "meta tdm-reservation", "meta tdm-reservation"),
    ("main", "/tdm-file/page.html"): ("ok", "tdmrep.json", "tdmrep.json"),
    ("main", "/tdm-override/page.html"): ("ok", "ok", "ok"),
    ("main", "/tdm-file/meta-zero.html"): ("ok", "ok", "ok"),
    ("main", "/tdm-meta-zero-header-one.html"): ("ok", "ok", "ok"),  # TDMRep: <meta> over the header
    ("main", "/tdm-meta-one-header-zero.html"): ("ok", "meta tdm-reservation", "meta tdm-reservation"),
    ("main", "/tdm-bad-header.html"): ("ok", "ok", "ok"),
    ("main", "/usage-header.html"): ("ok", "content-usage header", "content-usage header"),
    ("main", "/usage-header-yes.html"): ("ok", "ok", "ok"),
    ("content-signal", "/plain.html"): ("ok", "robots.txt content-signal", "robots.txt content-signal"),
    ("ai-crawlers", "/plain.html"): ("ok", "ok", "robots.txt"),
    ("our-token", "/plain.html"): ("robots.txt", "robots.txt", "robots.txt"),
    ("malformed", "/plain.html"): ("ok", "ok", "ok"),
    ("bad-rules", "/plain.html"): ("ok", "ok", "ok"),
}
