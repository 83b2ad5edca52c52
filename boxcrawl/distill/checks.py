"""Sanity checks of the original pipeline: check-derived, check-distilled-mhtml, mhtml-corpus."""

from __future__ import annotations

import json
import os
from pathlib import Path

from .features import V1_NAMES, V1_NO_PATH, v1_from_derived
from .store import read_json

TOLERANCE = 0.001
FAILED_TEXTS = ("No data found.", "Failed to find article")


def compare_derived(records: list[dict], from_mhtml: bool = False) -> tuple[int, int, int, list[str]]:
    """(mismatching, compared, skipped, messages). Entries without a native record are not counted."""
    names = V1_NO_PATH if from_mhtml else V1_NAMES
    wrong = compared = skipped = 0
    messages = []
    for record in records:
        native = record.get("native")
        if not native or "derived_features" not in native:
            continue
        ours = dict(zip(V1_NAMES, v1_from_derived(record["features"])))
        theirs = dict(zip(V1_NAMES, native["derived_features"]))
        nf = native.get("features", {})
        native_elements = nf.get("element_count", nf.get("elementCount"))
        if not from_mhtml and native_elements is not None and ours["elementCount"] != native_elements:
            skipped += 1  # the DOM changed between the two collections
            continue
        compared += 1
        for name in names:
            if abs(ours[name] - float(theirs[name])) > TOLERANCE:
                wrong += 1
                messages.append(
                    f"{record.get('index')} {record['url']}: {name} ours {ours[name]:g} "
                    f"native {float(theirs[name]):g} ({native.get('source', 'native')})"
                )
                break
    return wrong, compared, skipped, messages


def compare_distilled(root: Path) -> tuple[int, int, int, list[str]]:
    """(different, compared, not comparable, messages). Both sides go through Chrome's distiller (a snapshot
    is given to it at the page's URL, distill/snapshot.py); a pair where one side fell back to
    readability-lxml is counted apart, since two distillers' texts differ by construction. A message shows
    the texts from a little before where they part."""
    different = total = other_distiller = 0
    messages = []
    for mpath in sorted(root.glob("*.mdfeature"), key=lambda p: p.name):
        stem = mpath.name[: -len(".mdfeature")]
        dpath = root / f"{stem}.dfeature"
        if not dpath.exists():
            continue
        mrec, drec = read_json(mpath), read_json(dpath)
        if mrec.get("distiller") != drec.get("distiller"):
            other_distiller += 1
            continue
        total += 1
        mtext = mrec["features"]["innerText"]
        dtext = drec["features"]["innerText"]
        if mtext == dtext:
            continue
        if mtext and mtext in dtext:
            continue  # the live page had next pages stitched on
        different += 1
        failed = next((t for t in FAILED_TEXTS if t in mtext), None)
        if failed:
            messages.append(f"{stem}: failed to distill from MHTML ({failed})")
        else:
            at = len(os.path.commonprefix([dtext, mtext]))
            start = max(0, at - 60)
            messages.append(
                f"{stem}: different distilled content from character {at}\n"
                f"  live: {dtext[start : at + 240]!r}\n  mhtml: {mtext[start : at + 240]!r}"
            )
    return different, total, other_distiller, messages


def corpus_record(root: Path, entry: str) -> str:
    """One eval-corpus record; raises ValueError with the reason to skip."""
    feature, info, mhtml = (root / f"{entry}.feature", root / f"{entry}.info", root / f"{entry}.mhtml")
    for p in (feature, info, mhtml):
        if not p.exists():
            raise ValueError(f"missing {p.name}")
    data = mhtml.read_bytes()
    if not data.startswith(b"From:"):
        raise ValueError("not an MHTML file (does not start with 'From:')")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"MHTML is not UTF-8 ({exc.reason} at byte {exc.start})") from None
    features = read_json(feature)["features"]
    url = read_json(info)["url"]
    return (
        f"{url}\nurl: {json.dumps(url)}\ntitle: {json.dumps(features.get('title', ''))}\n"
        f'html: {json.dumps(text)}\ncontent: ""\n\n'
    )
