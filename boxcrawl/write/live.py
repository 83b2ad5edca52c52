"""DIR/.live.json: what a running local crawl is doing, for `boxcrawl status DIR`.

Committed pages are in the frontier only once their shard commits (up to a minute or 200 pages), so the
frontier alone would say `done: 0` early in a crawl and give a rate averaged over commits. The crawl
therefore writes this small file every few seconds (atomically): pages rendering, pages finished and
waiting for their shard, and the times of recent page ends, from which `status` computes the real rate.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from ..files import atomic_write_json

LIVE_FILE = ".live.json"
LIVE_EVERY = 2  # seconds between writes
LIVE_EVENTS = 10_000  # page ends kept: the last 5 minutes of a fast crawl
RATE_WINDOW = 300.0  # seconds the rate is measured over (less when the crawl is younger)


def write_live(out: Path, stats: Any, rendering: int, uncommitted: int, running: bool) -> None:
    now = time.time()
    atomic_write_json(
        out / LIVE_FILE,
        {
            "pid": os.getpid(),
            "running": running,
            "updated_at": now,
            "started_at": now - stats.elapsed,
            "rendering": rendering,
            "uncommitted": uncommitted,
            "pages": stats.pages,
            "failed": stats.failed,
            "finished_at": [t for t in stats.finished_at if t >= now - RATE_WINDOW],
        },
        indent=None,
    )


def read_live(out: Path) -> dict[str, Any] | None:
    """The running crawl's state, or None when no crawl runs on `out` (none started, it ended, or it was
    killed: its file is stale or names a process that is gone)."""
    try:
        live = json.loads((out / LIVE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(live, dict) or not live.get("running") or time.time() - live.get("updated_at", 0) > 30:
        return None
    try:
        os.kill(int(live["pid"]), 0)
    except (OSError, ValueError, KeyError):
        return None
    return live


def live_rate(live: dict[str, Any]) -> tuple[float, float]:
    """(pages per minute, over how many seconds): page ends in the last RATE_WINDOW seconds, or since the
    crawl started when that is sooner."""
    now = time.time()
    span = max(1.0, min(RATE_WINDOW, now - live.get("started_at", now)))
    ends = [t for t in live.get("finished_at", []) if t >= now - span]
    return 60.0 * len(ends) / span, span
