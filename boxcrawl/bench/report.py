"""The benchmark's printout."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table


def print_bench(r: dict) -> None:
    console = Console(width=max(Console().width, 100))  # the runs table is wider than 80 columns
    floor, pipe = r["floor"], r["pipeline"]
    table = Table(title=f"boxcrawl bench {r['date']}: {r['pages']} pages, {r['tabs']} tabs, {r['cores']} cores")
    for col in ("run", "pages/min", "x floor", "ok", "seconds", "peak PSS, MB"):
        table.add_column(col, justify="right" if col != "run" else "left", no_wrap=col == "run")
    for run in (floor, *r["runs"]):
        table.add_row(
            run["name"],
            f"{run['pages_per_min']:.1f}",
            f"{run['ratio']:.2f}",
            f"{run['ok']}/{run['pages']}",
            f"{run['seconds']:.1f}",
            f"{run['peak_mb']:.0f}",
        )
    console.print(table)
    console.print(
        f"pipeline / strict floor = [bold]{r['ratio']:.2f}[/bold]; "
        f"peak memory {pipe['peak_mb'] / floor['peak_mb']:.2f}x the strict floor's"
    )
    total = sum(pipe["stages_ms"].values()) or 1.0
    title = "pipeline: where the time goes (sum over pages and tabs)"
    stages = Table(title=title, min_width=len(title))
    stages.add_column("stage")
    stages.add_column("share", justify="right")
    stages.add_column("ms per page", justify="right")
    for stage, ms in sorted(pipe["stages_ms"].items(), key=lambda kv: -kv[1]):
        stages.add_row(stage, f"{100 * ms / total:.1f} %", f"{ms / max(pipe['pages'], 1):.0f}")
    console.print(stages)
    if floor.get("cpu_ms") and pipe.get("cpu_ms"):
        console.print(_cpu_table(floor["cpu_ms"], pipe["cpu_ms"], r["cpu_ratio"]))


def _cpu_table(floor: dict[str, float], pipe: dict[str, float], ratio: float) -> Table:
    """CPU per page by kind of process: on a machine the pipeline keeps busy, this is where the
    gap to the floor is."""
    title = f"CPU per page, ms, by process (strict floor / pipeline = {ratio:.2f})"
    table = Table(title=title, min_width=len(title))
    for col in ("process", "strict floor", "pipeline", "pipeline - floor"):
        table.add_column(col, justify="left" if col == "process" else "right")
    for kind in (*floor, "total"):
        f, p = (sum(floor.values()), sum(pipe.values())) if kind == "total" else (floor[kind], pipe.get(kind, 0.0))
        table.add_row(kind, f"{f:.0f}", f"{p:.0f}", f"{p - f:+.0f}")
    return table


def print_soak(soak: dict) -> None:
    rss = soak["rss_mb"]
    marks = " / ".join(f"{v:.0f} MB at page {k}" for k, v in rss.items())
    growth = f"{soak['growth']:.2f}x" if soak["growth"] else "n/a"
    Console().print(
        f"soak: {soak['ok']}/{soak['pages']} pages ok at {soak['pages_per_min']:.1f} pages/min; "
        f"memory (PSS) {marks}; growth {growth}; peak {soak['peak_mb']:.0f} MB "
        f"(browser recycled every {soak['pages_per_browser']} pages)"
    )


def print_distributors(r: dict) -> None:
    table = Table(
        title=f"boxcrawl bench --distributors {r['date']}: {r['pages']} pages in shards of {r['shard_urls']}, "
        f"{r['tabs']} tabs, {r['cores']} cores"
    )
    for col in ("run", "pages/min", "x 1 process", "ok", "shards", "seconds"):
        table.add_column(col, justify="right" if col != "run" else "left", no_wrap=col == "run")
    one = r["runs"][0]["pages_per_min"] or 1.0
    for run in r["runs"]:
        table.add_row(
            run["name"],
            f"{run['pages_per_min']:.1f}",
            f"{run['pages_per_min'] / one:.2f}",
            f"{run['ok']}/{run['pages']}",
            str(run["shards"]),
            f"{run['seconds']:.1f}",
        )
    Console().print(table)
    Console().print(f"Ray's cluster started in {r['ray_start_seconds']:.1f} s (not in its run's time)")
