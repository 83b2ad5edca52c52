"""`render --shard-urls --out s3://...` on real Chromium against a real S3-compatible server (moto on
127.0.0.1): the dataset, its markers, its rerun rules and its card live in the bucket, and open_dataset,
audit and status read it from the URL."""

from __future__ import annotations

import json

import fsspec
import pytest
from conftest import run_boxcrawl, run_rendering
from fleet_helpers import assert_exactly_once, finish, fleet_flags, make_site, start
from site_server import SiteServer
from test_url_lists import LOOPBACK, list_rows, page_urls, write_list

import boxcrawl

pytestmark = pytest.mark.browser


def _fs():
    return fsspec.filesystem("s3", skip_instance_cache=True, use_listings_cache=False)


def test_sharded_render_to_object_storage(site, tmp_path, s3_bucket):
    urls = page_urls(site, 6, "s3")
    listed = f"{s3_bucket}/lists/list.parquet"  # the list in the bucket too: read from there as a stream
    _fs().pipe(listed.removeprefix("s3://"), write_list(tmp_path / "list.parquet", list_rows(urls)).read_bytes())
    out = f"{s3_bucket}/run"
    root = out.removeprefix("s3://")
    render = ["render", "--urls-file", listed, "--shard-urls", 2, "--save-columns", "caption", "--out", out, *LOOPBACK]
    first = run_rendering(*render, out=out)
    assert "3 of 3 done (3 this run)" in first.stdout and out in first.stdout

    ds = boxcrawl.open_dataset(out)
    pages = list(ds.pages(columns=["url", "caption", "shard"]))
    assert sorted(p["url"] for p in pages) == sorted(urls)
    assert {p["url"]: p["caption"] for p in pages} == {u: f"caption {i}" for i, u in enumerate(urls)}
    assert ds.shards == [f"{out}/wds/part-{k:06d}.tar" for k in range(3)]
    samples = list(ds.samples(decode=False))
    assert samples and all(s["caption"] == f"caption {urls.index(s['url'])}" for s in samples)
    assert ds.pages_table().num_rows == 6 and ds.samples_table().num_rows == len(samples)
    assert ds.samples_table().column("caption").to_pylist() == [s["caption"] for s in samples]

    status = json.loads(run_boxcrawl("status", out, "--json").stdout)
    assert (status["shards_done"], status["shards_total"], status["pages"]) == (3, 3, 6)
    report = json.loads(run_boxcrawl("audit", out, "--json").stdout)
    assert report["samples"] == len(samples) and report["pages"] == 6 and report["ink_share"] > 0.9
    config = json.loads(_fs().cat(f"{root}/config.json"))
    assert config["out"] == out and config["urls"]["shard_urls"] == 2 and config["urls"]["file"] == listed
    card = _fs().cat(f"{root}/README.md").decode()
    assert card.startswith("---\n") and "6" in card and _fs().find(f"{root}/card")  # its pictures too
    assert not _fs().exists(f"{root}/.boxcrawl-write-test")

    # the same command again: every shard is marked done, nothing is written again
    tags = {p: _fs().info(p)["ETag"] for p in _fs().find(f"{root}/pages")}
    again = run_boxcrawl(*render)
    assert "3 of 3 done (0 this run)" in again.stdout
    assert {p: _fs().info(p)["ETag"] for p in _fs().find(f"{root}/pages")} == tags

    # a shard whose marker is gone counts as cut short (here half written): rendered again, and only it
    _fs().rm(f"{root}/_done/part-000001.json")
    _fs().pipe(f"{root}/pages/part-000001.parquet", b"torn")
    tags[f"{root}/pages/part-000001.parquet"] = _fs().info(f"{root}/pages/part-000001.parquet")["ETag"]
    assert sorted(p["url"] for p in boxcrawl.open_dataset(out).pages(columns=["url"])) == sorted(urls[:2] + urls[4:])
    redo = run_boxcrawl(*render)
    assert "3 of 3 done (1 this run)" in redo.stdout
    after = {p: _fs().info(p)["ETag"] for p in _fs().find(f"{root}/pages")}
    assert [p for p in after if after[p] != tags[p]] == [f"{root}/pages/part-000001.parquet"]
    assert sorted(p["url"] for p in boxcrawl.open_dataset(out).pages(columns=["url"])) == sorted(urls)

    # a setting that decides what the dataset holds may not change silently; --force starts afresh
    changed = [*render[:4], 3, *render[5:]]
    refused = run_boxcrawl(*changed, check=False)
    assert refused.returncode == 2 and "urls.shard_urls: 2 -> 3" in refused.stderr
    run_boxcrawl(*changed, "--force")
    assert sorted(n.rsplit("/", 1)[-1] for n in _fs().ls(f"{root}/_done")) == ["part-000000.json", "part-000001.json"]
    assert len(boxcrawl.open_dataset(out).shards) == 2


def test_a_crawl_and_a_worker_on_a_redis_frontier_write_to_object_storage(tmp_path, s3_bucket, redis_url):
    """Both processes stage each shard under .staging/, commit it in Redis and publish it with a
    server-side copy: the bucket ends with every page once and nothing staged."""
    out = f"{s3_bucket}/fleet"
    root = out.removeprefix("s3://")
    with SiteServer(make_site(tmp_path / "site", 12)) as site:
        worker = start(["worker", "--out", out, "--frontier", redis_url, "--worker-id", "b", *fleet_flags()])
        crawl = start(
            ["crawl", f"{site.url}/p0.html", "--out", out, "--frontier", redis_url, "--worker-id", "a",
             "--scope", "prefix", *fleet_flags()]
        )  # fmt: skip
        assert out in finish(crawl)
        finish(worker)
    assert_exactly_once(out, {f"{site.url}/p{i}.html" for i in range(12)})
    names = [p.removeprefix(f"{root}/") for p in _fs().find(root)]
    assert not [n for n in names if n.startswith(".staging/")], names
    assert {"config-a.json", "config-b.json", "README.md"} <= set(names)
    shards = [n for n in names if n.startswith("pages/")]
    assert len(shards) >= 6 and all(n.split("/")[1].split("-")[0] in ("a", "b") for n in shards)  # 2 pages each
    assert json.loads(_fs().cat(f"{root}/config-b.json"))["out"] == out


def test_object_storage_takes_a_shared_frontier_only(tmp_path, s3_bucket):
    """Without Redis or --shard-urls there is no writer for a URL: one line, before any page."""
    proc = run_boxcrawl("render", "http://127.0.0.1:1/a", "--out", f"{s3_bucket}/x", *LOOPBACK, check=False)
    assert proc.returncode == 2
    assert "object storage takes render --shard-urls or --frontier redis://" in proc.stderr
    assert _fs().find(s3_bucket.removeprefix("s3://")) == []
