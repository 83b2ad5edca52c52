"""One process rendering whole input shards with one Chromium: the crawl loop (`Crawler.drain`) per shard,
each shard with its own in-memory frontier (its leases and retries) and its own `NamedShardWriter`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..config import CrawlConfig
from ..crawl import Crawler, CrawlStats
from ..frontier.sqlite import SqliteFrontier
from ..lists.shards import InputShard
from ..write.named import NamedShardWriter
from ..write.store import Store

# the next shard to render, or None when there is none left; its argument says whether the run is stopping
NextShard = Callable[[Callable[[], bool]], "InputShard | None"]


@dataclass
class ShardDone:
    """What a process reports of a shard it finished (its marker is written)."""

    name: str
    pages: int
    failed: int
    samples: int
    outcomes: dict[str, int] = field(default_factory=dict)
    tokens: int = 0
    visible: int = 0
    retried: int = 0


async def render_shards(
    cfg: CrawlConfig,
    next_shard: NextShard,
    keep: tuple[str, ...],
    on_done: Callable[[ShardDone], None],
    on_progress: Callable[[CrawlStats], None] | None = None,
) -> CrawlStats:
    """Render each shard `next_shard` gives (None: none left) into its named output shard, until they run out
    or the run is stopped (a signal, --time-limit): a shard cut short gets no marker."""
    crawler = Crawler(cfg, [], on_progress=on_progress)
    store = Store(str(cfg.out))
    crawler.prepare()
    try:
        async with crawler.pool_factory(cfg.browser, crawler.guard) as pool:
            while not crawler.stopping:
                # may wait on the distributor; it must give up once the run stops (see local.py)
                shard = await asyncio.to_thread(next_shard, lambda: crawler.stopping)
                if shard is None or crawler.stopping:
                    break
                before = _snapshot(crawler.stats)
                frontier = SqliteFrontier(":memory:", lease_seconds=cfg.lease_seconds)
                try:
                    frontier.add(shard.urls, depth=0)
                    writer = NamedShardWriter(store, shard.name, shard.rows, cfg.write, frontier, keep, crawler.owner)
                    await crawler.drain(pool, frontier, writer)
                    if crawler.stopping or frontier.has_work():
                        break  # cut short: no marker, the next run renders it again
                    counts = await asyncio.to_thread(writer.finish)
                finally:
                    frontier.close()
                on_done(_done(shard.name, counts, before, crawler.stats))
    finally:
        if crawler.robots is not None:
            crawler.robots.close()
    return crawler.stats


def _snapshot(stats: CrawlStats) -> dict[str, Any]:
    return {
        "outcomes": dict(stats.outcomes),
        "tokens": stats.tokens,
        "visible": stats.visible,
        "retried": stats.retried,
    }


def _done(name: str, counts: dict[str, Any], before: dict[str, Any], stats: CrawlStats) -> ShardDone:
    outcomes = {k: v - before["outcomes"].get(k, 0) for k, v in stats.outcomes.items()}
    return ShardDone(
        name,
        counts["pages"],
        counts["failed"],
        counts["samples"],
        {k: v for k, v in outcomes.items() if v},
        stats.tokens - before["tokens"],
        stats.visible - before["visible"],
        stats.retried - before["retried"],
    )
