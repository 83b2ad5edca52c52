"""Every subcommand rejects a bad flag value with exit code 2 and one line naming the flag, before doing any
work: no usage dump first, a "did you mean" where the mistake is close to something valid."""

import argparse
import sys

import pytest

from boxcrawl.commands import build_parser, main, subcommands

BAD_FLAGS = [
    (["crawl", "http://127.0.0.1/", "--out", "o", "--tabs", "0"], "--tabs", "expected a number >= 1, got 0"),
    (["render", "http://127.0.0.1/", "--out", "o", "--viewport", "10x10"], "--viewport", "at least 64x64"),
    (["render", "http://127.0.0.1/", "--out", "o", "--scale", "0"], "--scale", "expected a number > 0"),
    (["render", "http://127.0.0.1/", "--out", "o", "--shard-pages", "x"], "--shard-pages", "expected a whole number"),
    (
        ["worker", "--out", "o", "--frontier", "redis://127.0.0.1:1/0", "--lease-seconds", "0.1"],
        "--lease-seconds",
        "expected a number >= 0.5",
    ),
    (["render", "http://127.0.0.1/", "--out", "o", "--settle", "-0.1"], "--settle", "expected a number >= 0"),
    (["crawl", "http://127.0.0.1/", "--out", "o", "--settle-max", "soon"], "--settle-max", "expected a number"),
    (["audit", "o", "--min-ink-share", "1.5"], "--min-ink-share", "expected a number <= 1"),
    (["bench", "--pages", "0"], "--pages", "expected a number >= 1"),
    (["bench-frontier", "--ops", "5"], "--ops", "expected a number >= 100"),
    (["distill", "--out", "o", "--window", "1280"], "--window", "expected WIDTHxHEIGHT like 1280x5000"),
    (["distill", "--out", "o", "--settle", "-1"], "--settle", "expected seconds >= 0"),
    (["train", "--csv", "x.csv", "--model", "distillable", "--folds", "0"], "--folds", "expected a number >= 1"),
    (["eval-visibility", "suite", "--docs", "-3"], "--docs", "expected a number >= 0"),
    (["features-csv", "--min-bytes", "many"], "--min-bytes", "expected a whole number"),
    (["readerable", "x.html", "--min-score", "-1"], "--min-score", "expected a number >= 0"),
    (["render", "http://127.0.0.1/", "--out", "o", "--viewport", "512"], "--viewport", "expected WIDTHxHEIGHT"),
    (["crawl", "http://127.0.0.1/", "--out", "o", "--scope", "site"], "--scope", "invalid choice: 'site'"),
    (["render", "http://127.0.0.1/", "--out", "o", "--image-format", "gif"], "--image-format", "invalid choice"),
    (["render", "http://127.0.0.1/", "--out", "o", "--header", "Host: x"], "--header", "Host is set by the browser"),
    (["render", "http://127.0.0.1/", "--out", "o", "--header", "cookie: a=b"], "--header", "use --cookies FILE"),
    (["crawl", "http://127.0.0.1/", "--out", "o", "--proxy", "ftp://u:pw@proxy:21"], "--proxy", "expected http://"),
    (["render", "http://127.0.0.1/", "--out", "o", "--proxy", "http://proxy"], "--proxy", "no port"),
    (
        ["worker", "--out", "o", "--frontier", "redis://127.0.0.1:1/0", "--proxy", "https://proxy:443"],
        "--proxy",
        "https:// proxies are not supported",
    ),
    (["distill", "--out", "o", "--proxy", "socks5://proxy:port"], "--proxy", "no port"),
    (["crawl", "http://127.0.0.1/", "--out", "o", "--lang", "en,german"], "--lang", "'german' is not an ISO 639-1"),
    (["render", "http://127.0.0.1/", "--out", "o", "--lang", ","], "--lang", "expected ISO 639-1"),
]


@pytest.mark.parametrize("argv,flag,message", BAD_FLAGS, ids=[a[0] + " " + f for a, f, _ in BAD_FLAGS])
def test_bad_flag_value_is_one_usage_line(argv, flag, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith(f"boxcrawl {argv[0]}: error: argument {flag}"), err
    assert message in err and err.rstrip().endswith(f"(see boxcrawl {argv[0]} --help)"), err
    assert not (tmp_path / "o").exists(), "nothing is created for a refused command"


USAGE_MISTAKES = [
    (["render", "http://127.0.0.1/"], "the following arguments are required: --out"),
    (  # a worker judges pages by the crawl's opt-out settings: it offers none of its own to ignore
        ["worker", "--out", "o", "--frontier", "redis://127.0.0.1:1/0", "--opt-out", "strict"],
        "unrecognized arguments: --opt-out strict",
    ),
    (
        ["worker", "--out", "o", "--frontier", "redis://127.0.0.1:1/0", "--lang", "de"],
        "unrecognized arguments: --lang de",
    ),
    (
        ["crawl", "http://127.0.0.1/", "--out", "o", "--maxpages", "3"],
        "unrecognized arguments: --maxpages 3; did you mean --max-pages?",
    ),
    (
        ["render", "http://127.0.0.1/", "--out", "o", "--tabz", "2", "--quite"],
        "--tabz: did you mean --tabs?; --quite: did you mean --quiet?",
    ),
    (["crawl", "http://127.0.0.1/", "--out", "o", "--scope", "hots"], "did you mean 'host'?"),
    (["crawll", "http://127.0.0.1/"], "did you mean 'crawl'?"),
    # no abbreviations: --head is not --header (whose value the recorded command would then not redact)
    (["render", "http://127.0.0.1/", "--out", "o", "--head", "X: y"], "unrecognized arguments: --head X: y"),
    (["distill", "--out", "o", "--emulate-mobile", "Nexus5"], "did you mean 'Nexus 5'?"),
]


@pytest.mark.parametrize("argv,message", USAGE_MISTAKES, ids=[" ".join(a[:1] + a[-2:]) for a, _ in USAGE_MISTAKES])
def test_usage_mistakes_are_one_line_with_a_hint(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and len(err.strip().splitlines()) == 1, err
    assert message in err, err
    assert not (tmp_path / "o").exists()


def test_every_option_with_a_default_says_it_in_help():
    """`--help` is where a user looks first: an option that has a default names it."""
    parser = build_parser()
    commands = subcommands(parser)
    silent = [
        f"{name} {action.option_strings[-1]}"
        for name, command in commands.items()
        for action in command._actions
        if action.option_strings
        and action.help != argparse.SUPPRESS
        and action.default not in (None, False, (), [], argparse.SUPPRESS)
        and not isinstance(action, argparse._HelpAction)
        and "default" not in (action.help or "").lower()
    ]
    assert not silent, silent


def test_lang_without_its_extra_is_one_line_naming_it(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "py3langid", None)  # as if not installed: importing it fails
    assert main(["render", "http://127.0.0.1/", "--out", "o", "--lang", "de"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("boxcrawl render: error: py3langid is not installed"), err
    assert err.rstrip().endswith("pip install 'boxcrawl[lang]'"), err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("value", ["Authorization Bearer s3cret", "X-Key: s3cret\nX-Other: 1"])
def test_a_bad_header_is_named_without_its_value(value, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit):
        main(["render", "http://127.0.0.1/", "--out", "o", "--header", value])
    assert "s3cret" not in capsys.readouterr().err
