"""DIR/shards.json: what a sharded render set out to do (the list, its shard size, how many shards), so
`status` can say "done of total" from the markers alone, while the run goes on or after it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from .markers import PLAN_FILE, done_shards, is_sharded
from .store import Store


def write_plan(store: Store, doc: dict[str, Any]) -> None:
    store.write_json(PLAN_FILE, doc)


def shard_status(root: str | Path) -> dict[str, Any] | None:
    """Shards total and done, pages and failed pages of the done ones; None for a dataset not sharded."""
    store = Store(root)
    if not is_sharded(store) and not store.exists(PLAN_FILE):
        return None
    plan = store.read_json(PLAN_FILE) if store.exists(PLAN_FILE) else {}
    done = done_shards(store)
    return {
        "shards_total": plan.get("shards"),
        "shards_done": len(done),
        "shard_urls": plan.get("shard_urls"),
        "urls": plan.get("urls"),
        "pages": sum(d.get("pages", 0) for d in done.values()),
        "failed": sum(d.get("failed", 0) for d in done.values()),
        "skipped": sum(d.get("skipped", 0) for d in done.values()),  # --lang
        "samples": sum(d.get("samples", 0) for d in done.values()),
        "this_run": this_run(plan.get("run_started"), list(done.values())),
    }


def this_run(started: str | None, markers: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The latest run (the last command that wrote the plan): its shards done so far and its pages/min,
    from when it started to its last marker, over every process or node that wrote one. None before
    any marker of it, or for a plan written without the time."""
    if not started:
        return None
    begun = _when(started)
    if begun is None:
        return None
    ended = [(_when(d.get("finished")), d.get("pages", 0)) for d in markers]
    ours = [(at, pages) for at, pages in ended if at is not None and at >= begun]
    if not ours:
        return {"started": started, "shards_done": 0, "pages": 0, "pages_per_min": None}
    pages = sum(n for _, n in ours)
    minutes = (max(at for at, _ in ours) - begun).total_seconds() / 60
    return {
        "started": started,
        "shards_done": len(ours),
        "pages": pages,
        "pages_per_min": round(pages / minutes, 1) if minutes > 0 else None,
    }


def _when(stamp: Any) -> datetime | None:
    """A time stamp of a marker or the plan; None for one that is missing or not boxcrawl's (no zone)."""
    try:
        at = datetime.fromisoformat(stamp)
    except (TypeError, ValueError):
        return None
    return at if at.tzinfo is not None else None
