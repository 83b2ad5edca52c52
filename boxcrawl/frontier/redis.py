"""Shared frontier on Redis: many workers on many machines crawl one queue.

Every state change is one Lua script (`lua/*.lua`), so it is atomic: two workers never hold the
same URL, and a shard's pages become done in the same step that records the shard. Leases carry a
deadline on the Redis server's clock; a worker extends the leases it still works on, and a dead
worker's URLs go back to the queue on the next lease call after their deadline.

Keys (all under one hash tag, so they stay in one slot of a Redis Cluster):
  seen     SET   every URL ever queued (the dedup set; what grows with the crawl)
  info     HASH  url -> "depth attempts", for URLs not done yet
  queue    ZSET  url -> sequence number (FIFO, breadth-first)
  delayed  ZSET  url -> time the retry backoff ends
  leases   ZSET  url -> lease deadline;  owners HASH url -> worker id
  failed   HASH  url -> "depth outcome";  errors HASH url -> last error
  shards   HASH  shard -> pages (the commit log);  commits LIST "unix-time pages" (pages/min)
  stat, outcomes, host_done, host_failed  HASH counters for `boxcrawl status`
  host:<h>:active / host:<h>:next         politeness shared by all workers (`politeness/gate.py`)
  robots:<h>                              robots.txt cache
"""

from __future__ import annotations

import json
import time
from importlib import resources
from typing import Iterable
from urllib.parse import urlsplit, urlunsplit

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from .base import Finished, Lease

PREFIX = "{boxcrawl}:"
SCRIPTS = ("add", "lease", "retry", "extend", "release", "commit", "retry_failed", "host_slot", "host_pause")
DEFAULT_LEASE_SECONDS = 120.0


class FrontierUnavailable(RuntimeError):
    """Redis cannot be used (unreachable, wrong password, ...): one line for the user."""


