"""Worker identity and liveness in a shared output folder.

Each worker holds an flock on DIR/.workers/<id>.lock while it runs. Another worker that can take
that lock knows the first one is dead, and may clean up the shard it left half-staged.
"""

from __future__ import annotations

import os
import re
import uuid
from contextlib import AbstractContextManager
from pathlib import Path

from ..files import exclusive_lock

WORKERS = ".workers"


class WorkerIdInUse(RuntimeError):
    pass


class _Alive(Exception):
    """Raised by the lock probe in `is_dead`: the worker holding the lock is running."""


def default_worker_id() -> str:
    return sanitize(f"{os.uname().nodename}-{os.getpid()}-{uuid.uuid4().hex[:4]}")


def sanitize(worker_id: str) -> str:
    """Safe in file names and shard keys: letters, digits, '_' and '-' only (no dots)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", worker_id).strip("_-") or "worker"


def worker_lock(out: Path, worker_id: str) -> AbstractContextManager[None]:
    folder = Path(out) / WORKERS
    folder.mkdir(parents=True, exist_ok=True)
    return exclusive_lock(
        folder / f"{worker_id}.lock", WorkerIdInUse(f"worker id {worker_id} is already running on {out}")
    )


def is_dead(out: Path, worker_id: str) -> bool:
    """True when no live process holds ``worker_id``'s lock (a worker that was killed)."""
    path = Path(out) / WORKERS / f"{worker_id}.lock"
    if not path.exists():
        return True
    try:
        with exclusive_lock(path, _Alive()):
            return True
    except _Alive:
        return False
