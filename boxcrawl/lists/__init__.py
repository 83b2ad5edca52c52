"""URL lists as data: text, CSV, TSV, JSONL and Parquet read in batches (`read.py`), deduplicated and cut
into numbered input shards (`shards.py`)."""
