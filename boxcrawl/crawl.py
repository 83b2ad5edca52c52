"""The crawl loop: lease -> robots + host slot -> render -> rows -> shard -> links back to the frontier.

One process, N tab workers on one asyncio loop sharing one browser. Rerunning
the same command on the same output folder resumes where the last run stopped.
With a Redis frontier, any number of such processes (workers) on any number of
machines share one queue; each writes its own shards into DIR and beats in Redis
(`fleet/liveness.py`), so a dead worker's pages go to the others within seconds.
A process with nothing left to render commits what it holds, and the crawl ends
only when every page is committed: never while another worker's pages are out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from .browser.pool import BrowserPool
from .config import REDACTED, BrowserConfig, CrawlConfig
from .egress.guard import NetworkGuard, Refused
from .extract.plan import TokenBoxPlan
from .extract.tokenizer import load_tokenizer
from .files import atomic_write_json, exclusive_lock, json_bytes
from .fleet.liveness import Heartbeat
from .fleet.workers import default_worker_id, is_dead, worker_lock
from .frontier.base import Frontier, Lease
from .frontier.open import describe, is_redis, open_frontier
from .frontier.redis import RedisFrontier
from .frontier.urls import BadURL, Scope, normalize
from .lang import LangFilter
from .locations import is_url, shown
from .optout.policy import PageCheck
from .politeness.gate import HostGate, retry_after_seconds
from .politeness.robots import RobotsPolicy, RobotsUnavailable
from .records import NOT_FAILED, Outcome, RenderedPage
from .urllist import UrlLine
from .write.live import LIVE_EVENTS, LIVE_EVERY, LIVE_FILE, write_live
from .write.rows import PageRows, build_rows
from .write.shards import DatasetWriter
from .write.store import Store

log = logging.getLogger(__name__)


class OutputLocked(RuntimeError):
    pass


class PageWriter(Protocol):
    """What the tab loop needs of a writer: `DatasetWriter` (shards as pages finish) or
    `NamedShardWriter` (one named shard per input shard)."""

    @property
    def pending_pages(self) -> int: ...

    def holds(self, url: str) -> bool: ...

    def held_urls(self) -> list[str]: ...

    async def add(self, rows: PageRows) -> None: ...

    async def commit(self) -> None: ...


@dataclass
class CrawlStats:
    """Counts for the progress bar and the closing summary (this run only)."""

    started: float = field(default_factory=time.monotonic)
    pages: int = 0
    failed: int = 0
    skipped: int = 0  # pages --lang left out (not failures)
    retried: int = 0
    samples: int = 0
    tokens: int = 0
    visible: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    interrupted: bool = False  # stopped by SIGINT/SIGTERM before the crawl was finished
    time_limit_reached: bool = False  # stopped by --time-limit
    write_seconds: float = 0.0  # spent committing shards
    waiting_on: tuple[str, ...] = ()  # hosts whose politeness delay holds tabs back right now
    fleet: dict[str, int] | None = None  # with a shared frontier: the whole crawl's counts at the end
    expected: int | None = None  # pages this run has to render, when known at its start (the "of N")
    finished_at: deque[float] = field(default_factory=lambda: deque(maxlen=LIVE_EVENTS))  # wall-clock page ends
    limit_reached: int | None = None  # --max-pages, when it was reached before this run began
    shards_total: int | None = None  # render --shard-urls: input shards of the list
    shards_done: int = 0  # ... with a marker, this run
    shards_skipped: int = 0  # ... with a marker from an earlier run
    workers_lost: int = 0  # ... worker processes that died (their shard has no marker)
    shards_failed: int = 0  # ... shards whose every try failed (--distributor ray): no marker either

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def pages_per_min(self) -> float:
        return 60 * self.pages / self.elapsed if self.elapsed > 0 else 0.0


def locked_output(out: Path):
    """One crawl per output folder at a time (the frontier and shards are not shared)."""
    out.mkdir(parents=True, exist_ok=True)
    return exclusive_lock(out / ".lock", OutputLocked(f"{out} is in use by another boxcrawl process"))


class Crawler:
    def __init__(
        self,
        cfg: CrawlConfig,
        seeds: list[str],
        on_progress=None,
        scope_seeds: list[str] | None = None,
        pool_factory: Callable[[BrowserConfig, NetworkGuard], BrowserPool] = BrowserPool,
        history: list[dict] | None = None,
    ):
        self.cfg = cfg
        self.history = history or []  # earlier runs' settings on this folder (write/rerun.py)
        self.pool_factory = pool_factory  # the benchmark measures variants of the pool
        self.out = Path(cfg.out)
        # object storage (with a shared frontier only): no lock files there; a dead worker is one the
        # frontier reaped, whose uncommitted staging only then is deleted
        self.remote = Store(cfg.out) if is_url(cfg.out) else None
        self._reaped: set[str] = set()
        self.seeds = seeds
        self.scope = Scope(cfg.scope, scope_seeds if scope_seeds is not None else seeds)
        self.follow = cfg.follow_rules  # depth and include/exclude patterns
        self.shared = is_redis(cfg.frontier)
        self.guard = NetworkGuard(cfg.browser.allow_hosts)
        self.tokenizer = load_tokenizer(cfg.tokenizer)
        self.stats = CrawlStats()
        self.optout = cfg.opt_out_config  # how every page of this crawl is judged
        self.lang = LangFilter(cfg.lang) if cfg.lang else None  # loads the detector once, for every tab
        self.on_progress = on_progress or (lambda stats: None)
        if self.shared:
            self.owner = cfg.worker_id or default_worker_id()
        else:
            self.owner = f"{os.uname().nodename}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self._stopping = asyncio.Event()
        self._in_flight = 0
        self._held: set[str] = set()  # URLs leased and being rendered by this process
        self._tasks: set[asyncio.Task] = set()

    async def run(self) -> CrawlStats:
        lock: contextlib.AbstractContextManager[None] = contextlib.nullcontext()  # object storage: none
        if self.remote is None:
            lock = worker_lock(self.out, self.owner) if self.shared else locked_output(self.out)
        with lock:
            frontier = open_frontier(self.cfg.frontier, self.out, self.cfg.lease_seconds)
            heart: Heartbeat | None = None
            try:
                self._write_config()
                writer = DatasetWriter(
                    self.out if self.remote is None else self.cfg.out,
                    self.cfg.write,
                    frontier,
                    prefix=self.owner if self.shared else "part",
                    owner=self.owner,
                    is_dead=self._is_dead if self.shared else None,
                )
                if isinstance(frontier, RedisFrontier):
                    heart = Heartbeat(
                        frontier, self.owner, lambda: self._beat_info(writer), self._on_reaped_threadsafe(writer)
                    )
                    await asyncio.to_thread(heart.join)
                    heart.start()
                if self.seeds:
                    frontier.add(self.seeds, depth=0)
                if not self.shared:
                    self._expect(frontier.counts())
                self.prepare(frontier if isinstance(frontier, RedisFrontier) else None)
                ticker = asyncio.create_task(self._tick(writer))
                try:
                    async with self.pool_factory(self.cfg.browser, self.guard) as pool:
                        await self.drain(pool, frontier, writer)
                    await asyncio.gather(*self._tasks)  # dead workers' staging still being cleaned
                    if not self.shared:
                        self._write_live(writer, running=False)
                finally:
                    ticker.cancel()
                    if self.robots is not None:
                        self.robots.close()
                if heart is not None:
                    heart.stop()  # before leaving the roster: a late beat would re-enter it
                frontier.release(self.owner)
                self.stats.write_seconds = writer.seconds
                if self.shared:
                    self.stats.fleet = frontier.counts()
            finally:
                if heart is not None:
                    heart.stop()
                frontier.close()
        return self.stats

    def prepare(self, shared: RedisFrontier | None = None) -> None:
        """What every page of the run shares, on the running loop: host gate, robots.txt, signals, the
        time limit. `shared` is the frontier every worker's politeness state lives in, if any."""
        self.gate = HostGate(self.cfg.politeness, self.cfg.browser.page_timeout + 30, shared=shared)
        # robots.txt is read for its usage lines too
        self.robots = (
            RobotsPolicy(self.guard, self.optout, shared=shared, upstream=self.cfg.browser.proxy)
            if self.optout.reads_site_files
            else None
        )
        self._install_signals()
        if self.cfg.time_limit:
            asyncio.get_running_loop().call_later(self.cfg.time_limit, self.stop, True)

    async def drain(self, pool: BrowserPool, frontier: Frontier, writer: PageWriter) -> None:
        """Render what `frontier` holds with the tabs of `pool` into `writer`, until it is empty or the
        run stops, and commit. `render --shard-urls` calls this once per input shard, on one pool."""
        extender = asyncio.create_task(self._extend_leases(frontier, writer))
        try:
            await asyncio.gather(*(self._tab(pool, frontier, writer) for _ in range(self.cfg.browser.tabs)))
            await writer.commit()
        finally:
            extender.cancel()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def _expect(self, counts: dict[str, int]) -> None:
        """How many pages this run has ahead, when that is known: the queue of a `render`, or what is
        left of --max-pages (links found may add to a crawl's queue, never past the limit)."""
        left = counts["queued"] + counts["leased"]
        if self.cfg.max_pages:
            if counts["done"] >= self.cfg.max_pages:
                self.stats.limit_reached = self.cfg.max_pages
            self.stats.expected = max(0, self.cfg.max_pages - counts["done"])
            if not self.cfg.follow_links:
                self.stats.expected = min(self.stats.expected, left)
        elif not self.cfg.follow_links:
            self.stats.expected = left

    def _write_config(self) -> None:
        """DIR/config.json (per worker with a shared frontier), written whole or not at all."""
        name = f"config-{self.owner}.json" if self.shared else "config.json"
        doc = config_doc(self.cfg, self.seeds)
        if self.history:
            doc["history"] = self.history
        if self.remote is not None:
            self.remote.write_bytes(name, json_bytes(doc, 2) + b"\n")
            return
        atomic_write_json(self.out / name, doc, sort_keys=False)

    def _is_dead(self, worker: str) -> bool:
        """Whether `worker` is gone: its lock is free (a folder), or the frontier reaped it (a URL)."""
        return worker in self._reaped if self.remote is not None else is_dead(self.out, worker)

    async def _tick(self, writer: DatasetWriter) -> None:
        """The progress line changes between pages too: which hosts' delays the tabs are waiting out.
        And `status DIR` learns what a running crawl is doing (live.py), every LIVE_EVERY seconds."""
        beats = 0
        while True:
            await asyncio.sleep(1.0)
            waiting = tuple(sorted(self.gate.waiting))
            if waiting != self.stats.waiting_on:
                self.stats.waiting_on = waiting
                self.on_progress(self.stats)
            beats += 1
            if not self.shared and beats % LIVE_EVERY == 0:
                self._write_live(writer, running=True)

    def _write_live(self, writer: DatasetWriter, running: bool) -> None:
        if self.remote is not None:
            return  # a URL is written with a shared frontier only, whose `status` asks Redis
        try:
            write_live(self.out, self.stats, self._in_flight, writer.pending_pages, running)
        except OSError as exc:  # status is a convenience: a full disk must not stop the crawl here
            log.warning("could not write %s: %s", LIVE_FILE, exc)

    def _beat_info(self, writer: DatasetWriter) -> dict:
        """What this process tells the others with each beat (and `status` shows): read-only."""
        return {
            "host": os.uname().nodename,
            "pid": os.getpid(),
            "rendering": self._in_flight,
            "uncommitted": writer.pending_pages,
            "pages": self.stats.pages,
        }

    def _on_reaped_threadsafe(self, writer: DatasetWriter):
        """Called by the beat thread when dead workers' URLs were queued again: finish what they
        left staged (roll forward a shard Redis recorded, drop the others) on the event loop."""
        loop = asyncio.get_running_loop()

        def on_reaped(dead: dict[str, int]) -> None:
            self._reaped.update(dead)
            loop.call_soon_threadsafe(lambda: self._background(asyncio.to_thread(writer.recover, set(dead))))

        return on_reaped

    def _background(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _extend_leases(self, frontier: Frontier, writer: PageWriter) -> None:
        """Keep the leases of pages still rendering or waiting for their shard alive."""
        while True:
            await asyncio.sleep(max(self.cfg.lease_seconds / 3, 0.05))
            held = [*self._held, *writer.held_urls()]
            if held:
                try:
                    frontier.extend(self.owner, held)
                except Exception as exc:  # noqa: BLE001 - a missed beat only risks a lease; log it
                    log.warning("could not extend leases: %s", exc)

    def stop(self, time_limit: bool = False) -> None:
        """Finish the pages in flight, commit them, return the rest to the queue. A signal is an interruption
        (exit code 130); the --time-limit is a stop the user asked for (the run ends as done)."""
        if time_limit:
            self.stats.time_limit_reached = True
        else:
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

    async def _tab(self, pool: BrowserPool, frontier: Frontier, writer: PageWriter) -> None:
        while not self._stopping.is_set():
            leases = frontier.lease(self.owner, 1, self.cfg.max_pages)
            if not leases:
                if self._in_flight == 0:
                    # Nothing to render: commit what this process holds, so its pages count as
                    # done (--max-pages is reached by committed pages) and no other worker waits on them.
                    await writer.commit()
                    if not frontier.has_work(self.cfg.max_pages, owner=self.owner):
                        return
                await self._sleep(0.2)  # retries waiting out their delay, links still coming, or
                continue  # other workers' pages: they commit, or die and come back
            if leases[0].url in self._held or writer.holds(leases[0].url):
                # Leased again after this process was taken for dead (Redis away, a long stall):
                # the copy it already has is committed under this lease; a second one would be a duplicate.
                continue
            self._in_flight += 1
            self._held.add(leases[0].url)
            try:
                await self._page(pool, frontier, writer, leases[0])
            finally:
                self._held.discard(leases[0].url)
                self._in_flight -= 1

    async def _unless_stopped(self, coro):
        """``await coro``, or None as soon as the crawl stops (a slow robots.txt holds no one up)."""
        task = asyncio.ensure_future(coro)
        stop = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
        if not task.done():
            task.cancel()
            return None
        return task.result()

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    async def _fetch(self, pool: BrowserPool, lease: Lease, plan: TokenBoxPlan) -> RenderedPage | None:
        """robots.txt, then a slot on the host, then the browser. None: stopping before it started
        (the lease goes back to the queue when the crawl stops)."""
        url = lease.url
        check = PageCheck(self.optout)
        if self.robots is not None:
            try:
                site = await self._unless_stopped(self.robots.site(url))
                if site is None:
                    return None
            except RobotsUnavailable as exc:
                return RenderedPage.unreached(url, Outcome.NETWORK, str(exc), retryable=True)
            verdict = site.verdict  # robots.txt and its lines: the page is not even requested
            if not verdict.allowed:
                reason = str(verdict.refused_by)
                return RenderedPage.unreached(
                    url, Outcome.REFUSED, reason, verdict=verdict.text, signals=verdict.signals
                )
            self.gate.set_crawl_delay(url, site.crawl_delay)
            check = site.check
        if not await self.gate.acquire(url, self._stopping):
            return None
        try:
            rendered = await pool.render(url, plan, check, self.lang)
        finally:
            self.gate.release(url)
        if rendered.status in (429, 503):  # the host asks us to slow down: every worker pauses it
            wait = retry_after_seconds(rendered.retry_after)
            self.gate.pause(url, wait if wait is not None else self.cfg.politeness.backoff * 2**lease.attempts)
        return rendered

    async def _page(self, pool: BrowserPool, frontier: Frontier, writer: PageWriter, lease: Lease) -> None:
        plan = TokenBoxPlan(self.tokenizer, self.cfg.select, self.cfg.browser.scale)
        rendered = await self._fetch(pool, lease, plan)
        if rendered is None:
            return
        if rendered.retryable and frontier.retry(
            lease,
            rendered.error or rendered.outcome.value,
            self.cfg.retry_delay,
            self.cfg.max_attempts,
            owner=self.owner,
        ):
            self.stats.retried += 1
            return
        ok = rendered.outcome in (Outcome.OK, Outcome.NO_TEXT)
        rows = await asyncio.to_thread(
            build_rows,
            lease.url,
            lease.depth,
            lease.attempts,
            rendered,
            plan.spans_ if ok else None,
            plan.crops if ok else [],
            tokenizer=self.tokenizer.name,
            scale=self.cfg.browser.scale,
            viewport=(self.cfg.browser.viewport_width, self.cfg.browser.viewport_height),
            image_format=self.cfg.write.image_format,
            browser_version=pool.version,
            opt_out=self.optout.describe(),
        )
        # A page --lang skips still leads on: a site's German pages are often reached through its English ones.
        links = rendered.measurement.links if ok and rendered.measurement is not None else rendered.links
        if links and self.cfg.follow_links and self.follow.from_depth(lease.depth):
            frontier.add(await asyncio.to_thread(self._in_scope, links), lease.depth + 1)
        await writer.add(rows)
        self._count(rows.page)

    def _in_scope(self, links: list[str]) -> list[str]:
        keep = []
        for link in links:
            try:
                url = normalize(link)
            except BadURL:
                continue
            if url in self.scope and self.follow.allows(url) and self.guard.allows(url):
                keep.append(url)
        return keep

    def _count(self, page: dict) -> None:
        s = self.stats
        s.pages += 1
        s.finished_at.append(time.time())
        s.outcomes[page["outcome"]] = s.outcomes.get(page["outcome"], 0) + 1
        if page["outcome"] not in NOT_FAILED:
            s.failed += 1
        elif page["outcome"] == Outcome.SKIPPED.value:
            s.skipped += 1
        s.samples += page["n_samples"]
        s.tokens += page["n_tokens"]
        s.visible += page["n_visible"]
        self.on_progress(s)


def config_doc(cfg: CrawlConfig, seeds: list[str]) -> dict:
    """What config.json (and the dataset card) says of a run, without its `history`. Header values and
    cookies are secrets as often as not (Authorization, a session): only their names are kept; the proxy
    without its credentials."""
    doc = {"seeds": seeds, **cfg.to_dict(), "frontier": describe(cfg.frontier), "out": shown(cfg.out)}
    doc["browser"]["headers"] = [[name, REDACTED] for name, _ in cfg.browser.headers]
    doc["browser"]["proxy"] = cfg.browser.proxy.shown if cfg.browser.proxy else None
    doc["browser"]["cookies"] = [f"{c['name']} ({c['domain']}{c['path']})" for c in cfg.browser.cookies]
    return doc


def usable_seeds(lines: list[UrlLine], guard: NetworkGuard) -> tuple[list[str], list[str]]:
    """The normalised URLs the guard lets through, in order, without repeats; and one line per URL refused,
    naming where it was given (`FILE:LINE`)."""
    seeds, refused = [], []
    for line in lines:
        try:
            seed = normalize(line.url)
            guard.check(seed)
        except (BadURL, Refused) as exc:
            refused.append(
                f"{line.where()}: {exc}" if isinstance(exc, BadURL) else f"{line.where()}: {line.url[:200]}: {exc}"
            )
            continue
        seeds.append(seed)
    return list(dict.fromkeys(seeds)), refused
