

def test_bench_frontier_prints_and_saves_its_figures(tmp_path):
    """The machinery only (tiny sizes, no crawl); the figures come from a full `bench-frontier` run."""
    out = run_boxcrawl("bench-frontier", "--ops", "200", "--urls", "2000", "--pages", "0",
                       "--json", tmp_path / "b.json").stdout
    assert "lease+ack/s" in out and "MB while queued" in out
    import json

    figures = json.loads((tmp_path / "b.json").read_text())
    for key in ("redis_everysec_ops_s", "redis_always_ops_s", "redis_always_8_clients_ops_s", "sqlite_ops_s"):
        assert figures[key] > 0
    assert figures["memory"]["queued_mb_per_million"] > figures["memory"]["done_mb_per_million"] > 10
