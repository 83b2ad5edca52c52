"""Where a URL list is: a local path, or an fsspec URL (`s3://bucket/list.parquet`, `gs://…`, `https://…`).

A local list is handed to pyarrow as a path (it maps the file); a remote one is opened through fsspec and
streamed, so a list of millions of rows in object storage is never downloaded whole first.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import IO
from urllib.parse import urlsplit

from ..locations import is_url, local_path, shown

Location = Path | str  # a str only for a URL: Path("s3://b/k") would fold the "//"


class Unreadable(OSError):
    """The list cannot be opened: one line for the user."""


def location(text: str) -> Location:
    """`--urls-file`'s argument: a URL stays as given, anything else (file:// too) is a path."""
    return text if is_url(text) else local_path(text)


def suffix(loc: Location) -> str:
    return loc.suffix if isinstance(loc, Path) else PurePosixPath(urlsplit(loc).path).suffix


@contextmanager
def opened(loc: Location) -> Iterator[Path | IO[bytes]]:
    """`loc` as pyarrow's readers take it: the path itself, or an open remote file."""
    if isinstance(loc, Path):
        if not loc.is_file():
            raise Unreadable(f"cannot read {loc}: no such file")
        yield loc
        return
    import fsspec

    try:
        handle = fsspec.open(loc, "rb").open()
    except ImportError as exc:  # fsspec names the package its protocol needs ("Install s3fs to access S3")
        raise Unreadable(f"cannot read {shown(loc)}: {first_line(exc)}") from None
    except FileNotFoundError:
        raise Unreadable(f"cannot read {shown(loc)}: no such file") from None
    except Exception as exc:  # a store's own errors (credentials, endpoint, permissions), as one line
        raise Unreadable(f"cannot read {shown(loc)}: {type(exc).__name__}: {first_line(exc)}") from None
    with handle:
        yield handle


def read_bytes(loc: Location) -> bytes:
    with opened(loc) as f:
        return f.read_bytes() if isinstance(f, Path) else f.read()


def first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
