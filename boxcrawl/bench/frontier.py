"""`boxcrawl bench-frontier`: how far one Redis goes, measured here.

1. lease+ack operations per second: lease one URL, commit it in a one-page shard (the worst case; a
   real shard acks up to 200 pages at once), on Redis (AOF fsync every second and on every write) and
   on the embedded SQLite file; Redis also with 8 clients at once.
2. Redis memory per million URLs: queued (seen set + queue + per-URL info) and done (seen set only).
3. pages/min of 1 worker and of 2 workers on this machine, crawling the same local site, in one run.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import redis

from ..frontier.base import Finished
from ..frontier.redis import RedisFrontier
from ..frontier.sqlite import SqliteFrontier
from ..localsite import serve_folder


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Redis:
    def __init__(self, folder: Path, appendonly: bool = True):
        self.port = _free_port()
        exe = shutil.which("redis-server")
        if not exe:
            raise SystemExit("boxcrawl bench-frontier: error: redis-server is not installed (scripts/bootstrap.sh)")
        self.proc = subprocess.Popen(
            [
                exe,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes" if appendonly else "no",
                "--dir",
                str(folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"redis://127.0.0.1:{self.port}/0"
        for _ in range(100):
            try:
                redis.Redis.from_url(self.url).ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=None)

    def close(self) -> None:
        self.proc.kill()  # its data is thrown away anyway
        self.proc.wait()


def _lease_ack(frontier, owner: str, n: int) -> int:
    done = 0
    for i in range(n):
        leases = frontier.lease(owner, 1)
        if not leases:
            break
        frontier.commit(f"{owner}-{i:07d}", [Finished(leases[0].url, "ok", None)], owner=owner)
        done += 1
    return done


def ops_per_second(make, ops: int, clients: int = 1) -> float:
    seed = make()
    seed.add([f"https://site{i % 97}.example/docs/page-{i}.html" for i in range(ops)], 0)
    frontiers = [seed] + [make() for _ in range(clients - 1)]
    started = time.perf_counter()
    if clients == 1:
        total = _lease_ack(seed, "w0", ops)
    else:
        with ThreadPoolExecutor(clients) as pool:
            total = sum(pool.map(lambda k: _lease_ack(frontiers[k], f"w{k}", ops // clients), range(clients)))
    elapsed = time.perf_counter() - started
    for f in frontiers:
        f.close()
    return total / elapsed


def memory_per_million(folder: Path, n: int) -> dict[str, float]:
    """On a Redis of its own without persistence: memory does not depend on it, and replaying a
    million-URL AOF would only slow the run down."""
    server = _Redis(folder, appendonly=False)
    try:
        return _memory(server, n)
    finally:
        server.close()


def _memory(server: _Redis, n: int) -> dict[str, float]:
    client = server.client()
    before = client.info("memory")["used_memory"]
    frontier = RedisFrontier(server.url)
    batch = 5000
    for start in range(0, n, batch):
        frontier.add(
            [
                f"https://site{i % 997}.example/section-{i % 31}/page-{i}.html"
                for i in range(start, min(n, start + batch))
            ],
            1,
        )
    after = client.info("memory")["used_memory"]
    seen = client.memory_usage(frontier.prefix + "seen", samples=0)
    frontier.close()
    scale = 1_000_000 / n
    return {
        "urls": n,
        "queued_mb_per_million": round((after - before) * scale / 2**20, 1),
        "done_mb_per_million": round(seen * scale / 2**20, 1),
    }


def _site(root: Path, pages: int) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    words = "layout tokens glyphs boxes crawl shard frontier lease page text render sample image".split()
    for i in range(pages):
        links = " ".join(f'<a href="p{j}.html">page {j}</a>' for j in (i + 1, i + 2, 2 * i + 1) if j < pages)
        body = " ".join(words[(i + k) % len(words)] for k in range(400))
        (root / f"p{i}.html").write_text(
            f"<!doctype html><html><body style='font:16px sans-serif'><nav>{links}</nav><p>{body}</p></body></html>"
        )
    return root


def pages_per_min(server: _Redis, workers: int, pages: int, site_url: str, out: Path, chromium) -> float:
    server.client().flushdb()
    flags = [
        "--out",
        str(out),
        "--frontier",
        server.url,
        "--allow-hosts",
        "127.0.0.1",
        "--quiet",
        "--host-delay",
        "0",
        "--host-concurrency",
        "16",
        "--tabs",
        "2",
        "--shard-pages",
        "20",
    ]
    if chromium:
        flags += ["--chromium", chromium]
    started = time.perf_counter()
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "boxcrawl", "crawl", f"{site_url}/p0.html", "--max-pages", str(pages), *flags],
            stdout=subprocess.DEVNULL,
        )
    ]
    client = server.client()
    while not client.exists("{boxcrawl}:crawl"):
        time.sleep(0.05)
    procs += [
        subprocess.Popen([sys.executable, "-m", "boxcrawl", "worker", *flags], stdout=subprocess.DEVNULL)
        for _ in range(workers - 1)
    ]
    for proc in procs:
        if proc.wait() != 0:
            raise SystemExit(f"boxcrawl bench-frontier: error: a worker exited {proc.returncode}")
    elapsed = time.perf_counter() - started
    done = int(client.hget("{boxcrawl}:stat", "done") or 0)
    return 60 * done / elapsed


def bench_frontier(ops: int, urls: int, pages: int, chromium: str | None) -> dict:
    """All three figures in one run; each printed as soon as it is measured."""
    result: dict = {}
    with tempfile.TemporaryDirectory(prefix="boxcrawl-bench-") as tmp:
        tmp = Path(tmp)
        server = _Redis(tmp)
        try:
            client = server.client()
            for fsync in ("everysec", "always"):
                client.config_set("appendfsync", fsync)
                client.flushdb()
                result[f"redis_{fsync}_ops_s"] = round(ops_per_second(lambda: RedisFrontier(server.url), ops))
                client.flushdb()
                result[f"redis_{fsync}_8_clients_ops_s"] = round(
                    ops_per_second(lambda: RedisFrontier(server.url), ops, clients=8)
                )
                print(
                    f"redis (appendfsync {fsync}): {result[f'redis_{fsync}_ops_s']:,} lease+ack/s with 1 client, "
                    f"{result[f'redis_{fsync}_8_clients_ops_s']:,} with 8",
                    flush=True,
                )
            client.config_set("appendfsync", "everysec")
            db = tmp / "bench.sqlite"
            result["sqlite_ops_s"] = round(ops_per_second(lambda: SqliteFrontier(db), ops))
            print(f"sqlite (synchronous=FULL, WAL): {result['sqlite_ops_s']:,} lease+ack/s", flush=True)
            (tmp / "mem").mkdir()
            result["memory"] = memory_per_million(tmp / "mem", urls)
            m = result["memory"]
            print(
                f"redis memory per million URLs ({m['urls']:,} added): {m['queued_mb_per_million']} MB while "
                f"queued, {m['done_mb_per_million']} MB once done (seen set only)",
                flush=True,
            )
            if pages:
                root = _site(tmp / "site", pages * 3)
                with serve_folder(root) as site:
                    one = pages_per_min(server, 1, pages, site, tmp / "out1", chromium)
                    two = pages_per_min(server, 2, pages, site, tmp / "out2", chromium)
                result.update(
                    pages=pages,
                    one_worker_pages_min=round(one, 1),
                    two_workers_pages_min=round(two, 1),
                    ratio=round(two / one, 2),
                )
                print(
                    f"{pages} pages: 1 worker {one:.1f} pages/min, 2 workers {two:.1f} pages/min, "
                    f"ratio {two / one:.2f} (2 tabs each, same machine)",
                    flush=True,
                )
        finally:
            server.close()
    return result
