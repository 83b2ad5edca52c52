"""A tab that renders page after page without carrying anything from one page to the next.

A fresh browser context per page is the safe default and the slow one: Chromium starts a new
renderer process for each (about 400 ms of a 2-core machine's time per page, more than loading
a documentation page). A tab keeps its context, its page and so its renderer across pages, and
between two pages takes away everything a page could leave for the next:

- the document itself: the tab goes to about:blank, which ends the page's scripts, timers,
  workers, WebSockets and connections (Playwright turns the back/forward cache off, so the
  page is not kept alive behind the tab either); page scripts, stopped to freeze the page, run
  again only for the next document;
- cookies, first- and third-party, of every site;
- storage (local and session storage, IndexedDB, Cache Storage, file systems, ...) of every
  origin the page made a request to, ``window.name`` and the tab's history.

What stays is the HTTP cache, which Chromium keys by the top-level site: a later page of the
same site loads its stylesheets from it, and a page of another site cannot see an entry of it.
Service workers are blocked in every context, and permissions are never granted.
The user's extra headers (--header) go only to the origin of the page being rendered, not to the
CDNs, analytics and frames of other hosts a page loads from, nor where a redirect leads elsewhere.
(Playwright turns the HTTP cache off while a route is set: with --header every page loads afresh.)
A tab that failed in a way that leaves its state unknown (crash, deadline, an error) is closed,
not reset; a tab is also replaced after ``MAX_PAGES`` pages, so what a context accumulates
(connection pools, cache) stays bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import BrowserContext, CDPSession, Page, Request, Route
from playwright.async_api import Error as PlaywrightError

from ..egress.proxy import Door
from .devtools import call

MAX_PAGES = 20  # a renderer kept longer holds on to memory (about 3x at 100 pages), for no speed
RESET_SECONDS = 10  # a reset takes a few ms; a tab that will not reset in this long is closed
FORGET_JS = "() => { try { sessionStorage.clear(); } catch (e) {} window.name = ''; }"


class Tab:
    """One context with one page, and the egress door all its traffic leaves through."""

    def __init__(
        self,
        context: BrowserContext,
        page: Page | None,
        cdp: CDPSession | None,
        door: Door,
        cookies: tuple[dict[str, Any], ...] = (),
        headers: tuple[tuple[str, str], ...] = (),
    ):
        self.context = context
        self.cookies = cookies  # the user's (--cookies): every page starts with them, none of a page's own
        self.headers = dict(headers)  # the user's (--header), for requests to `origin` only
        self.origin: tuple[str, str, int | None] | None = None  # of the page being rendered (`for_page`)
        self.page = page
        self.cdp = cdp  # the page's DevTools session (script switch, storage clearing)
        self.door = door
        self.pages = 0  # pages rendered so far
        self.origins: set[str] = set()  # every origin the current page sent a request to
        if page is not None:  # a bare context (BrowserPool.run_page) opens its own pages
            page.on("request", self._on_request)

    @classmethod
    async def open(
        cls,
        context: BrowserContext,
        door: Door,
        cookies: tuple[dict[str, Any], ...] = (),
        headers: tuple[tuple[str, str], ...] = (),
    ) -> "Tab":
        page = await context.new_page()
        cdp = await context.new_cdp_session(page)
        return cls(context, page, cdp, door, cookies, headers)

    async def route_headers(self) -> None:
        """Add the extra headers to the requests for the page's origin. (A route costs every request a
        round trip through Playwright: only when there are headers to add.)"""
        if self.headers:
            await self.context.route(self._to_page_origin, self._add_headers)

    def for_page(self, url: str) -> None:
        """The next page is ``url``: its origin is the one the extra headers go to."""
        self.origin = origin(url)

    def _to_page_origin(self, url: str) -> bool:
        return self.origin is not None and origin(url) == self.origin

    async def _add_headers(self, route: Route) -> None:
        # Fetched here, redirects not followed, and the answer handed to the page: Playwright would
        # carry headers given to `continue_` through a redirect to another host. The browser follows
        # a redirect itself, as a new request this route judges again. The fetch leaves through the
        # context's proxy, so the network guard decides it as any other request.
        try:
            response = await route.fetch(headers={**route.request.headers, **self.headers}, max_redirects=0)
            await route.fulfill(response=response)
        except PlaywrightError:  # refused, unreachable, or the page went away: a network error for the page
            with contextlib.suppress(PlaywrightError):
                await route.abort("failed")

    def _on_request(self, request: Request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https"):
            self.origins.add(f"{parts.scheme}://{parts.netloc}")

    def _session(self) -> tuple[Page, CDPSession]:
        if self.page is None or self.cdp is None:
            raise RuntimeError("a bare context (BrowserPool.run_page) has no page of the tab's own")
        return self.page, self.cdp

    async def freeze_scripts(self) -> None:
        """Stop the page's scripts (timers, handlers, new scripts): the page holds still to be measured."""
        await self._session()[1].send("Emulation.setScriptExecutionDisabled", {"value": True})

    async def reset(self) -> None:
        """Make the tab as a fresh one for the next page (see the module docstring)."""
        page, cdp = self._session()
        await call(cdp, FORGET_JS)
        self.origin = None
        await page.goto("about:blank")
        await cdp.send("Emulation.setScriptExecutionDisabled", {"value": False})
        await cdp.send("Page.resetNavigationHistory")
        await self.context.clear_cookies()
        origins, self.origins = self.origins, set()
        await asyncio.gather(
            *(
                cdp.send("Storage.clearDataForOrigin", {"origin": origin, "storageTypes": "all"})
                for origin in sorted(origins)
            )
        )
        if self.cookies:  # after the storage clearing, which takes cookies too
            await self.context.add_cookies(list(self.cookies))  # type: ignore[arg-type]  # SetCookieParam dicts
        self.door.refused.clear()
        self.door.failed.clear()

    async def close(self) -> bool:
        return await close_context(self.context)


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of ``url``: headers for https://host are not sent to http://host."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:  # a seed may name its host in Unicode; the browser's requests name it in punycode
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        pass
    return parts.scheme, host, parts.port or {"http": 80, "https": 443}.get(parts.scheme)


async def close_context(context: BrowserContext) -> bool:
    """Close ``context``; False when it would not close (the pool then retires its browser)."""
    try:
        await asyncio.wait_for(context.close(), timeout=RESET_SECONDS)
        return True
    except (PlaywrightError, asyncio.TimeoutError):
        return False
