"""One page in a tab (browser/tab.py): load, settle, measure, capture. Every path ends in a RenderedPage."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import time
from collections.abc import Callable, Sequence
from importlib import resources
from typing import Any, Protocol

from PIL import Image
from playwright.async_api import CDPSession, Dialog, Frame, Page, Request, Response
from playwright.async_api import Error as PlaywrightError

from ..config import BrowserConfig
from ..egress.proxy import Door
from ..lang import TEXT_CHARS, LangFilter
from ..optout.policy import NOT_JUDGED, OptOutConfig, PageCheck
from ..records import Box, Measurement, Outcome, RenderedPage
from .capture import RegionCapture
from .devtools import call
from .hygiene import dismiss
from .ink import ink_pass
from .tab import Tab

_JS_DIR = resources.files("boxcrawl.browser") / "js"
COLLECT_TEXT_JS = (_JS_DIR / "collect_text.js").read_text()
SETTLE_WATCH_JS = (_JS_DIR / "settle_watch.js").read_text()
SETTLE_JS = (_JS_DIR / "settle.js").read_text().replace("/*SETTLE_WATCH_JS*/", SETTLE_WATCH_JS)
FREEZE_JS = (_JS_DIR / "freeze.js").read_text()
LANGUAGE_JS = (_JS_DIR / "language.js").read_text()
MEASURE_JS = (
    (_JS_DIR / "measure.js").read_text().replace("/*VISIBILITY_JS*/", (_JS_DIR / "visibility.js").read_text() + "\n")
)

HTML_TYPES = ("text/html", "application/xhtml+xml", "application/xml", "text/xml", "text/plain")

# Chromium net errors that will not get better by retrying.
PERMANENT_NET_ERRORS = (
    "ERR_NAME_NOT_RESOLVED",
    "ERR_TOO_MANY_REDIRECTS",
    "ERR_BLOCKED_BY_CLIENT",
    "ERR_UNSAFE_REDIRECT",
    "ERR_INVALID_URL",
    "ERR_UNKNOWN_URL_SCHEME",
    "ERR_INVALID_REDIRECT",
    "ERR_BLOCKED_BY_RESPONSE",
    "ERR_SSL_PROTOCOL_ERROR",
    "ERR_CERT_",
    "ERR_PROXY_AUTH_",  # the --proxy refused our credentials: so it will again
)


class PagePlan(Protocol):
    """What the crawl decides while the page is open (keeps Playwright inside browser/)."""

    def spans(self, text: str) -> list[int]:
        """Tokenize the page text; return flat [start, end, ...] UTF-16 spans to measure."""

    def clips(self, measurement: Measurement) -> list[tuple[float, float, float, float]]:
        """Choose the regions (page CSS px) to capture."""

    def verify(self, measurement: Measurement, images: list[Image.Image]) -> list[Image.Image]:
        """Check the chosen regions against their captured pixels; return the images kept."""


class _Navigation:
    """Tracks the main frame's last navigation response (redirects and self-navigation included),
    its committed documents, and the requests in flight (for settling)."""

    def __init__(self, page: Page):
        self.status: int | None = None
        self.content_type: str | None = None
        self.retry_after: str | None = None
        self.headers: dict[str, str] = {}
        self.dialogs = 0
        self.crashed = False
        self.commits = 0  # main-frame documents committed so far
        self.in_flight = 0  # requests started and not yet finished or failed
        self.last_request = time.monotonic()
        self._page = page
        page.on("response", self._on_response)
        page.on("dialog", self._on_dialog)
        page.on("crash", self._on_crash)
        page.on("framenavigated", self._on_frame_navigated)
        page.on("request", self._on_request)
        page.on("requestfinished", self._on_request_done)
        page.on("requestfailed", self._on_request_done)
        self._main = page.main_frame

    def detach(self) -> None:
        """Stop listening: the tab's page goes on to other documents."""
        page = self._page
        page.remove_listener("response", self._on_response)
        page.remove_listener("dialog", self._on_dialog)
        page.remove_listener("crash", self._on_crash)
        page.remove_listener("framenavigated", self._on_frame_navigated)
        page.remove_listener("request", self._on_request)
        page.remove_listener("requestfinished", self._on_request_done)
        page.remove_listener("requestfailed", self._on_request_done)

    def _on_frame_navigated(self, frame: Frame) -> None:
        if frame == self._main:
            self.commits += 1

    def _on_request(self, _request: Request) -> None:
        self.in_flight += 1
        self.last_request = time.monotonic()

    def _on_request_done(self, _request: Request) -> None:
        self.in_flight = max(self.in_flight - 1, 0)
        self.last_request = time.monotonic()

    def _on_response(self, response: Response) -> None:
        if not response.request.is_navigation_request() or response.frame != self._main:
            return
        if 300 <= response.status < 400:
            return  # a redirect hop; the final response follows
        self.status = response.status
        self.content_type = (response.headers.get("content-type") or "").split(";")[0].strip().lower()
        self.retry_after = response.headers.get("retry-after")
        self.headers = dict(response.headers)  # lower-case names; the opt-out signals are read from them

    def _on_dialog(self, dialog: Dialog) -> None:
        self.dialogs += 1
        dismiss(dialog)

    def _on_crash(self, _page: Page) -> None:
        self.crashed = True


