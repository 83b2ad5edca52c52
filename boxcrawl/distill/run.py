"""`boxcrawl distill`: every entry through the browser, files written atomically, resumable.

An entry is done when its `.info` exists (and, unless this run skips distillation, says it was distilled);
with --load-mhtml when its `.mfeature` (with --skip-distillation) or `.mdfeature` exists. Everything else,
failures included, is processed again by the next run. A failure leaves `<index>.error` so it is visible.
"""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..browser.pool import BrowserPool
from ..config import BrowserConfig
from ..egress.guard import NetworkGuard
from ..egress.proxy import Door
from ..files import atomic_write_bytes, atomic_write_json, exclusive_lock
from ..optout.policy import PageCheck
from ..politeness.robots import RobotsPolicy, RobotsUnavailable
from ..records import RenderedPage
from .distiller import DISTILLER_FLAGS
from .features import derived_features
from .native import distillable, mobile_friendly
from .options import DistillOptions
from .page import Distilled, EntryFailed, PageCapture, capture_mhtml, capture_original, distill
from .readerable import readerable
from .scoring import ModelError, load_scorer, native_record_without_model
from .snapshot import Snapshot, SnapshotError, SnapshotServer
from .store import Entry, OutDir, read_json, utf8_len


@dataclass
class Summary:
    total: int = 0
    done_before: int = 0
    processed: int = 0
    failed: int = 0
    busy: int = 0
    skipped_not_distillable: int = 0
    distillers: dict = field(default_factory=dict)
    seconds: float = 0.0
    failures: list = field(default_factory=list)

    def count(self, distiller: str | None) -> None:
        key = distiller or "failed"
        self.distillers[key] = self.distillers.get(key, 0) + 1

    def line(self) -> str:
        per = self.seconds / max(1, self.processed + self.failed)
        dist = ", ".join(f"{k} {v}" for k, v in sorted(self.distillers.items())) or "none"
        return (
            f"{self.total} entries: {self.processed} processed, {self.done_before} already done, "
            f"{self.failed} failed, {self.busy} busy elsewhere; distilled by: {dist}; "
            f"{self.seconds:.1f}s, {per:.2f}s per entry"
        )


def is_done(out: OutDir, index: int, opts: DistillOptions) -> bool:
    if opts.load_mhtml:
        if not out.path(index, ".mhtml").exists():
            return True  # nothing to reload
        return out.path(index, ".mfeature" if opts.skip_distillation else ".mdfeature").exists()
    info = out.path(index, ".info")
    if not info.exists():
        return False
    if opts.skip_distillation:
        return True
    try:
        return read_json(info).get("distillation") != "skipped"
    except (OSError, ValueError):
        return False


def clean_stale_temps(root: Path) -> None:
    """Temp files of a run that was killed mid-write."""
    for tmp in root.glob(".*.tmp"):
        try:
            tmp.unlink()
        except FileNotFoundError:
            pass


class _EntryBusy(Exception):
    """Another process (--jobs shares one --out) holds this entry's lock file."""


def _feature_record(entry: Entry, raw: dict, native: dict | None = None, **extra) -> dict:
    record = {"index": entry.index, "id": entry.id, "url": entry.url, "features": raw}
    if native is not None:
        record["native"] = native
    record.update(extra)
    return record


def write_features(out: OutDir, entry: Entry, kind: str, record: dict) -> None:
    """`<i>.<kind>` (raw) and `<i>.<kind>-derived` (the 48 pairs), the original's shapes, sorted keys."""
    atomic_write_json(out.path(entry.index, "." + kind), record)
    derived = dict(record, features=derived_features(entry.index, record["features"]))
    atomic_write_json(out.path(entry.index, f".{kind}-derived"), derived)


async def _noop(context, door, timings) -> None:
    return None


