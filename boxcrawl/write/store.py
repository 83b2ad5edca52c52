"""Where a sharded run's files go: a local folder or any fsspec URL (s3://, gs://, file://).

Every write of a named shard goes through `Store`, whose only operations are those object stores also
have (write a whole object, read it, list a prefix, delete, copy): no rename. fsspec provides them for the
local disk here and for s3:// and gs:// alike, so another store is another fsspec URL, not new code.
Credentials and endpoints come from the store's own standard settings (AWS_ENDPOINT_URL,
AWS_ACCESS_KEY_ID, ... for s3://), never from boxcrawl's arguments or files.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import fsspec
from fsspec.implementations.local import LocalFileSystem

from ..files import atomic_write_bytes, json_bytes
from ..locations import is_url, local_path, shown

# the protocol -> (the package fsspec needs for it, the boxcrawl extra that brings it, if any)
_DRIVERS = {"s3": ("s3fs", "s3"), "s3a": ("s3fs", "s3"), "gs": ("gcsfs", None), "gcs": ("gcsfs", None)}


class StoreUnavailable(ValueError):
    """A URL no installed fsspec driver can open: one line naming what to install."""


def _filesystem(root: str) -> tuple[Any, str]:
    if not is_url(root):  # a path as it is: no URL parsing ("::" chains, globs) of a folder's name
        return LocalFileSystem(), os.path.abspath(local_path(root))
    protocol = root.split("://", 1)[0].lower()
    try:
        # no listing cache: markers written by other processes must be seen at once
        fs, path = fsspec.core.url_to_fs(root, use_listings_cache=False)
        return fs, str(path)
    except ImportError:
        package, extra = _DRIVERS.get(protocol, (f"the fsspec driver for {protocol}://", None))
        how = f"pip install 'boxcrawl[{extra}]'" if extra else f"pip install {package}"
        needs = f"the [{extra}] extra" if extra else package
        raise StoreUnavailable(f"{shown(root)}: needs {needs}: {how}") from None
    except ValueError as exc:  # an unknown protocol
        raise StoreUnavailable(f"{shown(root)}: {exc}") from None


class Store:
    """The files under one root, addressed by paths relative to it ("pages/part-000001.parquet")."""

    def __init__(self, root: str | Path):
        self.given = str(root)
        self.fs, self.root = _filesystem(self.given)
        self.root = self.root.rstrip("/")

    @property
    def is_local(self) -> bool:
        return isinstance(self.fs, LocalFileSystem)

    @property
    def shown(self) -> str:
        """The root as printed and recorded: a local path as given, a URL without credentials."""
        return str(local_path(self.given)) if self.is_local else shown(self.given)

    def path(self, rel: str) -> str:
        """`rel` in the file system's own terms (no protocol), for `self.fs`."""
        return f"{self.root}/{rel}" if rel else self.root

    def location(self, rel: str) -> str:
        """`rel` as something anyone can open: a local path (relative when the root was), else a URL
        (fsspec.open, pyarrow with this store's file system, webdataset and `datasets` take it)."""
        if self.is_local:
            return str(local_path(self.given) / rel)
        return f"{shown(self.given).rstrip('/')}/{rel}"

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

    def open_read(self, rel: str) -> IO[bytes]:
        return self.fs.open(self.path(rel), "rb")  # type: ignore[no-any-return]

    def write_bytes(self, rel: str, data: bytes) -> None:
        """A whole file: on a local disk written aside and renamed (a reader never sees half of it), an
        object store's put is whole already."""
        if self.is_local:
            os.makedirs(os.path.dirname(self.path(rel)), exist_ok=True)
            atomic_write_bytes(self.path(rel), data)
            return
        with self.open_write(rel) as f:
            f.write(data)

    def write_json(self, rel: str, doc: Any) -> None:
        """config.json, shards.json, a done marker: whole or not at all (see write_bytes), never torn."""
        self.write_bytes(rel, json_bytes(doc))

    def read_json(self, rel: str) -> Any:
        with self.fs.open(self.path(rel), "rb") as f:
            return json.loads(f.read())

    def exists(self, rel: str) -> bool:
        return bool(self.fs.exists(self.path(rel)))

    def is_dir(self, rel: str = "") -> bool:
        """A folder, or on object storage a prefix with at least one object under it."""
        return bool(self.fs.isdir(self.path(rel)))

    def size(self, rel: str) -> int:
        return int(self.fs.size(self.path(rel)))

    def names(self, folder: str) -> list[str]:
        """The file names directly under `folder`, sorted; none when it does not exist."""
        try:
            found = self.fs.ls(self.path(folder), detail=False)
        except FileNotFoundError:
            return []
        return sorted(str(p).rstrip("/").rsplit("/", 1)[-1] for p in found)

    def files_under(self, folder: str) -> list[str]:
        """Every file below `folder`, as paths relative to the root, sorted."""
        base = self.path(folder)
        try:
            found = self.fs.find(base)
        except FileNotFoundError:
            return []
        lead = f"{folder}/" if folder else ""
        return sorted(f"{lead}{str(p)[len(base) + 1 :]}" for p in found if str(p).startswith(base + "/"))

    def publish(self, src: str, dst: str) -> None:
        """Move the file `src` to `dst`: a rename on a local disk, a server-side copy then a delete of
        `src` on object storage. Done already (no `src`) is no error, so a roll-forward may repeat it."""
        if self.is_local:
            os.makedirs(os.path.dirname(self.path(dst)), exist_ok=True)
            try:
                os.replace(self.path(src), self.path(dst))
            except FileNotFoundError:
                pass
            return
        try:
            self.fs.copy(self.path(src), self.path(dst))
        except FileNotFoundError:
            return
        self.remove(src)

    def remove(self, rel: str, recursive: bool = False) -> None:
        """Delete a file (or with `recursive` a folder or prefix); gone already is no error."""
        try:
            self.fs.rm(self.path(rel), recursive=recursive)
        except FileNotFoundError:
            pass

    def remove_all(self) -> None:
        """Delete every file under the root: object by object, so a root that is a whole bucket stays."""
        found = self.fs.find(self.root)
        if found:
            self.fs.rm(found)
