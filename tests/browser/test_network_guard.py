"""The browser itself reaches only allowed hosts: sub-resources elsewhere are refused before any traffic."""

import pytest
from conftest import fast_flags, run_boxcrawl
from site_server import Handler, SiteServer

import boxcrawl

pytestmark = pytest.mark.browser


def test_subresources_outside_the_allow_list_never_leave_the_browser(tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    with SiteServer(root) as server:
        # "localhost" is this very server by another name; 127.0.0.2 is loopback but not allowed
        (root / "page.html").write_text(
            "<!doctype html><body><p>" + "guarded words " * 60 + "</p>"
            f'<img src="http://localhost:{server.port}/probe-by-name.png">'
            f'<img src="http://127.0.0.2:{server.port}/probe-by-ip.png">'
            f'<iframe src="file:///etc/hostname"></iframe></body>'
        )
        Handler.seen_paths.clear()
        run_boxcrawl("render", f"{server.url}/page.html", "--out", tmp_path / "out", *fast_flags())
        seen = list(Handler.seen_paths)
    page = next(boxcrawl.open_dataset(tmp_path / "out").pages())
    assert page["outcome"] == "ok"
    assert "/page.html" in seen
    assert not [p for p in seen if p.startswith("/probe")], seen
    assert page["blocked_requests"] >= 2
