"""`render --shard-urls N`: a URL list (text, CSV, TSV, JSONL, Parquet) rendered as numbered input shards,
each committed as one named output shard with a done marker; a rerun renders only the shards without one."""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys

from .argtypes import number, whole_number
from .errors import CLIError, exit_code

DISTRIBUTORS = ("local", "ray")


def add_list_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("URL lists as data (--urls-file)")
    g.add_argument(
        "--urls-format",
        choices=("text", "csv", "tsv", "jsonl", "parquet"),
        help="the --urls-file format (default: from its extension: .csv .tsv .jsonl/.ndjson .parquet; else text)",
    )
    g.add_argument("--url-col", default="url", metavar="NAME", help="the column holding the URLs (default url)")
    g.add_argument(
        "--save-columns",
        type=column_names,
        default=(),
        metavar="A,B",
        help="carry these input columns into every page record and sample JSON (needs --shard-urls)",
    )
    g.add_argument(
        "--shard-urls",
        type=whole_number(1),
        metavar="N",
        help="render the list as shards of N URLs, each written and marked done as one unit; rerun to go on",
    )
    g.add_argument(
        "--distributor",
        choices=DISTRIBUTORS,
        default="local",
        help="who renders the shards (default local: --processes processes on this machine; ray: one Ray task "
        "per shard on a Ray cluster, needs the [ray] extra)",
    )
    g.add_argument(
        "--processes",
        type=whole_number(1),
        default=1,
        metavar="P",
        help="with --shard-urls: P processes, each one Chromium with --tabs tabs (default 1)",
    )
    g.add_argument(
        "--ray-address",
        metavar="ADDR",
        help="with --distributor ray: the cluster to attach to (host:port or ray://host:port); default: the one "
        "in $RAY_ADDRESS, else the last one started on this machine, else a new local one, stopped at the end",
    )
    g.add_argument(
        "--ray-cpus-per-task",
        type=number(0, allow_minimum=False),
        metavar="C",
        help="with --distributor ray: CPUs Ray reserves for each shard's Chromium (default: one per tab, "
        "--tabs; measured, one Chromium with 2 tabs keeps about 1.4 cores busy)",
    )
    g.add_argument(
        "--ray-retries",
        type=whole_number(0),
        default=3,
        metavar="N",
        help="with --distributor ray: run a shard's task again up to N times when its worker dies or its "
        "browser keeps failing (default 3)",
    )


def column_names(text: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(","))
    if not all(names):
        raise argparse.ArgumentTypeError(f"expected column names separated by commas, got {text!r}")
    return tuple(dict.fromkeys(names))


def record_fields() -> set[str]:
    """Every field a page record or a sample already has: a kept column may not take one's name."""
    from ..write.schema import PAGES_SCHEMA, SAMPLE_FIELDS

    return {*PAGES_SCHEMA.names, *SAMPLE_FIELDS.names, "shard", "image"}


def check_list_options(args: argparse.Namespace) -> None:
    """The list options that only make sense with --shard-urls, and names that clash."""
    if args.shard_urls is None:
        if args.save_columns:
            raise CLIError("--save-columns needs --shard-urls (the columns travel with each shard)")
        if args.processes != 1:
            raise CLIError("--processes needs --shard-urls (processes take whole shards)")
        if args.distributor != "local":
            raise CLIError(f"--distributor {args.distributor} needs --shard-urls (it hands out whole shards)")
    if args.distributor != "local" and args.processes != 1:
        raise CLIError(f"--processes is for --distributor local (--distributor {args.distributor} sizes itself)")
    if args.distributor != "ray":
        given = {
            "--ray-address": args.ray_address is not None,
            "--ray-cpus-per-task": args.ray_cpus_per_task is not None,
        }
        given["--ray-retries"] = args.ray_retries != 3
        if flag := next((f for f, on in given.items() if on), None):
            raise CLIError(f"{flag} needs --distributor ray")
    if args.shard_urls is None:
        return
    if clash := sorted(set(args.save_columns) & record_fields()):
        raise CLIError(f"--save-columns {clash[0]!r}: a page record or sample already has a field of that name")
    if args.urls or args.sitemap or args.urls_file is None:
        raise CLIError("--shard-urls renders the list of --urls-file (no URL arguments or --sitemap)")
    if args.seed_layout:
        raise CLIError("--seed-layout cannot be combined with --shard-urls")


