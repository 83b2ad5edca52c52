"""Shared by the fleet tests: a small linked site, worker processes, and exactly-once checks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import boxcrawl

WORDS = (
    "layout tokens glyphs boxes crawl resume shard commit frontier lease page text render "
    "browser sample image dataset visible line word"
).split()


def make_site(root: Path, n_pages: int) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for i in range(n_pages):
        links = "".join(f'<a href="p{j}.html">page {j}</a> ' for j in (i + 1, i + 2, i * 3 % n_pages) if j < n_pages)
        body = " ".join(WORDS[(i * 7 + k) % len(WORDS)] for k in range(300))
        (root / f"p{i}.html").write_text(
            f"<!doctype html><html><body style='font:16px/1.4 sans-serif;margin:10px'>"
            f"<nav>{links}</nav><p>{body}</p></body></html>"
        )
    return root


def fleet_flags(host: str = "127.0.0.1", lease: float = 3.0) -> list[str]:
    return [
        "--allow-hosts",
        host,
        "--retry-delay",
        "0.2",
        "--quiet",
        "--host-delay",
        "0",
        "--host-concurrency",
        "8",
        "--shard-pages",
        "2",
        "--tabs",
        "2",
        "--lease-seconds",
        str(lease),
    ]


def start(args: list[str], prefix: list[str] = ()) -> subprocess.Popen:
    """A boxcrawl process in its own session (kill -9 takes its Chromium too)."""
    return subprocess.Popen(
        [*prefix, sys.executable, "-m", "boxcrawl", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def shards_of(out: Path, worker: str) -> int:
    return len(list((out / "pages").glob(f"{worker}-*.parquet"))) if (out / "pages").exists() else 0


def wait_for(predicate, timeout: float, what: str, procs=()) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        for proc in procs:
            if proc.poll() is not None:
                raise AssertionError(
                    f"a worker exited early ({proc.returncode}) waiting for {what}:\n{proc.stderr.read()[-3000:]}"
                )
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def kill9(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def finish(proc: subprocess.Popen, timeout: float = 150) -> str:
    stdout, stderr = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, f"exit {proc.returncode}\n{stdout[-2000:]}\n{stderr[-4000:]}"
    return stdout


def default_flags(host: str = "127.0.0.1") -> list[str]:
    """What a user runs: every lease, shard and politeness setting left at its default."""
    return ["--allow-hosts", host, "--quiet"]


def assert_exactly_once(out: Path, expected_urls: set[str] | None = None, count: int | None = None) -> None:
    """Every expected page (or ``count`` pages) in the dataset once, each sample once."""
    ds = boxcrawl.open_dataset(out)
    pages = list(ds.pages(columns=["url", "outcome", "n_samples"]))
    urls = Counter(p["url"] for p in pages)
    if expected_urls is not None:
        assert set(urls) == expected_urls, f"lost: {sorted(expected_urls - set(urls))}"
    if count is not None:
        assert len(urls) == count, f"{len(urls)} pages, not {count}"
    assert max(urls.values()) == 1, f"pages twice: {[u for u, n in urls.items() if n > 1]}"
    assert all(p["outcome"] == "ok" for p in pages), [p for p in pages if p["outcome"] != "ok"]
    keys = Counter(s["key"] for s in ds.samples(decode=False))
    assert keys and max(keys.values()) == 1, "a sample was written twice"
    assert sum(keys.values()) == sum(p["n_samples"] for p in pages)
