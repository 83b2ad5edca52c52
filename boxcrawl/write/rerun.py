"""Running again on an output folder that has a dataset already.

The same settings resume it (a crawl goes on, `render` skips the pages it has). Settings that decide what
the dataset holds (`DEFINING`) may not change silently: the run is refused, unless `--resume-with-changes`
says to go on with them, in which case `config.json` keeps the earlier settings in `history`, or `--force`
starts afresh. Everything else (tabs, timeouts, shard sizes, page limits, pacing) may change freely.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from ..config import CrawlConfig
from ..files import exclusive_lock
from .store import Store

# dotted keys of config.json
DEFINING = (
    "follow_links",
    "scope",
    "include",
    "exclude",
    "tokenizer",
    "opt_out",
    "respect_ai_robots",
    "lang",
    "politeness.robots",
    "browser.viewport_width",
    "browser.viewport_height",
    "browser.scale",
    "browser.max_page_height",
    "browser.settle",
    "browser.settle_max",
    "browser.visibility",
    "browser.ink_boxes",
    "browser.user_agent",
    "browser.agent_token",
    "select.max_width",
    "select.max_height",
    "select.min_height",
    "select.min_tokens",
    "select.max_crops",
    "select.max_overlap",
    "select.ink_check",
    "write.image_format",
    "write.seed_layout",
    "write.parquet_images",
    "urls.file",  # render --shard-urls: the list and how it is cut decide which URLs each shard holds
    "urls.url_col",
    "urls.save_columns",
    "urls.shard_urls",
)


class RerunRefused(ValueError):
    pass


Config = dict[str, Any]  # a config.json document


def _get(doc: Config, dotted: str) -> Any:
    value: Any = doc
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


_MISSING = object()


def _get_or_missing(doc: Config, dotted: str) -> Any:
    value: Any = doc
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def changes(before: Config, now: Config) -> list[str]:
    """`key: old -> new` for every defining setting that differs, and for seeds a crawl did not have. A key
    the earlier config.json lacks (written before the setting existed) had the default: a change only when
    the new value is not the default (an older crawl given --lang now would mix languages)."""
    now = json.loads(json.dumps(now))  # as config.json holds it: tuples are lists there
    defaults: Config = json.loads(json.dumps(CrawlConfig().to_dict()))
    found = []
    for k in DEFINING:
        old, new = _get_or_missing(before, k), _get_or_missing(now, k)
        if old is _MISSING:
            old = _get(defaults, k)
        if new is not _MISSING and old != new:
            found.append(f"{k}: {old!r} -> {new!r}")
    if now.get("follow_links") and before.get("follow_links"):
        new_seeds = [s for s in now.get("seeds", []) if s not in set(before.get("seeds", []))]
        if new_seeds:
            more = f" and {len(new_seeds) - 1} more" if len(new_seeds) > 1 else ""
            found.append(f"seeds: new {new_seeds[0]}{more}")
    return found


Where = Path | Store  # an output folder, or any output (a folder or a URL) as a Store


def _store(out: Where) -> Store:
    return out if isinstance(out, Store) else Store(out)


def previous_config(out: Where) -> Config | None:
    try:
        doc = _store(out).read_json("config.json")
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}  # unreadable: whatever it held cannot be compared, so it counts as different
    return doc if isinstance(doc, dict) else {}


def history_for(out: Where, now: Config, resume_with_changes: bool) -> list[Config]:
    """The `history` the new config.json carries: the earlier runs' settings when they differ from `now`
    (RerunRefused unless `resume_with_changes`), else what the folder had."""
    store = _store(out)
    before = previous_config(store)
    if before is None:
        return []
    history = list(before.pop("history", None) or [])
    differ = changes(before, now) if before else ["config.json: unreadable"]
    if not differ:
        return history
    if not resume_with_changes:
        raise RerunRefused(
            f"{store.shown} holds a dataset made with other settings ({'; '.join(differ[:4])}"
            f"{'; ...' if len(differ) > 4 else ''}): pass --resume-with-changes to go on with the new ones "
            "(config.json keeps the old ones in `history`), or --force to start afresh"
        )
    return [*history, before]


def check_layout(out: Where, sharded: bool) -> None:
    """A folder is rendered with --shard-urls (named shards, done markers) or without (the frontier's
    shards), never both: their shard names would collide, and readers of one layout do not see the other."""
    store = _store(out)
    if not store.is_dir():
        return
    if sharded and store.exists("frontier.sqlite"):
        raise RerunRefused(f"{store.shown} holds a dataset made without --shard-urls: use another --out, or --force")
    if not sharded and store.is_dir("_done"):
        raise RerunRefused(f"{store.shown} holds a dataset made with --shard-urls: run that command, or --force")


def is_boxcrawl_folder(out: Where) -> bool:
    """What only a crawl or render folder has: its frontier, or a config.json of boxcrawl's shape."""
    store = _store(out)
    if store.exists("frontier.sqlite"):
        return True
    doc = previous_config(store) or {}
    return "seeds" in doc and isinstance(doc.get("browser"), dict) and "select" in doc


def clear(out: Where) -> None:
    """--force: delete the folder, when it is a boxcrawl output folder (or empty) that no crawl is using.
    Object storage has no lock: there, one command at a time writes a given URL."""
    store = _store(out)
    if not store.is_local:
        if store.is_dir() and not is_boxcrawl_folder(store):
            raise RerunRefused(f"--force: {store.shown} does not hold a boxcrawl dataset; not deleting it")
        store.remove_all()
        return
    folder = Path(store.root)
    if not folder.exists():
        return
    if any(folder.iterdir()) and not is_boxcrawl_folder(store):
        raise RerunRefused(f"--force: {store.shown} is not a boxcrawl output folder; not deleting it")
    busy = RerunRefused(f"--force: a crawl is running on {store.shown}; stop it first")
    with exclusive_lock(folder / ".lock", busy):  # the lock every crawl and render holds on its folder
        shutil.rmtree(folder)
