"""A page's rows: its tokens in the pages table, and each sample's tokens in image pixels."""

import json

from boxcrawl.extract.tokenizer import TokenSpans
from boxcrawl.records import Crop, Measurement, Outcome, RenderedPage
from boxcrawl.write.formats import pack
from boxcrawl.write.rows import build_rows


def _rows(scale: float):
    text = "Hello wide world"
    m = Measurement(
        text=text,
        links=[],
        width=512,
        height=300,
        elements=3,
        cross_origin_frames=0,
        # "Hello" on one line, "wide" across two lines, "world" hidden
        boxes=[[10.02, 20, 40, 30], [50, 20, 70, 30, 0.02, 40, 12.5, 50], [80, 20, 110, 30]],
        hidden=["", "", "style"],
    )
    page = RenderedPage(
        url="http://a/",
        final_url="http://a/",
        status=200,
        content_type="text/html",
        outcome=Outcome.OK,
        error=None,
        measurement=m,
        images=[b"png"],
    )
    spans = TokenSpans(["hello", "wide", "world"], [7592, 2898, 2088], [(0, 5), (6, 10), (11, 16)])
    crop = Crop(box=(0.0, 10.0, 120.0, 60.0), tokens=(0, 1), cut=())
    return build_rows(
        "http://a/",
        0,
        0,
        page,
        spans,
        [crop],
        tokenizer="t",
        scale=scale,
        viewport=(512, 512),
        image_format="png",
        browser_version=None,
    )


def test_page_tokens_keep_every_line_box_and_the_hidden_reason():
    packed = pack(_rows(1.0))
    tokens = packed.page.to_pylist()[0]["tokens"]
    assert [t["text"] for t in tokens] == ["Hello", "wide", "world"]
    assert [len(t["boxes"]) for t in tokens] == [1, 2, 1]
    assert tokens[1]["boxes"][1] == [0.019999999552965164, 40.0, 12.5, 50.0]  # float32
    assert [(t["visible"], t["hidden_reason"]) for t in tokens] == [(True, None), (True, None), (False, "style")]
    assert [(t["start"], t["end"], t["id"]) for t in tokens] == [(0, 5, 7592), (6, 10, 2898), (11, 16, 2088)]


def test_sample_boxes_are_image_pixels_rounded_as_decimals():
    rows = _rows(1.25)
    (sample,) = rows.samples
    meta = json.loads(pack(rows).members[0][3])
    assert meta == json.loads(json.dumps(sample.meta))  # what the .json member says is the row
    first, second = meta["tokens"]
    assert first["index"] == 0 and first["box"] == [12.52, 12.5, 50.0, 25.0]  # 10.02 * 1.25 is 12.524999...
    # 0.02 * 1.25 is 0.025000000000000001 in binary: 0.03 as a decimal (np.round would say 0.02);
    # 12.5 * 1.25 is 15.625 exactly: half to even, 15.62
    assert second["boxes"] == [[62.5, 12.5, 87.5, 25.0], [0.03, 37.5, 15.62, 50.0]]
    assert second["box"] == second["boxes"][0] and meta["width"] == 150 and meta["height"] == 62
