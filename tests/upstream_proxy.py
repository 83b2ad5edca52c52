"""A real upstream proxy for the tests of --proxy: HTTP CONNECT or SOCKS5 on 127.0.0.1, with or without
user/password authentication, written from the RFCs apart from boxcrawl's own client code.

It records what it was asked for (`targets`: ``CONNECT 127.0.0.1:8080``, or ``CONNECT name=localhost:80``
when a SOCKS5 client sent a name) and the first line sent through each tunnel (`first_lines`), and it
connects only to loopback IP literals: a name is never resolved here, so a client that sent one fails.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import struct
import threading


class UpstreamProxy:
    def __init__(self, kind: str, user: str | None = None, password: str | None = None):
        assert kind in ("http", "socks5")
        self.kind, self.user, self.password = kind, user, password
        self.targets: list[str] = []
        self.first_lines: list[str] = []
        self.auth_refused = 0
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.AbstractServer | None = None

    def url(self, user: str | None = None, password: str | None = None) -> str:
        """The proxy's URL, with these credentials (default: its own)."""
        user = self.user if user is None else user
        password = self.password if password is None else password
        auth = f"{user}:{password}@" if user is not None else ""
        return f"{self.kind}://{auth}127.0.0.1:{self.port}"

    def __enter__(self) -> UpstreamProxy:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve, "127.0.0.1", 0), self._loop
        ).result()
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            assert self._server is not None
            self._server.close()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if self.kind == "http":
                target = await self._http(reader, writer)
            else:
                target = await self._socks5(reader, writer)
            if target is None:
                return
            host, port, up_reader, up_writer = target
            await self._relay(reader, writer, up_reader, up_writer)
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _open(self, host: str, port: int):
        address = ipaddress.ip_address(host)  # ValueError for a name: never resolved here
        if not address.is_loopback:
            raise ValueError(f"the test proxy connects to loopback only, not {host}")
        return await asyncio.open_connection(str(address), port)

    async def _http(self, reader, writer):
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        request, *lines = head.split("\r\n")
        self.targets.append(" ".join(request.split(" ")[:2]))
        method, target, _ = request.split(" ")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines if line)}
        if self.user is not None:
            expected = "Basic " + base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
            if headers.get("proxy-authorization") != expected:
                self.auth_refused += 1
                writer.write(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
                return None
        host, _, port = target.rpartition(":")
        try:
            up_reader, up_writer = await self._open(host.strip("[]"), int(port))
        except (ValueError, OSError):
            writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            return None
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
        return host, int(port), up_reader, up_writer

    async def _socks5(self, reader, writer):
        version, n = await reader.readexactly(2)
        methods = await reader.readexactly(n)
        wanted = 2 if self.user is not None else 0
        if version != 5 or wanted not in methods:
            writer.write(b"\x05\xff")
            await writer.drain()
            return None
        writer.write(bytes([5, wanted]))
        if wanted == 2:  # RFC 1929
            _, ulen = await reader.readexactly(2)
            user = (await reader.readexactly(ulen)).decode()
            password = (await reader.readexactly((await reader.readexactly(1))[0])).decode()
            ok = user == self.user and password == self.password
            writer.write(b"\x01\x00" if ok else b"\x01\x01")
            await writer.drain()
            if not ok:
                self.auth_refused += 1
                return None
        _, command, _, kind = await reader.readexactly(4)
        if kind == 1:
            host = str(ipaddress.IPv4Address(await reader.readexactly(4)))
        elif kind == 4:
            host = str(ipaddress.IPv6Address(await reader.readexactly(16)))
        else:
            host = "name=" + (await reader.readexactly((await reader.readexactly(1))[0])).decode()
        (port,) = struct.unpack("!H", await reader.readexactly(2))
        self.targets.append(f"CONNECT {f'[{host}]' if kind == 4 else host}:{port}")
        try:
            up_reader, up_writer = await self._open(host, port)
        except (ValueError, OSError):
            writer.write(b"\x05\x04\x00\x01\x00\x00\x00\x00\x00\x00")  # host unreachable
            await writer.drain()
            return None
        writer.write(b"\x05\x00\x00\x01\x7f\x00\x00\x01" + struct.pack("!H", port))
        await writer.drain()
        return host, port, up_reader, up_writer

    async def _relay(self, reader, writer, up_reader, up_writer) -> None:
        first = await reader.read(65536)
        if not first:
            up_writer.close()
            return
        self.first_lines.append(first.split(b"\r\n", 1)[0].decode("latin-1")[:200])
        up_writer.write(first)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()

        tasks = [asyncio.ensure_future(pipe(reader, up_writer)), asyncio.ensure_future(pipe(up_reader, writer))]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            up_writer.close()
