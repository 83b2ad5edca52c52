"""Suite truth parsing and token scoring (no browser)."""

import pytest

from boxcrawl.browser.ink import judge, regions_for
from boxcrawl.visibility.truth import SuiteError, load_suite, score_page


def test_truth_comes_from_comments_and_scores_tokens_by_word(tmp_path):
    (tmp_path / "01-a.html").write_text(
        "<!doctype html>\n<!-- visible: alpha gamma -->\n<!-- hidden: beta -->\n<p>alpha beta</p>"
    )
    (tmp_path / "notes.txt").write_text("ignored")
    [page] = load_suite(tmp_path)
    assert page.words == {"alpha": True, "gamma": True, "beta": False}
    text = "alpha beta extra"
    offsets = [(0, 3), (3, 5), (6, 10), (11, 16)]  # "alp" "##ha" "beta" "extra"
    errors = []
    score = score_page(page, text, offsets, ["", "covered", "", ""], errors)
    assert (score.tp, score.fn, score.fp, score.unlabeled) == (1, 2, 1, 1)  # gamma is missing: one more miss
    assert any("gamma" in e for e in errors) and any("beta" in e for e in errors)
    assert score.accuracy == pytest.approx(1 / 4)


def test_a_folder_without_truth_is_a_clear_error(tmp_path):
    (tmp_path / "x.html").write_text("<p>no truth</p>")
    with pytest.raises(SuiteError, match="no pages"):
        load_suite(tmp_path)
    with pytest.raises(SuiteError, match="no suite folder"):
        load_suite(tmp_path / "missing")


def test_ink_regions_group_nearby_boxes_and_judge_reads_the_diff():
    import io

    import numpy as np
    from PIL import Image

    boxes = [[10, 10, 50, 30], [10, 40, 80, 60], [10, 5000, 40, 5020]]
    regions = regions_for(boxes, 512, 6000)
    assert regions == [(10, 10, 80, 60), (10, 5000, 40, 5020)]

    def png(array):
        buf = io.BytesIO()
        Image.fromarray(array).save(buf, format="PNG")
        return buf.getvalue()

    first = np.full((50, 70, 3), 255, np.uint8)
    second = first.copy()
    first[5:15, 5:20] = 0  # ink of the first token only, at page (15..30, 15..25)
    blank = np.full((20, 30, 3), 255, np.uint8)
    out = judge(
        {0: [boxes[0]], 1: [boxes[1]], 2: [boxes[2]]}, regions, [png(first), png(blank)], [png(second), png(blank)], 1.0
    )
    assert out[0].visible and out[0].boxes == [[15, 15, 30, 25]]
    assert not out[1].visible and not out[2].visible


def test_eval_visibility_bad_input_is_one_line(tmp_path):
    from conftest import run_boxcrawl

    proc = run_boxcrawl("eval-visibility", tmp_path, "--methods", "magic", check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "boxcrawl eval-visibility: error: unknown method magic: choose from combined, heuristic, occlusion, pixel, none"
    )
    proc = run_boxcrawl("eval-visibility", tmp_path / "nowhere", "--docs", "0", check=False)
    assert proc.returncode == 2 and "no suite folder" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_boxcrawl("render", "http://127.0.0.1:9/", "--out", tmp_path / "o", "--visibility", "x", check=False)
    assert proc.returncode == 2 and "invalid choice" in proc.stderr
