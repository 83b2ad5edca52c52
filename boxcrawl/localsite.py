"""A folder served on 127.0.0.1, for the benchmarks and the visibility evaluation.

`python3 -m http.server` runs in a process of its own, so serving shares no GIL with what is
being measured; the context ends it however the block ends."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path


class ServerDidNotStart(RuntimeError):
    pass


@contextlib.contextmanager
def serve_folder(folder: Path) -> Iterator[str]:
    """Yields the base URL (http://127.0.0.1:PORT) once the server accepts connections."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(folder), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_listening(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait()


def _wait_until_listening(port: int, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise ServerDidNotStart(f"a local server on 127.0.0.1:{port} did not start within {seconds:g} s")
