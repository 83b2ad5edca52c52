"""The floors: what rendering a page costs before boxcrawl does anything of its own.

Both load the page, run one in-page geometry pass (every text node's client rects) and take
one PNG viewport screenshot, in the same Chromium with the same flags and viewport.

- ``strict_floor``: the browser alone. One page per tab, reused from page to page, no egress
  proxy, nothing cleared between pages: the fastest way this Chromium renders these pages.
- ``pool_floor``: ``floor_page`` through ``BrowserPool.run_page``, a fresh guarded context per
  page, as ``distill`` gets; what the pool's own isolation costs.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from playwright.async_api import BrowserContext, Page, async_playwright
from playwright.async_api import Error as PlaywrightError

from ..browser.chromium import find_chromium, launch_args
from ..browser.pool import BrowserPool
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


async def _load_measure_shoot(page: Page, url: str, cfg: BrowserConfig, timings: dict[str, float]):
    started = time.perf_counter()
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
    timings.update(load=1000 * (loaded - started), measure=1000 * (measured - loaded), capture=1000 * (done - measured))
    return response


async def floor_page(context: BrowserContext, url: str, cfg: BrowserConfig, timings: dict[str, float]) -> RenderedPage:
    page = await context.new_page()
    try:
        response = await _load_measure_shoot(page, url, cfg, timings)
    except PlaywrightError as exc:
        return RenderedPage.unreached(url, Outcome.ERROR, exc.message.splitlines()[0][:300])
    return RenderedPage(
        url=url,
        final_url=page.url,
        status=response.status if response else None,
        content_type=None,
        outcome=Outcome.OK,
        error=None,
        timings=timings,
    )


STAGES = ("load", "measure", "capture")


async def _drain(urls: list[str], tabs: int, open_tab) -> tuple[int, dict[str, float]]:
    """``tabs`` tabs render ``urls`` between them: (pages ok, ms per stage summed over pages).
    ``open_tab()`` is an async context giving one tab's ``render(url, timings) -> ok``."""
    queue = list(reversed(urls))
    ok, stages = 0, dict.fromkeys(STAGES, 0.0)

    async def tab() -> None:
        nonlocal ok
        async with open_tab() as render:
            while queue:
                timings: dict[str, float] = {}
                rendered = await render(queue.pop(), timings)  # not `ok += await`: ok is read before the await
                ok += rendered
                for k in stages:
                    stages[k] += timings.get(k, 0.0)

    await asyncio.gather(*(tab() for _ in range(tabs)))
    return ok, stages


async def strict_floor(urls: list[str], cfg: BrowserConfig) -> tuple[int, dict[str, float]]:
    """The browser alone: ``urls`` over ``cfg.tabs`` reused pages, no proxy, nothing cleared."""
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=find_chromium(cfg.chromium), args=launch_args())

        @contextlib.asynccontextmanager
        async def reused_page():
            context = await browser.new_context(
                viewport={"width": cfg.viewport_width, "height": cfg.viewport_height},
                device_scale_factor=cfg.scale,
                user_agent=cfg.user_agent,
            )
            page = await context.new_page()

            async def render(url: str, timings: dict[str, float]) -> bool:
                try:
                    await _load_measure_shoot(page, url, cfg, timings)
                except PlaywrightError:
                    return False
                return True

            yield render
            await context.close()

        try:
            return await _drain(urls, cfg.tabs, reused_page)
        finally:
            await browser.close()


async def pool_floor(urls: list[str], cfg: BrowserConfig) -> tuple[int, dict[str, float]]:
    """The same work through the pool: a fresh guarded context per page."""
    async with BrowserPool(cfg) as pool:

        @contextlib.asynccontextmanager
        async def pool_tab():
            async def render(url: str, timings: dict[str, float]) -> bool:
                page = await pool.run_page(url, lambda ctx, door, t: floor_page(ctx, url, cfg, t))
                timings.update(page.timings)
                return page.outcome == Outcome.OK

            yield render

        return await _drain(urls, cfg.tabs, pool_tab)
