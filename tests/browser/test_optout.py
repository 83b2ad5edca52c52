"""Every machine-readable opt-out, in every form, on real pages served on 127.0.0.1: each page's
record has the verdict its signals call for under each --opt-out level, a refused page keeps its
URL, status and reason only, malformed signal files are recorded and never stop a crawl, and the
verdicts load through every reader and are counted in the dataset card and `status`."""

import dataclasses
import json
from contextlib import ExitStack

import pyarrow.parquet as pq
import pytest
from conftest import fast_flags, run_boxcrawl, run_rendering
from optout_site import EXPECTED, SITES, SignalSite

import boxcrawl

pytestmark = pytest.mark.browser

LEVELS = ("robots-only", "standard", "strict")


@pytest.fixture(scope="module")
def sites():
    with ExitStack() as stack:
        yield {name: stack.enter_context(SignalSite(files)) for name, files in SITES.items()}


def _render(sites, out, *flags):
    urls = [sites[site].url + path for site, path in EXPECTED]
    run_rendering("render", *urls, "--out", out, "--max-attempts", "1", *flags, *fast_flags(), out=out)
    by_url = {p["url"]: p for p in boxcrawl.open_dataset(out).pages()}
    return {(site, path): by_url[sites[site].url + path] for site, path in EXPECTED}


@pytest.fixture(scope="module")
def outs(sites, tmp_path_factory):
    """One render of every page per --opt-out level: {level: DIR}."""
    dirs = {level: tmp_path_factory.mktemp(level) for level in LEVELS}
    for level, out in dirs.items():
        _render(sites, out, "--opt-out", level)
    return dirs


@pytest.fixture(scope="module")
def rendered(outs, sites):
    def pages(out):
        by_url = {p["url"]: p for p in boxcrawl.open_dataset(out).pages()}
        return {(site, path): by_url[sites[site].url + path] for site, path in EXPECTED}

    return {level: pages(out) for level, out in outs.items()}


def _refused_by(page):
    assert page["verdict"].startswith("refused: "), page["verdict"]
    return page["verdict"].removeprefix("refused: ").split(": ")[0]


@pytest.mark.parametrize("level", LEVELS)
def test_each_page_gets_the_verdict_its_signals_call_for(rendered, level):
    wrong = {}
    for key, page in rendered[level].items():
        want = EXPECTED[key][LEVELS.index(level)]
        got = "ok" if page["outcome"] == "ok" and page["verdict"] == "allowed" else _refused_by(page)
        if got != want:
            wrong[key] = (want, page["outcome"], page["verdict"], page["signals"])
    assert not wrong, wrong


def test_a_refused_page_keeps_its_url_status_and_reason_only(rendered):
    pages = rendered["strict"]
    refused = [p for p in pages.values() if p["outcome"] == "refused"]
    assert len(refused) >= 12
    for page in refused:
        assert page["error"] and page["verdict"] == f"refused: {page['error']}"
        assert page["text"] == "" and page["tokens"] == [] and page["n_tokens"] == 0 and page["n_samples"] == 0
        assert page["crops"] == []


def test_signals_are_recorded_even_when_they_do_not_refuse(rendered):
    pages = rendered["standard"]
    override = pages[("main", "/tdm-override/page.html")]["signals"]
    assert "tdm-reservation header: tdm-reservation 0" in override
    assert "tdmrep.json: tdm-reservation 1 (overridden)" in override
    bad = pages[("main", "/tdm-bad-header.html")]["signals"]
    assert any("neither 0 nor 1 (ignored)" in s for s in bad)
    malformed = pages[("malformed", "/plain.html")]["signals"]
    assert any(s.startswith("tdmrep.json: malformed, ignored") for s in malformed), malformed
    bad_rules = pages[("bad-rules", "/plain.html")]["signals"]
    assert "tdmrep.json: rule 1 (/): tdm-reservation 'yes' is neither 0 nor 1, rule ignored" in bad_rules, bad_rules
    # a site without a tdmrep.json (404) and with a plain robots.txt: one signal, nothing else
    assert pages[("ai-crawlers", "/plain.html")]["signals"] == ["robots.txt: allows boxcrawl"]
    noindex = pages[("main", "/noindex.html")]
    assert noindex["verdict"] == "allowed" and "x-robots-tag: noindex" in noindex["signals"]
    file_rule = rendered["standard"][("main", "/tdm-file/page.html")]["verdict"]
    assert "policy https://example.org/tdm-policy.json" in file_rule


def test_opt_in_flags_and_the_agent_token(sites, tmp_path):
    ai = _render(sites, tmp_path / "ai", "--respect-ai-robots")
    assert _refused_by(ai[("ai-crawlers", "/plain.html")]) == "robots.txt"
    assert "AI crawlers (GPTBot, CCBot)" in ai[("ai-crawlers", "/plain.html")]["verdict"]
    assert ai[("main", "/noindex.html")]["verdict"] == "allowed"  # still the standard level otherwise

    sites["our-token"].agents.clear()
    other = _render(sites, tmp_path / "token", "--agent-token", "otherbot")
    assert other[("our-token", "/plain.html")]["outcome"] == "ok"
    assert other[("main", "/meta-token.html")]["outcome"] == "ok"  # <meta name=boxcrawl> is not ours now
    assert sites["our-token"].agents and all(a.endswith(" otherbot/0.1.0") for a in sites["our-token"].agents)
    assert "HeadlessChrome" in sites["our-token"].agents[0]  # Chromium's own agent, named


