"""Subcommands of the distillability pipeline; `add_parsers` is all boxcrawl/cli.py needs to know."""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
from pathlib import Path

from ..argtypes import host_list, number, size, whole_number


def _error(message: str):
    from ..cli import CLIError  # late: boxcrawl.cli imports this module

    return CLIError(message)


def add_parsers(sub) -> None:
    from .options import DEFAULT_DEVICE, DEVICES

    p = sub.add_parser(
        "distill",
        help="original + distilled screenshots and page features (reader-mode data)",
        description="Screenshot each page and its distilled (reader-mode) view, extract the raw, "
        "derived and Chrome v1 features; resumable.",
    )
    p.add_argument("urls", nargs="*", metavar="URL", help="URLs (take precedence over --urls-file)")
    p.add_argument("--out", required=True, type=Path, help="output directory")
    p.add_argument("--urls-file", type=Path, help="one URL per line; blanks, # comments, duplicates skipped")
    p.add_argument("--force", action="store_true", help="start afresh: delete an existing --out first")
    p.add_argument("--resume", action="store_true", help="continue in an existing --out (failed entries retried)")
    p.add_argument(
        "--emulate-mobile",
        nargs="?",
        const=DEFAULT_DEVICE,
        default=None,
        metavar="DEVICE",
        choices=sorted(DEVICES),
        help=f"emulate a phone (default {DEFAULT_DEVICE!r}; choices: {', '.join(sorted(DEVICES))})",
    )
    p.add_argument(
        "--write-index",
        action="store_true",
        help="no browser: write DIR/index and the aggregated *feature-derived files, then exit",
    )
    p.add_argument("--raw-jsonl", action="store_true", help="with --write-index: also DIR/<kind>.jsonl raw features")
    p.add_argument("--save-mhtml", action="store_true", help="also save <i>.mhtml (CDP Page.captureSnapshot)")
    p.add_argument("--load-mhtml", action="store_true", help="re-extract from saved <i>.mhtml, offline")
    p.add_argument("--skip-distillation", action="store_true", help="stop after the original page's features")
    p.add_argument(
        "--desktop-distillable-only",
        action="store_true",
        help="drop entries Chrome would call mobile-friendly or not distillable",
    )
    p.add_argument(
        "--distiller",
        choices=("auto", "chrome", "python"),
        default="auto",
        help="auto: Chrome's DOM distiller, readability-lxml when it fails (default)",
    )
    p.add_argument(
        "--tabs", type=whole_number(1), default=2, help="entries processed at once in one Chromium (default 2)"
    )
    p.add_argument(
        "--jobs",
        type=whole_number(1),
        default=1,
        help="worker processes, each with its own Chromium and --tabs (default 1)",
    )
    p.add_argument(
        "--allow-hosts", type=host_list, default=(), metavar="H,...", help="the browser reaches only these hosts"
    )
    p.add_argument("--chromium", help="Chromium binary (default: the system one)")
    p.add_argument(
        "--load-timeout", type=number(0, unit="seconds"), default=60.0, help="page-load timeout, s (default 60)"
    )
    p.add_argument(
        "--settle", type=number(0, unit="seconds"), default=3.0, help="wait after load before capturing, s (default 3)"
    )
    p.add_argument(
        "--distill-timeout", type=number(0, unit="seconds"), default=20.0, help="distiller time limit, s (default 20)"
    )
    p.add_argument(
        "--distill-settle",
        type=number(0, unit="seconds"),
        default=2.0,
        help="the distilled text must stay unchanged this long, s (default 2)",
    )
    p.add_argument(
        "--entry-timeout",
        type=number(0, unit="seconds"),
        default=180.0,
        help="hard deadline per entry, s (default 180)",
    )
    p.add_argument(
        "--window",
        type=size(1, example="1280x5000"),
        default=(1280, 5000),
        help="desktop original viewport (1280x5000)",
    )
    p.add_argument(
        "--distilled-window",
        type=size(1, example="1280x5000"),
        default=(640, 5000),
        help="desktop distilled viewport (640x5000)",
    )
    p.add_argument("--shard", default=None, help=argparse.SUPPRESS)  # K/N: worker K of --jobs N
    p.set_defaults(run=run_distill)

    r = sub.add_parser(
        "derive-features",
        help="aggregated raw features (JSON/JSONL/marshal) -> derived",
        description="Recompute the 48 derived features from aggregated raw features "
        "(calculate_derived_features.py). Refuses to overwrite --out.",
    )
    r.add_argument("--core", required=True, type=Path, help="aggregated raw features, e.g. DIR/feature.jsonl")
    r.add_argument("--out", required=True, type=Path)
    r.set_defaults(run=run_rederive)

    from . import checks, csvout, readerable_cli, score_cli

    csvout.add_parser(sub)
    score_cli.add_parser(sub)
    readerable_cli.add_parser(sub)
    checks.add_parsers(sub)


