"""kill -9 at any moment, then the same command again: no page lost, no sample written twice."""

import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from conftest import fast_flags, run_boxcrawl
from site_server import SiteServer

import boxcrawl

pytestmark = pytest.mark.browser

N_PAGES = 30
WORDS = (
    "layout tokens glyphs boxes crawl resume shard commit frontier lease page text render "
    "browser sample image dataset visible line word"
).split()


def make_site(tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    for i in range(N_PAGES):
        links = "".join(f'<a href="p{j}.html">page {j}</a> ' for j in (i + 1, i + 2, i * 3 % N_PAGES) if j < N_PAGES)
        body = " ".join(WORDS[(i * 7 + k) % len(WORDS)] for k in range(400))
        (root / f"p{i}.html").write_text(
            f"<!doctype html><html><body style='font:16px/1.4 sans-serif;margin:10px'>"
            f"<nav>{links}</nav><p>{body}</p></body></html>"
        )
    return root


def start_crawl(url, out):
    args = [
        sys.executable,
        "-m",
        "boxcrawl",
        "crawl",
        url,
        "--out",
        str(out),
        "--shard-pages",
        "2",
        "--tabs",
        "2",
        *fast_flags(),
    ]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def committed_pages(out):
    return sum(1 for _ in (out / "pages").glob("*.parquet")) if (out / "pages").exists() else 0


def crawl_until_shards(seed, out, shards):
    """Start a crawl and return it, still running, once ``shards`` shards are committed."""
    proc = start_crawl(seed, out)
    deadline = time.time() + 120
    while committed_pages(out) < shards and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "the crawl ended before it could be stopped"
    return proc


def test_kill_9_twice_then_resume_loses_and_duplicates_nothing(tmp_path):
    out = tmp_path / "out"
    with SiteServer(make_site(tmp_path)) as server:
        seed = f"{server.url}/p0.html"
        for wait_for_shards in (2, 5):
            proc = crawl_until_shards(seed, out, wait_for_shards)
            os.killpg(proc.pid, signal.SIGKILL)  # the crawler and its Chromium, mid-work
            proc.wait()
        killed_at = committed_pages(out)
        assert killed_at < N_PAGES // 2, "the kills happened mid-crawl"
        run_boxcrawl("crawl", seed, "--out", out, "--shard-pages", "2", *fast_flags())

    ds = boxcrawl.open_dataset(out)
    urls = Counter(p["url"] for p in ds.pages())
    assert set(urls) == {f"{server.url}/p{i}.html" for i in range(N_PAGES)}, "no page lost"
    assert max(urls.values()) == 1, f"pages recorded twice: {[u for u, n in urls.items() if n > 1]}"
    assert all(p["outcome"] == "ok" for p in ds.pages())
    keys = Counter(s["key"] for s in ds.samples())
    assert keys and max(keys.values()) == 1, "no sample written twice"
    assert sum(keys.values()) == sum(p["n_samples"] for p in ds.pages())
    leftovers = list((out / ".staging").glob("*/**/*")) if (out / ".staging").exists() else []
    assert not [p for p in leftovers if p.is_file()], "staged files were rolled forward or back"


def test_ctrl_c_stops_cleanly_and_the_rerun_finishes(tmp_path):
    out = tmp_path / "out"
    with SiteServer(make_site(tmp_path)) as server:
        seed = f"{server.url}/p0.html"
        proc = crawl_until_shards(seed, out, 1)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=90)
        # 130: interrupted, so a script can tell it from a finished crawl
        assert proc.returncode == 130 and b"Traceback" not in stderr, stderr
        assert b"interrupted: run the same command again to resume" in stdout
        stopped_at = {p["url"] for p in boxcrawl.open_dataset(out).pages()}
        assert 0 < len(stopped_at) < N_PAGES, "pages in flight were finished and committed, not all"
        rerun = run_boxcrawl("crawl", seed, "--out", out, "--shard-pages", "2", *fast_flags())
        assert "resume" not in rerun.stdout
    urls = Counter(p["url"] for p in boxcrawl.open_dataset(out).pages())
    assert len(urls) == N_PAGES and max(urls.values()) == 1
