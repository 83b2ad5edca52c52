"""What every distributor shares: taking signals as an interruption, and counting a finished shard."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator

from ..crawl import CrawlStats
from .render import ShardDone


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """SIGINT and SIGTERM as KeyboardInterrupt here, as `crawl` takes them, even when this process was
    started with SIGINT ignored (a script's background job, a CI runner): a signal sent on purpose
    stops the run, and the workers, started after this, get the default disposition."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def count(stats: CrawlStats, result: ShardDone) -> None:
    """Add a finished shard's figures to the run's."""
    stats.shards_done = (stats.shards_done or 0) + 1
    stats.pages += result.pages
    stats.failed += result.failed
    stats.samples += result.samples
    stats.tokens += result.tokens
    stats.visible += result.visible
    stats.retried += result.retried
    for outcome, n in result.outcomes.items():
        stats.outcomes[outcome] = stats.outcomes.get(outcome, 0) + n