def classify_error(message: str) -> tuple[Outcome, bool]:
    """Playwright error text -> (outcome, retryable)."""
    if "Download is starting" in message:
        return Outcome.NOT_HTML, False
    if message.startswith("refused:") or "ERR_BLOCKED_BY_CLIENT" in message:
        return Outcome.REFUSED, False
    if "crash" in message.lower() or "Target closed" in message or "has been closed" in message:
        return Outcome.CRASH, True
    if "Timeout" in message and "exceeded" in message:
        return Outcome.TIMEOUT, True
    if "net::ERR_" in message:
        return Outcome.NETWORK, not any(code in message for code in PERMANENT_NET_ERRORS)
    return Outcome.ERROR, True


META_JS = """(() => {
    const out = [], metas = document.querySelectorAll('meta[name]');
    for (let i = 0; i < metas.length && out.length < 500; i++)
        out.push([metas[i].getAttribute('name'), metas[i].getAttribute('content') || '']);
    return out;
})()"""


async def read_metas(page: Page, cdp: CDPSession | None = None) -> list[tuple[str, str]]:
    """The page's named <meta> tags (the opt-out ones among them), read in an isolated world: the
    page's own scripts (a library that replaces Array.from or Element.prototype.getAttribute)
    cannot change what is read. None if the page cannot say (it is gone, or crashed)."""
    found = await evaluate_isolated(page, cdp, META_JS, "boxcrawl-optout")
    if not isinstance(found, list):
        return []
    return [
        (str(pair[0])[:100], str(pair[1])[:1000])
        for pair in found
        if isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)
    ]


async def evaluate_isolated(page: Page, cdp: CDPSession | None, expression: str, world: str) -> Any:
    """``expression``'s value in an isolated world of the page's main frame (the DOM is the page's, the
    JavaScript built-ins are not); None when the page cannot say (it is gone, or crashed)."""
    own = cdp is None
    try:
        if cdp is None:
            cdp = await page.context.new_cdp_session(page)
        tree = await cdp.send("Page.getFrameTree")
        made = await cdp.send(
            "Page.createIsolatedWorld", {"frameId": tree["frameTree"]["frame"]["id"], "worldName": world}
        )
        answer = await cdp.send(
            "Runtime.evaluate",
            {"expression": expression, "contextId": made["executionContextId"], "returnByValue": True},
        )
    except PlaywrightError:
        return None
    finally:
        if own and cdp is not None:
            with contextlib.suppress(PlaywrightError):
                await cdp.detach()
    return answer.get("result", {}).get("value")


