"""Exit codes a script can act on (0 done, 1 done with failed pages, 2 usage, 130 interrupted), and URL lists
that go on past a bad line, on real Chromium and pages served on 127.0.0.1."""

import json
import re

import pytest
from conftest import fast_flags, run_boxcrawl
from site_server import Handler, SiteServer

import boxcrawl

pytestmark = pytest.mark.browser


def test_render_exits_0_when_every_page_is_ok_and_1_when_one_failed(site, tmp_path):
    done = run_boxcrawl("render", f"{site.url}/a.html", "--out", tmp_path / "ok", *fast_flags(), check=False)
    assert done.returncode == 0, done.stderr
    failed = run_boxcrawl(
        "render",
        f"{site.url}/a.html",
        f"{site.url}/status/404",
        "--out",
        tmp_path / "one-failed",
        *fast_flags(),
        check=False,
    )
    assert failed.returncode == 1, failed.stderr
    outcomes = sorted(p["outcome"] for p in boxcrawl.open_dataset(tmp_path / "one-failed").pages())
    assert outcomes == ["http_error", "ok"]


def test_a_bad_line_is_reported_with_its_number_and_the_rest_is_rendered(site, tmp_path):
    urls = tmp_path / "urls.txt"
    urls.write_text(
        f"# two pages and two mistakes\n{site.url}/a.html  # the first page\nhttp//missing-colon/\n"
        f"{site.url}/b.html\n{site.url}/a.html\n"
    )
    proc = run_boxcrawl("render", "--urls-file", urls, "--out", tmp_path / "out", *fast_flags())
    assert f"warning: {urls}:3: not an http(s) URL: 'http//missing-colon/' (skipped)" in proc.stderr
    assert f"warning: {urls}:5: duplicate of line 2" in proc.stderr
    pages = {p["url"]: p["outcome"] for p in boxcrawl.open_dataset(tmp_path / "out").pages()}
    # the comment after the first URL is not part of it (it used to become `a.html%20%20`, a 404)
    assert pages == {f"{site.url}/a.html": "ok", f"{site.url}/b.html": "ok"}


def test_a_rerun_with_other_settings_is_refused_unless_asked_for(site, tmp_path):
    out = tmp_path / "out"
    page = f"{site.url}/a.html"
    run_boxcrawl("render", page, "--out", out, *fast_flags())
    # the same settings resume (tabs and timeouts may change); other ones would mix two datasets in one
    assert run_boxcrawl("render", page, "--out", out, "--tabs", "1", *fast_flags()).returncode == 0
    config = json.loads((out / "config.json").read_text())
    refused = run_boxcrawl("render", page, "--out", out, "--viewport", "640x480", *fast_flags(), check=False)
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "browser.viewport_width: 512 -> 640" in refused.stderr and "--resume-with-changes" in refused.stderr
    crawl = run_boxcrawl("crawl", page, "--out", out, *fast_flags(), check=False)
    assert crawl.returncode == 2 and "follow_links: False -> True" in crawl.stderr
    assert json.loads((out / "config.json").read_text()) == config  # nothing was touched

    run_boxcrawl(
        "render", f"{site.url}/b.html", "--out", out, "--viewport", "640x480", "--resume-with-changes", *fast_flags()
    )
    now = json.loads((out / "config.json").read_text())
    assert now["browser"]["viewport_width"] == 640
    assert [h["browser"]["viewport_width"] for h in now["history"]] == [512]
    assert len(list(boxcrawl.open_dataset(out).pages())) == 2

    run_boxcrawl("render", page, "--out", out, "--force", *fast_flags())
    assert "history" not in json.loads((out / "config.json").read_text())
    assert [p["url"] for p in boxcrawl.open_dataset(out).pages()] == [page]
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("precious")
    refused = run_boxcrawl("render", page, "--out", tmp_path / "mine", "--force", *fast_flags(), check=False)
    assert refused.returncode == 2 and "not a boxcrawl output folder" in refused.stderr
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "precious"


