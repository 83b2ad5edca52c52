"""`boxcrawl show DIR`: one self-contained HTML page to look at a dataset.

Samples with every token box drawn and one token per sample masked in red (the
original project's figure), plus the numbers: pages ok/failed, samples, tokens,
visible share, and the failed pages with their errors. Samples that fail the ink
check (``boxcrawl audit``'s: more than 10 % of their tokens without ink under the
box) get an orange frame, and those tokens an orange dashed box.

A dataset may come from anywhere, so nothing in it is trusted: every string is
escaped (text and attribute values alike), every number is checked before it is
written, URLs are links only when they are http(s), images are only the raster
formats PIL reads as such, and the page carries a Content-Security-Policy that
allows no script, no fetch and no style but its own. A sample or a file that
cannot be read is skipped and counted; the rest of the gallery is still written.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import math
import re
import tarfile
from collections import Counter
from pathlib import Path
from typing import Iterator

import pyarrow.parquet as pq
from PIL import Image

from ..audit.report import FAIL_SHARE
from ..inkcheck import Gray
from ..records import NOT_FAILED, Outcome
from ..write.markers import committed_files
from ..write.reader import IMAGE_EXTS, open_dataset, shard_members

# PIL's format name -> MIME type: the only images the gallery embeds
MIME = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
MAX_PIXELS = 40_000_000  # a bigger image is not a crop: skipped
MAX_JSON_BYTES = 16 << 20
MAX_IMAGE_BYTES = 64 << 20
MAX_TOKENS_DRAWN = 5000  # per sample
MAX_TEXT = 2000  # characters of one string field shown
MAX_FAILED_SHOWN = 500
PAGE_COLUMNS = ("url", "outcome", "error", "n_tokens", "n_visible")
INVALID = '<i class="bad">invalid</i>'

STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;background:#fafafa}
h1{font-size:20px;margin:0 0 8px} table{border-collapse:collapse;margin:8px 0 20px}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:left} th{background:#eee}
.grid{display:flex;flex-wrap:wrap;gap:16px} figure{margin:0;background:#fff;border:1px solid #ddd;padding:6px}
.crop{position:relative;display:inline-block;line-height:0} .crop svg{position:absolute;left:0;top:0}
figcaption{font-size:12px;max-width:512px;word-break:break-all;margin-top:4px}
.box{fill:none;stroke:#1565c0;stroke-width:1} .mask{fill:#e53935;stroke:#e53935}
.noink{fill:rgba(255,152,0,.25);stroke:#ef6c00;stroke-width:2;stroke-dasharray:3 2}
figure.fails{border:3px solid #ef6c00} .fails figcaption b.warn{color:#ef6c00}
.bad,.note{color:#b71c1c} td,li{word-break:break-all}
"""
# No script at all; images only from data: URLs; only the style above (by its hash, so a <style>
# smuggled in by the data would not apply either); no <base>, no form posts.
CSP = (
    "default-src 'none'; img-src data:; "
    f"style-src 'sha256-{base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()}'; "
    "base-uri 'none'; form-action 'none'"
)

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")  # and lone surrogates
_WEB_URL = re.compile(r"https?://[^\s\x00-\x1f\x7f]+\Z", re.IGNORECASE)


def masked_token(key: str, n: int) -> int:
    """The token to mask, fixed per sample so the gallery is the same every time."""
    return int(hashlib.sha1(key.encode("utf-8", "surrogatepass")).hexdigest(), 16) % n if n else -1


# -- the checked conversions: whatever the data holds, these return safe HTML or None --------------


def _text(value, limit: int = MAX_TEXT) -> str | None:
    """A string field as HTML (escaped for text and for quoted attribute values), None if not a string."""
    if not isinstance(value, str):
        return None
    if len(value) > limit:
        value = value[:limit] + "…"
    return html.escape(_CONTROL.sub("\ufffd", value), quote=True)


