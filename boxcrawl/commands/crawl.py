"""`render`, `crawl` and `worker`: the token-box pipeline over given pages, a crawl, or a share of one."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..frontier.urls import SCOPES
from ..lists.location import location
from .argtypes import number, regex, whole_number
from .errors import CLIError, exit_code
from .options import (
    add_fleet_options,
    add_render_options,
    add_worker_identity,
    crawl_config,
    make_out_dir,
    refuse_non_folder,
    repeatable,
    report_skipped,
    url_list,
)
from .sharded import add_list_options, check_list_options, run_sharded


def register(sub) -> None:
    render = sub.add_parser(
        "render",
        help="render just these pages into DIR",
        description="Render exactly the given pages (no link following).",
    )
    render.add_argument("urls", nargs="*", metavar="URL")
    render.add_argument(
        "--urls-file",
        type=location,
        metavar="FILE|URL",
        help="one URL per line (# comments, blanks ignored), or a CSV, TSV, JSONL or Parquet table (--url-col); "
        "a path or an fsspec URL (s3://bucket/list.parquet)",
    )
    add_sitemap(render)
    add_list_options(render)
    add_render_options(render)
    add_fleet_options(render, frontier=False)
    render.set_defaults(run=lambda args: run(args, follow_links=False))

    crawl = sub.add_parser(
        "crawl",
        help="follow links from seeds; rerun to resume",
        description="Crawl from seed URLs, following in-scope links. Running the same "
        "command again on the same --out resumes.",
    )
    crawl.add_argument("seeds", nargs="*", metavar="SEED")
    crawl.add_argument(
        "--seeds-file",
        type=location,
        metavar="FILE|URL",
        help="one URL per line (# comments, blanks ignored); a path or an fsspec URL",
    )
    add_sitemap(crawl)
    crawl.add_argument("--max-pages", type=whole_number(0), default=0, help="stop after this many pages (0 = all)")
    crawl.add_argument(
        "--scope",
        choices=SCOPES,
        default="host",
        help="links to follow: same host (default), registrable domain, URL prefix, any",
    )
    crawl.add_argument(
        "--max-depth",
        type=whole_number(0),
        default=None,
        metavar="N",
        help="follow links at most N hops from a seed (0 = the seeds only; default: any depth)",
    )
    repeatable(
        crawl, "--include", regex, "REGEX", "follow only links whose normalised URL matches one of these (repeatable)"
    )
    repeatable(
        crawl, "--exclude", regex, "REGEX", "never follow links whose URL matches one (repeatable), e.g. /login/"
    )
    add_render_options(crawl)
    add_fleet_options(crawl, frontier=True)
    crawl.set_defaults(run=lambda args: run(args, follow_links=True))

    worker = sub.add_parser(
        "worker",
        help="join a crawl on a shared Redis frontier",
        description="Take URLs from a crawl started with `boxcrawl crawl SEED --frontier "
        "redis://...`, render them into --out (a folder shared by all workers, "
        "each writing its own shards) and feed the links found back.",
    )
    worker.add_argument("--frontier", required=True, metavar="redis://...", help="the crawl's Redis")
    add_worker_identity(worker)
    worker.add_argument(
        "--wait",
        type=number(0),
        default=60.0,
        metavar="S",
        help="wait up to S seconds for the crawl to be seeded, so workers can start before it "
        "(default 60; 0 = fail at once)",
    )
    add_render_options(worker, worker=True)
    add_fleet_options(worker, frontier=False, opt_out=False)
    worker.set_defaults(run=lambda args: run(args, follow_links=True, worker=True))


def add_sitemap(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--sitemap",
        action="append",
        default=[],
        metavar="URL",
        help="also take the pages a sitemap (or sitemap index, gzipped or not) lists (repeatable)",
    )


def run(args: argparse.Namespace, follow_links: bool, worker: bool = False) -> int:
    import asyncio
    import dataclasses

    import redis

    from ..browser.chromium import ChromiumNotFound, find_chromium
    from ..crawl import Crawler, OutputLocked, config_doc, usable_seeds
    from ..egress.guard import NetworkGuard
    from ..extract.tokenizer import TokenizerError
    from ..fleet.workers import WorkerIdInUse
    from ..frontier.open import check_spec, describe, is_redis
    from ..frontier.redis import FrontierUnavailable
    from ..optout.policy import OptOutConfig
    from ..progress import CrawlProgress, print_summary
    from ..write.card import write_card
    from ..write.rerun import RerunRefused, check_layout, clear, history_for
    from .fleet import crawl_settings, save_crawl
    from .outputs import remote_output

    if not follow_links and not worker:
        check_list_options(args)
        if args.shard_urls is not None:
            return run_sharded(args)
    scope_seeds = None
    if worker:
        settings = crawl_settings(args.frontier, args.wait)  # a wrong password fails at once
        urls, scope_seeds = [], settings["seeds"]
    elif follow_links:
        urls = url_list(args.seeds, args.seeds_file, args.sitemap, args)
    else:
        urls = url_list(args.urls, args.urls_file, args.sitemap, args, args.urls_format, args.url_col)
    cfg = crawl_config(args, follow_links)
    if worker:  # the crawl's scope, limits, link rules and opt-out settings, whatever this worker's flags say
        follow = settings.get("follow") or {}
        cfg = dataclasses.replace(
            cfg,
            scope=settings["scope"],
            max_pages=settings["max_pages"],
            max_depth=follow.get("max_depth"),
            include=tuple(follow.get("include", ())),
            exclude=tuple(follow.get("exclude", ())),
            lang=tuple(follow.get("lang", cfg.lang)),  # a crawl saved before --lang existed: the worker's own
        )
        if optout := settings.get("opt_out"):
            cfg = cfg.with_opt_out(OptOutConfig(**optout))
    if cfg.lang:  # one line naming the extra now, not a failure on the first page
        from ..lang import check_installed

        check_installed()
    try:
        check_spec(cfg.frontier)
        find_chromium(cfg.browser.chromium)
    except (ChromiumNotFound, FrontierUnavailable) as exc:
        raise CLIError(str(exc)) from None
    seeds: list[str] = []
    if not worker:  # a worker's seeds are the crawl's
        seeds, refused = usable_seeds(urls, NetworkGuard(cfg.browser.allow_hosts))
        report_skipped(refused, left=len(seeds))
    history: list[dict] = []
    remote = remote_output(cfg.out, is_redis(cfg.frontier), cfg.write.seed_layout)
    if remote is None:
        refuse_non_folder(cfg.out)
    if not worker and not is_redis(cfg.frontier):  # with Redis, each worker keeps its own config-<id>.json
        try:
            if args.force:
                clear(Path(cfg.out))
            check_layout(Path(cfg.out), sharded=False)
            history = history_for(Path(cfg.out), config_doc(cfg, seeds), args.resume_with_changes)
        except RerunRefused as exc:
            raise CLIError(str(exc)) from None
    if remote is None:
        make_out_dir(cfg.out)
    if follow_links and not worker and is_redis(cfg.frontier):
        save_crawl(
            cfg.frontier, cfg.scope, seeds, cfg.max_pages, dataclasses.asdict(cfg.opt_out_config), cfg.follow_settings
        )
    with CrawlProgress(enabled=not args.quiet) as progress:
        try:
            crawler = Crawler(cfg, seeds, on_progress=progress.update, scope_seeds=scope_seeds, history=history)
            stats = asyncio.run(crawler.run())
        except (OutputLocked, TokenizerError, FrontierUnavailable, WorkerIdInUse) as exc:
            raise CLIError(str(exc)) from None
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise CLIError(
                f"lost Redis at {describe(cfg.frontier)} ({str(exc).splitlines()[0]}); the other "
                "workers take this one's pages once its heartbeat stops; run it again to rejoin"
            ) from None
    print_summary(stats, Path(cfg.out) if remote is None else remote.shown)
    write_card(cfg.out)
    return exit_code(stats.failed, stats.interrupted)
