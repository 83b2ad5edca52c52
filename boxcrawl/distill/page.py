"""What happens to one entry inside the browser: load, settle, screenshot, features, MHTML, distil.

Everything here runs inside `BrowserPool.run_page`, so it gets a fresh guarded context and the per-entry
deadline. It returns plain data (`PageCapture`); writing files is the runner's job.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from importlib import resources

from playwright.async_api import BrowserContext, Page, Route
from playwright.async_api import Error as PlaywrightError

from ..browser.hygiene import dismiss
from ..browser.render import left_for_an_error, load_error, read_metas
from ..egress.proxy import Door
from ..optout.policy import NOT_JUDGED, PageCheck
from ..unicode import well_formed
from .distiller import (
    CHROME,
    FAILURE_MARKERS,
    PYTHON,
    VIEWER_STATE_JS,
    chrome_distiller_url,
    python_distill,
    reader_view_html,
    viewer_failure,
)
from .options import DistillOptions

_JS = resources.files("boxcrawl.distill") / "js"
EXTRACT_FEATURES_JS = (_JS / "extract_features.js").read_text()
NATIVE_FEATURES_JS = (_JS / "native_features.js").read_text()

# Chrome's own dump, when a (debug) build logs it: `adaboost_classification = {...}` and the 2016
# `distillability_features = {...}`.
_CONSOLE_PREFIXES = ("adaboost_classification = ", "distillability_features = ")


class EntryFailed(Exception):
    """The page cannot give an entry (HTTP error, not HTML, no body...)."""


@dataclass
class Distilled:
    distiller: str | None = None  # CHROME, PYTHON or None (nothing distilled)
    outcome: str = "not-run"  # ok | failed | skipped
    error: str | None = None  # why Chrome's distiller (or both) failed
    screenshot: bytes | None = None
    features: dict | None = None  # raw features of the distilled page
    article_text: str = ""  # the article alone, without the viewer's own text
    title: str = ""
    timings: dict = field(default_factory=dict)


@dataclass
class PageCapture:
    url: str
    final_url: str = ""
    status: int | None = None
    screenshot: bytes | None = None
    features: dict | None = None
    native_raw: dict | None = None
    chrome_console: dict = field(default_factory=dict)
    mhtml: bytes | None = None
    html: str = ""
    distilled: Distilled | None = None
    timings: dict = field(default_factory=dict)
    verdict: str = NOT_JUDGED  # opt-out (optout.policy), as on a crawl's page record
    signals: list[str] = field(default_factory=list)


def _attach_console(page: Page, sink: dict) -> None:
    def on_console(msg) -> None:
        text = msg.text
        for prefix in _CONSOLE_PREFIXES:
            at = text.rfind(prefix)
            if at >= 0:
                try:
                    sink[prefix.split(" ")[0]] = json.loads(text[at + len(prefix) :])
                except ValueError:
                    pass

    page.on("console", on_console)


async def extract(page: Page, url_override: str | None = None) -> tuple[dict, dict | None]:
    raw = await page.evaluate(EXTRACT_FEATURES_JS)
    if raw is None:
        raise EntryFailed("page has no <body>")
    if url_override:
        raw["url"] = url_override
    native = await page.evaluate(NATIVE_FEATURES_JS)
    return raw, native


async def capture_original(
    context: BrowserContext, url: str, opts: DistillOptions, door: Door, check: PageCheck | None = None
) -> PageCapture:
    cap = PageCapture(url=url)
    t0 = time.monotonic()
    page = await context.new_page()
    page.on("dialog", dismiss)
    _attach_console(page, cap.chrome_console)
    await page.set_viewport_size(opts.original_viewport())
    try:
        response = await page.goto(url, wait_until="load", timeout=opts.load_timeout * 1000)
    except PlaywrightError as exc:
        message = load_error(exc.message, door)
        if "Timeout" not in message:
            raise EntryFailed(message[:300]) from None
        response = None  # slow page: use what has rendered, like the original's timeout handling
    cap.status = response.status if response else None
    cap.final_url = page.url
    if cap.status is not None and cap.status >= 400:
        raise EntryFailed(f"HTTP {cap.status}")
    content_type = (response.headers.get("content-type", "") if response else "").split(";")[0].strip()
    if content_type and "html" not in content_type and "xml" not in content_type:
        raise EntryFailed(f"not an HTML page ({content_type})")
    verdict = (check or PageCheck(opts.optout)).judge(
        dict(response.headers) if response else {}, await read_metas(page)
    )
    cap.verdict, cap.signals = verdict.text, verdict.signals
    if not verdict.allowed:  # nothing of the page is kept: no screenshot, features or MHTML
        raise EntryFailed(verdict.text)
    cap.timings["load"] = round(time.monotonic() - t0, 3)
    await asyncio.sleep(opts.settle)
    if error := left_for_an_error(page, door):
        raise EntryFailed(error)
    t1 = time.monotonic()
    cap.screenshot = await page.screenshot()
    cap.timings["screenshot"] = round(time.monotonic() - t1, 3)
    t1 = time.monotonic()
    cap.features, cap.native_raw = await extract(page)
    cap.html = well_formed(await page.content())  # lxml, readability take no lone surrogate
    cap.timings["features"] = round(time.monotonic() - t1, 3)
    if opts.save_mhtml:
        cdp = await context.new_cdp_session(page)
        snapshot = await cdp.send("Page.captureSnapshot", {"format": "mhtml"})
        data = well_formed(snapshot["data"]).encode("utf-8")
        if not data.startswith(b"From:"):
            raise EntryFailed("MHTML snapshot does not start with 'From:'")
        cap.mhtml = data
    await page.close()
    return cap


async def capture_mhtml(
    context: BrowserContext, mhtml_path: str, original_url: str, opts: DistillOptions, door: Door
) -> PageCapture:
    """Reload a saved MHTML offline; URL features describe the original URL, not file://."""
    cap = PageCapture(url=original_url)
    page = await context.new_page()
    page.on("dialog", dismiss)
    await page.set_viewport_size(opts.original_viewport())
    file_url = "file://" + mhtml_path

    # this one local file may load, no other: a page from a file may otherwise load any file
    async def files(route: Route) -> None:
        if route.request.url == file_url:
            await route.continue_()
        else:
            door.refused.append(f"refused: file scheme [{route.request.url[:200]}]")
            await route.abort("blockedbyclient")

    await page.route("file://**", files)
    try:
        await page.goto(file_url, wait_until="load", timeout=opts.load_timeout * 1000)
    except PlaywrightError as exc:
        raise EntryFailed(f"MHTML did not load: {exc.message.splitlines()[0][:200]}") from None
    cap.final_url = page.url
    await asyncio.sleep(opts.mhtml_settle)
    if error := left_for_an_error(page, door):
        raise EntryFailed(f"MHTML {error}")
    cap.features, cap.native_raw = await extract(page, url_override=original_url)
    if not cap.features["numElements"] and not cap.features["innerText"].strip():
        raise EntryFailed("MHTML reloaded to an empty page")
    cap.html = well_formed(await page.content())  # lxml, readability take no lone surrogate
    await page.close()
    return cap


