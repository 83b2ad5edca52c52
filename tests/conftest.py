import os
import subprocess
import sys
from pathlib import Path

import pytest
from redis_server import RedisServer
from s3server import S3Server
from site_server import SiteServer

ROOT = Path(__file__).resolve().parents[1]
BOXCRAWL = [sys.executable, "-m", "boxcrawl"]


@pytest.fixture(scope="session")
def site():
    with SiteServer() as server:
        yield server


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def redis_url(redis_server):
    """A Redis URL on an empty database (one real redis-server per test process)."""
    import redis

    client = redis.Redis.from_url(redis_server.url())
    client.flushdb()
    client.close()
    return redis_server.url()


@pytest.fixture(scope="session")
def s3_server():
    with S3Server() as server:
        yield server


@pytest.fixture
def s3_bucket(s3_server, monkeypatch):
    """The s3:// URL of a new empty bucket on a local S3 server; this process and the CLI runs it starts
    (which inherit the environment) reach the server through AWS_ENDPOINT_URL and fake credentials."""
    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    return s3_server.new_bucket()


def run_boxcrawl(*args, timeout=300, check=True, **kw):
    """Run the CLI as a user would; returns the CompletedProcess."""
    proc = subprocess.run(
        [*BOXCRAWL, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        **kw,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"boxcrawl {' '.join(map(str, args))} exited {proc.returncode}\n"
            f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    return proc


def fast_flags():
    """Flags for test crawls: loopback only, quick retries, no progress bar."""
    return ["--allow-hosts", "127.0.0.1", "--retry-delay", "0.2", "--quiet", "--host-delay", "0"]


def run_rendering(*args, out, **kw):
    """Run `render`, `crawl` or `worker` into a fresh `out`: its exit code must say whether a page failed
    (0 none, 1 some), as README's exit-code table says. Returns the CompletedProcess."""
    import boxcrawl

    proc = run_boxcrawl(*args, check=False, **kw)
    assert proc.returncode in (0, 1), f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    # a page --lang skipped is no failure either
    failed = any(p["outcome"] not in ("ok", "no_text", "skipped") for p in boxcrawl.open_dataset(out).pages())
    assert proc.returncode == int(failed), f"exit {proc.returncode} but failed pages: {failed}\n{proc.stdout}"
    return proc
