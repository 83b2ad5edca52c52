"""`render --urls-file` with URL lists as data on real Chromium: CSV, TSV, JSONL and Parquet lists,
`--save-columns`, `--shard-urls` (named shards, done markers, a rerun after kill -9) and `--processes`."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections import Counter

import pyarrow as pa
import pytest
from conftest import BOXCRAWL, run_boxcrawl, run_rendering
from site_server import Handler
from test_url_lists import LOOPBACK, check_dataset, list_rows, page_urls, write_list

import boxcrawl

pytestmark = pytest.mark.browser


# -- rendering -------------------------------------------------------------------------------------
def names(procs) -> list[str]:
    """Names of the processes still alive: a Chromium child may exit between listing and reading."""
    import psutil

    alive = []
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            alive.append(proc.name().lower())
    return alive


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
    run = status["this_run"]
    assert (run["shards_done"], run["pages"]) == (3, 60) and run["pages_per_min"] > 0
    assert "latest run (started " in run_boxcrawl("status", out).stdout


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


@pytest.mark.parametrize("processes", [1, 2])
def test_kill_9_then_rerun_renders_only_the_unfinished_shards(site, tmp_path, processes):
    """Default timings. The command is killed once a marker exists; which shards were done is read after it
    is dead, so however far it got, the test holds; the last shard waits on a slow page, so it cannot be
    done before the kill. With two processes, the workers (each in a process group of its own, out of
    reach of a kill of the command's group) and their browsers leave by themselves."""
    import psutil

    urls = [*page_urls(site, 11, f"kill{processes}"), f"{site.url}/slow/4.{processes}"]
    path = write_list(tmp_path / "list.parquet", list_rows(urls))
    out = tmp_path / "out"
    given = ["--urls-file", str(path), "--shard-urls", "3", "--out", str(out), *LOOPBACK]
    if processes > 1:
        given += ["--processes", str(processes)]
    argv = [*BOXCRAWL, "render", *given]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while not (out / "_done" / "part-000000.json").exists():
            assert proc.poll() is None, "the command ended before its first shard was marked"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        family = psutil.Process(proc.pid).children(recursive=True)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        if processes > 1:  # before the group kill below, which would hide an orphan
            assert len(family) > 2 and any("chrom" in name for name in names(family))
            _, alive = psutil.wait_procs(family, timeout=60)
            assert not alive, f"outlived the killed command: {alive}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # its Chromium too: the group it leads (start_new_session)
    done = sorted(p.stem for p in (out / "_done").iterdir())
    assert "part-000003" not in done  # the slow page's shard
    ds = boxcrawl.open_dataset(out)  # only marked shards are read, whatever the killed run left
    assert {p["shard"] for p in ds.pages(columns=["shard"])} == set(done)
    # a shard cut short may have left its files: make sure one did, with garbage a reader would choke on
    (out / "pages" / "part-000003.parquet").write_bytes(b"half a file")
    assert {p["shard"] for p in boxcrawl.open_dataset(out).pages(columns=["shard"])} == set(done)
    mtimes = {f: f.stat().st_mtime_ns for d in done for f in out.glob(f"*/{d}.*")}
    before = Counter(Handler.seen_paths)

    run_rendering("render", *given, out=out)
    check_dataset(out, urls, shards=4)
    asked = Counter(Handler.seen_paths) - before
    for k, url in enumerate(urls):
        rendered_again = asked[url.removeprefix(site.url)] > 0
        assert rendered_again == (f"part-{k // 3:06d}" not in done), url
    assert mtimes and all(f.stat().st_mtime_ns == t for f, t in mtimes.items())


def test_ctrl_c_with_two_processes_exits_130_and_a_rerun_finishes(site, tmp_path):
    """SIGINT to the command alone: it passes it on to its worker processes, which finish their pages in
    flight and leave (their shards unmarked); it exits 130 and leaves no process behind."""
    import psutil

    urls = [*page_urls(site, 8, "int"), f"{site.url}/slow/3", f"{site.url}/slow/3.5"]
    path = write_list(tmp_path / "list.parquet", list_rows(urls))
    out = tmp_path / "out"
    args = ["render", "--urls-file", str(path), "--shard-urls", "2", "--processes", "2", "--out", str(out)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([*BOXCRAWL, *args, *LOOPBACK], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 240
        while not (out / "_done" / "part-000000.json").exists():
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        family = psutil.Process(proc.pid).children(recursive=True)  # its workers and their browsers
        assert len([name for name in names(family) if "python" in name]) >= 2
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=120) == 130, proc.stderr.read() if proc.stderr else ""
        gone, alive = psutil.wait_procs(family, timeout=30)
        assert not alive, alive
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    done = {p.stem for p in (out / "_done").iterdir()}
    assert "part-000004" not in done  # the slow pages' shard cannot have been done
    run_rendering("render", "--urls-file", path, "--shard-urls", 2, "--processes", 2, "--out", out, *LOOPBACK, out=out)
    check_dataset(out, urls, shards=5)
