"""`--distributor local`: P processes on this machine, each one Chromium with --tabs tabs, each taking
whole input shards from this one as it finishes the last.

This process reads the list and hands shards out in order through a bounded queue (the list is never
all in memory, here or in a worker); workers send back a `ShardDone` per marker written. With P = 1 the
shards are rendered here, no second process. A worker outlives no parent: it leaves at once when this
process is gone (killed), so a rerun never races an orphan over a shard.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from typing import TypeAlias

from ..config import CrawlConfig
from ..crawl import CrawlStats
from ..lists.shards import InputShard
from .common import count, interruptible
from .render import ShardDone, render_shards


@dataclass
class WorkerEnd:
    """A worker's last message: whether it was stopped before its shards ran out."""

    interrupted: bool
    time_limit_reached: bool


Tasks: TypeAlias = "mp.Queue[InputShard | None]"
Results: TypeAlias = "mp.Queue[ShardDone | WorkerEnd]"


def run_local(
    cfg: CrawlConfig,
    shards: Iterator[InputShard],
    keep: tuple[str, ...],
    processes: int,
    stats: CrawlStats,
    on_progress: Callable[[CrawlStats], None],
) -> CrawlStats:
    """Render every shard of `shards` with `processes` processes; `stats` (its shard totals set by the
    caller) is updated as shards finish and returned."""

    def done(result: ShardDone) -> None:
        count(stats, result)
        on_progress(stats)

    if processes == 1:
        own = asyncio.run(render_shards(cfg, lambda stopping: next(shards, None), keep, done))
        stats.interrupted, stats.time_limit_reached = own.interrupted, own.time_limit_reached
        return stats
    with interruptible():
        return _run_processes(cfg, shards, keep, processes, stats, done)


def _run_processes(
    cfg: CrawlConfig,
    shards: Iterator[InputShard],
    keep: tuple[str, ...],
    processes: int,
    stats: CrawlStats,
    done: Callable[[ShardDone], None],
) -> CrawlStats:
    ctx = mp.get_context("spawn")  # a fresh interpreter: no inherited event loop, threads or browser
    tasks: Tasks = ctx.Queue(maxsize=processes)
    results: Results = ctx.Queue()
    workers = [
        ctx.Process(target=_worker, args=(cfg, keep, tasks, results, os.getpid()), daemon=True)
        for _ in range(processes)
    ]
    for w in workers:
        w.start()
    stop = threading.Event()
    feeder = threading.Thread(target=_feed, args=(shards, tasks, processes, stop), daemon=True)
    feeder.start()
    ended = 0
    try:
        while ended < processes:
            try:
                message = results.get(timeout=0.5)
            except queue.Empty:
                if not any(w.is_alive() for w in workers):
                    break  # every worker gone without its last word: crashed
                continue
            if isinstance(message, ShardDone):
                done(message)
            else:
                ended += 1
                stats.interrupted |= message.interrupted
                stats.time_limit_reached |= message.time_limit_reached
    except KeyboardInterrupt:
        stats.interrupted = True
        stop.set()
        for w in workers:  # each finishes the pages it has in flight; its shard gets no marker
            if w.pid is not None and w.is_alive():
                os.kill(w.pid, signal.SIGINT)
        _drain(results, workers, done)
    stop.set()
    for w in workers:
        w.join(timeout=30)
    stats.workers_lost = sum(w.exitcode not in (0, None) for w in workers)
    return stats


def _feed(shards: Iterator[InputShard], tasks: Tasks, processes: int, stop: threading.Event) -> None:
    """Hand the shards out in order, then one None per worker (no more)."""
    for shard in shards:
        while not stop.is_set():
            try:
                tasks.put(shard, timeout=0.5)
                break
            except queue.Full:
                continue
        if stop.is_set():
            return
    for _ in range(processes):
        tasks.put(None)


def _drain(results: Results, workers: Sequence[BaseProcess], done: Callable[[ShardDone], None]) -> None:
    """After an interruption: the shards workers still finish are counted until they are all gone."""
    while any(w.is_alive() for w in workers) or not results.empty():
        try:
            message = results.get(timeout=0.5)
        except queue.Empty:
            continue
        except KeyboardInterrupt:  # a second Ctrl-C: leave; unmarked shards are rendered next run
            return
        if isinstance(message, ShardDone):
            done(message)


def _worker(cfg: CrawlConfig, keep: tuple[str, ...], tasks: Tasks, results: Results, parent: int) -> None:
    # a group of its own: a terminal's Ctrl-C reaches the parent only, which passes on exactly one SIGINT
    # (a second one would make the crawl loop leave at once, pages in flight and all)
    os.setpgrp()
    threading.Thread(target=_leave_with, args=(parent,), daemon=True).start()
    stats = asyncio.run(render_shards(cfg, lambda stopping: _take(tasks, stopping), keep, results.put))
    results.put(WorkerEnd(stats.interrupted, stats.time_limit_reached))


def _take(tasks: Tasks, stopping: Callable[[], bool]) -> InputShard | None:
    """The next shard from the parent; None once it says there are no more or this worker is stopping."""
    while not stopping():
        try:
            shard: InputShard | None = tasks.get(timeout=0.5)
            return shard
        except queue.Empty:
            continue
    return None


def _leave_with(parent: int) -> None:
    """Exit when the parent is gone (its pid no longer this process's parent)."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)
