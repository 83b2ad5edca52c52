"""The pipeline checks its own output: every token of a chosen crop against that crop's pixels.

A token whose box shows no ink in the captured image is not a target: it becomes hidden on the
page with the reason ``no_ink`` (and leaves every crop), and a crop left with fewer than
``min_tokens`` visible tokens is dropped with its image. Pure numpy on the pixels already captured.
"""

from __future__ import annotations

from PIL import Image

from ..inkcheck import Gray
from ..records import Crop, Measurement


def verify_crops(
    m: Measurement, crops: list[Crop], images: list[Image.Image | bytes], scale: float, min_tokens: int
) -> tuple[list[Crop], list[Image.Image | bytes]]:
    """Return the crops and images kept; marks tokens without ink in ``m.hidden``."""
    no_ink: set[int] = set()
    for crop, png in zip(crops, images):
        gray = Gray(png)
        x0, y0 = crop.box[0], crop.box[1]
        for t in crop.tokens:
            flat = m.boxes[t]
            boxes = [
                [
                    (flat[k] - x0) * scale,
                    (flat[k + 1] - y0) * scale,
                    (flat[k + 2] - x0) * scale,
                    (flat[k + 3] - y0) * scale,
                ]
                for k in range(0, len(flat), 4)
            ]
            if not gray.token_has_ink(boxes):
                no_ink.add(t)
    for t in no_ink:
        m.hidden[t] = "no_ink"
    m.no_ink = len(no_ink)
    kept_crops, kept_images = [], []
    for crop, png in zip(crops, images):
        tokens = tuple(t for t in crop.tokens if t not in no_ink)
        if len(tokens) < min_tokens or not tokens:
            continue
        kept_crops.append(Crop(box=crop.box, tokens=tokens, cut=tuple(t for t in crop.cut if t not in no_ink)))
        kept_images.append(png)
    return kept_crops, kept_images
