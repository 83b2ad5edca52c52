"""--proxy end to end: a crawl's pages and its robots.txt go through a real upstream proxy, which is asked
for the address the network guard approved (never a name); what the guard refuses never reaches it;
its failures are page records, and its credentials are never recorded."""

import json
import socket

import pytest
from conftest import run_boxcrawl, run_rendering
from site_server import Handler, SiteServer
from upstream_proxy import UpstreamProxy

import boxcrawl
from boxcrawl.egress.guard import NetworkGuard

pytestmark = pytest.mark.browser

PW = "hunter2-Zq7"
QUICK = ["--retry-delay", "0.2", "--quiet", "--host-delay", "0"]


@pytest.fixture
def server(tmp_path):
    if NetworkGuard(("localhost",)).resolve("localhost").compressed != "127.0.0.1":
        pytest.skip("localhost does not resolve to 127.0.0.1 first here")
    root = tmp_path / "site"
    root.mkdir()
    (root / "robots.txt").write_text("User-agent: *\nAllow: /\n")
    with SiteServer(root) as server:
        # the page by name; an image on 127.0.0.2, loopback but not in --allow-hosts
        (root / "page.html").write_text(
            "<!doctype html><body><p>" + "words that came through the proxy " * 40 + "</p>"
            f'<img src="http://127.0.0.2:{server.port}/probe-refused.png"></body>'
        )
        (root / "other.html").write_text("<!doctype html><body><p>" + "another page " * 60 + "</p></body>")
        yield server


def _pages(out):
    return {p["url"].rsplit("/", 1)[1]: p for p in boxcrawl.open_dataset(out).pages()}


@pytest.mark.parametrize("kind", ["http", "socks5"])
def test_a_render_goes_through_the_upstream_by_ip_and_keeps_no_credentials(kind, server, tmp_path):
    out = tmp_path / "out"
    with UpstreamProxy(kind, "alice", PW) as proxy:
        # one form each way: `--proxy URL` and `--proxy=URL` are both recorded without the password
        given = ["--proxy", proxy.url()] if kind == "http" else [f"--proxy={proxy.url()}"]
        url = f"http://localhost:{server.port}/page.html"
        Handler.seen_paths.clear()
        run_rendering("render", url, "--out", out, "--allow-hosts", "localhost,127.0.0.1", *given, *QUICK, out=out)
        targets, first_lines = list(proxy.targets), list(proxy.first_lines)
    page = _pages(out)["page.html"]
    assert page["outcome"] == "ok" and page["n_samples"] > 0, page["error"]
    assert page["blocked_requests"] >= 1  # the 127.0.0.2 image: refused before any traffic
    assert "/probe-refused.png" not in Handler.seen_paths
    # every connection, the page's and robots.txt's, asked for the approved IP literal
    assert targets and set(targets) == {f"CONNECT 127.0.0.1:{server.port}"}, targets
    assert "GET /page.html HTTP/1.1" in first_lines
    assert "GET /robots.txt HTTP/1.1" in first_lines  # the Python fetch: Chromium never asks for it

    config = json.loads((out / "config.json").read_text())
    shown = f"{kind}://127.0.0.1:{proxy.port}"
    assert config["browser"]["proxy"] == shown
    assert (["--proxy", shown] if kind == "http" else [f"--proxy={shown}"])[-1] in config["command"]
    assert shown in (out / "README.md").read_text()  # the card shows the command, without credentials
    for path in out.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert PW.encode() not in data and b"alice" not in data, path


def test_upstream_failures_are_page_records_and_the_run_completes(server, tmp_path):
    urls = [f"http://127.0.0.1:{server.port}/page.html", f"http://127.0.0.1:{server.port}/other.html"]
    flags = ["--allow-hosts", "127.0.0.1", *QUICK]
    with UpstreamProxy("socks5", "alice", PW) as proxy:
        out = tmp_path / "wrong"
        log = run_rendering("render", *urls, "--out", out, "--proxy", proxy.url(password="Wr0ngPw"), *flags, out=out)
        refused = proxy.auth_refused
    assert log.returncode == 1 and "Traceback" not in log.stderr
    pages = _pages(out)
    assert set(pages) == {"page.html", "other.html"}
    for page in pages.values():
        assert page["outcome"] == "network_error" and "net::ERR_PROXY_AUTH_REQUESTED" in page["error"], page["error"]
        assert page["attempts"] == 1  # the proxy refuses the same credentials again: not retried
    assert refused >= 2
    assert "Wr0ngPw" not in (out / "config.json").read_text()

    out = tmp_path / "unreachable"
    with socket.socket() as nothing:  # bound, not listening: a connection there is refused
        nothing.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{nothing.getsockname()[1]}"
        log = run_rendering("render", urls[0], "--out", out, "--proxy", dead, "--max-attempts", "1", *flags, out=out)
    page = _pages(out)["page.html"]
    assert log.returncode == 1 and page["outcome"] == "network_error"
    assert "net::ERR_PROXY_CONNECTION_FAILED" in page["error"], page["error"]


def test_distill_goes_through_the_upstream_too(server, tmp_path):
    with UpstreamProxy("socks5") as proxy:
        run_boxcrawl(
            "distill",
            "--out",
            tmp_path / "out",
            f"http://localhost:{server.port}/other.html",
            "--allow-hosts",
            "localhost,127.0.0.1",
            "--proxy",
            proxy.url(),
            "--skip-distillation",
            "--settle",
            "0",
            "--window",
            "800x1000",
        )
        targets, first_lines = list(proxy.targets), list(proxy.first_lines)
    assert targets and set(targets) == {f"CONNECT 127.0.0.1:{server.port}"}, targets
    assert "GET /other.html HTTP/1.1" in first_lines and "GET /robots.txt HTTP/1.1" in first_lines


def test_requests_given_extra_headers_still_leave_through_the_guard(server, tmp_path):
    """--header requests are fetched by Playwright itself (so a redirect cannot carry the header to another
    host): they too must leave through the context's egress door, and so through the upstream."""
    out = tmp_path / "out"
    with UpstreamProxy("socks5") as proxy:
        url = f"http://localhost:{server.port}/other.html"
        Handler.requests.clear()
        run_rendering(
            "render", url, "--out", out, "--allow-hosts", "localhost,127.0.0.1", "--proxy", proxy.url(),
            "--header", "X-Probe: through-the-door", *QUICK, out=out,
        )  # fmt: skip
        first_lines = list(proxy.first_lines)
        sent = [h.get("x-probe") for _, path, h in Handler.requests if path == "/other.html"]
    assert _pages(out)["other.html"]["outcome"] == "ok"
    assert sent == ["through-the-door"]
    assert "GET /other.html HTTP/1.1" in first_lines, first_lines
