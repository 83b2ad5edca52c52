"""Per-host politeness: at most N pages of a host at once, and a pause between page starts.

With a Redis frontier the state lives in Redis, so every worker on every machine obeys the same
limits; with the embedded frontier it lives in this process (the only one crawling). A host that
answers 429/503 is paused for its Retry-After (or a backoff) for everyone.
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

from ..config import PolitenessConfig
from .shared import HostState

MAX_PAUSE = 600.0  # never trust a Retry-After beyond this


def host_key(url: str) -> str:
    return urlsplit(url).netloc.lower()


class _LocalState:
    """The same rules as `lua/host_slot.lua`, for one process."""

    def __init__(self) -> None:
        self.active: dict[str, dict[str, float]] = {}
        self.next_at: dict[str, float] = {}

    def host_slot(self, host: str, url: str, max_concurrent: int, delay: float, ttl: float) -> float:
        now = time.time()
        active = {u: d for u, d in self.active.get(host, {}).items() if d > now}
        self.active[host] = active
        if self.next_at.get(host, 0) > now:
            return self.next_at[host] - now
        if len(active) >= max_concurrent:
            return 0.2
        active[url] = now + ttl
        if delay > 0:
            self.next_at[host] = now + delay
        return 0.0

    def host_done(self, host: str, url: str) -> None:
        self.active.get(host, {}).pop(url, None)

    def host_pause(self, host: str, seconds: float) -> float:
        now = time.time()
        self.next_at[host] = max(self.next_at.get(host, 0), now + seconds)
        return self.next_at[host] - now


class HostGate:
    def __init__(self, cfg: PolitenessConfig, slot_seconds: float, shared: HostState | None = None):
        self.cfg = cfg
        self.slot_seconds = slot_seconds  # a slot frees itself after this (its worker died)
        self.state: HostState = shared if shared is not None else _LocalState()
        self.delays: dict[str, float] = {}  # robots.txt Crawl-delay, per host
        self.waiting: dict[str, int] = {}  # host -> tabs of this process waiting for it now

    def set_crawl_delay(self, url: str, seconds: float | None) -> None:
        if seconds:
            self.delays[host_key(url)] = min(float(seconds), MAX_PAUSE)

    async def acquire(self, url: str, stopping: asyncio.Event) -> bool:
        """Wait for a slot on the URL's host; False if the crawl is stopping meanwhile."""
        host = host_key(url)
        waiting = False
        delay = max(self.cfg.host_delay, self.delays.get(host, 0.0))
        try:
            while not stopping.is_set():
                wait = self.state.host_slot(host, url, self.cfg.host_concurrency, delay, self.slot_seconds)
                if wait <= 0:
                    return True
                if not waiting:  # the progress line says which hosts hold the crawl back
                    waiting = True
                    self.waiting[host] = self.waiting.get(host, 0) + 1
                try:
                    await asyncio.wait_for(stopping.wait(), timeout=min(wait, 2.0))
                except asyncio.TimeoutError:
                    pass
            return False
        finally:
            if waiting:
                self.waiting[host] -= 1
                if not self.waiting[host]:
                    del self.waiting[host]

    def release(self, url: str) -> None:
        self.state.host_done(host_key(url), url)

    def pause(self, url: str, seconds: float) -> float:
        return self.state.host_pause(host_key(url), min(max(seconds, 0.0), MAX_PAUSE))


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After is seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    from email.utils import parsedate_to_datetime

    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None
