"""`boxcrawl` command line: one module per family of commands.

Each module has `register(sub)`, which adds its subcommands to the parser and gives each one a
`run(args) -> exit code` (`set_defaults(run=...)`). `main` only parses and dispatches. Commands
import their stage lazily, inside `run`, so `boxcrawl --help` stays fast and a missing extra only
breaks the command that needs it, with one line naming the extra (a family's `EXTRA`).
"""

from __future__ import annotations

import argparse
import sys

from .. import __version__
from ..extras import MissingExtra, hint
from . import audit, bench, crawl, distill, fleet, label, show, train, visibility
from .errors import CLIError

# in the order `boxcrawl --help` lists them
FAMILIES = (crawl, fleet, bench, distill, visibility, show, audit, label, train)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="boxcrawl",
        description="Render web pages in headless Chromium and write (screenshot, token boxes) datasets.",
    )
    parser.add_argument("--version", action="version", version=f"boxcrawl {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for family in FAMILIES:
        family.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.argv = list(argv) if argv is not None else sys.argv[1:]  # for commands that re-run themselves
    try:
        return args.run(args)
    except CLIError as exc:
        print(f"boxcrawl {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:  # an optional part that is not installed
        if (missing := hint(exc, getattr(sys.modules[args.run.__module__], "EXTRA", None))) is None:
            raise
        print(f"boxcrawl {args.command}: error: {missing}", file=sys.stderr)
        return 2
    except MissingExtra as exc:
        print(f"boxcrawl {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


__all__ = ["CLIError", "build_parser", "main"]
