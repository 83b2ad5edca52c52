"""Command line of the fleet: `worker`, `retry-failed`, `bench-frontier`, `status --frontier`, and the
options shared by crawl/render/worker (frontier, worker id, leases, time limit, politeness)."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from ..argtypes import number, whole_number
from ..frontier.open import FRONTIER_FILE, check_spec, describe, is_redis
from ..frontier.redis import FrontierUnavailable, RedisFrontier
from .workers import sanitize


def add_options(p: argparse.ArgumentParser, *, frontier: bool) -> None:
    g = p.add_argument_group("fleet and politeness")
    if frontier:
        g.add_argument(
            "--frontier",
            default="sqlite",
            metavar="SPEC",
            help="sqlite (embedded in --out, default) or redis://[:PASSWORD@]HOST:PORT/DB "
            "(rediss:// for TLS) shared by many workers",
        )
        g.add_argument("--worker-id", help="names this worker's shards (default HOST-PID-xxxx)")
        g.add_argument(
            "--lease-seconds",
            type=number(0.5),
            default=120.0,
            help="a lease not extended this long goes back to the queue: the last resort for a "
            "worker that died without a heartbeat (default 120)",
        )
    g.add_argument(
        "--time-limit", type=number(0), default=0.0, metavar="S", help="stop gracefully after S seconds (0 = no limit)"
    )
    g.add_argument(
        "--host-concurrency",
        type=whole_number(1),
        default=2,
        help="pages of one host at once, across all workers (default 2)",
    )
    g.add_argument(
        "--host-delay",
        type=number(0),
        default=1.0,
        metavar="S",
        help="seconds between page starts on one host (default 1; robots Crawl-delay may raise it)",
    )
    g.add_argument("--ignore-robots", action="store_true", help="do not fetch or obey robots.txt")


def config_fields(args) -> dict:
    """The CrawlConfig fields these options set."""
    from ..config import PolitenessConfig

    return dict(
        frontier=getattr(args, "frontier", "sqlite"),
        worker_id=sanitize(args.worker_id) if getattr(args, "worker_id", None) else None,
        lease_seconds=getattr(args, "lease_seconds", 120.0),
        time_limit=args.time_limit,
        politeness=PolitenessConfig(
            host_concurrency=args.host_concurrency, host_delay=args.host_delay, robots=not args.ignore_robots
        ),
    )


def add_parsers(sub, add_render_options) -> None:
    worker = sub.add_parser(
        "worker",
        help="join a crawl on a shared Redis frontier",
        description="Take URLs from a crawl started with `boxcrawl crawl SEED --frontier "
        "redis://...`, render them into --out (a folder shared by all workers, "
        "each writing its own shards) and feed the links found back.",
    )
    worker.add_argument("--frontier", required=True, metavar="redis://...", help="the crawl's Redis")
    worker.add_argument("--worker-id", help="names this worker's shards (default HOST-PID-xxxx)")
    worker.add_argument(
        "--lease-seconds",
        type=number(0.5),
        default=120.0,
        help="a lease not extended this long goes back to the queue: the last resort for a "
        "worker that died without a heartbeat (default 120)",
    )
    worker.add_argument(
        "--wait",
        type=number(0),
        default=60.0,
        metavar="S",
        help="wait up to S seconds for the crawl to be seeded, so workers can start before it "
        "(default 60; 0 = fail at once)",
    )
    add_render_options(worker)
    add_options(worker, frontier=False)

    retry = sub.add_parser(
        "retry-failed",
        help="put failed URLs back in the queue",
        description="Queue every failed page again with its attempts reset; the next crawl "
        "run or worker renders them. Their failed rows stay in the shards they "
        "were committed in; the newest row (fetched_at) of a URL is the one to use.",
    )
    retry.add_argument("out", nargs="?", metavar="DIR", help="crawl folder (embedded frontier)")
    retry.add_argument("--frontier", metavar="redis://...", help="a shared frontier instead of DIR")

    bench = sub.add_parser(
        "bench-frontier",
        help="frontier ops/s (Redis, SQLite), memory per URL, 1 vs 2 workers",
        description="Measure lease+ack operations per second on a Redis and a SQLite frontier, "
        "Redis memory per million seen URLs, and pages/min of 1 worker vs 2 "
        "workers on a local site, all in one run. Starts its own redis-server.",
    )
    bench.add_argument(
        "--ops", type=whole_number(100), default=20000, help="URLs leased and acked per backend (default 20000)"
    )
    bench.add_argument(
        "--urls",
        type=whole_number(1000),
        default=1_000_000,
        help="URLs added for the memory figure (default 1,000,000)",
    )
    bench.add_argument(
        "--pages",
        type=whole_number(0),
        default=60,
        help="pages per worker run; 0 skips the 1-vs-2-worker crawl (default 60)",
    )
    bench.add_argument("--chromium", help="Chromium executable")
    bench.add_argument("--json", type=Path, help="also write the figures to this JSON file")


def open_for_control(out: str | None, frontier: str | None):
    """The frontier `status` and `retry-failed` look at: a shared Redis, or DIR's SQLite file."""
    from ..cli import CLIError
    from ..frontier.sqlite import SqliteFrontier

    if frontier and frontier != "sqlite":
        try:
            check_spec(frontier)
            return RedisFrontier(frontier)
        except FrontierUnavailable as exc:
            raise CLIError(str(exc)) from None
    if not out:
        raise CLIError("give a crawl folder DIR or --frontier redis://...")
    path = Path(out) / FRONTIER_FILE
    if not path.exists():
        raise CLIError(f"no crawl in {out} (missing {FRONTIER_FILE})")
    return SqliteFrontier, path


