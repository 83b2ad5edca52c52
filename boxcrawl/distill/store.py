"""The output directory: the original pipeline's per-entry layout (`<index>.png`, `<index>.feature`, ...),
atomic writes and the entry register that keeps entry numbers stable across runs."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from ..files import atomic_write_json
from ..urllist import UrlLine

# Per-entry feature files: stem suffix -> what page they describe.
FEATURE_KINDS = ("feature", "dfeature", "mfeature", "mdfeature")
REGISTER = "entries.json"


def read_json(path: Path):
    with open(path, "rb") as f:
        return json.loads(f.read().decode("utf-8", "surrogatepass"))


def entry_id(url: str) -> str:
    """Stable id of a URL: the first 16 hex digits of its SHA-1 (the same key `crawl` uses for a page)."""
    return hashlib.sha1(url.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Entry:
    index: int  # the file-name number; equals the URL's line number when that was free
    id: str  # stable: entry_id(url)
    url: str


class OutDir:
    """Paths of one output directory. File names are the original pipeline's: `<index>.<kind>`."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def path(self, index: int, suffix: str) -> Path:
        """suffix like ".png", "-distilled.png", ".feature", ".feature-derived", ".info"."""
        return self.root / f"{index}{suffix}"

    # --- the entry register: url -> (index, id), so numbers survive edits to the URL file ---------

    def register(self, lines: list[UrlLine]) -> list[Entry]:
        """Give every URL its entry. A URL seen before keeps its index; a new one takes its line number
        when no other URL holds it, else the next free number. Written atomically."""
        reg_path = self.root / REGISTER
        known: dict[str, dict] = {}
        if reg_path.exists():
            for item in read_json(reg_path):
                known[item["url"]] = item
        used = {item["index"] for item in known.values()}
        next_free = max(used, default=-1) + 1
        entries = []
        changed = False
        for ul in lines:
            item = known.get(ul.url)
            if item is None:
                index = ul.line if ul.line not in used else max(next_free, max(used, default=-1) + 1)
                item = {"index": index, "id": entry_id(ul.url), "url": ul.url}
                known[ul.url] = item
                used.add(index)
                next_free = max(used) + 1
                changed = True
            entries.append(Entry(item["index"], item["id"], item["url"]))
        if changed:
            atomic_write_json(reg_path, sorted(known.values(), key=lambda i: i["index"]))
        return entries

    def registered(self) -> dict[int, Entry]:
        reg_path = self.root / REGISTER
        if not reg_path.exists():
            return {}
        return {i["index"]: Entry(i["index"], i["id"], i["url"]) for i in read_json(reg_path)}


def utf8_len(text: str | None) -> int:
    return len((text or "").encode("utf-8", "surrogatepass"))
