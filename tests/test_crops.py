"""Crop selection on synthetic pages: pure geometry, no browser."""

import random

from boxcrawl.config import SelectConfig
from boxcrawl.records import Measurement
from boxcrawl.select.crops import select_crops


def page(columns, lines=60, line_h=20, word_w=(20, 70), gap=6, top=10, hidden_every=0):
    """Words laid out like text: one box per token, `columns` = [(x_left, width), ...]."""
    rng = random.Random(1)
    boxes, hidden = [], []
    for x_left, width in columns:
        y = top
        for line in range(lines):
            x = x_left
            while True:
                w = rng.randint(*word_w)
                if x + w > x_left + width:
                    break
                boxes.append([x, y + 3, x + w, y + line_h - 3])
                hidden.append("style" if hidden_every and len(boxes) % hidden_every == 0 else "")
                x += w + gap
            y += line_h + (10 if line % 8 == 7 else 0)  # paragraph gaps
    height = max(b[3] for b in boxes) + 20
    width = max(x + w for x, w in columns) + 10
    return Measurement(
        text="", links=[], width=width, height=height, elements=0, cross_origin_frames=0, boxes=boxes, hidden=hidden
    )


def check(m, crops, cfg, scale=1.0):
    assert crops, "expected at least one crop"
    for c in crops:
        x0, y0, x1, y1 = c.box
        assert (x1 - x0) * scale <= cfg.max_width and (y1 - y0) * scale <= cfg.max_height
        assert (y1 - y0) * scale >= cfg.min_height
        assert len(c.tokens) >= cfg.min_tokens
        for i in c.tokens:
            assert not m.hidden[i], "only visible tokens count"
            b = m.boxes[i]
            assert b[0] >= x0 - 0.5 and b[2] <= x1 + 0.5 and b[1] >= y0 - 0.5 and b[3] <= y1 + 0.5
        assert 0 <= x0 and x1 <= m.width + 1 and 0 <= y0 and y1 <= m.height + 1
    for i, a in enumerate(crops):
        for b in crops[i + 1 :]:
            w = min(a.box[2], b.box[2]) - max(a.box[0], b.box[0])
            h = min(a.box[3], b.box[3]) - max(a.box[1], b.box[1])
            if w > 0 and h > 0:
                smaller = min(
                    (a.box[2] - a.box[0]) * (a.box[3] - a.box[1]), (b.box[2] - b.box[0]) * (b.box[3] - b.box[1])
                )
                assert w * h / smaller <= cfg.max_overlap


def test_single_column_crops_meet_every_criterion_and_cut_nothing():
    m = page([(10, 480)])
    cfg = SelectConfig(max_crops=0)
    crops = select_crops(m, cfg)
    check(m, crops, cfg)
    assert all(not c.cut for c in crops)
    assert len(crops) >= 4  # 60 lines of text: several non-overlapping crops


def test_hidden_tokens_never_count_toward_the_minimum():
    m = page([(10, 480)], lines=12, hidden_every=2)
    cfg = SelectConfig(min_tokens=50)
    for c in select_crops(m, cfg):
        assert all(m.hidden[i] == "" for i in c.tokens)
    everything_hidden = page([(10, 480)], lines=12)
    everything_hidden.hidden = ["covered"] * len(everything_hidden.boxes)
    assert select_crops(everything_hidden, cfg) == []


def test_two_columns_wider_than_a_crop_are_cropped_per_column():
    m = page([(10, 400), (450, 400)])
    cfg = SelectConfig(max_crops=0)
    crops = select_crops(m, cfg)
    check(m, crops, cfg)
    assert all(not c.cut for c in crops)
    lefts = {c.box[0] < 420 for c in crops}
    assert lefts == {True, False}, "both columns yield crops"


def test_text_wider_than_a_crop_records_the_tokens_it_cuts():
    m = page([(10, 900)], lines=20)
    cfg = SelectConfig(max_crops=0)
    crops = select_crops(m, cfg)
    check(m, crops, cfg)
    for c in crops:
        x0, y0, x1, y1 = c.box
        for i in c.cut:
            b = m.boxes[i]
            crosses = (b[0] < x0 < b[2]) or (b[0] < x1 < b[2]) or (b[1] < y0 < b[3]) or (b[1] < y1 < b[3])
            assert crosses


def test_small_text_block_is_padded_to_the_minimum_height():
    m = page([(10, 480)], lines=4)  # ~80 px of text
    cfg = SelectConfig(min_tokens=20)
    crops = select_crops(m, cfg)
    check(m, crops, cfg)


def test_too_few_tokens_gives_no_crop():
    m = page([(10, 480)], lines=2)
    assert select_crops(m, SelectConfig()) == []


def test_max_crops_and_scale():
    m = page([(10, 480)], lines=120)
    assert len(select_crops(m, SelectConfig(max_crops=3))) == 3
    cfg = SelectConfig(max_crops=0, min_tokens=20)
    crops = select_crops(m, cfg, scale=2.0)  # limits are image pixels: half the CSS size
    check(m, crops, cfg, scale=2.0)
