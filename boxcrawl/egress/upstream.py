"""An upstream proxy (`--proxy`): a tunnel through it to an address the network guard approved.

The tunnel is always asked for by IP literal (``CONNECT 1.2.3.4:443``, SOCKS5 with an IPv4 or
IPv6 address), never by name: the guard has resolved the name and approved that address, and an
upstream given a name would resolve it again, where a rebinding answer could point it at a private
or metadata address. The proxy's own address is the operator's choice and is not checked.

The handshakes are written once, as generators of `Step`s (bytes to send, then what to read), and
driven by the asyncio egress proxy (`open_tunnel`) and by the blocking fetch (`tunnel`) alike.
Failures are `UpstreamError`s named as Chromium names them (net::ERR_PROXY_CONNECTION_FAILED, ...).
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import socket
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from urllib.parse import SplitResult, unquote, urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

SCHEMES = ("http", "socks5")
HANDSHAKE_SECONDS = 10.0
MAX_REPLY_HEAD = 16 * 1024  # an HTTP CONNECT answer's status line and headers

# Chromium's names for what went wrong (net/base/net_error_list.h)
PROXY_CONNECTION_FAILED = "ERR_PROXY_CONNECTION_FAILED"  # the proxy itself could not be reached
TUNNEL_CONNECTION_FAILED = "ERR_TUNNEL_CONNECTION_FAILED"  # it was, but gave no tunnel
PROXY_AUTH_REQUESTED = "ERR_PROXY_AUTH_REQUESTED"  # it wants credentials (none given, or refused)
PROXY_AUTH_UNSUPPORTED = "ERR_PROXY_AUTH_UNSUPPORTED"  # no authentication method both sides speak

SOCKS_REPLIES = {
    1: "general failure",
    2: "not allowed by its rules",
    3: "network unreachable",
    4: "host unreachable",
    5: "connection refused",
    6: "TTL expired",
    7: "command not supported",
    8: "address type not supported",
}


@dataclass(frozen=True)
class Upstream:
    """``http://[user:pass@]host:port`` (HTTP CONNECT) or ``socks5://...`` (RFC 1928, RFC 1929 auth)."""

    scheme: str
    host: str
    port: int
    username: str | None = field(default=None, repr=False)
    password: str = field(default="", repr=False)

    @property
    def shown(self) -> str:
        """The proxy as it may be recorded and printed: without credentials."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


def parse(text: str) -> Upstream:
    """The proxy a ``--proxy`` value names; ValueError (whose message holds no credentials) if none."""
    text = text.strip()
    # What an error may show: the scheme and what follows the last "@", never what precedes it. Taken from
    # the raw text, since a password holding "/", "?" or "#" fools urlsplit's idea of where the host is.
    scheme_part, sep, rest = text.partition("://")
    shown = f"{scheme_part}://{rest.rpartition('@')[2]}" if sep else rest.rpartition("@")[2]
    try:
        parts = urlsplit(text)
    except ValueError:  # its message quotes the whole netloc, credentials included
        raise ValueError(f"not a proxy URL: {shown!r}") from None
    if "@" in text and "@" not in parts.netloc:  # the credentials held a "/", "?" or "#"
        raise ValueError(f"percent-encode '/', '?', '#' and '@' in the proxy's user name and password: {shown!r}")
    scheme = parts.scheme.lower()
    if scheme == "https":
        raise ValueError("https:// proxies are not supported (use http:// or socks5://)")
    if scheme not in SCHEMES:
        raise ValueError(f"expected http://[USER:PASS@]HOST:PORT or socks5://[USER:PASS@]HOST:PORT, got {shown!r}")
    if not parts.hostname:
        raise ValueError(f"no proxy host in {shown!r}")
    port = _port(parts)
    if port is None:
        raise ValueError(f"no port (or a bad one) in {shown!r}: give HOST:PORT")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"a proxy URL is {scheme}://[USER:PASS@]HOST:PORT and nothing more, got {shown!r}")
    username = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password or "")
    if scheme == "socks5" and username is not None:
        if not 0 < len(username.encode()) < 256 or len(password.encode()) > 255:
            raise ValueError("SOCKS5 user name and password are 1 to 255 bytes each")
    return Upstream(scheme, parts.hostname, port, username, password)


def _port(parts: SplitResult) -> int | None:
    try:
        return parts.port
    except ValueError:  # not a number, or out of range
        return None


class UpstreamError(OSError):
    """No tunnel through the upstream proxy; ``error`` is Chromium's name for why."""

    def __init__(self, error: str, detail: str):
        super().__init__(f"net::{error}: {detail}")
        self.error = error
        self.detail = detail


@dataclass(frozen=True)
class Step:
    """Send ``send``, then read exactly ``exactly`` bytes, or up to and including ``until``."""

    send: bytes = b""
    exactly: int = 0
    until: bytes = b""


Handshake = Generator[Step, bytes, None]


def handshake(upstream: Upstream, address: Address, port: int) -> Handshake:
    """The steps that open a tunnel to ``address:port`` through ``upstream``."""
    return (_http_connect if upstream.scheme == "http" else _socks5)(upstream, address, port)


def _http_connect(upstream: Upstream, address: Address, port: int) -> Handshake:
    target = f"[{address}]:{port}" if address.version == 6 else f"{address}:{port}"
    head = f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n"
    if upstream.username is not None:
        token = base64.b64encode(f"{upstream.username}:{upstream.password}".encode()).decode("ascii")
        head += f"Proxy-Authorization: Basic {token}\r\n"
    answer = yield Step(send=(head + "\r\n").encode(), until=b"\r\n\r\n")
    status_line = answer.split(b"\r\n", 1)[0].decode("latin-1")
    version, _, rest = status_line.partition(" ")
    code = rest[:3]
    if not version.startswith("HTTP/1.") or not code.isdigit():
        raise UpstreamError(TUNNEL_CONNECTION_FAILED, f"{upstream.shown} answered CONNECT with {status_line[:80]!r}")
    if code == "407":
        why = "refused the credentials" if upstream.username is not None else "wants credentials"
        raise UpstreamError(PROXY_AUTH_REQUESTED, f"{upstream.shown} {why} (HTTP 407)")
    if not code.startswith("2"):
        raise UpstreamError(TUNNEL_CONNECTION_FAILED, f"{upstream.shown} answered CONNECT with HTTP {code}")


