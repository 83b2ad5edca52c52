"""The ink criterion, the pipeline's check of its crops, and `boxcrawl audit` on a dataset that is
not boxcrawl's (the seed layout: img/ + csv/), on images drawn with PIL's own text renderer."""

import csv
import io
import json

import numpy as np
from conftest import run_boxcrawl
from PIL import Image, ImageDraw, ImageFont

from boxcrawl.inkcheck import Gray, _median
from boxcrawl.records import Crop, Measurement
from boxcrawl.select.verify import verify_crops

FONT = ImageFont.load_default()


def _png(draw_words, size=(300, 120), background="white", blocks=()) -> tuple[bytes, list[list[float]]]:
    """An image with the given words drawn left to right on one line; returns it and each word's
    text bounding box as PIL measured it."""
    im = Image.new("RGB", size, background)
    d = ImageDraw.Draw(im)
    for box, fill in blocks:
        d.rectangle(box, fill=fill)
    boxes, x = [], 10
    for word, fill in draw_words:
        bbox = d.textbbox((x, 40), word, font=FONT)
        if fill is not None:
            d.text((x, 40), word, font=FONT, fill=fill)
        boxes.append([float(v) for v in bbox])
        x = bbox[2] + 8
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue(), boxes


def test_drawn_words_have_ink_and_missing_or_invisible_ones_do_not():
    png, boxes = _png([("ink", "black"), ("gone", None), ("pale", (250, 250, 250)), ("grey", (120, 120, 120))])
    g = Gray(png)
    assert [g.has_ink(b) for b in boxes] == [True, False, False, True]


def test_a_box_on_a_solid_dark_block_without_glyphs_has_no_ink():
    # differs from the white median everywhere, but is flat: a cover, not text
    png, boxes = _png([("hidden", None)], blocks=[((0, 30, 299, 70), (20, 20, 20))])
    assert not Gray(png).has_ink(boxes[0])
    png, boxes = _png([("shown", "white")], blocks=[((0, 30, 299, 70), (20, 20, 20))])
    assert Gray(png).has_ink(boxes[0])  # white text on a dark bar is text


def test_every_fragment_of_a_token_must_have_ink():
    png, boxes = _png([("one", "black"), ("two", None)])
    g = Gray(png)
    assert g.token_has_ink([boxes[0]])
    assert not g.token_has_ink([boxes[0], boxes[1]])


def _measurement(page_boxes):
    return Measurement(
        text="",
        links=[],
        width=300,
        height=120,
        elements=0,
        cross_origin_frames=0,
        boxes=[[*b] for b in page_boxes],
        hidden=[""] * len(page_boxes),
    )


def test_verify_hides_tokens_without_ink_and_drops_crops_left_too_small():
    png, boxes = _png([("alpha", "black"), ("beta", "black"), ("gamma", None), ("delta", "black")])
    # the crop is the whole image placed at page (100, 1000): boxes go to page coordinates
    page_boxes = [[b[0] + 100, b[1] + 1000, b[2] + 100, b[3] + 1000] for b in boxes]
    m = _measurement(page_boxes)
    crop = Crop(box=(100.0, 1000.0, 400.0, 1120.0), tokens=(0, 1, 2, 3), cut=(2,))
    kept, images = verify_crops(m, [crop], [png], 1.0, min_tokens=3)
    assert m.hidden == ["", "", "no_ink", ""] and m.no_ink == 1
    assert kept == [Crop(box=crop.box, tokens=(0, 1, 3), cut=())] and images == [png]
    m = _measurement(page_boxes)
    kept, images = verify_crops(m, [crop], [png], 1.0, min_tokens=4)
    assert kept == [] and images == []  # three left: fewer than --min-tokens


def test_verify_uses_the_device_scale():
    png, boxes = _png([("scaled", "black"), ("nothing", None)], size=(400, 160))
    page_boxes = [[v / 2 for v in b] for b in boxes]  # a 2x capture of CSS px boxes
    m = _measurement(page_boxes)
    kept, _ = verify_crops(m, [Crop(box=(0.0, 0.0, 200.0, 80.0), tokens=(0, 1), cut=())], [png], 2.0, 1)
    assert m.hidden == ["", "no_ink"] and kept[0].tokens == (0,)


