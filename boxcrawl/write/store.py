"""Where a sharded run's files go: a folder today, object storage later.

Every write of a named shard goes through `Store`, whose only operations are those object stores also
have (write a whole object, read it, list a prefix, delete): no rename. fsspec provides them for the local
disk here and for s3:// and gs:// alike, so another store is another fsspec URL, not new code.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

import fsspec
from fsspec.implementations.local import LocalFileSystem

from ..files import json_bytes


class Store:
    """The files under one root, addressed by paths relative to it ("pages/part-000001.parquet")."""

    def __init__(self, root: str):
        self.fs, self.root = fsspec.core.url_to_fs(str(root))
        self.root = self.root.rstrip("/")

    @property
    def is_local(self) -> bool:
        return isinstance(self.fs, LocalFileSystem)

    def path(self, rel: str) -> str:
        return f"{self.root}/{rel}"

    @contextmanager
    def open_write(self, rel: str) -> Iterator[IO[bytes]]:
        """A new file or object; a local one reaches the disk (fsync) before this returns, so a marker
        written after it never names a file a power cut can lose."""
        if self.is_local:
            self.fs.makedirs(self.path(rel).rsplit("/", 1)[0], exist_ok=True)
        with self.fs.open(self.path(rel), "wb") as f:
            yield f
            if self.is_local:
                f.flush()
                os.fsync(f.fileno())

    def write_json(self, rel: str, doc: Any) -> None:
        with self.open_write(rel) as f:
            f.write(json_bytes(doc))

    def read_json(self, rel: str) -> Any:
        with self.fs.open(self.path(rel), "rb") as f:
            return json.loads(f.read())

    def exists(self, rel: str) -> bool:
        return bool(self.fs.exists(self.path(rel)))

    def names(self, folder: str) -> list[str]:
        """The file names directly under `folder`, sorted; none when it does not exist."""
        try:
            found = self.fs.ls(self.path(folder), detail=False)
        except FileNotFoundError:
            return []
        return sorted(str(p).rsplit("/", 1)[-1] for p in found)
