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
  workers  HASH  worker id -> its last heartbeat (JSON);  alive:<id>  STRING with a short TTL
           A worker whose alive key expired is dead: the next heartbeat of any worker puts its
           leased URLs back at the front of the queue (`lua/beat.lua`), long before lease expiry.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
import uuid
from importlib import resources
from typing import Any, Iterable
from urllib.parse import unquote, unquote_plus, urlsplit

import redis
from redis.backoff import ExponentialBackoff
from redis.connection import parse_url as _parse_url
from redis.retry import Retry

from .base import DEFAULT_LEASE_SECONDS, Finished, Lease

PREFIX = "{boxcrawl}:"
SCRIPTS = (
    "add",
    "lease",
    "retry",
    "extend",
    "requeue",
    "commit",
    "retry_failed",
    "host_slot",
    "host_pause",
    "join",
    "beat",
)


def parse_url(url: str) -> dict[str, Any]:
    return dict(_parse_url(url))  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated


def _text(reply: Any) -> str:
    """A Redis reply as text: the client does not decode, so URLs come back byte for byte."""
    return reply.decode() if isinstance(reply, bytes) else str(reply)


class FrontierUnavailable(RuntimeError):
    """Redis cannot be used (unreachable, wrong password, ...): one line for the user."""


_SECRET_PARAM = re.compile(r"pass|secret|token|auth|cred", re.IGNORECASE)
# key=value after "?", "&", ";" or "#"; a value runs on over "&", ";" and "#" until one starts a
# new key=value, so a password with those characters in it is taken whole
_PARAM = re.compile(
    r"(?P<lead>[?&;#])(?P<key>[^=&;#?]*)="
    r"(?P<value>(?:[^&;#]|[&;#](?![A-Za-z_][A-Za-z0-9_.%-]*=))*)"
)
MASK = "***"
MIN_SECRET = 4


def _secret_key(raw: str) -> bool:
    return bool(_SECRET_PARAM.search(unquote_plus(raw)))


def _secrets(url: str) -> set[str]:
    """Every string of ``url`` that may be a password, raw and decoded, however it is spelled: what
    redis-py would send, what urllib reads, and all that the redaction takes out."""
    found: set[str] = set()
    with contextlib.suppress(Exception):
        found.add(parse_url(url).get("password") or "")
    with contextlib.suppress(Exception):
        scheme, sep, rest = url.partition("://")
        found.add(parse_url(scheme.lower() + sep + rest).get("password") or "")
    with contextlib.suppress(Exception):
        found.add(urlsplit(url).password or "")
    with contextlib.suppress(Exception):
        found |= _redaction(url)[1]
    found |= {unquote(s) for s in found} | {unquote_plus(s) for s in found}
    # shorter ones are left to the structured redaction: replacing "1" everywhere would mangle a
    # message (and a password that short protects nothing)
    return {s for s in found if len(s) >= MIN_SECRET and s != MASK}


def _redaction(url: str) -> tuple[str, set[str]]:
    """The URL with its secrets masked, and the strings masked."""
    removed: set[str] = set()
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    # user info: up to the last "@" of the authority (user:password -> user:***)
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    at = rest.rfind("@", 0, end)
    if at >= 0:
        user, colon, password = rest[:at].partition(":")
        removed.add(password)
        user_info, tail = (f"{user}:{MASK}" if colon else user) + "@", rest[at + 1 :]
    else:
        user_info, tail = "", rest
        host, colon, port = rest[:end].rpartition(":")
        if colon and port and not port.isdigit() and not port.endswith("]"):
            removed.add(port)  # "redis://:PASSWORD" with the "@host" left out
            tail = f"{host}:{MASK}{rest[end:]}"

    def param(m: re.Match[str]) -> str:
        if not _secret_key(m["key"]):
            return m[0]
        removed.add(m["value"])
        return f"{m['lead']}{m['key']}={MASK}"

    # password-like parameters, in the query and in the fragment
    q = min((i for i in (tail.find("?"), tail.find("#")) if i >= 0), default=len(tail))
    tail = tail[:q] + _PARAM.sub(param, tail[q:])
    # an "@" still there means a password with "/", "?" or "#" in it: all before the "@" goes
    at = tail.rfind("@")
    if at >= 0:
        removed.add(tail[:at])
        user_info, tail = f"{MASK}@", tail[at + 1 :]
    return scheme + sep + user_info + tail, removed


