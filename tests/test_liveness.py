"""Worker liveness on a real Redis: a worker whose heartbeat stops has its pages queued again by the
next beat of any other worker, long before its leases would expire; a live worker is never robbed."""

import time

import pytest

from boxcrawl.fleet.liveness import ALIVE_SECONDS, Heartbeat
from boxcrawl.fleet.workers import WorkerIdInUse
from boxcrawl.frontier.base import Finished
from boxcrawl.frontier.redis import RedisFrontier

SHORT = 0.3  # seconds a test worker stays alive without beating


@pytest.fixture
def frontier(redis_url):
    opened = []

    def make():
        f = RedisFrontier(redis_url)  # default 120 s leases: expiry never helps in these tests
        opened.append(f)
        return f

    yield make
    for f in opened:
        f.close()


def test_a_dead_workers_pages_go_back_to_the_front_of_the_queue_at_the_next_beat(frontier):
    f = frontier()
    f.add([f"http://a/{i}" for i in range(6)], 0)
    assert f.join("dead", {}, SHORT) == 0 and f.join("live", {}, 60) == 0
    held = [x.url for x in f.lease("dead", 3)]  # a/0 a/1 a/2
    f.commit("dead-000000", [Finished(held[0], "ok", None)], owner="dead")
    assert f.host_slot("a", held[1], 2, 0, 600) == 0  # a page it was rendering holds a host slot
    live = [x.url for x in f.lease("live", 1)]  # a/3
    assert f.beat("live", {}, 60) == {}  # everyone alive: nothing moves
    time.sleep(SHORT + 0.2)
    assert f.beat("live", {}, 60) == {"dead": 2}
    c = f.counts()
    assert (c["leased"], c["queued"], c["done"], c["recovered"], c["workers_lost"]) == (1, 4, 1, 2, 1)
    assert (c["workers"], c["held_by_dead"]) == (1, 0)
    # the recovered pages come first, the live worker keeps its own lease, the host slot is free
    assert sorted(x.url for x in f.lease("live", 2)) == held[1:]
    assert f.host_slot("a", "http://a/other", 2, 0, 600) == 0
    assert f.beat("live", {}, 60) == {}  # reaped once, not at every beat
    assert live[0] in [u.decode() for u in f.client.zrange(f.prefix + "leases", 0, -1)]


def test_a_worker_declared_dead_too_soon_loses_nothing_and_writes_nothing_twice(frontier):
    f = frontier()
    f.add(["http://a/1", "http://a/2"], 0)
    f.join("slow", {}, SHORT)
    f.lease("slow", 2)
    time.sleep(SHORT + 0.2)
    assert f.beat("other", {}, 60) == {"slow": 2}
    taken = f.lease("other", 1)[0].url  # one goes to the other worker
    untaken = ({"http://a/1", "http://a/2"} - {taken}).pop()
    # the slow worker's late commit: the page nobody took counts, the one taken is refused
    assert f.commit(
        "slow-000000", [Finished("http://a/1", "ok", None), Finished("http://a/2", "ok", None)], owner="slow"
    ) == [taken]
    assert f.commit("slow-000001", [Finished(untaken, "ok", None)], owner="slow") == []
    assert f.lease("other", 1) == []  # committed: out of the queue too
    assert f.commit("other-000000", [Finished(taken, "ok", None)], owner="other") == []
    assert f.counts()["done"] == 2 and not f.has_work(owner="other")


def test_held_by_dead_counts_leases_of_workers_not_beating(frontier):
    f = frontier()
    f.add(["http://a/1", "http://a/2", "http://a/3"], 0)
    f.join("w1", {"rendering": 1, "uncommitted": 1}, 60)
    f.lease("w1", 2)
    f.lease("never-beat", 1)  # e.g. a process of an older boxcrawl: only lease expiry frees it
    c = f.counts()
    assert (c["rendering"], c["uncommitted"], c["held_by_dead"], c["workers"]) == (1, 1, 1, 1)
    assert f.workers() == {"w1": {"rendering": 1, "uncommitted": 1}}


def test_leaving_gives_pages_back_and_leaves_the_roster(frontier):
    f = frontier()
    f.add(["http://a/1"], 0)
    f.join("w", {}, 60)
    f.lease("w")
    f.release("w")
    assert f.workers() == {} and f.counts()["queued"] == 1
    assert f.beat("x", {}, 60) == {}, "a worker that left is not reaped as dead"


def test_a_restarted_worker_takes_back_what_its_killed_run_held(frontier):
    f = frontier()
    f.add(["http://a/1", "http://a/2"], 0)
    f.join("w", {"pid": 1}, SHORT)
    f.lease("w", 2)
    assert f.join("w", {"pid": 2}, 60) is None  # its heartbeat is still fresh
    time.sleep(SHORT + 0.2)
    assert f.join("w", {"pid": 2}, 60) == 2
    assert f.counts()["queued"] == 2


def test_heartbeat_refuses_an_id_a_live_worker_beats_under(frontier):
    running = Heartbeat(frontier(), "w", lambda: {"pages": 1})
    running.join()
    running.start()
    try:
        started = time.monotonic()
        with pytest.raises(WorkerIdInUse, match="worker id w is already running"):
            Heartbeat(frontier(), "w", lambda: {}).join()
        assert time.monotonic() - started >= ALIVE_SECONDS  # waited out one liveness period first
        assert frontier().workers()["w"] == {"pages": 1}
    finally:
        running.stop()


def test_heartbeat_thread_reaps_a_dead_worker_and_reports_it(frontier):
    f = frontier()
    f.add(["http://a/1"], 0)
    f.join("dead", {}, SHORT)
    f.lease("dead")
    reaped = []
    beat = Heartbeat(frontier(), "live", lambda: {}, on_reaped=reaped.append)
    beat.join()
    beat.start()
    try:
        deadline = time.monotonic() + 10
        while not reaped and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        beat.stop()
    assert reaped == [{"dead": 1}]
    assert f.lease("live")[0].url == "http://a/1"


def test_a_lease_call_sent_again_after_a_lost_reply_gets_the_same_urls(frontier):
    """redis-py sends a command again when the connection drops after Redis ran it: the worker
    must not end up holding URLs it never heard of (they would stay leased to it, never rendered)."""
    f = frontier()
    f.add([f"http://a/{i}" for i in range(4)], 0)
    first = f._run("lease", "w", 2, 0, 60, "call-1")
    assert f._run("lease", "w", 2, 0, 60, "call-1") == first
    assert len(f._run("lease", "w", 2, 0, 60, "call-2")) == 4  # a new call: the next two
    assert f.counts()["leased"] == 4 and f.counts()["queued"] == 0


def test_a_join_sent_again_after_a_lost_reply_is_not_refused(frontier):
    f = frontier()
    info = {"host": "m", "pid": 1}
    assert f.join("w", info, 60) == 0
    assert f.join("w", info, 60) == 0  # the same call again
    assert f.join("w", {"host": "m", "pid": 2}, 60) is None  # another process
