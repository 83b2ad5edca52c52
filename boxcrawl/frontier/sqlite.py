"""Embedded frontier: one SQLite file in the output folder, for single-machine crawls.

One process owns it (the output folder is locked). Leases left by a killed
process go back to the queue when the next process opens the file; a page is
done only when the shard holding its record is committed, in the same
transaction, so a kill at any moment loses no page and writes none twice.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Iterable
from urllib.parse import urlsplit

from ..records import NOT_FAILED
from .base import DEFAULT_LEASE_SECONDS, Finished, Lease

_NOT_FAILED_SQL = "(" + ", ".join(f"'{outcome}'" for outcome in NOT_FAILED) + ")"  # outcomes that are no failure

SCHEMA = """
CREATE TABLE IF NOT EXISTS urls (
    url         TEXT PRIMARY KEY,
    state       TEXT NOT NULL DEFAULT 'queued',   -- queued | leased | done
    depth       INTEGER NOT NULL DEFAULT 0,
    attempts    INTEGER NOT NULL DEFAULT 0,
    not_before  REAL NOT NULL DEFAULT 0,          -- retry backoff
    owner       TEXT,
    lease_until REAL,                             -- a lease past this is handed out again
    outcome     TEXT,                             -- set when done: ok, http_error, ...
    error       TEXT,
    shard       TEXT,
    added_at    REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS urls_ready ON urls (state, not_before);
CREATE TABLE IF NOT EXISTS shards (
    name         TEXT PRIMARY KEY,
    pages        INTEGER NOT NULL,
    committed_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
"""


class SqliteFrontier:
    def __init__(self, path: str | Path, *, readonly: bool = False, lease_seconds: float = DEFAULT_LEASE_SECONDS):
        self.path = Path(path)
        self.lease_seconds = lease_seconds
        if readonly:  # `boxcrawl status` while a crawl runs: look, change nothing
            self.db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, isolation_level=None)
            return
        self.db = sqlite3.connect(self.path, isolation_level=None)  # explicit transactions below
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)
        if "lease_until" not in {row[1] for row in self.db.execute("PRAGMA table_info(urls)")}:
            self.db.execute("ALTER TABLE urls ADD COLUMN lease_until REAL")  # files from before leases expired
        # This process owns the file (the folder is locked): leases of a dead run come back now.
        self.db.execute("UPDATE urls SET state='queued', owner=NULL WHERE state='leased'")

    @classmethod
    def open_readonly(cls, path: str | Path) -> "SqliteFrontier":
        return cls(path, readonly=True)

    # -- queue ---------------------------------------------------------------------------------
    def add(self, urls: Iterable[str], depth: int) -> int:
        now = time.time()
        before = self.db.total_changes
        with self._tx():
            self.db.executemany(
                "INSERT OR IGNORE INTO urls (url, depth, added_at) VALUES (?, ?, ?)", ((u, depth, now) for u in urls)
            )
        return self.db.total_changes - before

    def lease(self, owner: str, n: int = 1, max_pages: int = 0) -> list[Lease]:
        now = time.time()
        with self._tx():
            self.db.execute(
                "UPDATE urls SET state='queued', owner=NULL WHERE state='leased' AND lease_until < ?", (now,)
            )
            if max_pages:
                n = min(n, max_pages - self.started())
                if n <= 0:
                    return []
            rows = self.db.execute(
                "UPDATE urls SET state='leased', owner=?, lease_until=? WHERE rowid IN ("
                " SELECT rowid FROM urls WHERE state='queued' AND not_before <= ? ORDER BY rowid LIMIT ?)"
                " RETURNING url, depth, attempts, rowid",
                (owner, now + self.lease_seconds, now, n),
            ).fetchall()
        rows.sort(key=lambda r: r[3])  # breadth-first: oldest first
        return [Lease(url=r[0], depth=r[1], attempts=r[2]) for r in rows]

    def retry(self, lease: Lease, error: str, delay: float, max_attempts: int, owner: str | None = None) -> bool:
        if owner is not None and not self._holds(owner, lease.url):
            return True  # the lease expired and went to someone else: not ours to record
        attempts = lease.attempts + 1
        if attempts >= max_attempts:
            with self._tx():
                self.db.execute("UPDATE urls SET attempts=?, error=? WHERE url=?", (attempts, error, lease.url))
            return False
        with self._tx():
            self.db.execute(
                "UPDATE urls SET state='queued', owner=NULL, attempts=?, error=?, not_before=? WHERE url=?",
                (attempts, error, time.time() + delay * 2 ** (attempts - 1), lease.url),
            )
        return True

    def release(self, owner: str) -> None:
        """Give back every URL ``owner`` holds that is not finished (graceful stop)."""
        with self._tx():
            self.db.execute("UPDATE urls SET state='queued', owner=NULL WHERE state='leased' AND owner=?", (owner,))

    def extend(self, owner: str, urls: Iterable[str]) -> int:
        """Push the deadline of ``owner``'s leases on ``urls`` (pages still rendering or buffered)."""
        urls = list(urls)
        with self._tx():
            before = self.db.total_changes
            self.db.executemany(
                "UPDATE urls SET lease_until=? WHERE url=? AND owner=? AND state='leased'",
                ((time.time() + self.lease_seconds, u, owner) for u in urls),
            )
            return self.db.total_changes - before

    def retry_failed(self) -> int:
        """Put every failed URL back in the queue with its attempts reset."""
        with self._tx():
            return self.db.execute(
                "UPDATE urls SET state='queued', owner=NULL, attempts=0, not_before=0, outcome=NULL, error=NULL,"
                f" shard=NULL WHERE state='done' AND outcome NOT IN {_NOT_FAILED_SQL}"
            ).rowcount

    def _holds(self, owner: str, url: str) -> bool:
        row = self.db.execute("SELECT state, owner FROM urls WHERE url=?", (url,)).fetchone()
        return row is not None and row[0] == "leased" and row[1] == owner

    def attempts(self, url: str) -> int:
        row = self.db.execute("SELECT attempts FROM urls WHERE url=?", (url,)).fetchone()
        return row[0] if row else 0

    # -- shard commit log ------------------------------------------------------------------------
    def commit(self, shard: str, finished: list[Finished], owner: str | None = None) -> list[str]:
        """Returns [] when committed (a repeated call is a no-op), else the URLs ``owner`` no longer
        holds; nothing is changed then, and the caller commits the shard without them."""
        with self._tx():
            if self.is_committed(shard):
                return []
            conflicts = []
            for f in finished:
                row = self.db.execute("SELECT state, owner FROM urls WHERE url=?", (f.url,)).fetchone()
                if row is None or row[0] == "done" or (owner is not None and row[0] == "leased" and row[1] != owner):
                    conflicts.append(f.url)
            if conflicts:
                return conflicts
            self.db.executemany(
                "UPDATE urls SET state='done', owner=NULL, outcome=?, error=?, shard=? WHERE url=?",
                ((f.outcome, f.error, shard, f.url) for f in finished),
            )
            self.db.execute(
                "INSERT INTO shards (name, pages, committed_at) VALUES (?, ?, ?)", (shard, len(finished), time.time())
            )
        return []

    def is_committed(self, shard: str) -> bool:
        return self.db.execute("SELECT 1 FROM shards WHERE name=?", (shard,)).fetchone() is not None

    def next_shard_number(self) -> int:
        with self._tx():
            row = self.db.execute("SELECT value FROM meta WHERE key='next_shard'").fetchone()
            number = int(row[0]) if row else 0
            self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('next_shard', ?)", (str(number + 1),))
        return number

    # -- progress ---------------------------------------------------------------------------------
    def started(self) -> int:
        """URLs leased or done: what counts against --max-pages."""
        return int(self.db.execute("SELECT count(*) FROM urls WHERE state != 'queued'").fetchone()[0])

    def has_work(self, max_pages: int = 0, owner: str | None = None) -> bool:
        """Queued URLs exist, or URLs leased by anyone but ``owner``, who may add links, and fewer
        than ``max_pages`` are done."""
        if max_pages and self.db.execute("SELECT count(*) FROM urls WHERE state='done'").fetchone()[0] >= max_pages:
            return False
        if self.db.execute("SELECT 1 FROM urls WHERE state='queued' LIMIT 1").fetchone() is not None:
            return True
        return (
            self.db.execute("SELECT 1 FROM urls WHERE state='leased' AND owner IS NOT ? LIMIT 1", (owner,)).fetchone()
            is not None
        )

    def counts(self) -> dict[str, int]:
        counts = {"queued": 0, "leased": 0, "done": 0, "failed": 0}
        for state, n in self.db.execute("SELECT state, count(*) FROM urls GROUP BY state"):
            counts[state] = n
        counts["failed"] = self.db.execute(
            f"SELECT count(*) FROM urls WHERE state='done' AND outcome NOT IN {_NOT_FAILED_SQL}"
        ).fetchone()[0]
        counts["seen"] = counts["queued"] + counts["leased"] + counts["done"]
        return counts

    def outcomes(self) -> dict[str, int]:
        return dict(
            self.db.execute("SELECT outcome, count(*) FROM urls WHERE state='done' GROUP BY outcome").fetchall()
        )

    def hosts(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for url, outcome in self.db.execute("SELECT url, outcome FROM urls WHERE state='done'"):
            figures = out.setdefault(urlsplit(url).netloc, {"done": 0, "failed": 0})
            figures["done"] += 1
            figures["failed"] += outcome not in NOT_FAILED
        return out

    def pages_per_min(self, window: float = 300.0) -> float:
        pages = self.db.execute(
            "SELECT coalesce(sum(pages), 0) FROM shards WHERE committed_at >= ?", (time.time() - window,)
        ).fetchone()[0]
        return 60.0 * float(pages) / window

    def failures(self, limit: int = 20) -> dict[str, str]:
        return dict(
            self.db.execute(
                "SELECT url, coalesce(error, outcome) FROM urls WHERE state='done' AND outcome NOT IN "
                f"{_NOT_FAILED_SQL}"
                " LIMIT ?",
                (limit,),
            ).fetchall()
        )

    def close(self) -> None:
        self.db.close()

    def _tx(self) -> _Transaction:
        return _Transaction(self.db)


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT/ROLLBACK (the connection runs in autocommit mode)."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
