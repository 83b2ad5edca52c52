"""The frontier contract every backend implements: URLs to visit, leases, and the shard commit log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Protocol

DEFAULT_LEASE_SECONDS = 120.0  # a lease not extended this long goes back to the queue


@dataclass(frozen=True)
class Lease:
    """A URL handed to one worker until it is committed, retried or the lease expires."""

    url: str
    depth: int
    attempts: int  # failed attempts so far


@dataclass(frozen=True)
class Finished:
    """A page whose record sits in a shard: committed together with that shard."""

    url: str
    outcome: str
    error: str | None


class Frontier(Protocol):
    def add(self, urls: Iterable[str], depth: int) -> int:
        """Queue URLs not seen before (callers normalise them first). Returns how many were new."""

    def lease(self, owner: str, n: int = 1, max_pages: int = 0) -> list[Lease]:
        """Hand out up to ``n`` ready URLs. An empty list means nothing is ready *now*, not that the
        crawl is over (see `has_work`). With ``max_pages`` no more than that many URLs are ever
        leased or finished in total."""

    def retry(self, lease: Lease, error: str, delay: float, max_attempts: int, owner: str | None = None) -> bool:
        """A transient failure: requeue after ``delay * 2**attempts`` s. False when attempts are used
        up; the caller then records the page as failed and commits it like any other page. True too
        when ``owner`` lost the lease (it expired and went to another worker): the caller drops it."""

    def extend(self, owner: str, urls: Iterable[str]) -> int:
        """Push back the deadline of ``owner``'s leases on ``urls``; a lease not extended expires and
        its URL goes back to the queue by itself (its worker died)."""

    def retry_failed(self) -> int:
        """Put every failed URL back in the queue with its attempts reset; returns how many."""

    def release(self, owner: str) -> None:
        """Requeue every unfinished URL ``owner`` holds (graceful stop)."""

    def next_shard_number(self) -> int:
        """A shard number never handed out before in this crawl."""

    def commit(self, shard: str, finished: list[Finished], owner: str | None = None) -> list[str]:
        """Atomically mark ``finished`` done and record ``shard`` as committed; [] then (also when
        ``shard`` was committed before: a repeated call is a no-op). If ``owner`` no longer holds some
        of the URLs (done, or leased to another worker), nothing changes and those URLs are returned."""

    def is_committed(self, shard: str) -> bool:
        """Whether ``shard`` was committed (used to roll staged files forward after a kill)."""

    def has_work(self, max_pages: int = 0, owner: str | None = None) -> bool:
        """Fewer than ``max_pages`` pages are done (committed, ok or failed), and URLs are queued
        (ready or waiting out a retry delay) or leased by workers other than ``owner``: those may
        add links, or die and have their URLs handed back. A crawl is over only when this is False,
        so it never ends short while another worker's pages are outstanding."""

    def counts(self) -> dict[str, int]:
        """queued / leased / done / failed (done with an error outcome) / seen."""

    def outcomes(self) -> dict[str, int]: ...

    def hosts(self) -> dict[str, dict[str, int]]:
        """host -> {done, failed}."""

    def pages_per_min(self, window: float = 300.0) -> float:
        """Pages committed per minute over the last ``window`` seconds."""

    def close(self) -> None: ...
