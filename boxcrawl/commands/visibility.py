"""`boxcrawl eval-visibility SUITE_DIR`: accuracy and cost of each visibility method."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..config import VISIBILITY_METHODS
from .argtypes import whole_number
from .errors import CLIError
from .options import add_chromium


def register(sub) -> None:
    p = sub.add_parser(
        "eval-visibility",
        help="accuracy and cost of each visibility method on a suite and on doc pages",
        description="Render every page of SUITE_DIR (pages whose words are listed in <!-- visible: ... --> and "
        "<!-- hidden: ... --> comments) with each method and score every token; then time each "
        "method on N python3-doc pages served on 127.0.0.1, against --visibility none.",
    )
    p.add_argument("suite", type=Path, metavar="SUITE_DIR")
    p.add_argument(
        "--methods",
        default=",".join(VISIBILITY_METHODS),
        metavar="M,...",
        help=f"comma-separated, from {', '.join(VISIBILITY_METHODS)}; a '+ink' suffix also "
        "tightens boxes to the ink (default: all)",
    )
    p.add_argument(
        "--docs", type=whole_number(0), default=20, metavar="N", help="python3-doc pages to time (default 20; 0 = none)"
    )
    p.add_argument(
        "--tabs",
        type=whole_number(1),
        default=1,
        metavar="N",
        help="suite pages rendered at once (default 1; doc pages always run one at a time)",
    )
    add_chromium(p)
    p.add_argument("--errors", action="store_true", help="list every wrongly judged word")
    p.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..browser.chromium import ChromiumNotFound, find_chromium
    from ..localsite import ServerDidNotStart
    from ..visibility.evaluate import evaluate, format_table
    from ..visibility.truth import SuiteError

    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    bad = [m for m in methods if m.removesuffix("+ink") not in VISIBILITY_METHODS]
    if bad or not methods:
        raise CLIError(f"unknown method {bad[0] if bad else '(none)'}: choose from {', '.join(VISIBILITY_METHODS)}")
    if "none" not in methods and args.docs:
        methods.append("none")  # the overhead needs its baseline, measured in the same run
    try:
        find_chromium(args.chromium)
        results = evaluate(
            args.suite,
            methods,
            args.docs,
            args.chromium,
            lambda line: print(line, file=sys.stderr, flush=True),
            args.tabs,
        )
    except (SuiteError, ChromiumNotFound, ServerDidNotStart) as exc:
        raise CLIError(str(exc)) from None
    print(format_table(results))
    for m, r in results.items():
        if r.ink_measured:
            print(
                f"{m}: ink boxes differ from layout boxes by > 2 px for "
                f"{100 * r.ink_differ / r.ink_measured:.1f} % of {r.ink_measured} visible doc-page tokens"
            )
    if args.errors:
        for m, r in results.items():
            for e in r.errors:
                print(f"[{m}] {e}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    m: {
                        "accuracy": r.score.accuracy,
                        "precision": r.score.precision,
                        "recall": r.score.recall,
                        "tp": r.score.tp,
                        "fp": r.score.fp,
                        "tn": r.score.tn,
                        "fn": r.score.fn,
                        "unlabeled": r.score.unlabeled,
                        "suite_seconds": r.suite_seconds,
                        "doc_seconds": r.doc_seconds,
                        "doc_stage_ms": r.doc_stage_ms,
                        "ink_checked": r.ink_checked,
                        "ink_differ": r.ink_differ,
                        "ink_measured": r.ink_measured,
                        "errors": r.errors,
                    }
                    for m, r in results.items()
                },
                indent=2,
            )
        )
    return 0
