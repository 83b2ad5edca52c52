"""`status`, `retry-failed` and `bench-frontier`: looking after a crawl's frontier, embedded or shared."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from ..frontier.base import Frontier
from ..frontier.open import FRONTIER_FILE, check_spec, describe
from ..frontier.redis import FrontierUnavailable, RedisFrontier
from .argtypes import whole_number
from .errors import CLIError
from .options import add_chromium


def register(sub) -> None:
    retry = sub.add_parser(
        "retry-failed",
        help="put failed URLs back in the queue",
        description="Queue every failed page again, at the front, with its attempts reset; the next "
        "crawl run or worker renders them first. Their failed rows stay in the shards they were "
        "committed in; open_dataset(DIR).pages(latest=True) gives the newest record of each URL.",
    )
    retry.add_argument("out", nargs="?", metavar="DIR", help="crawl folder (embedded frontier)")
    retry.add_argument("--frontier", metavar="redis://...", help="a shared frontier instead of DIR")
    retry.set_defaults(run=retry_failed)

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
    add_chromium(bench)
    bench.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    bench.set_defaults(run=bench_frontier)

    status = sub.add_parser("status", help="progress of a crawl folder or a shared frontier")
    status.add_argument("out", nargs="?", metavar="DIR")
    status.add_argument("--frontier", metavar="redis://...", help="a shared frontier instead of DIR")
    status.add_argument("--json", action="store_true")
    status.set_defaults(run=show_status)


def _shared(frontier: str | None) -> bool:
    return bool(frontier) and frontier != "sqlite"


def _redis(url: str) -> RedisFrontier:
    try:
        check_spec(url)
        return RedisFrontier(url)
    except FrontierUnavailable as exc:
        raise CLIError(str(exc)) from None


def _sqlite_file(out: str | None) -> Path:
    if not out:
        raise CLIError("give a crawl folder DIR or --frontier redis://...")
    path = Path(out) / FRONTIER_FILE
    if not path.exists():
        raise CLIError(f"no crawl in {out} (missing {FRONTIER_FILE})")
    return path


def show_status(args: argparse.Namespace) -> int:
    from ..frontier.sqlite import SqliteFrontier
    from ..records import Outcome
    from ..write.live import live_rate, read_live

    if not _shared(args.frontier) and args.out and (shards := _shard_status(args.out)) is not None:
        return _show_shards(shards, args.json)
    frontier: Frontier
    if _shared(args.frontier):
        frontier = _redis(args.frontier)
    else:  # read-only: a look at a running crawl changes nothing
        frontier = SqliteFrontier.open_readonly(_sqlite_file(args.out))
    shared = isinstance(frontier, RedisFrontier)
    try:
        counts, outcomes = frontier.counts(), frontier.outcomes()
        rate, hosts = frontier.pages_per_min(), frontier.hosts()
        workers = frontier.workers() if isinstance(frontier, RedisFrontier) else {}
    finally:
        frontier.close()
    refused = {} if shared else _refused_by(Path(args.out))
    skipped = outcomes.get(Outcome.SKIPPED.value, 0)  # --lang: neither ok nor failed
    ok = counts["done"] - counts["failed"] - skipped
    live = None if shared else read_live(Path(args.out))
    if live is not None:  # from the running crawl's own page events, not from shard commits
        rate, span = live_rate(live)
    elif not shared:
        rate, span = 0.0, 0.0
    else:
        span = 300.0
    running = {} if shared else {"running": live is not None}
    if live is not None:
        running.update(rendering=live["rendering"], uncommitted=live["uncommitted"], this_run=live["pages"])
    if args.json:
        print(
            json.dumps(
                {
                    **counts,
                    "ok": ok,
                    "skipped": skipped,
                    **running,
                    "outcomes": outcomes,
                    **({} if shared else {"refused_by": refused}),
                    "pages_per_min": round(rate, 1),
                    "hosts": hosts,
                    **({"live_workers": workers} if shared else {}),
                }
            )
        )
        return 0
    print(
        f"queued: {counts['queued']}  leased: {counts['leased']}  done: {counts['done']} (ok {ok}, "
        f"{f'skipped {skipped}, ' if skipped else ''}failed {counts['failed']})  seen: {counts['seen']}"
    )
    if live is not None:
        print(
            f"running (pid {live['pid']}): {live['rendering']} rendering, {live['uncommitted']} finished and "
            f"waiting for their shard's commit; {live['pages']} pages this run"
        )
    elif not shared:
        print("not running")
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
    if refused:
        print("refused by: " + ", ".join(f"{k} {v}" for k, v in refused.items()))
    if shared or live is not None:
        print(f"pages/min (last {span / 60:.1f} min): {rate:.1f}")
    top = sorted(hosts.items(), key=lambda kv: -kv[1]["done"])[:10]
    for host, figures in top:
        print(f"  {host}: done {figures['done']}, failed {figures['failed']}")
    return 0


def _shard_status(out: str) -> dict | None:
    """A sharded render's figures from its markers, at a local folder or a URL (s3://...)."""
    from ..locations import is_url, shown
    from ..write.plan import shard_status
    from ..write.store import StoreUnavailable

    try:
        found = shard_status(out)
    except StoreUnavailable as exc:
        raise CLIError(str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - a store driver's refusal (endpoint, credentials) is one line
        if not is_url(out):
            raise
        why = str(exc).splitlines()[0] if str(exc) else ""
        raise CLIError(f"cannot read {shown(out)}: {type(exc).__name__}: {why}") from None
    if found is None and is_url(out):
        raise CLIError(f"no sharded render at {shown(out)} (no _done/ markers or shards.json)")
    return found


def _show_shards(shards: dict, as_json: bool) -> int:
    """A folder of `render --shard-urls`: its shards done of all, from the done markers."""
    if as_json:
        print(json.dumps(shards))
        return 0
    total = shards["shards_total"] if shards["shards_total"] is not None else "?"
    print(
        f"shards: {shards['shards_done']} of {total} done ({shards['shard_urls']} URLs each, "
        f"{shards['urls']} URLs in all)"
    )
    ok = shards["pages"] - shards["failed"] - shards["skipped"]
    skipped = f", skipped {shards['skipped']}" if shards["skipped"] else ""
    print(
        f"pages in done shards: {shards['pages']} (ok {ok}, failed {shards['failed']}{skipped}), "
        f"samples {shards['samples']}"
    )
    if (run := shards.get("this_run")) and run["shards_done"]:
        rate = f", {run['pages_per_min']} pages/min" if run["pages_per_min"] is not None else ""
        print(f"latest run (started {run['started']}): {run['shards_done']} shards, {run['pages']} pages{rate}")
    return 0


def _refused_by(out: Path) -> dict[str, int]:
    """Committed pages refused per opt-out signal (read from DIR's pages table)."""
    import pyarrow.dataset as pads

    from ..optout.policy import refused_by
    from ..write.markers import committed_files

    files = [str(p) for p in committed_files(out, "pages", "parquet")]
    if not files:
        return {}
    table = pads.dataset(files, format="parquet")
    if "verdict" not in table.schema.names:
        return {}
    return refused_by(table.to_table(columns=["verdict"])["verdict"].to_pylist())


def retry_failed(args: argparse.Namespace) -> int:
    from ..crawl import OutputLocked, locked_output
    from ..frontier.sqlite import SqliteFrontier

    if _shared(args.frontier):
        frontier = _redis(args.frontier)
        try:
            n = frontier.retry_failed()
        finally:
            frontier.close()
    else:
        path = _sqlite_file(args.out)
        try:
            with locked_output(Path(args.out)):  # never under a running crawl
                local = SqliteFrontier(path)
                try:
                    n = local.retry_failed()
                finally:
                    local.close()
        except OutputLocked as exc:
            raise CLIError(str(exc)) from None
    where = describe(args.frontier) if args.frontier else args.out
    print(f"{n} failed URL{'s' if n != 1 else ''} queued again in {where}")
    return 0


def bench_frontier(args: argparse.Namespace) -> int:
    from ..bench.frontier import bench_frontier as measure
    from ..localsite import ServerDidNotStart

    try:
        result = measure(args.ops, args.urls, args.pages, args.chromium)
    except ServerDidNotStart as exc:
        raise CLIError(str(exc)) from None
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


def crawl_settings(frontier_url: str, wait: float = 0.0) -> dict:
    """Scope, seeds and max pages a worker joins with (set by `boxcrawl crawl ... --frontier`).
    Waits up to ``wait`` seconds for the crawl to be seeded, so the processes of a deployment can
    start in any order; an unreachable Redis or a wrong password fails at once."""
    frontier = _redis(frontier_url)
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


def save_crawl(frontier_url: str, scope: str, seeds: list[str], max_pages: int, opt_out: dict, follow: dict) -> None:
    frontier = _redis(frontier_url)
    try:
        frontier.save_crawl(scope, seeds, max_pages, opt_out, follow)
    finally:
        frontier.close()


__all__ = ["register", "crawl_settings", "save_crawl"]
