import pytest

from boxcrawl.browser.network_guard import NetworkGuard, Refused
from boxcrawl.frontier.urls import BadURL, Scope, normalize


@pytest.mark.parametrize("raw, expected", [
    ("HTTP://Example.COM:80/a/../b?z=1&a=2#frag", "http://example.com/b?a=2&z=1"),
    ("https://example.org", "https://example.org/"),
    ("https://example.org:443/x#y", "https://example.org/x"),
    ("http://127.0.0.1:8000/p/index.html", "http://127.0.0.1:8000/p/index.html"),
])
def test_normalize(raw, expected):
    assert normalize(raw) == expected


@pytest.mark.parametrize("bad", ["ftp://x/", "not a url", "mailto:a@b.org", "javascript:alert(1)",
                                 "http:///nohost", "http://x:99999/"])
def test_normalize_rejects(bad):
    with pytest.raises(BadURL):
        normalize(bad)


def test_scopes():
    seeds = ["https://docs.python.org/3/library/index.html"]
    assert "https://docs.python.org/2/x" in Scope("host", seeds)
    assert "https://www.python.org/x" not in Scope("host", seeds)
    assert "https://www.python.org/x" in Scope("domain", seeds)
    assert "https://evil-python.org/x" not in Scope("domain", seeds)
    assert "https://docs.python.org/3/library/os.html" in Scope("prefix", seeds)
    assert "https://docs.python.org/3/tutorial/" not in Scope("prefix", seeds)
    assert "https://anything.example/" in Scope("any", seeds)
    assert "http://127.0.0.1:9000/" not in Scope("host", ["http://127.0.0.1:8000/"])   # port matters


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/", "http://localhost:6379/", "http://10.1.2.3/", "http://192.168.0.1/",
    "http://169.254.169.254/latest/meta-data/", "http://[::1]/", "http://[::ffff:127.0.0.1]/",
    "http://0.0.0.0/", "file:///etc/passwd", "gopher://x/",
])
def test_guard_refuses_internal_addresses_and_other_schemes(url):
    # checked on the resolved address: "localhost" is refused although it is a name
    with pytest.raises(Refused):
        NetworkGuard().check(url)


def test_allow_list_opens_exactly_the_listed_hosts():
    guard = NetworkGuard(["127.0.0.1"])
    guard.check("http://127.0.0.1:8000/x")
    assert guard.allows("data:text/plain,hi")
    for other in ("http://localhost:8000/", "http://10.0.0.1/", "https://example.org/"):
        assert not guard.allows(other)
    args = guard.chromium_args()
    assert args == ["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
    assert NetworkGuard().chromium_args() == []
