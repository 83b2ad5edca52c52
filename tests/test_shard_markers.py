"""Done markers (write/markers.py): readers see a named shard only through its marker, and a marker
names its own shard's files, nothing else."""

from __future__ import annotations

import json

from boxcrawl.write.markers import committed_files, done_shards
from boxcrawl.write.plan import this_run
from boxcrawl.write.store import Store


def shard_files(root, name):
    for rel in (f"pages/{name}.parquet", f"wds/{name}.tar"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"x")


def test_only_marked_shards_count(tmp_path):
    shard_files(tmp_path, "part-000000")
    shard_files(tmp_path, "part-000001")  # written, never marked: a run killed before its marker
    Store(str(tmp_path)).write_json("_done/part-000000.json", {"files": ["pages/part-000000.parquet"]})
    assert committed_files(tmp_path, "pages", "parquet") == [tmp_path / "pages/part-000000.parquet"]
    assert committed_files(tmp_path, "wds", "tar") == []  # the marker does not name it


def test_a_torn_or_foreign_marker_marks_nothing(tmp_path):
    shard_files(tmp_path, "part-000000")
    shard_files(tmp_path, "part-000001")
    (tmp_path / "_done").mkdir()
    (tmp_path / "_done/part-000000.json").write_text('{"files": ["pages/part-0000')  # torn by a power cut
    (tmp_path / "_done/part-000001.json").write_text(json.dumps({"files": ["pages/../../secret.parquet"]}))
    assert list(done_shards(Store(str(tmp_path)))) == ["part-000001"]
    assert committed_files(tmp_path, "pages", "parquet") == []


def test_a_dataset_without_markers_reads_every_file(tmp_path):
    shard_files(tmp_path, "part-000000")  # the frontier's commit puts only whole files in place
    assert committed_files(tmp_path, "pages", "parquet") == [tmp_path / "pages/part-000000.parquet"]


def test_a_runs_pages_per_min_counts_only_its_own_shards():
    """Markers of an earlier run (finished before this one started) are done, not this run's work; the
    rate runs from the run's start to its last marker, whichever process wrote it."""
    markers = [
        {"pages": 100, "finished": "2026-01-01T09:00:00.000+00:00"},  # an earlier run
        {"pages": 25, "started": "2026-01-01T10:00:00.000+00:00", "finished": "2026-01-01T10:00:30.000+00:00"},
        {"pages": 25, "started": "2026-01-01T10:00:00.000+00:00", "finished": "2026-01-01T10:01:00.000+00:00"},
        {"pages": 7},  # written before markers had times: not counted as this run's
    ]
    run = this_run("2026-01-01T10:00:00.000+00:00", markers)
    assert run == {"started": "2026-01-01T10:00:00.000+00:00", "shards_done": 2, "pages": 50, "pages_per_min": 50.0}
    assert this_run("2026-01-01T11:00:00.000+00:00", markers)["shards_done"] == 0
    assert this_run(None, markers) is None
    # a marker that is not boxcrawl's (no zone, not a time) counts for nothing, and breaks nothing
    odd = [*markers, {"pages": 9, "finished": "2026-01-01T10:00:40"}, {"pages": 9, "finished": "soon"}]
    assert this_run("2026-01-01T10:00:00.000+00:00", odd)["pages"] == 50


def test_before_its_first_marker_a_sharded_render_shows_nothing(tmp_path):
    """The plan is written before any shard: files of shards cut short (a first run killed, every shard
    failed) are not data, though no marker exists yet to say which are."""
    shard_files(tmp_path, "part-000000")
    Store(str(tmp_path)).write_json("shards.json", {"shards": 3})
    assert committed_files(tmp_path, "pages", "parquet") == []
