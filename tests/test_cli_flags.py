"""Every subcommand rejects a bad flag value with exit code 2 and a line naming the flag, before doing any work."""

import pytest

from boxcrawl.commands import main

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
]


@pytest.mark.parametrize("argv,flag,message", BAD_FLAGS, ids=[a[0] + " " + f for a, f, _ in BAD_FLAGS])
def test_bad_flag_value_is_one_usage_line(argv, flag, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"boxcrawl {argv[0]}: error: argument {flag}"), err
    assert message in last, err
    assert not (tmp_path / "o").exists(), "nothing is created for a refused command"
