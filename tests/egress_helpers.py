"""An attacker and its victim, for the tests of the network guard.

The victim listens on 127.0.0.1 (TCP and UDP on the same port number) and records every
connection and datagram. The attacker serves pages on 127.0.0.2, which the tests declare public
through BOXCRAWL_TEST_PUBLIC_ADDRESSES; its pages try every way to reach the victim.
"""

from __future__ import annotations

import socket
import threading
from http.server import ThreadingHTTPServer

import site_server

WORDS = "<p>" + "the attacker page shows ordinary looking words " * 30 + "</p>"


class Victim:
    """TCP and UDP on one port of 127.0.0.1; `hits` lists what arrived ("tcp /path", "udp N bytes")."""

    def __init__(self):
        self.hits: list[str] = []
        self.tcp = socket.socket()
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind(("127.0.0.1", 0))
        self.port = self.tcp.getsockname()[1]
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", self.port))
        self.tcp.listen(64)
        self._stop = False
        self._threads = [
            threading.Thread(target=self._accept, daemon=True),
            threading.Thread(target=self._datagrams, daemon=True),
        ]

    def __enter__(self) -> "Victim":
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop = True
        self.tcp.close()
        self.udp.close()

    def _accept(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.tcp.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(2)
            try:
                first = conn.recv(4096)
            except OSError:
                first = b""
            line = first.split(b"\r\n", 1)[0].decode("latin-1")
            self.hits.append(f"tcp {line.split(' ')[1] if line.count(' ') >= 2 else line[:40]!r}")
            body = b"<p>VICTIM SECRET instance credentials AKIAVICTIMSECRET</p>" * 20
            try:
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nAccess-Control-Allow-Origin: *\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
                )
            except OSError:
                pass

    def _datagrams(self) -> None:
        while not self._stop:
            try:
                data, _ = self.udp.recvfrom(65536)
            except OSError:
                return
            self.hits.append(f"udp {len(data)} bytes")


