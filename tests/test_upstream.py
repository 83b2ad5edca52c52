"""--proxy without a browser: the egress proxy and the Python fetch tunnel through a real upstream proxy
to the address the guard approved (an IP literal, never the name), a refused address never reaches the
upstream, and its failures are named as Chromium names them."""

import argparse
import asyncio
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from test_egress_proxy import socks_connect
from upstream_proxy import UpstreamProxy

from boxcrawl.commands.options import recorded_command, url_list
from boxcrawl.egress.fetch import FetchError, fetch
from boxcrawl.egress.guard import NetworkGuard
from boxcrawl.egress.proxy import EgressProxy
from boxcrawl.egress.upstream import parse
from boxcrawl.egress.upstream import tunnel as open_sync_tunnel

PW = "hunter2-Zq7"
KINDS = ["http", "socks5"]


FILES = {
    "/robots.txt": b"User-agent: *\nDisallow: /private\n",
    "/sitemap.xml": b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
    b"<url><loc>http://127.0.0.1/listed.html</loc></url></urlset>",
}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = FILES.get(self.path, b"hello")
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    address_family = socket.AF_INET


class Server6(ThreadingHTTPServer):
    address_family = socket.AF_INET6


@pytest.fixture
def site():
    httpd = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(params=KINDS)
def upstream(request):
    with UpstreamProxy(request.param, "alice", PW) as proxy:
        yield proxy


