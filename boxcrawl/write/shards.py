"""DatasetWriter: buffers finished pages and commits them as shards, atomically.

Pages wait for their shard packed (write/formats.PackedPage: Arrow rows and serialized
members), not as Python objects, so a shard of 200 pages costs little memory while it fills.

A commit has three steps, so a kill at any moment leaves either a whole shard
or none, and never a page both lost and written:
1. every file of the shard is written into DIR/.staging/<shard>/ (readers never look there);
2. the frontier marks the shard's pages done and records the shard, in one transaction;
3. the staged files are renamed into place (on object storage: copied server-side, then deleted;
   staging.py).
On open, staged shards the frontier recorded are rolled forward (step 3 again);
any other staged shard of this writer (or of a dead worker sharing DIR) is deleted and its pages,
never marked done, are crawled again.
With a shared frontier, step 2 is fenced: if this worker's lease on some page expired and another
worker took it, the commit changes nothing and reports those pages; they are dropped from the
shard (the other worker writes them) and the rest is staged and committed again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from ..config import WriteConfig
from ..frontier.base import Finished, Frontier
from ..locations import is_url
from .formats import PackedPage, pack
from .rows import PageRows
from .staging import STAGING, FolderStaging, Staging, StoreStaging
from .store import Store

__all__ = ["STAGING", "DatasetWriter"]


class DatasetWriter:
    def __init__(
        self,
        out: Path | str,
        cfg: WriteConfig,
        frontier: Frontier,
        prefix: str = "part",
        owner: str | None = None,
        is_dead: Callable[[str], bool] | None = None,
    ):
        # a local folder, or object storage at a URL (s3://...)
        self.staging: Staging = StoreStaging(Store(out), cfg) if is_url(out) else FolderStaging(Path(out), cfg)
        self.owner = owner
        self._is_dead = is_dead or (lambda prefix: False)  # prefix -> whether that writer is gone
        self._committing: list[PackedPage] = []
        self.dropped = 0  # pages another worker took over (lease lost)
        self.cfg = cfg
        self.frontier = frontier
        self.prefix = prefix
        self._pending: list[PackedPage] = []
        self._pending_samples = 0
        self._opened_at = time.monotonic()
        self._lock = asyncio.Lock()
        self.shards_written = 0
        self.seconds = 0.0  # time spent committing (the benchmark's "write" stage)
        self.recover()

    # -- recovery -------------------------------------------------------------------------------
    def recover(self, prefixes: set[str] | None = None) -> None:
        """Finish what killed writers left in DIR/.staging: a shard the frontier recorded is moved
        into place, any other is deleted (its pages were never marked done). At open, this
        writer's own leftovers and those of dead workers; later, only those of ``prefixes``
        (workers found dead meanwhile), never a live worker's."""
        for shard in self.staging.staged():
            prefix = shard.rsplit("-", 1)[0]
            if prefixes is not None and prefix not in prefixes:
                continue
            if self.frontier.is_committed(shard):
                self.staging.publish(shard)
                continue
            if (prefix == self.prefix and prefixes is None) or self._is_dead(prefix):
                self.staging.discard(shard)

    # -- buffering ------------------------------------------------------------------------------
    @property
    def pending_pages(self) -> int:
        return len(self._pending)

    def holds(self, url: str) -> bool:
        """Whether a page of ``url`` waits here for its commit."""
        return any(p.url == url for p in self._pending) or any(p.url == url for p in self._committing)

    def held_urls(self) -> list[str]:
        """URLs finished but not committed yet: their leases must stay alive."""
        return [p.url for p in self._pending] + [p.url for p in self._committing]

    async def add(self, rows: PageRows) -> None:
        packed = await asyncio.to_thread(pack, rows)
        self._pending.append(packed)
        self._pending_samples += packed.n_samples
        if (
            self._pending_samples >= self.cfg.shard_samples
            or len(self._pending) >= self.cfg.shard_pages
            or time.monotonic() - self._opened_at >= self.cfg.shard_seconds
        ):
            await self.commit()

    async def commit(self) -> None:
        async with self._lock:
            if not self._pending:
                return
            started = time.perf_counter()
            pages, self._pending, self._pending_samples = self._pending, [], 0
            self._committing = pages
            self._opened_at = time.monotonic()
            try:
                while pages:
                    shard = f"{self.prefix}-{self.frontier.next_shard_number():06d}"
                    await asyncio.to_thread(self.staging.stage, shard, pages)
                    lost = self.frontier.commit(
                        shard, [Finished(p.url, p.outcome, p.error) for p in pages], owner=self.owner
                    )
                    if not lost:
                        await asyncio.to_thread(self.staging.publish, shard)
                        self.shards_written += 1
                        break
                    await asyncio.to_thread(self.staging.discard, shard)
                    lost_set = set(lost)
                    self.dropped += sum(p.url in lost_set for p in pages)
                    pages = [p for p in pages if p.url not in lost_set]
            finally:
                self._committing = []
            self.seconds += time.perf_counter() - started
