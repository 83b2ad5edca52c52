"""The labeling server against hostile requests: malformed paths, numbers out of range, bad bodies, odd methods,
and redirects. The real server process on 127.0.0.1, as in test_label_security.py; every answer must be a 4xx
(never a 500), and no `Location` may send a browser to another host."""

import asyncio
import contextlib
import json
import re
import select
import socket
from urllib.parse import urlsplit

import pytest
from label_data import make_data_dir
from label_server import LabelServer

from boxcrawl.label.app import LabelApp
from boxcrawl.label.entries import load_entries

TOKEN = "correct-horse-battery-staple"
SQLITE_MAX = 2**63 - 1


def browser_target(location: str) -> tuple[str, str]:
    """(scheme, host) a browser would go to for this Location, as the WHATWG URL parser reads it for an http page:
    tabs and newlines dropped, backslashes taken as slashes, any run of slashes after the scheme ignored.
    ("", "") for a same-origin reference."""
    loc = re.sub(r"[\t\n\r]", "", location).strip("\x00 ").replace("\\", "/")
    scheme = urlsplit(loc).scheme.lower()
    if scheme:
        rest = loc[len(scheme) + 1 :]
        if scheme in ("http", "https", "ws", "wss", "ftp", "file"):
            rest = "//" + rest.lstrip("/")
        elif not rest.startswith("//"):
            return scheme, ""  # javascript:, data:, mailto: ...
    elif loc.startswith("//"):
        rest = "//" + loc.lstrip("/")
    else:
        return "", ""
    return scheme, re.split(r"[/?#]", rest[2:], maxsplit=1)[0].lower()


def assert_stays_on_site(headers: dict, port: int, what) -> None:
    location = {k.lower(): v for k, v in headers.items()}.get("location")
    if location is None:
        return
    scheme, host = browser_target(location)
    assert scheme in ("", "http") and host in ("", f"127.0.0.1:{port}"), (what, location)
    assert TOKEN not in location, (what, location)


def checked(
    server: LabelServer, path: str, method: str = "GET", body: bytes | None = None, headers: dict | None = None
):
    """server.request, plus: never a 5xx, never an off-site Location."""
    status, got_headers, answer = server.request(path, method, body, headers)
    assert status < 500, (method, path[:120], status, answer[:200])
    assert_stays_on_site(got_headers, server.port, path[:120])
    return status, got_headers, answer