def closed_port() -> socket.socket:
    """A bound port nothing listens on: connecting there is refused at once."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


def local_guard() -> NetworkGuard:
    if NetworkGuard(("localhost",)).resolve("localhost") != NetworkGuard(("127.0.0.1",)).resolve("127.0.0.1"):
        pytest.skip("localhost does not resolve to 127.0.0.1 first here")
    return NetworkGuard(("localhost", "127.0.0.1"))


def through_door(upstream_url: str, guard: NetworkGuard, host: str, port: int):
    """A SOCKS5 CONNECT by name through a door of an EgressProxy on ``upstream_url``: (reply code,
    what came back for a GET, the door's failures)."""
    with EgressProxy(guard, parse(upstream_url)) as proxy:

        async def once():
            door = await proxy.open_door()

            def talk():
                code, sock = socks_connect(door.port, host, port)
                with sock:
                    if code != 0:
                        return code, b""
                    sock.sendall(b"GET /hello HTTP/1.0\r\n\r\n")
                    answer = b""
                    while chunk := sock.recv(4096):  # HTTP/1.0: the server closes when done
                        answer += chunk
                    return code, answer

            code, answer = await asyncio.to_thread(talk)
            failed, refused = list(door.failed), list(door.refused)
            await proxy.close_door(door)
            return code, answer, failed, refused

        return asyncio.run(once())


def test_the_egress_proxy_tunnels_to_the_approved_address_not_the_name(upstream, site):
    code, answer, failed, refused = through_door(upstream.url(), local_guard(), "localhost", site)
    assert code == 0 and answer.endswith(b"hello"), (code, answer, failed)
    assert upstream.targets == [f"CONNECT 127.0.0.1:{site}"]  # the IP literal the guard approved
    assert upstream.first_lines == ["GET /hello HTTP/1.0"]


def test_a_refused_address_never_reaches_the_upstream(upstream, site):
    guard = NetworkGuard(("127.0.0.1",))
    code, _, failed, refused = through_door(upstream.url(), guard, "127.0.0.2", site)
    assert code == 2 and refused and "not in --allow-hosts" in refused[0]
    code, _, _, refused = through_door(upstream.url(), NetworkGuard(), "localhost", site)  # the default rule
    assert code == 2 and "names this machine" in refused[0]
    assert upstream.targets == []


def test_upstream_failures_are_chromium_errors_and_the_proxy_goes_on(upstream, site):
    guard = NetworkGuard(("127.0.0.1",))
    code, _, failed, _ = through_door(upstream.url(password="wrong"), guard, "127.0.0.1", site)
    assert code == 1 and failed[0].startswith(f"net::ERR_PROXY_AUTH_REQUESTED at 127.0.0.1:{site} (")
    assert "wrong" not in failed[0] and upstream.auth_refused == 1
    code, _, failed, _ = through_door(f"{upstream.kind}://127.0.0.1:{upstream.port}", guard, "127.0.0.1", site)
    assert code == 1 and "ERR_PROXY_AUTH_" in failed[0]
    nothing = closed_port()
    with nothing:
        dead = f"{upstream.kind}://127.0.0.1:{nothing.getsockname()[1]}"
        code, _, failed, _ = through_door(dead, guard, "127.0.0.1", site)
    assert code == 1 and failed[0].startswith("net::ERR_PROXY_CONNECTION_FAILED at 127.0.0.1:")
    code, answer, _, _ = through_door(upstream.url(), guard, "127.0.0.1", site)
    assert code == 0 and answer.endswith(b"hello")


def test_the_upstream_gives_no_tunnel(site):
    # the proxy is reached and speaks, but cannot connect where it was asked (nothing listens there)
    guard = NetworkGuard(("127.0.0.1",))
    nothing = closed_port()
    with nothing, UpstreamProxy("http") as http, UpstreamProxy("socks5") as socks:
        for proxy in (http, socks):
            code, _, failed, _ = through_door(proxy.url(), guard, "127.0.0.1", nothing.getsockname()[1])
            assert code == 1 and failed[0].startswith("net::ERR_TUNNEL_CONNECTION_FAILED"), failed


def test_the_python_fetch_goes_through_the_upstream(upstream, site):
    guard = local_guard()
    body = fetch(f"http://localhost:{site}/robots.txt", guard, "boxcrawl", upstream=parse(upstream.url()))
    assert body.startswith(b"User-agent: *")
    assert upstream.targets == [f"CONNECT 127.0.0.1:{site}"]
    assert upstream.first_lines == ["GET /robots.txt HTTP/1.1"]
    with pytest.raises(FetchError, match="net::ERR_PROXY_AUTH_REQUESTED") as wrong:
        fetch(f"http://127.0.0.1:{site}/robots.txt", guard, "boxcrawl", upstream=parse(upstream.url(password="Wr0ng")))
    assert "Wr0ng" not in str(wrong.value)
    with pytest.raises(FetchError, match="refused"):
        fetch(f"http://127.0.0.2:{site}/robots.txt", guard, "boxcrawl", upstream=parse(upstream.url()))
    assert set(upstream.targets) == {f"CONNECT 127.0.0.1:{site}"}  # the refused host's never came


def test_sitemaps_are_fetched_through_the_upstream(upstream, site):
    args = argparse.Namespace(allow_hosts=("127.0.0.1",), agent_token="boxcrawl", proxy=parse(upstream.url()))
    lines = url_list([], None, [f"http://127.0.0.1:{site}/sitemap.xml"], args)
    assert [line.url for line in lines] == ["http://127.0.0.1/listed.html"]
    assert upstream.first_lines == ["GET /sitemap.xml HTTP/1.1"]


def test_ipv6_targets_are_sent_as_ipv6_literals(upstream):
    try:
        httpd = Server6(("::1", 0), Handler)
    except OSError:
        pytest.skip("no IPv6 loopback here")
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        port = httpd.server_address[1]
        body = fetch(f"http://[::1]:{port}/x", NetworkGuard(("::1",)), "boxcrawl", upstream=parse(upstream.url()))
        assert body == b"hello" and upstream.targets == [f"CONNECT [::1]:{port}"]
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_the_deadline_ends_a_proxy_that_never_answers():
    # a proxy that accepts and then says nothing: the handshake ends at the socket's timeout
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    with silent:
        proxy = parse(f"socks5://127.0.0.1:{silent.getsockname()[1]}")
        with pytest.raises(OSError, match="ERR_TUNNEL_CONNECTION_FAILED.*timed out"):
            open_sync_tunnel(proxy, NetworkGuard(("127.0.0.1",)).resolve("127.0.0.1"), 80, timeout=0.5)


@pytest.mark.parametrize(
    "text,message",
    [
        ("ftp://u:p@proxy:21", "expected http://"),
        ("http://proxy", "no port"),
        ("socks5://proxy:port", "no port"),
        ("https://proxy:443", "https:// proxies are not supported"),
        ("socks4://proxy:1080", "expected http://"),
        ("http://proxy:3128/path", "nothing more"),
        ("proxy:3128", "expected http://"),
        ("http://user:p/ss@proxy:8080", "percent-encode"),  # a "/" in the password ends urlsplit's netloc
        ("http://user:p#ss@proxy:8080", "percent-encode"),
        ("http://user:p\u2100ss@proxy:8080", "not a proxy URL"),  # urlsplit's own error quotes the netloc
    ],
)
def test_what_is_not_a_proxy_url(text, message):
    with pytest.raises(ValueError, match=message) as error:
        parse(text)
    assert ":p@" not in str(error.value) and "ss@" not in str(error.value) and "p/" not in str(error.value)


def test_credentials_are_decoded_and_never_shown():
    proxy = parse("socks5://al%40ice:p%3Ass@proxy.internal:1080")
    assert (proxy.username, proxy.password, proxy.shown) == ("al@ice", "p:ss", "socks5://proxy.internal:1080")
    assert "p:ss" not in repr(proxy) and "al@ice" not in repr(proxy)
    assert parse("HTTP://[::1]:3128").shown == "http://[::1]:3128"


def test_the_recorded_command_keeps_the_proxy_without_credentials():
    argv = ["render", "http://x/", "--proxy", f"http://alice:{PW}@proxy:3128", f"--proxy=socks5://bob:{PW}@[::1]:1080"]
    command = recorded_command(argparse.Namespace(argv=argv))
    assert command == (
        "boxcrawl",
        "render",
        "http://x/",
        "--proxy",
        "http://proxy:3128",
        "--proxy=socks5://[::1]:1080",
    )
