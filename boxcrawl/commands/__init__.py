"""`boxcrawl` command line: one module per family of commands.

Each module has `register(sub)`, which adds its subcommands to the parser and gives each one a
`run(args) -> exit code` (`set_defaults(run=...)`). `main` only parses and dispatches. Commands
import their stage lazily, inside `run`, so `boxcrawl --help` stays fast and a missing extra only
breaks the command that needs it, with one line naming the extra (a family's `EXTRA`).
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from typing import Any

from .. import __version__
from ..extras import MissingExtra, hint
from . import audit, bench, crawl, distill, fleet, label, show, train, visibility
from .errors import INTERRUPTED, USAGE, CLIError

# in the order `boxcrawl --help` lists them
FAMILIES = (crawl, fleet, bench, distill, visibility, show, audit, label, train)
_CHOICE = re.compile(r"invalid choice: '(?P<given>[^']*)' \(choose from (?P<choices>.*)\)$")


class Parser(argparse.ArgumentParser):
    """argparse with the error a careful CLI gives: one line, with a "did you mean" when the mistake is
    close to something valid, and where to read more; not the whole usage first. Subcommands inherit it.
    No abbreviated options: `--head` would be `--header` today and ambiguous when an option is added."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str):  # type: ignore[override]
        self.exit(USAGE, f"{self.prog}: error: {message}{self._suggestion(message)} (see {self.prog} --help)\n")

    def _suggestion(self, message: str) -> str:
        if found := _CHOICE.search(message):
            choices = re.findall(r"'([^']*)'", found["choices"])
            close = difflib.get_close_matches(found["given"], choices, n=1, cutoff=0.6)
            return f"; did you mean {close[0]!r}?" if close else ""
        return ""

    def unknown(self, extras: list[str]) -> None:
        """Arguments nobody took: name them, and the option each was probably meant to be."""
        options = [o for action in self._actions for o in action.option_strings if o.startswith("--")]
        hints = {}
        for extra in extras:
            flag = extra.split("=", 1)[0]
            if flag.startswith("-") and (close := difflib.get_close_matches(flag, options, n=1, cutoff=0.7)):
                hints[flag] = close[0]
        if len(hints) == 1:
            hint = f"; did you mean {next(iter(hints.values()))}?"
        else:
            hint = "".join(f"; {flag}: did you mean {close}?" for flag, close in hints.items())
        self.error(f"unrecognized arguments: {' '.join(extras)}{hint}")


def build_parser() -> Parser:
    parser = Parser(
        prog="boxcrawl",
        description="Render web pages in headless Chromium and write (screenshot, token boxes) datasets.",
    )
    parser.add_argument("--version", action="version", version=f"boxcrawl {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for family in FAMILIES:
        family.register(sub)
    return parser


def subcommands(parser: argparse.ArgumentParser) -> dict[str, Parser]:
    """Each subcommand's own parser, by name."""
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    if extras:  # reported by the subcommand's parser, which knows its own options
        subcommands(parser)[args.command].unknown(extras)
    args.argv = list(argv) if argv is not None else sys.argv[1:]  # for commands that re-run themselves
    try:
        return args.run(args)
    except CLIError as exc:
        print(f"boxcrawl {args.command}: error: {exc}", file=sys.stderr)
        return USAGE
    except ModuleNotFoundError as exc:  # an optional part that is not installed
        if (missing := hint(exc, getattr(sys.modules[args.run.__module__], "EXTRA", None))) is None:
            raise
        print(f"boxcrawl {args.command}: error: {missing}", file=sys.stderr)
        return USAGE
    except MissingExtra as exc:
        print(f"boxcrawl {args.command}: error: {exc}", file=sys.stderr)
        return USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return INTERRUPTED


__all__ = ["CLIError", "build_parser", "main", "subcommands"]
