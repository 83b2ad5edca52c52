"""Bad input ends as a clear record (or a clean CLI error), and the crawl goes on.

One `boxcrawl render` run over a mix of misbehaving URLs and good pages (one browser start),
then per-URL assertions on the pages table; plus a few small CLI-error runs that never
start a browser.
"""

from __future__ import annotations

import json
import socket
import tarfile

import pytest
from conftest import fast_flags, run_boxcrawl

import boxcrawl

pytestmark = pytest.mark.browser

RUN_FLAGS = ["--tabs", "2", "--max-attempts", "2", "--page-timeout", "20", "--load-timeout", "4"]

# name -> path on the test site (the unreachable host is added by the fixture)
PATHS = {
    "status404": "/status/404",
    "status500": "/status/500",
    "pdf": "/doc.pdf",
    "png": "/image.png",
    "download": "/download.bin",
    "redirect_loop": "/redirect-loop",
    "never_loads": "/never-loads",
    "hang": "/hang",
    "dialogs": "/dialogs.html",
    "navigate_away": "/navigate-away.html",
    "notext": "/notext.html",
    "lone_surrogate": "/lone-surrogate.html",
    "good_a": "/a.html",
    "good_b": "/b.html",
}


def _closed_port() -> int:
    """A loopback port nobody listens on (bound, then closed again)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def bad_out(tmp_path_factory):
    return tmp_path_factory.mktemp("bad_input") / "out"


@pytest.fixture(scope="module")
def bad_run(site, bad_out):
    """Render every bad URL and two good pages in ONE run; return (proc, urls, records by url)."""
    urls = {name: site.url + path for name, path in PATHS.items()}
    urls["unreachable"] = f"http://127.0.0.1:{_closed_port()}/"
    out = bad_out
    proc = run_boxcrawl("render", *urls.values(), "--out", out, *RUN_FLAGS, *fast_flags(), timeout=180, check=False)
    assert proc.returncode == 1, (  # done, with failed pages: every one has its record
        f"render over bad input must finish, with exit code 1\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    ds = boxcrawl.open_dataset(out)
    pages = list(ds.pages())
    by_url: dict[str, dict] = {}
    for page in pages:
        assert page["url"] not in by_url, f"two records for {page['url']}"
        by_url[page["url"]] = page
    sample_urls = {s["url"] for s in ds.samples(decode=False)}
    return proc, urls, by_url, sample_urls


@pytest.fixture
def record(bad_run):
    _, urls, by_url, _ = bad_run

    def get(name: str) -> dict:
        url = urls[name]
        assert url in by_url, f"no record for {name} ({url}); records for: {sorted(by_url)}"
        return by_url[url]

    return get


def _describe(page: dict) -> str:
    keys = (
        "url",
        "final_url",
        "status",
        "outcome",
        "error",
        "attempts",
        "load_complete",
        "n_tokens",
        "n_samples",
        "elements",
        "dialogs",
        "content_type",
    )
    return repr({k: page.get(k) for k in keys})


# -- every URL ends as exactly one record ---------------------------------------------------------


def test_every_url_has_exactly_one_record(bad_run):
    _, urls, by_url, _ = bad_run
    missing = sorted(name for name, url in urls.items() if url not in by_url)
    assert not missing, f"URLs without a record: {missing}"
    assert len(by_url) == len(urls), f"unexpected extra records: {sorted(set(by_url) - set(urls.values()))}"


def test_failed_records_carry_an_error_and_ok_records_do_not(bad_run):
    _, _, by_url, _ = bad_run
    for page in by_url.values():
        if page["outcome"] in ("ok",):
            assert page["error"] is None, _describe(page)
        else:
            assert isinstance(page["error"], str) and page["error"].strip(), _describe(page)
            assert "\n" not in page["error"], _describe(page)


# -- the crawl goes on: good pages in the same run ------------------------------------------------


@pytest.mark.parametrize("name", ["good_a", "good_b"])
def test_good_pages_in_the_same_run_are_ok(bad_run, record, name):
    _, urls, _, sample_urls = bad_run
    page = record(name)
    assert page["outcome"] == "ok", _describe(page)
    assert page["status"] == 200, _describe(page)
    assert page["error"] is None, _describe(page)
    assert page["load_complete"] is True, _describe(page)
    assert page["n_tokens"] > 100, _describe(page)
    assert page["n_samples"] >= 1, _describe(page)
    assert urls[name] in sample_urls, "an ok page with n_samples >= 1 has no sample in the shards"


@pytest.mark.parametrize("name", ["good_a", "dialogs", "never_loads", "notext"])
def test_attempts_count_the_try_that_produced_the_record(record, name):
    # Each of these rendered on the first try (none is retryable), so the record says 1 try,
    # the same as a page that failed permanently on its first try (404, not_html: attempts == 1).
    page = record(name)
    assert page["outcome"] in ("ok", "no_text"), _describe(page)
    assert page["attempts"] == 1, _describe(page)


def test_a_lone_surrogate_in_page_text_becomes_u_fffd_and_every_file_is_valid_utf8(bad_out, record):
    page = record("lone_surrogate")
    assert page["outcome"] == "ok" and page["n_samples"] >= 1, _describe(page)
    assert "before \ufffd after, a pair \U0001f600 kept" in page["text"], page["text"][:80]
    page["text"].encode("utf-8")  # strict: no surrogate left
    for shard in boxcrawl.open_dataset(bad_out).shards:
        with tarfile.open(shard) as tar:
            for member in tar:
                if member.name.endswith(".json"):
                    json.loads(tar.extractfile(member).read().decode("utf-8"))  # strict UTF-8


# -- network errors -------------------------------------------------------------------------------


def test_unreachable_host_is_network_error_after_retries(record):
    page = record("unreachable")
    assert page["outcome"] == "network_error", _describe(page)
    assert "ERR_CONNECTION_REFUSED" in page["error"], _describe(page)
    assert page["status"] is None, _describe(page)
    assert page["attempts"] == 2, _describe(page)  # refused connections are transient: retried
    assert page["n_tokens"] == 0 and page["n_samples"] == 0, _describe(page)


def test_redirect_loop_is_network_error_not_retried(record):
    page = record("redirect_loop")
    assert page["outcome"] == "network_error", _describe(page)
    assert "ERR_TOO_MANY_REDIRECTS" in page["error"], _describe(page)
    assert page["attempts"] == 1, _describe(page)  # permanent: no point retrying
    assert page["n_samples"] == 0, _describe(page)


def test_server_that_never_answers_times_out_with_a_message(record):
    page = record("hang")
    assert page["outcome"] in ("timeout", "network_error"), _describe(page)
    assert page["error"] and page["error"].strip(), _describe(page)
    if page["outcome"] == "timeout":
        assert "timeout" in page["error"].lower() or "exceeded" in page["error"].lower(), _describe(page)
    assert page["attempts"] == 2, _describe(page)  # a timeout is transient: retried
    assert page["n_tokens"] == 0 and page["n_samples"] == 0, _describe(page)


# -- HTTP errors ----------------------------------------------------------------------------------


def test_404_is_http_error_not_retried(record):
    page = record("status404")
    assert page["outcome"] == "http_error", _describe(page)
    assert page["status"] == 404, _describe(page)
    assert page["error"] == "HTTP 404", _describe(page)
    assert page["attempts"] == 1, _describe(page)
    assert page["n_tokens"] == 0 and page["n_samples"] == 0, _describe(page)


def test_500_is_http_error_retried(record):
    page = record("status500")
    assert page["outcome"] == "http_error", _describe(page)
    assert page["status"] == 500, _describe(page)
    assert page["error"] == "HTTP 500", _describe(page)
    assert page["attempts"] == 2, _describe(page)  # 5xx is transient
    assert page["n_tokens"] == 0 and page["n_samples"] == 0, _describe(page)


# -- not HTML -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["pdf", "png", "download"])
def test_non_html_responses_are_not_html(record, name):
    page = record(name)
    assert page["outcome"] == "not_html", _describe(page)
    err = page["error"].lower()
    assert "not html" in err or "download" in err, _describe(page)
    assert page["attempts"] == 1, _describe(page)
    assert page["n_tokens"] == 0 and page["n_samples"] == 0, _describe(page)


# -- pages that misbehave but still render --------------------------------------------------------


def test_page_whose_load_event_never_fires_still_renders(record):
    page = record("never_loads")
    assert page["outcome"] == "ok", _describe(page)
    assert page["load_complete"] is False, _describe(page)
    assert page["status"] == 200, _describe(page)
    assert page["n_tokens"] > 0, _describe(page)
    assert "image hangs" in page["text"], _describe(page)


def test_dialogs_are_dismissed_and_the_page_measured(record):
    page = record("dialogs")
    assert page["outcome"] == "ok", _describe(page)
    assert page["n_tokens"] > 0, _describe(page)
    assert page["dialogs"] >= 2, _describe(page)  # alert + confirm
    assert "ordinary words" in page["text"], _describe(page)


def test_page_that_navigates_away_records_where_it_ended(record):
    page = record("navigate_away")
    assert page["outcome"] == "ok", _describe(page)
    assert page["final_url"].endswith("about.html"), _describe(page)
    assert page["url"].endswith("navigate-away.html"), _describe(page)
    assert page["n_tokens"] > 0, _describe(page)


def test_huge_page_renders(site, tmp_path):
    # Its own run, with room for a loaded 2-core machine: the 120,000-element DOM alone takes
    # seconds to parse and lay out, and hit testing on it is slow (hence the budget checked below).
    huge, good = site.url + "/huge", site.url + "/a.html"
    out = tmp_path / "out"
    run_boxcrawl(
        "render",
        huge,
        good,
        "--out",
        out,
        "--tabs",
        "2",
        "--max-attempts",
        "1",
        "--page-timeout",
        "60",
        "--load-timeout",
        "10",
        *fast_flags(),
        timeout=150,
    )
    by_url = {p["url"]: p for p in boxcrawl.open_dataset(out).pages()}
    assert by_url[good]["outcome"] == "ok", _describe(by_url[good])
    page = by_url[huge]
    assert page["outcome"] == "ok", _describe(page) + f" timings={page['timings']}"
    assert page["elements"] >= 60000, _describe(page)
    assert page["n_tokens"] > 0, _describe(page)
    assert page["timings"]["measure"] < 20000, page["timings"]  # the hit-test budget holds


def test_page_without_text_is_no_text(record):
    page = record("notext")
    assert page["outcome"] == "no_text", _describe(page)
    assert page["status"] == 200, _describe(page)
    assert page["n_tokens"] == 0 and page["n_samples"] == 0, _describe(page)


# -- CLI errors: exit 2, one line, no traceback, nothing crawled ------------------------------------


def _assert_cli_error(proc, command: str) -> None:
    assert proc.returncode == 2, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{proc.stderr}"
    assert lines[0].startswith(f"boxcrawl {command}: error:"), proc.stderr


@pytest.mark.parametrize("bad", ["ftp://x/", "not a url"])
def test_render_refuses_a_bad_url(tmp_path, bad):
    out = tmp_path / "out"
    proc = run_boxcrawl("render", bad, "--out", out, *fast_flags(), check=False, timeout=60)
    _assert_cli_error(proc, "render")
    assert bad in proc.stderr, proc.stderr  # the message names the offending input
    assert not (out / "frontier.sqlite").exists(), "a refused seed must not start a crawl"


def test_crawl_refuses_an_internal_address_before_any_request(tmp_path):
    # Safety gate: the refusal must happen in-process before we let the CLI near 10.0.0.1.
    from boxcrawl.crawl import usable_seeds
    from boxcrawl.egress.guard import NetworkGuard
    from boxcrawl.urllist import UrlLine

    seeds, refused = usable_seeds([UrlLine(0, "http://10.0.0.1/", "argument")], NetworkGuard(()))
    assert seeds == [] and refused[0].startswith("argument:1: http://10.0.0.1/: refused")

    out = tmp_path / "out"
    proc = run_boxcrawl(
        "crawl",
        "http://10.0.0.1/",
        "--out",
        out,
        "--quiet",
        "--retry-delay",
        "0.2",
        "--max-attempts",
        "1",
        "--page-timeout",
        "5",
        check=False,
        timeout=60,
    )
    _assert_cli_error(proc, "crawl")
    assert "10.0.0.1" in proc.stderr and "internal" in proc.stderr, proc.stderr
    assert not (out / "frontier.sqlite").exists(), "a refused seed must not start a crawl"


def test_bad_flag_value_is_a_usage_error(tmp_path, site):
    proc = run_boxcrawl(
        "render", site.url + "/a.html", "--out", tmp_path / "out", "--tabs", "abc", check=False, timeout=60
    )
    assert proc.returncode == 2, f"exit {proc.returncode}\nstderr:\n{proc.stderr}"
    assert "Traceback" not in proc.stderr, proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("boxcrawl render: error:"), proc.stderr
    assert "--tabs" in last and "abc" in last, proc.stderr
    assert not (tmp_path / "out").exists()
