"""extract_features.js and the Blink-equivalent collector in the real Chromium: Blink's
DocumentStatisticsCollector test vectors, the documented JS/native differences, UTF-16 and CJK/emoji."""

import asyncio
import math

import pytest
from site_server import SiteServer

from boxcrawl.browser.pool import BrowserPool
from boxcrawl.config import BrowserConfig
from boxcrawl.distill.features import as_dict, derived_features
from boxcrawl.distill.page import extract

pytestmark = pytest.mark.browser

A144 = "a" * 144
PAGES = {
    # Blink's "mixed" vector: included are class=menu id=article (kept for "article"), a p in a ul outside any
    # li, a p with nested inline tags and a plain p; excluded are class=menu, li p, display:none, a child
    # of display:none, a child of visibility:hidden and opacity:0.
    "mixed": f"""<p class="menu" id="article">1</p><ul><p>{A144}</p><li><p>{"x" * 300}</p></li></ul>
<p>123<b>45<i>6</i></b>789</p><p>123456789012</p><p class="menu">{"y" * 300}</p>
<p style="display:none">{"z" * 300}</p><div style="display:none"><p>{"z" * 300}</p></div>
<div style="visibility:hidden"><p>{"z" * 300}</p></div><p style="opacity:0">{"z" * 300}</p>""",
    # Blink's form vector: 10 elements, 2 anchors, 1 form, 1 text input, 1 password input, 2 p, 1 pre
    "form": """<form><input type="text"><input type="password"></form><a href="#a">a</a><a href="#b">b</a>
<p>p1</p><p>p2</p><pre>pre</pre><div></div><span></span>""",
    # Blink's saturation vector: ten paragraphs of 10,000 characters
    "saturate": "".join(f"<p>{'s' * 10000}</p>" for _ in range(10)),
    # where extract_features.js and Blink differ on purpose (reference §9.10)
    "differences": f"""<input><input type="TEXT"><input type="text"><ul><li><pre>{"a" * 200}</pre></li></ul>
<p style="width:0;height:0;overflow:hidden">{"b" * 300}</p><p class="share">{"c" * 500}</p>""",
    # UTF-16 lengths: an emoji is two units; CJK one unit but three UTF-8 bytes
    "unicode": f"<p>{'😀' * 150}</p><p>{'中' * 200}</p>",
    "og-upper": "<p>x</p>",
    "og-spaced": "<p>x</p>",
}
HEADS = {
    "og-upper": '<meta property="og:type" content="Article">',
    "og-spaced": '<meta property="og:type" content=" article">',
    "mixed": '<meta name="og:type" content="ARTICLE">',
}


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    root = tmp_path_factory.mktemp("features-site")
    for name, body in PAGES.items():
        (root / f"{name}.html").write_text(
            f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{name}</title>{HEADS.get(name, '')}</head>"
            f"<body>{body}</body></html>",
            encoding="utf-8",
        )

    async def collect(server):
        results = {}
        async with BrowserPool(BrowserConfig(allow_hosts=("127.0.0.1",))) as pool:
            for name in PAGES:

                async def work(context, blocked, timings, name=name):
                    page = await context.new_page()
                    await page.goto(f"{server.url}/{name}.html")
                    return await extract(page)

                results[name] = await pool.run_page(f"{server.url}/{name}.html", work)
        return results

    with SiteServer(root) as server:
        return asyncio.run(collect(server))


def test_seventeen_keys(extracted):
    js, _ = extracted["form"]
    assert sorted(js) == sorted(
        [
            "opengraph",
            "url",
            "title",
            "numElements",
            "numAnchors",
            "numForms",
            "numTextInput",
            "numPasswordInput",
            "numPPRE",
            "innerText",
            "textContent",
            "innerHTML",
            "mozScore",
            "mozScoreAllSqrt",
            "mozScoreAllLinear",
            "visibleElements",
            "visiblePPRE",
        ]
    )
    assert js["title"] == "form" and js["url"].endswith("/form.html")


def test_blink_mixed_vector(extracted):
    js, native = extracted["mixed"]
    for moz, sqrt_all, linear in (
        (js["mozScore"], js["mozScoreAllSqrt"], js["mozScoreAllLinear"]),
        (native["moz_score"], native["moz_score_all_sqrt"], native["moz_score_all_linear"]),
    ):
        assert math.isclose(moz, math.sqrt(4))
        assert math.isclose(sqrt_all, 1 + 12 + 3 + math.sqrt(12))
        assert linear == 166
    assert js["numPPRE"] == 10 and js["visiblePPRE"] == 6  # hidden: display, child of display, visibility, opacity
    assert js["opengraph"] is True and native["open_graph"] is True


def test_blink_form_vector(extracted):
    js, native = extracted["form"]
    assert (
        native["element_count"],
        native["anchor_count"],
        native["form_count"],
        native["text_input_count"],
        native["password_input_count"],
        native["p_count"],
        native["pre_count"],
    ) == (10, 2, 1, 1, 1, 2, 1)
    assert (
        js["numElements"],
        js["numAnchors"],
        js["numForms"],
        js["numTextInput"],
        js["numPasswordInput"],
        js["numPPRE"],
    ) == (10, 2, 1, 1, 1, 3)


def test_blink_saturation_vector(extracted):
    js, native = extracted["saturate"]
    assert math.isclose(js["mozScore"], 6 * math.sqrt(860)) and math.isclose(js["mozScore"], 175.9545, abs_tol=1e-4)
    assert math.isclose(js["mozScoreAllSqrt"], 6 * math.sqrt(1000))
    assert js["mozScoreAllLinear"] == 6000
    assert math.isclose(native["moz_score"], 6 * math.sqrt(860)) and native["moz_score_all_linear"] == 6000


def test_js_and_native_differ_where_the_reference_says(extracted):
    js, native = extracted["differences"]
    assert js["numTextInput"] == 2 and native["text_input_count"] == 3  # no type attribute: native only
    # JS: pre inside li counts, the 0x0 p does not; native: the reverse (no box test, any li ancestor)
    assert math.isclose(js["mozScore"], math.sqrt(60)) and js["mozScoreAllLinear"] == 200
    assert math.isclose(native["moz_score"], math.sqrt(160)) and native["moz_score_all_linear"] == 300
    assert js["visiblePPRE"] == 2  # the pre and the .share p


def test_utf16_lengths_and_utf8_derived(extracted):
    js, native = extracted["unicode"]
    # 150 emoji = 300 UTF-16 units, capped at nothing (< 1000); 200 CJK = 200 units
    assert math.isclose(js["mozScore"], math.sqrt(160) + math.sqrt(60))
    assert js["mozScoreAllLinear"] == 500 and native["moz_score_all_linear"] == 500
    d = as_dict(derived_features(0, js))
    assert d["innerTextLength"] == len(js["innerText"].encode("utf-8"))
    assert d["innerTextLength"] >= 150 * 4 + 200 * 3
    assert d["innerTextWordCount"] == 0


def test_og_type_is_upper_cased_but_not_trimmed(extracted):
    assert extracted["og-upper"][0]["opengraph"] is True and extracted["og-upper"][1]["open_graph"] is True
    assert extracted["og-spaced"][0]["opengraph"] is False and extracted["og-spaced"][1]["open_graph"] is False
    assert extracted["form"][0]["opengraph"] is False
