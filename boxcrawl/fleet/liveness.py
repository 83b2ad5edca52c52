"""Liveness of the workers sharing a Redis frontier.

Every process of a crawl (the `crawl` that seeded it and each `worker`) beats once a second from a
thread of its own, so a busy event loop never makes it look dead. A beat refreshes a key that
expires after ALIVE_SECONDS and, in the same atomic step, hands the leased URLs of every worker
whose key has expired back to the queue (`frontier/lua/beat.lua`). A killed worker's pages are
therefore rendered again within seconds, on any machine, and lease expiry (120 s by default) is
only the last resort for processes that never beat.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from ..frontier.redis import RedisFrontier
from .workers import WorkerIdInUse

log = logging.getLogger(__name__)

ALIVE_SECONDS = 6.0  # a worker whose heartbeat stopped this long ago is dead
BEAT_SECONDS = 1.0


class Heartbeat:
    """Joins the roster of live workers, then beats (and reaps the dead) until stopped."""

    def __init__(
        self,
        frontier: RedisFrontier,
        owner: str,
        status: Callable[[], dict[str, object]],
        on_reaped: Callable[[dict[str, int]], None] = lambda dead: None,
    ):
        self.frontier = frontier
        self.owner = owner
        self.status = status  # called from the beat thread: must only read
        self.on_reaped = on_reaped  # called from the beat thread with {dead worker: URLs requeued}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{owner}", daemon=True)

    def join(self) -> int:
        """Enter the roster; returns how many URLs an earlier, killed process with this id held.
        A live process already beating under the id is waited out for one liveness period (it
        may be this worker's own previous run, killed a moment ago), then refused."""
        deadline = time.monotonic() + ALIVE_SECONDS + BEAT_SECONDS
        while True:
            taken = self.frontier.join(self.owner, self.status(), ALIVE_SECONDS)
            if taken is not None:
                return taken
            if time.monotonic() > deadline:
                raise WorkerIdInUse(
                    f"worker id {self.owner} is already running on this crawl "
                    "(its heartbeat is in Redis): give each worker its own --worker-id"
                )
            time.sleep(BEAT_SECONDS / 2)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop beating (before the owner leaves the roster, so no late beat re-enters it)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        failing = False
        while not self._stop.wait(BEAT_SECONDS):
            try:
                dead = self.frontier.beat(self.owner, self.status(), ALIVE_SECONDS)
            except Exception as exc:  # noqa: BLE001 - Redis away: the frontier's retries log it; go on
                if not failing:
                    log.warning("heartbeat to Redis failed (will keep trying): %s", exc)
                failing = True
                continue
            failing = False
            if dead:
                for worker, n in sorted(dead.items()):
                    log.warning("worker %s stopped beating: %d of its pages are queued again", worker, n)
                self.on_reaped(dead)
