"""`boxcrawl bench`: the floor and the full pipeline, in one run, on the same pages.

Serves Debian's python3-doc and postgresql-doc-15 HTML on 127.0.0.1, then renders the same
URL list twice with the same Chromium, flags and tab count: once as the floor (load + one
geometry pass + one viewport screenshot, nothing written) and once through the whole
pipeline (tokens, boxes, visibility, crops, shards). Prints pages/min for each, their ratio,
peak memory of the whole process tree and where the pipeline's time goes. ``--soak N``
then runs the pipeline over N pages and compares memory at page 100 and page N.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from ..browser.pool import BrowserPool
from ..config import BrowserConfig, CrawlConfig, PolitenessConfig, WriteConfig

# The floor knows no politeness, and the sites are local copies: the pipeline runs without it too.
NO_POLITENESS = PolitenessConfig(host_concurrency=1000, host_delay=0.0, robots=False)
from ..crawl import Crawler
from ..records import Outcome
from ..write.reader import open_dataset
from ..write.rows import TIMING_STAGES
from .floor import floor_page

SITES = {
    "python3-doc": Path("/usr/share/doc/python3.11/html"),
    "postgresql-doc-15": Path("/usr/share/doc/postgresql-doc-15/html"),
}


class BenchError(RuntimeError):
    pass


@dataclass
class RunResult:
    name: str
    pages: int
    ok: int
    seconds: float
    peak_mb: float
    stages_ms: dict[str, float] = field(default_factory=dict)

    @property
    def pages_per_min(self) -> float:
        return 60 * self.pages / self.seconds if self.seconds else 0.0


class MemorySampler:
    """Peak and current memory of this process and all its children (Playwright's driver and
    every Chromium process). Uses PSS where the kernel reports it, so pages Chromium's
    processes share are counted once, not once per process."""

    def __init__(self, interval: float = 0.25):
        self.interval = interval
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    @staticmethod
    def now_mb() -> float:
        me = psutil.Process()
        total = 0
        for proc in [me, *me.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                info = proc.memory_full_info()
                total += getattr(info, "pss", info.rss)
        return total / 2**20

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.now_mb())
            self._stop.wait(self.interval)

    def __enter__(self) -> "MemorySampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


@contextlib.contextmanager
def serve_sites():
    """One `python3 -m http.server` per site (separate processes: no GIL shared with us)."""
    missing = [name for name, root in SITES.items() if not root.is_dir()]
    if missing:
        raise BenchError(f"missing {', '.join(missing)}: apt-get install {' '.join(missing)} (make bench does)")
    procs, bases = [], {}
    try:
        for name, root in SITES.items():
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(root), str(port)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            bases[name] = f"http://127.0.0.1:{port}"
        for base in bases.values():
            _wait_for(base)
        yield bases
    finally:
        for p in procs:
            p.terminate()
            p.wait()


def _wait_for(base: str) -> None:
    host, port = base.rsplit(":", 1)
    for _ in range(100):
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", int(port)), timeout=0.2):
            return
        time.sleep(0.05)
    raise BenchError(f"local server {base} did not start")


def pick_urls(bases: dict[str, str], n: int) -> list[str]:
    """n pages, alternating between the sites, evenly spread over each site's sorted pages."""
    per_site = {}
    for name, base in bases.items():
        files = sorted(p.relative_to(SITES[name]).as_posix() for p in SITES[name].rglob("*.html"))
        per_site[name] = [f"{base}/{f}" for f in files]
    urls: list[str] = []
    want = {name: (n + i) // len(bases) for i, name in enumerate(bases)}
    for name, files in per_site.items():
        k = min(want[name], len(files))
        step = len(files) / k if k else 1
        urls += [files[int(i * step)] for i in range(k)]
    return urls


async def _floor(urls: list[str], cfg: BrowserConfig) -> tuple[int, dict[str, float]]:
    queue = list(reversed(urls))
    ok, stages = 0, {"load": 0.0, "measure": 0.0, "capture": 0.0}
    async with BrowserPool(cfg) as pool:
        async def tab():
            nonlocal ok
            while queue:
                url = queue.pop()
                page = await pool.run_page(url, lambda ctx, door, timings: floor_page(
                    ctx, url, cfg, timings))
                ok += page.outcome == Outcome.OK
                for k in stages:
                    stages[k] += page.timings.get(k, 0.0)
        await asyncio.gather(*(tab() for _ in range(cfg.tabs)))
    return ok, stages


def run_floor(urls: list[str], cfg: BrowserConfig) -> RunResult:
    with MemorySampler() as mem:
        started = time.perf_counter()
        ok, stages = asyncio.run(_floor(urls, cfg))
        seconds = time.perf_counter() - started
    return RunResult("floor", len(urls), ok, seconds, mem.peak, stages)


def run_pipeline(urls: list[str], cfg: CrawlConfig, name: str = "pipeline",
                 rss_at: tuple[int, ...] = ()) -> tuple[RunResult, dict[int, float]]:
    rss: dict[int, float] = {}

    def on_progress(stats) -> None:
        if stats.pages in rss_at and stats.pages not in rss:
            rss[stats.pages] = MemorySampler.now_mb()

    with MemorySampler() as mem:
        started = time.perf_counter()
        stats = asyncio.run(Crawler(cfg, urls, on_progress=on_progress).run())
        seconds = time.perf_counter() - started
    stages = dict.fromkeys(TIMING_STAGES, 0.0)
    for page in open_dataset(cfg.out).pages(columns=["timings"]):
        for k, v in (page["timings"] or {}).items():
            stages[k] += v or 0.0
    stages["write"] = 1000 * stats.write_seconds
    ok = stats.pages - stats.failed
    return RunResult(name, stats.pages, ok, seconds, mem.peak, stages), rss


def bench(pages: int, tabs: int, chromium: str | None, report) -> dict:
    browser = BrowserConfig(chromium=chromium, tabs=tabs, allow_hosts=("127.0.0.1",))
    with serve_sites() as bases, tempfile.TemporaryDirectory(prefix="boxcrawl-bench-") as tmp:
        urls = pick_urls(bases, pages)
        report(f"{len(urls)} pages from {', '.join(bases)}; {tabs} tabs; Chromium {chromium or 'system'}")
        # Warm-up: start Chromium once and read every page from disk once, so neither run pays it alone.
        run_floor(urls[: min(len(urls), 4)], browser)
        # floor, pipeline, floor again: the floor is the mean of the two, so a machine that
        # gets busier or quieter during the run does not tilt the ratio
        first = run_floor(urls, browser)
        report(f"floor:    {first.pages_per_min:.1f} pages/min")
        cfg = CrawlConfig(out=str(Path(tmp) / "pipeline"), follow_links=False, browser=browser,
                          write=WriteConfig(shard_seconds=3600), politeness=NO_POLITENESS)
        pipeline, _ = run_pipeline(urls, cfg)
        report(f"pipeline: {pipeline.pages_per_min:.1f} pages/min")
        second = run_floor(urls, browser)
        report(f"floor:    {second.pages_per_min:.1f} pages/min (again)")
        floor = RunResult("floor", len(urls), min(first.ok, second.ok), (first.seconds + second.seconds) / 2,
                          max(first.peak_mb, second.peak_mb),
                          {k: (first.stages_ms[k] + second.stages_ms[k]) / 2 for k in first.stages_ms})
        result = {"date": time.strftime("%Y-%m-%d"), "cores": psutil.cpu_count(), "pages": len(urls), "tabs": tabs,
                  "floor": dataclasses.asdict(floor) | {"pages_per_min": floor.pages_per_min,
                                                        "runs_pages_per_min": [first.pages_per_min,
                                                                               second.pages_per_min]},
                  "pipeline": dataclasses.asdict(pipeline) | {"pages_per_min": pipeline.pages_per_min},
                  "ratio": pipeline.pages_per_min / floor.pages_per_min if floor.pages_per_min else 0.0}
        return result


def soak(pages: int, tabs: int, chromium: str | None, report) -> dict:
    """The pipeline over ``pages`` pages: memory at page 100 and at the last page."""
    browser = BrowserConfig(chromium=chromium, tabs=tabs, allow_hosts=("127.0.0.1",))
    with serve_sites() as bases, tempfile.TemporaryDirectory(prefix="boxcrawl-soak-") as tmp:
        urls = pick_urls(bases, pages)
        report(f"soak: {len(urls)} pages ...")
        cfg = CrawlConfig(out=str(Path(tmp) / "soak"), follow_links=False, browser=browser,
                          politeness=NO_POLITENESS)
        marks = (min(100, len(urls)), len(urls))
        run, rss = run_pipeline(urls, cfg, "soak", rss_at=marks)
        return {"pages": run.pages, "ok": run.ok, "pages_per_min": run.pages_per_min, "peak_mb": run.peak_mb,
                "pages_per_browser": browser.pages_per_browser,
                "rss_mb": {str(k): v for k, v in sorted(rss.items())},
                "growth": rss[marks[1]] / rss[marks[0]] if len(rss) == 2 else None}
