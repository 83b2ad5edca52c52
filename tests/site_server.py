"""A local web server for tests: static pages from tests/site plus routes that misbehave on purpose.

Binds 127.0.0.1 on a free port; nothing leaves the machine.
"""

from __future__ import annotations

import html
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

SITE = Path(__file__).parent / "site"
PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


class Handler(SimpleHTTPRequestHandler):
    seen_paths: list[str] = []  # every path requested, for tests that must prove a request never came
    hits: dict[str, list[float]] = {}  # path -> monotonic times of its requests
    requests: list[tuple[str, str, dict[str, str]]] = []  # (Host header, path, headers with lower-case names)

    def log_message(self, *args):  # keep test output clean
        pass

    def _send(self, status: int, body: bytes, ctype: str = "text/html; charset=utf-8", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?")[0]
        Handler.seen_paths.append(path)
        Handler.hits.setdefault(path, []).append(time.monotonic())
        Handler.requests.append((self.headers.get("Host", ""), path, {k.lower(): v for k, v in self.headers.items()}))
        if path == "/to":  # a redirect to wherever ?url= says
            self.send_response(302)
            self.send_header("Location", unquote(self.path.split("?url=", 1)[1]))
            self.send_header("Content-Length", "0")
            return self.end_headers()
        if path.startswith("/echo"):  # what the browser sent: headers and cookies, as page text
            lines = "".join(f"<p>{html.escape(k.lower())} = {html.escape(v)}</p>" for k, v in self.headers.items())
            return self._send(200, f"<html><body><p>{'echo of the request ' * 10}</p>{lines}</body></html>".encode())
        if path == "/noai":
            return self._send(
                200,
                b"<html><body><p>" + b"text the site does not want in training sets " * 30 + b"</p></body></html>",
                headers=[("X-Robots-Tag", "noai, noimageai")],
            )
        if path.startswith("/busy/"):  # first request: 429 with Retry-After: 1; then the page
            if len(Handler.hits[path]) == 1:
                return self._send(429, b"<h1>slow down</h1>", headers=[("Retry-After", "1")])
            return self._send(
                200, b"<html><body><p>" + b"busy page served on the second try " * 30 + b"</p></body></html>"
            )
        if path.startswith("/status/"):
            code = int(path.rsplit("/", 1)[1])
            return self._send(code, f"<h1>status {code}</h1>".encode())
        if path == "/redirect-loop":
            return self._send(302, b"", headers=[("Location", "/redirect-loop")])
        if path == "/redirect-to-about":
            return self._send(301, b"", headers=[("Location", "/about.html")])
        if path == "/doc.pdf":
            return self._send(
                200, b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "application/pdf"
            )
        if path == "/image.png":
            return self._send(200, PNG_1PX, "image/png")
        if path == "/download.bin":
            return self._send(
                200,
                bytes(range(256)) * 64,
                "application/octet-stream",
                [("Content-Disposition", "attachment; filename=x.bin")],
            )
        if path == "/never-loads":
            # The document arrives, but one image never does: the load event never fires.
            return self._send(
                200,
                b"<html><body><p>"
                + b"words that render while the image hangs " * 30
                + b'</p><img src="/hang.png"></body></html>',
            )
        if path == "/hang.png" or path == "/hang":
            time.sleep(60)
            return None
        if path.startswith("/slow/"):
            time.sleep(float(path.rsplit("/", 1)[1]))
            return self._send(
                200, b"<html><body><p>" + b"slow page text arrives late but fine " * 30 + b"</p></body></html>"
            )
        if path.startswith("/lazy-image/"):  # an image whose size only its file knows, a little late
            time.sleep(0.2)
            svg = (
                b'<svg xmlns="http://www.w3.org/2000/svg" width="480" height="260">'
                b'<rect width="480" height="260" fill="#8ab"/></svg>'
            )
            return self._send(200, svg, "image/svg+xml")
        if path == "/long":  # a page well over 100,000 CSS px tall at 512 px wide
            words = (
                "river stone market window garden letter engine harbor signal paper winter silver "
                "orange forest library candle museum bridge travel number answer mirror"
            ).split()
            paras = []
            for i in range(720):
                text = " ".join(words[(i * 7 + k * 3) % len(words)] for k in range(60))
                paras.append(f"{'<h2>Part %d</h2>' % (i // 10) if i % 10 == 0 else ''}<p>{i}: {text}.</p>")
            return self._send(
                200,
                (
                    '<html><head><meta charset="utf-8"><style>body{font:16px/1.5 "DejaVu Sans",'
                    "sans-serif;margin:8px}</style></head><body>" + "".join(paras) + "</body></html>"
                ).encode(),
            )
        if path == "/deep":  # text only after 105,000 px of nothing: every crop must come from there
            text = " ".join(("winter", "lantern", "compass", "meadow", "falcon", "copper")[k % 6] for k in range(90))
            return self._send(
                200,
                (
                    '<html><head><meta charset="utf-8"><style>body{font:16px/1.5 "DejaVu Sans",'
                    'sans-serif;margin:8px}</style></head><body><div style="height:105000px"></div>'
                    + f"<p>{text}.</p>" * 6
                    + "</body></html>"
                ).encode(),
            )
        if path == "/huge":
            rows = "".join(f"<div><span>cell {i}</span></div>" for i in range(60000))
            return self._send(200, f"<html><body><p>{'many elements here ' * 40}</p>{rows}</body></html>".encode())
        return super().do_GET()


class SiteServer:
    def __init__(self, root: Path = SITE, host: str = "127.0.0.1"):
        self.httpd = ThreadingHTTPServer((host, 0), partial(Handler, directory=str(root)))
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://{host}:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "SiteServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
