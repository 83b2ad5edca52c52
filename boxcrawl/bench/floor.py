"""The floor: what rendering a page costs before boxcrawl does anything of its own.

Load the page, run one in-page geometry pass (every text node's client rects), take one
viewport screenshot. Same pool, same Chromium, same flags and guard as the pipeline.
"""

from __future__ import annotations

import time

from playwright.async_api import BrowserContext, Error as PlaywrightError

from ..config import BrowserConfig
from ..records import Outcome, RenderedPage

GEOMETRY_PASS_JS = """() => {
  const walker = document.createTreeWalker(document.body || document.documentElement, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  let rects = 0;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    range.selectNodeContents(node);
    rects += range.getClientRects().length;
  }
  return rects;
}"""


async def floor_page(context: BrowserContext, url: str, cfg: BrowserConfig,
                     timings: dict[str, float]) -> RenderedPage:
    page = await context.new_page()
    started = time.perf_counter()
    try:
        response = await page.goto(url, wait_until="domcontentloaded", timeout=cfg.page_timeout * 1000)
        try:
            await page.wait_for_load_state("load", timeout=cfg.load_timeout * 1000)
        except PlaywrightError:
            pass
        loaded = time.perf_counter()
        await page.evaluate(GEOMETRY_PASS_JS)
        measured = time.perf_counter()
        await page.screenshot(type="png")
        done = time.perf_counter()
    except PlaywrightError as exc:
        return RenderedPage(url=url, final_url=url, status=None, content_type=None, outcome=Outcome.ERROR,
                            error=exc.message.splitlines()[0][:300])
    timings.update(load=1000 * (loaded - started), measure=1000 * (measured - loaded),
                   capture=1000 * (done - measured))
    return RenderedPage(url=url, final_url=page.url, status=response.status if response else None,
                        content_type=None, outcome=Outcome.OK, error=None, timings=timings)
