"""Whole-or-nothing file writes and one-process-per-folder locks, used by every stage that writes outside shards."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .unicode import LONE_SURROGATE


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Temp file in the same folder, fsync, rename: a kill or power cut never leaves a half-written file."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def json_bytes(obj: object, indent: int | None = None, sort_keys: bool = False) -> bytes:
    """``obj`` as JSON in valid UTF-8: non-ASCII text as it is, and each lone surrogate (see unicode.py)
    as its \\uXXXX escape, as Python 2's json wrote them, so the file reads back to the same text."""
    text = json.dumps(obj, indent=indent, sort_keys=sort_keys, ensure_ascii=False)
    return LONE_SURROGATE.sub(lambda m: f"\\u{ord(m[0]):04x}", text).encode("utf-8")


def atomic_write_json(path: str | Path, obj: object, indent: int | None = 2, sort_keys: bool = True) -> Path:
    return atomic_write_bytes(path, json_bytes(obj, indent, sort_keys) + b"\n")


@contextlib.contextmanager
def exclusive_lock(path: str | Path, busy_error: Exception) -> Iterator[None]:
    """Hold an flock on `path` for the block; raise `busy_error` at once if another process holds it.

    The kernel drops the lock when its holder dies, so a kill -9 never leaves a stale lock behind.
    """
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise busy_error from None
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