def raw_request(port: int, head: bytes, body: bytes = b"") -> tuple[int, dict]:
    """One request written byte for byte (targets, methods and framings urllib will not send); (status, headers).
    The body goes out in pieces and stops once the server has answered, as a careful client does: a server may
    refuse a large body before reading all of it."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(head + b"\r\nConnection: close\r\n\r\n")
        for start in range(0, len(body), 8192):
            if select.select([conn], [], [], 0.005)[0]:
                break
            try:
                conn.sendall(body[start : start + 8192])
            except (BrokenPipeError, ConnectionResetError):
                break
        data = b""
        try:
            while chunk := conn.recv(65536):
                data += chunk
        except ConnectionResetError:
            pass
    assert data, "no answer"
    lines = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), headers


def assert_short_error(answer: bytes) -> None:
    message = json.loads(answer)["error"]
    assert isinstance(message, str) and 0 < len(message) <= 120 and "\n" not in message, message


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    data = make_data_dir(tmp_path_factory.mktemp("hostile") / "data", 4)
    (data / "dir.png").mkdir()  # a directory named like an image
    (data / "unlisted.png").write_bytes((data / "0.png").read_bytes())  # an image no entry names
    return data


@contextlib.contextmanager
def serving(data, *extra):
    """A LabelServer which must not have logged a traceback by the end."""
    with LabelServer(data, None, *extra) as s:
        yield s
    s.log.seek(0)
    log = s.log.read()
    assert "Traceback" not in log, log[-3000:]


@pytest.fixture(scope="module")
def server(data):
    with serving(data) as s:
        yield s


@pytest.fixture(scope="module")
def token_server(tmp_path_factory):
    with serving(make_data_dir(tmp_path_factory.mktemp("hostile-token") / "data", 2), "--token", TOKEN) as s:
        yield s


# -- paths ------------------------------------------------------------------------------------------------------
MALFORMED_PATHS = [
    "/images/a%00.png",
    "/images/%00",
    "/images/0.png%00",
    "/images/0.png%00.txt",
    "/images/%00/0.png",
    "/images/" + "a" * 300 + ".png",
    "/images/" + "a" * 5000 + ".png",
    "/images/" + "a/" * 1000 + "0.png",
    "/images/..",
    "/images/.",
    "/images/../0.png",
    "/images/%2e%2e",
    "/images/%2e%2e/",
    "/images/%2e%2e/0.png",
    "/images/%2e%2e%2f0.png",
    "/images/..%2f..%2findex",
    "/images/%c0%ae%c0%ae/0.png",
    "/images/..\\0.png",
    "/images/..%5c0.png",
    "/images/%5c0.png",
    "/images/\\\\evil.example\\x.png",
    "/images/%ff.png",
    "/images/%ff%fe",
    "/images/0%ff.png",
    "/images/%ed%a0%80.png",
    "/images/%0a.png",
    "/images/0.png%0d%0aX-Injected:%201",
    "/images/%09",
    "/images/%20",
    "/images/",
    "/images//",
    "/images/dir.png",
    "/images/dir.png/",
    "/images/archive",
    "/images/0.png/",
    "/images/0.png/.",
    "/images/index",
    "/images/labels.sqlite",
    "/images/0.info",
    "/static/%00",
    "/static/" + "a" * 5000,
    "/static/..%2fapp.js",
    "/static/%ff",
    "/%00",
    "/%ff",
    "/" + "x" * 5000,
    "/api/entries%00",
    "/api/%2e%2e/api/entries",
]


@pytest.mark.parametrize("path", MALFORMED_PATHS, ids=lambda p: p[:40])
def test_malformed_paths_get_a_4xx(server, path):
    status, _, body = checked(server, path)
    assert 400 <= status < 500, (path[:120], status)
    assert b"PNG" not in body and b"sqlite" not in body.lower()


def test_images_still_served_and_only_the_ones_the_index_names(server):
    status, headers, body = checked(server, "/images/0.png")
    assert status == 200 and headers["content-type"] == "image/png" and body[:4] == b"\x89PNG"
    assert checked(server, "/images/1-distilled.png")[0] == 200
    assert checked(server, "/images/unlisted.png")[0] == 404
    assert checked(server, "/api/health")[0] == 200


@pytest.mark.parametrize(
    "range_header",
    [
        "bytes=abc",
        "bytes=99999999999999999999999-",
        "bytes=5-1",
        "bytes=-0",
        "items=0-1",
        "bytes=-99999999999999999999999999",
        "bytes=" + "9" * 5000 + "-",
        "bytes=" + ",".join(["0-1"] * 500),
        "bytes=0-0,-1",
        "bytes=%00",
        "bytes=\u00ff",
    ],
)
def test_bad_range_headers_get_no_500(server, range_header):
    checked(server, "/images/0.png", headers={"Range": range_header.encode().decode("latin-1")})


# -- numbers ---------------------------------------------------------------------------------------------------
BAD_SINCE = [
    "99999999999999999999999",
    str(SQLITE_MAX + 1),
    "-1",
    "-5",
    "-0",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "Infinity",
    "1e400",
    "1e3",
    "1.5",
    "0x10",
    "1_000",
    "+1",
    "%201",
    "1%20",
    "%00",
    "%ff",
    "%D9%A3",
    "",
    "abc",
    "9" * 5000,
    "1" * 20,
    "%2B1",
    "0%00",
]


@pytest.mark.parametrize("since", BAD_SINCE, ids=lambda s: s[:30])
def test_out_of_range_or_malformed_since_gets_400(server, since):
    status, _, answer = checked(server, f"/api/updates?since={since}")
    assert status == 400, (since[:40], status, answer[:200])
    assert_short_error(answer)


def test_in_range_since_is_answered(server):
    for since in ("0", "1", str(SQLITE_MAX), "0000"):
        status, _, answer = checked(server, f"/api/updates?since={since}")
        assert status == 200 and "seq" in json.loads(answer), since
    assert checked(server, "/api/updates")[0] == 200


def label_body(**fields) -> bytes:
    record = {"index": 1, "good": 1, "labeler": "ann", **fields}
    return json.dumps(record, allow_nan=True).encode()


def raw_label(index=b"1", good=b"1", labeler=b'"ann"') -> bytes:
    return b'{"index": ' + index + b', "good": ' + good + b', "labeler": ' + labeler + b"}"


BAD_BODIES = {
    "index 10**30": label_body(index=10**30),
    "index -10**30": label_body(index=-(10**30)),
    "index 2**63": label_body(index=SQLITE_MAX + 1),
    "index -2**63-1": label_body(index=-SQLITE_MAX - 2),
    "index 5000 digits": raw_label(index=b"1" * 5000),
    "index 1e400": raw_label(index=b"1e400"),
    "index 1.0": label_body(index=1.0),
    "index NaN": raw_label(index=b"NaN"),
    "index -Infinity": raw_label(index=b"-Infinity"),
    "index true": label_body(index=True),
    "index string": label_body(index="1"),
    "index null": label_body(index=None),
    "index list": label_body(index=[1]),
    "good 1.0": label_body(good=1.0),
    "good 2**63": label_body(good=2**63),
    "good 5000 digits": raw_label(good=b"9" * 5000),
    "good -2": label_body(good=-2),
    "good NaN": raw_label(good=b"NaN"),
    "good string": label_body(good="1"),
    "labeler surrogate": raw_label(labeler=b'"\\ud800"'),
    "labeler NUL": raw_label(labeler=b'"a\\u0000b"'),
    "labeler newline": label_body(labeler="a\nb"),
    "labeler line separator": label_body(labeler="a\u2028b"),
    "labeler escape": label_body(labeler="\x1b[31mred"),
    "labeler blank": label_body(labeler=" \t "),
    "labeler 65": label_body(labeler="x" * 65),
    "labeler number": label_body(labeler=5),
    "nested arrays": b"[" * 8000,
    "nested objects": b'{"a":' * 5000,
    "nested closed": b"[" * 3000 + b"]" * 3000,
    "deep labeler": raw_label(labeler=b"[" * 8000 + b"]" * 8000),
    "not utf-8": b'{"index": 1, "good": 1, "labeler": "\xff"}',
    "NUL byte": b'{"index": 1\x00}',
    "empty": b"",
    "whitespace": b" \n ",
    "number": b"1",
    "string": b'"x"',
    "trailing": label_body() + b"x",
}


@pytest.mark.parametrize("name", list(BAD_BODIES))
def test_bad_label_bodies_get_400(server, name):
    status, _, answer = checked(
        server,
        "/api/label",
        "POST",
        BAD_BODIES[name],
        {"Content-Type": "application/json", "X-CSRF-Token": server.csrf_token()},
    )
    assert status == 400, (name, status, answer[:200])
    assert_short_error(answer)
    assert checked(server, "/api/health")[0] == 200


def test_in_range_indexes_without_an_entry_get_404_and_good_labels_still_save(server):
    for index in (99, -1, SQLITE_MAX, -SQLITE_MAX - 1):
        status, _, answer = server.post_label({"index": index, "good": 1, "labeler": "ann"})
        assert status == 404, (index, answer)
        assert_short_error(answer)
    status, _, answer = server.post_label({"index": 2, "good": 2, "labeler": " zoë 👩‍🔬 "})
    assert status == 200 and json.loads(answer)["good"] == 2 and json.loads(answer)["labeler"] == "zoë 👩‍🔬"
    assert server.labels()[2]["labeler"] == "zoë 👩‍🔬"
    status, _, answer = checked(server, "/api/updates?since=0")
    assert status == 200 and all(isinstance(u["good"], int) for u in json.loads(answer)["updates"])


def test_body_too_large_or_sent_with_other_framing_gets_a_4xx(server):
    csrf = server.csrf_token().encode()
    head = b"POST /api/label HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\nX-CSRF-Token: %s" % (
        server.port,
        csrf,
    )
    big = b'{"labeler": "' + b"x" * (1 << 20) + b'"}'
    assert 400 <= raw_request(server.port, head + b"\r\nContent-Length: %d" % len(big), big)[0] < 500
    chunked = (
        b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in [big[i : i + 4096] for i in range(0, len(big), 4096)])
        + b"0\r\n\r\n"
    )
    assert 400 <= raw_request(server.port, head + b"\r\nTransfer-Encoding: chunked", chunked)[0] < 500
    assert 400 <= raw_request(server.port, head + b"\r\nContent-Length: 99999999999999999999999")[0] < 500
    assert 400 <= raw_request(server.port, head + b"\r\nContent-Length: -1")[0] < 500
    assert checked(server, "/api/health")[0] == 200


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json; charset=latin-1",
        "application/json; charset=utf-16",
        "application/json;;;",
        "application/json; boundary=\u00ff",
        "APPLICATION/JSON",
    ],
)
def test_json_with_odd_content_type_parameters_gets_no_500(server, content_type):
    for body in (label_body(), b"\xff\xfe{", "{}".encode("utf-16")):
        checked(
            server,
            "/api/label",
            "POST",
            body,
            {"Content-Type": content_type.encode().decode("latin-1"), "X-CSRF-Token": server.csrf_token()},
        )


# -- methods ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["FOO", "TRACE", "PUT", "DELETE", "PATCH", "OPTIONS", "PROPFIND", "HEAD"])
@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/api/label",
        "/api/entries",
        "/api/updates?since=0",
        "/images/0.png",
        "/static/app.js",
        "/favicon.ico",
        "/nowhere",
    ],
)
def test_odd_methods_get_a_4xx(server, method, path):
    for headers in ({}, {"Content-Type": "application/json", "X-CSRF-Token": server.csrf_token()}):
        status, _, _ = checked(server, path, method, b"{}" if method not in ("HEAD", "OPTIONS") else None, headers)
        assert 400 <= status < 500 or (method == "HEAD" and status in (200, 204) and path != "/api/label"), (
            method,
            path,
            status,
        )


# -- redirects -------------------------------------------------------------------------------------------------
OFF_SITE_TARGETS = [
    "//evil.example/",
    "///evil.example/",
    "////evil.example/x",
    "/\\evil.example/",
    "/\\\\evil.example/",
    "/%5Cevil.example/",
    "/%5C%5Cevil.example/",
    "/%2F%2Fevil.example/",
    "/%2f/evil.example/",
    "/%09/evil.example/",
    "//evil.example/%2e%2e",
    "//evil.example/api/entries",
    "//evil.example/images/0.png",
    "//evil.example",
    "//evil.example:80@127.0.0.1/",
    "//127.0.0.1@evil.example/",
    "/%0d%0aLocation:%20http://evil.example/",
    "/http://evil.example/",
    "/%68ttp://evil.example/",
    "//%65vil.example/",
]


@pytest.mark.parametrize("target", OFF_SITE_TARGETS)
def test_token_link_never_redirects_off_site(token_server, target):
    for query in (f"?token={TOKEN}", f"?x=1&token={TOKEN}", f"?%74oken={TOKEN}&next=//evil.example/"):
        status, headers, _ = checked(token_server, target + query)
        assert status == 303, (target, query, status)
        location = headers["location"]
        assert location.startswith("/") and not re.match(r"/[/\\]", location), location
        assert "boxcrawl_label_token=" in headers["set-cookie"]


def test_token_redirect_keeps_the_path_and_other_parameters_and_drops_the_token(token_server):
    for path, want in (
        (f"/?token={TOKEN}", "/"),
        (f"/?labeler=ann&token={TOKEN}", "/?labeler=ann"),
        (f"/?token={TOKEN}&labeler=ann&token=x", "/?labeler=ann"),
        (f"/images/0.png?token={TOKEN}", "/images/0.png"),
        (f"/?%74oken={TOKEN}&a=%ff", "/?a=%ff"),
    ):
        status, headers, _ = checked(token_server, path)
        assert status == 303 and headers["location"] == want, (path, headers.get("location"))


def test_absolute_form_request_target_never_redirects_off_site(token_server, server):
    for s, query in ((token_server, f"?token={TOKEN}"), (server, "")):
        for target in (
            "http://evil.example/",
            "http://evil.example",
            "https://evil.example/api/entries/",
            "//evil.example/",
            "http://127.0.0.1@evil.example/",
        ):
            head = b"GET %s%s HTTP/1.1\r\nHost: 127.0.0.1:%d" % (target.encode(), query.encode(), s.port)
            status, headers = raw_request(s.port, head)
            assert status < 500, (target, status)
            assert_stays_on_site(headers, s.port, target)


def test_no_trailing_slash_redirects(server, token_server):
    for path in (
        "/api/entries/",
        "/api/health/",
        "/api/updates/?since=0",
        "/static/app.js/",
        "//api/entries/",
        "//evil.example/api/entries/",
        "/favicon.ico/",
    ):
        for host in (f"127.0.0.1:{server.port}", f"localhost:{server.port}"):
            status, headers, _ = checked(server, path, headers={"Host": host})
            assert "location" not in {k.lower() for k in headers}, (path, host, headers)
            assert 400 <= status < 500, (path, status)
    status, headers, _ = checked(token_server, "/api/entries/", headers=token_server.auth_headers())
    assert status == 404 and "location" not in {k.lower() for k in headers}


def asgi_get(app, path: str, query: bytes, headers: list) -> tuple[int, dict]:
    """One GET through the ASGI app in this process (a server bound off loopback, without opening a socket there)."""
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode("utf-8"),
        "query_string": query,
        "root_path": "",
        "headers": headers,
        "client": ("10.0.0.9", 5555),
        "server": ("10.0.0.1", 8081),
    }
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    return start["status"], {k.decode("latin-1"): v.decode("latin-1") for k, v in start["headers"]}


def test_off_loopback_a_foreign_host_header_gets_no_off_site_redirect(tmp_path):
    data = make_data_dir(tmp_path / "data", 2)
    label_app = LabelApp(data, load_entries(data))
    try:
        app = label_app.build(bind_host="0.0.0.0", port=8081, token=TOKEN)
        auth = (b"authorization", f"Bearer {TOKEN}".encode())
        for host in (b"evil.example", b"evil.example:8081", b"127.0.0.1@evil.example", b"\\\\evil.example"):
            for path, query in (
                ("/api/entries/", b""),
                ("/api/health/", b""),
                ("//evil.example/", b""),
                ("/static/app.js/", b""),
                ("/", f"token={TOKEN}".encode()),
                ("//evil.example/", f"token={TOKEN}".encode()),
            ):
                status, headers = asgi_get(app, path, query, [(b"host", host), auth])
                assert status < 500, (host, path, status)
                location = headers.get("location")
                if location is not None:
                    assert browser_target(location) == ("", ""), (host, path, location)
                    assert TOKEN not in location
    finally:
        label_app.store.close()


def test_location_checker_reads_locations_as_a_browser_does():
    for off_site in (
        "//evil.example/",
        "///evil.example/",
        "/\\evil.example/",
        "\\\\evil.example",
        "http:evil.example",
        "http:///evil.example",
        "https://evil.example",
        "/\t/evil.example",
        " //evil.example",
        "javascript:alert(1)",
    ):
        assert browser_target(off_site) != ("", ""), off_site
    for on_site in ("/", "/?a=b", "/%2F%2Fevil.example/", "/%5Cevil.example/", "/evil.example/", "images/0.png"):
        assert browser_target(on_site) == ("", ""), on_site


def test_an_index_naming_impossible_screenshot_files_still_loads(tmp_path):
    data = make_data_dir(tmp_path / "data", 2)
    records = json.loads((data / "index").read_text())
    records[0]["screenshot"] = "x" * 5000 + ".png"  # longer than any file name may be
    records[1]["screenshot"] = "a\u0000.png"
    (data / "index").write_text(json.dumps(records))
    entries = load_entries(data)
    assert [e.screenshot for e in entries] == ["0.png", "1.png"]  # the entry's own file, as for a missing one