def _short(message: str) -> str:
    return message.strip().splitlines()[0][:300] if message.strip() else "unknown error"


def load_error(message: str, door: Door) -> str:
    """What a failed load really met. Every connection goes through the egress proxy, so Chromium
    only says ERR_SOCKS_CONNECTION_FAILED; the proxy's door knows whether the guard refused a hop
    (then nothing of the page may be kept) or the server could not be reached."""
    message = _short(message)
    if "ERR_SOCKS_CONNECTION_FAILED" in message or "ERR_BLOCKED_BY_CLIENT" in message:
        if door.refused:
            return door.refused[-1]
        if door.failed:
            return f"{door.failed[-1]} ({message})"
    return message


def left_for_an_error(page: Page, door: Door) -> str | None:
    """Why the page, after it loaded, navigated itself (meta refresh, script, form) onto Chromium's
    error page; None while it still shows a document of its own."""
    if not page.url.startswith("chrome-error:"):
        return None
    return load_error("navigation after load failed: net::ERR_SOCKS_CONNECTION_FAILED", door)


async def render_page(
    tab: Tab,
    url: str,
    plan: PagePlan,
    cfg: BrowserConfig,
    timings: dict[str, float],
    check: PageCheck | None = None,
    lang: LangFilter | None = None,
) -> RenderedPage:
    """Load ``url`` in the tab and return what it showed. Never raises for page errors.
    ``timings`` fills in as stages finish, so a caller that times out still sees how far it got.
    ``check`` decides from the page's headers and <meta> tags whether anything of it may be kept
    (default: the standard opt-out level, without site signals); ``lang`` (--lang) whether the page
    is in a language the run wants (a page that is not ends SKIPPED, with its links)."""
    if tab.page is None or tab.cdp is None:
        raise ValueError("render_page needs a tab with a page")
    check = check or PageCheck(OptOutConfig(token=cfg.agent_token))
    nav = _Navigation(tab.page)
    try:
        return await _render(tab, tab.page, tab.cdp, nav, url, plan, cfg, timings, check, lang)
    finally:
        nav.detach()