def run_sharded(args: argparse.Namespace) -> int:
    from ..browser.chromium import ChromiumNotFound, find_chromium
    from ..crawl import CrawlStats, OutputLocked, config_doc
    from ..distribute.local import run_local
    from ..distribute.ray import RayUnavailable, run_ray, unreachable
    from ..egress.guard import NetworkGuard
    from ..extras import require
    from ..lists.read import ListError
    from ..lists.shards import UrlSource, cut, shard_name, usable_rows
    from ..locations import local_path, shown
    from ..progress import CrawlProgress, print_summary
    from ..urllist import UrlListError
    from ..write.card import write_card
    from ..write.markers import done_shards, utc_now
    from ..write.plan import write_plan
    from ..write.rerun import RerunRefused, check_layout, clear, history_for
    from .options import crawl_config
    from .outputs import output_store, probe, writing

    check_list_options(args)
    if args.distributor == "ray":
        require("ray")  # before anything is written: one line naming the extra
        if problem := unreachable(args.ray_address):
            raise CLIError(problem)
    cfg = crawl_config(args, follow_links=False)
    store = output_store(cfg.out)
    keep: tuple[str, ...] = args.save_columns
    try:
        source = UrlSource.open(args.urls_file, args.urls_format, args.url_col, keep)
        if source.table is None and keep:
            raise CLIError("--save-columns: a text list has no columns")
        find_chromium(cfg.browser.chromium)
    except (ListError, ChromiumNotFound) as exc:
        raise CLIError(str(exc)) from None
    guard = NetworkGuard(cfg.browser.allow_hosts)

    # first pass: every skipped row reported once, and the number of URLs (hence shards) known up front
    skipped: list[str] = []

    def warn(problem: str) -> None:
        if not skipped:
            skipped.append(problem)
        print(f"warning: {problem} (skipped)", file=sys.stderr)

    try:
        count = sum(batch.num_rows for batch in usable_rows(source, guard, warn))
    except (ListError, UrlListError) as exc:
        raise CLIError(str(exc)) from None
    if not count:
        raise CLIError(f"no URL left to fetch: {skipped[0]}" if skipped else "no URLs given")
    total = math.ceil(count / args.shard_urls)

    doc = config_doc(cfg, [])
    doc["urls"] = {
        "file": shown(args.urls_file),  # a URL without any user:password@
        "format": source.format,
        "url_col": args.url_col,
        "save_columns": list(keep),
        "shard_urls": args.shard_urls,
    }
    if not store.is_local:
        probe(store)  # a missing bucket, an unreachable endpoint or a refused key: one line, before any read
    try:
        if args.force:
            clear(store)
        check_layout(store, sharded=True)
        history = history_for(store, doc, args.resume_with_changes)
    except RerunRefused as exc:
        raise CLIError(str(exc)) from None
    if history:
        doc["history"] = history
    stats = CrawlStats(shards_total=total)
    try:
        with writing(store):
            store.write_json("config.json", doc)
            write_plan(store, {"shards": total, "shard_urls": args.shard_urls, "urls": count, "run_started": utc_now()})
            done = done_shards(store)
            stats.shards_skipped = sum(shard_name(k) in done for k in range(total))
            stats.expected = count - sum(d.get("pages", 0) for d in done.values())
            todo = (
                shard
                for shard in cut(usable_rows(source, guard, lambda problem: None), args.shard_urls)
                if shard.name not in done
            )
            with CrawlProgress(enabled=not args.quiet) as progress:
                if args.distributor == "ray":
                    # a task's working folder is its node's, not this one's: a local --out as an absolute path
                    where = dataclasses.replace(cfg, out=str(local_path(cfg.out).resolve())) if store.is_local else cfg
                    run_ray(
                        where, todo, keep, stats, progress.update,
                        address=args.ray_address, max_retries=args.ray_retries,
                        cpus_per_task=args.ray_cpus_per_task or cfg.browser.tabs,
                    )  # fmt: skip
                else:
                    run_local(cfg, todo, keep, args.processes, stats, progress.update)
    except (OutputLocked, RayUnavailable) as exc:
        raise CLIError(str(exc)) from None
    print_summary(stats, store.shown if not store.is_local else local_path(store.given))
    write_card(store.given)
    if stats.workers_lost and not stats.interrupted:
        print(
            f"error: {stats.workers_lost} worker process(es) died; run the same command again for their shards",
            file=sys.stderr,
        )
        return exit_code(1)
    if stats.shards_failed and not stats.interrupted:
        print(
            f"error: {stats.shards_failed} shard(s) failed on every try; run the same command again for their shards",
            file=sys.stderr,
        )
        return exit_code(1)
    return exit_code(stats.failed, stats.interrupted)
