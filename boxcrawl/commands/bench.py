"""`bench`: the strict browser floor against the full pipeline, on local doc sites."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .argtypes import whole_number
from .errors import CLIError
from .options import add_chromium


def register(sub) -> None:
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
    bench.add_argument(
        "--distributors",
        action="store_true",
        help="instead: a sharded render of the same pages by 1 and 2 local processes and by Ray with 2 CPUs "
        "(needs the [ray] extra)",
    )
    add_chromium(bench)
    bench.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    bench.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..bench.report import print_bench, print_soak
    from ..bench.run import BenchError, bench, soak
    from ..browser.chromium import ChromiumNotFound, find_chromium

    def report(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    try:
        find_chromium(args.chromium)
        if args.distributors:
            from ..bench.distributors import bench_distributors
            from ..bench.report import print_distributors

            result = bench_distributors(args.pages, args.tabs, args.chromium, report)
            print_distributors(result)
            if args.json:
                args.json.write_text(json.dumps(result, indent=2))
            return 0
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
