"""The progress line during a crawl and the summary after it."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

console = Console(stderr=True)


LOG_EVERY = 10.0  # seconds between progress lines when stderr is a log, not a terminal


class CrawlProgress:
    """The progress line: a live one on a terminal; on a log (stderr redirected) one plain line every
    LOG_EVERY seconds, so a crawl under nohup or systemd shows it is alive. Nothing when disabled."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self.live = enabled and console.is_terminal
        self._progress = Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console, transient=True
        )
        self._task = None
        self._logged = -LOG_EVERY  # the first update is logged at once

    def __enter__(self) -> "CrawlProgress":
        if self.live:
            self._progress.start()
            self._task = self._progress.add_task("starting Chromium ...", total=None)
        return self

    def __exit__(self, *exc) -> None:
        if self.live:
            self._progress.stop()

    def update(self, stats) -> None:
        if self.live and self._task is not None:
            self._progress.update(self._task, description=progress_line(stats))
        elif self.enabled and time.monotonic() - self._logged >= LOG_EVERY:
            self._logged = time.monotonic()
            print(f"{time.strftime('%H:%M:%S')} {progress_line(stats)}", file=sys.stderr, flush=True)


def progress_line(stats) -> str:
    """pages, failures, samples, pages/min, and the hosts whose turn the tabs are waiting for."""
    waiting = ""
    if stats.waiting_on:
        hosts = ", ".join(stats.waiting_on[:3]) + (" ..." if len(stats.waiting_on) > 3 else "")
        waiting = f"  politeness: waiting on {hosts}"
    of = f" of {stats.expected}" if stats.expected is not None else ""
    shards = ""
    if getattr(stats, "shards_total", None) is not None:  # render --shard-urls
        done = stats.shards_skipped + stats.shards_done
        shards = f"shards {done}/{stats.shards_total} done ({stats.workers_lost + stats.shards_failed} failed)  "
    return (
        f"{shards}pages {stats.pages}{of}  failed {stats.failed}{f'  skipped {stats.skipped}' if stats.skipped else ''}"
        f"  samples {stats.samples}  "
        f"{stats.pages_per_min:.0f} pages/min{_eta(stats)}{waiting}"
    )


def _eta(stats) -> str:
    """Time left at this run's rate so far, when the number of pages is known."""
    if stats.expected is None or not stats.pages or stats.pages >= stats.expected:
        return ""
    seconds = (stats.expected - stats.pages) * stats.elapsed / stats.pages
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return "  ETA " + (f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {secs:02d}s" if minutes else f"{secs}s")


def print_summary(stats, out: Path | str) -> None:
    """The run's figures; `out` a local folder, or a URL as shown (without credentials)."""
    table = Table(title="boxcrawl: this run", show_header=False)
    ok = stats.pages - stats.failed - stats.skipped
    visible = f"{100 * stats.visible / stats.tokens:.1f} %" if stats.tokens else "-"
    for name, value in (
        ("pages", stats.pages),
        ("pages ok", ok),
        ("pages failed", stats.failed),
        *([("pages skipped (--lang)", stats.skipped)] if stats.skipped else []),
        ("retries scheduled", stats.retried),
        ("samples", stats.samples),
        ("samples per ok page", f"{stats.samples / ok:.2f}" if ok else "-"),
        ("tokens", stats.tokens),
        ("visible share", visible),
        ("elapsed", f"{stats.elapsed:.1f} s"),
        ("pages/min", f"{stats.pages_per_min:.1f}"),
        ("outcomes", ", ".join(f"{k} {v}" for k, v in sorted(stats.outcomes.items())) or "-"),
        *_fleet_rows(stats.fleet),
        *_shard_rows(stats),
        ("dataset", str(out.resolve()) if isinstance(out, Path) else out),
    ):
        table.add_row(name, str(value))
    Console().print(table)
    if stats.limit_reached is not None:
        Console().print(
            f"--max-pages {stats.limit_reached} was reached before this run: nothing to do (raise it to go on)"
        )
    elif stats.expected == 0 and not stats.pages:
        Console().print("nothing to do: every page given is done already (--force renders them again)")
    if stats.interrupted:
        Console().print("interrupted: run the same command again to resume")
    elif stats.time_limit_reached:
        Console().print("time limit reached: run the same command again to go on")


def _shard_rows(stats) -> list[tuple[str, str]]:
    """render --shard-urls: the input shards, done in this run and before it."""
    if getattr(stats, "shards_total", None) is None:
        return []
    done = stats.shards_skipped + stats.shards_done
    rows = [("shards", f"{done} of {stats.shards_total} done ({stats.shards_done} this run)")]
    if stats.workers_lost:
        rows.append(("worker processes lost", f"{stats.workers_lost}: run the same command again for their shards"))
    if stats.shards_failed:
        rows.append(("shards failed", f"{stats.shards_failed}: run the same command again for them"))
    return rows


def _fleet_rows(fleet: dict | None) -> list[tuple[str, str]]:
    """With a shared frontier: the whole crawl, all workers, and what was saved from dead ones."""
    if not fleet:
        return []
    return [
        (
            "crawl, all workers",
            f"done {fleet['done']} (failed {fleet['failed']}), queued {fleet['queued']}, leased {fleet['leased']}",
        ),
        (
            "recovered from dead workers",
            f"{fleet['recovered']} pages (of {fleet['workers_lost']} "
            f"worker{'s' if fleet['workers_lost'] != 1 else ''})",
        ),
    ]
