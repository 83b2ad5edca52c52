"""NamedShardWriter: the pages of one input shard, written as one named output shard with a done marker.

The crawl loop hands it pages as it does `DatasetWriter` (`add`, `commit`, `holds`). Here `commit` only
tells the shard's own frontier the pages are done; the pages themselves stay packed in memory (an input
shard is a bounded number of pages) until every URL of the shard has its record. `finish` then writes the
files in place through the `Store` and the marker last (see markers.py): until the marker exists, nothing
of the shard counts, and a rerun overwrites it.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import replace
from typing import Any

import pyarrow as pa

from ..config import WriteConfig
from ..files import json_bytes
from ..frontier.base import Finished, Frontier
from ..records import NOT_FAILED, Outcome
from .formats import PackedPage, pack, pages_table, samples_table, write_parquet, write_webdataset
from .markers import utc_now, write_marker
from .rows import PageRows
from .store import Store


class NamedShardWriter:
    def __init__(
        self,
        store: Store,
        name: str,
        rows: pa.Table,
        cfg: WriteConfig,
        frontier: Frontier,
        keep: tuple[str, ...] = (),
        owner: str | None = None,
    ):
        self.store = store
        self.name = name
        self.cfg = cfg
        self.frontier = frontier
        self.owner = owner
        self.keep = keep
        self._extras = rows.select(list(keep))  # the input columns carried into every record, by row
        self._row_of = {url: i for i, url in enumerate(rows.column("url").to_pylist())}
        self._extra_values = self._extras.to_pylist()
        self._pending: list[PackedPage] = []
        self._finished: list[PackedPage] = []
        self._commits = 0
        self.seconds = 0.0
        self.started = utc_now()  # in the marker: `status` works out a run's pages/min from the markers

    # what the crawl loop asks of a writer
    @property
    def pending_pages(self) -> int:
        return len(self._pending)

    def holds(self, url: str) -> bool:
        return any(p.url == url for p in self._pending)

    def held_urls(self) -> list[str]:
        return [p.url for p in self._pending]

    async def add(self, rows: PageRows) -> None:
        self._pending.append(await asyncio.to_thread(self._pack, rows))

    async def commit(self) -> None:
        if not self._pending:
            return
        pages, self._pending = self._pending, []
        self._commits += 1
        # the shard's frontier is in memory and this writer its only user: nothing can be lost here
        self.frontier.commit(
            f"{self.name}.{self._commits}", [Finished(p.url, p.outcome, p.error) for p in pages], owner=self.owner
        )
        self._finished += pages

    def _pack(self, rows: PageRows) -> PackedPage:
        packed = pack(rows)
        if not self.keep:
            return packed
        extra = self._extra_values[self._row_of[rows.url]]
        members = [
            (key, ext, image, json_bytes({**json.loads(meta), **extra})) for key, ext, image, meta in packed.members
        ]
        return replace(packed, members=members)

    # the shard's files, then its marker
    def finish(self) -> dict[str, Any]:
        """Write the shard's files in place, then its marker; returns the marker's counts."""
        started = time.perf_counter()
        pages = sorted(self._finished, key=lambda p: self._row_of[p.url])  # input order
        files = []
        n_samples = sum(p.n_samples for p in pages)
        if n_samples:
            with self.store.open_write(f"wds/{self.name}.tar") as f:
                write_webdataset(f, pages)
            table = self._with_extras(samples_table(pages, self.name, self.cfg.parquet_images))
            with self.store.open_write(f"samples/{self.name}.parquet") as f:
                write_parquet(f, table)
            files += [f"wds/{self.name}.tar", f"samples/{self.name}.parquet"]
        with self.store.open_write(f"pages/{self.name}.parquet") as f:
            write_parquet(f, self._with_extras(pages_table(pages, self.name)))
        files.append(f"pages/{self.name}.parquet")
        failed = sum(p.outcome not in NOT_FAILED for p in pages)
        skipped = sum(p.outcome == Outcome.SKIPPED.value for p in pages)
        counts = {"pages": len(pages), "failed": failed, "skipped": skipped, "samples": n_samples}
        write_marker(self.store, self.name, {**counts, "files": files, "started": self.started, "finished": utc_now()})
        self.seconds += time.perf_counter() - started
        return counts

    def _with_extras(self, table: pa.Table) -> pa.Table:
        """`table` with the kept input columns appended, each row's values those of its URL's input row."""
        if not self.keep:
            return table
        rows = pa.array([self._row_of[u] for u in table.column("url").to_pylist()], pa.int64())
        picked = self._extras.take(rows)
        for name in self.keep:
            table = table.append_column(picked.schema.field(name), picked.column(name))
        return table
