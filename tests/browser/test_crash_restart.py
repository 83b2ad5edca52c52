"""Chromium dies mid-crawl (browser or renderer): the page is retried and the crawl completes."""

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import fast_flags

import boxcrawl
from boxcrawl.browser.pool import BrowserPool
from boxcrawl.config import BrowserConfig
from boxcrawl.records import Outcome, RenderedPage

pytestmark = pytest.mark.browser


def descendants(pid):
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid=,args="], capture_output=True, text=True).stdout
    rows = [line.split(None, 2) for line in out.splitlines() if line.strip()]
    children, args = {}, {}
    for p, pp, *a in rows:
        children.setdefault(int(pp), []).append(int(p))
        args[int(p)] = a[0] if a else ""
    found, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            found.append((c, args[c]))
            todo.append(c)
    return found


def chromium_processes(pid, renderer):
    # the browser process or renderers; not Chromium's crash reporter, which is short-lived here
    return [
        p
        for p, a in descendants(pid)
        if "chromium" in a
        and "crashpad" not in a
        and ("--type=renderer" in a) == renderer
        and (renderer or "--type=" not in a)
    ]


@pytest.mark.parametrize("target", ["browser", "renderer"])
def test_crash_mid_page_is_retried_and_the_crawl_completes(site, tmp_path, target):
    urls = [f"{site.url}/slow/3", f"{site.url}/a.html", f"{site.url}/b.html"]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "boxcrawl",
            "render",
            *urls,
            "--out",
            str(tmp_path),
            "--tabs",
            "1",
            "--max-attempts",
            "3",
            *fast_flags(),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    victims = []
    deadline = time.time() + 60
    while not victims and time.time() < deadline:
        time.sleep(0.2)
        victims = chromium_processes(proc.pid, renderer=(target == "renderer"))
    assert victims, f"no Chromium {target} process found"
    time.sleep(1.0)  # the slow page is loading now
    killed = 0
    for pid in chromium_processes(proc.pid, renderer=(target == "renderer")) or victims:
        try:
            os.kill(pid, signal.SIGKILL)
            killed += 1
        except ProcessLookupError:  # it ended on its own since it was listed: not the one rendering
            pass
    assert killed, f"no Chromium {target} process was left to kill"
    stdout, stderr = proc.communicate(timeout=180)
    assert proc.returncode == 0, stderr
    pages = {p["url"]: p for p in boxcrawl.open_dataset(tmp_path).pages()}
    assert set(pages) == set(urls)
    assert all(p["outcome"] == "ok" for p in pages.values()), [(p["url"], p["error"]) for p in pages.values()]
    assert pages[urls[0]]["attempts"] >= 1, "the page that was loading when Chromium died was retried"


def test_browser_is_recycled_after_its_page_budget_without_a_crash_warning(site, caplog):
    async def title(context, blocked, timings):
        page = await context.new_page()
        await page.goto(f"{site.url}/a.html")
        return RenderedPage(
            url=page.url,
            final_url=page.url,
            status=200,
            content_type="text/html",
            outcome=Outcome.OK,
            error=await page.title(),
        )

    async def go():
        async with BrowserPool(BrowserConfig(allow_hosts=("127.0.0.1",), pages_per_browser=2)) as pool:
            pages = [await pool.run_page(f"{site.url}/a.html", title) for _ in range(5)]
            return pages, pool.launches

    with caplog.at_level(logging.WARNING, logger="boxcrawl.browser.pool"):
        pages, launches = asyncio.run(go())
    assert [p.outcome for p in pages] == [Outcome.OK] * 5, [p.error for p in pages]
    assert launches == 3, "a fresh Chromium every 2 pages"
    assert not [r for r in caplog.records if "disconnected" in r.getMessage()], caplog.text
