"""Keeps the crawler off its own network.

Seeds, links and every request the browser makes pass through `NetworkGuard.check`.
Loopback, private, link-local (cloud metadata), multicast and reserved addresses and
non-http(s) schemes are refused unless the host is on the allow-list; the check is
made on the *resolved* addresses, not only the name. With an allow-list the browser
reaches only those hosts: Chromium's resolver maps every other name to NOTFOUND, and
the request interceptor refuses IP literals that are not listed.
"""

from __future__ import annotations

import ipaddress
import socket
from functools import lru_cache
from urllib.parse import urlsplit

WEB_SCHEMES = {"http", "https"}
# Sub-resources that never touch the network.
LOCAL_SCHEMES = {"data", "blob", "about", "chrome-error"}


class Refused(Exception):
    """A URL the crawler must not fetch; the message says why."""


_INTERNAL_FLAGS = ("is_loopback", "is_private", "is_link_local", "is_multicast",
                   "is_reserved", "is_unspecified", "is_site_local")


def _is_internal(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    return any(getattr(addr, flag, False) for flag in _INTERNAL_FLAGS)


@lru_cache(maxsize=4096)
def _resolve(host: str) -> tuple[str, ...]:
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return ()
    return tuple(sorted({info[4][0] for info in infos}))


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower().strip("[]")


class NetworkGuard:
    def __init__(self, allow_hosts: tuple[str, ...] | list[str] = ()):
        self.allow_hosts = frozenset(h.lower().strip("[]") for h in allow_hosts if h)

    @property
    def strict(self) -> bool:
        """An allow-list was given: nothing else is reachable."""
        return bool(self.allow_hosts)

    def check(self, url: str) -> None:
        """Raise `Refused` when the crawler must not fetch ``url``."""
        scheme = urlsplit(url).scheme.lower()
        if scheme in LOCAL_SCHEMES:
            return
        if scheme not in WEB_SCHEMES:
            raise Refused(f"refused: {scheme or 'no'} scheme (only http and https are crawled)")
        host = host_of(url)
        if not host:
            raise Refused("refused: URL has no host")
        if host in self.allow_hosts:
            return
        if self.strict:
            raise Refused(f"refused: host {host} is not in --allow-hosts")
        try:
            addrs = [ipaddress.ip_address(host)]
        except ValueError:
            addrs = [ipaddress.ip_address(a.split("%")[0]) for a in _resolve(host)]
            if not addrs:
                return  # unresolvable: the browser reports the DNS error itself
        for addr in addrs:
            if _is_internal(addr):
                raise Refused(f"refused: {host} resolves to internal address {addr} "
                              "(allow it with --allow-hosts)")

    def allows(self, url: str) -> bool:
        try:
            self.check(url)
        except Refused:
            return False
        return True

    def chromium_args(self) -> list[str]:
        """Flags that make Chromium resolve nothing but the allowed hosts."""
        if not self.strict:
            return []
        # IP literals go through the rules too, so every allowed host is excluded
        rules = ["MAP * ~NOTFOUND"] + [f"EXCLUDE {h}" for h in sorted(self.allow_hosts)]
        return ["--host-resolver-rules=" + ", ".join(rules)]