def _number(value) -> float | None:
    """A finite JSON/Arrow number, or None (strings, booleans, NaN, infinities and the rest)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        value = float(value)
    except OverflowError:
        return None
    return value if math.isfinite(value) else None


def _count(value) -> int | None:
    """A non-negative integer, or None."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def _fmt(value: float) -> str:
    """A number for an attribute: digits, at most one point and a sign, nothing else."""
    s = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _box(value) -> tuple[float, float, float, float] | None:
    """[x0, y0, x1, y1] of four finite numbers with x0 <= x1 and y0 <= y1, or None."""
    if not isinstance(value, (list, tuple)) or len(value) != 4:
        return None
    nums = [_number(v) for v in value]
    if any(v is None for v in nums) or nums[2] < nums[0] or nums[3] < nums[1]:
        return None
    return nums[0], nums[1], nums[2], nums[3]


def _url(value) -> str:
    """A URL as text; a link only when it is http(s)."""
    text = _text(value)
    if text is None:
        return "" if value is None else INVALID
    if _WEB_URL.match(value) and len(value) <= MAX_TEXT:
        return f'<a href="{text}" rel="noopener noreferrer nofollow">{text}</a>'
    return text


# -- reading, tolerant of anything ---------------------------------------------------------------


def _pages(root: Path, problems: Counter) -> Iterator[dict]:
    """The page rows, only the columns the gallery shows; a file that cannot be read is counted."""
    for path in committed_files(root, "pages", "parquet"):
        try:
            f = pq.ParquetFile(path)
            columns = [c for c in PAGE_COLUMNS if c in f.schema_arrow.names]
            if not columns:
                problems["page files without page columns"] += 1
                continue
            for batch in f.iter_batches(batch_size=64, columns=columns):
                yield from batch.to_pylist()
        except Exception:  # noqa: BLE001 - untrusted file: any failure is that file's, not the gallery's
            problems["page files that could not be read"] += 1


def _sample_groups(shards: list[Path], problems: Counter) -> Iterator[tuple[str, dict, tarfile.TarFile]]:
    """(key, {extension: member}, tar) per sample of every shard, grouped as the reader groups them;
    nothing is read yet. A shard that is not a tar, or is cut short, is counted."""
    for shard in shards:
        try:
            with tarfile.open(shard) as tar:
                for key, parts in shard_members(tar):
                    yield key, parts, tar
        except Exception:  # noqa: BLE001 - untrusted file
            problems["shards that could not be read (whole or in part)"] += 1


class Skip(Exception):
    """A sample that cannot be shown; its message says why."""


def _read(tar: tarfile.TarFile, member: tarfile.TarInfo, limit: int, what: str) -> bytes:
    if member.size > limit:
        raise Skip(f"{what} too large")
    try:
        return tar.extractfile(member).read()
    except Exception as exc:  # noqa: BLE001 - a truncated or odd member
        raise Skip(f"{what} unreadable") from exc


def _load(parts: dict, tar: tarfile.TarFile) -> tuple[dict, bytes, Image.Image]:
    """The sample's metadata, image bytes and opened image, or Skip."""
    if "json" not in parts:
        raise Skip("no metadata")
    try:
        meta = json.loads(_read(tar, parts["json"], MAX_JSON_BYTES, "metadata"))
    except (ValueError, RecursionError):
        raise Skip("metadata not JSON") from None
    if not isinstance(meta, dict):
        raise Skip("metadata not an object")
    ext = next((e for e in IMAGE_EXTS if e in parts), None)
    if ext is None:
        raise Skip("no image")
    data = _read(tar, parts[ext], MAX_IMAGE_BYTES, "image")
    try:
        image = Image.open(io.BytesIO(data), formats=list(MIME))
        if image.width * image.height > MAX_PIXELS:
            raise Skip("image too large")
        image.load()
    except Skip:
        raise
    except Exception:  # noqa: BLE001 - PIL raises many kinds on bad data
        raise Skip("image unreadable") from None
    return meta, data, image


