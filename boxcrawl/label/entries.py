"""The entries to label: the data dir's `index` (a JSON array of `.info` records, sorted by index).

A record is `{index, url, screenshot, distilled}`; the screenshot paths were written by the crawler relative to
wherever it ran, so only their file names are trusted, and only if that file sits in the data dir itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


class EntriesError(Exception):
    """The data dir cannot be read as a labeling set; one line for the user."""


@dataclass(frozen=True)
class Entry:
    index: int  # the entry's stable id: the crawler's line index, also the file prefix
    url: str
    screenshot: str | None  # file name inside the data dir, or None when the file is missing
    distilled: str | None
    record: dict = field(default_factory=dict, compare=False, hash=False)  # the index record as read

    @property
    def stable_id(self) -> str | None:
        """The crawler's content-independent id, when its records carry one (`id`)."""
        value = self.record.get("id")
        return value if isinstance(value, str) and value else None


def _image_name(data_dir: Path, recorded: object, fallback: str) -> str | None:
    names = [Path(recorded).name] if isinstance(recorded, str) and recorded else []
    names.append(fallback)
    for name in names:
        try:
            if name.lower().endswith(IMAGE_SUFFIXES) and (data_dir / name).is_file():
                return name
        except OSError:  # a name the file system refuses (too long): no such file here
            continue
    return None


def _records(data_dir: Path) -> list[dict]:
    index_file = data_dir / "index"
    if index_file.is_file():
        try:
            records = json.loads(index_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise EntriesError(f"cannot read {index_file}: {exc}") from None
        if not isinstance(records, list):
            raise EntriesError(f"{index_file} is not a JSON array")
        return records
    # No aggregated index yet (the crawler writes it on request): read the per-entry records directly.
    records = []
    for info in sorted(data_dir.glob("*.info")):
        try:
            records.append(json.loads(info.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise EntriesError(f"cannot read {info}: {exc}") from None
    if not records:
        raise EntriesError(f"{data_dir} has no 'index' file and no *.info records")
    return records


def load_entries(data_dir: str | Path) -> list[Entry]:
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise EntriesError(f"no such data dir: {data_dir}")
    entries: dict[int, Entry] = {}
    for n, rec in enumerate(_records(data_dir)):
        if not isinstance(rec, dict) or not isinstance(rec.get("index"), int) or not isinstance(rec.get("url"), str):
            raise EntriesError(f"index record #{n} needs an integer 'index' and a string 'url'")
        i = rec["index"]
        if i in entries:
            raise EntriesError(f"index {i} appears twice in the index")
        entries[i] = Entry(
            i,
            rec["url"],
            _image_name(data_dir, rec.get("screenshot"), f"{i}.png"),
            _image_name(data_dir, rec.get("distilled"), f"{i}-distilled.png"),
            rec,
        )
    return [entries[i] for i in sorted(entries)]
