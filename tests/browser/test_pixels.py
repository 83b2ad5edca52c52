"""Samples match their pixels: on adversarial pages (wide, overflowing, sticky, lazy, 100vh, late
script text, animations, carousels, 100,000 px long), rendered with the default settings in the real
Chromium, every sample token has ink under its box, no crop leaves the painted page, and a token the
crop edge cuts is recorded in the page's ``crops`` (``cut_tokens``) and counted in the sample."""

import json

import pytest
from conftest import fast_flags, run_boxcrawl
from site_server import SITE

import boxcrawl
from boxcrawl.inkcheck import Gray

pytestmark = pytest.mark.browser

PAGES = sorted(p.name for p in (SITE / "pixels").glob("*.html"))
WIDE = ("wide-table.html", "pre-overflow.html", "fixed-width.html")


@pytest.fixture(scope="module")
def dataset(site, tmp_path_factory):
    out = tmp_path_factory.mktemp("pixels") / "out"
    urls = [f"{site.url}/pixels/{name}" for name in PAGES] + [f"{site.url}/long"]
    # the defaults, but for loopback-only and no politeness delay between pages of one host
    run_boxcrawl("render", *urls, "--out", out, *fast_flags(), timeout=400)
    return out


@pytest.fixture(scope="module")
def pages(dataset):
    return {p["url"].rsplit("/", 1)[1]: p for p in boxcrawl.open_dataset(dataset).pages()}


@pytest.fixture(scope="module")
def samples(dataset):
    return list(boxcrawl.open_dataset(dataset).samples())


def test_every_adversarial_page_renders_and_gives_samples(pages, samples):
    assert set(pages) == {*PAGES, "long"}
    for name, page in pages.items():
        assert page["outcome"] == "ok", (name, page["error"])
    with_samples = {s["url"].rsplit("/", 1)[1] for s in samples}
    assert with_samples == set(pages), set(pages) - with_samples


def test_audit_finds_ink_under_at_least_995_of_1000_sample_tokens(dataset):
    proc = run_boxcrawl("audit", dataset, "--json", "--min-ink-share", "0.995", check=False)
    report = json.loads(proc.stdout)
    assert proc.returncode == 0, (report["ink_share"], report["failing"])
    assert report["tokens"] > 3000
    assert report["failing_samples"] == 0, report["failing"]


def test_no_crop_leaves_the_page_and_no_token_leaves_its_crop(pages, samples):
    for s in samples:
        page = pages[s["url"].rsplit("/", 1)[1]]
        x0, y0, x1, y1 = s["crop"]
        assert 0 <= x0 < x1 <= page["width"] and 0 <= y0 < y1 <= page["height"], (s["key"], s["crop"])
        for t in s["tokens"]:
            for bx0, by0, bx1, by1 in page["tokens"][t["index"]]["boxes"]:  # page px, unclipped
                assert bx0 >= x0 - 0.5 and bx1 <= x1 + 0.5 and by0 >= y0 - 0.5 and by1 <= y1 + 0.5, (
                    s["key"],
                    t["text"],
                    [bx0, by0, bx1, by1],
                    s["crop"],
                )


def test_every_visible_token_the_crop_edge_cuts_is_in_cut_tokens(pages, samples):
    for s in samples:
        page = pages[s["url"].rsplit("/", 1)[1]]
        x0, y0, x1, y1 = s["crop"]
        inside = {t["index"] for t in s["tokens"]}
        (crop,) = [c for c in page["crops"] if c["key"] == s["key"]]
        assert crop["tokens"] == sorted(inside) and crop["box"] == pytest.approx(s["crop"])
        cut = set(crop["cut_tokens"])
        assert s["n_cut_tokens"] == len(cut)
        for i, t in enumerate(page["tokens"]):
            if not t["visible"] or i in inside:
                continue
            touches = any(
                b[2] > x0 + 0.5 and b[0] < x1 - 0.5 and b[3] > y0 + 0.5 and b[1] < y1 - 0.5 for b in t["boxes"]
            )
            if touches:
                assert i in cut, (s["key"], t["text"], t["boxes"], s["crop"])