def redact(url: str) -> str:
    """The Redis URL without its password, for messages and config.json."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    netloc = f"{parts.username or ''}:***@{netloc}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class RedisFrontier:
    def __init__(self, url: str, *, lease_seconds: float = DEFAULT_LEASE_SECONDS,
                 reconnect_seconds: float = 60.0, connect_timeout: float = 5.0):
        self.url = url
        self.lease_seconds = lease_seconds
        # Commands that hit a dropped connection are retried with exponential backoff (0.1 s doubling,
        # at most 2 s apart) for about `reconnect_seconds`: a Redis restart does not stop the crawl.
        retries = max(1, int(reconnect_seconds / 2) + 5)
        try:
            self.client = redis.Redis.from_url(
                url, socket_connect_timeout=connect_timeout, socket_timeout=30, health_check_interval=10,
                retry=Retry(ExponentialBackoff(cap=2.0, base=0.1), retries),
                retry_on_error=[redis.ConnectionError, redis.TimeoutError])
        except ValueError as exc:
            raise FrontierUnavailable(f"bad Redis URL {redact(url)}: {exc}") from None
        self._check(url, connect_timeout)
        self.prefix = PREFIX
        lua = resources.files("boxcrawl.frontier") / "lua"
        self._scripts = {name: self.client.register_script((lua / f"{name}.lua").read_text())
                         for name in SCRIPTS}

    @staticmethod
    def _check(url: str, timeout: float) -> None:
        """Fail fast, without the reconnect loop, when Redis is unreachable or refuses us."""
        probe = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        try:
            probe.ping()
        except redis.AuthenticationError as exc:  # its text says little: tell which case
            if urlsplit(url).password is None or "required" in str(exc).lower():
                raise FrontierUnavailable(f"Redis at {redact(url)} needs a password (redis://:PASSWORD@host)") from None
            raise FrontierUnavailable(f"Redis at {redact(url)} refused the password") from None
        except redis.ResponseError as exc:
            if "NOAUTH" in str(exc) or "WRONGPASS" in str(exc):
                raise FrontierUnavailable(f"Redis at {redact(url)} needs a password (redis://:PASSWORD@host)") from None
            raise FrontierUnavailable(f"Redis at {redact(url)}: {exc}") from None
        except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise FrontierUnavailable(f"cannot reach Redis at {redact(url)}: {reason}") from None
        finally:
            probe.close()

    def _run(self, name: str, *args) -> object:
        return self._scripts[name](args=[self.prefix, *args])

    # -- queue ---------------------------------------------------------------------------------
    def add(self, urls: Iterable[str], depth: int) -> int:
        urls = list(urls)
        added = 0
        for i in range(0, len(urls), 1000):  # bounded script runs: other workers are not held up
            added += self._run("add", depth, *urls[i:i + 1000])
        return added

    def lease(self, owner: str, n: int = 1, max_pages: int = 0) -> list[Lease]:
        flat = self._run("lease", owner, n, max_pages, self.lease_seconds)
        leases = []
        for url, info in zip(flat[::2], flat[1::2]):
            depth, attempts = info.split()
            leases.append(Lease(url=url.decode(), depth=int(depth), attempts=int(attempts)))
        return leases

    def retry(self, lease: Lease, error: str, delay: float, max_attempts: int, owner: str = "") -> bool:
        return self._run("retry", owner, lease.url, error, delay, max_attempts) != 0

    def extend(self, owner: str, urls: Iterable[str]) -> int:
        urls = list(urls)
        return self._run("extend", owner, self.lease_seconds, *urls) if urls else 0

    def release(self, owner: str) -> None:
        self._run("release", owner)

    def retry_failed(self) -> int:
        return int(self._run("retry_failed"))

    def attempts(self, url: str) -> int:
        info = self.client.hget(self.prefix + "info", url)
        if info is not None:
            return int(info.split()[1])
        return 0

    # -- shard commit log ------------------------------------------------------------------------
    def commit(self, shard: str, finished: list[Finished], owner: str = "") -> list[str]:
        args: list[str] = []
        for f in finished:
            args += [f.url, f.outcome, f.error or ""]
        return [u.decode() for u in self._run("commit", owner, shard, *args)]

    def is_committed(self, shard: str) -> bool:
        return bool(self.client.hexists(self.prefix + "shards", shard))

    def next_shard_number(self) -> int:
        return int(self.client.incr(self.prefix + "shard_seq")) - 1

    # -- progress ---------------------------------------------------------------------------------
    def _sizes(self) -> dict[str, int]:
        pipe = self.client.pipeline(transaction=True)
        for key in ("queue", "delayed", "leases"):
            pipe.zcard(self.prefix + key)
        pipe.scard(self.prefix + "seen")
        pipe.hgetall(self.prefix + "stat")
        queue, delayed, leases, seen, stat = pipe.execute()
        stat = {k.decode(): int(v) for k, v in stat.items()}
        return {"queue": queue, "delayed": delayed, "leases": leases, "seen": seen,
                "done": stat.get("done", 0), "failed": stat.get("failed", 0),
                "expired": stat.get("expired", 0)}

    def has_work(self, max_pages: int = 0, owner: str | None = None) -> bool:
        s = self._sizes()
        if max_pages and s["leases"] + s["done"] >= max_pages:
            return False
        if s["queue"] or s["delayed"]:
            return True
        # Leases of other workers: they may yet add links, or die and hand their URLs back.
        mine = 0
        if owner is not None and s["leases"]:
            mine = sum(1 for o in self.client.hvals(self.prefix + "owners") if o.decode() == owner)
        return s["leases"] > mine

    def counts(self) -> dict[str, int]:
        s = self._sizes()
        return {"queued": s["queue"] + s["delayed"], "leased": s["leases"], "done": s["done"],
                "failed": s["failed"], "seen": s["seen"]}

    def outcomes(self) -> dict[str, int]:
        raw = self.client.hgetall(self.prefix + "outcomes")
        return {k.decode(): int(v) for k, v in raw.items() if int(v)}

    def hosts(self) -> dict[str, dict[str, int]]:
        done = self.client.hgetall(self.prefix + "host_done")
        failed = self.client.hgetall(self.prefix + "host_failed")
        return {h.decode(): {"done": int(n), "failed": int(failed.get(h, 0))} for h, n in done.items() if int(n)}

    def pages_per_min(self, window: float = 300.0) -> float:
        now = time.time()
        pages = 0
        for entry in self.client.lrange(self.prefix + "commits", 0, -1):
            at, n = entry.split()
            if now - int(at) <= window:
                pages += int(n)
        return 60.0 * pages / window

    def failures(self, limit: int = 20) -> dict[str, str]:
        urls = list(self.client.hkeys(self.prefix + "failed"))[:limit]
        errors = self.client.hmget(self.prefix + "errors", urls) if urls else []
        return {u.decode(): (e or b"").decode() for u, e in zip(urls, errors)}

    # -- the crawl's settings, for workers that join it ----------------------------------------------
    def save_crawl(self, scope: str, seeds: list[str], max_pages: int) -> None:
        """Record scope and seeds (merged with earlier ones) so `boxcrawl worker` needs no seeds."""
        known = self.load_crawl() or {"seeds": []}
        seeds = list(dict.fromkeys([*known["seeds"], *seeds]))
        self.client.set(self.prefix + "crawl", json.dumps({"scope": scope, "seeds": seeds, "max_pages": max_pages}))

    def load_crawl(self) -> dict | None:
        raw = self.client.get(self.prefix + "crawl")
        return json.loads(raw) if raw else None

    # -- politeness state (shared by every worker) -------------------------------------------------
    def host_slot(self, host: str, url: str, max_concurrent: int, delay: float, ttl: float) -> float:
        return float(self._run("host_slot", host, url, max_concurrent, delay, ttl))

    def host_done(self, host: str, url: str) -> None:
        self.client.zrem(f"{self.prefix}host:{host}:active", url)

    def host_pause(self, host: str, seconds: float) -> float:
        return float(self._run("host_pause", host, seconds))

    def cache_get(self, key: str) -> str | None:
        value = self.client.get(self.prefix + key)
        return None if value is None else value.decode("utf-8", "replace")

    def cache_set(self, key: str, value: str, ttl: float) -> None:
        self.client.set(self.prefix + key, value.encode(), ex=max(1, int(ttl)))

    def close(self) -> None:
        self.client.close()