def test_progress_says_of_how_many_in_a_log_and_a_rerun_says_why_it_did_nothing(site, tmp_path):
    out = tmp_path / "out"
    pages = [f"{site.url}/{name}.html" for name in ("a", "b", "c")]
    quiet = [f for f in fast_flags() if f != "--quiet"]  # stderr is a pipe here: the log form
    first = run_boxcrawl("render", *pages, "--out", out, *quiet)
    assert re.search(r"^\d\d:\d\d:\d\d pages [0-3] of 3  failed 0 ", first.stderr, re.M), first.stderr
    again = run_boxcrawl("render", *pages, "--out", out, *quiet)
    assert "nothing to do: every page given is done already" in again.stdout

    # the words of a page: every token in order, no whitespace runs, no empty lines
    for page in boxcrawl.open_dataset(out).pages():
        words = boxcrawl.plain_text(page["text"])
        assert "  " not in words and "\n\n" not in words and words == words.strip()
        at = 0
        for token in page["tokens"]:
            at = words.index(token["text"], at) + len(token["text"])

    crawl = tmp_path / "crawl"
    run_boxcrawl("crawl", f"{site.url}/index.html", "--out", crawl, "--max-pages", "2", *fast_flags())
    rerun = run_boxcrawl("crawl", f"{site.url}/index.html", "--out", crawl, "--max-pages", "2", *fast_flags())
    assert "--max-pages 2 was reached before this run: nothing to do" in rerun.stdout


def test_max_depth_include_and_exclude_decide_which_links_are_followed(tmp_path):
    root = tmp_path / "site"
    (root / "login").mkdir(parents=True)
    (root / "docs").mkdir()
    text = "<p>" + "words for the crawl to read " * 20 + "</p>"
    links = {
        "p0.html": ["p1.html", "login/x.html", "docs/y.html"],
        "p1.html": ["p2.html"],
        "p2.html": ["p3.html"],
        "p3.html": [],
        "login/x.html": [],
        "docs/y.html": [],
    }
    for name, targets in links.items():
        anchors = "".join(f'<a href="/{t}">{t}</a> ' for t in targets)
        (root / name).write_text(f"<html><body>{text}{anchors}</body></html>")

    def crawled(*flags):
        out = tmp_path / f"out{len(list(tmp_path.iterdir()))}"
        run_boxcrawl("crawl", f"{server.url}/p0.html", "--out", out, *flags, *fast_flags())
        return {p["url"].removeprefix(server.url + "/") for p in boxcrawl.open_dataset(out).pages()}

    with SiteServer(root) as server:
        assert crawled("--max-depth", "0") == {"p0.html"}
        assert crawled("--max-depth", "1") == {"p0.html", "p1.html", "login/x.html", "docs/y.html"}
        assert crawled("--exclude", "/login/") == {"p0.html", "p1.html", "p2.html", "p3.html", "docs/y.html"}
        assert crawled("--include", r"/p\d", "--exclude", "p3") == {"p0.html", "p1.html", "p2.html"}
    bad = run_boxcrawl("crawl", "http://127.0.0.1:9/", "--out", tmp_path / "x", "--include", "(", check=False)
    assert bad.returncode == 2 and "not a regular expression" in bad.stderr


