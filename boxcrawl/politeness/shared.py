"""What politeness keeps across workers: host slots and pauses, and a small cache (robots.txt).

With a Redis frontier, `RedisFrontier` provides both interfaces, so every worker on every machine
obeys the same limits and fetches each robots.txt once; with the embedded frontier the state
lives in the crawling process (`gate._LocalState`, no cache beyond the process's own)."""

from __future__ import annotations

from typing import Protocol


class HostState(Protocol):
    def host_slot(self, host: str, url: str, max_concurrent: int, delay: float, ttl: float) -> float:
        """Take a slot for ``url`` on ``host``: 0 when taken, else seconds to wait before asking again.
        A slot frees itself after ``ttl`` (its worker died)."""

    def host_done(self, host: str, url: str) -> None: ...

    def host_pause(self, host: str, seconds: float) -> float:
        """Hold every worker back from ``host`` for ``seconds``; returns how long it is paused."""


class SharedCache(Protocol):
    def cache_get(self, key: str) -> str | None: ...

    def cache_set(self, key: str, value: str, ttl: float) -> None: ...
