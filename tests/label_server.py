"""Start `boxcrawl label` in a subprocess on a free 127.0.0.1 port, as a user would, and talk to it."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabelServer:
    def __init__(self, data_dir: Path, port: int | None = None, *extra: str):
        self.data_dir, self.port, self.extra = Path(data_dir), port or free_port(), extra
        self.proc: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> "LabelServer":
        # the server's output goes to a file: a pipe nobody reads would block it after 64 KB of log
        self.log = tempfile.TemporaryFile("w+")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "boxcrawl",
                "label",
                "--data-dir",
                str(self.data_dir),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                *self.extra,
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise AssertionError(f"label server exited {self.proc.returncode}: {self.log.read()}")
            try:
                status, _, _ = self.request("/api/health", headers=self.auth_headers())
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError("label server did not come up")

    def auth_headers(self) -> dict:
        if "--token" in self.extra:
            return {"Authorization": "Bearer " + self.extra[self.extra.index("--token") + 1]}
        return {}

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- HTTP ------------------------------------------------------------------------------------------
    def request(self, path: str, method: str = "GET", body: bytes | None = None, headers: dict | None = None):
        """(status, headers, body bytes); never raises for HTTP errors."""
        req = urllib.request.Request(self.base + path, data=body, method=method, headers=headers or {})
        opener = urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(req, timeout=10) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def csrf_token(self) -> str:
        _, _, html = self.request("/", headers=self.auth_headers())
        return re.search(rb'name="csrf-token" content="([^"]+)"', html).group(1).decode()

    def post_label(self, payload, csrf: str | None = None, **headers):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        h = {
            "Content-Type": "application/json",
            "X-CSRF-Token": csrf or self.csrf_token(),
            **self.auth_headers(),
            **headers,
        }
        return self.request("/api/label", "POST", body, h)

    def labels(self) -> dict[int, dict]:
        status, _, body = self.request("/api/entries", headers=self.auth_headers())
        assert status == 200
        return {e["index"]: e for e in json.loads(body)["entries"] if "good" in e}


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kw):
        return None
