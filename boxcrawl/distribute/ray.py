"""`--distributor ray`: each input shard one Ray task, which renders it with one Chromium (--tabs tabs) and
returns its `ShardDone` once the shard's marker is written.

A task whose worker process dies (killed, out of memory, its node gone) is run again by Ray, up to
`max_retries` times, as is one that raises a browser or system error; the shard's files are written again
from the start and its marker comes last, so a shard is either committed whole or not at all. A shard whose
every try failed is counted as failed: it has no marker, and the next run of the same command renders it.

This process reads the list and keeps a bounded window of tasks in flight (about two per task slot of the
cluster), so a list of millions of shards is never submitted at once. The output must be reachable from
every node: object storage (`--out s3://...`), whose settings in this process's environment (`AWS_*`)
travel with the tasks, or a folder at the same absolute path on every node.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import socket
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ..config import CrawlConfig
from ..crawl import CrawlStats
from ..extras import require
from ..lists.shards import InputShard
from .common import count, interruptible
from .render import ShardDone, render_shards

MAX_RETRIES = 3  # a shard's tries after its first, whether its worker died or its browser kept failing
WAIT_SECONDS = 0.5  # how long the loop waits on a task before checking the clock (--time-limit)
CONNECT_SECONDS = 10.0
STORAGE_ENV = ("AWS_", "GOOGLE_APPLICATION_CREDENTIALS", "FSSPEC_")  # s3fs/botocore, gcsfs, fsspec's config


class RayUnavailable(RuntimeError):
    """The cluster cannot be started or attached to: one line for the user."""


class ShardCutShort(RuntimeError):
    """A task ended without writing its shard's marker (its worker was asked to stop)."""


def run_ray(
    cfg: CrawlConfig,
    shards: Iterator[InputShard],
    keep: tuple[str, ...],
    stats: CrawlStats,
    on_progress: Callable[[CrawlStats], None],
    *,
    address: str | None = None,
    cpus_per_task: float = 1.0,
    max_retries: int = MAX_RETRIES,
) -> CrawlStats:
    """Render every shard of `shards` as Ray tasks on the cluster at `address` (None: `ray.init()`'s own
    choice, see the --ray-address help); `stats` is updated as shards finish and returned."""
    ray = require("ray")
    # the driver's own log lines and the workers' output stay in Ray's session logs, off the terminal
    try:
        ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise RayUnavailable(_why(address, exc)) from None
    try:
        # after ray.init, which installs a SIGTERM handler of its own that dumps a stack and exits 1
        with interruptible():
            return _run_tasks(ray, cfg, shards, keep, cpus_per_task, max_retries, stats, on_progress)
    finally:
        ray.shutdown()  # stops the cluster when ray.init started it here; else only leaves it


def unreachable(address: str | None) -> str | None:
    """Why the cluster at `address` (else $RAY_ADDRESS) cannot be reached, or None when it answers or Ray is
    to find or start one. Asked first because ray.init() retries an address that refuses for ever."""
    address = address or os.environ.get("RAY_ADDRESS") or None
    if address is None or "://" in address or address in ("auto", "local"):
        return None  # ray:// (Ray Client) reports its own failure; the others are Ray's to resolve
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit():
        return f"Ray address {address!r}: expected host:port or ray://host:port"
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_SECONDS).close()
    except OSError as exc:
        return f"cannot reach the Ray cluster at {address}: {exc.strerror or exc}"
    return None


def _why(address: str | None, exc: BaseException) -> str:
    where = f"the Ray cluster at {address}" if address else "a Ray cluster"
    text = f"{exc} {exc.__cause__ or ''}"
    if "AuthToken" in text or "Authentication" in text:
        # Ray sends its token only to a cluster it found itself, never to an address it was given
        return (
            f"cannot attach to {where}: it wants an authentication token; "
            "set RAY_AUTH_MODE=token (the token in ~/.ray/auth_token or $RAY_AUTH_TOKEN)"
        )
    return f"cannot attach to {where}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"


