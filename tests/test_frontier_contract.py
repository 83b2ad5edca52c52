"""One suite, both backends: the embedded SQLite frontier and the shared Redis one behave the same."""

import threading
import time

import pytest

from boxcrawl.frontier.base import Finished
from boxcrawl.frontier.redis import RedisFrontier
from boxcrawl.frontier.sqlite import SqliteFrontier

LEASE = 0.5  # seconds; short so expiry is testable


@pytest.fixture(params=["sqlite", "redis"])
def make(request, tmp_path):
    """make() -> a frontier; a second call gives another connection to the same frontier."""
    opened = []

    def factory(lease_seconds=LEASE):
        if request.param == "sqlite":
            f = SqliteFrontier(tmp_path / "f.sqlite", lease_seconds=lease_seconds)
        else:
            f = RedisFrontier(request.getfixturevalue("redis_url"), lease_seconds=lease_seconds)
        opened.append(f)
        return f

    yield factory
    for f in opened:
        f.close()


def urls(f, owner, n=10):
    return [lease.url for lease in f.lease(owner, n)]


def test_add_dedups_and_lease_is_fifo(make):
    f = make()
    assert f.add(["http://a/1", "http://a/2", "http://a/1"], depth=0) == 2
    assert f.add(["http://a/2", "http://a/3"], depth=1) == 1
    leases = f.lease("w", 10)
    assert [x.url for x in leases] == ["http://a/1", "http://a/2", "http://a/3"]
    assert [x.depth for x in leases] == [0, 0, 1] and all(x.attempts == 0 for x in leases)
    assert f.lease("w", 10) == []
    c = f.counts()
    assert (c["queued"], c["leased"], c["done"], c["seen"]) == (0, 3, 0, 3)


def test_retry_backs_off_then_gives_up(make):
    f = make()
    f.add(["http://a/x"], 0)
    lease = f.lease("w")[0]
    assert f.retry(lease, "boom", delay=0.3, max_attempts=3, owner="w") is True
    assert f.lease("w") == [] and f.has_work()  # waiting out the backoff (0.3 s)
    time.sleep(0.35)
    lease = f.lease("w")[0]
    assert lease.attempts == 1
    assert f.retry(lease, "boom", delay=0.01, max_attempts=3, owner="w") is True  # next wait 0.02 s
    time.sleep(0.05)
    lease = f.lease("w")[0]
    assert lease.attempts == 2
    assert f.retry(lease, "boom again", delay=0.01, max_attempts=3, owner="w") is False  # used up
    assert f.attempts("http://a/x") == 3
    f.commit("w-000000", [Finished("http://a/x", "network_error", "boom again")], owner="w")
    assert f.counts()["failed"] == 1 and f.failures() == {"http://a/x": "boom again"}


def test_commit_marks_done_records_the_shard_and_is_idempotent(make):
    f = make()
    f.add(["http://a/1", "http://b/2"], 0)
    f.lease("w", 2)
    assert not f.is_committed("w-000000")
    done = [Finished("http://a/1", "ok", None), Finished("http://b/2", "http_error", "HTTP 404")]
    assert f.commit("w-000000", done, owner="w") == []
    assert f.is_committed("w-000000")
    assert f.commit("w-000000", done, owner="w") == []  # a retried call after a lost reply: no-op
    c = f.counts()
    assert (c["done"], c["failed"], c["leased"], c["queued"]) == (2, 1, 0, 0)
    assert f.outcomes() == {"ok": 1, "http_error": 1}
    assert f.hosts() == {"a": {"done": 1, "failed": 0}, "b": {"done": 1, "failed": 1}}
    assert f.pages_per_min(window=60) == 2.0
    assert not f.has_work()
    numbers = [f.next_shard_number() for _ in range(3)]
    assert len(set(numbers)) == 3


def test_expired_lease_goes_back_and_the_old_holder_cannot_commit(make):
    f = make()
    f.add(["http://a/1", "http://a/2"], 0)
    assert urls(f, "dead", 2) == ["http://a/1", "http://a/2"]
    assert f.lease("alive") == []
    time.sleep(LEASE + 0.1)  # "dead" stopped extending its leases
    assert sorted(urls(f, "alive", 5)) == ["http://a/1", "http://a/2"]
    # the old holder wakes up and tries to commit: both URLs are someone else's now
    lost = f.commit("dead-000000", [Finished("http://a/1", "ok", None)], owner="dead")
    assert lost == ["http://a/1"] and not f.is_committed("dead-000000")
    assert (
        f.commit(
            "alive-000000", [Finished("http://a/1", "ok", None), Finished("http://a/2", "ok", None)], owner="alive"
        )
        == []
    )
    assert f.commit("dead-000001", [Finished("http://a/2", "ok", None)], owner="dead") == ["http://a/2"]
    assert f.counts()["done"] == 2


def test_extend_keeps_a_lease_alive(make):
    f = make()
    f.add(["http://a/1"], 0)
    f.lease("w")
    for _ in range(4):
        time.sleep(LEASE / 2)
        assert f.extend("w", ["http://a/1"]) == 1
    assert f.extend("other", ["http://a/1"]) == 0  # only the holder can extend
    assert f.lease("thief") == []
    assert f.counts()["leased"] == 1


def test_a_late_commit_of_an_expired_but_unclaimed_lease_succeeds(make):
    f = make()
    f.add(["http://a/1"], 0)
    f.lease("slow")
    time.sleep(LEASE + 0.1)  # expired, but nobody leased it again yet
    assert f.commit("slow-000000", [Finished("http://a/1", "ok", None)], owner="slow") == []
    assert f.lease("other") == [] and f.counts()["done"] == 1


