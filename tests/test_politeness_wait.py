"""The progress line says which hosts' turn the tabs are waiting for (politeness/gate.py)."""

import asyncio

from boxcrawl.config import PolitenessConfig
from boxcrawl.crawl import CrawlStats
from boxcrawl.politeness.gate import HostGate
from boxcrawl.progress import progress_line


def test_a_tab_waiting_for_a_hosts_delay_is_reported_until_it_stops_waiting():
    async def go():
        gate = HostGate(PolitenessConfig(host_delay=30.0), slot_seconds=60)
        stopping = asyncio.Event()
        assert await gate.acquire("http://docs.example.org/a", stopping)  # the first page starts at once
        gate.release("http://docs.example.org/a")
        assert gate.waiting == {}
        waiter = asyncio.create_task(gate.acquire("http://docs.example.org/b", stopping))
        for _ in range(100):  # the task reaches its wait within a few loop turns
            if gate.waiting:
                break
            await asyncio.sleep(0.01)
        seen = dict(gate.waiting)
        stopping.set()
        return seen, await waiter, dict(gate.waiting)

    seen, acquired, after = asyncio.run(go())
    assert seen == {"docs.example.org": 1}, "the second page of the host waits out its 30 s delay"
    assert acquired is False and after == {}, "a wait that ends is no longer reported"

    stats = CrawlStats(pages=3, waiting_on=("docs.example.org",))
    assert progress_line(stats).endswith("politeness: waiting on docs.example.org")
    assert "politeness" not in progress_line(CrawlStats(pages=3))
