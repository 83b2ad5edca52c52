"""The fleet's command line fails fast and in one line; the gate and robots rules; a dead worker's
staged shard is cleaned by another, and its late commit changes nothing."""

import asyncio
import json
import time

import pytest
from conftest import run_boxcrawl
from redis_server import RedisServer, free_port

from boxcrawl.config import PolitenessConfig, WriteConfig
from boxcrawl.frontier.base import Finished
from boxcrawl.frontier.redis import RedisFrontier
from boxcrawl.politeness.gate import HostGate, retry_after_seconds
from boxcrawl.records import Outcome, RenderedPage
from boxcrawl.write.formats import pack
from boxcrawl.write.rows import build_rows
from boxcrawl.write.shards import DatasetWriter


def one_line_error(proc, text):
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and text in lines[0] and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


def test_unreachable_redis_fails_fast_with_one_line(tmp_path):
    started = time.monotonic()
    proc = run_boxcrawl("worker", "--frontier", f"redis://127.0.0.1:{free_port()}/0", "--out", tmp_path, check=False)
    one_line_error(proc, "cannot reach Redis at redis://127.0.0.1:")
    assert time.monotonic() - started < 15


def test_wrong_or_missing_password_fails_fast_and_is_not_printed(tmp_path):
    with RedisServer(tmp_path / "redis", password="s3cret") as server:
        bad = f"redis://:wrong-pass@127.0.0.1:{server.port}/0"
        line = one_line_error(
            run_boxcrawl("worker", "--frontier", bad, "--out", tmp_path / "o", check=False), "refused the password"
        )
        assert "wrong-pass" not in line
        nopass = f"redis://127.0.0.1:{server.port}/0"
        one_line_error(
            run_boxcrawl(
                "crawl",
                "http://127.0.0.1:9/",
                "--frontier",
                nopass,
                "--out",
                tmp_path / "o",
                "--allow-hosts",
                "127.0.0.1",
                check=False,
            ),
            "needs a password",
        )
        one_line_error(run_boxcrawl("status", "--frontier", bad, check=False), "refused the password")
        # the right password works: no crawl there yet, which is said in one line too, once the
        # worker has waited for one as long as it was told to
        started = time.monotonic()
        one_line_error(
            run_boxcrawl("worker", "--frontier", server.url(), "--out", tmp_path / "o", "--wait", "1.5", check=False),
            f"no crawl in Redis at redis://:***@127.0.0.1:{server.port}/0 after waiting 1.5 s",
        )
        assert time.monotonic() - started >= 1.5


def test_bad_frontier_spec_is_one_line(tmp_path):
    one_line_error(
        run_boxcrawl(
            "crawl",
            "http://127.0.0.1:9/",
            "--frontier",
            "postgres://x",
            "--out",
            tmp_path,
            "--allow-hosts",
            "127.0.0.1",
            check=False,
        ),
        "--frontier 'postgres://x'",
    )


def test_status_and_retry_failed_on_redis(redis_url):
    f = RedisFrontier(redis_url)
    f.add(["http://a/1", "http://a/2"], 0)
    f.lease("w", 2)
    from boxcrawl.frontier.base import Finished

    f.commit("w-000000", [Finished("http://a/1", "ok", None), Finished("http://a/2", "timeout", "slow")], owner="w")
    f.close()
    out = run_boxcrawl("status", "--frontier", redis_url).stdout
    assert "done: 2 (ok 1, failed 1)" in out and "a: done 2, failed 1" in out
    assert "1 failed URL queued again" in run_boxcrawl("retry-failed", "--frontier", redis_url).stdout
    assert "queued: 1" in run_boxcrawl("status", "--frontier", redis_url).stdout


def test_status_says_who_holds_the_leased_pages(redis_url):
    f = RedisFrontier(redis_url)
    f.add([f"http://a/{i}" for i in range(5)], 0)
    f.join("w1", {"host": "m1", "pid": 7, "rendering": 1, "uncommitted": 2, "pages": 9}, 60)
    f.lease("w1", 3)
    f.join("gone", {}, 0.2)
    f.lease("gone", 1)
    time.sleep(0.4)  # gone's heartbeat has stopped; nobody has beaten since
    out = run_boxcrawl("status", "--frontier", redis_url).stdout
    assert "queued: 1  leased: 4  done: 0" in out
    assert "leased: 1 rendering, 2 finished and waiting for their shard's commit, 1 held by dead workers" in out
    assert "workers: 1 alive, 0 lost" in out and "w1 (m1, pid 7): rendering 1, uncommitted 2, pages 9" in out
    f.beat("w1", {}, 60)
    status = json.loads(run_boxcrawl("status", "--frontier", redis_url, "--json").stdout)
    assert (status["held_by_dead"], status["recovered"], status["workers_lost"]) == (0, 1, 1)
    assert list(status["live_workers"]) == ["w1"]
    f.close()


@pytest.fixture(params=["local", "redis"])
def gate_state(request):
    if request.param == "local":
        return None
    return RedisFrontier(request.getfixturevalue("redis_url"))


