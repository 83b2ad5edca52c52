"""Cutting a URL list into input shards: deduplicated (first row wins), in input order, N URLs each.

Shard k holds the usable URLs k*N .. (k+1)*N-1 of the list, so the same list and N always give the same
shards, run after run: that is what lets a rerun skip the shards already done. A row whose URL is not
usable (not http(s), refused by --allow-hosts) or repeats an earlier one is reported once, with its row,
and left out before counting, exactly as a text list's lines are.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import pyarrow as pa

from ..egress.guard import NetworkGuard, Refused
from ..frontier.urls import BadURL, normalize
from ..locations import shown
from ..urllist import UrlLine, read_url_file, url_problem
from .location import Location
from .read import BATCH_ROWS, UrlTable, list_format, open_list

SHARD_DIGITS = 6


def shard_name(number: int) -> str:
    return f"part-{number:0{SHARD_DIGITS}d}"


@dataclass(frozen=True)
class InputShard:
    number: int
    rows: pa.Table  # row, url (normalised), then the columns kept, in input order

    @property
    def name(self) -> str:
        return shard_name(self.number)

    @property
    def urls(self) -> list[str]:
        urls: list[str] = self.rows.column("url").to_pylist()
        return urls


@dataclass(frozen=True)
class UrlSource:
    """A URL list and how to read it; `batches()` may be called once per pass (it reopens the file)."""

    path: Location
    format: str
    table: UrlTable | None  # None for a text list
    keep: tuple[str, ...] = ()

    @classmethod
    def open(cls, path: Location, fmt: str | None, url_col: str, keep: Sequence[str]) -> UrlSource:
        fmt = list_format(path, fmt)
        table = None if fmt == "text" else open_list(path, fmt, url_col, keep)
        return cls(path, fmt, table, tuple(keep))

    def batches(self, on_skip: Callable[[str], None] = lambda problem: None) -> Iterator[pa.RecordBatch]:
        """`row`, `url` and the kept columns; a text list's own skipped lines (comments aside) go to `on_skip`."""
        if self.table is not None:
            yield from self.table.batches(self.keep)
            return
        # a text list keeps its own reader (comments, line numbers, warnings): its lines as one column
        lines, problems = read_url_file(self.path)
        for problem in problems:
            on_skip(problem)
        for start in range(0, len(lines), BATCH_ROWS):
            chunk = lines[start : start + BATCH_ROWS]
            yield pa.RecordBatch.from_pydict(
                {"row": [u.line + 1 for u in chunk], "url": [u.url for u in chunk]},
                schema=pa.schema([("row", pa.int64()), ("url", pa.string())]),
            )

    def where(self, row: int) -> str:
        return f"{shown(self.path)}:{row}"  # a text list's line, a table's row (the header not counted)


def table_lines(source: UrlSource) -> tuple[list[UrlLine], list[str]]:
    """A table's URLs as a text list's lines (`render --urls-file` without --shard-urls): all in memory,
    with the same warnings, `FILE:ROW` for `FILE:LINE`."""
    lines: list[UrlLine] = []
    warnings: list[str] = []
    seen: dict[str, int] = {}
    for batch in source.batches():
        for row, url in zip(batch.column("row").to_pylist(), batch.column("url").to_pylist()):
            where = source.where(row)
            url = (url or "").strip()
            if not url:
                warnings.append(f"{where}: no URL")
            elif problem := url_problem(url):
                warnings.append(f"{where}: {problem}")
            elif url in seen:
                warnings.append(f"{where}: duplicate of {source.where(seen[url])}: {url[:200]!r}")
            else:
                seen[url] = row
                lines.append(UrlLine(row - 1, url, shown(source.path)))
    return lines, warnings


def usable_rows(source: UrlSource, guard: NetworkGuard, on_skip: Callable[[str], None]) -> Iterator[pa.RecordBatch]:
    """The batches of `source` without the rows skipped (each reported through `on_skip`), their URLs
    normalised, in input order."""
    seen: dict[bytes, int] = {}  # digest of the normalised URL -> its row: 16 bytes a URL, not the URL
    for batch in source.batches(on_skip):
        keep, urls = [], []
        for i, (row, url) in enumerate(zip(batch.column("row").to_pylist(), batch.column("url").to_pylist())):
            where = source.where(row)
            if url is None or not url.strip():
                on_skip(f"{where}: no URL")
                continue
            url = url.strip()
            if problem := url_problem(url):
                on_skip(f"{where}: {problem}")
                continue
            try:
                normal = normalize(url)
                guard.check(normal)
            except (BadURL, Refused) as exc:
                on_skip(f"{where}: {url[:200]}: {exc}")
                continue
            digest = hashlib.blake2b(normal.encode("utf-8"), digest_size=16).digest()
            if digest in seen:
                on_skip(f"{where}: duplicate of {source.where(seen[digest])}: {url[:200]!r}")
                continue
            seen[digest] = row
            keep.append(i)
            urls.append(normal)
        if keep:
            picked = batch.take(pa.array(keep, pa.int64()))
            yield picked.set_column(1, "url", pa.array(urls, pa.string()))


def cut(batches: Iterator[pa.RecordBatch], size: int) -> Iterator[InputShard]:
    """Consecutive shards of `size` rows (the last one shorter) from the usable rows."""
    held: list[pa.RecordBatch] = []
    count, number = 0, 0
    for batch in batches:
        held.append(batch)
        count += batch.num_rows
        while count >= size:
            table = pa.Table.from_batches(held)
            yield InputShard(number, table.slice(0, size).combine_chunks())
            rest = table.slice(size)
            held, count, number = rest.to_batches(), rest.num_rows, number + 1
    if count:
        yield InputShard(number, pa.Table.from_batches(held).combine_chunks())
