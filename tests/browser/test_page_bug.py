"""A bug that one page sets off in boxcrawl's own code becomes that page's error record (with the
traceback in the log), and the next page renders: a crawl of millions does not end on one page."""

import asyncio

import pytest

from boxcrawl.browser.pool import BrowserPool
from boxcrawl.config import BrowserConfig, SelectConfig
from boxcrawl.extract.plan import TokenBoxPlan
from boxcrawl.extract.tokenizer import load_tokenizer

pytestmark = pytest.mark.browser


class ExplodingPlan(TokenBoxPlan):
    def spans(self, text):
        raise RuntimeError("a bug in tokenizing")


def test_a_bug_on_one_page_is_its_error_record_and_the_next_page_renders(site, caplog):
    tokenizer = load_tokenizer(None)

    async def both():
        async with BrowserPool(BrowserConfig(allow_hosts=("127.0.0.1",))) as pool:
            bad = await pool.render(f"{site.url}/a.html", ExplodingPlan(tokenizer, SelectConfig(), 1.0))
            good = await pool.render(f"{site.url}/b.html", TokenBoxPlan(tokenizer, SelectConfig(), 1.0))
            return bad, good

    bad, good = asyncio.run(both())
    assert (bad.outcome.value, bad.retryable) == ("error", False)
    assert bad.error == "internal error: RuntimeError: a bug in tokenizing"
    assert "load" in bad.timings, "how far the page got is kept"
    assert "a bug in tokenizing" in caplog.text and "Traceback" in caplog.text
    assert good.outcome.value == "ok" and good.images
