"""The Python-side fetch (robots.txt, sitemaps) goes where the guard says and nowhere else: not to ftp:
a redirect names, not through a proxy from the environment."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from boxcrawl.egress.fetch import FetchError, HTTPStatus, fetch
from boxcrawl.egress.guard import NetworkGuard


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/to-ftp":
            self.send_response(301)
            self.send_header("Location", "ftp://127.0.0.1:1/secret")
            self.end_headers()
            return
        body = b"User-agent: *\nDisallow: /private\n" if self.path == "/robots.txt" else b""
        self.send_response(200 if body else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_fetch_follows_no_redirect_to_ftp_and_ignores_proxy_variables(server, monkeypatch):
    guard = NetworkGuard(("127.0.0.1",))
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9/")  # a proxy would resolve and redirect unguarded
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9/")
    assert fetch(f"{server}/robots.txt", guard, "boxcrawl").startswith(b"User-agent: *")
    with pytest.raises(HTTPStatus, match="HTTP 404"):
        fetch(f"{server}/none", guard, "boxcrawl")
    with pytest.raises(FetchError) as refused:
        fetch(f"{server}/to-ftp", guard, "boxcrawl")
    assert "unknown url type: ftp" in str(refused.value)  # never connected: no ftp handler at all
    with pytest.raises(FetchError, match="refused"):
        fetch(f"{server}/robots.txt", NetworkGuard(()), "boxcrawl")  # loopback without --allow-hosts
