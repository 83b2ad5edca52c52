"""`boxcrawl` command line. Thin: parse, build a config, call a stage, print a summary."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from . import __version__
from .argtypes import host_list, number, size, whole_number
from .browser.chromium import ChromiumNotFound, find_chromium
from .egress.guard import NetworkGuard
from .config import VISIBILITY_METHODS, BrowserConfig, CrawlConfig, SelectConfig, WriteConfig
from .extract.tokenizer import TokenizerError
from .fleet import cli as fleet
from .frontier.urls import SCOPES, BadURL
from .progress import CrawlProgress, print_summary
from .visibility.cli import add_parsers as add_visibility_parsers, run as run_eval_visibility


class CLIError(Exception):
    """A one-line message for the user; exit code 2."""


def _add_render_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, help="output folder (created; reruns resume)")
    b = p.add_argument_group("browser")
    b.add_argument("--tabs", type=whole_number(1), default=2, help="pages rendered at once (default 2)")
    b.add_argument("--chromium", help="Chromium executable (default: $BOXCRAWL_CHROMIUM or the system one)")
    b.add_argument(
        "--allow-hosts",
        type=host_list,
        default=(),
        metavar="H,...",
        help="the browser reaches only these hosts; also allows loopback/private ones",
    )
    b.add_argument("--viewport", type=size(64), default=(512, 512), metavar="WxH", help="default 512x512")
    b.add_argument("--scale", type=number(0, allow_minimum=False), default=1.0, help="device scale factor (default 1)")
    b.add_argument(
        "--page-timeout", type=number(0, allow_minimum=False), default=30.0, help="hard per-page deadline, s"
    )
    b.add_argument(
        "--load-timeout",
        type=number(0, allow_minimum=False),
        default=15.0,
        help="wait this long for the load event, then use what rendered (s)",
    )
    b.add_argument(
        "--max-page-height",
        type=whole_number(1),
        default=1_048_576,
        help="measure and capture at most this many CSS px of a page (default 1048576)",
    )
    b.add_argument(
        "--settle",
        type=number(0),
        default=0.1,
        metavar="S",
        help="after load, wait until the page has had no DOM change and no request "
        "in flight for this long, s (default 0.1)",
    )
    b.add_argument(
        "--settle-max",
        type=number(0),
        default=2.0,
        metavar="S",
        help="wait for that at most this long, then measure the page as it is (default 2)",
    )
    b.add_argument("--user-agent", help="User-Agent header and navigator.userAgent")
    b.add_argument(
        "--visibility",
        choices=VISIBILITY_METHODS,
        default=VISIBILITY_METHODS[0],
        help="how to decide which tokens are visible (default combined; see README)",
    )
    b.add_argument(
        "--ink-boxes",
        action="store_true",
        help="tighten each visible token's boxes to its painted pixels (a second render)",
    )
    t = p.add_argument_group("tokens and crops")
    t.add_argument("--tokenizer", help="tokenizer.json, vocab.txt or hub name (default bert-base-uncased, bundled)")
    t.add_argument("--crop-max", type=size(64), default=(512, 256), metavar="WxH", help="largest crop, image px")
    t.add_argument("--crop-min-height", type=whole_number(0), default=100, help="image px (default 100)")
    t.add_argument("--min-tokens", type=whole_number(0), default=50, help="visible tokens per crop (default 50)")
    t.add_argument("--max-crops", type=whole_number(0), default=16, help="per page, 0 = no limit (default 16)")
    t.add_argument(
        "--no-ink-check",
        dest="ink_check",
        action="store_false",
        help="keep tokens whose boxes show no ink in their crop's pixels (faster; see README)",
    )
    o = p.add_argument_group("output")
    o.add_argument("--image-format", choices=("png", "jpeg", "webp"), default="png")
    o.add_argument("--seed-layout", action="store_true", help="also write img/<key>.png + csv/<key>.csv")
    o.add_argument("--shard-samples", type=whole_number(1), default=1000, help="samples per shard (default 1000)")
    o.add_argument("--shard-pages", type=whole_number(1), default=200, help="pages per shard (default 200)")
    o.add_argument("--max-attempts", type=whole_number(1), default=3, help="tries per page on transient errors")
    o.add_argument(
        "--retry-delay", type=number(0, allow_minimum=False), default=5.0, help="first retry delay, s (doubles)"
    )
    o.add_argument("--quiet", action="store_true", help="no progress bar")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="boxcrawl",
        description="Render web pages in headless Chromium and write (screenshot, token boxes) datasets.",
    )
    parser.add_argument("--version", action="version", version=f"boxcrawl {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    render = sub.add_parser(
        "render",
        help="render just these pages into DIR",
        description="Render exactly the given pages (no link following).",
    )
    render.add_argument("urls", nargs="*", metavar="URL")
    render.add_argument("--urls-file", type=Path, help="one URL per line (# comments, blanks ignored)")
    _add_render_options(render)
    fleet.add_options(render, frontier=False)

    crawl = sub.add_parser(
        "crawl",
        help="follow links from seeds; rerun to resume",
        description="Crawl from seed URLs, following in-scope links. Running the same "
        "command again on the same --out resumes.",
    )
    crawl.add_argument("seeds", nargs="*", metavar="SEED")
    crawl.add_argument("--seeds-file", type=Path, help="one URL per line (# comments, blanks ignored)")
    crawl.add_argument("--max-pages", type=whole_number(0), default=0, help="stop after this many pages (0 = all)")
    crawl.add_argument(
        "--scope",
        choices=SCOPES,
        default="host",
        help="links to follow: same host (default), registrable domain, URL prefix, any",
    )
    _add_render_options(crawl)
    fleet.add_options(crawl, frontier=True)
    fleet.add_parsers(sub, _add_render_options)

    status = sub.add_parser("status", help="progress of a crawl folder or a shared frontier")
    status.add_argument("out", nargs="?", metavar="DIR")
    status.add_argument("--frontier", metavar="redis://...", help="a shared frontier instead of DIR")
    status.add_argument("--json", action="store_true")

    bench = sub.add_parser(
        "bench",
        help="floor vs full pipeline on local doc sites: pages/min, memory, stages",
        description="Serve Debian's python3-doc and postgresql-doc-15 on 127.0.0.1 and "
        "measure, in one run on the same pages: the floor (load + one geometry "
        "pass + one viewport screenshot) and the full pipeline.",
    )
    bench.add_argument("--pages", type=whole_number(1), default=100, help="pages per run (default 100)")
    bench.add_argument("--tabs", type=whole_number(1), default=2, help="default 2, as for crawls")
    bench.add_argument(
        "--soak",
        type=whole_number(0),
        default=0,
        metavar="N",
        help="also run the pipeline over N pages and compare memory at page 100 and N",
    )
    bench.add_argument("--chromium", help="Chromium executable")
    bench.add_argument("--json", type=Path, help="also write the figures to this JSON file")

    from .distill.cli import add_parsers as add_distill_parsers

    add_distill_parsers(sub)
    add_visibility_parsers(sub)

    show = sub.add_parser("show", help="write an HTML gallery of a dataset")
    show.add_argument("out", metavar="DIR")
    show.add_argument("--limit", type=whole_number(0), default=60, help="samples shown (default 60)")
    show.add_argument("--html", type=Path, help="where to write (default DIR/gallery.html)")

    from .audit.cli import add_parsers as add_audit_parsers

    add_audit_parsers(sub)

    from .label.cli import add_parsers as add_label_parsers
    from .train.cli import add_parsers as add_train_parsers

    add_label_parsers(sub)
    add_train_parsers(sub)
    return parser


def _read_urls(positional: list[str], path: Path | None) -> list[str]:
    urls = list(positional)
    if path is not None:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise CLIError(f"cannot read {path}: {exc.strerror}") from None
        urls += [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    if not urls:
        raise CLIError("no URLs given")
    return urls


def _config(args, follow_links: bool) -> CrawlConfig:
    return CrawlConfig(
        out=args.out,
        scope=getattr(args, "scope", "any"),
        max_pages=getattr(args, "max_pages", 0),
        max_attempts=args.max_attempts,
        retry_delay=args.retry_delay,
        follow_links=follow_links,
        tokenizer=args.tokenizer,
        browser=BrowserConfig(
            chromium=args.chromium,
            tabs=args.tabs,
            viewport_width=args.viewport[0],
            viewport_height=args.viewport[1],
            max_page_height=max(args.max_page_height, args.viewport[1]),
            scale=args.scale,
            page_timeout=args.page_timeout,
            load_timeout=min(args.load_timeout, args.page_timeout),
            allow_hosts=args.allow_hosts,
            user_agent=args.user_agent,
            visibility=args.visibility,
            ink_boxes=args.ink_boxes,
            settle=args.settle,
            settle_max=args.settle_max,
        ),
        select=SelectConfig(
            max_width=args.crop_max[0],
            max_height=args.crop_max[1],
            min_height=min(args.crop_min_height, args.crop_max[1]),
            min_tokens=args.min_tokens,
            max_crops=args.max_crops,
            ink_check=args.ink_check,
        ),
        write=WriteConfig(
            image_format=args.image_format,
            seed_layout=args.seed_layout,
            shard_samples=args.shard_samples,
            shard_pages=args.shard_pages,
        ),
        **fleet.config_fields(args),
    )


def _run_crawl(args, follow_links: bool, worker: bool = False) -> int:
    import dataclasses

    import redis

    from .crawl import Crawler, OutputLocked, validate_seeds
    from .fleet.workers import WorkerIdInUse
    from .frontier.open import check_spec, describe
    from .frontier.redis import FrontierUnavailable

    scope_seeds = None
    if worker:
        settings = fleet.crawl_settings(args.frontier, args.wait)  # a wrong password fails at once
        urls, scope_seeds = [], settings["seeds"]
    elif follow_links:
        urls = _read_urls(args.seeds, args.seeds_file)
    else:
        urls = _read_urls(args.urls, args.urls_file)
    cfg = _config(args, follow_links)
    if worker:
        cfg = dataclasses.replace(cfg, scope=settings["scope"], max_pages=settings["max_pages"])
    try:
        check_spec(cfg.frontier)
        find_chromium(cfg.browser.chromium)
        seeds = validate_seeds(urls, NetworkGuard(cfg.browser.allow_hosts))
    except (BadURL, ChromiumNotFound, FrontierUnavailable) as exc:
        raise CLIError(str(exc)) from None
    if follow_links and not worker and fleet.is_redis(cfg.frontier):
        fleet.save_crawl(cfg.frontier, cfg.scope, seeds, cfg.max_pages)
    with CrawlProgress(enabled=not args.quiet) as progress:
        try:
            crawler = Crawler(cfg, seeds, on_progress=progress.update, scope_seeds=scope_seeds)
            stats = asyncio.run(crawler.run())
        except (OutputLocked, TokenizerError, FrontierUnavailable, WorkerIdInUse) as exc:
            raise CLIError(str(exc)) from None
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise CLIError(
                f"lost Redis at {describe(cfg.frontier)} ({str(exc).splitlines()[0]}); this worker's "
                "leases expire and other workers take its pages; run it again to rejoin"
            ) from None
    print_summary(stats, Path(cfg.out))
    return 0


def _status(args) -> int:
    return fleet.status(args)


def _show(args) -> int:
    from .show.gallery import write_gallery

    if not Path(args.out).is_dir():
        raise CLIError(f"no dataset at {args.out}")
    path = write_gallery(args.out, args.html, args.limit)
    print(f"gallery: {path.resolve()}")
    return 0


def _bench(args) -> int:
    from .bench.report import print_bench, print_soak
    from .bench.run import BenchError, bench, soak

    def report(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    try:
        find_chromium(args.chromium)
        result = bench(args.pages, args.tabs, args.chromium, report)
        print_bench(result)
        if args.json:
            args.json.write_text(json.dumps(result, indent=2))
        if args.soak:
            result["soak"] = soak(args.soak, args.tabs, args.chromium, report)
            print_soak(result["soak"])
            if args.json:
                args.json.write_text(json.dumps(result, indent=2))
    except (BenchError, ChromiumNotFound) as exc:
        raise CLIError(str(exc)) from None
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if getattr(args, "run", None):  # subcommands that bring their own runner
            args.argv = list(argv) if argv is not None else sys.argv[1:]
            return args.run(args)
        if args.command == "render":
            return _run_crawl(args, follow_links=False)
        if args.command == "crawl":
            return _run_crawl(args, follow_links=True)
        if args.command == "status":
            return _status(args)
        if args.command == "worker":
            return _run_crawl(args, follow_links=True, worker=True)
        if args.command == "retry-failed":
            return fleet.retry_failed(args)
        if args.command == "bench-frontier":
            from .fleet.bench import run_bench

            return run_bench(args)
        if args.command == "show":
            return _show(args)
        if args.command == "bench":
            return _bench(args)
        if args.command == "label":
            from .label.cli import run_label

            return run_label(args, CLIError)
        if args.command == "train":
            from .train.cli import run_train

            return run_train(args, CLIError)
        if args.command == "eval-visibility":
            return run_eval_visibility(args, CLIError)
    except CLIError as exc:
        print(f"boxcrawl {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
