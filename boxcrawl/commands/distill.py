"""The distillability commands: `distill` and the offline tools that work on its output directory
(derive-features, features-csv, distill-score, readerable, check-derived, check-distilled-mhtml, mhtml-corpus)."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from .argtypes import host_list, number, size, whole_number
from .errors import CLIError, exit_code
from .options import (
    add_chromium,
    add_opt_out_options,
    add_proxy,
    make_out_dir,
    opt_out_config,
    refuse_non_folder,
    url_list,
)

if TYPE_CHECKING:
    from ..urllist import UrlLine

# Chrome's --reader-mode-heuristics values; `score_record` in boxcrawl/distill/scoring.py implements each one.
# Spelled out here so that building the parser does not import the model code.
HEURISTICS = ("adaboost", "allarticles", "opengraph", "alwaystrue", "none")


EXTRA = "distill"  # what `pip install 'boxcrawl[distill]'` adds for these commands


def _mobile_window(text: str) -> tuple[int, int] | None:
    return None if text == "device" else size(1, example="400x800")(text)


def register(sub: argparse._SubParsersAction) -> None:
    from ..distill.options import DEFAULT_DEVICE, DEVICES, ORIGINAL_MOBILE_WINDOW

    p = sub.add_parser(
        "distill",
        help="original + distilled screenshots and page features (reader-mode data)",
        description="Screenshot each page and its distilled (reader-mode) view, extract the raw, "
        "derived and Chrome v1 features; resumable.",
    )
    p.add_argument("urls", nargs="*", metavar="URL", help="URLs (take precedence over --urls-file)")
    p.add_argument("--out", required=True, type=Path, help="output directory")
    add_opt_out_options(p)
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
    add_proxy(p)
    add_chromium(p)
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
        help="desktop original viewport (default 1280x5000)",
    )
    p.add_argument(
        "--distilled-window",
        type=size(1, example="1280x5000"),
        default=(640, 5000),
        help="desktop distilled viewport (default 640x5000)",
    )
    p.add_argument(
        "--mobile-window",
        type=_mobile_window,
        default=ORIGINAL_MOBILE_WINDOW,
        metavar="WxH|device",
        help="with --emulate-mobile: the viewport, original and distilled (default 400x800, the original's "
        "window; `device` for the device's own, e.g. 360x640 for Nexus 5)",
    )
    p.add_argument(
        "--user-agent",
        metavar="UA",
        help="the User-Agent to send (default: Chromium's own, or the emulated device's); the agent token "
        "is appended unless it is in it already",
    )
    p.add_argument("--shard", default=None, help=argparse.SUPPRESS)  # K/N: worker K of --jobs N
    p.set_defaults(run=run_distill)

    p = sub.add_parser(
        "derive-features",
        help="aggregated raw features (JSON/JSONL/marshal) -> derived",
        description="Recompute the 48 derived features from aggregated raw features "
        "(calculate_derived_features.py). Refuses to overwrite --out.",
    )
    p.add_argument("--core", required=True, type=Path, help="aggregated raw features, e.g. DIR/feature.jsonl")
    p.add_argument("--out", required=True, type=Path)
    p.set_defaults(run=run_rederive)

    p = sub.add_parser(
        "features-csv",
        help="derived features + labels -> training CSVs (write_features_csv)",
        description="`boxcrawl features-csv` (write_features_csv.py): derived features + labels -> training CSVs.",
    )
    p.add_argument("--features", required=True, type=Path, help="aggregated DIR/feature-derived")
    p.add_argument("--out", required=True, type=Path, help="main CSV; per-feature/group files go beside it")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--marked", type=Path, help="a labeling archive (archive/archive-*.json) or labelled index")
    g.add_argument("--distilled", type=Path, help="aggregated DIR/dfeature-derived (long-article labels)")
    p.add_argument(
        "--min-bytes", type=whole_number(0), default=1000, help="--distilled: long-article threshold (default 1000)"
    )
    p.add_argument(
        "--measure",
        choices=("article", "viewer"),
        default="article",
        help="--distilled: bytes of the article alone (default; the same for both distillers) or of the "
        "reader view's whole innerText, as the original measured it",
    )
    p.add_argument("--drop-id-sin", action="store_true", help="leave out the id and sin columns")
    p.add_argument("--force", action="store_true", help="overwrite CSVs of an earlier run with the same --out")
    p.set_defaults(run=run_features_csv)

    p = sub.add_parser(
        "distill-score",
        help="Chrome's reader-mode decision from page features, explained",
        description="`boxcrawl distill-score`: Chrome's decision on pages from their features, with the reason.",
    )
    p.add_argument("inputs", nargs="+", type=Path, metavar="DIR|FILE")
    p.add_argument(
        "--distillable-model",
        default="chrome:distillable",
        help="a .bin AdaBoostProto, a .json model, or chrome:distillable (default)",
    )
    p.add_argument("--long-model", default="chrome:long-article", help="default chrome:long-article")
    p.add_argument(
        "--vector",
        choices=("js", "native"),
        default="js",
        help="v1 from the JS-derived features (default) or from the Blink-equivalent native record",
    )
    p.add_argument(
        "--heuristics",
        choices=HEURISTICS,
        default="adaboost",
        help="Chrome's --reader-mode-heuristics: adaboost (default), allarticles (the same models, mobile-friendly "
        "pages never rejected), opengraph, alwaystrue, none",
    )
    p.add_argument(
        "--reject-mobile-friendly",
        action="store_true",
        help="with adaboost, also answer no for mobile-friendly pages (Chrome until about 2017; Android's "
        "reader mode today)",
    )
    p.add_argument("--no-explain", action="store_true", help="leave out the per-feature contributions")
    p.set_defaults(run=run_distill_score)

    p = sub.add_parser(
        "readerable",
        help="Mozilla isProbablyReaderable on HTML files (Readability's rule)",
        description="Mozilla Readability's isProbablyReaderable with JS semantics. Prints one "
        "JSON line per file: readerable, score, counted candidates.",
    )
    p.add_argument("files", nargs="+", type=Path, metavar="HTML")
    p.add_argument(
        "--preset",
        choices=("mozilla", "chrome", "chrome-low"),
        default="mozilla",
        help="thresholds: mozilla 140/20 (default), chrome 200/100, chrome-low 160/50",
    )
    p.add_argument("--min-content-length", type=whole_number(0), help="override the preset's minContentLength")
    p.add_argument("--min-score", type=number(0), help="override the preset's minScore")
    p.set_defaults(run=run_readerable)

    p = sub.add_parser(
        "check-derived",
        help="our JS-derived v1 vs the native one (ours or Chrome's dump)",
        description="Compare the v1 vector derived from the JS features with the native record "
        "(Blink-equivalent collector, or Chrome's own dump where a build logs it).",
    )
    p.add_argument("--features", required=True, type=Path, help="aggregated DIR/feature-derived (or mfeature-)")
    p.add_argument("--from-mhtml", action="store_true", help="compare only the URL-independent v1NoPath columns")
    p.set_defaults(run=run_check_derived)

    p = sub.add_parser("check-distilled-mhtml", help="distilled text from the live page vs from its MHTML")
    p.add_argument("--dir", required=True, type=Path)
    p.set_defaults(run=run_check_mhtml)

    p = sub.add_parser("mhtml-corpus", help="entry ids on stdin -> DOM Distiller eval corpus records on stdout")
    p.add_argument("--dir", type=Path, default=Path("."), help="the distill directory (default: current)")
    p.set_defaults(run=run_mhtml_corpus)


def _url_lines(args: argparse.Namespace) -> list[UrlLine] | None:
    """The URLs given as arguments (they take precedence) or in --urls-file; None when neither was given."""
    if not args.urls and not args.urls_file:
        return None
    return url_list(args.urls, None if args.urls else args.urls_file)


def run_distill(args: argparse.Namespace) -> int:
    import asyncio

    from ..browser.chromium import ChromiumNotFound
    from ..distill.index import write_index
    from ..distill.options import DistillOptions
    from ..distill.run import Runner
    from ..distill.store import REGISTER, OutDir

    out: Path = refuse_non_folder(args.out)
    if args.write_index:
        if not out.is_dir():
            raise CLIError(f"{out}: no such directory")
        counts = write_index(out, raw_jsonl=args.raw_jsonl)
        print(", ".join(f"{k}: {v}" for k, v in counts.items()))
        return 0
    if args.load_mhtml and (args.save_mhtml or args.resume):
        raise CLIError("--load-mhtml cannot be combined with --save-mhtml or --resume")
    lines = _url_lines(args)
    if args.load_mhtml:
        if not out.is_dir():
            raise CLIError(f"--load-mhtml needs an existing --out: {out} does not exist")
    elif lines is None:
        raise CLIError("give URLs or --urls-file")
    elif args.resume:
        if not out.is_dir():
            raise CLIError(f"--resume: {out} does not exist")
    elif out.exists() and args.shard is None:  # a --jobs worker shares the directory its parent prepared
        if not args.force:
            raise CLIError(f"{out} exists (use --resume to continue or --force to start afresh)")
        if any(out.iterdir()) and not (out / REGISTER).exists():
            raise CLIError(f"--force: {out} is not a distill output directory; not deleting it")
        shutil.rmtree(out)
    make_out_dir(out)
    store = OutDir(out)
    if lines is not None:
        entries = store.register(lines)
    else:
        entries = sorted(store.registered().values(), key=lambda e: e.index)
    if not entries:
        raise CLIError("no valid URLs to process")
    if args.jobs > 1 and args.shard is None:
        return _spawn_jobs(args)
    if args.shard:
        k, n = (int(x) for x in args.shard.split("/"))
        entries = [e for e in entries if e.index % n == k]
    opts = DistillOptions(
        out=str(out),
        mobile_device=args.emulate_mobile,
        mobile_size=args.mobile_window,
        user_agent=args.user_agent,
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
        proxy=args.proxy,
        chromium=args.chromium,
        optout=opt_out_config(args),
    )
    try:
        summary = asyncio.run(Runner(opts, entries).run())
    except ChromiumNotFound as exc:
        raise CLIError(str(exc)) from None
    print(summary.line())
    return exit_code(summary.failed)


def _spawn_jobs(args: argparse.Namespace) -> int:
    """--jobs N: N worker processes on disjoint entries (index mod N); each has its own Chromium.
    The parent has registered the entries, so each worker re-runs this command with --resume."""
    import subprocess

    argv = [a for a in args.argv if a not in ("--force", "--resume")]
    procs = [
        subprocess.Popen([sys.executable, "-m", "boxcrawl", *argv, "--shard", f"{k}/{args.jobs}", "--resume"])
        for k in range(args.jobs)
    ]
    codes = [p.wait() for p in procs]
    return max(codes)


def run_rederive(args: argparse.Namespace) -> int:
    from ..distill.index import RederiveError, rederive

    try:
        n = rederive(args.core, args.out)
    except (RederiveError, OSError, ValueError) as exc:
        raise CLIError(str(exc)) from None
    print(f"{n} entries -> {args.out}")
    return 0


def run_features_csv(args: argparse.Namespace) -> int:
    from ..distill.csvout import CsvError, labelled_rows, write_csvs
    from ..distill.store import read_json

    try:
        features = read_json(args.features)
        marked = read_json(args.marked) if args.marked else None
        distilled = read_json(args.distilled) if args.distilled else None
    except (OSError, ValueError) as exc:
        raise CLIError(f"cannot read input: {exc}") from None
    if isinstance(marked, dict):  # an archive object rather than a plain list
        marked = marked.get("entries") or marked.get("data") or []

    def warn(message: str) -> None:
        print(message, file=sys.stderr)

    rows = labelled_rows(features, marked, distilled, args.min_bytes, args.measure, warn)
    try:
        written = write_csvs(args.out, rows, args.drop_id_sin, warn, overwrite=args.force)
    except CsvError as exc:
        raise CLIError(str(exc)) from None
    ones = sum(1 for label, _ in rows if label)
    print(f"{len(rows)} labelled entries ({ones} positive) -> {args.out} and {len(written) - 1} more CSVs")
    return 0


def _derived_records(path: Path) -> list[dict]:
    """A distill directory's `<i>.feature-derived` records in entry order, or an aggregated JSON file's."""
    from ..distill.store import read_json

    if path.is_dir():
        files = sorted(
            (p for p in path.glob("*.feature-derived") if p.name.split(".")[0].isdigit()),
            key=lambda p: int(p.name.split(".")[0]),
        )
        return [read_json(p) for p in files]
    data = read_json(path)
    return data if isinstance(data, list) else [data]


def run_distill_score(args: argparse.Namespace) -> int:
    """One JSON line per page on stdout; a record that cannot be scored gets an `error` line, not an exit."""
    from ..distill.scoring import ModelError, load_scorer, score_record

    try:
        scorer = load_scorer(args.distillable_model, args.long_model)
    except ModelError as exc:
        raise CLIError(str(exc)) from None
    yes = total = 0
    for path in args.inputs:
        if not path.exists():
            raise CLIError(f"{path}: no such file or directory")
        try:
            records = _derived_records(path)
        except ValueError as exc:
            raise CLIError(f"{path}: not JSON ({exc})") from None
        for record in records:
            try:
                r = score_record(
                    record, scorer, args.vector, args.heuristics, args.reject_mobile_friendly, not args.no_explain
                )
            except KeyError as exc:
                print(json.dumps({"index": record.get("index"), "url": record.get("url"), "error": str(exc)}))
                continue
            total += 1
            yes += bool(r["decision"])
            print(json.dumps(r))
    print(f"{yes}/{total} pages would get reader mode", file=sys.stderr)
    return 0


def run_readerable(args: argparse.Namespace) -> int:
    from ..distill.readerable import PRESETS, readerable

    options = PRESETS[args.preset]
    if args.min_content_length is not None:
        options = replace(options, min_content_length=args.min_content_length)
    if args.min_score is not None:
        options = replace(options, min_score=args.min_score)
    for path in args.files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CLIError(f"cannot read {path}: {exc.strerror}") from None
        r = readerable(data, options)
        print(
            json.dumps(
                {"file": str(path), "readerable": r.readerable, "score": round(r.score, 4), "counted": r.counted}
            )
        )
    return 0


def run_check_derived(args: argparse.Namespace) -> int:
    from ..distill.checks import compare_derived
    from ..distill.store import read_json

    try:
        records = read_json(args.features)
    except (OSError, ValueError) as exc:
        raise CLIError(f"cannot read {args.features}: {exc}") from None
    wrong, compared, skipped, messages = compare_derived(records, args.from_mhtml)
    for m in messages:
        print(m)
    print(f"{wrong}/{compared} have mismatching derived features, {skipped} were skipped.")
    return 1 if wrong else 0


def run_check_mhtml(args: argparse.Namespace) -> int:
    from ..distill.checks import compare_distilled

    if not args.dir.is_dir():
        raise CLIError(f"{args.dir}: no such directory")
    different, total, other, messages = compare_distilled(args.dir)
    for m in messages:
        print(m)
    print(
        f"{different}/{total} have different distilled content from mhtml"
        + (f", {other} were distilled by different distillers and not compared" if other else "")
    )
    return 1 if different else 0


def run_mhtml_corpus(args: argparse.Namespace) -> int:
    from ..distill.checks import corpus_record

    written = 0
    for entry in sys.stdin.read().split():
        try:
            sys.stdout.write(corpus_record(args.dir, entry))
            written += 1
            sys.stderr.write(".")
        except ValueError as exc:  # corpus_record's reason to skip this entry
            sys.stderr.write(f"\n{entry}: SKIPPED: {exc}\n")
    sys.stderr.write(f"\n{written} records\n")
    return 0
