"""Many workers on one Redis frontier, against a real redis-server: kill -9 of a worker, a Redis
restart, and workers on separate network hosts. Each ends with every page exactly once.

The kill tests run twice: on the defaults users run (120 s leases, shards of 200 pages or 60 s,
a page limit), where only the heartbeat can save a dead worker's pages in time, and with short
leases and tiny shards, where lease expiry and committed shards are exercised."""

import json
import os
import signal
import subprocess
import time
from urllib.parse import urlsplit

import pytest
import redis
from fleet_helpers import (
    assert_exactly_once,
    default_flags,
    finish,
    fleet_flags,
    kill9,
    make_site,
    shards_of,
    start,
    wait_for,
)
from redis_server import RedisServer
from site_server import SiteServer

pytestmark = pytest.mark.browser

N_PAGES = 20
SITE_PAGES, MAX_PAGES = 60, 24  # for crawls that end at --max-pages


def stat(url: str) -> dict[str, int]:
    client = redis.Redis.from_url(url)
    try:
        return {k.decode(): int(v) for k, v in client.hgetall("{boxcrawl}:stat").items()}
    finally:
        client.close()


def crawl_settings_saved(url: str) -> bool:
    client = redis.Redis.from_url(url)
    try:
        return client.exists("{boxcrawl}:crawl") == 1
    finally:
        client.close()


def beat(url: str, worker: str) -> dict:
    """The worker's last heartbeat: what it renders and holds uncommitted ({} if it is not beating)."""
    client = redis.Redis.from_url(url)
    try:
        raw = client.get("{boxcrawl}:alive:" + worker)
    finally:
        client.close()
    return json.loads(raw) if raw else {}


def leases_of(url: str, worker: str) -> int:
    client = redis.Redis.from_url(url)
    try:
        return sum(1 for o in client.hvals("{boxcrawl}:owners") if o.decode() == worker)
    finally:
        client.close()


def holds_uncommitted(url: str, worker: str, n: int = 2):
    return lambda: beat(url, worker).get("uncommitted", 0) >= n


def assert_recovered_not_expired(url: str) -> None:
    s = stat(url)
    assert s["done"] == MAX_PAGES and s.get("recovered", 0) >= 2, s
    assert s.get("expired", 0) == 0, f"pages waited for their 120 s lease to expire: {s}"


def crawl_and_worker(out, site_url: str, redis_url: str, local_url: str | None = None, hosts=(None, None)):
    """On the defaults: `crawl` a seeds a crawl of MAX_PAGES pages, then `worker` b joins it;
    ``hosts`` are network namespaces to run them in, ``local_url`` reaches Redis from here."""
    flags = default_flags(urlsplit(site_url).hostname)
    a = start(
        [
            "crawl",
            f"{site_url}/p0.html",
            "--out",
            out,
            "--frontier",
            redis_url,
            "--worker-id",
            "a",
            "--max-pages",
            MAX_PAGES,
            *flags,
        ],
        prefix=["ip", "netns", "exec", hosts[0]] if hosts[0] else (),
    )
    wait_for(lambda: crawl_settings_saved(local_url or redis_url), 30, "the crawl to be seeded", [a])
    b = start(
        ["worker", "--out", out, "--frontier", redis_url, "--worker-id", "b", *flags],
        prefix=["ip", "netns", "exec", hosts[1]] if hosts[1] else (),
    )
    return a, b


def test_on_defaults_a_killed_workers_pages_are_finished_by_the_crawl(tmp_path, redis_url):
    out = tmp_path / "out"
    with SiteServer(make_site(tmp_path / "site", SITE_PAGES)) as site:
        a, b = crawl_and_worker(out, site.url, redis_url)
        wait_for(holds_uncommitted(redis_url, "b"), 120, "worker b to hold finished, uncommitted pages", [a, b])
        kill9(b)
        summary = finish(a)
    assert_exactly_once(out, count=MAX_PAGES)
    assert_recovered_not_expired(redis_url)
    assert "recovered from dead workers" in summary and f"done {MAX_PAGES} (failed 0)" in summary
    status = json.loads(finish(start(["status", "--frontier", redis_url, "--json"])))
    assert (status["leased"], status["held_by_dead"], status["workers"], status["workers_lost"]) == (0, 0, 0, 1)


