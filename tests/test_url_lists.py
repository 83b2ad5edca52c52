"""`render --urls-file` with URL lists as data (CSV, TSV, JSONL, Parquet), `--save-columns`, and
`--shard-urls`: named shards with done markers, a rerun after kill -9, and `--processes`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from conftest import BOXCRAWL, run_boxcrawl, run_rendering
from site_server import Handler

import boxcrawl
from boxcrawl.egress.guard import NetworkGuard
from boxcrawl.lists.shards import UrlSource, cut, usable_rows

LOOPBACK = ["--allow-hosts", "127.0.0.1", "--quiet"]


def page_urls(site, n: int, prefix: str) -> list[str]:
    """n distinct small pages (every path under /echo/ is one)."""
    return [f"{site.url}/echo/{prefix}-{i}" for i in range(n)]


def list_rows(urls: list[str]) -> dict[str, list]:
    return {
        "source_id": list(range(len(urls))),
        "url": urls,
        "caption": [f"caption {i}" for i in range(len(urls))],
    }


def write_list(path: Path, rows: dict[str, list]) -> Path:
    table = pa.table(rows)
    if path.suffix == ".parquet":
        pq.write_table(table, path)
    elif path.suffix in (".csv", ".tsv"):
        pacsv.write_csv(table, path, pacsv.WriteOptions(delimiter="\t" if path.suffix == ".tsv" else ","))
    elif path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in table.to_pylist()))
    else:
        path.write_text("".join(u + "\n" for u in rows["url"]))
    return path


def check_dataset(out: Path, expected: list[str], shards: int) -> boxcrawl.Dataset:
    """Every expected URL exactly once, no sample key twice, every shard's marker present and its files read."""
    ds = boxcrawl.open_dataset(out)
    urls = Counter(p["url"] for p in ds.pages(columns=["url"]))
    assert sorted(urls) == sorted(expected) and set(urls.values()) == {1}, urls
    keys = Counter(s["key"] for s in ds.samples(decode=False))
    assert keys and set(keys.values()) == {1}
    markers = sorted(p.name for p in (out / "_done").iterdir())
    assert markers == [f"part-{k:06d}.json" for k in range(shards)]
    assert sum(json.loads((out / "_done" / m).read_text())["pages"] for m in markers) == len(expected)
    return ds


# -- the list itself, without a browser ------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".tsv", ".jsonl", ".txt"])
def test_every_format_gives_the_same_rows_and_shards(tmp_path, suffix):
    urls = [f"http://127.0.0.1:1/p{i}" for i in range(7)]
    urls[3] = "mailto:someone@example.org"  # skipped, named by its row
    urls.insert(5, urls[1])  # a duplicate: the first row wins
    path = write_list(tmp_path / f"list{suffix}", list_rows(urls))
    skipped: list[str] = []
    source = UrlSource.open(path, None, "url", ())
    shards = list(cut(usable_rows(source, NetworkGuard(("127.0.0.1",)), skipped.append), 2))
    assert [s.urls for s in shards] == [
        ["http://127.0.0.1:1/p0", "http://127.0.0.1:1/p1"],
        ["http://127.0.0.1:1/p2", "http://127.0.0.1:1/p4"],
        ["http://127.0.0.1:1/p5", "http://127.0.0.1:1/p6"],
    ]
    assert [s.name for s in shards] == ["part-000000", "part-000001", "part-000002"]
    assert skipped[0].startswith(f"{path}:4: ") and "mailto" in skipped[0]
    first = "line 2" if suffix == ".txt" else f"{path}:2"  # a text list says it as it always has
    assert skipped[1].startswith(f"{path}:6: duplicate of {first}")
    assert len(skipped) == 2


# -- rendering -------------------------------------------------------------------------------------
def test_parquet_list_in_shards_with_saved_columns(site, tmp_path):
    urls = page_urls(site, 60, "pq")
    given = [*urls[:30], urls[3], "not a url", *urls[30:], urls[59]]  # two duplicates, one bad row
    path = write_list(tmp_path / "list.parquet", list_rows(given))
    out = tmp_path / "out"
    proc = run_rendering(
        "render", "--urls-file", path, "--shard-urls", 25, "--save-columns", "caption,source_id",
        "--out", out, "--tabs", 4, *LOOPBACK, out=out,
    )  # fmt: skip
    assert f"{path}:32: " in proc.stderr and f"{path}:31: duplicate of {path}:4" in proc.stderr
    ds = check_dataset(out, urls, shards=3)
    row_of = {u: i for i, u in enumerate(given) if u not in given[:i]}  # first row of each URL
    for page in ds.pages(columns=["url", "caption", "source_id", "shard"]):
        row = row_of[page["url"]]
        assert (page["caption"], page["source_id"]) == (f"caption {row}", row)
        assert page["shard"] == f"part-{urls.index(page['url']) // 25:06d}"  # shard k = URLs k*25 .. k*25+24
    for sample in ds.samples(decode=False):
        assert (sample["caption"], sample["source_id"]) == (f"caption {row_of[sample['url']]}", row_of[sample["url"]])
    table = ds.samples_table()
    assert table.schema.field("source_id").type == pa.int64() and table.schema.field("caption").type == pa.string()
    status = json.loads(run_boxcrawl("status", out, "--json").stdout)
    assert (status["shards_done"], status["shards_total"], status["pages"]) == (3, 3, 60)


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".txt"])
def test_csv_tsv_jsonl_and_text_lists(site, tmp_path, suffix):
    urls = page_urls(site, 5, suffix[1:])
    path = write_list(tmp_path / f"list{suffix}", list_rows([*urls, urls[0]]))
    out = tmp_path / "out"
    keep = [] if suffix == ".txt" else ["--save-columns", "caption"]
    run_rendering("render", "--urls-file", path, "--shard-urls", 2, *keep, "--out", out, *LOOPBACK, out=out)
    ds = check_dataset(out, urls, shards=3)
    if keep:
        captions = {p["url"]: p["caption"] for p in ds.pages(columns=["url", "caption"])}
        assert captions == {u: f"caption {i}" for i, u in enumerate(urls)}  # CSV values stay strings


