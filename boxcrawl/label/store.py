"""Labels in SQLite (WAL): the source of truth. A label is committed (fsync'd) before the server answers.

Two tables: `labels` (the current label per entry) and `events` (every change, in order, with who and when).
Clients poll `events` by sequence number to see other labelers' work; resets are events too, so they survive.
"""

from __future__ import annotations

import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

# The original pipeline's values for the `good` key; absence (None here) means unrated.
LABEL_NAMES = {1: "good", 0: "bad", 2: "good with mistakes", -1: "error"}

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS labels (
    idx INTEGER PRIMARY KEY, url TEXT NOT NULL, good INTEGER NOT NULL, labeler TEXT NOT NULL, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, idx INTEGER NOT NULL, url TEXT NOT NULL, good INTEGER,
    labeler TEXT NOT NULL, at TEXT NOT NULL);
"""


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Label:
    index: int
    url: str
    good: int | None  # None: the label was reset
    labeler: str
    at: str  # ISO-8601 UTC
    seq: int = 0

    def as_json(self) -> dict:
        return {"index": self.index, "good": self.good, "labeler": self.labeler, "at": self.at, "seq": self.seq}


class LabelStore:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        # One connection, used from the server's event loop only: writes are serialised by construction.
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # survive power loss too, not just a killed process
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    # -- meta ---------------------------------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def secret(self, key: str) -> str:
        """A random value kept in the database, so it survives restarts (open pages keep working)."""
        value = self.meta(key)
        if value is None:
            value = secrets.token_urlsafe(32)
            self._db.execute("INSERT OR IGNORE INTO meta(key, value) VALUES (?, ?)", (key, value))
            value = self.meta(key)
        return value

    # -- labels -------------------------------------------------------------------------------------
    def set_label(self, index: int, url: str, good: int | None, labeler: str, at: str | None = None) -> Label:
        at = at or utc_now()
        with self._transaction():
            cur = self._db.execute(
                "INSERT INTO events(idx, url, good, labeler, at) VALUES (?, ?, ?, ?, ?)",
                (index, url, good, labeler, at),
            )
            if good is None:
                self._db.execute("DELETE FROM labels WHERE idx=?", (index,))
            else:
                self._db.execute(
                    "INSERT OR REPLACE INTO labels(idx, url, good, labeler, at) VALUES (?, ?, ?, ?, ?)",
                    (index, url, good, labeler, at),
                )
        return Label(index, url, good, labeler, at, cur.lastrowid)

    def labels(self) -> dict[int, Label]:
        rows = self._db.execute("SELECT idx, url, good, labeler, at FROM labels ORDER BY idx").fetchall()
        return {r[0]: Label(*r) for r in rows}

    def last_seq(self) -> int:
        return self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0]

    def events_since(self, seq: int, limit: int) -> list[Label]:
        rows = self._db.execute(
            "SELECT idx, url, good, labeler, at, seq FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit)
        ).fetchall()
        return [Label(*r) for r in rows]

    def _transaction(self):
        db = self._db

        class _Tx:
            def __enter__(self):
                db.execute("BEGIN IMMEDIATE")

            def __exit__(self, exc_type, *_):
                db.execute("ROLLBACK" if exc_type else "COMMIT")
                return False

        return _Tx()
