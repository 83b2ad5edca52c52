import ipaddress

import pytest

from boxcrawl.egress.guard import TEST_PUBLIC_ENV, NetworkGuard, Refused
from boxcrawl.frontier.urls import BadURL, Scope, normalize


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("HTTP://Example.COM:80/a/../b?z=1&a=2#frag", "http://example.com/b?a=2&z=1"),
        ("https://example.org", "https://example.org/"),
        ("https://example.org:443/x#y", "https://example.org/x"),
        ("http://127.0.0.1:8000/p/index.html", "http://127.0.0.1:8000/p/index.html"),
    ],
)
def test_normalize(raw, expected):
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    "bad", ["ftp://x/", "not a url", "mailto:a@b.org", "javascript:alert(1)", "http:///nohost", "http://x:99999/"]
)
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
    assert "http://127.0.0.1:9000/" not in Scope("host", ["http://127.0.0.1:8000/"])  # port matters


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://localhost:6379/",
        "http://10.1.2.3/",
        "http://192.168.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "file:///etc/passwd",
        "gopher://x/",
        # names Chromium maps to loopback without DNS, in every spelling
        "http://localhost./",
        "http://foo.localhost/",
        "http://a.b.localhost./",
        "http://LOCALHOST.localdomain/",
        "http://ip6-localhost/",
        "http://ip6-loopback/",
        # names that do not resolve are refused, not waved through
        "http://no-such-host.invalid/",
        # ranges `is_private` alone misses
        "http://100.100.100.200/",
        "http://100.64.0.1/",
        "http://192.0.0.9/",
        "http://192.0.0.170/",
        "http://224.0.0.1/",
        "http://[fec0::1]/",
        "http://[ff02::1]/",
        # IPv6 forms that carry an internal IPv4 address: 6to4, NAT64, IPv4-compatible, Teredo
        "http://[2002:7f00:1::1]/",
        "http://[2002:a9fe:a9fe::1]/",
        "http://[64:ff9b::7f00:1]/",
        "http://[64:ff9b::a9fe:a9fe]/",
        "http://[64:ff9b:1::808:808]/",
        "http://[::127.0.0.1]/",
        "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
        # numeric spellings of 127.0.0.1
        "http://2130706433/",
        "http://0x7f.1/",
        "http://127.1/",
    ],
)
def test_guard_refuses_internal_addresses_and_other_schemes(url):
    with pytest.raises(Refused):
        NetworkGuard(public=()).check(url)


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8", "2002:808:808::1", "64:ff9b::808:808"]
)
def test_public_addresses_and_their_translated_forms_pass(address):
    assert NetworkGuard(public=()).resolve(address) == ipaddress.ip_address(address)


def test_allow_list_opens_exactly_the_listed_hosts():
    guard = NetworkGuard(["127.0.0.1", "LocalHost."], public=())
    guard.check("http://127.0.0.1:8000/x")
    assert str(guard.resolve("localhost")) in ("127.0.0.1", "::1")  # listed, so reachable wherever it points
    assert guard.allows("data:text/plain,hi")
    for other in ("http://127.0.0.2:8000/", "http://10.0.0.1/", "https://example.org/", "http://8.8.8.8/"):
        assert not guard.allows(other)


def test_test_only_public_addresses_come_from_the_environment(monkeypatch):
    monkeypatch.setenv(TEST_PUBLIC_ENV, "127.0.0.2, 10.9.0.0/16")
    guard = NetworkGuard()
    assert str(guard.resolve("127.0.0.2")) == "127.0.0.2"
    assert guard.allows("http://10.9.8.7/")
    assert not guard.allows("http://127.0.0.1/")
    assert not guard.allows("http://localhost/")  # names of this machine stay refused
    monkeypatch.setenv(TEST_PUBLIC_ENV, "not-an-address")
    with pytest.raises(ValueError, match=TEST_PUBLIC_ENV):
        NetworkGuard()
    monkeypatch.delenv(TEST_PUBLIC_ENV)
    assert not NetworkGuard().allows("http://127.0.0.2/")
