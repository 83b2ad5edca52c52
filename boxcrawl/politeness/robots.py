"""robots.txt, fetched once per host and cached (in Redis when the frontier is shared), via protego.

A 4xx robots.txt allows everything; a 5xx makes the page a retryable failure, so it is tried
again later instead of being crawled against rules we could not read. When the host cannot be
reached at all, the browser tries the page anyway: it fails the same way and records the real
network error (ERR_CONNECTION_REFUSED, ...), and the retry asks for robots.txt again.
Requests go through the same network guard as the browser, redirects included.
"""

from __future__ import annotations

import asyncio
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from protego import Protego

from ..egress.guard import NetworkGuard, Refused

MAX_BYTES = 512 * 1024          # RFC 9309: parse at least 500 KiB
CACHE_SECONDS = 24 * 3600
DEFAULT_AGENT = "boxcrawl"


class RobotsUnavailable(Exception):
    """robots.txt could not be read (5xx, a redirect we refuse): try the page again later."""


class HostUnreachable(Exception):
    """No answer at all for robots.txt: nothing is cached and the page goes to the browser."""


class _GuardedRedirects(urllib.request.HTTPRedirectHandler):
    def __init__(self, guard: NetworkGuard):
        self.guard = guard

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        self.guard.check(newurl)   # Refused propagates: never follow into the private network
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class RobotsPolicy:
    def __init__(self, agent: str | None, guard: NetworkGuard, shared=None, timeout: float = 10.0):
        self.agent = agent or DEFAULT_AGENT
        self.guard = guard
        self.shared = shared if shared is not None and hasattr(shared, "cache_get") else None
        self.timeout = timeout
        self._parsed: dict[str, tuple[Protego, float]] = {}
        self._opener = urllib.request.build_opener(_GuardedRedirects(guard))

    async def check(self, url: str) -> tuple[bool, float | None]:
        """(allowed, crawl delay in s or None). Raises RobotsUnavailable."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        parsed = self._parsed.get(origin)
        if parsed is None or parsed[1] < time.monotonic():
            body = self.shared.cache_get("robots:" + origin) if self.shared else None
            if body is None:
                try:
                    body = await asyncio.to_thread(self._fetch, origin + "/robots.txt")
                except HostUnreachable:
                    return True, None
                if self.shared:
                    self.shared.cache_set("robots:" + origin, body, CACHE_SECONDS)
            parsed = (Protego.parse(body), time.monotonic() + CACHE_SECONDS)
            self._parsed[origin] = parsed
        rules = parsed[0]
        return rules.can_fetch(url, self.agent), rules.crawl_delay(self.agent)

    def _fetch(self, robots_url: str) -> str:
        try:
            self.guard.check(robots_url)
        except Refused:
            return ""   # the page itself is refused by the guard; nothing to read
        request = urllib.request.Request(robots_url, headers={"User-Agent": self.agent})
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return response.read(MAX_BYTES).decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            if 400 <= exc.code < 500:
                return ""     # no robots.txt: everything is allowed
            raise RobotsUnavailable(f"robots.txt answered HTTP {exc.code}") from None
        except Refused as exc:
            raise RobotsUnavailable(f"robots.txt redirect {exc}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise HostUnreachable(str(getattr(exc, "reason", exc))) from None