def _seed_dataset(root, samples):
    (root / "img").mkdir(parents=True)
    (root / "csv").mkdir()
    for key, (png, words) in samples.items():
        (root / "img" / f"{key}.png").write_bytes(png)
        with (root / "csv" / f"{key}.csv").open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(
                ["url", "key", "word", "token", "token_id", "x", "y", "width", "height", "start", "end", "token_index"]
            )
            for i, (word, (x0, y0, x1, y1)) in enumerate(words):
                w.writerow([f"http://example.test/{key}", key, word, word, 0, x0, y0, x1 - x0, y1 - y0, 0, 0, i])


def test_audit_reads_the_seed_layout_and_names_the_failing_sample(tmp_path):
    good, good_boxes = _png([(w, "black") for w in ("one", "two", "three", "four")])
    bad, bad_boxes = _png([("five", "black"), ("six", None), ("seven", None), ("eight", "black")])
    _seed_dataset(
        tmp_path / "ds",
        {
            "good": (good, list(zip(("one", "two", "three", "four"), good_boxes))),
            "bad": (bad, list(zip(("five", "six", "seven", "eight"), bad_boxes))),
        },
    )
    proc = run_boxcrawl("audit", tmp_path / "ds", "--json", "--min-ink-share", "0.9", check=False)
    report = json.loads(proc.stdout)
    assert proc.returncode == 1  # 6 of 8 tokens: below 0.9
    assert (report["samples"], report["tokens"], report["tokens_with_ink"]) == (2, 8, 6)
    assert [f["key"] for f in report["failing"]] == ["bad"] and report["blank"] == 0
    assert report["pages"] is None  # no pages table in this layout
    table = run_boxcrawl("audit", tmp_path / "ds").stdout
    assert "75.00 %" in table and "bad" in table


def test_audit_of_a_folder_without_samples_is_one_line(tmp_path):
    proc = run_boxcrawl("audit", tmp_path, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "no samples" in proc.stderr


def test_the_gallery_frames_the_samples_that_fail_the_ink_check(tmp_path):
    import webdataset as wds

    from boxcrawl.show.gallery import write_gallery

    (tmp_path / "wds").mkdir()
    with wds.TarWriter(str(tmp_path / "wds" / "part-000000.tar")) as tar:
        for key, fills in (("good_000", ["black"] * 4), ("bad_000", ["black", None, None, "black"])):
            png, boxes = _png([(f"w{i}", fill) for i, fill in enumerate(fills)])
            tokens = [{"text": f"w{i}", "token": f"w{i}", "id": i, "box": b, "boxes": [b]} for i, b in enumerate(boxes)]
            meta = {
                "key": key,
                "url": f"http://example.test/{key}",
                "width": 300,
                "height": 120,
                "image_format": "png",
                "tokens": tokens,
            }
            tar.write({"__key__": key, "png": png, "json": json.dumps(meta).encode()})
    html = write_gallery(tmp_path).read_text()
    figures = html.split("<figure")[1:]
    good = next(f for f in figures if "good_000" in f)
    bad = next(f for f in figures if "bad_000" in f)
    assert "fails" not in good.split(">")[0] and 'noink"' not in good
    assert bad.startswith(" class=fails") and bad.count(' noink"') == 2 and "2 without ink" in bad


def test_the_histogram_median_is_numpys():
    rng = np.random.default_rng(7)
    shapes = [(1, 1), (1, 2), (2, 3), (256, 512), (255, 503)] + [tuple(rng.integers(1, 40, 2)) for _ in range(300)]
    for shape in shapes:
        greys = rng.integers(0, 256, size=shape).astype(np.int16)
        if rng.random() < 0.5:
            greys[:, : shape[1] // 2] = 255  # a white background, as text crops have
        assert _median(greys) == int(np.median(greys)), shape
    assert _median(np.zeros((0, 5), np.int16)) == 0