def redact(url: str) -> str:
    """The Redis URL as it may be shown or saved: no password, in any of the forms redis-py reads
    (redis://:PW@host, redis://user:PW@host, ?password=PW in any case, rediss://, unix://,
    percent-encoded), and never an exception, however malformed the URL."""
    url = str(url)
    try:
        shown = _redaction(url)[0]
        for secret in sorted(_secrets(url), key=len, reverse=True):
            shown = shown.replace(secret, MASK)
    except Exception:  # noqa: BLE001 - a URL this odd is shown as its scheme only
        return url.partition("://")[0][:20] + "://" + MASK
    return shown


def scrub(text: str, url: str) -> str:
    """``text`` (an error message, a log line) with ``url`` and anything secret in it redacted."""
    text = str(text).replace(url, redact(url))
    for secret in sorted(_secrets(url), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def _first_line(exc: BaseException, url: str) -> str:
    text = str(exc).strip()
    return scrub(text.splitlines()[0], url) if text else type(exc).__name__


def _has_password(url: str) -> bool:
    with contextlib.suppress(Exception):
        return bool(parse_url(url).get("password"))
    return False


class RedisFrontier:
    def __init__(
        self,
        url: str,
        *,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        reconnect_seconds: float = 60.0,
        connect_timeout: float = 5.0,
    ):
        self.url = url
        self.lease_seconds = lease_seconds
        # Commands that hit a dropped connection are retried with exponential backoff (0.1 s doubling,
        # at most 2 s apart) for about `reconnect_seconds`: a Redis restart does not stop the crawl.
        retries = max(1, int(reconnect_seconds / 2) + 5)
        try:
            self.client = redis.Redis.from_url(
                url,
                socket_connect_timeout=connect_timeout,
                socket_timeout=30,
                health_check_interval=10,
                retry=Retry(ExponentialBackoff(cap=2.0, base=0.1), retries),
                retry_on_error=[redis.ConnectionError, redis.TimeoutError],
            )
        except ValueError as exc:
            raise FrontierUnavailable(f"bad Redis URL {redact(url)}: {scrub(str(exc), url)}") from None
        self._check(url, connect_timeout)
        self.prefix = PREFIX
        lua = resources.files("boxcrawl.frontier") / "lua"
        self._scripts = {name: self.client.register_script((lua / f"{name}.lua").read_text()) for name in SCRIPTS}

    @staticmethod
    def _check(url: str, timeout: float) -> None:
        """Fail fast, without the reconnect loop, when Redis is unreachable or refuses us."""
        shown = redact(url)
        probe = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        try:
            probe.ping()
        except redis.AuthenticationError as exc:  # its text says little: tell which case
            if not _has_password(url) or "required" in str(exc).lower():
                raise FrontierUnavailable(f"Redis at {shown} needs a password (redis://:PASSWORD@host)") from None
            raise FrontierUnavailable(f"Redis at {shown} refused the password") from None
        except redis.ResponseError as exc:
            if "NOAUTH" in str(exc) or "WRONGPASS" in str(exc):
                raise FrontierUnavailable(f"Redis at {shown} needs a password (redis://:PASSWORD@host)") from None
            raise FrontierUnavailable(f"Redis at {shown}: {_first_line(exc, url)}") from None
        except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
            raise FrontierUnavailable(f"cannot reach Redis at {shown}: {_first_line(exc, url)}") from None
        except TypeError as exc:  # an option in the URL's query that redis-py does not take
            option = re.search(r"argument '([^']*)'", str(exc))
            raise FrontierUnavailable(
                f"bad Redis URL {shown}: unknown option {scrub(option[1], url) if option else ''}".rstrip()
            ) from None
        except ValueError as exc:
            raise FrontierUnavailable(f"bad Redis URL {shown}: {_first_line(exc, url)}") from None
        finally:
            probe.close()

    def _run(self, name: str, *args: Any) -> Any:
        """Run a Lua step; its reply is what the script returns (numbers, bytes, lists of them)."""
        return self._scripts[name](args=[self.prefix, *args])

    # -- queue ---------------------------------------------------------------------------------
    def add(self, urls: Iterable[str], depth: int) -> int:
        urls = list(urls)
        added = 0
        for i in range(0, len(urls), 1000):  # bounded script runs: other workers are not held up
            added += int(self._run("add", depth, *urls[i : i + 1000]))
        return added

    def lease(self, owner: str, n: int = 1, max_pages: int = 0) -> list[Lease]:
        flat = self._run("lease", owner, n, max_pages, self.lease_seconds, uuid.uuid4().hex)
        leases = []
        for url, info in zip(flat[::2], flat[1::2]):
            depth, attempts = info.split()
            leases.append(Lease(url=_text(url), depth=int(depth), attempts=int(attempts)))
        return leases

    def retry(self, lease: Lease, error: str, delay: float, max_attempts: int, owner: str | None = None) -> bool:
        return int(self._run("retry", owner or "", lease.url, error, delay, max_attempts)) != 0

    def extend(self, owner: str, urls: Iterable[str]) -> int:
        urls = list(urls)
        return int(self._run("extend", owner, self.lease_seconds, *urls)) if urls else 0

    def release(self, owner: str) -> None:
        self._run("requeue", owner, "back", "1")

    # -- liveness ----------------------------------------------------------------------------------
    def join(self, owner: str, info: dict[str, object], alive_seconds: float) -> int | None:
        """Enter the roster of live workers. None when a live process already beats under ``owner``;
        else how many URLs a dead earlier process with this id held (now queued again)."""
        if not self._run("join", owner, json.dumps(info), int(alive_seconds * 1000)):
            return None
        return int(self._run("requeue", owner, "front", "0"))  # this id is ours now: all it holds is stale

    def beat(self, owner: str, info: dict[str, object], alive_seconds: float) -> dict[str, int]:
        """Say ``owner`` is alive for ``alive_seconds`` more, and requeue the URLs of every worker
        whose heartbeat stopped. Returns {dead worker: URLs requeued}."""
        flat = self._run("beat", owner, json.dumps(info), int(alive_seconds * 1000))
        return {_text(w): int(n) for w, n in zip(flat[::2], flat[1::2])}

    def workers(self) -> dict[str, dict[str, Any]]:
        """Live workers and their last heartbeat (what they render and hold uncommitted)."""
        roster = [_text(w) for w in self.client.hkeys(self.prefix + "workers")]
        if not roster:
            return {}
        beats = self.client.mget([self.prefix + "alive:" + w for w in roster])
        return {w: json.loads(b) for w, b in zip(roster, beats) if b is not None}

    def retry_failed(self) -> int:
        return int(self._run("retry_failed"))

    def attempts(self, url: str) -> int:
        info = self.client.hget(self.prefix + "info", url)
        if info is not None:
            return int(_text(info).split()[1])
        return 0

    # -- shard commit log ------------------------------------------------------------------------
    def commit(self, shard: str, finished: list[Finished], owner: str | None = None) -> list[str]:
        args: list[str] = []
        for f in finished:
            args += [f.url, f.outcome, f.error or ""]
        return [_text(u) for u in self._run("commit", owner or "", shard, *args)]

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
        stat = {_text(k): int(v) for k, v in stat.items()}
        return {
            "queue": queue,
            "delayed": delayed,
            "leases": leases,
            "seen": seen,
            "done": stat.get("done", 0),
            "failed": stat.get("failed", 0),
            "expired": stat.get("expired", 0),
            "recovered": stat.get("recovered", 0),
            "workers_lost": stat.get("workers_lost", 0),
        }

    def has_work(self, max_pages: int = 0, owner: str | None = None) -> bool:
        s = self._sizes()
        if max_pages and s["done"] >= max_pages:
            return False
        if s["queue"] or s["delayed"]:
            return True
        # Leases of other workers: they may yet add links, or die and hand their URLs back.
        mine = 0
        if owner is not None and s["leases"]:
            mine = sum(1 for o in self.client.hvals(self.prefix + "owners") if _text(o) == owner)
        return s["leases"] > mine

    def counts(self) -> dict[str, int]:
        """Besides the common counts, the leases split by who holds them: ``rendering`` and
        ``uncommitted`` (finished, waiting for their shard) by live workers, ``held_by_dead`` by
        workers whose heartbeat stopped and who are not reaped yet (or that never beat: expiry
        frees those)."""
        s = self._sizes()
        live = self.workers()
        rendering = sum(int(b.get("rendering", 0)) for b in live.values())
        uncommitted = sum(int(b.get("uncommitted", 0)) for b in live.values())
        held = 0
        if s["leases"]:
            held = sum(1 for o in self.client.hvals(self.prefix + "owners") if _text(o) in live)
        return {
            "queued": s["queue"] + s["delayed"],
            "leased": s["leases"],
            "done": s["done"],
            "failed": s["failed"],
            "seen": s["seen"],
            "rendering": rendering,
            "uncommitted": uncommitted,
            "held_by_dead": s["leases"] - held,
            "workers": len(live),
            "workers_lost": s["workers_lost"],
            "recovered": s["recovered"],
            "expired": s["expired"],
        }

    def outcomes(self) -> dict[str, int]:
        raw = self.client.hgetall(self.prefix + "outcomes")
        return {_text(k): int(v) for k, v in raw.items() if int(v)}

    def hosts(self) -> dict[str, dict[str, int]]:
        done = self.client.hgetall(self.prefix + "host_done")
        failed = self.client.hgetall(self.prefix + "host_failed")
        return {_text(h): {"done": int(n), "failed": int(failed.get(h, 0))} for h, n in done.items() if int(n)}

    def pages_per_min(self, window: float = 300.0) -> float:
        now = time.time()
        pages = 0
        for entry in self.client.lrange(self.prefix + "commits", 0, -1):
            at, n = _text(entry).split()
            if now - int(at) <= window:
                pages += int(n)
        return 60.0 * pages / window

    def failures(self, limit: int = 20) -> dict[str, str]:
        urls = list(self.client.hkeys(self.prefix + "failed"))[:limit]
        errors = self.client.hmget(self.prefix + "errors", urls) if urls else []
        return {_text(u): _text(e or b"") for u, e in zip(urls, errors)}

    # -- the crawl's settings, for workers that join it ----------------------------------------------
    def save_crawl(
        self,
        scope: str,
        seeds: list[str],
        max_pages: int,
        opt_out: dict[str, Any] | None = None,
        follow: dict[str, Any] | None = None,
    ) -> None:
        """Record scope and seeds (merged with earlier ones), the page limit, the opt-out settings and
        which links are followed, so `boxcrawl worker` needs no seeds and crawls as the crawl does."""
        known = self.load_crawl() or {"seeds": []}
        seeds = list(dict.fromkeys([*known["seeds"], *seeds]))
        crawl = {
            "scope": scope,
            "seeds": seeds,
            "max_pages": max_pages,
            "opt_out": opt_out or {},
            "follow": follow or {},
        }
        self.client.set(self.prefix + "crawl", json.dumps(crawl))

    def load_crawl(self) -> dict[str, Any] | None:
        raw = self.client.get(self.prefix + "crawl")
        return dict(json.loads(raw)) if raw else None

    # -- politeness state (shared by every worker) -------------------------------------------------
    def host_slot(self, host: str, url: str, max_concurrent: int, delay: float, ttl: float) -> float:
        return float(self._run("host_slot", host, url, max_concurrent, delay, ttl))

    def host_done(self, host: str, url: str) -> None:
        self.client.zrem(f"{self.prefix}host:{host}:active", url)

    def host_pause(self, host: str, seconds: float) -> float:
        return float(self._run("host_pause", host, seconds))

    def cache_get(self, key: str) -> str | None:
        value = self.client.get(self.prefix + key)
        return None if value is None else _text(value) if isinstance(value, str) else value.decode("utf-8", "replace")

    def cache_set(self, key: str, value: str, ttl: float) -> None:
        self.client.set(self.prefix + key, value.encode(), ex=max(1, int(ttl)))

    def close(self) -> None:
        self.client.close()
