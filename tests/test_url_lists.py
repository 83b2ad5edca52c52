"""URL lists as data (CSV, TSV, JSONL, Parquet, text): read, deduplicated and cut into shards, and the
one-line errors of `render --shard-urls`; the rendering itself is in browser/test_render_url_lists.py."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from conftest import run_boxcrawl

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


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".jsonl", ".txt"])
def test_a_list_behind_an_fsspec_url_is_streamed_as_a_local_one(tmp_path, suffix):
    """`memory://` stands for object storage here (the same fsspec path; s3:// is in
    browser/test_object_storage.py): the URL is kept whole, not folded into a Path."""
    import fsspec

    from boxcrawl.lists.location import location

    urls = [f"http://127.0.0.1:1/p{i}" for i in range(5)]
    local = write_list(tmp_path / f"list{suffix}", list_rows(urls))
    remote = f"memory://lists/run-{suffix[1:]}/list{suffix}"
    with fsspec.open(remote, "wb") as f:
        f.write(local.read_bytes())
    loc = location(remote)
    assert loc == remote
    assert location(f"file://{local}") == local  # a local file, read as any path
    source = UrlSource.open(loc, None, "url", ("caption",) if suffix != ".txt" else ())
    shards = list(cut(usable_rows(source, NetworkGuard(("127.0.0.1",)), pytest.fail), 3))
    assert [s.urls for s in shards] == [urls[:3], urls[3:]]
    if suffix != ".txt":
        assert shards[1].rows.column("caption").to_pylist() == ["caption 3", "caption 4"]


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("memory://lists/none/list.parquet", "cannot read memory://lists/none/list.parquet: no such file"),
        ("memory://lists/none/list.txt", "cannot read memory://lists/none/list.txt: no such file"),
        # a driver boxcrawl never installs; the credentials in the URL are not repeated
        ("oci://key:secret@bucket/list.parquet", "cannot read oci://bucket/list.parquet: Install ocifs"),
        ("memory://lists/none/list.csv?signature=secret", "cannot read memory://lists/none/list.csv: no such file"),
    ],
)
def test_a_remote_list_that_cannot_be_read_is_one_line(tmp_path, where, message):
    proc = run_boxcrawl("render", "--urls-file", where, "--out", tmp_path / "out", *LOOPBACK, check=False)
    assert proc.returncode == 2 and not proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr
    assert "secret" not in proc.stderr
    assert not (tmp_path / "out").exists()


# -- usage errors ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ["--url-col", "link"],
            "--url-col 'link': {path} has no such column (its columns: source_id, url, caption, fetched)",
        ),
        (["--save-columns", "caption,outcome"], "--save-columns 'outcome': a page record or sample already has"),
        (["--shard-urls", "0"], "argument --shard-urls: expected a number >= 1, got 0"),
        (["--save-columns", "nope"], "--save-columns 'nope': {path} has no such column"),
        (["--save-columns", "fetched"], "--save-columns 'fetched': its type timestamp[us] is not a string, number"),
    ],
)
def test_one_line_errors(tmp_path, extra, message):
    rows = list_rows(["http://127.0.0.1:1/"])
    rows["fetched"] = [datetime(2020, 1, 1)]  # a timestamp has no JSON form
    path = write_list(tmp_path / "list.parquet", rows)
    args = ["render", "--urls-file", path, "--out", tmp_path / "out", *LOOPBACK]
    if "--shard-urls" not in extra:
        args += ["--shard-urls", "5"]
    proc = run_boxcrawl(*args, *extra, check=False)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert message.format(path=path) in lines[-1] and not proc.stdout, proc.stderr
    assert not (tmp_path / "out").exists()