# -- the page ------------------------------------------------------------------------------------


def write_gallery(root: str | Path, out: str | Path | None = None, limit: int = 60) -> Path:
    ds = open_dataset(root)
    out = Path(out) if out else Path(root) / "gallery.html"
    problems: Counter = Counter()
    outcomes, errors, n_failed = Counter(), [], 0
    n_pages = n_tokens = n_visible = 0
    for page in _pages(ds.root, problems):
        n_pages += 1
        outcome = page.get("outcome")
        shown = _text(outcome, 200)
        if shown is None:
            problems["pages with an invalid outcome"] += 1
            shown = INVALID
        outcomes[shown] += 1
        for field in ("n_tokens", "n_visible"):
            if page.get(field) is not None and _count(page.get(field)) is None:
                problems[f"pages with an invalid {field}"] += 1
        n_tokens += _count(page.get("n_tokens")) or 0
        n_visible += _count(page.get("n_visible")) or 0
        if outcome not in NOT_FAILED:
            n_failed += 1
            if len(errors) < MAX_FAILED_SHOWN:
                errors.append((_url(page.get("url")), shown, _error(page.get("error"))))
    figures, skipped, n_samples = [], Counter(), 0
    for key, parts, tar in _sample_groups(ds.shards, problems):
        n_samples += 1
        if len(figures) >= limit:
            continue
        try:
            figures.append(_figure(key, *_load(parts, tar)))
        except Skip as exc:
            skipped[str(exc)] += 1
        except Exception:  # noqa: BLE001 - untrusted data: one sample never stops the gallery
            skipped["could not be drawn"] += 1
    n_skipped = outcomes[Outcome.SKIPPED.value]  # --lang: neither ok nor failed
    ok = n_pages - n_failed - n_skipped
    stats = [
        ("pages", n_pages),
        ("pages ok", ok),
        *([("pages skipped (--lang)", n_skipped)] if n_skipped else []),
        ("pages failed", n_failed),
        ("samples", n_samples),
        ("samples per ok page", f"{n_samples / ok:.2f}" if ok else "-"),
        ("tokens (all)", n_tokens),
        ("visible share", f"{100 * n_visible / n_tokens:.1f} %" if n_tokens else "-"),
    ]
    title = _text(str(root))
    parts = [
        f'<!doctype html><meta charset=utf-8><meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f'<meta name="referrer" content="no-referrer"><title>boxcrawl: {title}</title>',
        f"<style>{STYLE}</style><h1>boxcrawl dataset: {title}</h1>",
        "<table>" + "".join(f"<tr><th>{k}</th><td>{html.escape(str(v))}</td></tr>" for k, v in stats) + "</table>",
        "<table><tr><th>outcome</th><th>pages</th></tr>"
        + "".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in sorted(outcomes.items()))
        + "</table>",
    ]
    if problems:
        parts.append(
            "<h2>Not shown: unreadable or invalid data</h2><ul>"
            + "".join(f'<li class="note">{n} {html.escape(what)}</li>' for what, n in sorted(problems.items()))
            + "</ul>"
        )
    parts.append(f"<h2>Samples (first {len(figures)} of {n_samples}; red = masked token)</h2>")
    if skipped:
        parts.append(
            f'<p class="note">{sum(skipped.values())} samples skipped: '
            + ", ".join(f"{n} {html.escape(why)}" for why, n in sorted(skipped.items()))
            + "</p>"
        )
    parts.append('<div class="grid">' + "".join(figures) + "</div>")
    if errors:
        more = f" (first {len(errors)} of {n_failed})" if n_failed > len(errors) else ""
        parts.append(
            f"<h2>Failed pages{more}</h2><table><tr><th>url</th><th>outcome</th><th>error</th></tr>"
            + "".join(f"<tr><td>{u}</td><td>{o}</td><td>{e}</td></tr>" for u, o, e in errors)
            + "</table>"
        )
    tmp = out.with_suffix(".html.tmp")
    tmp.write_text("".join(parts), encoding="utf-8")
    tmp.replace(out)
    return out


