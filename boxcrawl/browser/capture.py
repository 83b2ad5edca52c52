"""Pixels of page regions (page CSS px), captured from the frozen page as it was measured.

The viewport keeps its size, so the layout stays the one measured. Two ways to get a region:

- ``png``: scroll the window to it and take a viewport screenshot; regions larger than the
  viewport are captured in viewport-sized tiles and stitched. While the window is scrolled,
  fixed and sticky elements are made transparent (``browser/js/anchored.js``) so they cannot
  paint over text that sits under them only when scrolled; at the top-left scroll they show,
  as at rest. Costs one frame (~35 ms) per capture whatever the page.
- ``beyond``: paint the region beyond the viewport (``captureBeyondViewport``) at the top-left
  scroll. Chromium resizes the view for it (the layout viewport, and so ``vh`` and media
  queries, stay; page scripts are stopped and never see the resize), which relays out the
  page: cheap on short pages, seconds per capture on a 275,000 px one.
"""

from __future__ import annotations

import base64
import io
import math
from importlib import resources

from PIL import Image
from playwright.async_api import CDPSession, Page

from ..records import Box
from .devtools import call

ANCHORED_JS = (resources.files("boxcrawl.browser") / "js" / "anchored.js").read_text()
SCROLL_JS = "([x, y]) => { scrollTo({left: x, top: y, behavior: 'instant'}); return [scrollX, scrollY]; }"


class RegionCapture:
    """``async with RegionCapture(page, scale) as cap: png = await cap.png((x0, y0, x1, y1))``
    gives the region at ``scale`` image pixels per CSS px (the context's device scale factor:
    CDP's clip scale is relative to CSS px, so it must be passed, or a 2x page comes out 1x).
    ``cdp``: the page's own DevTools session (a tab's), used and left open; without it, one is
    opened for the capture and closed after."""

    def __init__(self, page: Page, scale: float = 1.0, cdp: CDPSession | None = None):
        self.page = page
        self.scale = scale
        self.cdp = cdp
        self.own = cdp is None
        self.view = (0, 0)
        self.scroll = (0.0, 0.0)
        self.max_scroll = (0.0, 0.0)
        self.page_height = 0.0
        self.hidden = False

    def _session(self) -> CDPSession:
        if self.cdp is None:
            raise RuntimeError("RegionCapture is used inside `async with`")
        return self.cdp

    async def __aenter__(self) -> "RegionCapture":
        if self.cdp is None:
            self.cdp = await self.page.context.new_cdp_session(self.page)
        geo = await call(
            self.cdp,
            "() => { const s = document.scrollingElement || document.documentElement;"
            " return [innerWidth, innerHeight, s.scrollWidth, s.scrollHeight, scrollX, scrollY]; }",
        )
        self.view = (int(geo[0]), int(geo[1]))
        self.page_height = geo[3]
        self.max_scroll = (max(geo[2] - geo[0], 0), max(geo[3] - geo[1], 0))
        self.scroll = (geo[4], geo[5])
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            await self._scroll_to(0, 0)
            if self.hidden:
                await call(self._session(), ANCHORED_JS, "show")
        finally:
            if self.own:
                try:
                    await self._session().detach()
                except Exception:  # the page may be closing; nothing to clean up then
                    pass

    async def _scroll_to(self, x: float, y: float) -> None:
        if (x, y) == self.scroll:
            return
        if (x, y) != (0, 0) and not self.hidden:
            await call(self._session(), ANCHORED_JS, "hide")
            self.hidden = True
        sx, sy = await call(self._session(), SCROLL_JS, [x, y])
        self.scroll = (sx, sy)

    async def _shot(self, box: Box, beyond: bool) -> bytes:
        x0, y0, x1, y1 = box
        shot = await self._session().send(
            "Page.captureScreenshot",
            {
                "format": "png",
                "optimizeForSpeed": True,
                "captureBeyondViewport": beyond,
                "clip": {"x": x0, "y": y0, "width": x1 - x0, "height": y1 - y0, "scale": self.scale},
            },
        )
        return base64.b64decode(shot["data"])

    async def beyond(self, box: Box) -> bytes:
        """PNG of ``box`` painted beyond the viewport, at the top-left scroll."""
        await self._scroll_to(0, 0)
        return await self._shot(box, beyond=True)

    def fits(self, box: Box) -> bool:
        return bool(box[2] - box[0] <= self.view[0] and box[3] - box[1] <= self.view[1])

    async def png(self, box: Box) -> bytes:
        """PNG of ``box`` (page CSS px, x0 y0 x1 y1) as painted at the top-left scroll."""
        if self.fits(box):
            return await self._viewport_shot(box)
        vw, vh = self.view
        tiles: list[tuple[Box, bytes]] = []
        for ty in range(math.floor(box[1]), math.ceil(box[3]), vh):
            for tx in range(math.floor(box[0]), math.ceil(box[2]), vw):
                tile = (tx, ty, min(tx + vw, box[2]), min(ty + vh, box[3]))
                tiles.append((tile, await self._viewport_shot(tile)))
        return _stitch(box, tiles)

    async def _viewport_shot(self, box: Box) -> bytes:
        x0, y0, x1, y1 = box
        vw, vh = self.view
        sx, sy = self.scroll
        if not (x0 >= sx and x1 <= sx + vw and y0 >= sy and y1 <= sy + vh):
            # top-left scroll when it shows the box (fixed elements then paint as at rest)
            sx = 0.0 if x1 <= vw else min(math.floor(x0), self.max_scroll[0])
            sy = 0.0 if y1 <= vh else min(math.floor(y0), self.max_scroll[1])
            await self._scroll_to(sx, sy)
            sx, sy = self.scroll
        if x0 >= sx - 0.5 and x1 <= sx + vw + 0.5 and y0 >= sy - 0.5 and y1 <= sy + vh + 0.5:
            return await self._shot(box, beyond=False)
        # the window cannot scroll there (overflow: hidden on the root): paint beyond the viewport
        return await self._shot(box, beyond=True)


def _stitch(box: Box, tiles: list[tuple[Box, bytes]]) -> bytes:
    x0, y0 = math.floor(box[0]), math.floor(box[1])
    first = Image.open(io.BytesIO(tiles[0][1]))
    ratio = first.width / max(tiles[0][0][2] - tiles[0][0][0], 1)  # image px per CSS px
    out = Image.new("RGB", (round((box[2] - x0) * ratio), round((box[3] - y0) * ratio)), "white")
    for (tx, ty, _, _), png in tiles:
        with Image.open(io.BytesIO(png)) as im:
            out.paste(im.convert("RGB"), (round((tx - x0) * ratio), round((ty - y0) * ratio)))
    buf = io.BytesIO()
    out.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()
