"""Done markers (write/markers.py): readers see a named shard only through its marker, and a marker
names its own shard's files, nothing else."""

from __future__ import annotations

import json

from boxcrawl.write.markers import committed_files, done_shards
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