async def _render(
    tab: Tab,
    page: Page,
    cdp: CDPSession,
    nav: _Navigation,
    url: str,
    plan: PagePlan,
    cfg: BrowserConfig,
    timings: dict[str, float],
    check: PageCheck,
    lang: LangFilter | None,
) -> RenderedPage:
    door = tab.door
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = round(timings.get(stage, 0.0) + (now - clock) * 1000, 1)  # stages may lap again
        clock = now

    verdict, signals = NOT_JUDGED, [str(f) for f in check.site]  # until the page's own signals are read
    language: dict[str, Any] = {}  # the lang_* fields, once read

    def result(outcome: Outcome, error: str | None, retryable: bool = False, **kw: Any) -> RenderedPage:
        return RenderedPage(
            verdict=verdict,
            signals=signals,
            url=url,
            final_url=page.url if page.url != "about:blank" else url,
            status=nav.status,
            content_type=nav.content_type,
            outcome=outcome,
            error=error,
            retryable=retryable,
            timings=timings,
            dialogs=nav.dialogs,
            blocked_requests=len(door.refused),
            **language,
            **kw,
        )

    try:
        await page.goto(url, wait_until="domcontentloaded", timeout=cfg.page_timeout * 1000)
    except PlaywrightError as exc:
        lap("load")
        message = load_error(exc.message, door)
        outcome, retryable = classify_error(message)
        if nav.crashed:
            outcome, retryable = Outcome.CRASH, True
        return result(outcome, message, retryable)

    load_complete = True
    try:
        await page.wait_for_load_state("load", timeout=cfg.load_timeout * 1000)
    except PlaywrightError:
        load_complete = False  # a page that never finishes loading: use what has rendered
    lap("load")

    if nav.status is not None and nav.status >= 400:
        return result(
            Outcome.HTTP_ERROR,
            f"HTTP {nav.status}",
            nav.status >= 500 or nav.status == 429,
            load_complete=load_complete,
            retry_after=nav.retry_after,
        )
    judged = check.judge(nav.headers, await read_metas(page, cdp))
    verdict, signals = judged.text, judged.signals
    if not judged.allowed:
        # the site reserves its pages from AI training: keep nothing of the page (no text, tokens or images)
        return result(Outcome.REFUSED, str(judged.refused_by)[:300], load_complete=load_complete)
    if nav.content_type and not nav.content_type.startswith(HTML_TYPES):
        return result(Outcome.NOT_HTML, f"content-type {nav.content_type} is not HTML", load_complete=load_complete)

    # Wait (bounded) for the page to settle, following it if it navigates itself away; then
    # freeze it, so the layout measured is the layout captured.
    try:
        await settle(page, cdp, nav, cfg)
        lap("settle")
        if left := left_for_an_error(page, door):
            outcome, retryable = classify_error(left)
            return result(outcome, left, retryable, load_complete=load_complete)
        # The language is read from the document that settled (a page may have navigated itself to
        # another), and decided before the costly stages: a page not wanted is never measured.
        facts = await evaluate_isolated(
            page, cdp, f"{LANGUAGE_JS}({json.dumps(lang is not None)}, {TEXT_CHARS})", "boxcrawl-lang"
        )
        if lang is not None and not isinstance(facts, dict):  # unread is not "unknown": try the page again
            return result(Outcome.ERROR, "the page's language could not be read", True, load_complete=load_complete)
        facts = facts if isinstance(facts, dict) else {}
        declared = facts.get("lang")
        language["lang_declared"] = declared.strip()[:100] or None if isinstance(declared, str) else None
        if lang is not None:
            text = facts.get("text")
            detection = await asyncio.to_thread(lang.detect, text if isinstance(text, str) else "")
            language.update(lang_detected=detection.language, lang_score=detection.score)
            decided = lang.judge(language["lang_declared"], detection)
            if not decided.keep:
                links = facts.get("links")
                found = [link for link in links if isinstance(link, str)] if isinstance(links, list) else []
                return result(Outcome.SKIPPED, decided.reason, links=found, load_complete=load_complete)
        await tab.freeze_scripts()
        await call(cdp, FREEZE_JS)
        measurement = await _measure(page, cdp, plan, cfg, lap)
    except PlaywrightError as exc:
        if nav.crashed:
            return result(Outcome.CRASH, "renderer crashed", True)
        outcome, retryable = classify_error(exc.message)
        if "Execution context was destroyed" in exc.message or "navigat" in exc.message:
            # a navigation that started before the freeze and committed after it
            outcome, retryable = Outcome.ERROR, True
        return result(outcome, _short(exc.message), retryable)

    if not measurement.boxes:
        return result(Outcome.NO_TEXT, "page has no text", measurement=measurement, load_complete=load_complete)

    clips = await asyncio.to_thread(plan.clips, measurement)
    lap("select")
    try:
        crops = await capture(page, cdp, clips, cfg.scale, lap)
    except PlaywrightError as exc:
        outcome, retryable = classify_error(exc.message)
        if nav.crashed:
            outcome, retryable = Outcome.CRASH, True
        return result(outcome, _short(exc.message), retryable)
    lap("capture")
    crops = await asyncio.to_thread(plan.verify, measurement, crops)
    lap("verify")
    images = await asyncio.to_thread(encode_png, crops)  # only the crops kept are encoded
    lap("encode")
    return result(Outcome.OK, None, measurement=measurement, images=images, load_complete=load_complete)


# Settling: the page must go SETTLE quiet (no DOM mutation, no request in flight) before it is
# measured, for at most settle_max; a page that navigates itself is followed this many times.
MAX_SELF_NAVIGATIONS = 3
FONTS_WAIT_MS = 2000
FONTS_JS = "(ms) => Promise.race([document.fonts.ready, new Promise((r) => setTimeout(r, ms))]).then(() => 1)"


