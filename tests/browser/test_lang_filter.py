"""--lang on real Chromium: a crawl for German pages over a small multilingual site on 127.0.0.1 keeps exactly
the German ones, records the others as skipped (no failure), and still reaches them all through the English
home page."""

import json

import pytest
from conftest import fast_flags, run_boxcrawl, run_rendering
from lang_site import lang_site

import boxcrawl

pytestmark = pytest.mark.browser

FIELDS = ["url", "outcome", "error", "lang_declared", "lang_detected", "lang_score", "n_samples", "n_tokens", "text"]


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    out = tmp_path_factory.mktemp("lang") / "out"
    with lang_site() as site:
        proc = run_rendering(
            "crawl", f"{site.url}/index.html", "--out", out, "--lang", "de", "--min-tokens", "1", *fast_flags(), out=out
        )
        pages = {p["url"].removeprefix(site.url): p for p in boxcrawl.open_dataset(out).pages(columns=FIELDS)}
    return proc, out, pages


def gallery_of(out):
    run_boxcrawl("show", out, "--html", out / "gallery.html")
    return (out / "gallery.html").read_text()


def test_only_the_german_pages_become_samples(crawled):
    proc, out, pages = crawled
    assert proc.returncode == 0, proc.stdout + proc.stderr  # a page in another language is no failure
    # every page was reached, though the only links to them are on the (skipped) English home page
    assert {path: p["outcome"] for path, p in pages.items()} == {
        "/index.html": "skipped",  # English
        "/de.html": "ok",  # German, declared and detected
        "/liar.html": "skipped",  # declares German, is French: the text decides
        "/short-de.html": "ok",  # too short to tell: its <html lang="DE"> decides
        "/none.html": "skipped",  # neither: language unknown
        "/scripted.html": "skipped",  # English, though its scripts say German to anything reading from them
    }
    sampled = {s["url"].split("/")[-1] for s in boxcrawl.open_dataset(out).samples(decode=False)}
    assert sampled == {"de.html", "short-de.html"}
    assert all(pages[f"/{name}"]["n_samples"] >= 1 for name in sampled)


def test_records_say_what_was_declared_detected_and_why(crawled):
    _, _, pages = crawled
    seen = {path: (p["lang_declared"], p["lang_detected"]) for path, p in pages.items()}
    assert seen == {
        "/index.html": ("en", "en"),
        "/de.html": ("de-DE", "de"),
        "/liar.html": ("de", "fr"),
        "/short-de.html": ("DE", None),  # as written; too little text for the detector
        "/none.html": (None, None),
        "/scripted.html": ("en", "en"),
    }
    for path in ("/index.html", "/de.html", "/liar.html", "/scripted.html"):
        assert pages[path]["lang_score"] >= 0.9, pages[path]
    assert pages["/short-de.html"]["lang_score"] is None and pages["/none.html"]["lang_score"] is None
    assert pages["/index.html"]["error"].startswith("language en (detected, score ")
    assert pages["/liar.html"]["error"].startswith("language fr (detected, score ")
    assert pages["/none.html"]["error"].startswith("language unknown: ")
    for path, p in pages.items():
        if p["outcome"] == "skipped":  # nothing of a skipped page is kept but its record
            assert p["text"] == "" and p["n_tokens"] == 0 and p["n_samples"] == 0, path
        else:
            assert p["error"] is None and p["n_tokens"] > 0, path


def test_status_and_card_count_skipped_pages_apart_from_failures(crawled):
    _, out, _ = crawled
    status = json.loads(run_boxcrawl("status", out, "--json").stdout)
    assert (status["done"], status["ok"], status["skipped"], status["failed"]) == (6, 2, 4, 0)
    assert status["outcomes"] == {"ok": 2, "skipped": 4}
    card = (out / "README.md").read_text()
    assert "| pages skipped (--lang) | 4 |" in card and "| pages failed | 0 |" in card and "`--lang de`" in card
    gallery = gallery_of(out)
    assert "<th>pages ok</th><td>2</td>" in gallery and "<th>pages skipped (--lang)</th><td>4</td>" in gallery
    assert "<th>pages failed</th><td>0</td>" in gallery
    # a skipped page would be skipped again: it is not a failure to retry
    assert "0 failed URLs queued again" in run_boxcrawl("retry-failed", out).stdout


def test_without_lang_every_page_is_kept_and_declares_its_language(tmp_path):
    out = tmp_path / "out"
    with lang_site() as site:
        run_rendering("render", f"{site.url}/liar.html", f"{site.url}/none.html", "--out", out, *fast_flags(), out=out)
        pages = {p["url"].removeprefix(site.url): p for p in boxcrawl.open_dataset(out).pages(columns=FIELDS)}
    assert {path: p["outcome"] for path, p in pages.items()} == {"/liar.html": "ok", "/none.html": "ok"}
    assert pages["/liar.html"]["lang_declared"] == "de" and pages["/none.html"]["lang_declared"] is None
    assert all(p["lang_detected"] is None and p["lang_score"] is None for p in pages.values())


def test_a_worker_keeps_the_languages_of_the_crawl_it_joins(tmp_path, redis_url):
    from boxcrawl.commands.fleet import save_crawl
    from boxcrawl.frontier.redis import RedisFrontier

    out = tmp_path / "out"
    with lang_site() as site:
        seeds = [f"{site.url}/de.html", f"{site.url}/liar.html"]
        # what `crawl --lang de --frontier redis://...` leaves in Redis for its workers
        save_crawl(redis_url, "host", seeds, 0, {}, {"max_depth": 0, "include": [], "exclude": [], "lang": ["de"]})
        frontier = RedisFrontier(redis_url)
        frontier.add(seeds, depth=0)
        frontier.close()
        # a worker has no --lang of its own: it keeps what the crawl keeps, so one dataset has one answer
        run_rendering("worker", "--out", out, "--frontier", redis_url, "--wait", "0", *fast_flags(), out=out)
        pages = {p["url"].removeprefix(site.url): p["outcome"] for p in boxcrawl.open_dataset(out).pages()}
    assert pages == {"/de.html": "ok", "/liar.html": "skipped"}
