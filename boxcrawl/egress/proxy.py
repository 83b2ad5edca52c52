"""The one way out of the browser: a SOCKS5 proxy on loopback that applies `NetworkGuard`.

Chromium sends every HTTP(S) and WebSocket connection here with the *name* it wants (SOCKS5
resolves on the proxy side), so Chromium never resolves a page's host itself. For each
connection the proxy asks the guard once, and connects to exactly the address the guard
approved: a redirect, a DNS answer that changes (rebinding), a prefetch or a worker's socket all
meet the same check, because there is no other path. `browser/chromium.py` closes the others
(no UDP: QUIC off, WebRTC only through the proxy; Chromium's own resolver answers nothing).

Only CONNECT (RFC 1928) with no authentication: that is all Chromium speaks. The proxy runs its
own event loop on a thread, so a busy crawl loop never stalls the browser's traffic.

With an upstream proxy (`--proxy`, egress/upstream.py) the connection to the approved address
goes through it, asked for by that address, never by name; the guard decides all the same.

Each browser context gets its own *door* (a listening port): what the guard refused through a door
is the record of that page, so a page whose document was refused is told apart from one whose
server is down. Traffic from outside any context (the browser itself) uses the shared door.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import struct
import threading
from concurrent.futures import ThreadPoolExecutor

from .guard import NetworkGuard, Refused
from .upstream import Upstream, UpstreamError, open_tunnel

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
RESOLVERS = 32  # lookups at once: a page names dozens of hosts, and a slow DNS answer takes seconds
HANDSHAKE_SECONDS = 10.0
CONNECT_SECONDS = 30.0
CHUNK = 256 * 1024

# RFC 1928 replies
(
    SUCCEEDED,
    GENERAL_FAILURE,
    NOT_ALLOWED,
    HOST_UNREACHABLE,
    CONNECTION_REFUSED,
    TTL_EXPIRED,
    NO_COMMAND,
    NO_ADDRESS_TYPE,
) = (
    0,
    1,
    2,
    4,
    5,
    6,
    7,
    8,
)


class Door:
    """A port of the proxy. `refused` lists what the guard turned away through it, `failed` the
    connections it allowed that the server did not take, in Chromium's words (net::ERR_...)."""

    def __init__(self) -> None:
        self.refused: list[str] = []
        self.failed: list[str] = []
        self.port = 0
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"socks5://{HOST}:{self.port}"


