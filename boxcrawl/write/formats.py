"""The files of one shard, each format in its own function. All write into a staging folder."""

from __future__ import annotations

import csv
import io
import json
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pyarrow as pa
import pyarrow.parquet as pq

from ..files import json_bytes
from .rows import PageRows
from .schema import PAGES_SCHEMA, SAMPLE_FIELDS, conform_sample, samples_schema

CSV_COLUMNS = ["url", "key", "word", "token", "token_id", "x", "y", "width", "height", "start", "end", "token_index"]


@dataclass
class PackedPage:
    """A finished page waiting for its shard, in the form the shard's files are written from:
    Arrow rows (boxes as float32 columns, not Python lists of floats: several times smaller)
    and the WebDataset members already serialized. The shard column is added at commit."""

    url: str
    outcome: str
    error: str | None
    page: pa.RecordBatch  # one row of PAGES_SCHEMA without `shard`
    samples: pa.RecordBatch  # SAMPLE_FIELDS, one row per sample
    members: list[tuple[str, str, bytes, bytes]]  # (key, image extension, image, json)

    @property
    def n_samples(self) -> int:
        return int(self.samples.num_rows)


_PAGE_COLUMNS = pa.schema([f for f in PAGES_SCHEMA if f.name != "shard"])
_PAGE_SCALARS = pa.schema([f for f in _PAGE_COLUMNS if f.name != "tokens"])


def pack(rows: PageRows) -> PackedPage:
    metas = [conform_sample(s.meta) for s in rows.samples]
    scalars = pa.RecordBatch.from_pylist([rows.page], schema=_PAGE_SCALARS)
    page = pa.RecordBatch.from_arrays([*scalars.columns, rows.tokens], schema=_PAGE_COLUMNS)
    return PackedPage(
        url=rows.url,
        outcome=rows.page["outcome"],
        error=rows.page["error"],
        page=page,
        samples=pa.RecordBatch.from_pylist(metas, schema=SAMPLE_FIELDS),
        members=[(s.key, s.image_format, s.image, json_bytes(m)) for s, m in zip(rows.samples, metas)],
    )


def write_webdataset(where: Path | IO[bytes], pages: list[PackedPage]) -> None:
    """A WebDataset tar: each sample's members ``key.json`` and ``key.<image ext>``, in name order,
    read-only, ustar headers, as webdataset's TarWriter writes them. Written with tarfile, because importing the
    webdataset package imports torch where it is installed (2 s and 150 MB for every writer)."""
    now = int(time.time())  # whole seconds, in plain ustar headers: no pax header per member
    tar = (
        tarfile.open(str(where), "w|", format=tarfile.USTAR_FORMAT)
        if isinstance(where, Path)
        else tarfile.open(fileobj=where, mode="w|", format=tarfile.USTAR_FORMAT)
    )
    with tar:
        for page in pages:
            for key, ext, image, meta in page.members:
                for name, data in sorted(((f"{key}.{ext}", image), (f"{key}.json", meta))):
                    info = tarfile.TarInfo(name)
                    info.size, info.mtime, info.mode = len(data), now, 0o444
                    tar.addfile(info, io.BytesIO(data))


def _table(batches: list[pa.RecordBatch], columns: pa.Schema, schema: pa.Schema, shard: str) -> pa.Table:
    """The batches (of ``columns``) as one table of ``schema``, its ``shard`` column filled in."""
    table = pa.Table.from_batches(batches, schema=columns)
    table = table.append_column("shard", pa.array([shard] * table.num_rows, pa.string()))
    return table.select([n for n in schema.names if n in table.column_names])


def pages_table(pages: list[PackedPage], shard: str) -> pa.Table:
    return _table([p.page for p in pages], _PAGE_COLUMNS, PAGES_SCHEMA, shard)


def samples_table(pages: list[PackedPage], shard: str, images: bool = False) -> pa.Table:
    """The samples table; with ``images``, each row also carries its encoded image in the
    ``{bytes, path}`` form Hugging Face `datasets` loads as an `Image`."""
    schema = samples_schema(images)
    table = _table([p.samples for p in pages], SAMPLE_FIELDS, schema, shard)
    if images:
        column = [{"bytes": image, "path": f"{key}.{ext}"} for p in pages for key, ext, image, _ in p.members]
        table = table.append_column(schema.field("image"), pa.array(column, schema.field("image").type))
    return table.cast(schema)


def write_parquet(where: Path | IO[bytes], table: pa.Table) -> None:
    pq.write_table(table, where, compression="zstd")


def write_pages_parquet(path: Path, pages: list[PackedPage], shard: str) -> None:
    write_parquet(path, pages_table(pages, shard))


def write_samples_parquet(path: Path, pages: list[PackedPage], shard: str, images: bool = False) -> None:
    write_parquet(path, samples_table(pages, shard, images))


def write_seed_layout(root: Path, pages: list[PackedPage]) -> list[Path]:
    """The original's layout, fixed: img/<key>.<ext> + csv/<key>.csv, one CSV per image,
    header once, RFC 4180 quoting, boxes as x, y, width, height in image pixels."""
    written = []
    (root / "img").mkdir(parents=True, exist_ok=True)
    (root / "csv").mkdir(parents=True, exist_ok=True)
    for page in pages:
        for key, ext, image, meta_json in page.members:
            meta = json.loads(meta_json)
            img = root / "img" / f"{key}.{ext}"
            img.write_bytes(image)
            out = root / "csv" / f"{key}.csv"
            with out.open("w", newline="", encoding="utf-8") as f:
                w = csv.writer(f)  # excel dialect: CRLF, quotes doubled = RFC 4180
                w.writerow(CSV_COLUMNS)
                for t in meta["tokens"]:
                    x0, y0, x1, y1 = t["box"]
                    w.writerow(
                        [
                            meta["url"],
                            key,
                            t["text"],
                            t["token"],
                            t["id"],
                            x0,
                            y0,
                            round(x1 - x0, 2),
                            round(y1 - y0, 2),
                            t["start"],
                            t["end"],
                            t["index"],
                        ]
                    )
            written += [img, out]
    return written