def _run_tasks(
    ray: Any,
    cfg: CrawlConfig,
    shards: Iterator[InputShard],
    keep: tuple[str, ...],
    cpus_per_task: float,
    max_retries: int,
    stats: CrawlStats,
    on_progress: Callable[[CrawlStats], None],
) -> CrawlStats:
    from playwright.async_api import Error as PlaywrightError

    task = ray.remote(render_shard)
    cpus_per_task = feasible(ray, cpus_per_task)
    options: dict[str, Any] = {
        "num_cpus": cpus_per_task,
        "max_retries": max_retries,
        # a browser that will not start or keeps crashing, a full disk or fd table: worth another try;
        # any other exception is a bug that a retry would only repeat
        "retry_exceptions": [PlaywrightError, OSError, TimeoutError, ShardCutShort],
    }
    # an argument of each task, not a runtime_env: Ray writes a runtime_env, secrets and all, to its logs
    env = storage_env(os.environ)
    slots = int(ray.cluster_resources().get("CPU", 1) // cpus_per_task)
    window = max(2, 2 * slots)
    # the run's --time-limit is kept here: a task's own clock would start when the task does
    deadline = time.monotonic() + cfg.time_limit if cfg.time_limit else None
    task_cfg = dataclasses.replace(cfg, time_limit=0.0)
    in_flight: dict[Any, str] = {}
    more = True
    try:
        while more or in_flight:
            while more and len(in_flight) < window:
                shard = next(shards, None)
                if shard is None:
                    more = False
                    break
                # the task's name is its worker's process title while it runs: a shard can be told from ps
                submitted = task.options(**options, name=f"render {shard.name}").remote(task_cfg, shard, keep, env)
                in_flight[submitted] = shard.name
            if not in_flight:
                break
            ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=WAIT_SECONDS)
            for ref in ready:
                name = in_flight.pop(ref)
                try:
                    result: ShardDone = ray.get(ref)
                except ray.exceptions.RayError as exc:  # every try failed: the shard has no marker
                    stats.shards_failed += 1
                    reason = next((line for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
                    print(f"warning: {name} failed on every try: {reason[:300]}", file=sys.stderr)
                else:
                    count(stats, result)
                on_progress(stats)
            if deadline is not None and time.monotonic() >= deadline:
                stats.time_limit_reached = True
                break
    except KeyboardInterrupt:
        stats.interrupted = True
    for ref in in_flight:  # stopped early: their shards get no marker, the next run renders them
        ray.cancel(ref, force=True)
    return stats


def storage_env(environ: Mapping[str, str]) -> dict[str, str]:
    """The object-storage settings of this process (endpoint, region, credentials, profile) that the tasks
    get too: a node's workers were started with the cluster, not with this command's environment. A node
    with credentials of its own (an instance role) uses them when none are set here. They travel as a task
    argument, which Ray keeps in its object store, never in its log files."""
    return {k: v for k, v in environ.items() if k.startswith(STORAGE_ENV)}


def feasible(ray: Any, cpus_per_task: float) -> float:
    """`cpus_per_task`, or the CPUs of the cluster's largest node when no node has that many: Ray would
    hold such a task for ever, waiting for a node that never comes, and say so only in its logs."""
    largest = max((n["Resources"].get("CPU", 0.0) for n in ray.nodes() if n.get("Alive")), default=0.0)
    if 0 < largest < cpus_per_task:
        print(
            f"warning: a task would reserve {cpus_per_task:g} CPUs and the largest node has {largest:g}: "
            f"reserving {largest:g} (see --ray-cpus-per-task)",
            file=sys.stderr,
        )
        return largest
    return cpus_per_task


def render_shard(
    cfg: CrawlConfig, shard: InputShard, keep: tuple[str, ...], env: Mapping[str, str] | None = None
) -> ShardDone:
    """One Ray task: `shard` rendered with its own Chromium, its marker written last; `env` is the command's
    object-storage settings (see storage_env)."""
    os.environ.update(env or {})
    given = iter([shard])
    done: list[ShardDone] = []
    asyncio.run(render_shards(cfg, lambda stopping: next(given, None), keep, done.append))
    if not done:
        raise ShardCutShort(f"{shard.name} was cut short")
    return done[0]
