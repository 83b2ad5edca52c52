"""`boxcrawl features-csv` (write_features_csv.py): derived features + labels -> training CSVs.

--marked ARCHIVE   labeling-app archive: good 0 -> 0, 1 or 2 (good with mistakes) -> 1; error (-1) and
                   unlabeled entries dropped.
--distilled FILE   long-article labels from the aggregated `dfeature-derived`: a distilled article of at least
                   --min-bytes UTF-8 bytes (1000) -> 1; only pages whose native result is distillable and not
                   mobile-friendly (as Chrome's long-article model was trained). What is measured is the
                   article alone (`article_bytes`: the reader view's #content, the same for Chrome's
                   distiller and the readability fallback); the original measured the viewer's whole
                   innerText, Chrome's own text included (--measure viewer, and files without article_bytes).
Writes OUT (the main CSV), `<base>-feature-<name>.csv` per feature and `<base>-group-<g>.csv` per group.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ..files import atomic_write_bytes
from .features import V1_NAMES, V1_NO_PATH, as_dict
from .native import distillable, mobile_friendly

PATH_GROUP = V1_NAMES[V1_NAMES.index("forum") : V1_NAMES.index("lastSegmentLength") + 1]
NUM_ELEMENT = (
    "numElements",
    "numAnchors",
    "anchorRatio",
    "numForms",
    "numTextInput",
    "numPasswordInput",
    "numPPRE",
)
# These two groups name features of an older feature set that the 48 derived features no longer have;
# the original still writes their files, holding the label alone. Kept as they are, for the same files.
VISIBLE_ELEMENT = ("visibleElements", "visibleAnchors", "visiblePPRE", "visibleAnchorOverPPre")
ENTRIES = (
    "numSection",
    "numSection2",
    "numSection3",
    "numArticle",
    "numArticle2",
    "numArticle3",
    "numEntries",
    "numEntries2",
    "numEntries3",
    "numH1",
    "numH2",
    "numH3",
    "numH4",
    "headCountSum",
    "headCountMax",
    "entryCountSum",
    "entryCountMax",
)


def groups(names: list[str]) -> dict[str, list[str]]:
    """The original's nine groups (write_features_csv.py `getGroups`), each in its own column order; a
    group's columns that `names` lacks are left out when the file is written, as the original does."""
    return {
        "path": list(PATH_GROUP),
        "numElement": list(NUM_ELEMENT),
        "visibleElement": list(VISIBLE_ELEMENT),
        "entries": list(ENTRIES),
        "v1": list(V1_NAMES),
        "v1NoPath": list(V1_NO_PATH),
        "allElement": [*NUM_ELEMENT, *VISIBLE_ELEMENT, *ENTRIES],
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
    measure: str = "article",
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
        no_native = viewer_measured = 0
        for entry in distilled or []:
            feature = find(entry)
            if feature is None:
                continue
            native = feature.get("native")
            if distillable(native) is None:
                no_native += 1
                continue
            if mobile_friendly(native) or not distillable(native):
                continue
            length = entry.get("article_bytes") if measure == "article" else None
            if length is None:
                viewer_measured += measure == "article"
                length = as_dict(entry["features"]).get("innerTextLength", 0)
            if not length:
                continue  # nothing was distilled
            labels[id(feature)] = 1.0 if length >= min_bytes else 0.0
        if no_native:
            warn(f"warning: {no_native} entries have no native distillability result; skipped")
        if viewer_measured:
            warn(
                f"warning: {viewer_measured} distilled entries carry no article_bytes (not written by boxcrawl "
                "distill); measured by the whole viewer's innerText, as the original"
            )
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


def write_csvs(
    out: Path, rows: list[tuple[float, dict]], drop_id_sin: bool = False, warn=print, overwrite: bool = False
) -> list[Path]:
    """OUT, and beside it one CSV per feature and per group (58 files with the 48 derived features).
    CsvError, before writing anything, when one of them exists and `overwrite` is not set."""
    if not rows:
        raise CsvError("no labelled entries to write")
    names = list(rows[0][1])
    if drop_id_sin:
        names = [n for n in names if n not in ("id", "sin")]
    base = out.with_suffix("") if out.suffix == ".csv" else out
    files = {out: names}
    files.update({base.with_name(f"{base.name}-feature-{name}.csv"): [name] for name in names})
    for group, cols in groups(names).items():
        present = [c for c in cols if c in names]
        if not present:
            warn(f"note: group {group}: the derived features have none of its columns; its file holds only `good`")
        files[base.with_name(f"{base.name}-group-{group}.csv")] = present
    if not overwrite and (taken := [p for p in files if p.exists()]):
        more = f" and {len(taken) - 1} more" if len(taken) > 1 else ""
        raise CsvError(f"{taken[0]}{more} exist already; pass --force to overwrite (or another --out)")
    for path, columns in files.items():
        atomic_write_bytes(path, _csv_bytes(columns, rows))
    return list(files)
