"""The data loads where ML people load it: Hugging Face `datasets` (WebDataset and Parquet, with
and without --parquet-images, and the folder itself through its dataset card), `webdataset` + a
torch DataLoader, and pandas; each read agrees with `boxcrawl.open_dataset`.

The pages are rendered in this order, one tab, one crop each: five whose crop cuts no token, then
one whose crop must cut tokens. A loader that infers types from the first five samples (as
`datasets` does for WebDataset) sees every field's final type only if no field is ever empty or null.
"""

import json

import datasets
import pandas as pd
import pyarrow as pa
import pytest
import torch
import webdataset as wds
import yaml
from conftest import fast_flags, run_boxcrawl
from huggingface_hub import DatasetCard

import boxcrawl
from boxcrawl.loaders import GRID, collate, layout_example
from boxcrawl.write.schema import SAMPLE_FIELDS

pytestmark = pytest.mark.browser

PAGES = ["index.html", "a.html", "b.html", "c.html", "about.html", "prose.html", "quotes.html", "dense.html"]


def _render(site, out, *flags):
    urls = [f"{site.url}/{name}" for name in [*PAGES, "missing.html"]]
    proc = run_boxcrawl(
        "render",
        *urls,
        "--out",
        out,
        "--tabs",
        "1",
        "--max-crops",
        "1",
        "--max-attempts",
        "1",
        *flags,
        *fast_flags(),
        check=False,
    )
    assert proc.returncode == 1, proc.stderr  # missing.html failed, the rest rendered
    return out


@pytest.fixture(scope="module")
def plain(site, tmp_path_factory):
    return _render(site, tmp_path_factory.mktemp("plain"))


@pytest.fixture(scope="module")
def with_images(site, tmp_path_factory):
    """A crawl of the test site on the defaults (links followed, 16 crops a page, a 404), images in Parquet."""
    out = tmp_path_factory.mktemp("images")
    proc = run_boxcrawl(
        "crawl",
        f"{site.url}/index.html",
        "--out",
        out,
        "--parquet-images",
        "--max-attempts",
        "1",
        *fast_flags(),
        check=False,
    )
    assert proc.returncode == 1, proc.stderr  # the 404: done, with one failed page
    return out


@pytest.fixture(autouse=True)
def hf_cache(tmp_path, monkeypatch):
    """A fresh `datasets` cache per test: nothing read is an earlier test's copy."""
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf-cache")


def _truth(out):
    """What boxcrawl's own reader says, by sample key."""
    return {s["key"]: s for s in boxcrawl.open_dataset(out).samples()}


def _assert_same(rows, truth, image_of):
    assert len(rows) == len(truth)
    for row in rows:
        want = truth[row["key"]]
        assert image_of(row).size == want["image"].size == (want["width"], want["height"])
        assert row["n_tokens"] == len(row["tokens"]) == len(want["tokens"])
        for got, exp in zip(row["tokens"], want["tokens"]):
            assert got["id"] == exp["id"] and got["text"] == exp["text"]
            assert got["box"] == pytest.approx(exp["box"], abs=0.01)


def test_the_rendered_pages_give_what_the_inference_trap_needs(plain):
    samples = list(boxcrawl.open_dataset(plain).samples(decode=False))
    assert [s["url"].rsplit("/", 1)[1] for s in samples] == PAGES  # one crop each, in order
    assert all(s["n_cut_tokens"] == 0 for s in samples[:5])
    assert samples[-1]["n_cut_tokens"] > 0


def test_every_sample_json_has_every_field_with_its_one_type(plain):
    def check(value, type_, where):
        if pa.types.is_struct(type_):
            assert set(value) == {f.name for f in type_}, where
            for f in type_:
                check(value[f.name], f.type, f"{where}.{f.name}")
        elif pa.types.is_list(type_):
            assert isinstance(value, list), where
            for v in value:
                check(v, type_.value_type, where)
        else:
            kind = float if pa.types.is_floating(type_) else int if pa.types.is_integer(type_) else str
            assert type(value) is kind, (where, value, type_)

    for shard in boxcrawl.open_dataset(plain).shards:
        for sample in wds.WebDataset(shard, shardshuffle=False):
            meta = json.loads(sample["json"])
            assert set(meta) == set(SAMPLE_FIELDS.names), sorted(set(meta) ^ set(SAMPLE_FIELDS.names))
            for f in SAMPLE_FIELDS:
                check(meta[f.name], f.type, f.name)


def test_hf_datasets_loads_every_webdataset_shard(plain):
    ds = boxcrawl.open_dataset(plain)
    hf = datasets.load_dataset("webdataset", data_files={"train": ds.shards}, split="train")
    assert isinstance(hf.features["png"], datasets.Image)
    rows = [{**row["json"], "png": row["png"]} for row in hf]
    _assert_same(rows, _truth(plain), lambda r: r["png"])


