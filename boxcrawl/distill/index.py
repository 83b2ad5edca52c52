"""`--write-index` (no browser): `index` and the aggregated `*feature-derived` arrays the labeling app and
the CSV writer read; optionally the aggregated raw features as JSONL (the original's marshal files could
not be read by Python 3). And `rederive`: aggregated raw features -> derived, refusing to overwrite."""

from __future__ import annotations

import json
import marshal
from pathlib import Path

from ..files import atomic_write_bytes, atomic_write_json, json_bytes
from .features import derived_features
from .store import FEATURE_KINDS, read_json


def _by_extension(root: Path, ext: str) -> list[dict]:
    """Per-entry files `<n><ext>` sorted by index (the original matched on os.path.splitext)."""
    items = []
    for path in root.glob("*" + ext):
        stem = path.name[: -len(ext)]
        if stem.isdigit():
            items.append(read_json(path))
    return sorted(items, key=lambda r: r["index"])


def write_index(out: str | Path, raw_jsonl: bool = False) -> dict[str, int]:
    root = Path(out)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such directory")
    counts = {}
    infos = [i for i in _by_extension(root, ".info") if i.get("screenshot")]  # skipped entries have none
    atomic_write_json(root / "index", infos, indent=2, sort_keys=True)
    counts["index"] = len(infos)
    for kind in FEATURE_KINDS:
        derived = _by_extension(root, f".{kind}-derived")
        atomic_write_json(root / f"{kind}-derived", derived, indent=2, sort_keys=True)
        counts[f"{kind}-derived"] = len(derived)
        if raw_jsonl:
            raw = _by_extension(root, f".{kind}")
            atomic_write_bytes(root / f"{kind}.jsonl", b"".join(json_bytes(r, sort_keys=True) + b"\n" for r in raw))
            counts[f"{kind}.jsonl"] = len(raw)
    return counts


class RederiveError(ValueError):
    pass


def load_raw_entries(path: str | Path) -> list[dict]:
    """A JSON array, JSONL, or the original's marshal list (where Python 3 can read it)."""
    data = Path(path).read_bytes()
    text = None
    try:
        text = data.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        pass
    if text is not None:
        stripped = text.lstrip()
        if stripped.startswith("["):
            return json.loads(text)
        if stripped.startswith("{"):
            return [json.loads(line) for line in text.splitlines() if line.strip()]
    try:
        entries = marshal.loads(data)
    except (EOFError, ValueError, TypeError) as exc:
        raise RederiveError(f"{path}: not JSON, JSONL or a readable marshal file ({exc})") from None
    if not isinstance(entries, list):
        raise RederiveError(f"{path}: marshal data is not a list")
    return entries


def rederive(core: str | Path, out: str | Path) -> int:
    out = Path(out)
    if out.exists():
        raise RederiveError(f"{out} exists; refusing to overwrite")
    entries = load_raw_entries(core)
    result = []
    for n, entry in enumerate(entries):
        try:
            result.append(dict(entry, features=derived_features(entry["index"], entry["features"])))
        except (KeyError, TypeError) as exc:
            raise RederiveError(f"{core}: entry {n} lacks {exc}") from None
    atomic_write_json(out, result, indent=1, sort_keys=False)
    return len(result)
