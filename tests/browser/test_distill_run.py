"""`boxcrawl distill` end to end on pages served on 127.0.0.1: files, failures and retries, resume after
kill -9, MHTML round trip, distiller fallback, mobile emulation, flag rules."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from distill_helpers import cli as run_boxcrawl
from PIL import Image
from site_server import Handler, SiteServer

pytestmark = pytest.mark.browser

PARAGRAPH = (
    "Reader mode needs an article: a title, several long paragraphs of running text, and little "
    "else. This paragraph is one of many that make this page long enough for the distiller. "
)
QUICK = [
    "--allow-hosts",
    "127.0.0.1",
    "--settle",
    "0",
    "--distill-settle",
    "0.5",
    "--load-timeout",
    "20",
    "--window",
    "800x1000",
    "--distilled-window",
    "400x1000",
]


def article(title, n=8):
    paras = "".join(f"<p>{PARAGRAPH * 3} ({i})</p>" for i in range(n))
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title>"
        f"<meta property='og:type' content='article'></head><body><nav><a href='/'>home</a> "
        f"<a href='/a'>a</a></nav><article><h1>{title}</h1>{paras}</article><footer>footer</footer>"
        f"</body></html>"
    )


@pytest.fixture
def site(tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    for i in range(8):
        (root / f"story-{i}.html").write_text(article(f"Story number {i}"), encoding="utf-8")
    (root / "tiny.html").write_text("<html><head><title>tiny</title></head><body><a href=x>x</a></body></html>")
    (root / "ua.html").write_text(
        article("ua").replace("</body>", "<script>document.title = navigator.userAgent;</script></body>")
    )
    (root / "empty.html").write_text("<html><head><title>empty</title></head><body><div></div></body></html>")
    (root / "surrogate.html").write_text(  # a script can put lone UTF-16 surrogates in title and text
        article("lone surrogate").replace(
            "</body>",
            "<script>document.title = 'title \\uD800 lone'; document.querySelector('h1').textContent = "
            "'heading \\uDFFF lone';</script></body>",
        )
    )
    (root / "cjk.html").write_text(
        article("中文標題 😀", 4).replace(PARAGRAPH, "這是一個很長的段落。" * 20), encoding="utf-8"
    )
    with SiteServer(root) as server:
        server.root = root
        yield server


def read(path):
    return json.loads(path.read_text())


def test_distill_end_to_end_with_bad_lines_failures_retry_and_mhtml(site, tmp_path):
    out = tmp_path / "out"
    urls = tmp_path / "urls.txt"
    urls.write_text(
        f"# reader-mode sample\n\n{site.url}/story-0.html\n{site.url}/story-0.html\nnot a url\n"
        f"{site.url}/cjk.html\n{site.url}/later.html\n"
    )
    proc = run_boxcrawl("distill", "--out", out, "--urls-file", urls, "--save-mhtml", *QUICK, check=False)
    assert proc.returncode == 1  # one entry failed
    assert "urls.txt:4: duplicate of line 3" in proc.stderr and "urls.txt:5: not an http(s) URL" in proc.stderr
    assert "3 entries: 2 processed, 0 already done, 1 failed" in proc.stdout

    # entry numbers are the URL lines (0-based), as in the original
    info = read(out / "2.info")
    assert info["url"] == f"{site.url}/story-0.html" and info["index"] == 2 and len(info["id"]) == 16
    assert info["distiller"] == "chrome-dom-distiller" and info["distillation"] == "ok"
    assert info["article_bytes"] > 1000 and info["distilled_title"].startswith("Story number 0")
    assert info["screenshot"] == str(out / "2.png") and info["distilled"] == str(out / "2-distilled.png")
    assert Image.open(out / "2.png").size == (800, 1000)
    assert Image.open(out / "2-distilled.png").size == (400, 1000)
    feature = read(out / "2.feature")
    assert feature["features"]["opengraph"] is True and feature["native"]["source"] == "boxcrawl-native-js"
    # an og:article of eight long paragraphs: Chrome's models on our Blink-equivalent counts say yes
    assert feature["native"]["distillable"] is True and feature["native"]["long_page"] is True
    assert len(feature["native"]["derived_features"]) == 22
    assert len(read(out / "2.feature-derived")["features"]) == 96
    assert feature["readerable"]["readerable"] is True and info["readerable"] is True
    assert info["chrome_decision"] == feature["native"]["decision"]
    dfeature = read(out / "2.dfeature")
    assert dfeature["distiller"] == "chrome-dom-distiller"
    assert "Story number 0" in dfeature["features"]["innerText"]
    assert "Failed to find article" not in dfeature["features"]["innerText"]
    assert (out / "2.mhtml").read_bytes().startswith(b"From: <Saved by Blink>")
    cjk = read(out / "5.feature-derived")["features"]
    cjk = dict(zip(cjk[0::2], cjk[1::2]))
    assert cjk["innerTextWordCount"] < 20 < cjk["innerTextLength"] // 100

    # the missing page: a failure record, no .info; the next run retries it and clears the record
    failure = read(out / "6.error")
    assert failure["error"] == "HTTP 404" and failure["url"].endswith("/later.html")
    assert not (out / "6.info").exists()
    assert not list(out.glob(".*.tmp"))
    (site.root / "later.html").write_text(article("Later"), encoding="utf-8")
    again = run_boxcrawl("distill", "--out", out, "--urls-file", urls, "--resume", "--save-mhtml", *QUICK)
    assert "3 entries: 1 processed, 2 already done, 0 failed" in again.stdout
    assert (out / "6.info").exists() and not (out / "6.error").exists()

    # the original pipeline's index and aggregated features, no browser and no URL list needed
    run_boxcrawl("distill", "--out", out, "--write-index")
    assert [e["index"] for e in read(out / "index")] == [2, 5, 6]
    assert [e["index"] for e in read(out / "feature-derived")] == [2, 5, 6]
    check = run_boxcrawl("check-derived", "--features", out / "feature-derived")
    assert "0/3 have mismatching derived features" in check.stdout

    # MHTML reloaded offline: URL features describe the original URL; Chrome's distiller is given the snapshot
    (site.root / "story-0.html").unlink()  # offline: the live page is gone
    before = len(Handler.seen_paths)
    run_boxcrawl("distill", "--out", out, "--load-mhtml", *QUICK)
    assert Handler.seen_paths[before:] == []  # not one request reached the site
    m = read(out / "2.mfeature")
    assert m["features"]["url"] == f"{site.url}/story-0.html"
    assert m["features"]["numElements"] == feature["features"]["numElements"]
    md = read(out / "2.mdfeature")
    assert md["distiller"] == "chrome-dom-distiller" and "Story number 0" in md["features"]["innerText"]
    assert md["article_bytes"] == read(out / "2.dfeature")["article_bytes"] > 1000
    assert (out / "2-mdistilled.png").exists()
    run_boxcrawl("distill", "--out", out, "--write-index")
    check = run_boxcrawl("check-derived", "--features", out / "mfeature-derived", "--from-mhtml")
    assert "0/3 have mismatching derived features" in check.stdout
    compare = run_boxcrawl("check-distilled-mhtml", "--dir", out)
    assert compare.stdout.splitlines()[-1] == "0/3 have different distilled content from mhtml"
    # an MHTML that cannot be reloaded is a recorded failure, not a crash
    (out / "5.mhtml").write_bytes(b"From: <Saved by Blink>\r\n\r\ngarbage without any html")
    (out / "5.mfeature").unlink()
    (out / "5.mdfeature").unlink()
    bad = run_boxcrawl("distill", "--out", out, "--load-mhtml", *QUICK, check=False)
    assert bad.returncode == 1 and "FAIL 5" in bad.stderr and (out / "5.merror").exists()
    assert (out / "5.info").exists()  # the live entry is untouched


def test_distiller_failures_are_explicit_and_fall_back(site, tmp_path):
    out = tmp_path / "out"
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    proc = run_boxcrawl(
        "distill",
        "--out",
        out,
        f"{site.url}/empty.html",
        f"{site.url}/story-1.html",
        f"http://127.0.0.1:{closed_port}/refused.html",
        "--distill-timeout",
        "0.01",
        *QUICK,
        check=False,
    )
    assert proc.returncode == 1 and "ERR_CONNECTION_REFUSED" in read(out / "2.error")["error"]
    tiny, story = read(out / "0.info"), read(out / "1.info")
    # Chrome's distiller gets no time: a timeout, recorded; readability-lxml produces the story's reader view
    assert story["distiller"] == "readability-lxml" and story["distillation"] == "ok"
    assert "timeout" in story["distill_error"] and story["article_bytes"] > 1000
    # the reader view is shown on about:blank; its features name the page it is the article of
    assert read(out / "1.dfeature")["features"]["url"] == f"{site.url}/story-1.html"
    assert read(out / "1.dfeature")["article_bytes"] == story["article_bytes"]
    # the reader view's own style applies (a padded column): the left 30 px of the screenshot are blank
    shot = Image.open(out / "1-distilled.png").convert("L")
    assert shot.crop((0, 0, 30, shot.height)).getextrema() == (255, 255)
    assert shot.crop((30, 0, 400, 300)).getextrema()[0] < 128  # while the column has text
    assert tiny["distiller"] is None and tiny["distillation"] == "failed"
    assert "readability-lxml found no article" in tiny["distill_error"]

    out2 = tmp_path / "out2"
    run_boxcrawl("distill", "--out", out2, f"{site.url}/empty.html", "--distiller", "chrome", *QUICK)
    tiny = read(out2 / "0.info")
    assert tiny["distillation"] == "failed" and tiny["distill_error"] == "chrome distiller: No data found."


def test_lone_surrogates_in_title_and_text_give_files_strict_readers_and_the_label_app_read(site, tmp_path):
    from boxcrawl.label.entries import load_entries

    out = tmp_path / "out"
    run_boxcrawl("distill", "--out", out, f"{site.url}/surrogate.html", "--save-mhtml", *QUICK)
    run_boxcrawl("distill", "--out", out, "--write-index", "--raw-jsonl")
    info = read(out / "0.info")
    assert info["distillation"] == "ok", info
    assert "heading \udfff lone" in read(out / "0.feature")["features"]["innerHTML"], "kept, as the original did"
    for path in out.iterdir():
        if path.is_file() and path.suffix not in (".png", ".mhtml", ".lock"):
            text = path.read_bytes().decode("utf-8")  # strict
            for doc in text.splitlines() if path.suffix == ".jsonl" else [text]:
                json.loads(doc)
    (out / "0.mhtml").read_bytes().decode("utf-8")
    assert [e.url for e in load_entries(out)] == [f"{site.url}/surrogate.html"]


def test_skip_distillation_then_resume_distills(site, tmp_path):
    out = tmp_path / "out"
    run_boxcrawl("distill", "--out", out, f"{site.url}/story-2.html", "--skip-distillation", *QUICK)
    assert read(out / "0.info")["distillation"] == "skipped" and not (out / "0-distilled.png").exists()
    again = run_boxcrawl("distill", "--out", out, f"{site.url}/story-2.html", "--resume", "--skip-distillation", *QUICK)
    assert "1 already done" in again.stdout
    run_boxcrawl("distill", "--out", out, f"{site.url}/story-2.html", "--resume", *QUICK)
    assert read(out / "0.info")["distillation"] == "ok" and (out / "0-distilled.png").exists()


def test_desktop_distillable_only_leaves_consistent_files(site, tmp_path):
    out = tmp_path / "out"
    run_boxcrawl("distill", "--out", out, f"{site.url}/tiny.html", "--desktop-distillable-only", *QUICK)
    info = read(out / "0.info")
    assert info["screenshot"] is None and info["skipped"] == "not distillable"
    assert not (out / "0.png").exists() and not (out / "0.feature").exists()
    run_boxcrawl("distill", "--out", out, "--write-index")
    assert read(out / "index") == []


def test_mobile_emulation_uses_the_device_preset_in_the_originals_window(site, tmp_path):
    (site.root / "responsive.html").write_text(
        article("responsive").replace("<head>", "<head><meta name='viewport' content='width=device-width'>")
    )
    out = tmp_path / "out"
    urls = [f"{site.url}/story-3.html", f"{site.url}/ua.html", f"{site.url}/responsive.html"]
    run_boxcrawl("distill", "--out", out, *urls, "--emulate-mobile", *QUICK)
    ua = read(out / "1.feature")["features"]["title"]
    assert "Nexus 5" in ua and "Mobile" in ua and "Chrome/156.0.0.0" not in ua and "Chrome/1" in ua
    # the original's 400x800 window, at the device's scale, for the page and its distilled view
    assert Image.open(out / "0.png").size == (400 * 3, 800 * 3)
    assert Image.open(out / "0-distilled.png").size == (400 * 3, 800 * 3)
    assert read(out / "0.info")["mobile"] == "Nexus 5"
    assert read(out / "0.feature")["native"]["source"] == "boxcrawl-native-js"
    assert read(out / "0.info")["distillation"] == "ok"
    # Blink's rule: a viewport meta with width=device-width makes a page mobile-friendly, under emulation only
    assert read(out / "2.feature")["native"]["is_mobile_friendly"] is True
    assert read(out / "0.feature")["native"]["is_mobile_friendly"] is False
    desktop = tmp_path / "desktop"
    run_boxcrawl("distill", "--out", desktop, urls[2], "--skip-distillation", *QUICK)
    assert read(desktop / "0.feature")["native"]["is_mobile_friendly"] is False
    # --desktop-distillable-only drops it, and says why
    dropped = tmp_path / "dropped"
    run_boxcrawl("distill", "--out", dropped, urls[2], "--emulate-mobile", "--desktop-distillable-only", *QUICK)
    assert read(dropped / "0.info")["skipped"] == "mobile-friendly" and not (dropped / "0.png").exists()
    # a User-Agent of the user's, with the agent token
    agent = tmp_path / "agent"
    run_boxcrawl("distill", "--out", agent, urls[1], "--user-agent", "CustomAgent/1.0", "--skip-distillation", *QUICK)
    assert read(agent / "0.feature")["features"]["title"].startswith("CustomAgent/1.0 boxcrawl/")
    # the device's own viewport on request
    own = tmp_path / "own"
    run_boxcrawl("distill", "--out", own, urls[0], "--emulate-mobile", "--mobile-window", "device", *QUICK)
    assert Image.open(own / "0.png").size == (360 * 3, 640 * 3)
    bad = run_boxcrawl(
        "distill", "--out", tmp_path / "o2", "http://x.test/", "--emulate-mobile", "Nokia 3310", check=False
    )
    assert bad.returncode == 2 and "invalid choice" in bad.stderr


def test_check_distilled_mhtml_compares_chrome_with_chrome_and_finds_a_page_that_changed(site, tmp_path):
    """Live pages and their snapshots both go through Chrome's distiller, so the check compares real pairs;
    a page whose article differs on every load (here a random number written by a script) is reported: the
    live distillation loads the page again, the snapshot holds the first load."""
    (site.root / "changing.html").write_text(
        article("changing").replace(
            "</article>",
            "<p id='n'>unset</p></article><script>document.getElementById('n').textContent = "
            "'Edition ' + crypto.getRandomValues(new Uint32Array(2)).join('-');</script>",
        )
    )
    for i in range(8, 11):
        (site.root / f"story-{i}.html").write_text(article(f"Story number {i}"), encoding="utf-8")
    urls = tmp_path / "urls.txt"
    urls.write_text("".join(f"{site.url}/story-{i}.html\n" for i in range(11)) + f"{site.url}/changing.html\n")
    out = tmp_path / "out"
    run_boxcrawl("distill", "--out", out, "--urls-file", urls, "--save-mhtml", *QUICK)
    run_boxcrawl("distill", "--out", out, "--load-mhtml", *QUICK)
    assert all(read(out / f"{i}.mdfeature")["distiller"] == "chrome-dom-distiller" for i in range(12))
    proc = run_boxcrawl("check-distilled-mhtml", "--dir", out, check=False)
    assert proc.returncode == 1
    assert proc.stdout.splitlines()[-1] == "1/12 have different distilled content from mhtml"
    assert "11: different distilled content from character" in proc.stdout
    assert proc.stdout.count("Edition ") == 2  # both texts, from where they part


def test_flag_rules_give_one_line_errors(site, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    cases = [
        (["distill", "--out", out], "give URLs or --urls-file"),
        (["distill", "--out", out, "http://a.test/"], "exists (use --resume to continue or --force"),
        (["distill", "--out", out, "http://a.test/", "--force"], "not a distill output directory"),
        (["distill", "--out", tmp_path / "nope", "http://a.test/", "--resume"], "does not exist"),
        (["distill", "--out", out, "--load-mhtml", "--save-mhtml"], "cannot be combined"),
        (["distill", "--out", tmp_path / "nope", "--write-index"], "no such directory"),
        (["distill", "--out", tmp_path / "o3", "--urls-file", tmp_path / "missing.txt"], "cannot read"),
        (["distill", "--out", tmp_path / "o4", "ftp://x/"], "no URL left to fetch: argument:1: not an http(s) URL"),
    ]
    for args, message in cases:
        proc = run_boxcrawl(*args, check=False)
        assert proc.returncode == 2, args
        assert message in proc.stderr and "Traceback" not in proc.stderr, (args, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) <= 2
    assert (out / "keep.txt").read_text() == "mine"


def test_kill_minus_9_then_resume_finishes_every_entry_once(site, tmp_path):
    out = tmp_path / "out"
    urls = tmp_path / "urls.txt"
    urls.write_text("".join(f"{site.url}/story-{i}.html\n" for i in range(6)))
    args = [
        sys.executable,
        "-m",
        "boxcrawl",
        "distill",
        "--out",
        str(out),
        "--urls-file",
        str(urls),
        "--tabs",
        "1",
        *QUICK,
    ]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 300
    while len(list(out.glob("*.info"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = {p.name for p in out.glob("*.info")}
    assert 2 <= len(done_before) < 6
    again = run_boxcrawl("distill", "--out", out, "--urls-file", urls, "--resume", "--jobs", "2", "--tabs", "1", *QUICK)
    assert not list(out.glob(".*.tmp"))
    infos = sorted(int(p.name.split(".")[0]) for p in out.glob("*.info"))
    assert infos == list(range(6))
    for i in range(6):
        assert (out / f"{i}.png").exists() and (out / f"{i}-distilled.png").exists()
        assert read(out / f"{i}.dfeature-derived")["index"] == i
    assert again.returncode == 0
