"""Reading a dataset back: ``boxcrawl.open_dataset(DIR)``, or a URL (``s3://bucket/run``, any fsspec URL).

Only committed files are read: staged shards (DIR/.staging) are invisible here, and so is a named shard
without its done marker (write/markers.py).
"""

from __future__ import annotations

import io
import json
import tarfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

from ..locations import is_url, local_path
from .markers import committed
from .schema import SAMPLE_FIELDS, hf_features, webdataset_columns
from .store import Store

IMAGE_EXTS = ("png", "jpg", "jpeg", "webp")


def plain_text(text: str) -> str:
    """The words of a page's `text`, for people who want the text rather than the token offsets: each
    line's whitespace runs made one space, lines trimmed, empty lines dropped. A page's `text` keeps every
    text node as it is (indentation included), because token `start`/`end` index into it."""
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


class Dataset:
    def __init__(self, root: str | Path):
        # a local folder stays a Path, as given; a URL stays a string (without credentials)
        self.store = Store(root)
        self.root: Path | str = local_path(root) if self.store.is_local else self.store.shown
        if not self.store.is_dir():
            raise FileNotFoundError(f"no dataset at {self.root}")

    def _files(self, sub: str, ext: str) -> list[str]:
        """The committed files, each as a local path or a URL (`Store.location`)."""
        return [self.store.location(rel) for rel in committed(self.store, sub, ext)]

    def _parquet(self, sub: str) -> tuple[list[str], Any]:
        return parquet_files(self.store, sub)

    @property
    def shards(self) -> list[str]:
        """WebDataset tar shards, in order, as path strings: ``webdataset.WebDataset(ds.shards)``
        and ``datasets.load_dataset("webdataset", data_files=ds.shards)`` take them as they are."""
        return self._files("wds", "tar")

    def pages(self, columns: list[str] | None = None, latest: bool = False) -> Iterator[dict[str, Any]]:
        """One dict per page record, failed pages included: url, final_url, status, outcome, error,
        timings, text, and tokens (text, token, id, start, end, boxes, visible, hidden_reason).
        A URL tried again (`retry-failed`) has a record per run; `latest=True` gives only the newest
        record of each URL (by `fetched_at`)."""
        keep = self._latest_records() if latest else None
        paths, fs = self._parquet("pages")
        for number, path in enumerate(paths):
            row = 0
            for batch in pq.ParquetFile(path, filesystem=fs).iter_batches(batch_size=64, columns=columns):
                for record in batch.to_pylist():
                    if keep is None or (number, row) in keep:
                        yield record
                    row += 1

    def _latest_records(self) -> set[tuple[int, int]]:
        """(file number, row) of each URL's newest record, from the url and fetched_at columns alone."""
        newest: dict[str, tuple[str, int, int]] = {}
        paths, fs = self._parquet("pages")
        for number, path in enumerate(paths):
            table = pq.read_table(path, columns=["url", "fetched_at"], filesystem=fs)
            for row, (url, at) in enumerate(zip(table["url"].to_pylist(), table["fetched_at"].to_pylist())):
                if url not in newest or (at or "") >= newest[url][0]:
                    newest[url] = (at or "", number, row)
        return {(number, row) for _, number, row in newest.values()}

    def samples(self, decode: bool = True) -> Iterator[dict[str, Any]]:
        """One dict per crop: key, url, crop, tokens (text, token, id, box, boxes, ...) and
        image (a PIL image when ``decode``, else the encoded bytes)."""
        for shard in self.shards:
            yield from read_shard(shard, decode)

    def pages_table(self) -> pa.Table:
        """All pages as one pyarrow Table (``.to_pandas()`` if you have pandas)."""
        return _table(*self._parquet("pages"))

    def samples_table(self) -> pa.Table:
        return _table(*self._parquet("samples"))

    def to_hf(self, split: str = "train") -> Any:
        """The samples as a Hugging Face ``datasets.Dataset``: every sample field, typed as in
        ``samples/``, and ``image`` decoded as an ``Image``. Needs the ``[hf]`` extra. Read from
        ``samples/`` when it holds the images (``--parquet-images``), else from the WebDataset
        shards; `datasets` caches the result keyed by the files' paths and times."""
        from ..extras import require

        datasets = require("datasets")
        tables, fs = self._parquet("samples")
        if tables and "image" in pq.read_schema(tables[0], filesystem=fs).names:
            files = {split: self._files("samples", "parquet")}
            return datasets.load_dataset("parquet", data_files=files, split=split)
        if not self.shards:
            raise ValueError(f"{self.root} holds no samples")
        with _open_tar(self.shards[0]) as tar:
            _, first = next(shard_members(tar))
        image = next(ext for ext in IMAGE_EXTS if ext in first)
        features = datasets.Features.from_dict(hf_features(webdataset_columns(image), [image]))
        raw = datasets.load_dataset("webdataset", data_files={split: self.shards}, split=split, features=features)
        # max_depth=2 flattens `json` one level (datasets 5.2 fails on max_depth=1)
        flat = raw.flatten(max_depth=2).rename_columns({f"json.{f.name}": f.name for f in SAMPLE_FIELDS})
        flat = flat.add_column("shard", [Path(url).stem for url in flat["__url__"]])  # as in samples/
        return flat.rename_column(image, "image").select_columns([*SAMPLE_FIELDS.names, "shard", "image"])

    def __repr__(self) -> str:
        return f"Dataset({str(self.root)!r}, shards={len(self.shards)})"