async def settle(page: Page, cdp: CDPSession, nav: _Navigation, cfg: BrowserConfig) -> None:
    """Fonts, then quiet. A page that navigates itself away while settling is followed and the
    document it lands on is the one measured: the record says where the page ended."""
    for hop in range(MAX_SELF_NAVIGATIONS + 1):
        commits = nav.commits
        try:
            if not await _quiet(cdp, nav, cfg):
                return
        except PlaywrightError as exc:
            if "Execution context was destroyed" not in exc.message and "navigat" not in exc.message:
                raise
        if hop == MAX_SELF_NAVIGATIONS:
            return
        await _next_document(page, nav, commits, cfg)


async def _quiet(cdp: CDPSession, nav: _Navigation, cfg: BrowserConfig) -> bool:
    """Wait for this document's fonts, then (for at most settle_max) until it has been quiet.
    True when it started navigating away instead."""
    # fonts change line breaks: waited for outside the settle budget, which a slow font would eat
    await call(cdp, FONTS_JS, FONTS_WAIT_MS)
    deadline = time.monotonic() + cfg.settle_max
    wait = 0.0
    while (remaining := deadline - time.monotonic()) > 0:
        state = await call(cdp, SETTLE_JS, {"quiet": cfg.settle * 1000, "wait": wait * 1000, "cap": remaining * 1000})
        if state["navigating"]:
            return True
        if not state["quiet"]:
            return False  # out of time
        # The DOM is quiet; it must stay so until the network has been quiet as long.
        wait = cfg.settle if nav.in_flight else cfg.settle - (time.monotonic() - nav.last_request)
        if wait <= 0:
            return False
    return False


async def _next_document(page: Page, nav: _Navigation, commits: int, cfg: BrowserConfig) -> None:
    """Wait for the navigation the page started to commit a new document and load it (bounded:
    a navigation that ends in a download or a 204 commits nothing)."""
    give_up = time.monotonic() + cfg.load_timeout
    while nav.commits == commits and time.monotonic() < give_up and not nav.crashed:
        await asyncio.sleep(0.02)
    try:
        await page.wait_for_load_state("load", timeout=max(give_up - time.monotonic(), 0.1) * 1000)
    except PlaywrightError:
        pass


# Two ways to get pixels (see browser/capture.py): on pages up to BEYOND_PAGE_HEIGHT, clips
# within CAPTURE_SPAN rows and CAPTURE_GAP of each other share one capture painted beyond the
# viewport (half the time of one scrolled capture per clip, measured on python3-doc and
# postgresql-doc pages); on longer pages that relayout costs more than it saves (seconds per
# capture at 275,000 px), and each viewport-sized group of clips gets its own scrolled capture.
BEYOND_PAGE_HEIGHT = 16384
CAPTURE_SPAN = 8192
CAPTURE_GAP = 512


async def capture(
    page: Page, cdp: CDPSession, clips: list[Box], scale: float, lap: Callable[[str], None]
) -> list[Image.Image]:
    """The pixels of every clip, decoded. Clips that fit one viewport together share one capture
    (fast PNG mode), cut apart off the event loop; the time spent decoding and cutting is lapped
    as "encode", the rest as "capture"."""
    if not clips:
        return []
    images: list[Image.Image | None] = [None] * len(clips)
    async with RegionCapture(page, scale, cdp) as cap:
        order = sorted(range(len(clips)), key=lambda i: (clips[i][1], clips[i][0]))
        beyond = cap.page_height <= BEYOND_PAGE_HEIGHT
        groups: list[list[int]] = []
        for i in order:
            if groups:
                current = _union([clips[j] for j in groups[-1]])
                union = _union([current, clips[i]])
                near = union[3] - union[1] <= CAPTURE_SPAN and clips[i][1] - current[3] <= CAPTURE_GAP
                if cap.fits(union) or (beyond and near):
                    groups[-1].append(i)
                    continue
            groups.append([i])
        for group in groups:
            box = _union([clips[i] for i in group])
            png = await (cap.png(box) if cap.fits(box) or not beyond else cap.beyond(box))
            lap("capture")
            parts = await asyncio.to_thread(cut, png, box[:2], [clips[i] for i in group], scale)
            lap("encode")
            for i, part in zip(group, parts):
                images[i] = part
    done = [image for image in images if image is not None]
    assert len(done) == len(clips)  # every clip is in one group
    return done