def status(args) -> int:
    opened = open_for_control(args.out, getattr(args, "frontier", None))
    if isinstance(opened, tuple):
        frontier = opened[0].open_readonly(opened[1])
    else:
        frontier = opened
    try:
        counts, outcomes = frontier.counts(), frontier.outcomes()
        rate, hosts = frontier.pages_per_min(), frontier.hosts()
        shared = isinstance(frontier, RedisFrontier)
        workers = frontier.workers() if shared else {}
    finally:
        frontier.close()
    if args.json:
        print(
            json.dumps(
                {
                    **counts,
                    "outcomes": outcomes,
                    "pages_per_min": round(rate, 1),
                    "hosts": hosts,
                    **({"live_workers": workers} if shared else {}),
                }
            )
        )
        return 0
    print("  ".join(f"{k}: {counts[k]}" for k in ("queued", "leased", "done", "failed", "seen")))
    if shared:  # who holds the leased pages
        print(
            f"leased: {counts['rendering']} rendering, {counts['uncommitted']} finished and waiting for "
            f"their shard's commit, {counts['held_by_dead']} held by dead workers"
        )
        print(
            f"workers: {counts['workers']} alive, {counts['workers_lost']} lost "
            f"({counts['recovered']} of their pages queued again)"
        )
        for worker, beat in sorted(workers.items()):
            print(
                f"  {worker} ({beat.get('host', '?')}, pid {beat.get('pid', '?')}): rendering "
                f"{beat.get('rendering', 0)}, uncommitted {beat.get('uncommitted', 0)}, pages {beat.get('pages', 0)}"
            )
    if outcomes:
        print("outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    print(f"pages/min (last 5 min): {rate:.1f}")
    top = sorted(hosts.items(), key=lambda kv: -kv[1]["done"])[:10]
    for host, figures in top:
        print(f"  {host}: done {figures['done']}, failed {figures['failed']}")
    return 0


def retry_failed(args) -> int:
    opened = open_for_control(args.out, args.frontier)
    if isinstance(opened, tuple):
        from ..crawl import OutputLocked, locked_output

        try:
            with locked_output(Path(args.out)):  # never under a running crawl
                frontier = opened[0](opened[1])
                n = frontier.retry_failed()
                frontier.close()
        except OutputLocked as exc:
            from ..cli import CLIError

            raise CLIError(str(exc)) from None
    else:
        n = opened.retry_failed()
        opened.close()
    where = describe(args.frontier) if args.frontier else args.out
    print(f"{n} failed URL{'s' if n != 1 else ''} queued again in {where}")
    return 0


def crawl_settings(frontier_url: str, wait: float = 0.0) -> dict:
    """Scope, seeds and max pages a worker joins with (set by `boxcrawl crawl ... --frontier`).
    Waits up to ``wait`` seconds for the crawl to be seeded, so the processes of a deployment can
    start in any order; an unreachable Redis or a wrong password fails at once."""
    from ..cli import CLIError

    try:
        frontier = RedisFrontier(frontier_url)
    except FrontierUnavailable as exc:
        raise CLIError(str(exc)) from None
    deadline = time.monotonic() + wait
    try:
        while not (settings := frontier.load_crawl()):
            if time.monotonic() >= deadline:
                waited = f" after waiting {wait:g} s" if wait else ""
                raise CLIError(
                    f"no crawl in Redis at {describe(frontier_url)}{waited}: start one with "
                    f"boxcrawl crawl SEED --out DIR --frontier {describe(frontier_url)}"
                )
            time.sleep(0.5)
    finally:
        frontier.close()
    return settings


def save_crawl(frontier_url: str, scope: str, seeds: list[str], max_pages: int) -> None:
    from ..cli import CLIError

    try:
        frontier = RedisFrontier(frontier_url)
    except FrontierUnavailable as exc:
        raise CLIError(str(exc)) from None
    try:
        frontier.save_crawl(scope, seeds, max_pages)
    finally:
        frontier.close()


__all__ = [
    "add_options",
    "add_parsers",
    "config_fields",
    "status",
    "retry_failed",
    "crawl_settings",
    "save_crawl",
    "is_redis",
]
