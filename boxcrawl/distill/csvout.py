"""`boxcrawl features-csv` (write_features_csv.py): derived features + labels -> training CSVs.

--marked ARCHIVE   labeling-app archive: good 0 -> 0, 1 or 2 (good with mistakes) -> 1; error (-1) and
                   unlabeled entries dropped.
--distilled FILE   long-article labels from the aggregated `dfeature-derived`: distilled innerText of at least
                   --min-bytes UTF-8 bytes (1000) -> 1; only pages whose native result is distillable and not
                   mobile-friendly (as Chrome's long-article model was trained).
Writes OUT (the main CSV), `<base>-feature-<name>.csv` per feature and `<base>-group-<g>.csv` per group.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ..files import atomic_write_bytes
from .features import V1_NAMES, V1_NO_PATH, as_dict

PATH_GROUP = V1_NAMES[V1_NAMES.index("forum") : V1_NAMES.index("lastSegmentLength") + 1]


def groups(names: list[str]) -> dict[str, list[str]]:
    """The original's nine groups. `visibleElement` and `entries` name columns the derived list no longer has."""
    return {
        "path": list(PATH_GROUP),
        "numElement": [
            "numElements",
            "numAnchors",
            "anchorRatio",
            "numForms",
            "numTextInput",
            "numPasswordInput",
            "numPPRE",
        ],
        "visibleElement": ["visibleElements", "visiblePPRE"],
        "entries": ["entries"],
        "v1": list(V1_NAMES),
        "v1NoPath": list(V1_NO_PATH),
        "allElement": [n for n in names if n not in ("id", "sin")],
        "mozScores": [n for n in names if "moz" in n],
        "noText": [n for n in names if not any(w in n for w in ("inner", "Content", "WordCount"))],
    }


class CsvError(ValueError):
    pass


def _key(entry: dict) -> str:
    return entry.get("id") or entry["url"].strip()


def labelled_rows(
    features: list[dict],
    marked: list[dict] | None = None,
    distilled: list[dict] | None = None,
    min_bytes: int = 1000,
    warn=print,
) -> list[tuple[float, dict]]:
    """(label, derived dict) per labelled entry, in the feature file's order. Joined on the stable id when
    both sides carry one, else on the URL with whitespace stripped on both sides."""
    by_id = {e["id"]: e for e in features if e.get("id")}
    by_url = {e["url"].strip(): e for e in features}

    def find(entry: dict):
        return by_id.get(entry.get("id")) or by_url.get(entry["url"].strip())

    labels: dict[int, float] = {}
    if marked is not None:
        for entry in marked:
            good = entry.get("good")
            if good is None or good < 0:
                continue
            feature = find(entry)
            if feature is None:
                warn(f"warning: labelled entry {entry.get('index')} {entry['url']!r} has no features; skipped")
                continue
            labels[id(feature)] = 0.0 if good == 0 else 1.0
    else:
        no_native = 0
        for entry in distilled or []:
            d = as_dict(entry["features"])
            if not d.get("innerTextLength"):
                continue
            feature = find(entry)
            if feature is None:
                continue
            native = feature.get("native")
            if native is None or "distillable" not in native:
                no_native += 1
                continue
            mobile = native.get("is_mobile_friendly", native.get("features", {}).get("isMobileFriendly"))
            if mobile or not native.get("distillable"):
                continue
            labels[id(feature)] = 1.0 if d["innerTextLength"] >= min_bytes else 0.0
        if no_native:
            warn(f"warning: {no_native} entries have no native distillability result; skipped")
    return [(labels[id(f)], as_dict(f["features"])) for f in features if id(f) in labels]


def _fmt(value) -> str:
    return repr(float(value))  # every value through float(), as the original: True -> 1.0


def _csv_bytes(columns: list[str], rows: list[tuple[float, dict]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["good"] + columns)
    for label, d in rows:
        w.writerow([_fmt(label)] + [_fmt(d[c]) for c in columns])
    return buf.getvalue().encode()


def write_csvs(out: Path, rows: list[tuple[float, dict]], drop_id_sin: bool = False, warn=print) -> list[Path]:
    if not rows:
        raise CsvError("no labelled entries to write")
    names = list(rows[0][1])
    if drop_id_sin:
        names = [n for n in names if n not in ("id", "sin")]
    base = out.with_suffix("") if out.suffix == ".csv" else out
    written = [out]
    atomic_write_bytes(out, _csv_bytes(names, rows))
    for name in names:
        path = base.with_name(f"{base.name}-feature-{name}.csv")
        atomic_write_bytes(path, _csv_bytes([name], rows))
        written.append(path)
    for group, cols in groups(names).items():
        present = [c for c in cols if c in rows[0][1]]
        missing = [c for c in cols if c not in rows[0][1]]
        if not present:
            warn(f"warning: group {group} has none of its columns ({', '.join(missing)}); not written")
            continue
        if missing:
            warn(f"warning: group {group}: no column {', '.join(missing)}")
        path = base.with_name(f"{base.name}-group-{group}.csv")
        atomic_write_bytes(path, _csv_bytes(present, rows))
        written.append(path)
    return written
