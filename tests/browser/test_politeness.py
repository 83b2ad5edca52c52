"""robots.txt (on by default), X-Robots-Tag noai, and 429 + Retry-After, on a real crawl."""

import pytest

import boxcrawl
from conftest import fast_flags, run_boxcrawl
from site_server import Handler, SiteServer

pytestmark = pytest.mark.browser


def make_site(root):
    root.mkdir()
    (root / "private").mkdir()
    (root / "robots.txt").write_text("User-agent: *\nDisallow: /private/\n")
    text = "polite crawlers read the rules first " * 30
    (root / "index.html").write_text(
        f"<html><body><p>{text}</p><a href='private/x.html'>x</a> <a href='/noai'>n</a> "
        f"<a href='/busy/{root.parent.name}'>b</a></body></html>")
    (root / "private" / "x.html").write_text(f"<html><body><p>{text}</p></body></html>")
    return root


def test_robots_noai_and_retry_after(tmp_path):
    with SiteServer(make_site(tmp_path / "site")) as site:
        out = tmp_path / "out"
        run_boxcrawl("crawl", f"{site.url}/index.html", "--out", out, *fast_flags())
        pages = {p["url"].removeprefix(site.url): p for p in boxcrawl.open_dataset(out).pages()}
        assert set(pages) == {"/index.html", "/private/x.html", "/noai", f"/busy/{tmp_path.name}"}

        private = pages["/private/x.html"]
        assert private["outcome"] == "refused" and "robots.txt disallows" in private["error"]
        assert "/private/x.html" not in Handler.seen_paths, "a disallowed page was never requested"

        noai = pages["/noai"]
        assert noai["outcome"] == "refused" and "noai" in noai["error"]
        assert noai["n_tokens"] == 0 and noai["n_samples"] == 0 and not noai["text"]

        busy = pages[f"/busy/{tmp_path.name}"]
        assert busy["outcome"] == "ok" and busy["attempts"] == 2
        first, second = Handler.hits[f"/busy/{tmp_path.name}"][:2]
        assert second - first >= 0.95, "Retry-After: 1 held the host back longer than --retry-delay 0.2"

        ignoring = tmp_path / "ignoring"
        run_boxcrawl("crawl", f"{site.url}/index.html", "--out", ignoring, "--ignore-robots", *fast_flags())
        again = {p["url"].removeprefix(site.url): p for p in boxcrawl.open_dataset(ignoring).pages()}
        assert again["/private/x.html"]["outcome"] == "ok"
