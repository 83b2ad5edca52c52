"""The command line as users see it: every `--help` text and the one-line errors of bad input are
pinned in tests/data/cli_surface.txt, so moving command code around cannot change them by accident.
After an intended change, rewrite the file with BOXCRAWL_UPDATE_CLI_SURFACE=1 and review its diff."""

import argparse
import contextlib
import io
import os
from pathlib import Path

from boxcrawl.commands import build_parser, main

SNAPSHOT = Path(__file__).parent / "data" / "cli_surface.txt"

# (argv, why it is wrong): each must exit 2 with a message, before any page or server is touched
BAD_INPUT = [
    ["crawl", "http://127.0.0.1:9/"],
    ["crawl", "http://127.0.0.1:9/", "--out", "x", "--tabs", "0"],
    ["render", "http://127.0.0.1:9/", "--out", "x", "--viewport", "512"],
    ["crawl", "http://127.0.0.1:9/", "--out", "x", "--scope", "site"],
    ["render", "http://127.0.0.1:9/", "--out", "x", "--image-format", "gif"],
    ["render", "--out", "x", "ftp://example.org/"],
    ["render", "--out", "x", "--urls-file", "urls.parquet", "--shard-urls", "0"],
    ["render", "--out", "x", "--urls-file", "urls.parquet", "--save-columns", "caption"],
    ["crawl", "http://127.0.0.1:9/", "--out", "x", "--frontier", "postgres://db"],
    ["worker", "--out", "x", "--frontier", "postgres://db"],
    ["status"],
    ["retry-failed"],
    ["distill", "--out", "x"],
    ["nosuch"],
]


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def surface() -> str:
    os.environ["COLUMNS"] = "100"  # argparse wraps help to the terminal's width
    parser = build_parser()
    parts = ["$ boxcrawl --help\n" + parser.format_help()]
    for name, sub in sorted(subcommands(parser).items()):
        parts.append(f"$ boxcrawl {name} --help\n" + sub.format_help())
    for argv in BAD_INPUT:
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                code = main(argv)
            except SystemExit as exc:
                code = exc.code
        lines = err.getvalue().rstrip("\n").splitlines()
        parts.append(f"$ boxcrawl {' '.join(argv)}\nexit {code}: {lines[-1] if lines else ''}\n")
    return "\n".join(parts)


def test_help_texts_and_error_lines_are_unchanged(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # "--out x" must never be created in the repo
    monkeypatch.setenv("COLUMNS", "100")
    now = surface()
    if os.environ.get("BOXCRAWL_UPDATE_CLI_SURFACE"):
        SNAPSHOT.write_text(now)
    assert now == SNAPSHOT.read_text(), "the CLI surface changed: see the module docstring"
    for argv in BAD_INPUT:
        assert f"$ boxcrawl {' '.join(argv)}\nexit 2: " in now, argv