@contextmanager
def _open_tar(path: str | Path) -> Iterator[tarfile.TarFile]:
    """A shard by local path or by URL (the object read through fsspec, which needs no local copy)."""
    if not is_url(path):
        with tarfile.open(path) as tar:
            yield tar
        return
    import fsspec

    with fsspec.open(str(path), "rb") as f, tarfile.open(fileobj=f) as tar:
        yield tar


def parquet_files(store: Store, sub: str) -> tuple[list[str], Any]:
    """The committed Parquet files of `sub` and the file system pyarrow reads them with (None: local)."""
    rels = committed(store, sub, "parquet")
    if store.is_local:
        return [store.location(rel) for rel in rels], None
    return [store.path(rel) for rel in rels], store.fs


def read_shard(path: str | Path, decode: bool) -> Iterator[dict[str, Any]]:
    """The samples of one WebDataset tar shard (a local path or a URL), in order (image decoded to PIL when
    ``decode``)."""
    with _open_tar(path) as tar:
        for _key, members in shard_members(tar):
            yield _sample({ext: _read(tar, m) for ext, m in members.items()}, decode)


def shard_members(tar: tarfile.TarFile) -> Iterator[tuple[str, dict[str, tarfile.TarInfo]]]:
    """(key, {extension: member}) per sample of an open shard, grouped the WebDataset way
    (consecutive files sharing the name before the first dot); nothing is read yet."""
    current, parts = "", dict[str, tarfile.TarInfo]()
    for member in tar:
        if not member.isfile():
            continue
        key, _, ext = member.name.partition(".")
        if key != current and parts:
            yield current, parts
            parts = {}
        current = key
        parts[ext] = member
    if parts:
        yield current, parts


def _read(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    file = tar.extractfile(member)
    assert file is not None  # shard_members yields regular files only
    return file.read()


def _sample(parts: dict[str, bytes], decode: bool) -> dict[str, Any]:
    meta = json.loads(parts["json"])
    ext = next(e for e in IMAGE_EXTS if e in parts)
    if not decode:
        return {**meta, "image": parts[ext]}
    with Image.open(io.BytesIO(parts[ext])) as im:
        im.load()
    return {**meta, "image": im}


def open_dataset(root: str | Path) -> Dataset:
    return Dataset(root)


def _table(files: list[str], filesystem: Any = None) -> pa.Table:
    """These shards as one Table, with the columns of all of them: a dataset resumed by a newer boxcrawl
    has shards with columns its older ones lack (null there), which pyarrow would otherwise drop, since a
    dataset takes its schema from the first file it reads."""
    import pyarrow.dataset as ds

    found = ds.dataset(files, format="parquet", filesystem=filesystem)
    schemas = [fragment.physical_schema for fragment in found.get_fragments()]
    if not schemas:
        return found.to_table()
    return ds.dataset(files, format="parquet", filesystem=filesystem, schema=pa.unify_schemas(schemas)).to_table()
