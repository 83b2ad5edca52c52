"""A dataset resumed by a newer boxcrawl holds shards with columns the older ones lack: readers keep them."""

import pyarrow as pa
import pyarrow.parquet as pq

import boxcrawl


def test_columns_of_newer_shards_are_kept_and_null_in_older_ones(tmp_path):
    (tmp_path / "pages").mkdir()
    older = pa.table({"url": ["http://a/"], "outcome": ["ok"]})
    newer = pa.table({"url": ["http://b/"], "outcome": ["ok"], "lang_declared": ["de"]})
    pq.write_table(older, tmp_path / "pages" / "part-000000.parquet")
    pq.write_table(newer, tmp_path / "pages" / "part-000001.parquet")
    table = boxcrawl.open_dataset(tmp_path).pages_table()
    rows = sorted(table.to_pylist(), key=lambda r: r["url"])
    assert rows == [
        {"url": "http://a/", "outcome": "ok", "lang_declared": None},
        {"url": "http://b/", "outcome": "ok", "lang_declared": "de"},
    ]
