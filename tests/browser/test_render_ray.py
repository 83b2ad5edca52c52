"""`render --shard-urls N --distributor ray` on real Ray and real Chromium: shards as Ray tasks, a killed worker
retried by Ray, a killed command rerun, a locally started cluster stopped at the end, and the flags' rules.

The tests share one two-CPU cluster started here; the command attaches to it with --ray-address."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from conftest import BOXCRAWL, run_boxcrawl, run_rendering
from site_server import Handler
from test_url_lists import LOOPBACK, check_dataset, list_rows, page_urls, write_list

import boxcrawl

pytestmark = pytest.mark.browser
ray = pytest.importorskip("ray")

DEADLINE = 240


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A local two-CPU Ray cluster; yields its address."""
    info = ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield info.address_info["gcs_address"]
    finally:
        ray.shutdown()


def render_args(path: Path, out: Path, shard_urls: int, *more: object) -> list[str]:
    return [
        "render", "--urls-file", str(path), "--shard-urls", str(shard_urls), "--distributor", "ray",
        *map(str, more), "--out", str(out), *LOOPBACK,
    ]  # fmt: skip


def start(args: list[str]) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [*BOXCRAWL, *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def wait_for(what: str, ready, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + DEADLINE
    while not ready():
        assert proc.poll() is None, f"the command ended before {what}: {proc.stderr.read() if proc.stderr else ''}"
        assert time.monotonic() < deadline, f"no {what}"
        time.sleep(0.05)


def task_process(shard: str) -> psutil.Process | None:
    """The Ray worker running `shard`'s task: Ray titles it after the task's name. Only this test process's
    own cluster is searched (its workers descend from it): another test worker's cluster may be rendering a
    shard of the same name."""
    for proc in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if f"render {shard}" in " ".join(proc.cmdline()):
                return proc
    return None


# -- rendering -------------------------------------------------------------------------------------
def test_parquet_list_as_ray_tasks_with_saved_columns(site, cluster, tmp_path):
    urls = page_urls(site, 30, "ray")
    path = write_list(tmp_path / "list.parquet", list_rows([*urls, urls[7]]))  # a duplicate is left out
    out = tmp_path / "out"
    proc = run_rendering(
        *render_args(path, out, 5, "--save-columns", "caption,source_id", "--ray-address", cluster), out=out
    )
    assert f"{path}:31: duplicate of {path}:8" in proc.stderr
    assert "Ray" not in proc.stderr and "INFO" not in proc.stderr, proc.stderr  # Ray's log lines stay off
    ds = check_dataset(out, urls, shards=6)
    for page in ds.pages(columns=["url", "caption", "source_id", "shard"]):
        row = urls.index(page["url"])
        assert (page["caption"], page["source_id"]) == (f"caption {row}", row)
        assert page["shard"] == f"part-{row // 5:06d}"
    status = json.loads(run_boxcrawl("status", out, "--json").stdout)
    assert (status["shards_done"], status["shards_total"], status["pages"]) == (6, 6, 30)


@pytest.mark.parametrize("retries", [None, 0], ids=["default-retries", "no-retries"])
def test_a_killed_worker_is_retried_by_ray(site, cluster, tmp_path, retries):
    """Shard 1 holds a slow page: once it was asked for, the worker rendering that shard is killed mid-shard.
    On the default retries Ray runs the task again, which renders the whole shard again, and the run
    completes; with none the shard fails, the others are done, the command exits 1 and a rerun finishes."""
    slow = f"/slow/3.{26 if retries is None else 27}"
    urls = [*page_urls(site, 3, "dead"), f"{site.url}{slow}", *page_urls(site, 5, "dead2")]
    path = write_list(tmp_path / "list.parquet", list_rows(urls))
    out = tmp_path / "out"
    before = Counter(Handler.seen_paths)
    tuned = [] if retries is None else ["--ray-retries", retries]
    args = render_args(path, out, 3, "--ray-address", cluster, *tuned)
    proc = start(args)
    try:
        wait_for("the slow page's request", lambda: Counter(Handler.seen_paths)[slow] > before[slow], proc)
        worker = task_process("part-000001")
        assert worker is not None, "no Ray worker titled after shard 1's task"
        family = worker.children(recursive=True)  # Playwright's driver and the worker's Chromium
        assert any("chrom" in p.name().lower() for p in family)
        worker.kill()
        code = proc.wait(timeout=DEADLINE)
        stderr = proc.stderr.read() if proc.stderr else ""
        gone, alive = psutil.wait_procs(family, timeout=30)
        assert not alive, f"the killed worker's browser outlived it: {alive}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    if retries is None:
        assert code == 0, stderr
        assert Counter(Handler.seen_paths)[slow] - before[slow] == 2  # the shard was rendered again
    else:
        assert code == 1 and "1 shard(s) failed on every try" in stderr, stderr
        assert "warning: part-000001 failed on every try: " in stderr, stderr
        assert Counter(Handler.seen_paths)[slow] - before[slow] == 1
        assert sorted(p.stem for p in (out / "_done").iterdir()) == ["part-000000", "part-000002"]
        run_rendering(*args, out=out)
    check_dataset(out, urls, shards=3)


def test_200_urls_on_ray_into_object_storage_with_a_worker_killed(site, cluster, tmp_path, s3_bucket):
    """The whole path at once, on the defaults: a 200-URL Parquet list read from the bucket, shards of 25 as
    Ray tasks writing to a real S3-compatible server. The worker rendering shard 2 is killed mid-shard
    (Ray runs its task again); then the same command again finds nothing left to do. The cluster was
    started before the test set AWS_ENDPOINT_URL: the tasks reach the server only because the command's
    storage settings travel with them."""
    import fsspec

    fs = fsspec.filesystem("s3", skip_instance_cache=True, use_listings_cache=False)
    slow = "/slow/3.31"
    urls = page_urls(site, 200, "ray-s3")
    urls[60] = f"{site.url}{slow}"  # in shard 2 (URLs 50..74)
    listed = f"{s3_bucket}/lists/urls.parquet"
    fs.pipe(listed.removeprefix("s3://"), write_list(tmp_path / "urls.parquet", list_rows(urls)).read_bytes())
    out = f"{s3_bucket}/run"
    args = [
        "render", "--urls-file", listed, "--shard-urls", "25", "--distributor", "ray", "--ray-address", cluster,
        "--save-columns", "caption,source_id", "--out", out, *LOOPBACK,
    ]  # fmt: skip
    before = Counter(Handler.seen_paths)
    proc = start(args)
    try:
        wait_for("the slow page's request", lambda: Counter(Handler.seen_paths)[slow] > before[slow], proc)
        worker = task_process("part-000002")
        assert worker is not None, "no Ray worker titled after shard 2's task"
        worker.kill()
        code = proc.wait(timeout=DEADLINE * 2)
        stderr = proc.stderr.read() if proc.stderr else ""
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    assert code == 0, stderr
    assert Counter(Handler.seen_paths)[slow] - before[slow] == 2  # shard 2 was rendered again, whole
    again = run_boxcrawl(*args)
    assert "8 of 8 done (0 this run)" in again.stdout, again.stdout

    ds = boxcrawl.open_dataset(out)
    pages = list(ds.pages(columns=["url", "caption", "source_id", "shard"]))
    seen = Counter(p["url"] for p in pages)
    assert sorted(seen) == sorted(urls) and set(seen.values()) == {1}  # every URL exactly once
    for page in pages:
        row = urls.index(page["url"])
        assert (page["caption"], page["source_id"], page["shard"]) == (f"caption {row}", row, f"part-{row // 25:06d}")
    keys = Counter(s["key"] for s in ds.samples(decode=False))
    assert len(keys) >= 200 and set(keys.values()) == {1}  # no sample key twice
    markers = sorted(n.rsplit("/", 1)[-1] for n in fs.ls(f"{out.removeprefix('s3://')}/_done"))
    assert markers == [f"part-{k:06d}.json" for k in range(8)]


def test_a_relative_out_and_a_task_too_big_for_any_node(site, cluster, tmp_path):
    """The cluster's workers run in the folder the cluster was started from, not the command's: a relative
    --out still means the command's folder. A task asking more CPUs than any node has would wait for
    ever; it is given the largest node's, with a warning."""
    urls = page_urls(site, 4, "rel")
    write_list(tmp_path / "list.parquet", list_rows(urls))
    args = render_args(Path("list.parquet"), Path("rel-out"), 2, "--ray-address", cluster, "--ray-cpus-per-task", 4)
    proc = run_boxcrawl(*args, cwd=tmp_path, timeout=DEADLINE)
    assert "a task would reserve 4 CPUs and the largest node has 2: reserving 2" in proc.stderr, proc.stderr
    check_dataset(tmp_path / "rel-out", urls, shards=2)


def test_kill_9_of_the_command_then_rerun(site, cluster, tmp_path):
    """Default timings. The command is killed (its whole group) once a marker exists; the last shard waits on
    a slow page, so it cannot be done by then. The rerun renders what has no marker."""
    urls = [*page_urls(site, 8, "raykill"), f"{site.url}/slow/4"]
    path = write_list(tmp_path / "list.parquet", list_rows(urls))
    out = tmp_path / "out"
    args = render_args(path, out, 3, "--ray-address", cluster)
    proc = start(args)
    try:
        wait_for("a marker", lambda: (out / "_done").is_dir() and any((out / "_done").iterdir()), proc)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    # Ray ends a dead driver's tasks on its own, a moment later: until then one could still write a marker
    deadline = time.monotonic() + DEADLINE
    while any(task_process(f"part-{k:06d}") for k in range(3)):
        assert time.monotonic() < deadline, "the killed command's tasks still run"
        time.sleep(0.1)
    done = {p.stem for p in (out / "_done").iterdir()}
    assert done and "part-000002" not in done
    before = Counter(Handler.seen_paths)
    run_rendering(*args, out=out)
    check_dataset(out, urls, shards=3)
    asked = Counter(Handler.seen_paths) - before
    for k, url in enumerate(urls):  # the rerun renders exactly the shards without a marker
        assert (asked[url.removeprefix(site.url)] > 0) == (f"part-{k // 3:06d}" not in done), url


def test_sigterm_cancels_the_tasks_in_flight(site, cluster, tmp_path):
    """SIGTERM to the command alone while a task waits on a slow page: it exits 130 at once, its tasks are
    cancelled (no worker still renders a shard), and the slow page's shard has no marker."""
    slow = "/slow/60"
    urls = [*page_urls(site, 2, "term"), f"{site.url}{slow}", *page_urls(site, 3, "term2")]
    path = write_list(tmp_path / "list.parquet", list_rows(urls))
    out = tmp_path / "out"
    before = Counter(Handler.seen_paths)
    proc = start(render_args(path, out, 3, "--ray-address", cluster))
    try:
        wait_for("the slow page's request", lambda: Counter(Handler.seen_paths)[slow] > before[slow], proc)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 130, proc.stderr.read() if proc.stderr else ""
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while task_process("part-000000") is not None:
        assert time.monotonic() < deadline, "shard 0's task still runs after the command left"
        time.sleep(0.2)
    assert not (out / "_done" / "part-000000.json").exists()


def test_a_local_cluster_is_started_and_stopped(site, tmp_path, monkeypatch):
    """No --ray-address and no cluster to find (its own Ray folder): the command starts a local Ray and
    leaves no Ray process behind, and no Ray log line on the terminal."""
    urls = page_urls(site, 4, "own")
    path = write_list(tmp_path / "list.txt", list_rows(urls))
    out = tmp_path / "out"
    ray_dir = tempfile.mkdtemp(prefix="bcray", dir="/tmp")  # short: Ray's sockets live under it
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.setenv("RAY_TMPDIR", ray_dir)
    before = set(psutil.pids())
    try:
        proc = run_rendering(*render_args(path, out, 2), out=out)
        assert "Ray" not in proc.stderr and "INFO" not in proc.stderr, proc.stderr
        check_dataset(out, urls, shards=2)
        assert list(Path(ray_dir).iterdir()), "the command did not start its own Ray"
        gone = time.monotonic() + 30  # a raylet's own children may take a moment after the command
        while left := stray_ray_processes(before, ray_dir):
            assert time.monotonic() < gone, f"Ray processes left behind: {left}"
            time.sleep(0.2)
    finally:
        for p in stray_ray_processes(before, ray_dir):
            with contextlib.suppress(psutil.Error):
                p.kill()
        shutil.rmtree(ray_dir, ignore_errors=True)


def stray_ray_processes(before: set[int], ray_dir: str) -> list[psutil.Process]:
    """Ray's processes (by their titles, ray::IDLE and the like, or their session folder) started since
    `before`, but not this module's cluster's (children of this process)."""
    ours = {p.pid for p in psutil.Process().children(recursive=True)}
    stray = []
    for p in psutil.process_iter(["cmdline", "status"]):
        cmdline = " ".join(p.info["cmdline"] or ())
        if p.pid in before or p.pid in ours or p.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        if cmdline.startswith("ray::") or ray_dir in cmdline or "raylet" in cmdline or "gcs_server" in cmdline:
            stray.append(p)
    return stray


# -- flags -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "flags, message",
    [
        (["--distributor", "ray", "--processes", "2"], "--processes is for --distributor local"),
        (["--ray-address", "127.0.0.1:6379"], "--ray-address needs --distributor ray"),
        (["--ray-cpus-per-task", "2"], "--ray-cpus-per-task needs --distributor ray"),
        (["--ray-retries", "0"], "--ray-retries needs --distributor ray"),
        # refused at once: ray.init() would try a refusing address for ever
        (["--distributor", "ray", "--ray-address", "127.0.0.1:1"], "cannot reach the Ray cluster at 127.0.0.1:1"),
        (["--distributor", "ray", "--ray-address", "nowhere"], "Ray address 'nowhere': expected host:port"),
    ],
)
def test_bad_flag_combinations_are_one_line(tmp_path, flags, message):
    path = write_list(tmp_path / "list.txt", {"url": ["http://127.0.0.1:9/a"]})
    proc = run_boxcrawl(
        "render",
        "--urls-file",
        path,
        "--shard-urls",
        2,
        *flags,
        "--out",
        tmp_path / "out",
        *LOOPBACK,
        check=False,
        timeout=60,
    )
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and lines[0].startswith(f"boxcrawl render: error: {message}"), lines
    assert not (tmp_path / "out").exists()


def test_a_cluster_wanting_its_token_is_one_line(cluster, tmp_path, monkeypatch):
    """The module's cluster uses token authentication (Ray's default for a local one); Ray sends the token
    to an address it is given only with RAY_AUTH_MODE=token (which ray.init set in this process)."""
    monkeypatch.delenv("RAY_AUTH_MODE")
    path = write_list(tmp_path / "list.txt", {"url": ["http://127.0.0.1:9/a"]})
    proc = run_boxcrawl(*render_args(path, tmp_path / "out", 2, "--ray-address", cluster), check=False, timeout=120)
    lines = [line for line in proc.stderr.splitlines() if not line.startswith("[")]  # Ray's C++ retries
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"boxcrawl render: error: cannot attach to the Ray cluster at {cluster}: ")
    assert "RAY_AUTH_MODE=token" in lines[0]


def test_ray_without_shards_is_one_line(tmp_path):
    proc = run_boxcrawl(
        "render", "http://127.0.0.1:9/a", "--distributor", "ray", "--out", tmp_path / "out", *LOOPBACK, check=False
    )
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "--distributor ray needs --shard-urls" in proc.stderr


def test_without_ray_installed_the_error_names_the_extra(tmp_path, monkeypatch):
    """Ray made unimportable by a stand-in package first on the path."""
    fake = tmp_path / "noray" / "ray"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ModuleNotFoundError(\"No module named 'ray'\", name='ray')\n")
    path = write_list(tmp_path / "list.txt", {"url": ["http://127.0.0.1:9/a"]})
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(fake.parent), *sys.path]))
    proc = run_boxcrawl(
        "render", "--urls-file", path, "--shard-urls", 2, "--distributor", "ray", "--out", tmp_path / "out",
        *LOOPBACK, check=False,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "boxcrawl render: error: ray is not installed; it comes with boxcrawl's [ray] extra: "
        "pip install 'boxcrawl[ray]'"
    ]
    assert not (tmp_path / "out").exists()
