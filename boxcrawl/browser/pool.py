"""BrowserPool: owns Playwright and one Chromium for its whole lifetime.

One browser is shared by all tabs. ``render`` reuses tabs (browser/tab.py: a context and
its page, reset between pages so nothing of one page reaches the next); ``run_page`` gives
its work a fresh context. A crashed or disconnected browser is
relaunched on the next page; after `pages_per_browser` pages the browser is
retired and replaced once its last page finishes, so memory stays flat.
Every connection the browser opens leaves through the pool's egress proxy
(egress/proxy.py), each context through a door of its own.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from typing import Any

from playwright.async_api import Browser, BrowserContext, Page, Playwright, Route, async_playwright
from playwright.async_api import Error as PlaywrightError

from ..config import BrowserConfig
from ..egress import proxy as egress
from ..egress.guard import NetworkGuard, Refused
from ..lang import LangFilter
from ..optout.policy import PageCheck, with_token
from ..records import Outcome, RenderedPage
from .chromium import egress_args, find_chromium, launch_args
from .hygiene import quietly
from .render import SETTLE_WATCH_JS, PagePlan, render_page
from .tab import MAX_PAGES as TAB_PAGES
from .tab import RESET_SECONDS, Tab, close_context

log = logging.getLogger(__name__)

# WebRTC opens UDP sockets of its own, which no proxy sees. Tabs are kept off UDP by a flag
# (browser/chromium.py), but Chromium applies it to tabs only, not to the hidden page its DOM
# distiller loads (in the browser's default context, with the page's scripts running again).
# So every document of every context starts without the constructors that open such sockets:
# ours through their init script, hidden pages through the default context's, which Playwright
# gives them once PW_CHROMIUM_ATTACH_TO_OTHER makes it adopt them.
ATTACH_TO_OTHER = "PW_CHROMIUM_ATTACH_TO_OTHER"
LAUNCH_SECONDS = 30  # a start takes about a second; one that hangs (right after a crash) is retried
# After these a tab's page is on a document (or an error page) of its own and can be reset;
# after a crash, a deadline or an error its state is unknown and the tab is closed.
REUSABLE_AFTER = frozenset(
    {
        Outcome.OK,
        Outcome.NO_TEXT,
        Outcome.HTTP_ERROR,
        Outcome.NOT_HTML,
        Outcome.REFUSED,
        Outcome.NETWORK,
        Outcome.SKIPPED,
    }
)
NO_UDP_JS = """for (const name of ["RTCPeerConnection", "webkitRTCPeerConnection", "WebTransport"]) {
  try { delete globalThis[name]; } catch (e) {}
}"""


class _Handle:
    def __init__(self, default: BrowserContext, profile: str):
        self.default = default  # the browser's own context: Chromium's hidden pages live here
        self.profile = profile  # its temporary user data dir
        browser = default.browser
        assert browser is not None  # a persistent context belongs to the browser it launched
        self.browser: Browser = browser
        self.pages = 0
        self.in_flight = 0
        self.retired = False
        self.dead = False
        self.closed = False
        self.idle: list[Tab] = []  # reset tabs, waiting for a page
        self.browser.on("disconnected", self._on_disconnected)

    def _on_disconnected(self, _browser: Browser) -> None:
        self.dead = True


class BrowserPool:
    """``async with BrowserPool(cfg, guard) as pool: page = await pool.render(url, plan)``"""

    def __init__(
        self,
        cfg: BrowserConfig,
        guard: NetworkGuard | None = None,
        extra_args: tuple[str, ...] = (),
        unguarded: bool = False,
        hidden_route: Callable[[Route], Awaitable[None]] | None = None,
    ):
        self.cfg = cfg
        # unguarded: no egress proxy at all, so `boxcrawl bench` can say what the guard costs.
        # Nothing that renders pages from the network may set it.
        self.unguarded = unguarded
        self.extra_args = list(extra_args)  # e.g. --enable-dom-distiller
        # answers every request of Chromium's hidden pages (the DOM distiller's), e.g. from a saved snapshot
        self.hidden_route = hidden_route
        self.guard = guard or NetworkGuard(cfg.allow_hosts)
        self.executable = find_chromium(cfg.chromium)
        self._playwright: Playwright | None = None
        self._proxy: egress.EgressProxy | None = None
        self._handle: _Handle | None = None
        self._lock = asyncio.Lock()
        self.launches = 0
        self.tabs_opened = 0
        self.version: str | None = None
        self.user_agent: str | None = None  # sent by every tab: names the crawler's token

    async def __aenter__(self) -> "BrowserPool":
        if not self.unguarded:
            self._proxy = egress.EgressProxy(self.guard, self.cfg.proxy).__enter__()
        saved = os.environ.get(ATTACH_TO_OTHER)
        os.environ[ATTACH_TO_OTHER] = "1"  # read once, by the Playwright driver started here
        try:
            self._playwright = await async_playwright().start()
        finally:
            if saved is None:
                del os.environ[ATTACH_TO_OTHER]
            else:
                os.environ[ATTACH_TO_OTHER] = saved
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._handle is not None:
            await self._close(self._handle)
        if self._playwright is not None:
            await self._playwright.stop()
        if self._proxy is not None:
            self._proxy.__exit__(None, None, None)

    async def _launch(self) -> _Handle:
        # A persistent context, only so that the default context is ours to configure.
        profile = tempfile.mkdtemp(prefix="boxcrawl-chromium-")
        try:
            assert self._playwright is not None, "BrowserPool is used inside `async with`"
            default = await self._playwright.chromium.launch_persistent_context(
                profile,
                executable_path=self.executable,
                args=launch_args()
                + (egress_args(self._proxy.url, egress.HOST) if self._proxy else [])
                + self.extra_args,
                no_viewport=True,
                service_workers="block",
                accept_downloads=False,
                handle_sigint=False,
                handle_sigterm=False,
                handle_sighup=False,
                timeout=LAUNCH_SECONDS * 1000,
            )
            await default.add_init_script(NO_UDP_JS)
            if self.hidden_route is not None:
                await default.route("**/*", self.hidden_route)
        except BaseException:
            shutil.rmtree(profile, ignore_errors=True)
            raise
        self.launches += 1
        handle = _Handle(default, profile)
        self.version = handle.browser.version
        if self.user_agent is None:
            self.user_agent = await self._agent_string(handle.browser)
        return handle

    async def _agent_string(self, browser: Browser) -> str:
        """--user-agent, or Chromium's own; with the crawler's token appended when it is not in
        it already, so a site sees the name robots.txt was read for."""
        agent = self.cfg.user_agent
        if not agent:
            session = await browser.new_browser_cdp_session()
            try:
                agent = str((await session.send("Browser.getVersion"))["userAgent"])
            finally:
                await session.detach()
        return with_token(agent, self.cfg.agent_token)

    async def _launch_with_retries(self, attempts: int = 3) -> _Handle:
        # Right after Chromium was killed, or on a loaded machine, a launch can fail once with
        # TargetClosedError; only a Chromium that will not start at all should stop the run.
        for attempt in range(1, attempts):
            try:
                return await self._launch()
            except PlaywrightError as exc:
                log.warning("Chromium launch failed (%s); retrying", exc.message.splitlines()[0][:200])
                await asyncio.sleep(attempt)
        return await self._launch()

    async def _close(self, handle: _Handle) -> None:
        if handle.closed:
            return
        handle.closed = True
        await self._drop_idle(handle, close=True)
        try:
            await asyncio.wait_for(handle.default.close(), timeout=10)
        except (PlaywrightError, asyncio.TimeoutError):
            log.warning("browser did not close cleanly")
        shutil.rmtree(handle.profile, ignore_errors=True)

    async def _acquire(self) -> _Handle:
        async with self._lock:
            handle = self._handle
            if handle is None or handle.dead or handle.retired:
                if handle is not None and handle.dead and not handle.retired:  # a retired one was closed by us
                    log.warning("Chromium disconnected; relaunching")
                    # no close() on a browser that is gone: Playwright may still be tearing it down, and
                    # a launch issued meanwhile can hang; its profile is all there is to clean up
                    handle.closed = True
                    await self._drop_idle(handle, close=False)
                    shutil.rmtree(handle.profile, ignore_errors=True)
                self._handle = handle = await self._launch_with_retries()
            handle.in_flight += 1
            handle.pages += 1
            if handle.pages >= self.cfg.pages_per_browser:
                handle.retired = True
            return handle

    async def _drop_idle(self, handle: _Handle, close: bool) -> None:
        tabs, handle.idle = handle.idle, []
        for tab in tabs:
            if close:
                await tab.close()
            await self._close_door(tab.door)

    async def _release(self, handle: _Handle) -> None:
        handle.in_flight -= 1
        if handle.retired and handle.in_flight == 0:
            handle.dead = True
            await self._close(handle)

    async def render(
        self, url: str, plan: PagePlan, check: PageCheck | None = None, lang: LangFilter | None = None
    ) -> RenderedPage:
        """Render one page under the hard per-page deadline, in a reused tab (browser/tab.py).
        Never raises for page problems."""
        return await self._run(
            url, lambda tab, timings: render_page(tab, url, plan, self.cfg, timings, check, lang), reuse=True
        )

    async def run_page(
        self,
        url: str,
        work: Callable[[BrowserContext, egress.Door, dict[str, float]], Awaitable[RenderedPage]],
        context_options: dict[str, Any] | None = None,
        timeout: float | None = None,
    ) -> RenderedPage:
        """Run ``work(context, door, timings)`` in a fresh context under the deadline; all its traffic
        goes through its own door of the egress proxy. ``context_options`` override the context's
        settings (device emulation); ``timeout`` the deadline."""
        return await self._run(
            url,
            lambda tab, timings: work(tab.context, tab.door, timings),
            context_options=context_options,
            timeout=timeout,
        )

    async def _run(
        self,
        url: str,
        work: Callable[[Tab, dict[str, float]], Awaitable[RenderedPage]],
        reuse: bool = False,
        context_options: dict[str, Any] | None = None,
        timeout: float | None = None,
    ) -> RenderedPage:
        try:  # may resolve a name: off the event loop
            await asyncio.to_thread(self.guard.check, url)
        except Refused as exc:
            return RenderedPage.unreached(url, Outcome.REFUSED, str(exc))
        handle = await self._acquire()
        tab: Tab | None = None
        clean = False
        timings: dict[str, float] = {}
        try:
            async with asyncio.timeout(timeout or self.cfg.page_timeout):
                tab = (
                    handle.idle.pop()
                    if reuse and handle.idle
                    else await self._open_tab(handle, context_options, with_page=reuse)
                )
                tab.for_page(url)  # the origin the extra headers go to
                page = await work(tab, timings)
                clean = reuse and page.outcome in REUSABLE_AFTER
                return page
        except TimeoutError:
            deadline = f"page deadline of {timeout or self.cfg.page_timeout:g}s exceeded"
            return RenderedPage.unreached(url, Outcome.TIMEOUT, deadline, retryable=True, timings=timings)
        except PlaywrightError as exc:
            crashed = handle.dead or not handle.browser.is_connected()
            error = ("browser crashed: " if crashed else "") + exc.message.splitlines()[0][:300]
            return RenderedPage.unreached(
                url, Outcome.CRASH if crashed else Outcome.ERROR, error, retryable=True, timings=timings
            )
        except Exception as exc:  # noqa: BLE001 - a bug one page sets off must not end a crawl of millions
            log.exception("rendering %s failed", url)
            error = f"internal error: {type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
            return RenderedPage.unreached(url, Outcome.ERROR, error.rstrip(": "), timings=timings)
        finally:
            if tab is not None:
                await self._put_back(handle, tab, clean)
            await self._release(handle)

    async def _open_tab(self, handle: _Handle, context_options: dict[str, Any] | None, with_page: bool) -> Tab:
        door = await self._open_door()
        context = None
        try:
            options: dict[str, Any] = dict(
                viewport={"width": self.cfg.viewport_width, "height": self.cfg.viewport_height},
                device_scale_factor=self.cfg.scale,
                user_agent=self.user_agent,
            )
            options.update(context_options or {})
            if self._proxy:  # this context's door: its refusals are this context's pages'
                options["proxy"] = {"server": door.url}
            context = await handle.browser.new_context(
                **options,
                service_workers="block",  # a page's code should not outlive the page
                accept_downloads=False,
            )
            context.on("page", self._close_popup)
            if self.cfg.cookies:
                await context.add_cookies(list(self.cfg.cookies))  # type: ignore[arg-type]  # SetCookieParam dicts
            await context.add_init_script(NO_UDP_JS)
            self.tabs_opened += 1
            if with_page:
                await context.add_init_script(SETTLE_WATCH_JS)  # quiet counts from the document's start
                tab = await Tab.open(context, door, self.cfg.cookies, self.cfg.headers)
            else:
                tab = Tab(context, None, None, door, self.cfg.cookies, self.cfg.headers)
            await tab.route_headers()
            return tab
        except BaseException:
            if context is not None and not await close_context(context):  # the page's setup failed
                handle.retired = True
            await self._close_door(door)
            raise

    async def _open_door(self) -> egress.Door:
        return await self._proxy.open_door() if self._proxy else egress.Door()

    async def _close_door(self, door: egress.Door) -> None:
        if self._proxy:
            await self._proxy.close_door(door)

    async def _put_back(self, handle: _Handle, tab: Tab, clean: bool) -> None:
        """A tab that ended cleanly is reset and kept for the next page; any other is closed."""
        tab.pages += 1
        if clean and not handle.retired and not handle.dead and tab.pages < TAB_PAGES:
            try:
                await asyncio.wait_for(tab.reset(), timeout=RESET_SECONDS)
                handle.idle.append(tab)
                return
            except (PlaywrightError, asyncio.TimeoutError):
                log.debug("a tab did not reset; closing it")
        try:
            if not await tab.close():
                handle.retired = True  # a context that will not close: start a fresh browser
        finally:
            await self._close_door(tab.door)

    @staticmethod
    async def _close_popup(page: Page) -> None:
        # window.open() from a page under test: close it; only the page we opened is rendered
        if await page.opener() is not None:
            await quietly(page.close())