def attacker_pages(v: int) -> dict[str, str]:
    """Page name -> HTML. ``v`` is the victim's port; /to-victim/X answers 302 to the victim's /X."""
    victim = f"127.0.0.1:{v}"
    names = [
        "localhost.",
        "foo.localhost",
        "a.b.localhost.",
        "localhost.localdomain",
        "ip6-localhost",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "2130706433",
        "127.1",
        "[64:ff9b::7f00:1]",
        "[2002:7f00:1::1]",
    ]
    name_probes = "".join(f'<img src="http://{n}:{v}/name-{i}.png">' for i, n in enumerate(names))
    ws = f"try {{ new WebSocket('ws://{victim}/ws-page'); }} catch (e) {{}}"
    return {
        # the document itself redirects to the victim
        "main-302.html": None,
        # sub-resources, directly and through a redirect
        "subresources.html": f"""<html><body>{WORDS}
            <img src="/to-victim/img-redirect.png"><iframe src="/to-victim/iframe-redirect"></iframe>
            <img src="http://{victim}/img-direct.png">{name_probes}
            <link rel="preconnect" href="http://{victim}/"><link rel="dns-prefetch" href="http://{victim}/">
            <link rel="prefetch" href="http://{victim}/link-prefetch">
            <script>fetch('/to-victim/fetch-redirect').catch(() => 0);
                    fetch('http://{victim}/fetch-direct', {{mode: 'no-cors'}}).catch(() => 0);
                    navigator.sendBeacon('http://{victim}/beacon', 'x');</script></body></html>""",
        # speculation rules: prefetch and prerender run outside the page's own loader
        "speculation.html": f"""<html><body>{WORDS}<a href="http://{victim}/spec-link">link</a>
            <script type="speculationrules">{{"prefetch": [{{"source": "list",
              "urls": ["http://{victim}/spec-prefetch", "/to-victim/spec-prefetch-redirect"]}}],
              "prerender": [{{"source": "list", "urls": ["http://{victim}/spec-prerender"]}}]}}</script>
            </body></html>""",
        # sockets: from the page, a dedicated worker and a shared worker
        "sockets.html": f"""<html><body>{WORDS}<script>{ws}
            new Worker('/worker.js'); try {{ new SharedWorker('/shared-worker.js'); }} catch (e) {{}}
            </script></body></html>""",
        # UDP: WebRTC (STUN, TURN over UDP and TCP) and WebTransport (QUIC)
        "udp.html": f"""<html><body>{WORDS}<script>
            try {{
              const pc = new RTCPeerConnection({{iceServers: [{{urls: 'stun:{victim}'}},
                {{urls: ['turn:{victim}?transport=udp', 'turn:{victim}?transport=tcp'],
                  username: 'u', credential: 'p'}}]}});
              pc.createDataChannel('d');
              pc.createOffer().then((o) => pc.setLocalDescription(o));
            }} catch (e) {{}}
            try {{ new WebTransport('https://{victim}/wt').ready.catch(() => 0); }} catch (e) {{}}
            </script></body></html>""",
        # an article whose heading says whether the page's scripts could open WebRTC sockets, then try
        "webrtc-probe.html": f"""<html><head><title>An article</title></head><body><article><h1 id="h">-</h1>
            {WORDS}{WORDS}</article><script>
            document.getElementById('h').textContent = 'webrtc constructor is ' + typeof RTCPeerConnection;
            for (let i = 0; i < 10; i++) {{ try {{
              const pc = new RTCPeerConnection({{iceServers: [{{urls: 'stun:{victim}'}}]}});
              pc.createDataChannel('d'); pc.createOffer().then((o) => pc.setLocalDescription(o));
            }} catch (e) {{}} }}</script></body></html>""",
        # the page leaves for the victim after it loaded
        "meta-refresh.html": f"""<html><head><meta http-equiv="refresh" content="0;url=http://{victim}/meta-refresh">
            </head><body>{WORDS}</body></html>""",
        "script-navigation.html": f"""<html><body>{WORDS}<script>
            setTimeout(() => {{ location.href = '/to-victim/script-navigation'; }}, 50);</script></body></html>""",
        "form.html": f"""<html><body>{WORDS}<form method="post" action="http://{victim}/form"></form>
            <script>setTimeout(() => document.forms[0].submit(), 50);</script></body></html>""",
    }


def worker_scripts(v: int) -> dict[str, str]:
    return {
        "worker.js": f"try {{ new WebSocket('ws://127.0.0.1:{v}/ws-worker'); }} catch (e) {{}}"
        f"fetch('http://127.0.0.1:{v}/worker-fetch').catch(() => 0);",
        "shared-worker.js": f"try {{ new WebSocket('ws://127.0.0.1:{v}/ws-shared-worker'); }} catch (e) {{}}",
    }


class Attacker:
    """The attacker's site on 127.0.0.2 (any free port)."""

    def __init__(self, victim: Victim, host: str = "127.0.0.2"):
        pages = attacker_pages(victim.port)
        scripts = worker_scripts(victim.port)
        victim_origin = f"http://127.0.0.1:{victim.port}"
        self.pages = [name for name in pages]

        class Handler(site_server.Handler):  # its quiet log and _send; every path answered here
            def do_GET(self):
                path = self.path.split("?")[0].lstrip("/")
                if path == "main-302.html":
                    return self._send(302, b"", headers=[("Location", f"{victim_origin}/main-302")])
                if path.startswith("to-victim/"):
                    return self._send(302, b"", headers=[("Location", f"{victim_origin}/{path[len('to-victim/') :]}")])
                if path in scripts:
                    return self._send(200, scripts[path].encode(), "text/javascript")
                if pages.get(path):
                    return self._send(200, pages[path].encode())
                return self._send(404, b"not here")

            do_POST = do_GET

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://{host}:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def urls(self, *names: str) -> list[str]:
        return [f"{self.url}/{name}" for name in (names or self.pages)]

    def __enter__(self) -> "Attacker":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