async def _wait_for_viewer(page: Page, opts: DistillOptions) -> tuple[dict, bool]:
    """Poll the viewer until it shows an article or a failure and its text stops changing.
    Returns (state, finished); finished is False when the distillation timeout passed first."""
    deadline = time.monotonic() + opts.distill_timeout
    last_len, stable_since, state = -1, None, {}
    while time.monotonic() < deadline:
        state = await page.evaluate(VIEWER_STATE_JS)
        title = state.get("title") or ""
        text = state.get("text") or ""
        loaded = title not in ("", "Reading Mode") or any(m in text for m in FAILURE_MARKERS)
        if loaded:
            length = len(state.get("text") or "")
            if length != last_len:
                last_len, stable_since = length, time.monotonic()
            elif time.monotonic() - stable_since >= opts.distill_settle:
                return state, True  # stable: multi-page stitching, if any, is over
        await asyncio.sleep(0.25)
    return state, False


async def distill(context: BrowserContext, url: str, html: str, opts: DistillOptions) -> Distilled:
    """Distil `url` with Chrome's distiller (which loads the URL itself, in a hidden page) and, when that
    fails and --distiller allows, `html` with readability-lxml shown as a reader view in the same tab."""
    result = Distilled()
    t0 = time.monotonic()
    page = await context.new_page()
    page.on("dialog", dismiss)
    await page.set_viewport_size(opts.distilled_viewport())
    chrome_error = None
    if opts.distiller in ("auto", "chrome") and url.startswith(("http://", "https://")):
        try:
            await page.goto(chrome_distiller_url(url), wait_until="load", timeout=opts.load_timeout * 1000)
            state, finished = await _wait_for_viewer(page, opts)
            chrome_error = (
                viewer_failure(state) if finished else f"chrome distiller: timeout after {opts.distill_timeout:g}s"
            )
            if chrome_error is None:
                result.distiller, result.article_text, result.title = CHROME, state["article"], state["title"]
        except PlaywrightError as exc:
            chrome_error = "chrome distiller: " + exc.message.splitlines()[0][:200]
    elif opts.distiller == "python":
        chrome_error = None
    else:
        chrome_error = "chrome distiller: only http(s) pages"
    if result.distiller is None and opts.distiller in ("auto", "python"):
        found = await asyncio.to_thread(python_distill, html, url)
        if found is not None:
            title, article_html = found
            # leave the chrome-distiller:// page first: its CSP would block the reader view's inline style
            await page.goto("about:blank")
            await page.set_content(
                reader_view_html(title, article_html, url), wait_until="load", timeout=opts.load_timeout * 1000
            )
            state = await page.evaluate(VIEWER_STATE_JS)
            result.distiller, result.article_text, result.title = PYTHON, state["article"] or "", title
    result.error = chrome_error
    if result.distiller is None:
        result.outcome = "failed"
        result.error = (chrome_error + "; " if chrome_error else "") + (
            "readability-lxml found no article" if opts.distiller != "chrome" else ""
        )
        result.error = result.error.rstrip("; ")
    else:
        result.outcome = "ok"
    result.timings["distill"] = round(time.monotonic() - t0, 3)
    t0 = time.monotonic()
    result.screenshot = await page.screenshot()
    result.timings["distilled_screenshot"] = round(time.monotonic() - t0, 3)
    # the readability view is set_content on about:blank: its features name the page it is the article of
    result.features, _ = await extract(page, url_override=url if result.distiller == PYTHON else None)
    await page.close()
    return result