def test_on_defaults_a_worker_finishes_the_crawl_whose_seeding_process_was_killed(tmp_path, redis_url):
    out = tmp_path / "out"
    with SiteServer(make_site(tmp_path / "site", SITE_PAGES)) as site:
        a, b = crawl_and_worker(out, site.url, redis_url)
        wait_for(
            lambda: holds_uncommitted(redis_url, "a")() and beat(redis_url, "b"),
            120,
            "the crawl to hold uncommitted pages with worker b running",
            [a, b],
        )
        kill9(a)
        finish(b)
    assert_exactly_once(out, count=MAX_PAGES)
    assert_recovered_not_expired(redis_url)


def test_a_worker_started_before_the_crawl_joins_it_and_both_end_when_the_site_is_done(tmp_path, redis_url):
    """On the defaults, without --max-pages: each process holds finished pages in a shard that
    is not full; both must still end, neither waiting for the other's pages forever."""
    out = tmp_path / "out"
    with SiteServer(make_site(tmp_path / "site", N_PAGES)) as site:
        b = start(["worker", "--out", out, "--frontier", redis_url, "--worker-id", "b", *default_flags()])
        time.sleep(2)
        assert b.poll() is None, "the worker waits for a crawl (--wait, 60 s by default)"
        a = start(
            [
                "crawl",
                f"{site.url}/p0.html",
                "--out",
                out,
                "--frontier",
                redis_url,
                "--worker-id",
                "a",
                "--scope",
                "prefix",
                *default_flags(),
            ]
        )
        finish(a)
        finish(b)
    assert json.loads((out / "config-b.json").read_text())["scope"] == "prefix", "b joined with a's settings"
    assert_exactly_once(out, {f"{site.url}/p{i}.html" for i in range(N_PAGES)})


def test_kill_9_of_a_worker_loses_and_duplicates_nothing(tmp_path, redis_url):
    out = tmp_path / "out"
    n_pages = 2 * N_PAGES  # long enough for b to commit shards and still hold leases
    with SiteServer(make_site(tmp_path / "site", n_pages)) as site:
        seed = f"{site.url}/p0.html"
        a = start(["crawl", seed, "--out", out, "--frontier", redis_url, "--worker-id", "a", *fleet_flags()])
        wait_for(lambda: crawl_settings_saved(redis_url), 30, "the crawl to be seeded", [a])
        b = start(["worker", "--out", out, "--frontier", redis_url, "--worker-id", "b", *fleet_flags()])
        wait_for(
            lambda: shards_of(out, "b") >= 2 and leases_of(redis_url, "b") >= 1,
            120,
            "worker b to commit shards and hold leases",
            [a, b],
        )
        kill9(b)  # mid-crawl, holding leases (and maybe a staged shard)
        b_shards = shards_of(out, "b")
        finish(a)
        assert shards_of(out, "b") == b_shards and shards_of(out, "a") > 0
        s = stat(redis_url)
        assert s.get("expired", 0) + s.get("recovered", 0) >= 1, s
        # a worker joining later finds nothing to do, and cleans what the dead worker left staged
        finish(start(["worker", "--out", out, "--frontier", redis_url, "--worker-id", "c", *fleet_flags()]))
    assert_exactly_once(out, {f"{site.url}/p{i}.html" for i in range(n_pages)})
    staging = out / ".staging"
    assert not staging.exists() or not any(staging.iterdir()), "the dead worker's staged shard was removed"
    status = json.loads(finish(start(["status", "--frontier", redis_url, "--json"])))
    assert (status["done"], status["queued"], status["leased"], status["failed"]) == (n_pages, 0, 0, 0)


def test_redis_restart_mid_crawl_loses_nothing(tmp_path):
    out = tmp_path / "out"
    with RedisServer(tmp_path / "redis") as server, SiteServer(make_site(tmp_path / "site", N_PAGES)) as site:
        seed = f"{site.url}/p0.html"
        crawl = start(["crawl", seed, "--out", out, "--frontier", server.url(), *fleet_flags(lease=10)])
        wait_for(lambda: len(list((out / "pages").glob("*.parquet"))) >= 2, 120, "two shards", [crawl])
        server.kill()  # kill -9: only the append-only file survives
        time.sleep(1.5)
        server.start()  # same port, same folder: the AOF is replayed
        finish(crawl)
        assert_exactly_once(out, {f"{site.url}/p{i}.html" for i in range(N_PAGES)})
        assert stat(server.url())["done"] == N_PAGES


# -- workers on separate (network namespace) hosts -------------------------------------------------


def sh(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True)


