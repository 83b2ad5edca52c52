"""The rule: which hosts and addresses the crawler may reach.

Without an allow-list, a name must resolve, and only to public (globally reachable unicast)
addresses; `localhost` and its kin are refused by name, because Chromium maps them to loopback
without asking DNS. An address that embeds an IPv4 one (IPv4-mapped, 6to4, Teredo, NAT64) must be
public both ways. With an allow-list (`--allow-hosts`), exactly the listed names and literals are
reachable, wherever they point, and nothing else.

`NetworkGuard.resolve` is the decision the egress proxy makes for every connection the browser
opens, and returns the one address to connect to, so a name that resolves differently a moment
later (DNS rebinding) changes nothing. `check` is the same decision for a URL (seeds, links).
"""

from __future__ import annotations

import ipaddress
import os
import socket
import time
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

WEB_SCHEMES = {"http", "https"}
# URLs that never touch the network.
LOCAL_SCHEMES = {"data", "blob", "about", "chrome-error"}

# Test-only: addresses (or CIDRs) treated as public, so a test can host a "public" attacker page
# on 127.0.0.2 against a victim on 127.0.0.1. Never set it on a real crawl.
TEST_PUBLIC_ENV = "BOXCRAWL_TEST_PUBLIC_ADDRESSES"

# Names Chromium or the system map to this machine without DNS.
LOOPBACK_NAMES = {
    "localhost",
    "localhost.localdomain",
    "localhost6",
    "localhost6.localdomain6",
    "ip6-localhost",
    "ip6-loopback",
}

# Ranges that `is_global` counts as global but that are not the public internet.
NOT_PUBLIC = [
    ipaddress.ip_network(n)
    for n in (
        "192.0.0.0/24",  # IETF protocol assignments (DS-Lite, NAT64 discovery)
        "64:ff9b:1::/48",  # local-use NAT64
    )
]
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class Refused(Exception):
    """A URL or host the crawler must not reach; the message says why."""


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _public_networks(raw: str | None) -> tuple[Network, ...]:
    if not raw:
        return ()
    try:
        return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in raw.split(",") if part.strip())
    except ValueError as exc:
        raise ValueError(f"{TEST_PUBLIC_ENV}: {exc}") from None


def embedded_ipv4(addr: Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 one carries (and is routed to)."""
    if not isinstance(addr, ipaddress.IPv6Address):
        return []
    found = [a for a in (addr.ipv4_mapped, addr.sixtofour) if a is not None]
    if addr.teredo:
        found += list(addr.teredo)
    if addr in NAT64 or int(addr) >> 32 == 0:  # NAT64, or IPv4-compatible ::a.b.c.d (and :: and ::1)
        found.append(ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF))
    return found


def host_of(url: str) -> str:
    return normal_host(urlsplit(url).hostname or "")


def normal_host(host: str) -> str:
    """Lower case, no brackets, no trailing dots: `LocalHost.` and `localhost` are one name."""
    return host.lower().strip("[]").rstrip(".")


class NetworkGuard:
    def __init__(self, allow_hosts: tuple[str, ...] | list[str] = (), public: Iterable[Network] | None = None):
        self.allow_hosts = frozenset(normal_host(h) for h in allow_hosts if h)
        self.public = _public_networks(os.environ.get(TEST_PUBLIC_ENV)) if public is None else tuple(public)

    @property
    def strict(self) -> bool:
        """An allow-list was given: nothing else is reachable."""
        return bool(self.allow_hosts)

    def is_public(self, addr: Address) -> bool:
        if any(addr in net for net in self.public if net.version == addr.version):
            return True
        if addr.version == 6 and addr.scope_id:
            return False  # fe80::1%eth0 and the like
        inner = embedded_ipv4(addr)
        if inner and isinstance(addr, ipaddress.IPv6Address) and (addr.ipv4_mapped or addr.sixtofour or addr in NAT64):
            # a translated form: the IPv4 address it reaches decides
            return all(self.is_public(a) for a in inner)
        if not addr.is_global or addr.is_multicast or addr.is_reserved or addr.is_unspecified:
            return False
        if addr.version == 6 and addr.is_site_local:
            return False
        return not any(addr in net for net in NOT_PUBLIC if net.version == addr.version)

    def resolve(self, host: str) -> Address:
        """The one address a connection to ``host`` may use, or `Refused`."""
        return self._decide(host, _lookup)

    def _decide(self, host: str, lookup: Callable[[str], list[Address]]) -> Address:
        host = normal_host(host)
        if not host:
            raise Refused("refused: no host")
        if self.strict:
            if host not in self.allow_hosts:
                raise Refused(f"refused: host {host} is not in --allow-hosts")
            return lookup(host)[0]
        if host in LOOPBACK_NAMES or host.endswith(".localhost"):
            raise Refused(f"refused: {host} names this machine")
        addrs = lookup(host)
        for addr in addrs:
            if not self.is_public(addr):
                raise Refused(f"refused: {host} resolves to internal address {addr} (allow it with --allow-hosts)")
        return addrs[0]

    def check(self, url: str) -> None:
        """Raise `Refused` when the crawler must not fetch ``url``."""
        scheme = urlsplit(url).scheme.lower()
        if scheme in LOCAL_SCHEMES:
            return
        if scheme not in WEB_SCHEMES:
            raise Refused(f"refused: {scheme or 'no'} scheme (only http and https are crawled)")
        host = host_of(url)
        if self.strict and host in self.allow_hosts:
            return  # whether it resolves is the browser's business: a DNS error, not a refusal
        self._decide(host, _recent_lookup)

    def allows(self, url: str) -> bool:
        try:
            self.check(url)
        except Refused:
            return False
        return True


_RECENT: dict[str, tuple[float, list[Address] | Refused]] = {}
RECENT_SECONDS = 60.0


def _recent_lookup(host: str) -> list[Address]:
    """`_lookup` remembered for a minute: seeds and links are checked early to keep refused pages
    out of the queue, and a crawl finds thousands of links on one host. Connections never use it."""
    now = time.monotonic()
    hit = _RECENT.get(host)
    if hit is None or hit[0] < now:
        if len(_RECENT) > 4096:
            _RECENT.clear()
        try:
            hit = (now + RECENT_SECONDS, _lookup(host))
        except Refused as exc:
            hit = (now + RECENT_SECONDS, exc)
        _RECENT[host] = hit
    if isinstance(hit[1], Refused):
        raise hit[1]
    return hit[1]


def _lookup(host: str) -> list[Address]:
    """Every address ``host`` names (an IP literal is itself). Nothing is cached: each connection
    asks again and connects to what it was told, so the answer checked is the answer used."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise Refused(f"refused: {host} does not resolve ({exc})") from None
    addrs: list[Address] = []
    for info in infos:
        addr = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if addr not in addrs:
            addrs.append(addr)
    if not addrs:
        raise Refused(f"refused: {host} does not resolve")
    return addrs
