"""`boxcrawl bench --distributors`: the same sharded render (`render --shard-urls`) of the same local doc
pages by one local process, two local processes and Ray with two CPUs (one CPU a task, then the default
`--ray-cpus-per-task`), one after the other in one run.

Each run is timed whole, as a user waits for it: from the start of the distributor (for Ray, attaching to
a running cluster) to its end, a worker process and a Chromium per Ray task included. Ray's cluster is
started before, and its start timed apart: a render on a cluster finds it running.
"""

from __future__ import annotations

import contextlib
import importlib.util
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil

from ..config import BrowserConfig, CrawlConfig
from ..crawl import CrawlStats
from ..distribute.local import run_local
from ..egress.guard import NetworkGuard
from ..lists.shards import InputShard, UrlSource, cut, usable_rows
from .run import NO_POLITENESS, BenchError, pick_urls, run_floor, serve_sites

SHARD_URLS = 25  # four shards at the default 100 pages: two for each of two workers
RAY_CPUS = 2  # two tasks at once (one CPU each): two Chromiums, as the two local processes

# a cluster of its own, held by a child process until its stdin closes; prints its address
RAY_HOLDER = """
import logging, sys, ray
info = ray.init(num_cpus={cpus}, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
print(info.address_info["gcs_address"], flush=True)
sys.stdin.read()
ray.shutdown()
"""


def bench_distributors(pages: int, tabs: int, chromium: str | None, report: Callable[[str], None]) -> dict[str, Any]:
    browser = BrowserConfig(chromium=chromium, tabs=tabs, allow_hosts=("127.0.0.1",))
    with serve_sites() as bases, tempfile.TemporaryDirectory(prefix="boxcrawl-bench-") as tmp:
        urls = pick_urls(bases, pages)
        listed = Path(tmp) / "urls.txt"
        listed.write_text("".join(u + "\n" for u in urls))
        report(f"{len(urls)} pages in shards of {SHARD_URLS}; {tabs} tabs a Chromium")
        run_floor(urls, browser)  # warm-up: every page read from disk once, so no run pays it alone

        def shards() -> Iterator[InputShard]:
            source = UrlSource.open(listed, "text", "url", ())
            return cut(usable_rows(source, NetworkGuard(browser.allow_hosts), lambda problem: None), SHARD_URLS)

        def timed(name: str, run: Callable[[CrawlConfig, CrawlStats], CrawlStats]) -> dict[str, Any]:
            out = str(Path(tmp) / name.replace(" ", "-").replace(",", ""))
            cfg = CrawlConfig(out=out, follow_links=False, browser=browser, politeness=NO_POLITENESS)
            stats = CrawlStats(shards_total=math.ceil(len(urls) / SHARD_URLS))
            started = time.perf_counter()
            run(cfg, stats)
            seconds = time.perf_counter() - started
            result = {
                "name": name,
                "pages": stats.pages,
                "ok": stats.pages - stats.failed,
                "shards": stats.shards_done,
                "seconds": seconds,
                "pages_per_min": 60 * stats.pages / seconds if seconds else 0.0,
            }
            report(f"{name}: {result['pages_per_min']:.1f} pages/min")
            return result

        def noop(stats: CrawlStats) -> None:
            pass

        runs = [
            timed(
                f"local, {n} process{'es' if n > 1 else ''}",
                lambda cfg, st, n=n: run_local(cfg, shards(), (), n, st, noop),
            )
            for n in (1, 2)
        ]
        with ray_cluster(RAY_CPUS) as (address, ray_start):
            from ..distribute.ray import run_ray

            report(f"Ray cluster of {RAY_CPUS} CPUs started in {ray_start:.1f} s")
            # one CPU a task, as the two processes; then the default, one CPU a tab (one task at a time here)
            for per_task in (1.0, float(tabs)):
                runs.append(
                    timed(
                        f"ray, {RAY_CPUS} CPUs, {per_task:g} a task",
                        lambda cfg, st, c=per_task: run_ray(
                            cfg, shards(), (), st, noop, address=address, cpus_per_task=c
                        ),
                    )
                )
        return {
            "date": time.strftime("%Y-%m-%d"),
            "cores": psutil.cpu_count(),
            "pages": len(urls),
            "tabs": tabs,
            "shard_urls": SHARD_URLS,
            "ray_start_seconds": ray_start,
            "runs": runs,
        }


@contextlib.contextmanager
def ray_cluster(cpus: int) -> Iterator[tuple[str, float]]:
    """A local Ray cluster of `cpus` CPUs for the time of the block: its address and how long it took to start."""
    # not imported here: Ray reads RAY_AUTH_MODE when it is first imported, which is after it is set below
    if importlib.util.find_spec("ray") is None:
        raise BenchError("bench --distributors needs Ray: pip install 'boxcrawl[ray]'")
    started = time.perf_counter()
    holder = subprocess.Popen(
        [sys.executable, "-c", RAY_HOLDER.format(cpus=cpus)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert holder.stdin is not None and holder.stdout is not None
    try:
        address = holder.stdout.readline().strip()
        if not address:
            raise BenchError("the benchmark's Ray cluster did not start")
        # Ray sends its token only to a cluster it found itself: this one is ours, and wants it
        auth = os.environ.get("RAY_AUTH_MODE")
        os.environ["RAY_AUTH_MODE"] = "token"
        try:
            yield address, time.perf_counter() - started
        finally:
            if auth is None:
                os.environ.pop("RAY_AUTH_MODE", None)
            else:
                os.environ["RAY_AUTH_MODE"] = auth
    finally:
        holder.stdin.close()
        try:
            holder.wait(timeout=60)
        except subprocess.TimeoutExpired:
            holder.kill()
            holder.wait()
