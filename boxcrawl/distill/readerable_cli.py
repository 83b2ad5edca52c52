"""`boxcrawl readerable`: Mozilla's isProbablyReaderable on HTML files or a distill directory."""

from __future__ import annotations

import json
from pathlib import Path

from ..argtypes import number, whole_number


def add_parser(sub) -> None:
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
    p.set_defaults(run=run)


def run(args) -> int:
    from dataclasses import replace

    from .cli import _error
    from .readerable import PRESETS, readerable

    options = PRESETS[args.preset]
    if args.min_content_length is not None:
        options = replace(options, min_content_length=args.min_content_length)
    if args.min_score is not None:
        options = replace(options, min_score=args.min_score)
    for path in args.files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise _error(f"cannot read {path}: {exc.strerror}") from None
        r = readerable(data, options)
        print(
            json.dumps(
                {"file": str(path), "readerable": r.readerable, "score": round(r.score, 4), "counted": r.counted}
            )
        )
    return 0
