"""Where `DatasetWriter` stages a shard before the frontier commits it, and how it publishes it after.

On a local disk: files under DIR/.staging/<shard>/, fsynced, then renamed into place. On object storage
(any fsspec URL): objects under .staging/<shard>/, then each copied server-side to its place and the
staged one deleted. Both publishes are idempotent, so a roll-forward after a kill may repeat them, and
readers never look under .staging.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Protocol

from ..config import WriteConfig
from .formats import (
    PackedPage,
    pages_table,
    samples_table,
    write_pages_parquet,
    write_parquet,
    write_samples_parquet,
    write_seed_layout,
    write_webdataset,
)
from .store import Store

STAGING = ".staging"


class Staging(Protocol):
    def staged(self) -> list[str]:
        """The shards staged and not published yet, sorted."""
        ...

    def stage(self, shard: str, pages: list[PackedPage]) -> None: ...

    def publish(self, shard: str) -> None: ...

    def discard(self, shard: str) -> None: ...


class FolderStaging:
    def __init__(self, out: Path, cfg: WriteConfig):
        self.out = out
        self.cfg = cfg
        for sub in ("wds", "pages", "samples"):
            (self.out / sub).mkdir(parents=True, exist_ok=True)

    def staged(self) -> list[str]:
        staging = self.out / STAGING
        if not staging.is_dir():
            return []
        return [p.name for p in sorted(staging.iterdir())]

    def stage(self, shard: str, pages: list[PackedPage]) -> None:
        shard_dir = self.out / STAGING / shard
        if shard_dir.exists():
            shutil.rmtree(shard_dir)
        for sub in ("wds", "pages", "samples"):
            (shard_dir / sub).mkdir(parents=True)
        if any(p.n_samples for p in pages):
            write_webdataset(shard_dir / "wds" / f"{shard}.tar", pages)
            write_samples_parquet(shard_dir / "samples" / f"{shard}.parquet", pages, shard, self.cfg.parquet_images)
            if self.cfg.seed_layout:
                write_seed_layout(shard_dir, pages)
        write_pages_parquet(shard_dir / "pages" / f"{shard}.parquet", pages, shard)
        _fsync_tree(shard_dir)

    def publish(self, shard: str) -> None:
        """Move every staged file to its place under DIR (idempotent: safe to repeat after a kill)."""
        shard_dir = self.out / STAGING / shard
        for src in sorted(p for p in shard_dir.rglob("*") if p.is_file()):
            dst = self.out / src.relative_to(shard_dir)
            dst.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.replace(src, dst)
            except FileNotFoundError:
                pass  # another worker rolling this committed shard forward moved it first
        shutil.rmtree(shard_dir, ignore_errors=True)

    def discard(self, shard: str) -> None:
        shutil.rmtree(self.out / STAGING / shard, ignore_errors=True)


class StoreStaging:
    """Staging on object storage, through `Store` (write whole objects, copy, delete: no rename)."""

    def __init__(self, store: Store, cfg: WriteConfig):
        self.store = store
        self.cfg = cfg

    def staged(self) -> list[str]:
        return self.store.names(STAGING)

    def stage(self, shard: str, pages: list[PackedPage]) -> None:
        self.discard(shard)  # what an earlier try left
        staged = f"{STAGING}/{shard}"
        if any(p.n_samples for p in pages):
            with self.store.open_write(f"{staged}/wds/{shard}.tar") as f:
                write_webdataset(f, pages)
            with self.store.open_write(f"{staged}/samples/{shard}.parquet") as f:
                write_parquet(f, samples_table(pages, shard, self.cfg.parquet_images))
        with self.store.open_write(f"{staged}/pages/{shard}.parquet") as f:
            write_parquet(f, pages_table(pages, shard))

    def publish(self, shard: str) -> None:
        """Copy every staged object to its place, then delete it (idempotent: a copy whose source is gone
        was done before)."""
        prefix = f"{STAGING}/{shard}/"
        for src in self.store.files_under(f"{STAGING}/{shard}"):
            self.store.publish(src, src.removeprefix(prefix))

    def discard(self, shard: str) -> None:
        for rel in self.store.files_under(f"{STAGING}/{shard}"):
            self.store.remove(rel)


def _fsync_tree(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
