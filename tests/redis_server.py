"""A real redis-server for tests: own port, own folder, AOF on (fsync on every write), no RDB."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class RedisServer:
    def __init__(self, folder: Path, bind: tuple[str, ...] = ("127.0.0.1",), password: str | None = None):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.bind = bind
        self.password = password
        self.port = free_port(bind[0])
        self.proc: subprocess.Popen | None = None

    def url(self, host: str | None = None, db: int = 0) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}{host or self.bind[0]}:{self.port}/{db}"

    def start(self) -> "RedisServer":
        exe = shutil.which("redis-server")
        assert exe, "redis-server is missing: run scripts/bootstrap.sh"
        args = [
            exe,
            "--port",
            str(self.port),
            "--bind",
            *self.bind,
            "--save",
            "",
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
            "--dir",
            str(self.folder),
            "--protected-mode",
            "no",
            "--logfile",
            str(self.folder / "redis.log"),
        ]
        if self.password:
            args += ["--requirepass", self.password]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                with socket.create_connection((self.bind[0], self.port), timeout=0.2):
                    # AOF is loaded before the port accepts; a tiny pause lets the load log settle
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start: {(self.folder / 'redis.log').read_text()[-2000:]}")

    def kill(self) -> None:
        """kill -9: what survives is what the append-only file holds."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> "RedisServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