def test_table_list_without_shards(site, tmp_path):
    """Without --shard-urls a table is read into the usual render, as a text list is."""
    urls = page_urls(site, 3, "plain")
    path = write_list(tmp_path / "list.csv", list_rows(urls))
    out = tmp_path / "out"
    run_rendering("render", "--urls-file", path, "--out", out, *LOOPBACK, out=out)
    assert sorted(p["url"] for p in boxcrawl.open_dataset(out).pages(columns=["url"])) == sorted(urls)
    assert not (out / "_done").exists()


def test_two_processes_render_the_same_shards_as_one(site, tmp_path):
    urls = page_urls(site, 12, "procs")
    path = write_list(tmp_path / "list.parquet", list_rows(urls))
    shards = {}
    for processes in (1, 2):
        out = tmp_path / f"out{processes}"
        run_rendering(
            "render", "--urls-file", path, "--shard-urls", 3, "--processes", processes, "--out", out,
            *LOOPBACK, out=out,
        )  # fmt: skip
        ds = check_dataset(out, urls, shards=4)
        shards[processes] = sorted((p["shard"], p["url"]) for p in ds.pages(columns=["shard", "url"]))
    assert shards[1] == shards[2]


def test_kill_9_then_rerun_renders_only_the_unfinished_shards(site, tmp_path):
    """Default timings. The command is killed once a marker exists; which shards were done is read after it
    is dead, so however far it got, the test holds; the last shard waits on a slow page, so it cannot be
    done before the kill."""
    urls = [*page_urls(site, 11, "kill"), f"{site.url}/slow/4"]
    path = write_list(tmp_path / "list.parquet", list_rows(urls))
    out = tmp_path / "out"
    argv = [*BOXCRAWL, "render", "--urls-file", str(path), "--shard-urls", "3", "--out", str(out), *LOOPBACK]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while not (out / "_done" / "part-000000.json").exists():
            assert proc.poll() is None, "the command ended before its first shard was marked"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        with_group = subprocess.run(["pkill", "-9", "-s", str(proc.pid)], check=False)  # Chromium, by session
        del with_group
    done = sorted(p.stem for p in (out / "_done").iterdir())
    assert "part-000003" not in done  # the slow page's shard
    ds = boxcrawl.open_dataset(out)  # only marked shards are read, whatever the killed run left
    assert {p["shard"] for p in ds.pages(columns=["shard"])} == set(done)
    # a shard cut short may have left its files: make sure one did, with garbage a reader would choke on
    (out / "pages" / "part-000003.parquet").write_bytes(b"half a file")
    assert {p["shard"] for p in boxcrawl.open_dataset(out).pages(columns=["shard"])} == set(done)
    mtimes = {f: f.stat().st_mtime_ns for d in done for f in out.glob(f"*/{d}.*")}
    before = Counter(Handler.seen_paths)

    run_rendering("render", "--urls-file", path, "--shard-urls", 3, "--out", out, *LOOPBACK, out=out)
    check_dataset(out, urls, shards=4)
    asked = Counter(Handler.seen_paths) - before
    for k, url in enumerate(urls):
        rendered_again = asked[url.removeprefix(site.url)] > 0
        assert rendered_again == (f"part-{k // 3:06d}" not in done), url
    assert mtimes and all(f.stat().st_mtime_ns == t for f, t in mtimes.items())


# -- usage errors ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--url-col", "link"], "--url-col 'link': {path} has no such column (its columns: source_id, url, caption)"),
        (["--save-columns", "caption,outcome"], "--save-columns 'outcome': a page record or sample already has"),
        (["--shard-urls", "0"], "argument --shard-urls: expected a number >= 1, got 0"),
        (["--save-columns", "nope"], "--save-columns 'nope': {path} has no such column"),
    ],
)
def test_one_line_errors(tmp_path, extra, message):
    path = write_list(tmp_path / "list.parquet", list_rows(["http://127.0.0.1:1/"]))
    args = ["render", "--urls-file", path, "--out", tmp_path / "out", *LOOPBACK]
    if "--shard-urls" not in extra:
        args += ["--shard-urls", "5"]
    proc = run_boxcrawl(*args, *extra, check=False)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert message.format(path=path) in lines[-1] and not proc.stdout, proc.stderr
    assert not (tmp_path / "out").exists()
