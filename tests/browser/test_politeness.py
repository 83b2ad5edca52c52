"""robots.txt (on by default), X-Robots-Tag noai, and 429 + Retry-After, on a real crawl."""

import threading
import time
from http.server import ThreadingHTTPServer

import pytest
from conftest import fast_flags, run_boxcrawl, run_rendering
from site_server import Handler, SiteServer

import boxcrawl

pytestmark = pytest.mark.browser


def make_site(root):
    root.mkdir()
    (root / "private").mkdir()
    (root / "robots.txt").write_text("User-agent: *\nDisallow: /private/\n")
    text = "polite crawlers read the rules first " * 30
    (root / "index.html").write_text(
        f"<html><body><p>{text}</p><a href='private/x.html'>x</a> <a href='/noai'>n</a> "
        f"<a href='/busy/{root.parent.name}'>b</a></body></html>"
    )
    (root / "private" / "x.html").write_text(f"<html><body><p>{text}</p></body></html>")
    return root


def test_robots_noai_and_retry_after(tmp_path):
    with SiteServer(make_site(tmp_path / "site")) as site:
        out = tmp_path / "out"
        run_rendering("crawl", f"{site.url}/index.html", "--out", out, *fast_flags(), out=out)
        pages = {p["url"].removeprefix(site.url): p for p in boxcrawl.open_dataset(out).pages()}
        assert set(pages) == {"/index.html", "/private/x.html", "/noai", f"/busy/{tmp_path.name}"}

        private = pages["/private/x.html"]
        assert private["outcome"] == "refused" and private["error"] == "robots.txt: disallows it for boxcrawl"
        assert "/private/x.html" not in Handler.seen_paths, "a disallowed page was never requested"

        noai = pages["/noai"]
        assert noai["outcome"] == "refused" and "noai" in noai["error"]
        assert noai["n_tokens"] == 0 and noai["n_samples"] == 0 and not noai["text"]

        busy = pages[f"/busy/{tmp_path.name}"]
        assert busy["outcome"] == "ok" and busy["attempts"] == 2
        first, second = Handler.hits[f"/busy/{tmp_path.name}"][:2]
        assert second - first >= 0.95, "Retry-After: 1 held the host back longer than --retry-delay 0.2"

        ignoring = tmp_path / "ignoring"
        run_rendering(
            "crawl", f"{site.url}/index.html", "--out", ignoring, "--ignore-robots", *fast_flags(), out=ignoring
        )
        again = {p["url"].removeprefix(site.url): p for p in boxcrawl.open_dataset(ignoring).pages()}
        assert again["/private/x.html"]["outcome"] == "ok"


class _Drip(Handler):
    """robots.txt one byte every 2 s, for ever; every other path is a normal page."""

    def do_GET(self):
        if self.path != "/robots.txt":
            return self._send(
                200, b"<html><body><p>" + b"a page behind a slow robots.txt " * 30 + b"</p></body></html>"
            )
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", "100000")
        self.end_headers()
        try:
            for _ in range(100000):
                self.wfile.write(b"#")
                self.wfile.flush()
                time.sleep(2)
        except OSError:
            pass


def test_a_slow_robots_txt_delays_its_host_not_the_crawl(tmp_path):
    drip = ThreadingHTTPServer(("127.0.0.1", 0), _Drip)
    drip.daemon_threads = True
    threading.Thread(target=drip.serve_forever, daemon=True).start()
    slow = f"http://127.0.0.1:{drip.server_address[1]}/page.html"
    try:
        with SiteServer(make_site(tmp_path / "site")) as site:
            # the time limit holds although a robots.txt never finishes
            started = time.monotonic()
            run_boxcrawl(
                "crawl",
                slow,
                "--out",
                tmp_path / "limited",
                "--time-limit",
                "5",
                "--page-timeout",
                "5",
                *fast_flags(),
                timeout=120,
            )
            assert time.monotonic() - started < 30

            # on the defaults, the other host is crawled meanwhile, and the slow one fails after the
            # fetch's deadline, as a retryable failure that the last attempt records
            run_rendering(
                "crawl",
                slow,
                f"{site.url}/index.html",
                "--out",
                tmp_path / "out",
                "--max-attempts",
                "1",
                "--scope",
                "any",
                "--max-pages",
                "2",
                *fast_flags(),
                timeout=120,
                out=tmp_path / "out",
            )
            pages = {p["url"]: p for p in boxcrawl.open_dataset(tmp_path / "out").pages()}
            assert pages[f"{site.url}/index.html"]["outcome"] == "ok"
            assert pages[slow]["outcome"] == "network_error"
            assert "robots.txt took longer than 10s" in pages[slow]["error"]
    finally:
        drip.shutdown()
        drip.server_close()
