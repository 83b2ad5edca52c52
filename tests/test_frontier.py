import sqlite3

from boxcrawl.frontier.base import Finished
from boxcrawl.frontier.sqlite import SqliteFrontier


def test_add_dedups_and_lease_is_fifo(tmp_path):
    f = SqliteFrontier(tmp_path / "f.sqlite")
    assert f.add(["http://a/1", "http://a/2", "http://a/1"], depth=0) == 2
    assert f.add(["http://a/2", "http://a/3"], depth=1) == 1
    got = [lease.url for lease in f.lease("w", 10)]
    assert got == ["http://a/1", "http://a/2", "http://a/3"]
    assert f.lease("w", 10) == []  # everything is leased
    assert f.counts()["leased"] == 3


def test_retry_backs_off_then_gives_up(tmp_path):
    f = SqliteFrontier(tmp_path / "f.sqlite")
    f.add(["http://a/x"], 0)
    lease = f.lease("w")[0]
    assert f.retry(lease, "boom", delay=60, max_attempts=3) is True
    assert f.lease("w") == []  # waiting out the backoff
    assert f.has_work()
    f.db.execute("UPDATE urls SET not_before=0")
    lease = f.lease("w")[0]
    assert lease.attempts == 1
    assert f.retry(lease, "boom", delay=0, max_attempts=3) is True
    lease = f.lease("w")[0]
    assert f.retry(lease, "boom again", delay=0, max_attempts=3) is False  # third failure: give up
    assert f.attempts("http://a/x") == 3


def test_commit_marks_done_and_records_the_shard(tmp_path):
    f = SqliteFrontier(tmp_path / "f.sqlite")
    f.add(["http://a/1", "http://a/2"], 0)
    f.lease("w", 2)
    assert not f.is_committed("part-000000")
    f.commit("part-000000", [Finished("http://a/1", "ok", None), Finished("http://a/2", "http_error", "HTTP 404")])
    assert f.is_committed("part-000000")
    c = f.counts()
    assert (c["done"], c["failed"], c["leased"], c["queued"]) == (2, 1, 0, 0)
    assert f.outcomes() == {"ok": 1, "http_error": 1}
    assert f.next_shard_number() == 0 and f.next_shard_number() == 1


def test_leases_of_a_dead_process_come_back_on_open(tmp_path):
    path = tmp_path / "f.sqlite"
    f = SqliteFrontier(path)
    f.add(["http://a/1", "http://a/2"], 0)
    assert len(f.lease("dead", 2)) == 2
    f.db.close()  # the process "dies" holding two leases
    again = SqliteFrontier(path)
    assert [x.url for x in again.lease("new", 5)] == ["http://a/1", "http://a/2"]


def test_readonly_open_changes_nothing(tmp_path):
    path = tmp_path / "f.sqlite"
    f = SqliteFrontier(path)
    f.add(["http://a/1"], 0)
    f.lease("w")
    ro = SqliteFrontier.open_readonly(path)
    assert ro.counts()["leased"] == 1  # a status look does not requeue a live crawl's leases
    try:
        ro.add(["http://a/2"], 0)
        raise AssertionError("read-only frontier accepted a write")
    except sqlite3.OperationalError:
        pass