@pytest.fixture
def two_hosts():
    """Two network namespaces joined by a bridge to this host: 10.231.N.1 here, .2 and .3 inside.
    All addresses live on this machine only."""
    tag = os.getpid() % 200
    net = f"10.231.{tag}"
    bridge, hosts = f"bxbr{tag}", [f"bxh{tag}a", f"bxh{tag}b"]
    try:
        sh("ip", "link", "add", bridge, "type", "bridge")
        sh("ip", "addr", "add", f"{net}.1/24", "dev", bridge)
        sh("ip", "link", "set", bridge, "up")
        for i, ns in enumerate(hosts):
            veth = f"{ns}v"
            sh("ip", "netns", "add", ns)
            sh("ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns)
            sh("ip", "link", "set", veth, "master", bridge)
            sh("ip", "link", "set", veth, "up")
            sh("ip", "netns", "exec", ns, "ip", "addr", "add", f"{net}.{i + 2}/24", "dev", "eth0")
            sh("ip", "netns", "exec", ns, "ip", "link", "set", "eth0", "up")
            sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
        yield f"{net}.1", hosts
    finally:
        for ns in hosts:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
            subprocess.run(["ip", "link", "del", f"{ns}v"], capture_output=True)
        subprocess.run(["ip", "link", "del", bridge], capture_output=True)


def test_on_defaults_workers_on_two_hosts_one_killed(tmp_path, two_hosts):
    """The killed worker is on another host: no lock in a shared folder tells anyone it died, only
    its heartbeat in Redis stops."""
    address, (host_a, host_b) = two_hosts
    out = tmp_path / "out"
    site = SiteServer(make_site(tmp_path / "site", SITE_PAGES), host=address)
    with RedisServer(tmp_path / "redis", bind=(address, "127.0.0.1")) as server, site:
        local = server.url("127.0.0.1")
        a, b = crawl_and_worker(out, site.url, server.url(), local, hosts=(host_a, host_b))
        wait_for(holds_uncommitted(local, "b"), 120, "the worker on host b to hold finished, uncommitted pages", [a, b])
        kill9(b)
        finish(a)
        assert_recovered_not_expired(local)
    assert_exactly_once(out, count=MAX_PAGES)


def test_sigterm_returns_leases_and_a_worker_finishes_the_crawl(tmp_path, redis_url):
    out = tmp_path / "out"
    with SiteServer(make_site(tmp_path / "site", N_PAGES)) as site:
        crawl = start(["crawl", f"{site.url}/p0.html", "--out", out, "--frontier", redis_url, *fleet_flags(lease=60)])
        wait_for(lambda: len(list((out / "pages").glob("*.parquet"))) >= 1, 120, "a shard", [crawl])
        crawl.send_signal(signal.SIGTERM)
        _, stderr = crawl.communicate(timeout=90)
        assert crawl.returncode == 130 and "Traceback" not in stderr, stderr  # interrupted: a script can tell
        status = json.loads(finish(start(["status", "--frontier", redis_url, "--json"])))
        assert status["leased"] == 0, "pages in flight were committed, the rest handed back at once"
        assert 0 < status["done"] < N_PAGES and status["queued"] > 0
        finish(start(["worker", "--out", out, "--frontier", redis_url, *fleet_flags(lease=60)]))
    assert_exactly_once(out, {f"{site.url}/p{i}.html" for i in range(N_PAGES)})


def test_time_limit_stops_gracefully_and_the_next_run_finishes(tmp_path, redis_url):
    out = tmp_path / "out"
    with SiteServer(make_site(tmp_path / "site", N_PAGES)) as site:
        # One page per second at most, so 20 pages cannot finish inside the 6 s limit.
        slow = ["--host-concurrency", "1", "--host-delay", "1"]
        started = time.monotonic()
        crawl = start(
            [
                "crawl",
                f"{site.url}/p0.html",
                "--out",
                out,
                "--frontier",
                redis_url,
                *fleet_flags(lease=60),
                *slow,
                "--time-limit",
                "6",
            ]
        )
        _, stderr = crawl.communicate(timeout=120)
        took = time.monotonic() - started
        assert crawl.returncode == 0 and "Traceback" not in stderr, stderr  # a time limit ends as done
        status = json.loads(finish(start(["status", "--frontier", redis_url, "--json"])))
        assert status["leased"] == 0, "pages in flight were committed, the rest handed back"
        assert status["done"] < N_PAGES and status["queued"] > 0, (status, took)
        finish(start(["worker", "--out", out, "--frontier", redis_url, *fleet_flags(lease=60)]))
    assert_exactly_once(out, {f"{site.url}/p{i}.html" for i in range(N_PAGES)})
