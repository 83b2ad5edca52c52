"""Samples count only visible tokens toward --min-tokens and list only visible tokens."""

import pytest
from conftest import fast_flags, run_boxcrawl

import boxcrawl

pytestmark = pytest.mark.browser


def _render(site, tmp_path, min_tokens):
    out = tmp_path / f"min{min_tokens}"
    run_boxcrawl(
        "render",
        f"{site.url}/visible-targets.html",
        "--out",
        out,
        "--min-tokens",
        min_tokens,
        "--crop-min-height",
        20,
        *fast_flags(),
    )
    ds = boxcrawl.open_dataset(out)
    [page] = list(ds.pages())
    return page, list(ds.samples())


def test_hidden_tokens_neither_count_nor_appear_in_samples(site, tmp_path):
    page, samples = _render(site, tmp_path, 20)
    tokens = page["tokens"]
    hidden = [t for t in tokens if not t["visible"]]
    assert sum(t["visible"] for t in tokens) < 80 < len(hidden)  # far more hidden than visible tokens
    assert {t["hidden_reason"] for t in hidden} >= {"transparent", "covered"}
    assert samples
    for s in samples:
        for t in s["tokens"]:
            assert tokens[t["index"]]["visible"], t
        (crop,) = [c for c in page["crops"] if c["key"] == s["key"]]
        assert all(tokens[i]["visible"] for i in crop["cut_tokens"])
        assert len(s["tokens"]) >= 20

    # 40 visible tokens on the page: a crop can never reach 50, however many hidden tokens it holds
    page, samples = _render(site, tmp_path, 50)
    assert page["n_visible"] < 50 < page["n_tokens"]
    assert samples == []
