"""The crawl loop: lease -> render -> rows -> shard -> links back to the frontier.

One process, N tab workers on one asyncio loop sharing one browser. Rerunning
the same command on the same output folder resumes where the last run stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import signal
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from .browser.network_guard import NetworkGuard, Refused
from .browser.pool import BrowserPool
from .config import CrawlConfig
from .extract.plan import TokenBoxPlan
from .extract.tokenizer import load_tokenizer
from .frontier.base import Lease
from .frontier.sqlite import SqliteFrontier
from .frontier.urls import BadURL, Scope, normalize
from .records import Outcome
from .write.rows import build_rows
from .write.shards import DatasetWriter

FRONTIER_FILE = "frontier.sqlite"


class OutputLocked(RuntimeError):
    pass


@dataclass
class CrawlStats:
    """Counts for the progress bar and the closing summary (this run only)."""

    started: float = field(default_factory=time.monotonic)
    pages: int = 0
    failed: int = 0
    retried: int = 0
    samples: int = 0
    tokens: int = 0
    visible: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    interrupted: bool = False      # stopped by SIGINT/SIGTERM before the crawl was finished
    write_seconds: float = 0.0     # spent committing shards

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def pages_per_min(self) -> float:
        return 60 * self.pages / self.elapsed if self.elapsed > 0 else 0.0


@contextlib.contextmanager
def locked_output(out: Path):
    """One crawl per output folder at a time (the frontier and shards are not shared)."""
    out.mkdir(parents=True, exist_ok=True)
    fd = os.open(out / ".lock", os.O_CREAT | os.O_RDWR, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise OutputLocked(f"{out} is in use by another boxcrawl process") from None
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


class Crawler:
    def __init__(self, cfg: CrawlConfig, seeds: list[str], on_progress=None):
        self.cfg = cfg
        self.out = Path(cfg.out)
        self.seeds = seeds
        self.scope = Scope(cfg.scope, seeds)
        self.guard = NetworkGuard(cfg.browser.allow_hosts)
        self.tokenizer = load_tokenizer(cfg.tokenizer)
        self.stats = CrawlStats()
        self.on_progress = on_progress or (lambda stats: None)
        self.owner = f"{os.uname().nodename}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self._stopping = asyncio.Event()
        self._in_flight = 0

    async def run(self) -> CrawlStats:
        with locked_output(self.out):
            frontier = SqliteFrontier(self.out / FRONTIER_FILE)
            try:
                (self.out / "config.json").write_text(json.dumps(
                    {"seeds": self.seeds, **self.cfg.to_dict()}, indent=2))
                writer = DatasetWriter(self.out, self.cfg.write, frontier)
                frontier.add(self.seeds, depth=0)
                self._install_signals()
                async with BrowserPool(self.cfg.browser, self.guard) as pool:
                    await asyncio.gather(*(self._tab(pool, frontier, writer)
                                           for _ in range(self.cfg.browser.tabs)))
                await writer.commit()
                frontier.release(self.owner)
                self.stats.write_seconds = writer.seconds
            finally:
                frontier.close()
        return self.stats

    def stop(self) -> None:
        """Finish the pages in flight, commit them, return the rest to the queue."""
        self.stats.interrupted = True
        self._stopping.set()

    def _install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self._on_signal)

    def _on_signal(self) -> None:
        if self._stopping.is_set():
            os._exit(130)  # second Ctrl-C: leave now; leases and staged shards recover next run
        self.stop()

    async def _tab(self, pool: BrowserPool, frontier: SqliteFrontier, writer: DatasetWriter) -> None:
        while not self._stopping.is_set():
            leases = frontier.lease(self.owner, 1, self.cfg.max_pages)
            if not leases:
                if self._in_flight == 0 and not frontier.has_work(self.cfg.max_pages):
                    return
                await asyncio.sleep(0.2)  # retries waiting out their delay, or links still coming
                continue
            self._in_flight += 1
            try:
                await self._page(pool, frontier, writer, leases[0])
            finally:
                self._in_flight -= 1

    async def _page(self, pool, frontier, writer, lease: Lease) -> None:
        plan = TokenBoxPlan(self.tokenizer, self.cfg.select, self.cfg.browser.scale)
        rendered = await pool.render(lease.url, plan)
        if rendered.retryable and frontier.retry(lease, rendered.error or rendered.outcome.value,
                                                 self.cfg.retry_delay, self.cfg.max_attempts):
            self.stats.retried += 1
            return
        ok = rendered.outcome in (Outcome.OK, Outcome.NO_TEXT)
        rows = await asyncio.to_thread(
            build_rows, lease.url, lease.depth, lease.attempts, rendered,
            plan.spans_ if ok else None, plan.crops if ok else [],
            tokenizer=self.tokenizer.name, scale=self.cfg.browser.scale,
            viewport=(self.cfg.browser.viewport_width, self.cfg.browser.viewport_height),
            image_format=self.cfg.write.image_format, browser_version=pool.version)
        if ok and self.cfg.follow_links and rendered.measurement is not None:
            frontier.add(await asyncio.to_thread(self._in_scope, rendered.measurement.links), lease.depth + 1)
        await writer.add(rows)
        self._count(rows.page)

    def _in_scope(self, links: list[str]) -> list[str]:
        keep = []
        for link in links:
            try:
                url = normalize(link)
            except BadURL:
                continue
            if url in self.scope and self.guard.allows(url):
                keep.append(url)
        return keep

    def _count(self, page: dict) -> None:
        s = self.stats
        s.pages += 1
        s.outcomes[page["outcome"]] = s.outcomes.get(page["outcome"], 0) + 1
        if page["outcome"] not in (Outcome.OK.value, Outcome.NO_TEXT.value):
            s.failed += 1
        s.samples += page["n_samples"]
        s.tokens += page["n_tokens"]
        s.visible += page["n_visible"]
        self.on_progress(s)


def validate_seeds(urls: list[str], guard: NetworkGuard) -> list[str]:
    """Normalise seeds; raise BadURL with a one-line reason for the first bad one."""
    seeds = []
    for url in urls:
        seed = normalize(url)
        try:
            guard.check(seed)
        except Refused as exc:
            raise BadURL(f"{url}: {exc}") from None
        seeds.append(seed)
    return list(dict.fromkeys(seeds))