def _entries(args, out):
    from .store import read_url_lines

    if args.urls:
        text, source = "\n".join(args.urls), "argv"
    elif args.urls_file:
        try:
            text = args.urls_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise _error(f"cannot read {args.urls_file}: {getattr(exc, 'strerror', None) or exc}") from None
        source = str(args.urls_file)
    else:
        return None
    lines, warnings = read_url_lines(text, source)
    for w in warnings:
        print("warning: " + w, file=sys.stderr)
    return lines


def run_distill(args) -> int:
    from .index import write_index
    from .options import DistillOptions
    from .run import Runner
    from .store import REGISTER, OutDir

    out: Path = args.out
    if args.write_index:
        if not out.is_dir():
            raise _error(f"{out}: no such directory")
        counts = write_index(out, raw_jsonl=args.raw_jsonl)
        print(", ".join(f"{k}: {v}" for k, v in counts.items()))
        return 0
    if args.load_mhtml and (args.save_mhtml or args.resume):
        raise _error("--load-mhtml cannot be combined with --save-mhtml or --resume")
    lines = _entries(args, out)
    if args.load_mhtml:
        if not out.is_dir():
            raise _error(f"--load-mhtml needs an existing --out: {out} does not exist")
    elif lines is None:
        raise _error("give URLs or --urls-file")
    elif args.resume:
        if not out.is_dir():
            raise _error(f"--resume: {out} does not exist")
    elif out.exists() and args.shard is None:
        if not args.force:
            raise _error(f"{out} exists (use --resume to continue or --force to start afresh)")
        if any(out.iterdir()) and not (out / REGISTER).exists():
            raise _error(f"--force: {out} is not a distill output directory; not deleting it")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    store = OutDir(out)
    if lines is not None:
        entries = store.register(lines)
    else:
        entries = sorted(store.registered().values(), key=lambda e: e.index)
    if not entries:
        raise _error("no valid URLs to process")
    if args.jobs > 1 and args.shard is None:
        return _spawn_jobs(args, entries)
    if args.shard:
        k, n = (int(x) for x in args.shard.split("/"))
        entries = [e for e in entries if e.index % n == k]
    opts = DistillOptions(
        out=str(out),
        mobile_device=args.emulate_mobile,
        save_mhtml=args.save_mhtml,
        load_mhtml=args.load_mhtml,
        skip_distillation=args.skip_distillation,
        desktop_distillable_only=args.desktop_distillable_only,
        distiller=args.distiller,
        tabs=args.tabs,
        load_timeout=args.load_timeout,
        settle=args.settle,
        distill_timeout=args.distill_timeout,
        distill_settle=args.distill_settle,
        entry_timeout=args.entry_timeout,
        desktop_size=args.window,
        desktop_distilled_size=args.distilled_window,
        allow_hosts=args.allow_hosts,
        chromium=args.chromium,
    )
    from ..browser.chromium import ChromiumNotFound

    try:
        summary = asyncio.run(Runner(opts, entries).run())
    except ChromiumNotFound as exc:
        raise _error(str(exc)) from None
    print(summary.line())
    return 1 if summary.failed else 0


def _spawn_jobs(args, entries) -> int:
    """--jobs N: N worker processes on disjoint entries (index mod N); each has its own Chromium."""
    import subprocess

    argv = [a for a in args.argv if a not in ("--force", "--resume")]
    procs = [
        subprocess.Popen([sys.executable, "-m", "boxcrawl", *argv, "--shard", f"{k}/{args.jobs}", "--resume"])
        for k in range(args.jobs)
    ]
    codes = [p.wait() for p in procs]
    return max(codes)


def run_rederive(args) -> int:
    from .index import RederiveError, rederive

    try:
        n = rederive(args.core, args.out)
    except (RederiveError, OSError, ValueError) as exc:
        raise _error(str(exc)) from None
    print(f"{n} entries -> {args.out}")
    return 0