def test_host_gate_limits_concurrency_and_spaces_starts(gate_state):
    async def scenario():
        stop = asyncio.Event()
        gate = HostGate(PolitenessConfig(host_concurrency=1, host_delay=0.3), slot_seconds=30, shared=gate_state)
        t0 = time.monotonic()
        assert await gate.acquire("http://h/1", stop)
        second = asyncio.create_task(gate.acquire("http://h/2", stop))
        await asyncio.sleep(0.5)
        assert not second.done()  # the one slot is still taken
        assert await gate.acquire("http://other/1", stop)  # other hosts are not held up
        gate.release("http://h/1")
        assert await second and time.monotonic() - t0 >= 0.5
        gate.release("http://h/2")
        gate.pause("http://h/3", 0.6)  # a 429: everyone waits
        t1 = time.monotonic()
        assert await gate.acquire("http://h/3", stop)
        assert time.monotonic() - t1 >= 0.5

    asyncio.run(scenario())


def test_retry_after_parsing():
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None
    later = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 60))
    assert 50 <= retry_after_seconds(later) <= 61


def _rows(url):
    page = RenderedPage(
        url=url, final_url=url, status=404, content_type="text/html", outcome=Outcome.HTTP_ERROR, error="HTTP 404"
    )
    return build_rows(
        url,
        0,
        0,
        page,
        None,
        [],
        tokenizer="t",
        scale=1.0,
        viewport=(512, 512),
        image_format="png",
        browser_version=None,
    )


def _stage(writer: DatasetWriter, out, shard: str, pages) -> object:
    """Step 1 of a commit alone (a worker killed right after it); the shard's staging folder."""
    writer.staging.stage(shard, pages)
    return out / ".staging" / shard


def test_a_dead_workers_staged_shard_is_cleaned_and_its_late_commit_is_fenced(tmp_path, redis_url):
    out = tmp_path / "out"
    cfg = WriteConfig(shard_pages=100)
    dead = RedisFrontier(redis_url, lease_seconds=0.5)
    dead.add(["http://a/1", "http://a/2"], 0)
    assert len(dead.lease("dead", 2)) == 2
    writer_dead = DatasetWriter(out, cfg, dead, prefix="dead", owner="dead", is_dead=lambda p: False)
    staged = _stage(writer_dead, out, "dead-000000", [pack(_rows("http://a/1")), pack(_rows("http://a/2"))])  # killed
    assert staged.exists()
    time.sleep(0.6)
    alive = RedisFrontier(redis_url, lease_seconds=30)
    leased = [x.url for x in alive.lease("alive", 5)]
    assert sorted(leased) == ["http://a/1", "http://a/2"]
    writer = DatasetWriter(out, cfg, alive, prefix="alive", owner="alive", is_dead=lambda p: p == "dead")
    assert not staged.exists(), "the dead worker's uncommitted staging is removed"

    async def both():
        for url in leased:
            await writer.add(_rows(url))
        await writer.commit()
        # the "dead" worker was only paused: it wakes up and commits the same pages
        for url in ("http://a/1", "http://a/2"):
            await writer_dead.add(_rows(url))
        await writer_dead.commit()

    asyncio.run(both())
    assert writer_dead.dropped == 2 and writer_dead.shards_written == 0
    assert [p.name.split("-")[0] for p in (out / "pages").iterdir()] == ["alive"]
    assert alive.counts()["done"] == 2


def test_a_worker_found_dead_mid_crawl_has_its_staging_finished_and_no_live_one_is_touched(tmp_path, redis_url):
    """Killed between the commit in Redis and the move into place, a worker leaves a shard whose
    pages are done but not in DIR: whoever reaps it moves the shard in; nothing else it touches."""
    out = tmp_path / "out"
    f = RedisFrontier(redis_url)
    f.add([f"http://a/{i}" for i in range(4)], 0)
    reaper = DatasetWriter(out, WriteConfig(), f, prefix="reaper", owner="reaper", is_dead=lambda p: p == "dead")
    staged = {}
    for worker, urls in (("dead", ["http://a/0", "http://a/1"]), ("live", ["http://a/2", "http://a/3"])):
        assert [x.url for x in f.lease(worker, 2)] == urls
        staged[worker] = [_stage(reaper, out, f"{worker}-00000{i}", [pack(_rows(url))]) for i, url in enumerate(urls)]
        assert f.commit(f"{worker}-000000", [Finished(urls[0], "ok", None)], owner=worker) == []
    reaper.recover({"dead"})
    assert sorted(p.name for p in (out / "pages").iterdir()) == ["dead-000000.parquet"], "committed: moved in"
    assert not staged["dead"][1].exists(), "never committed: deleted (its page is crawled again)"
    assert all(shard.exists() for shard in staged["live"]), "a live worker's staging is left alone"


def test_bench_frontier_prints_and_saves_its_figures(tmp_path):
    """The machinery only (tiny sizes, no crawl); the figures come from a full `bench-frontier` run."""
    import json

    out = run_boxcrawl(
        "bench-frontier", "--ops", "200", "--urls", "2000", "--pages", "0", "--json", tmp_path / "b.json"
    ).stdout
    assert "lease+ack/s" in out and "MB while queued" in out
    figures = json.loads((tmp_path / "b.json").read_text())
    for key in ("redis_everysec_ops_s", "redis_always_ops_s", "redis_always_8_clients_ops_s", "sqlite_ops_s"):
        assert figures[key] > 0
    assert figures["memory"]["queued_mb_per_million"] > figures["memory"]["done_mb_per_million"] > 10
