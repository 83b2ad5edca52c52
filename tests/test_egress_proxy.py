"""The egress proxy on its own, spoken to as Chromium speaks to it (SOCKS5, names resolved by the proxy)."""

import asyncio
import ipaddress
import socket
import struct
import threading

import pytest

from boxcrawl.egress import guard as guard_module
from boxcrawl.egress.guard import NetworkGuard
from boxcrawl.egress.proxy import EgressProxy


def socks_connect(
    port: int, host: str, target_port: int, greeting: bytes = b"\x05\x01\x00"
) -> tuple[int, socket.socket]:
    """SOCKS5 CONNECT by name; (reply code, the socket)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(greeting)
    assert sock.recv(2) == b"\x05\x00"
    name = host.encode()
    sock.sendall(b"\x05\x01\x00\x03" + bytes([len(name)]) + name + struct.pack("!H", target_port))
    reply = sock.recv(10)
    return reply[1], sock


class Listener:
    """Accepts on (host, port), answers "hello from HOST" and records each connection."""

    def __init__(self, host: str, port: int = 0):
        self.sock = socket.socket()
        self.sock.bind((host, port))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.host = host
        self.accepted = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            with conn:
                conn.sendall(f"hello from {self.host}".encode())

    def close(self):
        self.sock.close()


@pytest.fixture
def proxy():
    with EgressProxy(NetworkGuard(public=[ipaddress.ip_network("127.0.0.2/32")])) as p:
        yield p


def _port(proxy_url: str) -> int:
    return int(proxy_url.rsplit(":", 1)[1])


def test_a_name_is_resolved_once_and_connected_to_as_checked(proxy, monkeypatch):
    # DNS rebinding: the name answers a public address, then loopback. Each connection resolves
    # once and connects to exactly the address it checked, so the victim is never reached.
    public = Listener("127.0.0.2")
    victim = Listener("127.0.0.1", public.port)  # same port, so a second lookup would land here
    answers = iter(["127.0.0.2", "127.0.0.1"] * 10)
    real = socket.getaddrinfo

    def rebinding(host, *args, **kwargs):
        if host == "rebind.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), 0))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(guard_module.socket, "getaddrinfo", rebinding)
    try:
        code, sock = socks_connect(_port(proxy.url), "rebind.test", public.port)
        assert code == 0 and sock.recv(100) == b"hello from 127.0.0.2"
        sock.close()
        code, sock = socks_connect(_port(proxy.url), "rebind.test", public.port)
        assert code == 2  # the second answer is loopback: not allowed by the rule set
        sock.close()
        assert victim.accepted == 0 and public.accepted == 1
        assert any("rebind.test" in r and "127.0.0.1" in r for r in proxy.refused)
    finally:
        public.close()
        victim.close()


def test_each_door_keeps_its_own_refusals(proxy):
    async def two_doors():
        a, b = await proxy.open_door(), await proxy.open_door()
        await asyncio.to_thread(lambda: socks_connect(a.port, "localhost", 80)[1].close())
        await asyncio.to_thread(lambda: socks_connect(b.port, "127.0.0.2", 9)[1].close())  # allowed, closed port
        refused, failed = list(a.refused), list(b.failed)
        b_refused = list(b.refused)
        await proxy.close_door(a)
        await proxy.close_door(b)
        return refused, failed, b_refused

    refused, failed, b_refused = asyncio.run(two_doors())
    assert refused == ["refused: localhost names this machine [localhost:80]"]
    assert b_refused == [] and failed == ["net::ERR_CONNECTION_REFUSED at 127.0.0.2:9"]
    assert proxy.refused == []


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"\x04\x01\x00\x50\x7f\x00\x00\x01\x00",  # SOCKS4
        b"\x05\x01\x02",  # only username/password auth offered
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",  # not SOCKS at all
    ],
)
def test_what_is_not_a_socks5_connect_is_turned_away_and_the_proxy_goes_on(proxy, request_bytes):
    sock = socket.create_connection(("127.0.0.1", _port(proxy.url)), timeout=10)
    sock.sendall(request_bytes)
    answer = sock.recv(10)
    assert answer in (b"", b"\x05\xff")
    sock.close()
    public = Listener("127.0.0.2")
    try:
        code, ok = socks_connect(_port(proxy.url), "127.0.0.2", public.port)
        assert code == 0 and ok.recv(100) == b"hello from 127.0.0.2"
        ok.close()
    finally:
        public.close()


def test_bind_udp_and_odd_names_are_refused(proxy):
    port = _port(proxy.url)
    for command in (2, 3):  # BIND, UDP ASSOCIATE
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(b"\x05\x01\x00")
        assert sock.recv(2) == b"\x05\x00"
        sock.sendall(bytes([5, command, 0, 1, 127, 0, 0, 2, 0, 80]))
        assert sock.recv(10)[1] == 7
        sock.close()
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(b"\x05\x01\x00")
    sock.recv(2)
    name = "bücher.example".encode("utf-8")
    sock.sendall(b"\x05\x01\x00\x03" + bytes([len(name)]) + name + b"\x00\x50")
    assert sock.recv(10)[1] == 4
    sock.close()
