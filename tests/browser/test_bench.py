"""The benchmark's machinery on the local test site (figures themselves come from `boxcrawl bench`)."""

import dataclasses

import pytest

from boxcrawl.bench.run import MemorySampler, run_floor, run_pipeline
from boxcrawl.config import BrowserConfig, CrawlConfig
from boxcrawl.write.schema import TIMING_STAGES

pytestmark = pytest.mark.browser


def test_floor_and_pipeline_runs_report_pages_stages_and_memory(site, tmp_path):
    urls = [f"{site.url}/{name}" for name in ("a.html", "b.html", "c.html")]
    browser = BrowserConfig(tabs=2, allow_hosts=("127.0.0.1",))
    for strict in (True, False):
        floor = run_floor(urls, browser, strict=strict)
        assert (floor.pages, floor.ok) == (3, 3)
        assert floor.stages_ms["load"] > 0 and floor.stages_ms["capture"] > 0
        assert floor.peak_mb > 50, "Chromium's processes are counted, not only Python"
        assert all(floor.cpu_ms[kind] > 0 for kind in ("python", "driver", "browser", "renderer")), floor.cpu_ms

    cfg = CrawlConfig(out=str(tmp_path / "out"), follow_links=False, browser=browser)
    pipeline, rss = run_pipeline(urls, cfg, rss_at=(1, 3))
    assert (pipeline.pages, pipeline.ok) == (3, 3)
    assert set(TIMING_STAGES) <= set(pipeline.stages_ms) and "write" in pipeline.stages_ms
    assert pipeline.stages_ms["encode"] > 0 and pipeline.stages_ms["write"] > 0
    assert set(rss) == {1, 3} and all(v > 50 for v in rss.values())
    assert all(pipeline.cpu_ms[kind] > 0 for kind in ("python", "driver", "browser", "renderer")), pipeline.cpu_ms
    assert pipeline.pages_per_min > 0 and floor.pages_per_min > 0

    unguarded, _ = run_pipeline(urls, dataclasses.replace(cfg, out=str(tmp_path / "unguarded")), unguarded=True)
    assert (unguarded.pages, unguarded.ok) == (3, 3)


def test_memory_sampler_sees_children():
    import subprocess
    import sys

    alone = MemorySampler.now_mb()
    child = subprocess.Popen([sys.executable, "-c", "b = bytearray(80 * 2**20); import time; time.sleep(3)"])
    try:
        import time

        time.sleep(1.5)
        assert MemorySampler.now_mb() > alone + 60
    finally:
        child.kill()
        child.wait()
