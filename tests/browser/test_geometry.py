"""Token geometry in the real Chromium: spans -> one box per line fragment, on the glyphs."""

import asyncio
import io

import numpy as np
import pytest
from PIL import Image

from boxcrawl.browser.pool import BrowserPool
from boxcrawl.config import BrowserConfig, SelectConfig
from boxcrawl.extract.plan import TokenBoxPlan
from boxcrawl.extract.tokenizer import load_tokenizer

pytestmark = pytest.mark.browser


class CapturePage(TokenBoxPlan):
    """Captures the whole rendered page as one clip, so tests can look at the pixels."""

    def clips(self, m):
        super().clips(m)
        return [(0, 0, m.width, min(m.height, 2000))]


def render(urls, plan_cls=TokenBoxPlan, **browser):
    tok = load_tokenizer()

    async def go():
        cfg = BrowserConfig(allow_hosts=("127.0.0.1",), **browser)
        async with BrowserPool(cfg) as pool:
            out = []
            for url in urls:
                plan = plan_cls(tok, SelectConfig(min_tokens=5, min_height=20), 1.0)
                out.append((await pool.render(url, plan), plan))
            return out

    return asyncio.run(go())


@pytest.fixture(scope="module")
def pages(site):
    names = ["wrap.html", "hidden.html", "shadow.html", "a.html"]
    return dict(zip(names, render([f"{site.url}/{n}" for n in names], CapturePage)))


def tokens_of(rendered, plan):
    m = rendered.measurement
    return [
        dict(
            text=m.text[s:e],
            piece=p,
            boxes=[m.boxes[i][k : k + 4] for k in range(0, len(m.boxes[i]), 4)],
            hidden=m.hidden[i],
        )
        for i, (p, (s, e)) in enumerate(zip(plan.spans_.tokens, plan.spans_.offsets))
    ]


def test_a_token_wrapped_across_lines_gets_one_box_per_line(pages):
    rendered, plan = pages["wrap.html"]
    toks = tokens_of(rendered, plan)
    pieces = [t for t in toks if t["text"].startswith("international")]
    assert pieces, [t["text"] for t in toks]
    wrapped = [t for t in toks if len(t["boxes"]) > 1]
    assert wrapped, "a 150px column must wrap 'internationalization' inside a token"
    for t in wrapped:
        tops = [b[1] for b in t["boxes"]]
        assert len(set(round(y) for y in tops)) == len(tops), "one box per line, never a union rect"
        for b in t["boxes"]:
            assert b[2] - b[0] <= 150.5 and b[3] - b[1] <= 31


def test_inline_markup_does_not_split_words(pages):
    rendered, plan = pages["wrap.html"]
    toks = tokens_of(rendered, plan)
    texts = [t["text"] for t in toks]
    assert "Hello" in texts and "world" in texts  # "Hel<b>lo</b>": one word, one token
    hello = next(t for t in toks if t["text"] == "Hello")
    assert len(hello["boxes"]) == 1, "pieces on the same line are glued into one fragment"


def test_boxes_lie_on_the_rendered_glyphs(pages):
    rendered, plan = pages["a.html"]
    image = np.asarray(Image.open(io.BytesIO(rendered.images[0])).convert("L"), dtype=np.int16)
    toks = [t for t in tokens_of(rendered, plan) if not t["hidden"]]
    assert len(toks) > 200
    checked = 0
    for t in toks:
        for x0, y0, x1, y1 in t["boxes"]:
            if y1 >= image.shape[0] - 1:
                continue
            inside = image[int(y0) + 1 : int(y1) - 1, int(x0) + 1 : max(int(x1) - 1, int(x0) + 2)]
            assert inside.min() < 128, f"no ink under {t['text']!r} at {(x0, y0, x1, y1)}"
            # a strip just above the line box (the inter-line gap) is mostly background
            checked += 1
    assert checked > 200


def test_hidden_text_is_not_visible(pages):
    rendered, plan = pages["hidden.html"]
    by_word = {t["text"]: t for t in tokens_of(rendered, plan)}
    for word in ("visible", "alpha", "golf"):
        assert by_word[word]["hidden"] == "", word
    expected = {
        "bravo": "no_box",  # display: none
        "charlie": "style",  # visibility: hidden
        "delta": "transparent",  # opacity: 0
        "echo": "transparent",  # color: transparent
        "covered": "covered",
    }  # an opaque ::after on top
    for word, reason in expected.items():
        assert word in by_word, f"hidden text is still collected: {word}"
        assert by_word[word]["hidden"] == reason, word


def test_open_shadow_roots_and_same_origin_iframes_are_collected(pages):
    rendered, plan = pages["shadow.html"]
    by_word = {t["text"]: t for t in tokens_of(rendered, plan)}
    for word in ("light", "shadowy", "penguin", "framed", "ocean"):
        assert word in by_word, word
        assert by_word[word]["hidden"] == "", word
    # iframe text is placed in page coordinates: below the shadow text, inside the iframe's box
    assert by_word["ocean"]["boxes"][0][1] > by_word["penguin"]["boxes"][0][1]


def test_text_below_the_fold_is_measured_and_visible(pages):
    rendered, plan = pages["a.html"]
    m = rendered.measurement
    assert m.height > 512 * 2  # the viewport is 512 tall; the page is longer
    low = [t for t in tokens_of(rendered, plan) if t["boxes"] and t["boxes"][0][1] > 1200]
    assert low and all(t["hidden"] == "" for t in low)
