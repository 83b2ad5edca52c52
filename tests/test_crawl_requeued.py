"""A worker that was taken for dead while alive (Redis away, a long stall) may lease again pages it
already holds: it must not render or write them twice. Runs the real crawl loop on a real Redis
with a stand-in browser that answers 404 to everything."""

import asyncio
from collections import Counter

from boxcrawl.config import BrowserConfig, CrawlConfig, PolitenessConfig
from boxcrawl.crawl import Crawler
from boxcrawl.frontier.redis import PREFIX, RedisFrontier
from boxcrawl.records import Outcome, RenderedPage

SITE = "http://127.0.0.1:9"


def test_pages_leased_again_after_being_taken_for_dead_are_written_once(tmp_path, redis_url):
    renders: Counter[str] = Counter()
    owner = "w"

    class TakenForDeadMidCrawl:
        """Renders nothing; while rendering /b, the crawl's worker is found dead by another one:
        /a (finished, waiting for its shard) and /b (rendering) go back to the front of the queue."""

        version = "stand-in"

        def __init__(self, cfg, guard):
            pass

        async def __aenter__(self):
            return self

        async def __aexit__(self, *exc):
            return None

        async def render(self, url, plan, check=None, lang=None):
            renders[url] += 1
            if url.endswith("/b") and renders[url] == 1:
                other = RedisFrontier(redis_url)
                pipe = other.client.pipeline(transaction=True)  # atomic: no beat of w in between
                pipe.delete(f"{PREFIX}alive:{owner}")
                other._scripts["beat"](args=[PREFIX, "other", "{}", 60_000], client=pipe)
                assert pipe.execute()[1] == [owner.encode(), 2]
                other.close()
            return RenderedPage(
                url=url,
                final_url=url,
                status=404,
                content_type="text/html",
                outcome=Outcome.HTTP_ERROR,
                error="HTTP 404",
            )

    cfg = CrawlConfig(
        out=str(tmp_path / "out"),
        frontier=redis_url,
        worker_id=owner,
        follow_links=False,
        politeness=PolitenessConfig(host_delay=0, robots=False),
        browser=BrowserConfig(tabs=1, allow_hosts=("127.0.0.1",)),
    )
    seeds = [f"{SITE}/a", f"{SITE}/b", f"{SITE}/c"]
    stats = asyncio.run(Crawler(cfg, seeds, pool_factory=TakenForDeadMidCrawl).run())
    assert renders == Counter(seeds), "a page this worker already had was rendered again"
    assert stats.fleet["done"] == 3 and stats.fleet["recovered"] == 2
    assert_exactly_once_failed(tmp_path / "out", set(seeds))


def assert_exactly_once_failed(out, urls):
    import boxcrawl

    pages = list(boxcrawl.open_dataset(out).pages(columns=["url", "outcome"]))
    assert sorted(p["url"] for p in pages) == sorted(urls)
    assert {p["outcome"] for p in pages} == {"http_error"}
