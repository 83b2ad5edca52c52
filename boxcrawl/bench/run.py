"""`boxcrawl bench`: the floor and the full pipeline, in one run, on the same pages.

Serves Debian's python3-doc and postgresql-doc-15 HTML on 127.0.0.1, then renders the same
URL list several times with the same Chromium and tab count: as the strict floor (the browser
alone: load + one geometry pass + one viewport screenshot on a reused page per tab, nothing
written; bench/floor.py), as the floor through the pool, and through the whole pipeline
(tokens, boxes, visibility, crops, ink check, shards), with and without its costliest parts.
Prints pages/min for each, their ratio to the strict floor, peak memory of the whole process
tree and where the pipeline's time goes. ``--soak N`` then runs the pipeline over N pages
and compares memory at page 100 and page N.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from ..browser.pool import BrowserPool
from ..config import BrowserConfig, CrawlConfig, PolitenessConfig, WriteConfig
from ..crawl import Crawler
from ..localsite import ServerDidNotStart, serve_folder
from ..write.reader import open_dataset
from ..write.schema import TIMING_STAGES
from .cpu import CpuMeter
from .floor import pool_floor, strict_floor

# The floor knows no politeness, and the sites are local copies: the pipeline runs without it too.
NO_POLITENESS = PolitenessConfig(host_concurrency=1000, host_delay=0.0, robots=False)

SITES = {
    "python3-doc": Path("/usr/share/doc/python3/html"),  # python3-doc links it to its versioned folder
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
    cpu_ms: dict[str, float] = field(default_factory=dict)  # CPU per page, by kind of process (bench/cpu.py)

    @property
    def pages_per_min(self) -> float:
        return 60 * self.pages / self.seconds if self.seconds else 0.0


class MemorySampler:
    """Peak and current memory of this process and all its children (Playwright's driver and
    every Chromium process). Uses PSS where the kernel reports it, so pages Chromium's
    processes share are counted once, not once per process."""

    def __init__(self, interval: float = 1.0):  # reading smaps of ~20 processes costs CPU the runs need
        self.interval = interval
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="bench-memory", daemon=True)  # bench/cpu.py

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
def serve_sites() -> Iterator[dict[str, str]]:
    """Each site served from its own process; yields site name -> base URL."""
    missing = [name for name, root in SITES.items() if not root.is_dir()]
    if missing:
        raise BenchError(f"missing {', '.join(missing)}: apt-get install {' '.join(missing)} (make bench does)")
    with contextlib.ExitStack() as stack:
        try:
            yield {name: stack.enter_context(serve_folder(root)) for name, root in SITES.items()}
        except ServerDidNotStart as exc:
            raise BenchError(str(exc)) from None


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


def run_floor(urls: list[str], cfg: BrowserConfig, strict: bool = True) -> RunResult:
    """The strict floor (the browser alone), or with ``strict=False`` the floor through the pool."""
    with MemorySampler() as mem, CpuMeter() as cpu:
        started = time.perf_counter()
        ok, stages = asyncio.run(strict_floor(urls, cfg) if strict else pool_floor(urls, cfg))
        seconds = time.perf_counter() - started
    name = "strict floor" if strict else "pool floor"
    return RunResult(name, len(urls), ok, seconds, mem.peak, stages, _per_page(cpu, len(urls)))


def _per_page(cpu: CpuMeter, pages: int) -> dict[str, float]:
    return {kind: 1000 * seconds / max(pages, 1) for kind, seconds in cpu.by_kind.items()}


def run_pipeline(
    urls: list[str], cfg: CrawlConfig, name: str = "pipeline", rss_at: tuple[int, ...] = (), unguarded: bool = False
) -> tuple[RunResult, dict[int, float]]:
    rss: dict[int, float] = {}

    def on_progress(stats) -> None:
        if stats.pages in rss_at and stats.pages not in rss:
            rss[stats.pages] = MemorySampler.now_mb()

    factory = functools.partial(BrowserPool, unguarded=True) if unguarded else BrowserPool
    with MemorySampler() as mem, CpuMeter() as cpu:
        started = time.perf_counter()
        stats = asyncio.run(Crawler(cfg, urls, on_progress=on_progress, pool_factory=factory).run())
        seconds = time.perf_counter() - started
    stages = dict.fromkeys(TIMING_STAGES, 0.0)
    for page in open_dataset(cfg.out).pages(columns=["timings"]):
        for k, v in (page["timings"] or {}).items():
            stages[k] += v or 0.0
    stages["write"] = 1000 * stats.write_seconds
    ok = stats.pages - stats.failed
    return RunResult(name, stats.pages, ok, seconds, mem.peak, stages, _per_page(cpu, stats.pages)), rss


def _mean(a: RunResult, b: RunResult) -> RunResult:
    return RunResult(
        a.name,
        a.pages,
        min(a.ok, b.ok),
        (a.seconds + b.seconds) / 2,
        max(a.peak_mb, b.peak_mb),
        {k: (a.stages_ms[k] + b.stages_ms[k]) / 2 for k in a.stages_ms},
        {k: (a.cpu_ms[k] + b.cpu_ms[k]) / 2 for k in a.cpu_ms},
    )


def bench(pages: int, tabs: int, chromium: str | None, report) -> dict:
    """Every run on the same pages, in one process, one after the other: the strict floor first and
    last (its figure is the mean of the two, so a machine that gets busier or quieter during the
    run does not tilt the ratios), the pool's floor, the pipeline on its defaults, and the
    pipeline without each of its costliest guarantees (visibility, the ink check, the egress
    guard), so the price of each is measured, not guessed."""
    browser = BrowserConfig(chromium=chromium, tabs=tabs, allow_hosts=("127.0.0.1",))
    with serve_sites() as bases, tempfile.TemporaryDirectory(prefix="boxcrawl-bench-") as tmp:
        urls = pick_urls(bases, pages)
        report(f"{len(urls)} pages from {', '.join(bases)}; {tabs} tabs; Chromium {chromium or 'system'}")
        # Warm-up: start Chromium once and read every page from disk once, so no run pays it alone.
        run_floor(urls, browser)
        first = run_floor(urls, browser)
        report(f"strict floor: {first.pages_per_min:.1f} pages/min")
        runs = [run_floor(urls, browser, strict=False)]
        report(f"pool floor:   {runs[0].pages_per_min:.1f} pages/min")
        default = CrawlConfig(
            out="", follow_links=False, browser=browser, write=WriteConfig(shard_seconds=3600), politeness=NO_POLITENESS
        )
        variants = [
            ("pipeline", default, False),
            (
                "  without visibility",
                dataclasses.replace(default, browser=dataclasses.replace(browser, visibility="none")),
                False,
            ),
            (
                "  without the ink check",
                dataclasses.replace(default, select=dataclasses.replace(default.select, ink_check=False)),
                False,
            ),
            ("  without the egress guard", default, True),
        ]
        for i, (name, cfg, unguarded) in enumerate(variants):
            run, _ = run_pipeline(
                urls, dataclasses.replace(cfg, out=str(Path(tmp) / f"run{i}")), name, unguarded=unguarded
            )
            runs.append(run)
            report(f"{name.strip()}: {run.pages_per_min:.1f} pages/min")
        second = run_floor(urls, browser)
        report(f"strict floor: {second.pages_per_min:.1f} pages/min (again)")
        floor = _mean(first, second)

        def as_dict(run):
            return dataclasses.asdict(run) | {
                "pages_per_min": run.pages_per_min,
                "ratio": run.pages_per_min / floor.pages_per_min,
            }

        return {
            "date": time.strftime("%Y-%m-%d"),
            "cores": psutil.cpu_count(),
            "pages": len(urls),
            "tabs": tabs,
            "floor": as_dict(floor) | {"runs_pages_per_min": [first.pages_per_min, second.pages_per_min]},
            "runs": [as_dict(run) for run in runs],
            "pipeline": as_dict(runs[1]),
            "ratio": runs[1].pages_per_min / floor.pages_per_min,
            "cpu_ratio": sum(floor.cpu_ms.values()) / (sum(runs[1].cpu_ms.values()) or 1.0),
        }


def soak(pages: int, tabs: int, chromium: str | None, report) -> dict:
    """The pipeline over ``pages`` pages: memory at page 100 and at the last page."""
    browser = BrowserConfig(chromium=chromium, tabs=tabs, allow_hosts=("127.0.0.1",))
    with serve_sites() as bases, tempfile.TemporaryDirectory(prefix="boxcrawl-soak-") as tmp:
        urls = pick_urls(bases, pages)
        report(f"soak: {len(urls)} pages ...")
        cfg = CrawlConfig(out=str(Path(tmp) / "soak"), follow_links=False, browser=browser, politeness=NO_POLITENESS)
        marks = (min(100, len(urls)), len(urls))
        run, rss = run_pipeline(urls, cfg, "soak", rss_at=marks)
        return {
            "pages": run.pages,
            "ok": run.ok,
            "pages_per_min": run.pages_per_min,
            "peak_mb": run.peak_mb,
            "pages_per_browser": browser.pages_per_browser,
            "rss_mb": {str(k): v for k, v in sorted(rss.items())},
            "growth": rss[marks[1]] / rss[marks[0]] if len(rss) == 2 else None,
        }