def _error(value) -> str:
    text = _text(value)
    return text if text is not None else ("" if value is None else INVALID)


def _figure(tar_key: str, meta: dict, data: bytes, image: Image.Image) -> str:
    notes = []
    key = meta.get("key", tar_key)
    if not isinstance(key, str):
        notes.append("key")
        key = tar_key
    w, h = image.size  # boxes are in image pixels: the image is the truth
    for name, size in (("width", w), ("height", h)):
        declared = _number(meta.get(name))
        if declared is None:
            notes.append(name)
        elif declared != size:
            notes.append(f"{name} {_fmt(declared)} (image: {size})")
    raw_tokens = meta.get("tokens", [])
    if not isinstance(raw_tokens, list):
        notes.append("tokens")
        raw_tokens = []
    tokens, bad_tokens, bad_boxes, bad_fields = [], 0, 0, 0
    for raw in raw_tokens:
        if not isinstance(raw, dict):
            bad_tokens += 1
            continue
        text, token_id = _text(raw.get("token"), 200), raw.get("id")
        if text is None or isinstance(token_id, bool) or not isinstance(token_id, int):
            bad_fields += 1
        raw_boxes = raw.get("boxes")
        if raw_boxes is None:
            raw_boxes = []
        elif not isinstance(raw_boxes, list):
            bad_boxes += 1
            raw_boxes = []
        boxes = [b for b in map(_box, raw_boxes) if b is not None]
        bad_boxes += len(raw_boxes) - len(boxes)
        tokens.append(
            (
                text if text is not None else "?",
                str(token_id) if isinstance(token_id, int) and not isinstance(token_id, bool) else "?",
                boxes,
            )
        )
    notes += [
        f"{n} {what}"
        for n, what in (
            (bad_tokens, "tokens skipped"),
            (bad_boxes, "boxes skipped"),
            (bad_fields, "token texts or ids"),
        )
        if n
    ]
    mask = masked_token(key, len(tokens))
    gray = Gray(image)
    no_ink = {i for i, (_, _, boxes) in enumerate(tokens) if not gray.token_has_ink(boxes)}
    fails = bool(tokens) and len(no_ink) / len(tokens) > FAIL_SHARE
    rects = []
    for i, (text, token_id, boxes) in enumerate(tokens[:MAX_TOKENS_DRAWN]):
        for x0, y0, x1, y1 in boxes:
            cls = ("mask" if i == mask else "box") + (" noink" if i in no_ink else "")
            rects.append(
                f'<rect class="{cls}" x="{_fmt(x0)}" y="{_fmt(y0)}" width="{_fmt(x1 - x0)}" '
                f'height="{_fmt(y1 - y0)}"><title>{text} ({token_id})</title></rect>'
            )
    if len(tokens) > MAX_TOKENS_DRAWN:
        notes.append(f"only the first {MAX_TOKENS_DRAWN} tokens drawn")
    masked = tokens[mask][0] if mask >= 0 else ""
    warn = f' · <b class="warn">{len(no_ink)} without ink</b>' if no_ink else ""
    note = f'<br><span class="note">invalid: {html.escape(", ".join(notes))}</span>' if notes else ""
    src = f"data:{MIME[image.format]};base64,{base64.b64encode(data).decode()}"
    return (
        f'<figure{" class=fails" if fails else ""}><div class="crop"><img src="{src}" alt="" '
        f'width="{w}" height="{h}"><svg width="{w}" height="{h}" viewBox="0 0 {w} {h}">{"".join(rects)}</svg></div>'
        f"<figcaption>{_text(key, 300)} · {len(tokens)} tokens · masked "
        f"<b>{masked}</b>{warn}{note}<br>{_url(meta.get('url'))}</figcaption></figure>"
    )
