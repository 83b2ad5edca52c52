"""No page can make the crawler reach this machine or its network.

An attacker site on 127.0.0.2 (declared public through the test-only BOXCRAWL_TEST_PUBLIC_ADDRESSES)
tries every way we know to reach a victim on 127.0.0.1 that records each TCP connection and UDP
datagram: redirects of the document and of sub-resources, names Chromium maps to loopback,
speculation rules, sockets from pages and workers, WebRTC, WebTransport, navigations after load.
The victim must see nothing, from every command that starts a browser; a control run that allows
the victim proves the same pages do reach it when nothing stops them.
"""

import asyncio
import json

import pytest
from conftest import run_boxcrawl, run_rendering
from egress_helpers import Attacker, Victim

import boxcrawl
from boxcrawl.bench.floor import floor_page
from boxcrawl.browser.pool import BrowserPool
from boxcrawl.config import BrowserConfig
from boxcrawl.egress.guard import TEST_PUBLIC_ENV

pytestmark = pytest.mark.browser

QUICK = ["--retry-delay", "0.2", "--quiet", "--host-delay", "0"]
LEAVES = ("main-302.html", "meta-refresh.html", "script-navigation.html", "form.html")


@pytest.fixture
def attack(monkeypatch):
    monkeypatch.setenv(TEST_PUBLIC_ENV, "127.0.0.2")
    with Victim() as victim, Attacker(victim) as attacker:
        yield victim, attacker


def _pages(out):
    return {p["url"].rsplit("/", 1)[1]: p for p in boxcrawl.open_dataset(out).pages()}


def _no_victim_text(out):
    for path in out.rglob("*"):
        if path.is_file():
            assert b"AKIAVICTIMSECRET" not in path.read_bytes(), path


def test_no_page_reaches_the_victim_by_default(attack, tmp_path):
    victim, attacker = attack
    run_rendering("render", *attacker.urls(), "--out", tmp_path / "out", *QUICK, out=tmp_path / "out")
    assert victim.hits == []
    pages = _pages(tmp_path / "out")
    for name in LEAVES:  # the document went (at some hop) where it may not: nothing of it is kept
        page = pages[name]
        assert page["outcome"] == "refused", (name, page["outcome"], page["error"])
        assert page["error"].startswith("refused:") and "127.0.0.1" in page["error"]
        assert page["tokens"] == []
    assert pages["subresources.html"]["outcome"] == "ok"
    assert pages["subresources.html"]["blocked_requests"] >= 12  # the redirected and the named probes
    samples = list(boxcrawl.open_dataset(tmp_path / "out").samples())
    assert samples and {s["url"].rsplit("/", 1)[1] for s in samples}.isdisjoint(LEAVES)
    _no_victim_text(tmp_path / "out")

    # a refused page is final: the crawl does not retry it
    log = run_rendering(
        "crawl", attacker.url + "/main-302.html", "--out", tmp_path / "crawl", *QUICK, out=tmp_path / "crawl"
    )
    assert log.returncode == 1  # done, and the one page failed (refused)
    page = _pages(tmp_path / "crawl")["main-302.html"]
    assert page["outcome"] == "refused" and page["attempts"] == 1
    assert victim.hits == []


def test_the_same_pages_reach_the_victim_when_it_is_allowed(attack, tmp_path):
    # the control: every TCP vector above really fires within a page's life; UDP stays off even so
    victim, attacker = attack
    run_boxcrawl("render", *attacker.urls(), "--out", tmp_path / "out", "--allow-hosts", "127.0.0.2,127.0.0.1", *QUICK)
    reached = {hit.split("'")[1] for hit in victim.hits if hit.startswith("tcp")}
    expected = {
        "/main-302",
        "/img-redirect.png",
        "/iframe-redirect",
        "/img-direct.png",
        "/fetch-redirect",
        "/fetch-direct",
        "/ws-page",
        "/ws-worker",
        "/worker-fetch",
        "/meta-refresh",
        "/script-navigation",
        "/form",
    }
    assert expected <= reached, expected - reached
    assert not [hit for hit in victim.hits if hit.startswith("udp")]


