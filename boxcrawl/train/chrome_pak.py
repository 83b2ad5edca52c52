"""Read resources out of a Chromium `.pak` file (the grit data pack, versions 4 and 5).

No maintained Python package reads this format (Chromium's own `data_pack.py` lives in its source tree), and
it is small: a header, a sorted table of (id, offset) entries with one sentinel, an alias table, then data.
Chromium gzips some resources in the pack; those start with the gzip magic and are returned decompressed.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

DEFAULT_PAK = Path("/usr/lib/chromium/resources.pak")
_GZIP_MAGIC = b"\x1f\x8b"


class PakError(ValueError):
    """The file is not a data pack this reader understands."""


def read_pak(path: str | Path = DEFAULT_PAK) -> dict[int, bytes]:
    """Every resource in the pack by id (aliases resolved, gzipped ones decompressed)."""
    try:
        blob = Path(path).read_bytes()
    except OSError as exc:
        raise PakError(f"cannot read {path}: {exc.strerror}") from None
    if len(blob) < 12:
        raise PakError(f"{path}: too short for a .pak file")
    version = struct.unpack_from("<I", blob, 0)[0]
    if version == 5:
        _, _encoding, count, alias_count = struct.unpack_from("<IIHH", blob, 0)
        table = 12
    elif version == 4:
        _, count, _encoding = struct.unpack_from("<IIB", blob, 0)
        alias_count, table = 0, 9
    else:
        raise PakError(f"{path}: unsupported .pak version {version}")
    entries = [struct.unpack_from("<HI", blob, table + 6 * i) for i in range(count + 1)]
    if entries[-1][1] > len(blob):
        raise PakError(f"{path}: truncated .pak file")
    resources = {entries[i][0]: blob[entries[i][1] : entries[i + 1][1]] for i in range(count)}
    aliases = table + 6 * (count + 1)
    for i in range(alias_count):
        alias_id, entry_index = struct.unpack_from("<HH", blob, aliases + 4 * i)
        resources[alias_id] = resources[entries[entry_index][0]]
    return {rid: _maybe_gunzip(data) for rid, data in resources.items()}


def _maybe_gunzip(data: bytes) -> bytes:
    if data[:2] != _GZIP_MAGIC:
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError):
        return data  # a resource that merely starts with the magic bytes
