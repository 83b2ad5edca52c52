"""Pick the frontier backend from `--frontier`: the embedded SQLite file, or a shared Redis."""

from __future__ import annotations

from pathlib import Path

from .redis import FrontierUnavailable, RedisFrontier, redact
from .sqlite import SqliteFrontier

FRONTIER_FILE = "frontier.sqlite"
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def is_redis(spec: str) -> bool:
    return spec.startswith(REDIS_SCHEMES)


def check_spec(spec: str) -> str:
    """Raise FrontierUnavailable for a --frontier value that names no backend."""
    if spec != "sqlite" and not is_redis(spec):
        raise FrontierUnavailable(
            f"--frontier '{describe(spec)}': use sqlite, or redis://[:PASSWORD@]HOST:PORT/DB (rediss:// for TLS)"
        )
    return spec


def open_frontier(spec: str, out: Path, lease_seconds: float) -> SqliteFrontier | RedisFrontier:
    check_spec(spec)
    if is_redis(spec):
        return RedisFrontier(spec, lease_seconds=lease_seconds)
    return SqliteFrontier(Path(out) / FRONTIER_FILE, lease_seconds=lease_seconds)


def describe(spec: str) -> str:
    """The --frontier value as it may be printed or saved (no password, whatever its form: any
    value but the embedded backend's name goes through ``redact``, mistyped URLs included)."""
    return spec if spec == "sqlite" else redact(spec)