def test_hf_datasets_loads_the_parquet_samples_without_and_with_images(plain, with_images):
    files = [str(p) for p in sorted((plain / "samples").glob("*.parquet"))]
    bare = datasets.load_dataset("parquet", data_files={"train": files}, split="train")
    assert "image" not in bare.features and len(bare) == len(_truth(plain))

    files = [str(p) for p in sorted((with_images / "samples").glob("*.parquet"))]
    hf = datasets.load_dataset("parquet", data_files={"train": files}, split="train")
    assert isinstance(hf.features["image"], datasets.Image)
    truth = _truth(with_images)
    _assert_same(list(hf), truth, lambda r: r["image"])
    raw = datasets.load_dataset("parquet", data_files={"train": files}, split="train").cast_column(
        "image", datasets.Image(decode=False)
    )
    by_key = {s["key"]: s for s in boxcrawl.open_dataset(with_images).samples(decode=False)}
    assert all(row["image"]["bytes"] == by_key[row["key"]]["image"] for row in raw)  # the very PNG of the shard


def test_to_hf_gives_the_same_typed_columns_from_shards_and_from_parquet(plain, with_images):
    a, b = boxcrawl.open_dataset(plain).to_hf(), boxcrawl.open_dataset(with_images).to_hf()
    assert a.features == b.features
    assert a.features["crop"] == datasets.List(datasets.Value("float32"))
    assert isinstance(a.features["image"], datasets.Image)
    _assert_same(list(a), _truth(plain), lambda r: r["image"])
    assert {r["shard"] for r in a} == {
        p.rsplit("/", 1)[1].removesuffix(".tar") for p in boxcrawl.open_dataset(plain).shards
    }


def test_webdataset_and_a_torch_dataloader_give_collated_layoutlm_batches(plain):
    ds = boxcrawl.open_dataset(plain)
    truth = _truth(plain)
    pipe = wds.WebDataset(ds.shards, shardshuffle=False).decode("pil").map(layout_example)
    [batch] = list(torch.utils.data.DataLoader(pipe, batch_size=8, collate_fn=collate))
    assert batch["input_ids"].shape[0] == 8 and batch["pixel_values"].shape == (8, 3, 224, 224)
    for row, key in enumerate(batch["key"]):
        want = truth[key]
        n = len(want["tokens"])
        assert batch["attention_mask"][row].sum() == n
        assert batch["input_ids"][row, :n].tolist() == [t["id"] for t in want["tokens"]]
        boxes = batch["bbox"][row, :n]
        assert 0 <= boxes.min() and boxes.max() <= GRID
        x0, y0, x1, y1 = want["tokens"][0]["box"]
        assert boxes[0].tolist() == pytest.approx(
            [
                GRID * x0 / want["width"],
                GRID * y0 / want["height"],
                GRID * x1 / want["width"],
                GRID * y1 / want["height"],
            ],
            abs=1,
        )
        assert (batch["input_ids"][row, n:] == 0).all() and (batch["bbox"][row, n:] == 0).all()


def test_pandas_reads_both_tables(plain):
    samples = pd.read_parquet(plain / "samples")
    truth = _truth(plain)
    assert sorted(samples["key"]) == sorted(truth)
    assert all(samples["n_tokens"] == [len(truth[k]["tokens"]) for k in samples["key"]])
    pages = pd.read_parquet(plain / "pages")
    assert set(pages["outcome"]) == {"ok", "http_error"} and len(pages) == len(PAGES) + 1


def _card(out):
    text = (out / "README.md").read_text(encoding="utf-8")
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n")[1]), text


def test_the_dataset_card_is_hub_yaml_whose_numbers_equal_status(plain):
    header, text = _card(plain)
    card = DatasetCard.load(plain / "README.md")  # the Hub's own parser
    assert card.data.to_dict()["configs"] == header["configs"]
    assert header["task_categories"] and header["license"] and header["pretty_name"]
    status = json.loads(run_boxcrawl("status", plain, "--json").stdout)
    info = header["dataset_info"][0]
    assert info["splits"][0]["num_examples"] == len(_truth(plain))
    assert f"| pages | {status['done']} |" in text
    assert f"| pages failed | {status['failed']} |" in text
    assert f"| outcomes | {', '.join(f'{k} {v}' for k, v in sorted(status['outcomes'].items()))} |" in text
    audit = json.loads(run_boxcrawl("audit", plain, "--json").stdout)
    assert f"| ink share (`boxcrawl audit` of {audit['samples']} samples) | {100 * audit['ink_share']:.1f} % |" in text
    assert "boxcrawl render" in text and "--max-crops 1" in text  # the command that made it
    pictures = [line for line in text.splitlines() if line.startswith("![sample ")]
    assert pictures and all((plain / line.split("(")[1].rstrip(")")).is_file() for line in pictures)


def test_the_folder_loads_through_its_card_with_the_cards_types(plain, with_images):
    hf = datasets.load_dataset(str(plain), split="train")  # reads README.md: configs + features
    assert hf.features["json"]["crop"] == datasets.List(datasets.Value("float32"))  # inferred would be float64
    assert len(hf) == len(_truth(plain))
    samples = datasets.load_dataset(str(with_images), "samples", split="train")
    pages = datasets.load_dataset(str(with_images), "pages", split="train")
    assert isinstance(samples.features["image"], datasets.Image) and len(samples) == len(_truth(with_images))
    status = json.loads(run_boxcrawl("status", with_images, "--json").stdout)
    assert len(pages) == status["done"] and pages.features["n_tokens"] == datasets.Value("int32")
