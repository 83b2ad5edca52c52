"""The token-box plan: what the crawl decides while a page is open in the browser."""

from __future__ import annotations

from PIL import Image

from ..config import SelectConfig
from ..records import Crop, Measurement
from ..select.crops import select_crops
from ..select.verify import verify_crops
from .tokenizer import PageTokenizer, TokenSpans, utf16_offsets


class TokenBoxPlan:
    """Tokenizes the page text, then chooses crops from the measured token boxes."""

    def __init__(self, tokenizer: PageTokenizer, select: SelectConfig, scale: float):
        self.tokenizer = tokenizer
        self.select = select
        self.scale = scale
        self.spans_: TokenSpans | None = None
        self.crops: list[Crop] = []

    def spans(self, text: str) -> list[int]:
        self.spans_ = self.tokenizer(text)
        return utf16_offsets(text, self.spans_.offsets)

    def clips(self, measurement: Measurement) -> list[tuple[float, float, float, float]]:
        self.crops = select_crops(measurement, self.select, self.scale)
        return [c.box for c in self.crops]

    def verify(self, measurement: Measurement, images: list[Image.Image]) -> list[Image.Image]:
        if not self.select.ink_check:
            return images
        self.crops, images = verify_crops(measurement, self.crops, images, self.scale, self.select.min_tokens)
        return images
