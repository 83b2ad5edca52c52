"""A reused tab carries nothing of one page to the next (browser/tab.py).

One tab renders, in turn: page A1 of site A (127.0.0.1), which leaves every kind of state it
can; page B of site B (127.0.0.2), which loads site A's cacheable stylesheet and a frame of
site A; page A2 of site A again. The pages of site A write what they find into their own text,
so the rendered text is the evidence. Site A also serves a WebSocket, whose server says whether
A1's socket is still open, and counts the requests for its stylesheet.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import threading
import time
from http.server import ThreadingHTTPServer

import pytest
import site_server

from boxcrawl.browser.pool import BrowserPool
from boxcrawl.config import BrowserConfig, SelectConfig
from boxcrawl.extract.plan import TokenBoxPlan
from boxcrawl.extract.tokenizer import load_tokenizer
from boxcrawl.records import Outcome

pytestmark = pytest.mark.browser

WORDS = "<p>" + "plain words so that the page is worth measuring " * 20 + "</p>"
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

# Every page reports what it can see of earlier pages, after its storage calls have answered.
REPORT_JS = """
<p id="report">pending</p>
<script>
(async () => {
  const seen = [];
  seen.push("cookie=" + (document.cookie || "none"));
  seen.push("local=" + (localStorage.getItem("left") || "none"));
  seen.push("session=" + (sessionStorage.getItem("left") || "none"));
  seen.push("name=" + (window.name || "none"));
  seen.push("history=" + history.length);
  const dbs = indexedDB.databases ? (await indexedDB.databases()).map((d) => d.name) : [];
  seen.push("idb=" + (dbs.join("+") || "none"));
  seen.push("caches=" + ((await caches.keys()).join("+") || "none"));
  document.getElementById("report").textContent = "REPORT " + seen.join(" ") + " END";
  if (location.search.includes("leave")) {
    document.cookie = "left=A1; max-age=3600";
    localStorage.setItem("left", "A1");
    sessionStorage.setItem("left", "A1");
    window.name = "A1";
    indexedDB.open("leftdb");
    await (await caches.open("leftcache")).put("/x", new Response("x"));
    window.ws = new WebSocket("ws://" + location.host + "/ws");
    window.ws.onopen = () => window.ws.send("open");
  }
})();
</script>"""


class Sites:
    """Site A on 127.0.0.1 (pages, a cacheable stylesheet, a WebSocket) and site B on 127.0.0.2."""

    def __init__(self):
        self.css_hits = 0
        self.sockets_open = 0
        self.sockets_seen = 0
        sites = self

        class Handler(site_server.Handler):
            protocol_version = "HTTP/1.1"  # a WebSocket handshake must answer in 1.1

            def do_GET(self):
                path = self.path.split("?")[0]
                if path == "/style.css":
                    sites.css_hits += 1
                    return self._send(200, b"p { color: #222 }", "text/css", [("Cache-Control", "max-age=3600")])
                if path == "/ws":
                    return self._websocket()
                if path == "/a.html":
                    return self._send(
                        200,
                        f'<html><head><link rel="stylesheet" href="/style.css"></head>'
                        f"<body>{WORDS}{REPORT_JS}</body></html>".encode(),
                    )
                if path == "/b.html":  # site B, with a frame of site A and A's stylesheet
                    a = sites.a
                    return self._send(
                        200,
                        f'<html><head><link rel="stylesheet" href="{a}/style.css"></head>'
                        f'<body>{WORDS}<iframe src="{a}/a.html"></iframe></body></html>'.encode(),
                    )
                return self._send(404, b"no")

            def _websocket(self):
                key = self.headers["Sec-WebSocket-Key"]
                accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
                self.send_response(101)
                for k, v in (("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Accept", accept)):
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.flush()
                sites.sockets_open += 1
                try:
                    self.connection.settimeout(None)
                    greeted = False
                    while self.connection.recv(4096):  # the page's "open" frame; then until it closes
                        sites.sockets_seen += not greeted
                        greeted = True
                except OSError:
                    pass
                finally:
                    sites.sockets_open -= 1
                self.close_connection = True

        self.servers = [ThreadingHTTPServer((host, 0), Handler) for host in ("127.0.0.1", "127.0.0.2")]
        for server in self.servers:
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, daemon=True).start()
        self.a, self.b = (f"http://{s.server_address[0]}:{s.server_address[1]}" for s in self.servers)

    def close(self):
        for server in self.servers:
            server.shutdown()
            server.server_close()


@pytest.fixture
def sites():
    s = Sites()
    yield s
    s.close()


def report(rendered) -> str:
    text = rendered.measurement.text
    return text[text.index("REPORT") : text.index("END")]


def wait_for(condition, seconds: float = 10.0) -> bool:
    give_up = time.monotonic() + seconds
    while not condition() and time.monotonic() < give_up:
        time.sleep(0.05)
    return condition()


def test_a_reused_tab_shows_no_page_anything_an_earlier_page_left(sites):
    tok = load_tokenizer()
    # settle 0.5 s: the report is written after a few storage calls, well inside it
    cfg = BrowserConfig(tabs=1, allow_hosts=("127.0.0.1", "127.0.0.2"), settle=0.5)

    async def go():
        plan = lambda: TokenBoxPlan(tok, SelectConfig(min_tokens=5, min_height=20), 1.0)  # noqa: E731
        async with BrowserPool(cfg) as pool:
            a1 = await pool.render(f"{sites.a}/a.html?leave", plan())
            # the tab was reset when A1 ended: its socket must be closed now, with the tab still open
            socket_closed = await asyncio.to_thread(wait_for, lambda: sites.sockets_open == 0)
            css_after_a1 = sites.css_hits
            b = await pool.render(f"{sites.b}/b.html", plan())
            css_after_b = sites.css_hits
            a2 = await pool.render(f"{sites.a}/a.html", plan())
            return a1, socket_closed, css_after_a1, b, css_after_b, a2, pool.tabs_opened

    a1, socket_closed, css_after_a1, b, css_after_b, a2, tabs_opened = asyncio.run(go())
    assert sites.sockets_seen == 1, "A1's WebSocket must have opened (and said so once)"
    assert socket_closed, "A1's WebSocket stayed open after the tab moved on"
    assert [p.outcome for p in (a1, b, a2)] == [Outcome.OK] * 3, [(p.outcome, p.error) for p in (a1, b, a2)]
    assert tabs_opened == 1, "all three pages must have run in the same reused tab"
    # A1 ran in a new tab: what it saw is what a fresh tab shows
    assert report(a1).startswith("REPORT cookie=none local=none session=none name=none history="), report(a1)
    assert report(a1).endswith(" idb=none caches=none "), report(a1)
    assert report(a2) == report(a1), "A2 found something A1 left"
    assert css_after_b > css_after_a1, "B got A1's cached stylesheet: the cache is not keyed by site"
