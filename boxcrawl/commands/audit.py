"""`boxcrawl audit DIR [--json] [--min-ink-share S]`."""

from __future__ import annotations

import argparse
import json
import sys

from rich.console import Console
from rich.table import Table

from ..audit.report import AuditError, AuditReport, audit
from .argtypes import number

SHOWN_FAILING = 20


def register(sub) -> None:
    p = sub.add_parser(
        "audit",
        help="check every sample token against the pixels under its box",
        description="For a dataset (boxcrawl's, a folder of WebDataset shards with token "
        "boxes, or img/ + csv/): the share of sample tokens with ink under their "
        "box, the samples that fail (more than 10 % without ink), and for "
        "boxcrawl datasets the hidden reasons and the offpage share.",
    )
    p.add_argument("out", metavar="DIR")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.add_argument(
        "--min-ink-share",
        type=number(0, maximum=1),
        default=None,
        metavar="S",
        help="exit 1 when the ink share is below S (e.g. 0.995)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        report = audit(args.out)
    except AuditError as exc:
        print(f"boxcrawl audit: error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        _print(report)
    if args.min_ink_share is not None and (report.ink_share or 0.0) < args.min_ink_share:
        return 1
    return 0


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.2f} %"


def _print(r: AuditReport) -> None:
    console = Console()
    t = Table(title=f"boxcrawl audit: {r.source}", show_header=False)
    rows = [
        ("samples", r.samples),
        ("sample tokens", r.tokens),
        ("tokens with ink", _pct(r.ink_share)),
        ("failing samples (> 10 % without ink)", len(r.failing)),
        ("blank samples (> 50 %)", r.blank),
    ]
    if r.pages is not None:
        rows += [("pages", r.pages), ("page tokens", r.page_tokens), ("offpage share", _pct(r.offpage_share))]
        if r.removed_by_check is not None:
            rows.append(("removed by the pipeline's ink check", r.removed_by_check))
    for name, value in rows:
        t.add_row(name, str(value))
    console.print(t)
    if r.hidden_reasons:
        h = Table(title="hidden tokens by reason")
        h.add_column("reason")
        h.add_column("tokens", justify="right")
        h.add_column("share of page tokens", justify="right")
        for reason, n in sorted(r.hidden_reasons.items(), key=lambda kv: -kv[1]):
            h.add_row(reason, str(n), _pct(n / r.page_tokens))
        console.print(h)
    if r.failing:
        f = Table(title=f"failing samples (first {min(len(r.failing), SHOWN_FAILING)} of {len(r.failing)})")
        for col in ("key", "tokens", "without ink", "url"):
            f.add_column(col)
        for v in r.failing[:SHOWN_FAILING]:
            f.add_row(v.key, str(v.tokens), str(v.no_ink), v.url)
        console.print(f)