def test_wide_pages_are_captured_right_of_the_viewport(pages, samples):
    # the text right of x = 512 is painted in the capture and ends up in samples, not cut off
    for name in WIDE:
        assert pages[name]["width"] > 600, name
        right = [s for s in samples if s["url"].endswith(name) and s["crop"][2] > 560]
        assert right, f"{name}: no sample right of the 512 px viewport"
        for s in right:
            gray = Gray(s["image"])
            inked = sum(gray.token_has_ink(t["boxes"]) for t in s["tokens"])
            assert inked == len(s["tokens"]), (name, s["key"], inked, len(s["tokens"]))


def test_a_page_over_100000_px_is_measured_to_its_end(pages):
    page = pages["long"]
    assert page["height"] > 100_000
    offpage = sum(t["hidden_reason"] == "offpage" for t in page["tokens"])
    assert offpage == 0, offpage
    last = page["tokens"][-1]
    assert last["visible"] and last["boxes"][0][1] > 100_000, last


def test_text_changed_after_load_is_measured_as_captured(pages):
    late = pages["late.html"]
    # the eight late paragraphs arrive within 0.5 s of load: settling waits for them
    assert late["text"].count(".") >= 8 * 2 + 10
    assert "updated" in late["text"]  # the ticker keeps changing: the page was frozen as it was
    anim = pages["anim.html"]
    # an animation that ends at opacity 0 is measured at its end, not while it fades
    assert any(t["hidden_reason"] in ("style", "transparent") for t in anim["tokens"])


def test_text_below_100000_px_is_captured_where_it_was_measured(site, tmp_path):
    out = tmp_path / "out"
    run_boxcrawl("render", f"{site.url}/deep", "--out", out, *fast_flags(), timeout=200)
    crops = [s["crop"] for s in boxcrawl.open_dataset(out).samples()]
    assert crops and min(c[1] for c in crops) > 100_000, crops
    report = json.loads(run_boxcrawl("audit", out, "--json").stdout)
    assert report["ink_share"] >= 0.995 and report["failing_samples"] == 0, report


def test_the_pipeline_takes_out_tokens_its_own_pixels_do_not_show(site, tmp_path):
    # --visibility none believes every laid-out word: the check of the captured crops must not
    out = tmp_path / "out"
    run_boxcrawl("render", f"{site.url}/unpainted.html", "--out", out, "--visibility", "none", *fast_flags())
    (page,) = boxcrawl.open_dataset(out).pages()
    removed = [t["text"] for t in page["tokens"] if t["hidden_reason"] == "no_ink"]
    assert page["n_no_ink"] == len(removed) > 10
    assert set(removed) == {"ghost"}
    samples = list(boxcrawl.open_dataset(out).samples())
    assert samples and all(t["text"] != "ghost" for s in samples for t in s["tokens"])
    assert json.loads(run_boxcrawl("audit", out, "--json").stdout)["ink_share"] == 1.0


def test_a_2x_capture_matches_its_boxes(site, tmp_path):
    out = tmp_path / "out"
    run_boxcrawl(
        "render",
        f"{site.url}/pixels/fixed-width.html",
        f"{site.url}/long",
        "--out",
        out,
        "--scale",
        "2",
        "--crop-max",
        "1024x512",
        *fast_flags(),
        timeout=200,
    )  # same CSS px crops
    samples = list(boxcrawl.open_dataset(out).samples())
    assert {s["url"].rsplit("/", 1)[1] for s in samples} == {"fixed-width.html", "long"}
    for s in samples:
        x0, y0, x1, y1 = s["crop"]
        assert s["image"].size == (round(2 * (x1 - x0)), round(2 * (y1 - y0))), (s["key"], s["image"].size)
    report = json.loads(run_boxcrawl("audit", out, "--json").stdout)
    assert report["ink_share"] >= 0.995 and report["failing_samples"] == 0, report