def test_after_retry_failed_pages_latest_gives_one_record_per_url(tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    (root / "here.html").write_text("<html><body><p>" + "a page that is there " * 20 + "</p></body></html>")
    with SiteServer(root) as server:
        out = tmp_path / "out"
        urls = [f"{server.url}/here.html", f"{server.url}/later.html"]
        assert run_boxcrawl("render", *urls, "--out", out, *fast_flags(), check=False).returncode == 1
        (root / "later.html").write_text("<html><body><p>" + "a page that came later " * 20 + "</p></body></html>")
        assert "1 failed URL queued again" in run_boxcrawl("retry-failed", out).stdout
        run_boxcrawl("render", *urls, "--out", out, *fast_flags())
    ds = boxcrawl.open_dataset(out)
    assert sorted((p["url"].rsplit("/", 1)[1], p["outcome"]) for p in ds.pages()) == [
        ("here.html", "ok"),
        ("later.html", "http_error"),
        ("later.html", "ok"),
    ]
    assert sorted((p["url"].rsplit("/", 1)[1], p["outcome"]) for p in ds.pages(latest=True)) == [
        ("here.html", "ok"),
        ("later.html", "ok"),
    ]


def test_status_of_a_running_crawl_counts_pages_before_their_shard_commits(tmp_path):
    """Pages count in `status` as they finish, not only when their shard commits (up to a minute later),
    and the rate comes from those page ends: a crawl of slow pages, looked at while it runs."""
    import subprocess
    import sys
    import time

    root = tmp_path / "site"
    root.mkdir()
    slow = [f"/slow/{1 + i / 10:.1f}" for i in range(10)]
    (root / "index.html").write_text(
        "<html><body><p>"
        + "an index of slow pages " * 20
        + "</p>"
        + "".join(f'<a href="{u}">{u}</a> ' for u in slow)
        + "</body></html>"
    )
    out = tmp_path / "out"
    with SiteServer(root) as server:
        crawl = subprocess.Popen(
            [sys.executable, "-m", "boxcrawl", "crawl", f"{server.url}/index.html", "--out", str(out), *fast_flags()],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        seen = None
        deadline = time.monotonic() + 120
        while crawl.poll() is None and time.monotonic() < deadline:
            if (out / "frontier.sqlite").exists():
                status = json.loads(run_boxcrawl("status", out, "--json").stdout)
                if status.get("running") and status["this_run"] >= 3:
                    seen = status
                    break
            time.sleep(0.3)
        assert seen is not None, "the crawl was seen running with pages done"
        assert seen["done"] == 0 and seen["uncommitted"] >= 3  # no shard committed yet, the pages are counted
        assert seen["pages_per_min"] > 0
        text = run_boxcrawl("status", out).stdout
        assert "running (pid" in text and "finished and waiting for their shard's commit" in text
        assert crawl.wait(timeout=120) == 0, crawl.stderr.read()
    final = json.loads(run_boxcrawl("status", out, "--json").stdout)
    assert final["running"] is False and final["done"] == final["ok"] == 11 and final["failed"] == 0
    assert "not running" in run_boxcrawl("status", out).stdout


def test_headers_and_cookies_reach_every_page_and_stay_out_of_the_records(site, tmp_path):
    jar = tmp_path / "cookies.txt"
    jar.write_text(
        "# Netscape HTTP Cookie File\n"
        "127.0.0.1\tFALSE\t/\tFALSE\t0\tsession\tsecret-session-id\n"
        "#HttpOnly_127.0.0.1\tFALSE\t/\tFALSE\t0\ttoken\tsecret-token\n"
    )
    out = tmp_path / "out"
    pages = [f"{site.url}/echo/{i}" for i in range(3)]  # one tab: pages 2 and 3 come after a reset
    run_boxcrawl(
        "render",
        *pages,
        "--out",
        out,
        "--tabs",
        "1",
        "--header",
        "X-Team: secret-header-value",
        "--cookies",
        jar,
        *fast_flags(),
    )
    for page in boxcrawl.open_dataset(out).pages():
        assert "x-team = secret-header-value" in page["text"], page["text"]
        assert "session=secret-session-id" in page["text"] and "token=secret-token" in page["text"]
    # the records of the run (config.json, the card) name the header and the cookies, never their values
    for name in ("config.json", "README.md"):
        text = (out / name).read_text()
        assert "X-Team" in text and "secret" not in text, name
    bad = run_boxcrawl("render", pages[0], "--out", tmp_path / "x", "--header", "no colon", check=False)
    assert bad.returncode == 2 and "expected 'NAME: VALUE'" in bad.stderr


def test_headers_go_only_to_the_host_of_the_page(tmp_path):
    """A credential in --header reaches the page's own origin, never a CDN or frame of another host, nor
    the other host a redirect leads to (localhost and 127.0.0.1 are the same server by two names)."""
    root = tmp_path / "site"
    root.mkdir()
    with SiteServer(root) as server:
        other = f"http://localhost:{server.port}"
        (root / "page.html").write_text(
            "<!doctype html><body><p>" + "words of the page " * 40 + "</p>"
            '<img src="/own.png">'
            f'<img src="{other}/third-party.png"><iframe src="{other}/echo/frame"></iframe></body>'
        )
        Handler.requests.clear()
        run_boxcrawl(
            "render",
            f"{server.url}/page.html",
            f"{server.url}/to?url={other}/echo/redirected",
            "--out",
            tmp_path / "out",
            "--header",
            "Authorization: Bearer secret-token",
            *fast_flags(),
            "--allow-hosts",
            "127.0.0.1,localhost",
        )
        seen = {(host.split(":")[0], path): h.get("authorization") for host, path, h in Handler.requests}
    pages = {p["url"].rsplit("/", 1)[1]: p for p in boxcrawl.open_dataset(tmp_path / "out").pages()}
    assert {p["outcome"] for p in pages.values()} == {"ok"}, pages
    sent = "Bearer secret-token"
    assert seen[("127.0.0.1", "/page.html")] == sent and seen[("127.0.0.1", "/own.png")] == sent
    assert seen[("127.0.0.1", "/to")] == sent
    for path in ("/third-party.png", "/echo/frame", "/echo/redirected"):
        assert ("localhost", path) in seen and seen[("localhost", path)] is None, (path, seen)


def test_seeds_from_a_sitemap_index_gzipped_sitemaps_and_what_is_refused(tmp_path):
    import gzip

    root = tmp_path / "site"
    root.mkdir()
    for name in ("one", "two", "three"):
        (root / f"{name}.html").write_text(f"<html><body><p>{('page ' + name + ' ') * 30}</p></body></html>")
    ns = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
    lol = "".join(f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    with SiteServer(root) as server:

        def urlset(*paths):
            return (
                f"<?xml version='1.0'?><urlset {ns}>"
                + "".join(f"<url><loc>{p}</loc></url>" for p in paths)
                + "</urlset>"
            )

        (root / "a.xml").write_text(urlset(f"{server.url}/one.html", f"{server.url}/two.html", "http://10.0.0.1/x"))
        (root / "b.xml.gz").write_bytes(
            gzip.compress(urlset(f"{server.url}/three.html", f"{server.url}/one.html").encode())
        )
        (root / "bomb.xml").write_text(
            f'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY l0 "lol">{lol}]>'  # a billion laughs
            f"<urlset {ns}><url><loc>&l9;</loc></url></urlset>"
        )
        (root / "index.xml").write_text(
            f"<?xml version='1.0'?><sitemapindex {ns}>"
            + "".join(
                f"<sitemap><loc>{server.url}/{n}</loc></sitemap>" for n in ("a.xml", "b.xml.gz", "bomb.xml", "gone.xml")
            )
            + "</sitemapindex>"
        )
        out = tmp_path / "out"
        proc = run_boxcrawl(
            "crawl", "--sitemap", f"{server.url}/index.xml", "--out", out, "--max-depth", "0", *fast_flags()
        )
    pages = {p["url"].rsplit("/", 1)[1] for p in boxcrawl.open_dataset(out).pages()}
    assert pages == {"one.html", "two.html", "three.html"}
    assert "http://10.0.0.1/x: refused" in proc.stderr  # a sitemap cannot point the crawler inside
    assert f"sitemap {server.url}/bomb.xml: not a sitemap" in proc.stderr
    assert f"sitemap {server.url}/gone.xml: HTTP 404" in proc.stderr