class EgressProxy:
    """``with EgressProxy(guard) as proxy:`` then ``proxy.url`` for the browser, and
    ``door = await proxy.open_door()`` / ``await proxy.close_door(door)`` per context."""

    def __init__(self, guard: NetworkGuard, upstream: Upstream | None = None):
        self.guard = guard
        self.upstream = upstream  # connections to approved addresses go through it (--proxy)
        self.connections = 0
        self._loop = asyncio.new_event_loop()
        self._resolvers = ThreadPoolExecutor(RESOLVERS, thread_name_prefix="egress-dns")
        self._thread = threading.Thread(target=self._loop.run_forever, name="egress-proxy", daemon=True)
        self._shared: Door | None = None

    def __enter__(self) -> "EgressProxy":
        self._thread.start()
        self._shared = asyncio.run_coroutine_threadsafe(self._open(), self._loop).result()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._shared is not None:
            asyncio.run_coroutine_threadsafe(self._close(self._shared), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        if not self._thread.is_alive():
            self._loop.close()
        self._resolvers.shutdown(wait=False, cancel_futures=True)

    @property
    def url(self) -> str:
        """The browser-wide proxy (Chromium's --proxy-server)."""
        return self._opened().url

    @property
    def refused(self) -> list[str]:
        """What the guard turned away outside any door of a context."""
        return self._opened().refused

    def _opened(self) -> Door:
        if self._shared is None:
            raise RuntimeError("EgressProxy is used inside `with`")
        return self._shared

    async def open_door(self) -> Door:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self._open(), self._loop))

    async def close_door(self, door: Door) -> None:
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self._close(door), self._loop))

    # --- on the proxy's loop ---

    async def _open(self) -> Door:
        door = Door()
        door._server = await asyncio.start_server(
            lambda r, w: self._accept(door, r, w), HOST, 0, reuse_address=True, backlog=256
        )
        door.port = door._server.sockets[0].getsockname()[1]
        return door

    async def _close(self, door: Door) -> None:
        if door._server is not None:
            door._server.close()
        for task in list(door._tasks):
            task.cancel()
        await asyncio.gather(*door._tasks, return_exceptions=True)

    def _accept(self, door: Door, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.ensure_future(self._serve(door, reader, writer))
        door._tasks.add(task)
        task.add_done_callback(door._tasks.discard)

    async def _serve(self, door: Door, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream = None
        try:
            try:
                async with asyncio.timeout(HANDSHAKE_SECONDS):
                    host, port = await _handshake(reader, writer)
            except (_BadRequest, asyncio.IncompleteReadError, TimeoutError, ConnectionError):
                return
            try:
                address = await self._loop.run_in_executor(self._resolvers, self.guard.resolve, host)
            except Refused as exc:
                door.refused.append(f"{exc} [{host}:{port}]")
                await _reply(writer, NOT_ALLOWED)
                return
            try:
                async with asyncio.timeout(CONNECT_SECONDS):
                    if self.upstream is not None:  # to the approved address itself, not the name
                        up_reader, upstream = await open_tunnel(self.upstream, address, port)
                    else:
                        up_reader, upstream = await asyncio.open_connection(str(address), port)
            except UpstreamError as exc:
                door.failed.append(f"net::{exc.error} at {host}:{port} ({exc.detail})")
                await _reply(writer, GENERAL_FAILURE)
                return
            except (OSError, TimeoutError) as exc:
                code, error = (
                    (CONNECTION_REFUSED, "ERR_CONNECTION_REFUSED")
                    if isinstance(exc, ConnectionRefusedError)
                    else (TTL_EXPIRED, "ERR_CONNECTION_TIMED_OUT")
                    if isinstance(exc, TimeoutError)
                    else (HOST_UNREACHABLE, "ERR_ADDRESS_UNREACHABLE")
                )
                door.failed.append(f"net::{error} at {host}:{port}")
                await _reply(writer, code)
                return
            self.connections += 1
            await _reply(writer, SUCCEEDED)
            await _relay(reader, writer, up_reader, upstream)
        except (ConnectionError, OSError):
            pass
        finally:
            for w in (writer, upstream):
                if w is not None:
                    w.close()


class _BadRequest(Exception):
    pass


async def _handshake(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> tuple[str, int]:
    version, n_methods = await reader.readexactly(2)
    if version != 5:
        writer.write(b"\x05\xff")
        raise _BadRequest
    methods = await reader.readexactly(n_methods)
    if 0 not in methods:
        writer.write(b"\x05\xff")  # no acceptable method
        raise _BadRequest
    writer.write(b"\x05\x00")
    version, command, _, address_type = await reader.readexactly(4)
    if address_type == 1:
        host = str(ipaddress.IPv4Address(await reader.readexactly(4)))
    elif address_type == 3:
        length = (await reader.readexactly(1))[0]
        try:  # Chromium sends names in their ASCII (punycode) form
            host = (await reader.readexactly(length)).decode("ascii")
        except UnicodeDecodeError:
            await _reply(writer, HOST_UNREACHABLE)
            raise _BadRequest from None
    elif address_type == 4:
        host = str(ipaddress.IPv6Address(await reader.readexactly(16)))
    else:
        await _reply(writer, NO_ADDRESS_TYPE)
        raise _BadRequest
    (port,) = struct.unpack("!H", await reader.readexactly(2))
    if version != 5 or command != 1:  # BIND and UDP ASSOCIATE are not offered
        await _reply(writer, NO_COMMAND)
        raise _BadRequest
    return host, port


async def _reply(writer: asyncio.StreamWriter, code: int) -> None:
    writer.write(bytes([5, code, 0, 1]) + socket.inet_aton("0.0.0.0") + b"\x00\x00")
    await writer.drain()


async def _relay(
    a_reader: asyncio.StreamReader,
    a_writer: asyncio.StreamWriter,
    b_reader: asyncio.StreamReader,
    b_writer: asyncio.StreamWriter,
) -> None:
    """Copy both ways until either side closes; then both close (HTTP and TLS need no half-close)."""

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()

    tasks = [asyncio.ensure_future(pipe(a_reader, b_writer)), asyncio.ensure_future(pipe(b_reader, a_writer))]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