def test_an_allow_list_locks_the_browser_to_its_hosts(attack, tmp_path):
    victim, attacker = attack
    run_rendering(
        "render",
        *attacker.urls(),
        "--out",
        tmp_path / "out",
        "--allow-hosts",
        "127.0.0.2",
        *QUICK,
        out=tmp_path / "out",
    )
    assert victim.hits == []
    pages = _pages(tmp_path / "out")
    assert all(pages[name]["outcome"] == "refused" for name in LEAVES)
    assert "not in --allow-hosts" in pages["main-302.html"]["error"]


@pytest.mark.parametrize("distiller", ["chrome", "python"])
def test_distill_reaches_nothing(attack, tmp_path, distiller):
    # Chrome's distiller loads the page a second time, outside the page's own context
    victim, attacker = attack
    out = tmp_path / "out"
    urls = attacker.urls("webrtc-probe.html", "subresources.html", "sockets.html", "udp.html", "meta-refresh.html")
    run_boxcrawl(
        "distill",
        "--out",
        out,
        *urls,
        "--distiller",
        distiller,
        "--settle",
        "0.5",
        "--distill-timeout",
        "8",
        "--distill-settle",
        "0.5",
        check=False,
    )
    assert victim.hits == []
    # the live page and the distiller's own second load of it both ran without WebRTC
    assert "webrtc constructor is undefined" in json.loads((out / "0.feature").read_text())["features"]["innerText"]
    distilled = json.loads((out / "0.dfeature").read_text())
    assert distilled["distiller"] == ("chrome-dom-distiller" if distiller == "chrome" else "readability-lxml")
    assert "webrtc constructor is undefined" in distilled["features"]["innerText"]
    _no_victim_text(out)


def test_a_crafted_mhtml_reaches_nothing(attack, tmp_path):
    victim, attacker = attack
    out = tmp_path / "out"
    run_boxcrawl(
        "distill",
        "--out",
        out,
        attacker.url + "/subresources.html",
        "--save-mhtml",
        "--skip-distillation",
        "--settle",
        "0.2",
    )
    assert victim.hits == []
    v = victim.port
    (out / "0.mhtml").write_bytes(
        (
            "From: <Saved by Blink>\r\nSnapshot-Content-Location: http://127.0.0.2/x\r\nSubject: x\r\n"
            'MIME-Version: 1.0\r\nContent-Type: multipart/related; type="text/html"; boundary="B"\r\n\r\n'
            "--B\r\nContent-Type: text/html\r\nContent-Location: http://127.0.0.2/x\r\n\r\n"
            f'<html><head><meta http-equiv=refresh content="0;url=http://127.0.0.1:{v}/mhtml-refresh"></head>'
            f'<body><p>archived words</p><img src="http://127.0.0.1:{v}/mhtml-img.png">'
            f'<iframe src="file:///etc/hostname"></iframe></body></html>\r\n--B--\r\n'
        ).encode()
    )
    run_boxcrawl("distill", "--out", out, "--load-mhtml", "--skip-distillation", "--settle", "0.5", check=False)
    assert victim.hits == []
    # (Chromium keeps an archive offline: none of these fires even when the victim is allowed.
    # This guards that, and that an archive still loads through the proxy.)
    assert "archived words" in json.loads((out / "0.mfeature").read_text())["features"]["innerText"]


def test_the_bench_floor_goes_through_the_same_door(attack):
    victim, attacker = attack

    async def floor():
        cfg = BrowserConfig(tabs=1, page_timeout=30)
        async with BrowserPool(cfg) as pool:
            return [
                await pool.run_page(url, lambda ctx, door, timings, url=url: floor_page(ctx, url, cfg, timings))
                for url in attacker.urls("subresources.html", "sockets.html", "udp.html")
            ]

    pages = asyncio.run(floor())
    assert [p.outcome.value for p in pages] == ["ok"] * 3
    assert victim.hits == []