class Runner:
    def __init__(self, opts: DistillOptions, entries: list[Entry], log=None):
        self.opts = opts
        self.entries = entries
        self.out = OutDir(opts.out)
        self.summary = Summary(total=len(entries))
        self.log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
        self.error_suffix = ".merror" if opts.load_mhtml else ".error"
        self.robots: RobotsPolicy | None = None  # robots.txt and the TDMRep file, per origin
        self.snapshots = SnapshotServer()  # --load-mhtml: what Chrome's distiller is given instead of the network
        self._scorer = None
        self._model_error = None
        try:
            self._scorer = load_scorer(*opts.models)
        except ModelError as exc:
            self._model_error = str(exc)
            self.log(f"warning: Chrome's models not available ({exc}); native records carry no scores")

    def _native(self, url: str, native_raw: dict | None, console: dict) -> dict | None:
        if "adaboost_classification" in console:  # a Chrome build that still dumps its own result
            native = dict(console["adaboost_classification"], source="chrome-console")
            if "distillability_features" in console:
                native["features_2016"] = console["distillability_features"]
            return native
        if native_raw is None:
            return None
        if self._scorer is None:
            return native_record_without_model(url, native_raw, self._model_error or "")
        return self._scorer.native_record(url, native_raw)

    async def run(self) -> Summary:
        start = time.monotonic()
        clean_stale_temps(self.out.root)
        todo = []
        for entry in self.entries:
            if is_done(self.out, entry.index, self.opts):
                self.summary.done_before += 1
            else:
                todo.append(entry)
        if todo:
            cfg = BrowserConfig(
                chromium=self.opts.chromium,
                tabs=self.opts.tabs,
                allow_hosts=self.opts.allow_hosts,
                proxy=self.opts.proxy,
                page_timeout=self.opts.entry_timeout,
                agent_token=self.opts.optout.token,
                user_agent=self.opts.user_agent,
            )
            optout = self.opts.optout
            if optout.reads_site_files:
                self.robots = RobotsPolicy(NetworkGuard(cfg.allow_hosts), optout, upstream=cfg.proxy)
            try:
                hidden = self.snapshots.handle if self.opts.load_mhtml else None
                async with BrowserPool(cfg, extra_args=DISTILLER_FLAGS, hidden_route=hidden) as pool:
                    if self.opts.mobile:  # launch first: the device's user agent names the real Chrome version
                        await pool.run_page("about:blank", _noop)
                    queue: asyncio.Queue[Entry] = asyncio.Queue()
                    for entry in todo:
                        queue.put_nowait(entry)
                    await asyncio.gather(*(self._tab(pool, queue) for _ in range(max(1, self.opts.tabs))))
            finally:
                if self.robots is not None:
                    self.robots.close()
        self.summary.seconds = time.monotonic() - start
        return self.summary

    async def _tab(self, pool: BrowserPool, queue: asyncio.Queue) -> None:
        while not queue.empty():
            entry = queue.get_nowait()
            try:
                with exclusive_lock(self.out.path(entry.index, ".lock"), _EntryBusy()):
                    if is_done(self.out, entry.index, self.opts):  # another process finished it meanwhile
                        self.summary.done_before += 1
                        continue
                    await self._one(pool, entry)
            except _EntryBusy:
                self.summary.busy += 1

    async def _one(self, pool: BrowserPool, entry: Entry) -> None:
        t0 = time.monotonic()
        opts = self.opts

        async def work(context, door, timings):
            try:
                if opts.load_mhtml:
                    return await self._mhtml_entry(context, entry, door)
                return await self._live_entry(context, entry, door, check)
            except EntryFailed as exc:
                return str(exc)

        check = PageCheck(opts.optout)
        if not opts.load_mhtml and self.robots is not None:  # the site's own word first, as a crawl does
            try:
                site = await self.robots.site(entry.url)
            except RobotsUnavailable as exc:
                return self._failed(entry, str(exc), time.monotonic() - t0)
            if not site.verdict.allowed:
                return self._failed(entry, site.verdict.text, time.monotonic() - t0)
            check = site.check
        # an MHTML reload fetches nothing from the original host, so only its sub-requests face the guard
        check_url = "about:blank" if opts.load_mhtml else entry.url
        result = await pool.run_page(
            check_url, work, context_options=opts.context_options(pool.version), timeout=opts.entry_timeout
        )
        elapsed = time.monotonic() - t0
        if isinstance(result, RenderedPage):  # the pool's own failure record: timeout, crash, refused
            error = f"{result.outcome.value}: {result.error}"
        else:
            error = result
        if error:
            return self._failed(entry, error, elapsed)
        self.out.path(entry.index, self.error_suffix).unlink(missing_ok=True)
        self.summary.processed += 1
        self.log(f"ok   {entry.index} {entry.url} ({elapsed:.1f}s)")

    def _failed(self, entry: Entry, error: str, elapsed: float) -> None:
        """The entry's error record (a refused page's is its verdict): nothing else of it is kept."""
        self.summary.failed += 1
        self.summary.failures.append((entry.index, entry.url, error))
        atomic_write_json(
            self.out.path(entry.index, self.error_suffix),
            {
                "index": entry.index,
                "id": entry.id,
                "url": entry.url,
                "error": error,
                "time": time.time(),
                "seconds": round(elapsed, 2),
            },
        )
        self.log(f"FAIL {entry.index} {entry.url}: {error}")

    async def _live_entry(self, context, entry: Entry, door: Door, check: PageCheck) -> str | None:
        opts, out, i = self.opts, self.out, entry.index
        cap: PageCapture = await capture_original(context, entry.url, opts, door, check)
        native = self._native(cap.final_url or entry.url, cap.native_raw, cap.chrome_console)
        mozilla = await asyncio.to_thread(readerable, cap.html)  # Firefox's signal, on the live DOM
        mozilla = {"readerable": mozilla.readerable, "score": round(mozilla.score, 4), "counted": mozilla.counted}
        atomic_write_bytes(out.path(i, ".png"), cap.screenshot)
        write_features(out, entry, "feature", _feature_record(entry, cap.features, native, readerable=mozilla))
        if cap.mhtml is not None:
            atomic_write_bytes(out.path(i, ".mhtml"), cap.mhtml)
        info = {
            "index": i,
            "id": entry.id,
            "url": entry.url,
            "final_url": cap.final_url,
            "status": cap.status,
            "screenshot": str(out.path(i, ".png")),
            "distilled": None,
            "mobile": opts.mobile_device,
            "time": time.time(),
            "readerable": mozilla["readerable"],
            "chrome_decision": native.get("decision") if native else None,
            "opt_out": opts.optout.describe(),
            "verdict": cap.verdict,
            "signals": cap.signals,
        }
        mobile = mobile_friendly(native)
        if opts.desktop_distillable_only and (mobile or distillable(native) is False):
            # consistent files: the screenshot and features go, and .info says why (points at nothing)
            for suffix in (".png", ".feature", ".feature-derived", ".mhtml"):
                out.path(i, suffix).unlink(missing_ok=True)
            info.update(
                screenshot=None,
                distillation="not-desktop-distillable",
                skipped="mobile-friendly" if mobile else "not distillable",
            )
            atomic_write_json(out.path(i, ".info"), info, indent=None)
            self.summary.skipped_not_distillable += 1
            return None
        if opts.skip_distillation:
            info["distillation"] = "skipped"
            info["timings"] = cap.timings
            atomic_write_json(out.path(i, ".info"), info, indent=None)
            return None
        d = await distill(context, cap.final_url or entry.url, cap.html, opts)
        atomic_write_bytes(out.path(i, "-distilled.png"), d.screenshot)
        write_features(out, entry, "dfeature", self._distilled_record(entry, d))
        self.summary.count(d.distiller)
        info.update(
            distilled=str(out.path(i, "-distilled.png")),
            distiller=d.distiller,
            distillation=d.outcome,
            distill_error=d.error,
            article_bytes=utf8_len(d.article_text),
            distilled_title=d.title,
            timings={**cap.timings, **d.timings},
        )
        atomic_write_json(out.path(i, ".info"), info, indent=None)  # last: marks the entry done
        return None

    async def _mhtml_entry(self, context, entry: Entry, door: Door) -> str | None:
        opts, out, i = self.opts, self.out, entry.index
        feature_path = out.path(i, ".feature")
        original_url = read_json(feature_path)["features"]["url"] if feature_path.exists() else entry.url
        mhtml = out.path(i, ".mhtml")
        cap = await capture_mhtml(context, str(mhtml.resolve()), original_url, opts, door)
        native = self._native(original_url, cap.native_raw, {})
        write_features(out, entry, "mfeature", _feature_record(entry, cap.features, native))
        if opts.skip_distillation:
            return None
        try:
            snapshot = Snapshot.parse(mhtml.read_bytes())
        except SnapshotError as exc:
            raise EntryFailed(f"MHTML: {exc}") from None
        async with self.snapshots.serving(snapshot):  # Chrome's distiller gets the snapshot at the page's URL
            d = await distill(context, snapshot.url, cap.html, opts)
        atomic_write_bytes(out.path(i, "-mdistilled.png"), d.screenshot)
        write_features(out, entry, "mdfeature", self._distilled_record(entry, d))
        self.summary.count(d.distiller)
        return None

    def _distilled_record(self, entry: Entry, d: Distilled) -> dict:
        """`.dfeature` / `.mdfeature`: the reader view's raw features, which distiller made it, and the
        article's own size (the view's #content, without the viewer's text) that long-article labels use."""
        return _feature_record(
            entry,
            d.features,
            distiller=d.distiller,
            distillation=d.outcome,
            distill_error=d.error,
            article_bytes=utf8_len(d.article_text) if d.distiller else 0,
        )