def test_ignore_robots_is_recorded_and_leaves_the_other_signals(sites, tmp_path):
    out = tmp_path / "ignoring"
    pages = _render(sites, out, "--ignore-robots")
    assert pages[("main", "/robots-off/page.html")]["outcome"] == "ok"
    assert pages[("main", "/usage-robots/page.html")]["outcome"] == "refused"  # a usage line, not a rule
    assert pages[("main", "/header-noai.html")]["outcome"] == "refused"
    assert all("boxcrawl: robots.txt ignored (--ignore-robots)" in p["signals"] for p in pages.values() if p["signals"])
    assert all(p["opt_out"] == "standard + robots.txt ignored" for p in pages.values())
    assert json.loads((out / "config.json").read_text())["politeness"]["robots"] is False
    assert "robots.txt **ignored**" in (out / "README.md").read_text()


def test_verdicts_load_through_every_reader_and_are_counted(rendered, tmp_path_factory, sites):
    pages = rendered["standard"]
    out = tmp_path_factory.getbasetemp() / next(
        p for p in tmp_path_factory.getbasetemp().iterdir() if p.name.startswith("standard")
    )
    table = pq.read_table(out / "pages", columns=["url", "verdict", "signals", "opt_out"]).to_pylist()
    assert {r["url"]: r["verdict"] for r in table} == {p["url"]: p["verdict"] for p in pages.values()}
    samples = list(boxcrawl.open_dataset(out).samples(decode=False))
    assert samples and all((s["verdict"], s["opt_out"]) == ("allowed", "standard") for s in samples)
    refused = {}
    for p in pages.values():
        if p["outcome"] == "refused":
            refused[_refused_by(p)] = refused.get(_refused_by(p), 0) + 1
    card = (out / "README.md").read_text()
    for source, n in refused.items():
        assert f"| `{source}` | {n} |" in card, (source, n)
    status = json.loads(run_boxcrawl("status", out, "--json").stdout)
    assert status["refused_by"] == refused


def test_distill_goes_through_the_same_decision(sites, tmp_path):
    keys = [("main", "/plain.html"), ("main", "/robots-off/page.html"), ("main", "/header-noai.html"),
            ("main", "/tdm-file/page.html"), ("content-signal", "/plain.html")]  # fmt: skip
    urls = [sites[site].url + path for site, path in keys]
    out = tmp_path / "distill"
    proc = run_boxcrawl(
        "distill", *urls, "--out", out, "--allow-hosts", "127.0.0.1", "--skip-distillation", "--tabs", "1", check=False
    )
    assert proc.returncode == 1, proc.stderr  # four entries refused: failed, with their reason
    infos = {json.loads(p.read_text())["url"]: json.loads(p.read_text()) for p in out.rglob("*.info")}
    errors = {json.loads(p.read_text())["url"]: json.loads(p.read_text())["error"] for p in out.rglob("*.error")}
    assert (
        set(infos) == {urls[0]} and infos[urls[0]]["verdict"] == "allowed" and infos[urls[0]]["opt_out"] == "standard"
    )
    assert errors[urls[1]].startswith("refused: robots.txt: disallows it for boxcrawl")
    assert errors[urls[2]] == "refused: x-robots-tag: noai"
    assert errors[urls[3]].startswith("refused: tdmrep.json: tdm-reservation 1")
    assert errors[urls[4]] == "refused: robots.txt content-signal: ai-train=no"
    assert not [p for p in out.rglob("*.png")][1:], "only the allowed page has a screenshot"


def test_a_redis_worker_judges_pages_as_the_crawl_it_joins(sites, redis_url, tmp_path):
    """The crawl's opt-out settings travel through Redis: a worker started with default flags
    renders the crawl's pages under the crawl's `--opt-out strict`."""
    from boxcrawl.frontier.redis import RedisFrontier
    from boxcrawl.optout.policy import OptOutConfig

    keys = [("main", "/plain.html"), ("main", "/noindex.html"), ("ai-crawlers", "/plain.html")]
    urls = [sites[site].url + path for site, path in keys]
    frontier = RedisFrontier(redis_url)
    try:  # what `boxcrawl crawl --frontier ... --opt-out strict` leaves in Redis, without its own tabs
        frontier.save_crawl("any", urls, 0, dataclasses.asdict(OptOutConfig(level="strict")))
        frontier.add(urls, depth=0)
    finally:
        frontier.close()
    out = tmp_path / "worker"
    run_rendering("worker", "--frontier", redis_url, "--out", out, "--max-attempts", "1", *fast_flags(), out=out)
    pages = {p["url"]: p for p in boxcrawl.open_dataset(out).pages()}
    assert {p["opt_out"] for p in pages.values()} == {"strict"}
    assert pages[urls[0]]["verdict"] == "allowed"
    assert pages[urls[1]]["verdict"] == "refused: x-robots-tag: noindex"
    assert pages[urls[2]]["verdict"].startswith("refused: robots.txt: disallows it for AI crawlers")
