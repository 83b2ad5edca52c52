"""Done markers: how a sharded dataset says which of its shards are whole.

A named shard's files (`wds/part-N.tar`, `pages/part-N.parquet`, `samples/part-N.parquet`) are written in
place, then `_done/part-N.json` is written last and names them. A shard without its marker was cut short
(a kill, a crash, power) and is invisible: readers take only the files markers name, and a rerun writes
the shard again from scratch over whatever it left. No shard file is renamed (a marker is written whole:
renamed into place on a disk, one put on object storage), so object stores work the same way.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .store import Store

DONE = "_done"
PLAN_FILE = "shards.json"  # see plan.py


def utc_now() -> str:
    """A marker's time stamps: UTC, to the millisecond, in ISO 8601."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def marker(shard: str) -> str:
    return f"{DONE}/{shard}.json"


def write_marker(store: Store, shard: str, doc: dict[str, Any]) -> None:
    store.write_json(marker(shard), {"shard": shard, **doc})


def done_shards(store: Store) -> dict[str, dict[str, Any]]:
    """shard name -> its marker, for every shard that is done. A marker that cannot be read (torn by a
    power cut, or not boxcrawl's) marks nothing: that shard is rendered again."""
    done = {}
    for name in store.names(DONE):
        if not name.endswith(".json") or name.startswith("."):
            continue
        try:
            doc = store.read_json(f"{DONE}/{name}")
        except (OSError, ValueError):
            continue
        if isinstance(doc, dict) and isinstance(doc.get("files", []), list):
            done[name.removesuffix(".json")] = doc
    return done


def is_sharded(store: Store) -> bool:
    """A dataset written as named input shards (`render --shard-urls`): it has markers, or the plan its
    first run writes before any shard (until the first marker, every file in it is a shard cut short)."""
    return store.is_dir(DONE) or store.exists(PLAN_FILE)


def committed(store: Store, sub: str, ext: str) -> list[str]:
    """The files of `sub` with extension `ext` that count, as paths relative to the store's root: all of
    them in a dataset committed by the frontier (nothing half-written is ever in place there; staged files
    are under .staging), only those a marker names in a sharded one."""
    if not is_sharded(store):
        return [f"{sub}/{name}" for name in store.names(sub) if name.endswith(f".{ext}") and not name.startswith(".")]
    # a marker names its own shard's files and no other path (a dataset from anyone is read safely)
    found = [
        f"{sub}/{shard}.{ext}"
        for shard, doc in done_shards(store).items()
        if f"{sub}/{shard}.{ext}" in doc.get("files", [])
    ]
    return sorted(found)


def committed_files(root: Path, sub: str, ext: str) -> list[Path]:
    """`committed` for a local folder, as paths under `root`."""
    return [root / rel for rel in committed(Store(root), sub, ext)]
