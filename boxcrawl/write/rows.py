"""RenderedPage + tokens + crops -> the page row and the sample rows every format writes."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from PIL import Image

from ..extract.tokenizer import TokenSpans
from ..records import Crop, RenderedPage
from .schema import TIMING_STAGES


def page_key(url: str) -> str:
    """Stable across runs; hex only, so never a dot (WebDataset splits keys at the first dot)."""
    return hashlib.sha1(url.encode("utf-8")).hexdigest()[:16]


def sample_key(page: str, index: int) -> str:
    return f"{page}_{index:03d}"


@dataclass
class Sample:
    key: str
    image: bytes  # encoded in `image_format`
    image_format: str
    meta: dict[str, Any]  # the .json member / the samples table row (without the image)


@dataclass
class PageRows:
    url: str
    page: dict[str, Any]  # the pages table row
    samples: list[Sample]


def build_rows(
    url: str,
    depth: int,
    attempts: int,
    rendered: RenderedPage,
    spans: TokenSpans | None,
    crops: list[Crop],
    *,
    tokenizer: str,
    scale: float,
    viewport: tuple[int, int],
    image_format: str,
    browser_version: str | None,
    opt_out: str = "standard",
) -> PageRows:
    key = page_key(url)
    m = rendered.measurement
    text = m.text if m else ""
    tokens: list[dict[str, Any]] = []
    if m is not None and spans is not None:
        for i, (piece, tid, (start, end)) in enumerate(zip(spans.tokens, spans.ids, spans.offsets)):
            flat = m.boxes[i]
            tokens.append(
                {
                    "text": text[start:end],
                    "token": piece,
                    "id": tid,
                    "start": start,
                    "end": end,
                    "boxes": [flat[k : k + 4] for k in range(0, len(flat), 4)],
                    "visible": not m.hidden[i],
                    "hidden_reason": m.hidden[i] or None,
                }
            )
    samples = []
    for index, (crop, png) in enumerate(zip(crops, rendered.images)):
        samples.append(
            _sample(sample_key(key, index), key, url, rendered, tokens, crop, png, scale, image_format, opt_out)
        )
    n_visible = sum(bool(t["visible"]) for t in tokens)
    page = {
        "key": key,
        "url": url,
        "final_url": rendered.final_url,
        "status": rendered.status,
        "outcome": rendered.outcome.value,
        "error": rendered.error,
        "content_type": rendered.content_type,
        "fetched_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "depth": depth,
        "attempts": attempts + 1,  # earlier failed tries + this one
        "width": m.width if m else None,
        "height": m.height if m else None,
        "viewport_width": viewport[0],
        "viewport_height": viewport[1],
        "scale": scale,
        "elements": m.elements if m else None,
        "load_complete": rendered.load_complete,
        "hit_tests_skipped": m.hit_tests_skipped if m else None,
        "dialogs": rendered.dialogs,
        "blocked_requests": rendered.blocked_requests,
        "timings": {stage: rendered.timings.get(stage) for stage in TIMING_STAGES},
        "browser": browser_version,
        "tokenizer": tokenizer,
        "opt_out": opt_out,
        "verdict": rendered.verdict,
        "signals": list(rendered.signals),
        "lang_declared": rendered.lang_declared,
        "lang_detected": rendered.lang_detected,
        "lang_score": rendered.lang_score,
        "text": text,
        "n_tokens": len(tokens),
        "n_visible": n_visible,
        "n_samples": len(samples),
        "n_no_ink": m.no_ink if m else 0,
        "n_links": len(m.links) if m else len(rendered.links),
        "crops": [
            {"key": s.key, "box": list(c.box), "tokens": list(c.tokens), "cut_tokens": list(c.cut)}
            for s, c in zip(samples, crops)
        ],
        "tokens": tokens,
    }
    return PageRows(url=url, page=page, samples=samples)


def _sample(
    key: str,
    page: str,
    url: str,
    rendered: RenderedPage,
    tokens: list[dict[str, Any]],
    crop: Crop,
    png: bytes,
    scale: float,
    image_format: str,
    opt_out: str,
) -> Sample:
    x0, y0, x1, y1 = crop.box
    width, height = round((x1 - x0) * scale), round((y1 - y0) * scale)

    def to_image(b: list[float]) -> list[float]:
        # page CSS px -> image px, clipped to the image (sub-pixel overhang only, see select)
        return [
            round(min(max((b[0] - x0) * scale, 0), width), 2),
            round(min(max((b[1] - y0) * scale, 0), height), 2),
            round(min(max((b[2] - x0) * scale, 0), width), 2),
            round(min(max((b[3] - y0) * scale, 0), height), 2),
        ]

    sample_tokens = []
    for i in crop.tokens:
        t = tokens[i]
        boxes = [to_image(b) for b in t["boxes"]]
        sample_tokens.append(
            {
                "index": i,
                "text": t["text"],
                "token": t["token"],
                "id": t["id"],
                "start": t["start"],
                "end": t["end"],
                "box": boxes[0],
                "boxes": boxes,
            }
        )
    image = png if image_format == "png" else _reencode(png, image_format)
    meta = {
        "key": key,
        "page_key": page,
        "url": url,
        "final_url": rendered.final_url,
        "crop": [x0, y0, x1, y1],
        "scale": scale,
        "width": width,
        "height": height,
        "image_format": image_format,
        "n_tokens": len(sample_tokens),
        "n_cut_tokens": len(crop.cut),
        "opt_out": opt_out,
        "verdict": rendered.verdict,
        "tokens": sample_tokens,
    }
    return Sample(key=key, image=image, image_format=image_format, meta=meta)


def _reencode(png: bytes, fmt: str) -> bytes:
    with Image.open(io.BytesIO(png)) as im:
        out = io.BytesIO()
        im.convert("RGB").save(out, format={"jpeg": "JPEG", "webp": "WEBP"}[fmt], quality=92)
        return out.getvalue()
