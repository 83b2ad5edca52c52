"""The ink pass: which tokens' glyphs actually appear in the render, from two renders of the same layout.

Render the regions holding the tokens to check once as they are, then again with those tokens'
text made transparent by paint-only inline styles (``browser/js/ink.js``); a token shows when
enough pixels inside its box change. Covers, clips, masks, filters, blending and text coloured
like its background all leave no change, whatever caused them. The page is frozen before it is
measured (``browser/js/freeze.js``: no script runs, animations are paused or finished), so the
two renders differ only in the text.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from importlib import resources

import numpy as np
from PIL import Image
from playwright.async_api import Page

from .capture import RegionCapture

INK_JS = (resources.files("boxcrawl.browser") / "js" / "ink.js").read_text()

INK_DIFF = 24  # a pixel counts as ink when a channel changes by at least this much ...
INK_PIXELS = 2  # ... and a token shows when at least this many of its pixels do
MAX_SPAN = 4096  # CSS px per capture: tall captures amortise CDP's per-call cost
GAP = 256  # start a new capture across a gap this tall with nothing to check


@dataclass
class Ink:
    visible: bool
    boxes: list[list[float]]  # per fragment: the bounding box of its changed pixels (page CSS px), [] if none


def regions_for(boxes: list[list[float]], width: float, height: float) -> list[tuple[int, int, int, int]]:
    """Capture regions (page CSS px, whole numbers) covering the given boxes, grouped top to bottom."""
    spans = sorted((b for b in boxes if b[2] > 0 and b[3] > 0 and b[0] < width and b[1] < height), key=lambda b: b[1])
    regions: list[list[float]] = []
    for x0, y0, x1, y1 in spans:
        r = regions[-1] if regions else None
        if r is not None and y1 - r[1] <= MAX_SPAN and y0 - r[3] <= GAP:
            r[0], r[2], r[3] = min(r[0], x0), max(r[2], x1), max(r[3], y1)
        else:
            regions.append([x0, y0, x1, y1])
    out = []
    for x0, y0, x1, y1 in regions:
        left, top = max(int(np.floor(x0)), 0), max(int(np.floor(y0)), 0)
        right, bottom = min(int(np.ceil(x1)), int(np.ceil(width))), min(int(np.ceil(y1)), int(np.ceil(height)))
        if right > left and bottom > top:
            out.append((left, top, right, bottom))
    return out


async def ink_pass(
    page: Page, token_boxes: dict[int, list[list[float]]], width: float, height: float, scale: float
) -> dict[int, Ink]:
    """``token_boxes``: token index -> its fragment boxes (page CSS px). The page must have run
    measure.js, which chose the elements whose text the second render turns off."""
    flat = [b for boxes in token_boxes.values() for b in boxes]
    regions = regions_for(flat, width, height)
    if not regions:
        return {t: Ink(False, []) for t in token_boxes}
    async with RegionCapture(page, scale) as cap:
        normal = [await cap.png(r) for r in regions]
        await page.evaluate(INK_JS, "off")
        try:
            off = [await cap.png(r) for r in regions]
        finally:
            await page.evaluate(INK_JS, "on")
    return await asyncio.to_thread(judge, token_boxes, regions, normal, off, scale)


def _decode(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as im:
        pixels: np.ndarray = np.asarray(im.convert("RGB"))
        return pixels


def ink_mask(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    h, w = min(a.shape[0], b.shape[0]), min(a.shape[1], b.shape[1])
    a, b = a[:h, :w], b[:h, :w]
    # uint8 wrap-around avoided by comparing both directions
    mask: np.ndarray = ((np.maximum(a, b) - np.minimum(a, b)) >= INK_DIFF).any(axis=2)
    return mask


def judge(
    token_boxes: dict[int, list[list[float]]],
    regions: list[tuple[int, int, int, int]],
    normal: list[bytes],
    off: list[bytes],
    scale: float,
) -> dict[int, Ink]:
    masks = [ink_mask(_decode(a), _decode(b)) for a, b in zip(normal, off)]
    out: dict[int, Ink] = {}
    for t, boxes in token_boxes.items():
        count, inks = 0, list[list[float]]()
        for box in boxes:
            x0, y0, x1, y1 = box
            k = _region_of(regions, box)
            if k is None:
                inks.append([])
                continue
            l, top = regions[k][0], regions[k][1]
            mask = masks[k]
            c0, r0 = max(int(np.floor((x0 - l) * scale)), 0), max(int(np.floor((y0 - top) * scale)), 0)
            c1, r1 = (
                min(int(np.ceil((x1 - l) * scale)), mask.shape[1]),
                min(int(np.ceil((y1 - top) * scale)), mask.shape[0]),
            )
            part = mask[r0:r1, c0:c1]
            n = int(part.sum()) if part.size else 0
            count += n
            if n:
                rows, cols = np.flatnonzero(part.any(axis=1)), np.flatnonzero(part.any(axis=0))
                inks.append(
                    [
                        round(l + (c0 + cols[0]) / scale, 2),
                        round(top + (r0 + rows[0]) / scale, 2),
                        round(l + (c0 + cols[-1] + 1) / scale, 2),
                        round(top + (r0 + rows[-1] + 1) / scale, 2),
                    ]
                )
            else:
                inks.append([])
        out[t] = Ink(count >= INK_PIXELS, inks)
    return out


def _region_of(regions: list[tuple[int, int, int, int]], box: list[float]) -> int | None:
    cy = (box[1] + box[3]) / 2
    for k, (l, t, r, b) in enumerate(regions):
        if t <= cy <= b and l <= (box[0] + box[2]) / 2 <= r:
            return k
    return None
