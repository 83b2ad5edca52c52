"""CPU time of a run, for the whole process tree, by kind of process.

On a machine the runs keep busy, CPU time per page is where the gap between two runs is, and
this says whose it is: this Python process, Playwright's driver, Chromium's browser process, its
renderers, its GPU process and its utility processes (network service, storage, zygotes).

Chromium's processes are not all waited for by a parent in this tree (their CPU never reaches
this process's children times), so each process's times are read every ``interval`` while it
lives and the last reading counts: a process that exits loses at most its last interval.
Processes that were running before the run (the benchmark's web servers) are not counted, nor
are the benchmark's own threads in this process (this meter's and the memory sampler's, named
``bench-...``): reading /proc for every process costs CPU the run does not.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import psutil

KINDS = ("python", "driver", "browser", "renderer", "gpu", "utility", "other")


def bench_threads() -> Iterator[int]:
    """Native ids of the benchmark's own threads in this process."""
    for thread in threading.enumerate():
        if thread.name.startswith("bench-") and thread.native_id is not None:
            yield thread.native_id


def kind_of(proc: psutil.Process, me: int) -> str:
    if proc.pid == me:
        return "python"
    cmdline = proc.cmdline()
    for arg in cmdline[1:]:
        if arg.startswith("--type="):
            return {"renderer": "renderer", "gpu-process": "gpu"}.get(arg.split("=", 1)[1], "utility")
    program = cmdline[0].rsplit("/", 1)[-1] if cmdline else ""
    if program.startswith("node"):
        return "driver"
    return "browser" if "chrom" in program or "headless_shell" in program else "other"


Key = tuple[int, float]  # (pid, start time): a pid alone may be reused during a long run


class CpuMeter:
    """``with CpuMeter() as cpu: run()``, then ``cpu.by_kind`` (kind -> CPU seconds of the run)
    and ``cpu.total``."""

    def __init__(self, interval: float = 0.5):
        self.interval = interval
        self.by_kind: dict[str, float] = {}
        self._me = psutil.Process()
        self._mine_before = 0.0  # this process's CPU seconds when the run started
        self._before: set[Key] = set()  # processes already running then
        self._threads_before: dict[int, float] = {}  # the bench's threads: native id -> CPU seconds
        self._seen: dict[Key, tuple[str, float]] = {}  # (kind, CPU seconds) at a process's last reading
        self._failed: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="bench-cpu", daemon=True)

    @property
    def total(self) -> float:
        return sum(self.by_kind.values())

    def _read(self) -> None:
        for proc in [self._me, *self._me.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                key = (proc.pid, proc.create_time())
                if key in self._before:
                    continue
                # classified at every reading: a process just forked still shows its parent's
                # command line (a renderer shows the zygote's), so the last reading decides
                kind = kind_of(proc, self._me.pid)
                if kind == "other" and key in self._seen:  # an exiting process has no command line
                    kind = self._seen[key][0]
                times = proc.cpu_times()
                used = times.user + times.system
                if proc.pid == self._me.pid:
                    used -= self._mine_before + self._bench_threads()
                self._seen[key] = (kind, used)

    def _bench_threads(self) -> float:
        """CPU of the benchmark's own threads since the run started."""
        ids = set(bench_threads())
        now = {t.id: t.user_time + t.system_time for t in self._me.threads() if t.id in ids}
        return sum(used - self._threads_before.get(tid, 0.0) for tid, used in now.items())

    def _loop(self) -> None:
        stopping = False
        try:
            while not stopping:  # the last reading is this thread's, while it is alive to be left out
                stopping = self._stop.wait(self.interval)
                self._read()
        except BaseException as exc:  # reported by __exit__: partial figures must not pass for whole ones
            self._failed = exc

    def __enter__(self) -> "CpuMeter":
        ids = set(bench_threads())
        self._threads_before = {t.id: t.user_time + t.system_time for t in self._me.threads() if t.id in ids}
        times = self._me.cpu_times()
        self._mine_before = times.user + times.system
        for proc in self._me.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                self._before.add((proc.pid, proc.create_time()))
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        if self._failed is not None:
            raise RuntimeError(f"the CPU meter failed: {self._failed!r}") from self._failed
        by_kind = dict.fromkeys(KINDS, 0.0)
        for kind, used in self._seen.values():
            by_kind[kind] += used
        self.by_kind = by_kind
