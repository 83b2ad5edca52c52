"""The original pipeline's label archives: `archive/archive-<time>.json`, the whole entry list with `good`
where labelled.

`write_features_csv --marked` reads the newest one, so the shape stays the original pipeline's: a JSON array of
the index records (`index`, `url`, `screenshot`, `distilled`) plus `good` (and here also `labeler`, `labeled_at`).
Names are safe (no spaces or colons) and sort by time; writes are atomic; pruning thins by age, not count.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

from ..files import atomic_write_json

ARCHIVE_DIR = "archive"
_OURS = re.compile(r"^archive-(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3})Z(?:-(\d+))?\.json$")
# The original pipeline's strftime("%Y-%m-%e-%H:%M:%S"): space-padded day, colons.
_SEED = re.compile(r"^archive-(\d{4})-(\d{2})-\s?(\d{1,2})-(\d{2}):(\d{2}):(\d{2})\.json$")
# Generational thinning: keep 5 archives per generation, each at least this much older than the one kept before.
GENERATION_GAPS = (timedelta(0), timedelta(minutes=10), timedelta(minutes=100), timedelta(minutes=1000))
PER_GENERATION = 5


def archive_time(name: str) -> datetime | None:
    """When an archive was written, from its name (ours or the original pipeline's); None for other files."""
    if m := _OURS.match(name):
        return datetime.strptime(m.group(1), "%Y-%m-%dT%H-%M-%S.%f").replace(tzinfo=timezone.utc)
    if m := _SEED.match(name):
        y, mo, d, h, mi, s = (int(g) for g in m.groups())
        try:
            return datetime(y, mo, d, h, mi, s)  # the original wrote local time; good enough for ordering
        except ValueError:
            return None
    return None


def _sort_key(path: Path) -> tuple:
    t = archive_time(path.name)
    m = _OURS.match(path.name)
    # Naive (seed) times sort before ours at equal instants; a same-millisecond suffix orders ours.
    return (t.replace(tzinfo=None), 1 if m else 0, int(m.group(2) or 0) if m else 0, path.name)


def list_archives(data_dir: str | Path) -> list[Path]:
    """All archives, oldest first, in a deterministic order (not the directory's)."""
    folder = Path(data_dir) / ARCHIVE_DIR
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.iterdir() if p.is_file() and archive_time(p.name)), key=_sort_key)


def newest_archive(data_dir: str | Path) -> Path | None:
    archives = list_archives(data_dir)
    return archives[-1] if archives else None


def read_archive(path: str | Path) -> list[dict]:
    records = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(records, list):
        raise ValueError(f"{path} is not a JSON array")
    return [r for r in records if isinstance(r, dict)]


def write_archive(data_dir: str | Path, records: list[dict], now: datetime | None = None) -> Path:
    """Write `records` to a new archive file atomically (temp file, fsync, rename); returns its path."""
    folder = Path(data_dir) / ARCHIVE_DIR
    folder.mkdir(exist_ok=True)
    when = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    stamp = when.strftime("%Y-%m-%dT%H-%M-%S.") + f"{when.microsecond // 1000:03d}"  # names sort by time
    path, n = folder / f"archive-{stamp}Z.json", 0
    while path.exists():
        n += 1
        path = folder / f"archive-{stamp}Z-{n}.json"
    return atomic_write_json(path, records)


def prune_archives(data_dir: str | Path) -> list[Path]:
    """Delete archives the generations do not keep; returns what was deleted. Only our own names are pruned."""
    ours = [p for p in list_archives(data_dir) if _OURS.match(p.name)]
    deleted: list[Path] = []
    generation, kept_in_generation, last_kept = 0, 0, None
    for path in reversed(ours):  # newest first: the newest is always kept
        t = archive_time(path.name)
        if kept_in_generation == PER_GENERATION:
            generation, kept_in_generation = generation + 1, 0
        if generation >= len(GENERATION_GAPS) or (last_kept and last_kept - t < GENERATION_GAPS[generation]):
            path.unlink(missing_ok=True)
            deleted.append(path)
            continue
        kept_in_generation += 1
        last_kept = t
    return deleted
