"""robots.txt and the TDMRep file, fetched once per host and cached (in Redis when the frontier
is shared); robots.txt read with protego, its opt-out lines and the file by `optout.signals`.

A 4xx robots.txt allows everything; a 5xx makes the page a retryable failure, so it is tried
again later instead of being crawled against rules we could not read. When the host cannot be
reached at all, the browser tries the page anyway: it fails the same way and records the real
network error (ERR_CONNECTION_REFUSED, ...), and the retry asks for robots.txt again.
Every connection, redirects included, goes to the one address the network guard approved for
its host, and a fetch ends at its deadline however slowly the server sends; fetches run on
threads of their own, one per origin however many pages wait for it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar, cast
from urllib.parse import urlsplit

from ..egress.fetch import FetchError, FetchRefused, FetchTimeout, HTTPStatus, fetch
from ..egress.guard import NetworkGuard, Refused
from ..egress.upstream import Upstream
from ..optout.policy import OptOutConfig, PageCheck, Verdict, decide
from ..optout.signals import (
    TDM,
    Finding,
    Malformed,
    RobotsFile,
    TdmRule,
    ai_crawler_tokens,
    parse_tdmrep,
    tdm_file_rule,
)
from .shared import SharedCache

MAX_BYTES = 512 * 1024  # RFC 9309: parse at least 500 KiB
CACHE_SECONDS = 24 * 3600
FAILURE_SECONDS = 60.0  # see RobotsPolicy._file
DEADLINE_SECONDS = 10.0  # for the whole fetch, redirects and a server sending a byte at a time included
FETCHERS = 4  # threads of our own: slow robots servers never hold up the event loop's pool


class RobotsUnavailable(Exception):
    """robots.txt could not be read (5xx, a redirect we refuse, too slow): try the page again later."""


class HostUnreachable(Exception):
    """No answer at all for robots.txt: nothing is cached and the page goes to the browser."""


@dataclass
class SiteSignals:
    """What a page's site says before the page is loaded: the opt-out findings of robots.txt
    and the TDMRep file's rule for the page's path (decided with the page's own headers)."""

    optout: OptOutConfig
    findings: list[Finding] = field(default_factory=list)
    crawl_delay: float | None = None
    tdm_rule: TdmRule | None = None

    @property
    def verdict(self) -> Verdict:
        """Decided before loading: robots.txt and its lines apply to every page of the site."""
        return decide(self.findings, self.optout)

    @property
    def check(self) -> PageCheck:
        """What judges the page once loaded; the TDMRep file rule waits for its headers and <meta>."""
        return PageCheck(self.optout, self.findings, self.tdm_rule)


TDMREP_PATH = "/.well-known/tdmrep.json"
T = TypeVar("T")


def _tdm_rules(body: str) -> tuple[list[TdmRule], list[str]]:
    """(the rules of a tdmrep.json, the notes to record about it): "" (no file) has no rules; a
    malformed file or a bad rule is a note, never an error."""
    if not body:
        return [], []
    try:
        rules, problems = parse_tdmrep(body)
    except Malformed as exc:
        return [], [f"malformed, ignored: {exc}"]
    return rules, [f"{problem}, rule ignored" for problem in problems[:5]]


class RobotsPolicy:
    """robots.txt and /.well-known/tdmrep.json per origin, fetched once and cached (shared through
    Redis with a shared frontier), read for the opt-out signals `optout.OptOutConfig` asks for."""

    def __init__(
        self,
        guard: NetworkGuard,
        optout: OptOutConfig | None = None,
        shared: SharedCache | None = None,
        timeout: float = DEADLINE_SECONDS,
        upstream: Upstream | None = None,
    ):
        self.optout = optout or OptOutConfig()
        self.agent = self.optout.token  # the robots.txt group we answer to, and our User-Agent here
        self.guard = guard
        self.upstream = upstream  # --proxy: the files come the way the pages do
        self.shared = shared
        self.timeout = timeout
        self._ai_tokens = ai_crawler_tokens()[1] if self.optout.wants_ai_robots else None
        self._bodies: dict[str, tuple[str | Exception, float]] = {}  # url -> (body or why not, expiry)
        self._parsed_files: dict[str, tuple[str, object]] = {}  # key -> (body, what it parsed to)
        self._loading: dict[str, asyncio.Future] = {}  # one fetch per file, however many pages wait
        self._pool = ThreadPoolExecutor(FETCHERS, thread_name_prefix="robots")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def site(self, url: str) -> SiteSignals:
        """Every site-level signal for ``url``. Raises RobotsUnavailable when robots.txt must be
        obeyed and could not be read (5xx, too slow): the page is tried again later."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        signals = SiteSignals(self.optout)
        try:
            body = await self._file(origin, "/robots.txt")
        except HostUnreachable:
            return signals  # the browser meets the same error and records it
        except RobotsUnavailable:
            if not self.optout.ignore_robots:
                raise
            body = ""
        robots = self._parsed(origin, body, lambda: RobotsFile(body, self.agent))
        signals.findings = robots.findings(url, self._ai_tokens)
        signals.crawl_delay = None if self.optout.ignore_robots else robots.crawl_delay()
        if TDM in self.optout.honoured:
            try:
                tdm_body = await self._file(origin, TDMREP_PATH)  # "" when the site has none (4xx)
                rules, notes = self._parsed(origin + TDMREP_PATH, tdm_body, lambda: _tdm_rules(tdm_body))
                signals.tdm_rule = tdm_file_rule(rules, url)
                signals.findings += [Finding("tdmrep.json", note) for note in notes]
            except (RobotsUnavailable, HostUnreachable) as exc:
                signals.findings.append(Finding("tdmrep.json", f"could not be read, ignored: {exc}"[:200]))
        return signals

    def _parsed(self, key: str, body: str, parse: Callable[[], T]) -> T:
        """``parse()`` once per fetched body (the same string object until the cache renews it)."""
        cached = self._parsed_files.get(key)
        if cached is None or cached[0] is not body:
            cached = (body, parse())
            self._parsed_files[key] = cached
        return cast(T, cached[1])

    async def _file(self, origin: str, path: str) -> str:
        """The body of ``origin + path`` ("" when it does not exist), cached for a day. A file that
        could not be read and that does not decide whether pages are tried again (the TDMRep file;
        robots.txt under --ignore-robots) is remembered as such for a minute, so the pages of a
        failing host do not each wait for it; a robots.txt that must be obeyed is asked for again
        by the page's next attempt."""
        url = origin + path
        cached = self._bodies.get(url)
        if cached is None or cached[1] < time.monotonic():
            loading = self._loading.get(url)
            if loading is None:
                loading = self._loading[url] = asyncio.ensure_future(self._load(url, path))
                loading.add_done_callback(lambda _: self._loading.pop(url, None))
            try:
                cached = (await asyncio.shield(loading), time.monotonic() + CACHE_SECONDS)
            except RobotsUnavailable as exc:
                if path == "/robots.txt" and not self.optout.ignore_robots:
                    raise
                cached = (exc, time.monotonic() + FAILURE_SECONDS)
            self._bodies[url] = cached
        body = cached[0]
        if isinstance(body, Exception):
            raise body
        return body

    async def _load(self, url: str, path: str) -> str:
        key = ("robots:" if path == "/robots.txt" else path + ":") + url[: -len(path)]
        body = self.shared.cache_get(key) if self.shared else None
        if body is None:
            try:  # the fetch ends itself at the deadline; this bound is for a DNS lookup that hangs
                body = await asyncio.wait_for(
                    asyncio.get_running_loop().run_in_executor(self._pool, self._fetch, url), self.timeout + 5
                )
            except TimeoutError:
                raise RobotsUnavailable(f"{path} took longer than {self.timeout:g}s") from None
            if self.shared:
                self.shared.cache_set(key, body, CACHE_SECONDS)
        return body

    def _fetch(self, robots_url: str) -> str:
        name = urlsplit(robots_url).path
        try:
            self.guard.check(robots_url)
        except Refused as exc:  # the browser meets the same refusal for the page; nothing is cached
            raise HostUnreachable(str(exc)) from None
        try:
            body = fetch(
                robots_url, self.guard, self.agent, self.timeout, MAX_BYTES, truncate=True, upstream=self.upstream
            )
        except HTTPStatus as exc:
            if 400 <= exc.status < 500:
                return ""  # no such file: no rules
            raise RobotsUnavailable(f"{name} answered HTTP {exc.status}") from None
        except FetchRefused as exc:
            raise RobotsUnavailable(f"{name} redirect {exc}") from None
        except FetchTimeout:
            raise RobotsUnavailable(f"{name} took longer than {self.timeout:g}s") from None
        except FetchError as exc:
            raise HostUnreachable(str(exc)) from None
        return body.decode("utf-8", "replace")
