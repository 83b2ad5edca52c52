"""RenderedPage + tokens + crops -> the page row and the sample rows every format writes."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import numpy as np
import pyarrow as pa
from PIL import Image

from ..extract.tokenizer import TokenSpans
from ..records import Box, Crop, Measurement, RenderedPage
from .schema import PAGE_TOKEN, TIMING_STAGES


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
    page: dict[str, Any]  # the pages table row, but its `tokens`
    tokens: pa.Array  # the row's `tokens` cell: a one-row list<PAGE_TOKEN> array
    samples: list[Sample]


class _Tokens:
    """A page's tokens as columns: a page holds thousands, and a dict per token cost more than
    the rest of writing the page. Boxes are one (n, 4) array; token i owns rows
    ``first[i]:first[i + 1]`` of it (one per line fragment)."""

    def __init__(self, text: str, m: Measurement | None, spans: TokenSpans | None):
        if m is None or spans is None:
            m, spans = Measurement("", [], 0, 0, 0, 0), TokenSpans([], [], [])
        self.pieces = spans.tokens
        self.ids = spans.ids
        self.starts = [start for start, _ in spans.offsets]
        self.ends = [end for _, end in spans.offsets]
        self.texts = [text[start:end] for start, end in spans.offsets]
        self.reasons = [reason or None for reason in m.hidden]
        self.boxes, counts = m.box_rows()
        self.first = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=self.first[1:])

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def n_visible(self) -> int:
        return sum(reason is None for reason in self.reasons)

    def column(self) -> pa.Array:
        """The pages table's ``tokens`` cell of this page."""
        n = len(self)
        box = pa.ListArray.from_arrays(
            pa.array(np.arange(0, 4 * len(self.boxes) + 1, 4, dtype=np.int32)),
            pa.array(self.boxes.astype(np.float32).ravel()),
        )
        struct = pa.StructArray.from_arrays(
            [
                pa.array(self.texts, pa.string()),
                pa.array(self.pieces, pa.string()),
                pa.array(self.ids, pa.int32()),
                pa.array(self.starts, pa.int32()),
                pa.array(self.ends, pa.int32()),
                pa.ListArray.from_arrays(pa.array(self.first.astype(np.int32)), box),
                pa.array([reason is None for reason in self.reasons], pa.bool_()),
                pa.array(self.reasons, pa.string()),
            ],
            fields=list(PAGE_TOKEN),
        )
        return pa.ListArray.from_arrays(pa.array([0, n], pa.int32()), struct)

    def in_image(
        self, indices: Sequence[int], crop: Box, scale: float, size: tuple[int, int]
    ) -> list[list[list[float]]]:
        """The boxes of tokens ``indices``, each a list of its line boxes in image px: relative to
        ``crop``, scaled, clipped to the image (sub-pixel overhang only, see select), 2 decimals."""
        idx = np.asarray(indices, dtype=np.int64)
        counts = self.first[idx + 1] - self.first[idx]
        ends = np.cumsum(counts)
        rows = np.arange(int(ends[-1]) if len(ends) else 0) + np.repeat(self.first[idx] - (ends - counts), counts)
        x0, y0 = crop[0], crop[1]
        out = (self.boxes[rows] - (x0, y0, x0, y0)) * scale
        np.clip(out, 0, (size[0], size[1], size[0], size[1]), out=out)
        # Python's round, not np.round: np.round(x, 2) rounds x * 100, which moves some values
        # by 0.01 at scales like 1.25 (the written boxes stay those of round(v, 2))
        values = [round(v, 2) for v in out.ravel().tolist()]
        lines = [values[k : k + 4] for k in range(0, len(values), 4)]
        return [lines[int(a) : int(b)] for a, b in zip(ends - counts, ends)]


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
    tokens = _Tokens(text, m, spans)
    samples = []
    for index, (crop, png) in enumerate(zip(crops, rendered.images)):
        samples.append(
            _sample(sample_key(key, index), key, url, rendered, tokens, crop, png, scale, image_format, opt_out)
        )
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
        "n_visible": tokens.n_visible,
        "n_samples": len(samples),
        "n_no_ink": m.no_ink if m else 0,
        "n_links": len(m.links) if m else len(rendered.links),
        "crops": [
            {"key": s.key, "box": list(c.box), "tokens": list(c.tokens), "cut_tokens": list(c.cut)}
            for s, c in zip(samples, crops)
        ],
    }
    return PageRows(url=url, page=page, tokens=tokens.column(), samples=samples)


def _sample(
    key: str,
    page: str,
    url: str,
    rendered: RenderedPage,
    tokens: _Tokens,
    crop: Crop,
    png: bytes,
    scale: float,
    image_format: str,
    opt_out: str,
) -> Sample:
    x0, y0, x1, y1 = crop.box
    width, height = round((x1 - x0) * scale), round((y1 - y0) * scale)
    boxes = tokens.in_image(crop.tokens, crop.box, scale, (width, height))
    sample_tokens = [
        {
            "index": int(i),
            "text": tokens.texts[i],
            "token": tokens.pieces[i],
            "id": tokens.ids[i],
            "start": tokens.starts[i],
            "end": tokens.ends[i],
            "box": lines[0],
            "boxes": lines,
        }
        for i, lines in zip(crop.tokens, boxes)
    ]
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
