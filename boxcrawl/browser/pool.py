"""BrowserPool: owns Playwright and one Chromium for its whole lifetime.

One browser is shared by all tabs; each page gets a fresh context (no cookies,
cache or storage leak between pages). A crashed or disconnected browser is
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

from playwright.async_api import Browser, BrowserContext, Error as PlaywrightError, async_playwright

from ..config import BrowserConfig
from ..egress import proxy as egress
from ..egress.guard import NetworkGuard, Refused
from ..records import Outcome, RenderedPage
from .chromium import egress_args, find_chromium, launch_args
from .render import PagePlan, quietly, render_page

log = logging.getLogger(__name__)

# WebRTC opens UDP sockets of its own, which no proxy sees. Tabs are kept off UDP by a flag
# (browser/chromium.py), but Chromium applies it to tabs only, not to the hidden page its DOM
# distiller loads (in the browser's default context, with the page's scripts running again).
# So every document of every context starts without the constructors that open such sockets:
# ours through their init script, hidden pages through the default context's, which Playwright
# gives them once PW_CHROMIUM_ATTACH_TO_OTHER makes it adopt them.
ATTACH_TO_OTHER = "PW_CHROMIUM_ATTACH_TO_OTHER"
LAUNCH_SECONDS = 30      # a start takes about a second; one that hangs (right after a crash) is retried
NO_UDP_JS = """for (const name of ["RTCPeerConnection", "webkitRTCPeerConnection", "WebTransport"]) {
  try { delete globalThis[name]; } catch (e) {}
}"""


class _Handle:
    def __init__(self, default: BrowserContext, profile: str):
        self.default = default          # the browser's own context: Chromium's hidden pages live here
        self.profile = profile          # its temporary user data dir
        self.browser: Browser = default.browser
        self.pages = 0
        self.in_flight = 0
        self.retired = False
        self.dead = False
        self.closed = False
        self.browser.on("disconnected", self._on_disconnected)

    def _on_disconnected(self, _browser) -> None:
        self.dead = True


class BrowserPool:
    """``async with BrowserPool(cfg, guard) as pool: page = await pool.render(url, plan)``"""

    def __init__(self, cfg: BrowserConfig, guard: NetworkGuard | None = None, extra_args: tuple[str, ...] = ()):
        self.cfg = cfg
        self.extra_args = list(extra_args)   # e.g. --enable-dom-distiller
        self.guard = guard or NetworkGuard(cfg.allow_hosts)
        self.executable = find_chromium(cfg.chromium)
        self._playwright = None
        self._proxy: egress.EgressProxy | None = None
        self._handle: _Handle | None = None
        self._lock = asyncio.Lock()
        self.launches = 0
        self.version: str | None = None

    async def __aenter__(self) -> "BrowserPool":
        self._proxy = egress.EgressProxy(self.guard).__enter__()
        saved = os.environ.get(ATTACH_TO_OTHER)
        os.environ[ATTACH_TO_OTHER] = "1"     # read once, by the Playwright driver started here
        try:
            self._playwright = await async_playwright().start()
        finally:
            if saved is None:
                del os.environ[ATTACH_TO_OTHER]
            else:
                os.environ[ATTACH_TO_OTHER] = saved
        return self

    async def __aexit__(self, *exc) -> None:
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
            default = await self._playwright.chromium.launch_persistent_context(
                profile, executable_path=self.executable,
                args=launch_args() + egress_args(self._proxy.url, egress.HOST) + self.extra_args,
                no_viewport=True, service_workers="block", accept_downloads=False,
                handle_sigint=False, handle_sigterm=False, handle_sighup=False,
                timeout=LAUNCH_SECONDS * 1000,
            )
            await default.add_init_script(NO_UDP_JS)
        except BaseException:
            shutil.rmtree(profile, ignore_errors=True)
            raise
        self.launches += 1
        self.version = default.browser.version
        return _Handle(default, profile)

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
        try:
            await asyncio.wait_for(handle.default.close(), timeout=10)
        except (PlaywrightError, asyncio.TimeoutError):
            log.warning("browser did not close cleanly")
        shutil.rmtree(handle.profile, ignore_errors=True)

    async def _acquire(self) -> _Handle:
        async with self._lock:
            handle = self._handle
            if handle is None or handle.dead or handle.retired:
                if handle is not None and handle.dead and not handle.retired:   # a retired one was closed by us
                    log.warning("Chromium disconnected; relaunching")
                    # no close() on a browser that is gone: Playwright may still be tearing it down, and
                    # a launch issued meanwhile can hang; its profile is all there is to clean up
                    handle.closed = True
                    shutil.rmtree(handle.profile, ignore_errors=True)
                self._handle = handle = await self._launch_with_retries()
            handle.in_flight += 1
            handle.pages += 1
            if handle.pages >= self.cfg.pages_per_browser:
                handle.retired = True
            return handle

    async def _release(self, handle: _Handle) -> None:
        handle.in_flight -= 1
        if handle.retired and handle.in_flight == 0:
            handle.dead = True
            await self._close(handle)

    async def render(self, url: str, plan: PagePlan) -> RenderedPage:
        """Render one page under the hard per-page deadline. Never raises for page problems."""
        return await self.run_page(
            url, lambda context, door, timings: render_page(context, url, plan, self.cfg, door, timings))

    async def run_page(self, url: str, work, context_options: dict | None = None,
                       timeout: float | None = None) -> RenderedPage:
        """Run ``work(context, door, timings)`` in a fresh context under the deadline; all its traffic
        goes through its own door of the egress proxy.
        ``render`` uses it; so does the benchmark's floor, so both pay the same browser costs.
        ``context_options`` override the context's settings (device emulation); ``timeout`` the deadline."""
        try:   # may resolve a name: off the event loop
            await asyncio.to_thread(self.guard.check, url)
        except Refused as exc:
            return RenderedPage(url=url, final_url=url, status=None, content_type=None,
                                outcome=Outcome.REFUSED, error=str(exc))
        door = await self._proxy.open_door()
        try:
            handle = await self._acquire()
        except BaseException:
            await self._proxy.close_door(door)
            raise
        context = None
        timings: dict[str, float] = {}
        try:
            async with asyncio.timeout(timeout or self.cfg.page_timeout):
                options = dict(
                    viewport={"width": self.cfg.viewport_width, "height": self.cfg.viewport_height},
                    device_scale_factor=self.cfg.scale,
                    user_agent=self.cfg.user_agent,
                )
                options.update(context_options or {})
                context = await handle.browser.new_context(
                    **options,
                    proxy={"server": door.url},   # this context's door: its refusals are this page's
                    service_workers="block",      # a page's code should not outlive the page
                    accept_downloads=False,
                )
                context.on("page", self._close_popup)
                await context.add_init_script(NO_UDP_JS)
                return await work(context, door, timings)
        except TimeoutError:
            return RenderedPage(url=url, final_url=url, status=None, content_type=None,
                                outcome=Outcome.TIMEOUT, retryable=True, timings=timings,
                                error=f"page deadline of {timeout or self.cfg.page_timeout:g}s exceeded")
        except PlaywrightError as exc:
            crashed = handle.dead or not handle.browser.is_connected()
            return RenderedPage(url=url, final_url=url, status=None, content_type=None,
                                outcome=Outcome.CRASH if crashed else Outcome.ERROR, retryable=True,
                                error=("browser crashed: " if crashed else "") + exc.message.splitlines()[0][:300])
        finally:
            if context is not None:
                try:
                    await asyncio.wait_for(context.close(), timeout=10)
                except (PlaywrightError, asyncio.TimeoutError):
                    handle.retired = True  # a context that will not close: start a fresh browser
            await self._proxy.close_door(door)
            await self._release(handle)

    @staticmethod
    async def _close_popup(page) -> None:
        # window.open() from a page under test: close it; only the page we opened is rendered
        if await page.opener() is not None:
            await quietly(page.close())
