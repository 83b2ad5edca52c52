"""`Store` on a real S3-compatible server (moto on 127.0.0.1): whole-object writes, listing, the publish
of a staged file (server-side copy, then delete) that a roll-forward may repeat, and the URL hygiene."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import fsspec
import pytest
from conftest import run_boxcrawl
from test_fleet_cli import _rows

import boxcrawl
from boxcrawl.config import WriteConfig
from boxcrawl.frontier.base import Finished
from boxcrawl.frontier.redis import RedisFrontier
from boxcrawl.locations import output_location
from boxcrawl.write.formats import pack
from boxcrawl.write.markers import committed, done_shards, write_marker
from boxcrawl.write.rerun import RerunRefused, check_layout, clear, history_for
from boxcrawl.write.shards import DatasetWriter
from boxcrawl.write.store import Store, shown


def _fs():
    return fsspec.filesystem("s3", skip_instance_cache=True)


def test_write_list_and_publish_on_object_storage(s3_bucket):
    store = Store(f"{s3_bucket}/run")
    assert not store.is_local and not store.is_dir()
    store.write_json("config.json", {"a": 1})
    store.write_bytes(".staging/part-000001/pages/part-000001.parquet", b"rows")
    assert store.read_json("config.json") == {"a": 1} and store.is_dir()
    assert store.files_under(".staging/part-000001") == [".staging/part-000001/pages/part-000001.parquet"]

    store.publish(".staging/part-000001/pages/part-000001.parquet", "pages/part-000001.parquet")
    bucket = s3_bucket.removeprefix("s3://")
    assert _fs().cat(f"{bucket}/run/pages/part-000001.parquet") == b"rows"
    assert not _fs().exists(f"{bucket}/run/.staging/part-000001/pages/part-000001.parquet")
    # a roll-forward repeating it after a kill: nothing to move, and what was published stays
    store.publish(".staging/part-000001/pages/part-000001.parquet", "pages/part-000001.parquet")
    assert _fs().cat(f"{bucket}/run/pages/part-000001.parquet") == b"rows"
    assert store.names("pages") == ["part-000001.parquet"] and store.names("nothing") == []
    assert store.location("pages/part-000001.parquet") == f"{s3_bucket}/run/pages/part-000001.parquet"


def test_markers_and_rerun_rules_on_object_storage(s3_bucket, s3_server):
    store = Store(s3_bucket)  # a whole bucket as the output
    store.write_bytes("pages/part-000000.parquet", b"x")
    store.write_bytes("pages/part-000001.parquet", b"y")  # no marker: cut short, invisible
    write_marker(store, "part-000000", {"pages": 1, "files": ["pages/part-000000.parquet"]})
    assert list(done_shards(store)) == ["part-000000"]
    assert committed(store, "pages", "parquet") == ["pages/part-000000.parquet"]
    store.write_bytes("wds/part-000000.tar", b"z")  # a file its marker does not name does not count
    assert committed(store, "wds", "tar") == []

    doc = {"seeds": [], "browser": {}, "select": {}, "urls": {"shard_urls": 2}}
    store.write_json("config.json", doc)
    assert history_for(store, doc, resume_with_changes=False) == []
    with pytest.raises(RerunRefused, match="urls.shard_urls: 2 -> 3"):
        history_for(store, {**doc, "urls": {"shard_urls": 3}}, resume_with_changes=False)
    check_layout(store, sharded=True)
    store.write_bytes("frontier.sqlite", b"")
    with pytest.raises(RerunRefused, match="without --shard-urls"):
        check_layout(store, sharded=True)

    other = Store(f"{s3_server.new_bucket()}/not-ours")
    other.write_bytes("photo.jpg", b"mine")
    with pytest.raises(RerunRefused, match="not deleting it"):
        clear(other)  # --force never deletes what boxcrawl did not write
    clear(store)
    assert other.exists("photo.jpg") and _fs().find(s3_bucket.removeprefix("s3://")) == []
    assert _fs().exists(s3_bucket.removeprefix("s3://"))  # the bucket itself stays


def test_credentials_are_never_shown():
    assert shown("s3://key:secret@bucket/run") == "s3://bucket/run"
    assert shown("gs://bucket/run") == "gs://bucket/run" and shown("out/x") == "out/x"


def test_object_storage_without_its_driver_is_one_line(tmp_path):
    """Without s3fs, --out s3://... says which extra to install, before anything else is done."""
    urls = tmp_path / "urls.txt"
    urls.write_text("http://127.0.0.1:1/a\n")
    blocked = "import sys; sys.modules['s3fs'] = None; from boxcrawl.commands import main; sys.exit(main())"
    proc = subprocess.run(
        [sys.executable, "-c", blocked, "render", "--urls-file", urls, "--shard-urls", "1",
         "--out", "s3://key:secret@bucket/run"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "boxcrawl render: error: --out s3://bucket/run: needs the [s3] extra: pip install 'boxcrawl[s3]'"
    ]


# -- a worker's writer (shared frontier) on object storage ---------------------------------------------
def test_a_workers_shards_are_staged_then_published_on_object_storage(s3_bucket, redis_url):
    out = f"{s3_bucket}/fleet"
    frontier = RedisFrontier(redis_url)
    frontier.add(["http://a/0", "http://a/1"], 0)
    assert len(frontier.lease("w", 2)) == 2
    writer = DatasetWriter(out, WriteConfig(shard_pages=100), frontier, prefix="w", owner="w")

    async def commit():
        for url in ("http://a/0", "http://a/1"):
            await writer.add(_rows(url))
        await writer.commit()

    asyncio.run(commit())
    store = Store(out)
    assert store.files_under("") == ["pages/w-000000.parquet"]  # nothing left under .staging
    assert sorted(p["url"] for p in boxcrawl.open_dataset(out).pages(columns=["url"])) == ["http://a/0", "http://a/1"]


def test_a_dead_workers_staging_on_object_storage_is_rolled_forward_or_dropped(s3_bucket, redis_url):
    """Killed between the commit in Redis and the publish, a worker leaves staged objects: the worker that
    reaps it publishes the committed shard and deletes the other; a second roll-forward changes nothing."""
    out = f"{s3_bucket}/fleet"
    f = RedisFrontier(redis_url)
    f.add([f"http://a/{i}" for i in range(4)], 0)
    reaper = DatasetWriter(out, WriteConfig(), f, prefix="reaper", owner="reaper", is_dead=lambda p: p == "dead")
    for worker, urls in (("dead", ["http://a/0", "http://a/1"]), ("live", ["http://a/2", "http://a/3"])):
        assert [x.url for x in f.lease(worker, 2)] == urls
        for i, url in enumerate(urls):
            reaper.staging.stage(f"{worker}-00000{i}", [pack(_rows(url))])
        assert f.commit(f"{worker}-000000", [Finished(urls[0], "ok", None)], owner=worker) == []
    store = Store(out)
    reaper.recover({"dead"})
    live = [".staging/live-000000/pages/live-000000.parquet", ".staging/live-000001/pages/live-000001.parquet"]
    assert store.files_under("") == [*live, "pages/dead-000000.parquet"], "committed: in place; the other: gone"
    reaper.recover({"dead"})
    assert store.files_under("") == [*live, "pages/dead-000000.parquet"]
    assert [p["url"] for p in boxcrawl.open_dataset(out).pages(columns=["url"])] == ["http://a/0"]


def test_a_file_url_is_the_local_folder(tmp_path):
    """file:// names a local folder: the same files, and the CLI locks it like any folder."""
    store = Store(f"file://{tmp_path}/out")
    store.write_json("_done/part-000000.json", {"files": []})
    assert store.is_local and (tmp_path / "out" / "_done" / "part-000000.json").is_file()
    assert store.location("pages/x.parquet") == f"{tmp_path}/out/pages/x.parquet"
    assert output_location(f"file://{tmp_path}/out") == f"{tmp_path}/out"
    assert output_location("s3://bucket/run") == "s3://bucket/run"
    assert list(done_shards(Store(tmp_path / "out"))) == ["part-000000"]


def test_show_and_status_of_a_url_they_cannot_read_are_one_line(s3_bucket):
    shown_ = run_boxcrawl("show", f"{s3_bucket}/run", check=False)
    assert shown_.returncode == 2 and "show reads a local folder" in shown_.stderr
    status = run_boxcrawl("status", f"{s3_bucket}/run", check=False)
    assert status.returncode == 2 and f"no sharded render at {s3_bucket}/run" in status.stderr
    assert "Traceback" not in shown_.stderr + status.stderr


def test_an_endpoint_that_does_not_answer_is_one_line(tmp_path, monkeypatch):
    """Nothing listens on the endpoint: status, and a render before it reads a thing, say so in one line."""
    from redis_server import free_port

    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # botocore would retry a refused connection a few times
    listed = tmp_path / "urls.txt"
    listed.write_text("http://127.0.0.1:1/a\n")
    for args in (
        ["status", "s3://bucket/run", "--json"],
        ["render", "--urls-file", listed, "--shard-urls", 1, "--out", "s3://bucket/run", "--allow-hosts", "127.0.0.1"],
    ):
        proc = run_boxcrawl(*args, check=False)
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1 and "s3://bucket/run" in lines[0], proc.stderr