def _socks5(upstream: Upstream, address: Address, port: int) -> Handshake:
    methods = b"\x00\x02" if upstream.username is not None else b"\x00"  # none; user/password (RFC 1929)
    version, method = yield Step(send=bytes([5, len(methods)]) + methods, exactly=2)
    if version != 5:
        raise UpstreamError(TUNNEL_CONNECTION_FAILED, f"{upstream.shown} does not speak SOCKS5")
    if method == 0xFF or bytes([method]) not in methods:
        why = "wants credentials" if upstream.username is None else "takes none of our authentication methods"
        raise UpstreamError(PROXY_AUTH_UNSUPPORTED, f"{upstream.shown} {why}")
    if method == 2:
        user, password = (upstream.username or "").encode(), upstream.password.encode()
        _, status = yield Step(send=bytes([1, len(user)]) + user + bytes([len(password)]) + password, exactly=2)
        if status != 0:
            raise UpstreamError(PROXY_AUTH_REQUESTED, f"{upstream.shown} refused the credentials")
    kind = 1 if address.version == 4 else 4
    request = bytes([5, 1, 0, kind]) + address.packed + port.to_bytes(2, "big")
    version, reply, _, bound_kind = yield Step(send=request, exactly=4)
    if version != 5 or reply != 0:
        why = SOCKS_REPLIES.get(reply, f"reply {reply}") if version == 5 else "not a SOCKS5 reply"
        raise UpstreamError(TUNNEL_CONNECTION_FAILED, f"{upstream.shown}: {why}")
    # the address and port the proxy bound: of no use here, but they precede the data
    if bound_kind == 3:
        (length,) = yield Step(exactly=1)
        yield Step(exactly=length + 2)
    elif bound_kind in (1, 4):
        yield Step(exactly=(16 if bound_kind == 4 else 4) + 2)
    else:  # reading on would take the address's bytes for data
        raise UpstreamError(TUNNEL_CONNECTION_FAILED, f"{upstream.shown}: address type {bound_kind} in its reply")


async def open_tunnel(
    upstream: Upstream, address: Address, port: int, timeout: float = HANDSHAKE_SECONDS
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A stream to ``address:port`` through ``upstream``, or `UpstreamError`."""
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(upstream.host, upstream.port, limit=MAX_REPLY_HEAD)
    except (OSError, TimeoutError) as exc:
        raise UpstreamError(PROXY_CONNECTION_FAILED, f"{upstream.shown}: {_why(exc)}") from None
    try:
        async with asyncio.timeout(timeout):
            steps = handshake(upstream, address, port)
            step = next(steps)
            while True:
                if step.send:
                    writer.write(step.send)
                    await writer.drain()
                answer = await (reader.readexactly(step.exactly) if step.exactly else reader.readuntil(step.until))
                try:
                    step = steps.send(answer)
                except StopIteration:
                    return reader, writer
    except (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
        writer.close()
        if isinstance(exc, UpstreamError):
            raise
        raise UpstreamError(TUNNEL_CONNECTION_FAILED, f"{upstream.shown}: {_why(exc)}") from None
    except BaseException:  # cancelled (the page's deadline, shutdown): the socket must not outlive the task
        writer.close()
        raise


def tunnel(
    upstream: Upstream,
    address: Address,
    port: int,
    timeout: float | None,
    watch: Callable[[socket.socket], socket.socket] = lambda sock: sock,
) -> socket.socket:
    """The blocking twin of `open_tunnel`: a socket to ``address:port`` through ``upstream``.
    ``watch`` sees the socket before the handshake (a fetch's deadline shuts it however slow the proxy)."""
    try:
        sock = watch(socket.create_connection((upstream.host, upstream.port), timeout))
    except OSError as exc:
        raise UpstreamError(PROXY_CONNECTION_FAILED, f"{upstream.shown}: {_why(exc)}") from None
    try:
        steps = handshake(upstream, address, port)
        step = next(steps)
        while True:
            sock.sendall(step.send)
            try:
                step = steps.send(_read(sock, step))
            except StopIteration:
                return sock
    except UpstreamError:
        sock.close()
        raise
    except OSError as exc:
        sock.close()
        raise UpstreamError(TUNNEL_CONNECTION_FAILED, f"{upstream.shown}: {_why(exc)}") from None


def _read(sock: socket.socket, step: Step) -> bytes:
    """What ``step`` reads, a byte at a time up to ``until``: nothing past the proxy's answer is taken
    from the socket, since what follows belongs to the connection through the tunnel."""
    data = b""
    while not _complete(data, step):
        chunk = sock.recv(step.exactly - len(data) if step.exactly else 1)
        if not chunk:
            raise ConnectionResetError("the proxy closed the connection")
        data += chunk
        if len(data) > MAX_REPLY_HEAD:
            raise ConnectionError("the proxy's answer is too long")
    return data


def _complete(data: bytes, step: Step) -> bool:
    return len(data) == step.exactly if step.exactly else data.endswith(step.until)


def _why(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, asyncio.IncompleteReadError):
        return "the proxy closed the connection"
    if isinstance(exc, asyncio.LimitOverrunError):
        return "the proxy's answer is too long"
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
