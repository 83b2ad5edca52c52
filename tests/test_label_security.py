"""The labeling server's guards, against the real server process on 127.0.0.1 (no browser needed)."""

import json
import os
import subprocess
import sys
import time

import pytest
from label_data import make_data_dir
from label_server import LabelServer

from boxcrawl.label.security import check_bind, is_loopback

TOKEN = "correct-horse-battery-staple"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = make_data_dir(tmp_path_factory.mktemp("label") / "data", 4)
    outside = data.parent / "outside.png"
    outside.write_bytes((data / "0.png").read_bytes())
    (data / "link.png").symlink_to(outside)  # a link inside the data dir pointing out of it
    (data / "secret.txt").write_text("not an image")
    with LabelServer(data) as s:
        yield s


def test_images_are_served_but_paths_cannot_escape_the_data_dir(server):
    status, headers, body = server.request("/images/0.png")
    assert status == 200 and headers["content-type"] == "image/png" and body[:4] == b"\x89PNG"
    for path in [
        "/images/../outside.png",
        "/images/..%2Foutside.png",
        "/images/%2e%2e/outside.png",
        "/images/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/images//etc/passwd",
        "/images/link.png",
        "/images/secret.txt",
        "/images/..\\outside.png",
        "/images/.%2F0.png",
        "/images/labels.sqlite",
        "/images/index",
        "/images/nope.png",
    ]:
        status, _, body = server.request(path)
        assert status == 404, (path, status)
        assert b"PNG" not in body


def test_state_changes_need_the_csrf_token_json_and_same_origin(server):
    good = {"index": 1, "good": 1, "labeler": "ann"}
    assert server.post_label(good, csrf="not-the-token")[0] == 403
    status, _, body = server.request(
        "/api/label", "POST", json.dumps(good).encode(), {"Content-Type": "application/json"}
    )  # no token at all
    assert status == 403 and b"CSRF" in body
    # What a cross-site HTML form can send: a simple content type, no custom header.
    status, _, _ = server.request(
        "/api/label", "POST", b"index=1&good=1", {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert status == 403
    # Right token but form content type, or a foreign Origin: refused too.
    assert server.post_label(json.dumps(good).encode(), **{"Content-Type": "text/plain"})[0] == 415
    assert server.post_label(good, Origin="http://evil.example")[0] == 403
    assert 1 not in server.labels()
    assert server.post_label(good, Origin=server.base)[0] == 200
    assert server.labels()[1]["labeler"] == "ann"


@pytest.mark.parametrize(
    "body, status",
    [
        (b"{not json", 400),
        (b"", 400),
        (b"\xff\xfe", 400),
        (b"[1, 2]", 400),
        (b"null", 400),
        (b'{"index": "1", "good": 1, "labeler": "a"}', 400),
        (b'{"index": 1, "good": 5, "labeler": "a"}', 400),
        (b'{"index": 1, "good": true, "labeler": "a"}', 400),
        (b'{"index": 1, "good": 1}', 400),
        (b'{"index": 1, "good": 1, "labeler": ""}', 400),
        (b'{"index": 99, "good": 1, "labeler": "a"}', 404),
        (b'{"index": 1, "good": 1, "labeler": "' + b"x" * 20000 + b'"}', 400),
    ],
)
def test_bad_json_gets_a_4xx_and_the_server_keeps_running(server, body, status):
    got, _, answer = server.post_label(body)
    assert got == status and "error" in json.loads(answer)
    assert server.request("/api/health")[0] == 200


def test_bad_poll_parameter_and_foreign_host_header(server):
    assert server.request("/api/updates?since=abc")[0] == 400
    assert server.request("/api/updates?since=0")[0] == 200
    # A page on another origin that rebinds its DNS name to 127.0.0.1 still sends its own Host header.
    assert server.request("/api/entries", headers={"Host": f"evil.example:{server.port}"})[0] == 421


def test_non_loopback_bind_without_token_is_refused_before_listening(tmp_path):
    data = make_data_dir(tmp_path / "data", 2)
    env = {k: v for k, v in os.environ.items() if k != "BOXCRAWL_LABEL_TOKEN"}
    for host in ("0.0.0.0", "::"):
        start = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "boxcrawl", "label", "--data-dir", str(data), "--host", host, "--port", "1"],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
        assert proc.returncode == 2
        assert "not a loopback address" in proc.stderr and "--token" in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
        assert time.monotonic() - start < 30
    assert check_bind("0.0.0.0", None) and check_bind("0.0.0.0", "short")
    assert check_bind("0.0.0.0", TOKEN) is None
    assert check_bind("127.0.0.1", None) is None and check_bind("localhost", None) is None
    assert is_loopback("::1") and is_loopback("127.5.0.1") and not is_loopback("10.0.0.1")


def test_token_is_checked_on_every_request(tmp_path):
    data = make_data_dir(tmp_path / "data", 2)
    with LabelServer(data, None, "--token", TOKEN) as server:  # token checking works on loopback too
        for path in ("/", "/api/entries", "/images/0.png", "/static/app.js"):
            assert server.request(path)[0] == 401
        assert server.request("/", headers={"Authorization": "Bearer wrong-token-wrong-token"})[0] == 401
        assert server.request("/", headers={"Cookie": "boxcrawl_label_token=wrong"})[0] == 401
        status, headers, _ = server.request(f"/?token={TOKEN}")
        assert status == 303 and headers["location"] == "/"  # the token leaves the address bar
        cookie = headers["set-cookie"].split(";")[0]
        assert "HttpOnly" in headers["set-cookie"] and "SameSite=strict" in headers["set-cookie"]
        assert server.request("/api/entries", headers={"Cookie": cookie})[0] == 200
        assert server.request("/api/entries", headers=server.auth_headers())[0] == 200
        assert server.post_label({"index": 0, "good": 0, "labeler": "ann"})[0] == 200
        status, _, _ = server.request(
            "/api/label",
            "POST",
            b'{"index": 0, "good": 1, "labeler": "eve"}',
            {"Content-Type": "application/json", "X-CSRF-Token": server.csrf_token()},
        )
        assert status == 401 and server.labels()[0]["good"] == 0


def test_unreadable_data_dir_gives_one_line(tmp_path):
    (tmp_path / "index").write_text("{broken")
    for data_dir in (tmp_path, tmp_path / "missing"):
        proc = subprocess.run(
            [sys.executable, "-m", "boxcrawl", "label", "--data-dir", str(data_dir)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_busy_port_is_a_one_line_error(tmp_path):
    data = make_data_dir(tmp_path / "data", 2)
    with LabelServer(data) as server:
        proc = subprocess.run(
            [sys.executable, "-m", "boxcrawl", "label", "--data-dir", str(data), "--port", str(server.port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 2 and "cannot listen on 127.0.0.1" in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
        assert server.request("/api/health")[0] == 200