def test_retry_from_a_worker_that_lost_the_lease_changes_nothing(make):
    f = make()
    f.add(["http://a/1"], 0)
    lease = f.lease("old")[0]
    time.sleep(LEASE + 0.1)
    assert urls(f, "new") == ["http://a/1"]
    assert f.retry(lease, "late error", 0.01, 3, owner="old") is True  # dropped, not requeued
    assert f.counts()["leased"] == 1 and f.attempts("http://a/1") == 0


def test_release_returns_only_the_owners_leases(make):
    f = make()
    f.add([f"http://a/{i}" for i in range(4)], 0)
    f.lease("w1", 2)
    f.lease("w2", 2)
    f.release("w1")
    c = f.counts()
    assert (c["queued"], c["leased"]) == (2, 2)
    assert urls(f, "w3") == ["http://a/0", "http://a/1"]


def test_has_work_counts_other_workers_leases(make):
    f = make()
    f.add(["http://a/1"], 0)
    f.lease("w1")
    assert not f.has_work(owner="w1")  # only its own lease left: it may stop once it commits
    assert f.has_work(owner="w2")  # w1 may still add links, or die and hand the URL back


def test_max_pages_bounds_leases_and_ends_only_when_that_many_are_done(make):
    f = make()
    f.add([f"http://a/{i}" for i in range(10)], 0)
    leases = f.lease("w", 10, max_pages=4)
    assert len(leases) == 4
    assert f.lease("w2", 10, max_pages=4) == []
    # w's pages are not done yet: w2 waits for them (w may die and hand them back)
    assert f.has_work(max_pages=4, owner="w2")
    f.commit("w-000000", [Finished(x.url, "ok", None) for x in leases[:3]], owner="w")
    assert f.has_work(max_pages=4, owner="w2")
    f.commit("w-000001", [Finished(leases[3].url, "timeout", "deadline")], owner="w")  # failed counts too
    assert not f.has_work(max_pages=4, owner="w2") and not f.has_work(max_pages=4) and f.has_work()
    assert f.lease("w2", 10, max_pages=4) == []


def test_retry_failed_puts_failed_urls_back(make):
    f = make()
    f.add(["http://a/1", "http://a/2"], 0)
    f.lease("w", 2)
    f.commit("w-000000", [Finished("http://a/1", "ok", None), Finished("http://a/2", "timeout", "deadline")], owner="w")
    assert f.retry_failed() == 1
    c = f.counts()
    assert (c["queued"], c["done"], c["failed"]) == (1, 1, 0)
    lease = f.lease("w")[0]
    assert (lease.url, lease.attempts) == ("http://a/2", 0)
    assert f.outcomes() == {"ok": 1}
    assert f.retry_failed() == 0


def test_a_page_skipped_by_language_is_done_and_not_failed(make):
    f = make()
    f.add(["http://a/en", "http://a/de"], 0)
    f.lease("w", 2)
    skipped = Finished("http://a/en", "skipped", "language en (detected, score 1.00) is not one of de")
    f.commit("w-000000", [skipped, Finished("http://a/de", "ok", None)], owner="w")
    c = f.counts()
    assert (c["done"], c["failed"]) == (2, 0)
    assert f.hosts() == {"a": {"done": 2, "failed": 0}}
    assert f.outcomes() == {"ok": 1, "skipped": 1}
    assert f.retry_failed() == 0  # the same page would be skipped again


def test_retried_urls_go_to_the_front_of_the_queue(make):
    """With --max-pages the slots left go to the pages that failed, not to new ones behind them."""
    f = make()
    f.add(["http://a/1", "http://a/2", "http://a/3"], 0)
    f.lease("w", 3)
    done = [
        Finished("http://a/1", "ok", None),
        Finished("http://a/2", "timeout", "t"),
        Finished("http://a/3", "http_error", "503"),
    ]
    f.commit("w-000000", done, owner="w")
    f.add(["http://a/new-1", "http://a/new-2"], 1)
    assert f.retry_failed() == 2
    assert sorted(urls(f, "w", 2)) == ["http://a/2", "http://a/3"]
    assert urls(f, "w", 5) == ["http://a/new-1", "http://a/new-2"]


def test_two_workers_racing_never_get_the_same_url(make):
    first = make(lease_seconds=60)
    first.add([f"http://a/{i}" for i in range(300)], 0)
    got: dict[str, list[str]] = {"w1": [], "w2": [], "w3": []}
    frontiers = {name: (first if name == "w1" else make(lease_seconds=60)) for name in got}
    if isinstance(first, SqliteFrontier):
        frontiers = {name: first for name in got}  # one process owns the embedded file
    lock = threading.Lock()

    def work(name):
        f = frontiers[name]
        while True:
            if isinstance(f, SqliteFrontier):
                with lock:  # sqlite3 connections are not shared across threads unguarded
                    batch = urls(f, name, 3)
            else:
                batch = urls(f, name, 3)
            if not batch:
                return
            got[name] += batch

    if isinstance(first, SqliteFrontier):
        first.db.close()
        first.db = __import__("sqlite3").connect(first.path, isolation_level=None, check_same_thread=False)
    threads = [threading.Thread(target=work, args=(name,)) for name in got]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    everything = got["w1"] + got["w2"] + got["w3"]
    assert len(everything) == 300 and len(set(everything)) == 300
