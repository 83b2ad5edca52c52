"""The one ink criterion: does a token's box, in an image, hold any glyph pixels?

Shared by the pipeline's check of every sample before it is written (``select/verify.py``) and by
``boxcrawl audit`` (``audit.py``), so a dataset that passed the first passes the second.

A box has ink when some pixel in it differs from the image's median grey by more than
INK_CONTRAST *and* the box itself is not flat (its darkest and lightest pixels differ by more
than INK_CONTRAST): the first says "not background", the second rules out a box that sits on a
solid block of another colour (a covering image, a dark bar) with no glyph in it.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

import numpy as np
from PIL import Image

INK_CONTRAST = 40  # grey levels (0-255)
PAD_ROWS = 1  # image rows searched above and below the box


class Gray:
    """An image as greys, with its median (the background of a text crop)."""

    def __init__(self, image: Image.Image | bytes):
        if isinstance(image, (bytes, bytearray)):
            with Image.open(io.BytesIO(image)) as im:
                self.a = np.asarray(im.convert("L"), dtype=np.int16)
        else:
            self.a = np.asarray(image.convert("L"), dtype=np.int16)
        self.median = _median(self.a)

    def has_ink(self, box: Sequence[float]) -> bool:
        """``box`` = [x0, y0, x1, y1] in image pixels."""
        x0, y0, x1, y1 = (float(v) for v in box)
        h, w = self.a.shape
        # columns the box covers at least half of; rows one more each way, since underscores and
        # underlines paint just below the line box (never sideways: that would borrow the ink
        # of the next token of the same word)
        c0, r0 = max(int(round(x0)), 0), max(int(math.floor(y0)) - PAD_ROWS, 0)
        c1, r1 = min(max(int(math.ceil(x1)), c0 + 1), w), min(max(int(math.ceil(y1)) + PAD_ROWS, r0 + 1), h)
        part = self.a[r0:r1, c0:c1]
        if part.size == 0:
            return False
        lo, hi = int(part.min()), int(part.max())
        return hi - lo > INK_CONTRAST and max(hi - self.median, self.median - lo) > INK_CONTRAST

    def token_has_ink(self, boxes: Sequence[Sequence[float]]) -> bool:
        """Every line fragment of the token has ink (each box is a claim that glyphs are there)."""
        return bool(boxes) and all(self.has_ink(b) for b in boxes)


def _median(a: np.ndarray) -> int:
    """``int(np.median(a))`` of greys 0-255, from their histogram: a third of the time of
    np.median's partition on a crop."""
    if not a.size:
        return 0
    below = np.cumsum(np.bincount(a.ravel(), minlength=256))  # greys <= v, for each v
    lower = int(np.searchsorted(below, (a.size - 1) // 2 + 1))  # the two middle values, sorted
    upper = int(np.searchsorted(below, a.size // 2 + 1))
    return (lower + upper) // 2
