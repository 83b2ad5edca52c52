"""The benchmark's CPU meter: every process of a run, by kind, and nothing from before the run."""

import subprocess
import sys
import threading
import time

from boxcrawl.bench.cpu import CpuMeter

# Spends CPU until the kernel says it has used SECONDS, prints that figure, then sits idle long
# enough for the meter to read it again before it exits.
BURN = """
import sys, time
while time.process_time() < float(sys.argv[1]):
    pass
print(time.process_time(), flush=True)
time.sleep(1.0)
"""


# Starts as a plain Python process and only then becomes one of the given --type, as a Chromium
# child shows another command line (its parent's, the zygote's) before its own.
BECOME = (
    "import os, sys, time; time.sleep(0.3); "
    "os.execv(sys.executable, [sys.executable, '-c', sys.argv[1], sys.argv[2], '--type=' + sys.argv[3]])"
)


def burn(seconds: float, kind: str | None = None, late: bool = False) -> subprocess.Popen:
    if late:
        command = [sys.executable, "-c", BECOME, BURN, str(seconds), str(kind)]
    else:
        command = [sys.executable, "-c", BURN, str(seconds), *([f"--type={kind}"] if kind else [])]
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True)


def spin(seconds: float, spun: threading.Event, then_wait: threading.Event) -> None:
    started = time.thread_time()
    while time.thread_time() - started < seconds:
        pass
    spun.set()
    then_wait.wait()  # alive until the meter's last reading, as the memory sampler is


def test_a_run_is_counted_by_kind_of_process_and_exited_processes_keep_their_time():
    done = threading.Event()
    before = burn(0.0)  # running when the run starts, as the benchmark's web servers are
    time.sleep(0.3)
    try:
        with CpuMeter(interval=0.1) as cpu:
            renderer = burn(0.4, "renderer", late=True)
            gpu = burn(0.2, "gpu-process")
            used = {"renderer": float(renderer.communicate()[0]), "gpu": float(gpu.communicate()[0])}
            spun = threading.Event()
            busy = threading.Thread(target=spin, args=(0.4, spun, done), name="bench-busy")  # as the memory sampler
            busy.start()
            assert spun.wait(30)
        assert abs(cpu.by_kind["renderer"] - used["renderer"]) < 0.1
        assert abs(cpu.by_kind["gpu"] - used["gpu"]) < 0.1
        assert cpu.by_kind["other"] == 0.0, "a process from before the run is not the run's"
        assert -0.05 < cpu.by_kind["python"] < 0.3, "neither this process's CPU from before nor the bench's threads"
        assert cpu.total == sum(cpu.by_kind.values())
    finally:
        done.set()
        before.kill()
        before.wait()
