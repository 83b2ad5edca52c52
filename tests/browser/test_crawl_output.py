"""A crawl of the local test site, read back through every output format."""

import csv
import io
import json
import tarfile

import pyarrow.parquet as pq
import pytest
import webdataset as wds
from conftest import fast_flags, run_boxcrawl
from PIL import Image

import boxcrawl

pytestmark = pytest.mark.browser

SITE_PAGES = {"index.html", "a.html", "b.html", "c.html", "about.html"}


@pytest.fixture(scope="module")
def crawled(site, tmp_path_factory):
    out = tmp_path_factory.mktemp("crawl")
    proc = run_boxcrawl(
        "crawl",
        f"{site.url}/index.html",
        "--out",
        out,
        "--seed-layout",
        "--tabs",
        "2",
        "--max-attempts",
        "1",
        *fast_flags(),
        check=False,
    )
    assert proc.returncode == 1, proc.stderr  # done, and one page failed: the site links a missing.html
    return out, proc


def test_crawl_follows_links_and_records_every_page(crawled, site):
    out, proc = crawled
    pages = {p["url"]: p for p in boxcrawl.open_dataset(out).pages()}
    for name in SITE_PAGES:
        page = pages[f"{site.url}/{name}"]
        assert page["outcome"] == "ok" and page["status"] == 200, page["error"]
        assert page["n_samples"] >= 1 and page["n_visible"] > 100
        assert page["timings"]["load"] > 0
    missing = pages[f"{site.url}/missing.html"]
    assert (missing["outcome"], missing["status"], missing["error"]) == ("http_error", 404, "HTTP 404")
    # no fragments, no mailto, no internal address reached; each page once
    assert not any("#" in u or u.startswith("mailto") or "10.0.0.1" in u for u in pages)
    assert len(pages) == len(SITE_PAGES) + 1
    assert "pages/min" in proc.stdout


def test_pages_carry_all_tokens_with_spans_boxes_and_visibility(crawled):
    out, _ = crawled
    page = next(p for p in boxcrawl.open_dataset(out).pages() if p["outcome"] == "ok")
    text, tokens = page["text"], page["tokens"]
    assert tokens and page["n_tokens"] == len(tokens)
    assert page["n_visible"] == sum(t["visible"] for t in tokens)
    for t in tokens:
        assert text[t["start"] : t["end"]] == t["text"]
        assert t["visible"] == (t["hidden_reason"] is None)
        if t["visible"]:
            assert t["boxes"] and all(len(b) == 4 and b[2] > b[0] and b[3] > b[1] for b in t["boxes"])


def test_samples_meet_the_criteria_and_match_their_images(crawled):
    out, _ = crawled
    samples = list(boxcrawl.open_dataset(out).samples())
    assert len(samples) >= len(SITE_PAGES)
    keys = [s["key"] for s in samples]
    assert len(keys) == len(set(keys)) and not any("." in k for k in keys)
    for s in samples:
        img = s["image"]
        assert img.size == (s["width"], s["height"])
        assert img.width <= 512 and 100 <= img.height <= 256
        assert s["n_tokens"] == len(s["tokens"]) >= 50
        for t in s["tokens"]:
            x0, y0, x1, y1 = t["box"]
            assert 0 <= x0 < x1 <= img.width and 0 <= y0 < y1 <= img.height
            assert isinstance(t["id"], int) and t["text"]


def test_webdataset_library_reads_the_shards(crawled):
    out, _ = crawled
    shards = [str(p) for p in boxcrawl.open_dataset(out).shards]
    assert shards
    n = 0
    for sample in wds.WebDataset(shards, shardshuffle=False):
        meta = json.loads(sample["json"])
        assert meta["key"] == sample["__key__"]
        assert Image.open(io.BytesIO(sample["png"])).size == (meta["width"], meta["height"])
        n += 1
    assert n == sum(1 for _ in boxcrawl.open_dataset(out).samples())


def test_parquet_tables(crawled):
    out, _ = crawled
    ds = boxcrawl.open_dataset(out)
    pages, samples = ds.pages_table(), ds.samples_table()
    assert pages.num_rows == len(SITE_PAGES) + 1
    assert samples.num_rows == sum(1 for _ in ds.samples())
    for column in ("url", "final_url", "status", "error", "timings", "tokens"):
        assert column in pages.column_names
    schema = pq.read_schema(next((out / "pages").glob("*.parquet")))
    assert str(schema.field("tokens").type).startswith("list<element: struct<text: string")


def test_seed_layout_one_csv_per_image_header_once(crawled):
    out, _ = crawled
    images = sorted((out / "img").glob("*.png"))
    csvs = sorted((out / "csv").glob("*.csv"))
    assert images and [p.stem for p in images] == [p.stem for p in csvs]
    for path in csvs:
        raw = path.read_text(encoding="utf-8")
        assert raw.count("url,key,word,token,token_id,x,y,width,height") == 1
        rows = list(csv.DictReader(io.StringIO(raw)))
        with Image.open(out / "img" / f"{path.stem}.png") as im:
            w, h = im.size
        for r in rows:
            assert 0 <= float(r["x"]) and float(r["x"]) + float(r["width"]) <= w + 0.01
            assert 0 <= float(r["y"]) and float(r["y"]) + float(r["height"]) <= h + 0.01
            assert int(r["token_id"]) >= 0


def test_rerun_of_a_finished_crawl_adds_nothing(crawled, site):
    out, _ = crawled
    before = sorted(p.name for p in (out / "wds").iterdir())
    run_boxcrawl("crawl", f"{site.url}/index.html", "--out", out, "--seed-layout", *fast_flags())
    assert sorted(p.name for p in (out / "wds").iterdir()) == before
    assert sum(1 for _ in boxcrawl.open_dataset(out).pages()) == len(SITE_PAGES) + 1


def test_show_writes_a_gallery(crawled):
    out, _ = crawled
    proc = run_boxcrawl("show", out)
    html = (out / "gallery.html").read_text()
    assert "gallery.html" in proc.stdout
    assert html.count("<figure>") >= len(SITE_PAGES)
    assert html.count('class="mask"') == html.count("<figure>")  # one masked token per sample
    assert "data:image/png;base64," in html and "http_error" in html


def test_status(crawled):
    out, _ = crawled
    status = json.loads(run_boxcrawl("status", out, "--json").stdout)
    assert status["done"] == len(SITE_PAGES) + 1 and status["failed"] == 1 and status["queued"] == 0


def test_quotes_survive_csv_round_trip(site, tmp_path):
    run_boxcrawl(
        "render",
        f"{site.url}/quotes.html",
        "--out",
        tmp_path,
        "--seed-layout",
        "--min-tokens",
        "20",
        "--crop-min-height",
        "40",
        *fast_flags(),
    )
    rows = [r for p in (tmp_path / "csv").glob("*.csv") for r in csv.DictReader(p.open(encoding="utf-8"))]
    assert any(r["word"] == '"' for r in rows), "a quote token is its own row, quoted properly"
    with tarfile.open(next((tmp_path / "wds").glob("*.tar"))) as tar:
        names = tar.getnames()
    assert all(n.count(".") == 1 for n in names)
