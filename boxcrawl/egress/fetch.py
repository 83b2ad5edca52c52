"""Fetching a file in Python (robots.txt, a sitemap) under the same rules as the browser: every
connection, redirects included, goes to the one address the network guard approved for its host (the
name is not resolved a second time), through the upstream proxy when there is one (`--proxy`), and a
fetch ends at its deadline however slowly the server sends.
"""

from __future__ import annotations

import http.client
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from .guard import NetworkGuard, Refused
from .upstream import Upstream, tunnel


class Deadline:
    """Shuts every socket of one fetch when its time is up, so no read can outlast it."""

    def __init__(self, seconds: float):
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, sock: socket.socket) -> socket.socket:
        with self._lock:
            if self.expired:
                sock.close()
                raise TimeoutError("deadline passed")
            self._sockets.append(sock)
        return sock

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cancel(self) -> None:
        self._timer.cancel()


Connect = Callable[..., socket.socket]  # socket.create_connection's signature


def pinned(guard: NetworkGuard, deadline: Deadline, upstream: Upstream | None = None) -> Connect:
    """socket.create_connection that connects only where the guard allows, to the one address it
    approved (the name is not resolved a second time; through ``upstream``, tunnelled to that
    address), under the fetch's deadline."""

    def connect(
        address: tuple[str, int], timeout: float | None = None, source_address: tuple[str, int] | None = None
    ) -> socket.socket:
        host, port = address
        approved = guard.resolve(host)  # Refused propagates
        if upstream is not None:
            return tunnel(upstream, approved, port, timeout, deadline.watch)
        return deadline.watch(socket.create_connection((str(approved), port), timeout, source_address))

    return connect


class _Pinned:
    """An http.client connection that opens its socket with ``connect`` (see `pinned`)."""

    def __init__(self, *args: Any, connect: Connect, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = connect


class _PinnedHTTPConnection(_Pinned, http.client.HTTPConnection):
    pass


class _PinnedHTTPSConnection(_Pinned, http.client.HTTPSConnection):
    pass


class PinnedHandler(urllib.request.HTTPHandler, urllib.request.HTTPSHandler):
    """urllib's http(s) handler, with every connection made by ``connect``."""

    def __init__(self, connect: Connect):
        urllib.request.HTTPHandler.__init__(self)
        urllib.request.HTTPSHandler.__init__(self)
        self.connect = connect

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(lambda *a, **kw: _PinnedHTTPConnection(*a, connect=self.connect, **kw), req)

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        context = getattr(self, "_context", None)  # HTTPSHandler's own TLS context
        return self.do_open(
            lambda *a, **kw: _PinnedHTTPSConnection(*a, connect=self.connect, **kw), req, context=context
        )


def guarded_opener(handler: PinnedHandler) -> urllib.request.OpenerDirector:
    """urllib with http(s) through `handler` and nothing else: no ftp: or file: a redirect could lead to
    (their connections would not go through the guard), and no proxy from the environment (it would
    resolve names and follow redirects where the guard cannot see)."""
    opener = urllib.request.OpenerDirector()
    for part in (
        urllib.request.ProxyHandler({}),
        handler,
        urllib.request.HTTPRedirectHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
        urllib.request.UnknownHandler(),  # any other scheme: an error, not an unguarded connection
    ):
        opener.add_handler(part)
    return opener


class FetchError(Exception):
    """Why a file could not be fetched, in one line; this class itself: no answer at all."""


class HTTPStatus(FetchError):
    def __init__(self, status: int):
        super().__init__(f"HTTP {status}")
        self.status = status


class FetchTimeout(FetchError):
    """The deadline passed (however slowly the server was sending)."""


class FetchRefused(FetchError):
    """The guard refused an address on the way: the URL's, or a redirect's."""


def fetch(
    url: str,
    guard: NetworkGuard,
    agent: str,
    timeout: float = 10.0,
    max_bytes: int = 50 << 20,
    truncate: bool = False,
    upstream: Upstream | None = None,
) -> bytes:
    """The body of `url` fetched through the guard (and ``upstream``, the --proxy): at most `max_bytes`
    (more is an error, or cut off with `truncate`). Raises a FetchError that says why not."""
    try:
        guard.check(url)
    except Refused as exc:
        raise FetchRefused(str(exc)) from None
    deadline = Deadline(timeout)
    opener = guarded_opener(PinnedHandler(pinned(guard, deadline, upstream)))
    try:
        with opener.open(urllib.request.Request(url, headers={"User-Agent": agent}), timeout=timeout) as response:
            body: bytes = response.read(max_bytes if truncate else max_bytes + 1)
        if deadline.expired:
            raise TimeoutError
        if len(body) > max_bytes:
            raise FetchError(f"larger than {max_bytes >> 20} MB")
        return body
    except urllib.error.HTTPError as exc:
        raise HTTPStatus(exc.code) from None
    except Refused as exc:
        raise FetchRefused(str(exc)) from None
    except (TimeoutError, socket.timeout):
        raise FetchTimeout(f"took longer than {timeout:g}s") from None
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as exc:
        if deadline.expired:
            raise FetchTimeout(f"took longer than {timeout:g}s") from None
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, Refused):
            raise FetchRefused(str(reason)) from None
        raise FetchError(str(reason)) from None
    finally:
        deadline.cancel()