def _union(boxes: Sequence[Box]) -> Box:
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def cut(png: bytes, origin: Sequence[float], boxes: Sequence[Box], scale: float) -> list[Image.Image]:
    with Image.open(io.BytesIO(png)) as im:
        im.load()
        out = []
        for x0, y0, x1, y1 in boxes:
            left, top = round((x0 - origin[0]) * scale), round((y0 - origin[1]) * scale)
            out.append(im.crop((left, top, left + round((x1 - x0) * scale), top + round((y1 - y0) * scale))))
        return out


def encode_png(images: list[Image.Image]) -> list[bytes]:
    out = []
    for image in images:
        buf = io.BytesIO()
        image.save(buf, format="PNG", compress_level=1)  # ~2x faster than 6; same size on text crops
        out.append(buf.getvalue())
    return out


async def _measure(
    page: Page, cdp: CDPSession, plan: PagePlan, cfg: BrowserConfig, lap: Callable[[str], None]
) -> Measurement:
    # The viewport keeps its size: the layout measured is the page's own at this viewport
    # (100vh stays 100vh), hit tests scroll to what they test, and captures paint beyond
    # the viewport without resizing it.
    lap("layout")
    collected = await call(cdp, COLLECT_TEXT_JS)
    lap("collect")
    spans = await asyncio.to_thread(plan.spans, collected["text"])  # CPU work off the event loop
    lap("tokenize")
    render_height = min(collected["height"], cfg.max_page_height)
    # JSON both ways: Playwright's structured serializer is slow for 100k+ numbers
    measured = json.loads(
        await call(
            cdp,
            MEASURE_JS,
            json.dumps(
                {
                    "spans": spans,
                    "width": collected["width"],
                    "height": render_height,
                    "visibility": cfg.visibility,
                    "inkBoxes": cfg.ink_boxes,
                }
            ),
        )
    )
    lap("measure")
    m = Measurement(
        text=collected["text"],
        links=collected["links"],
        width=collected["width"],
        height=render_height,
        elements=collected["elements"],
        cross_origin_frames=collected["crossOriginFrames"],
        boxes=measured["boxes"],
        hidden=measured["hidden"],
        hit_tests_skipped=measured["hitTestsSkipped"],
    )
    await _check_ink(page, m, measured["inkCheck"], cfg)
    lap("ink")
    return m


async def _check_ink(page: Page, m: Measurement, check: list[int], cfg: BrowserConfig) -> None:
    """Let the pixels decide the tokens measure.js could not (all of them for --visibility pixel,
    every visible one with --ink-boxes, which also tightens each box to its painted pixels:
    measure.js then lists them all)."""
    if not check:
        return
    boxes = {t: [m.boxes[t][k : k + 4] for k in range(0, len(m.boxes[t]), 4)] for t in check}
    inks = await ink_pass(page, boxes, m.width, m.height, cfg.scale)
    m.ink_checked = len(inks)
    for t, ink in inks.items():
        if not ink.visible:
            m.hidden[t] = "no_ink"
        elif cfg.ink_boxes:
            m.layout_boxes[t] = m.boxes[t]
            m.boxes[t] = [v for layout, tight in zip(boxes[t], ink.boxes) for v in (tight or layout)]
