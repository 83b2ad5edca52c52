"""Exit codes a script can act on (0 done, 1 done with failed pages, 2 usage, 130 interrupted), and URL lists
that go on past a bad line, on real Chromium and pages served on 127.0.0.1."""

import pytest
from conftest import fast_flags, run_boxcrawl

import boxcrawl

pytestmark = pytest.mark.browser


def test_render_exits_0_when_every_page_is_ok_and_1_when_one_failed(site, tmp_path):
    done = run_boxcrawl("render", f"{site.url}/a.html", "--out", tmp_path / "ok", *fast_flags(), check=False)
    assert done.returncode == 0, done.stderr
    failed = run_boxcrawl(
        "render",
        f"{site.url}/a.html",
        f"{site.url}/status/404",
        "--out",
        tmp_path / "one-failed",
        *fast_flags(),
        check=False,
    )
    assert failed.returncode == 1, failed.stderr
    outcomes = sorted(p["outcome"] for p in boxcrawl.open_dataset(tmp_path / "one-failed").pages())
    assert outcomes == ["http_error", "ok"]


def test_a_bad_line_is_reported_with_its_number_and_the_rest_is_rendered(site, tmp_path):
    urls = tmp_path / "urls.txt"
    urls.write_text(
        f"# two pages and two mistakes\n{site.url}/a.html  # the first page\nhttp//missing-colon/\n"
        f"{site.url}/b.html\n{site.url}/a.html\n"
    )
    proc = run_boxcrawl("render", "--urls-file", urls, "--out", tmp_path / "out", *fast_flags())
    assert f"warning: {urls}:3: not an http(s) URL: 'http//missing-colon/' (skipped)" in proc.stderr
    assert f"warning: {urls}:5: duplicate of line 2" in proc.stderr
    pages = {p["url"]: p["outcome"] for p in boxcrawl.open_dataset(tmp_path / "out").pages()}
    # the comment after the first URL is not part of it (it used to become `a.html%20%20`, a 404)
    assert pages == {f"{site.url}/a.html": "ok", f"{site.url}/b.html": "ok"}
