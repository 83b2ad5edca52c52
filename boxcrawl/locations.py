"""Where data is: a local path, or a URL naming object storage (`s3://bucket/prefix`, `gs://...`). Only
the standard library here: the command line asks this before it imports any file system driver."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")


def is_url(text: str | Path) -> bool:
    """Whether `text` names object storage (a scheme other than file://), not a local folder."""
    found = SCHEME.match(str(text))
    return found is not None and found.group(1).lower() not in ("file", "local")


def local_path(text: str | Path) -> Path:
    """A local folder given as a path or a file:// URL."""
    text = str(text)
    return Path(text[len("file://") :] if text.lower().startswith("file://") else text)


def shown(url: str | Path) -> str:
    """`url` without any user:password@ and without its query (a presigned URL's signature): what is
    printed and recorded (config.json, the card, errors and warnings)."""
    text = str(url)
    if not is_url(text):
        return text
    parts = urlsplit(text)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=host, query="", fragment=""))


def output_location(text: str) -> str:
    """--out as given, but a file:// URL as the local folder it names (which is then locked like any)."""
    return str(local_path(text)) if text.lower().startswith("file://") else text
