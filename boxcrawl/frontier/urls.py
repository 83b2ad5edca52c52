"""URL normalisation and crawl scope."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from urllib.parse import urlsplit, urlunsplit

from publicsuffixlist import PublicSuffixList
from w3lib.url import canonicalize_url

SCOPES = ("host", "domain", "prefix", "any")


class BadURL(ValueError):
    pass


def normalize(url: str) -> str:
    """Canonical form used for dedup: http(s) only, no fragment, sorted query, lower-case host,
    default port dropped, empty path -> "/". Raises BadURL."""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise BadURL(f"not a URL: {url!r} ({exc})") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise BadURL(f"not an http(s) URL: {url!r}")
    if not parts.hostname:
        raise BadURL(f"URL has no host: {url!r}")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise BadURL(f"bad port in URL: {url!r}") from None
    canonical = canonicalize_url(url, keep_fragments=False)
    p = urlsplit(canonical)
    netloc = p.netloc.lower()
    default = {"http": ":80", "https": ":443"}[p.scheme]
    if netloc.endswith(default):
        netloc = netloc[: -len(default)]
    return urlunsplit((p.scheme, netloc, p.path or "/", p.query, ""))


@lru_cache(maxsize=1)
def _psl() -> PublicSuffixList:
    return PublicSuffixList()  # bundled list: no download


def registrable_domain(host: str) -> str:
    return _psl().privatesuffix(host) or host


class Scope:
    """Which discovered links a crawl follows, relative to its seeds."""

    def __init__(self, kind: str, seeds: list[str]):
        if kind not in SCOPES:
            raise ValueError(f"unknown scope {kind!r}; choose one of {', '.join(SCOPES)}")
        self.kind = kind
        self._hosts = {urlsplit(s).netloc for s in seeds}
        self._domains = {registrable_domain(urlsplit(s).hostname or "") for s in seeds}
        self._prefixes = tuple(s[: s.rfind("/") + 1] for s in seeds)

    def __contains__(self, url: str) -> bool:
        if self.kind == "any":
            return True
        if self.kind == "host":
            return urlsplit(url).netloc in self._hosts
        if self.kind == "domain":
            return registrable_domain(urlsplit(url).hostname or "") in self._domains
        return url.startswith(self._prefixes)


@dataclass(frozen=True)
class FollowRules:
    """Which in-scope links a crawl follows: at most `max_depth` links away from a seed (None: any depth;
    0: the seeds only), matching one `include` pattern when there are any, and no `exclude` pattern.
    Patterns are regular expressions searched in the normalised URL. Seeds themselves are always taken."""

    max_depth: int | None = None
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @cached_property
    def _include(self) -> list[re.Pattern[str]]:
        return [re.compile(p) for p in self.include]

    @cached_property
    def _exclude(self) -> list[re.Pattern[str]]:
        return [re.compile(p) for p in self.exclude]

    def from_depth(self, depth: int) -> bool:
        """Whether links found on a page at `depth` are followed."""
        return self.max_depth is None or depth < self.max_depth

    def allows(self, url: str) -> bool:
        if self._include and not any(p.search(url) for p in self._include):
            return False
        return not any(p.search(url) for p in self._exclude)
