import os
import subprocess
import sys
from pathlib import Path

import pytest

from site_server import SiteServer

ROOT = Path(__file__).resolve().parents[1]
BOXCRAWL = [sys.executable, "-m", "boxcrawl"]


@pytest.fixture(scope="session")
def site():
    with SiteServer() as server:
        yield server


def run_boxcrawl(*args, timeout=300, check=True, **kw):
    """Run the CLI as a user would; returns the CompletedProcess."""
    proc = subprocess.run([*BOXCRAWL, *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONUNBUFFERED": "1"}, **kw)
    if check and proc.returncode != 0:
        raise AssertionError(f"boxcrawl {' '.join(map(str, args))} exited {proc.returncode}\n"
                             f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc


def fast_flags():
    """Flags for test crawls: loopback only, quick retries, no progress bar."""
    return ["--allow-hosts", "127.0.0.1", "--retry-delay", "0.2", "--quiet"]
