"""`boxcrawl eval-visibility`: every visibility method on the suite (accuracy) and on real doc
pages (time per page and overhead against no visibility check), in one run, one Chromium."""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..browser.pool import BrowserPool
from ..config import BrowserConfig, SelectConfig
from ..extract.plan import TokenBoxPlan
from ..extract.tokenizer import load_tokenizer
from ..localsite import serve_folder
from ..records import Outcome
from .truth import Score, SuiteError, TruthPage, load_suite, score_page

DOCS = Path("/usr/share/doc/python3/html")  # python3-doc links it to its versioned folder


class NoCapture(TokenBoxPlan):
    """Suite pages: measure only (their crops say nothing about visibility)."""

    def clips(self, measurement):
        return []


@dataclass
class MethodResult:
    method: str
    score: Score = field(default_factory=Score)
    suite_seconds: list[float] = field(default_factory=list)
    doc_seconds: list[float] = field(default_factory=list)
    doc_stage_ms: dict[str, float] = field(default_factory=dict)
    ink_checked: int = 0
    doc_tokens: int = 0
    doc_visible: int = 0
    errors: list[str] = field(default_factory=list)
    ink_differ: int = 0  # with ink boxes: visible tokens whose ink box differs by > 2 px
    ink_measured: int = 0


def doc_urls(base: str, n: int) -> list[str]:
    files = sorted(
        p.relative_to(DOCS).as_posix()
        for p in DOCS.rglob("*.html")
        if not p.name.startswith(("genindex", "search", "py-modindex"))
    )
    step = len(files) / n if n else 1
    return [f"{base}/{files[int(i * step)]}" for i in range(min(n, len(files)))]


async def _evaluate(
    suite: list[TruthPage],
    suite_base: str,
    docs: list[str],
    methods: list[str],
    chromium: str | None,
    report,
    tabs: int = 1,
) -> dict[str, MethodResult]:
    tok = load_tokenizer()
    results = {m: MethodResult(m) for m in methods}
    select = SelectConfig()
    pools = {}
    base = BrowserConfig(chromium=chromium, allow_hosts=("127.0.0.1",), tabs=1)
    async with contextlib.AsyncExitStack() as stack:
        # one Playwright, one Chromium per method config: the same binary and flags
        for m in methods:
            cfg = BrowserConfig(
                **{**base.__dict__, "visibility": m.removesuffix("+ink"), "ink_boxes": m.endswith("+ink")}
            )
            pools[m] = await stack.enter_async_context(BrowserPool(cfg))
        gate = asyncio.Semaphore(max(tabs, 1))

        async def suite_page(i: int, page: TruthPage) -> None:
            async with gate:
                for m in _rotated(methods, i):
                    plan = NoCapture(tok, select, 1.0)
                    started = time.perf_counter()
                    rendered = await pools[m].render(f"{suite_base}/{page.name}", plan)
                    results[m].suite_seconds.append(time.perf_counter() - started)
                    if rendered.measurement is None or plan.spans_ is None:
                        results[m].errors.append(f"{page.name}: {rendered.outcome.value} {rendered.error}")
                        results[m].score.fn += sum(page.words.values())
                        continue
                    results[m].score.add(
                        score_page(
                            page,
                            rendered.measurement.text,
                            plan.spans_.offsets,
                            rendered.measurement.hidden,
                            results[m].errors,
                        )
                    )

        await asyncio.gather(*(suite_page(i, page) for i, page in enumerate(suite)))
        report(f"suite: {len(suite)} pages x {len(methods)} methods done")
        # doc pages one at a time: their times are the figures
        for i, url in enumerate(docs):
            for m in _rotated(methods, i):
                plan = TokenBoxPlan(tok, select, 1.0)  # the real pipeline: crops chosen and captured
                started = time.perf_counter()
                rendered = await pools[m].render(url, plan)
                r = results[m]
                r.doc_seconds.append(time.perf_counter() - started)
                for stage, ms in rendered.timings.items():
                    r.doc_stage_ms[stage] = r.doc_stage_ms.get(stage, 0.0) + ms
                if rendered.outcome is not Outcome.OK or rendered.measurement is None:
                    continue
                meas = rendered.measurement
                r.ink_checked += meas.ink_checked
                r.doc_tokens += len(meas.hidden)
                r.doc_visible += sum(not h for h in meas.hidden)
                for t, layout in meas.layout_boxes.items():
                    r.ink_measured += 1
                    tight = meas.boxes[t]
                    if any(abs(a - b) > 2 for a, b in zip(layout, tight)):
                        r.ink_differ += 1
            if (i + 1) % 5 == 0:
                report(f"docs: {i + 1}/{len(docs)} pages")
    return results


def _rotated(methods: list[str], i: int) -> list[str]:
    """Each page runs every method, starting with a different one: no method always goes first."""
    k = i % len(methods)
    return methods[k:] + methods[:k]


def evaluate(suite_dir: Path, methods: list[str], n_docs: int, chromium: str | None, report, tabs: int = 1):
    suite = load_suite(suite_dir)
    if n_docs and not DOCS.is_dir():
        raise SuiteError(
            f"missing {DOCS}: apt-get install python3-doc (scripts/bootstrap.sh python3-doc does), or pass --docs 0"
        )
    with serve_folder(suite_dir) as suite_base, serve_folder(DOCS if n_docs else suite_dir) as docs_base:
        docs = doc_urls(docs_base, n_docs) if n_docs else []
        return asyncio.run(_evaluate(suite, suite_base, docs, methods, chromium, report, tabs))


def format_table(results: dict[str, MethodResult], baseline: str = "none") -> str:
    base = results.get(baseline)
    base_total = sum(base.doc_seconds) if base and base.doc_seconds else None
    rows = [
        (
            "method",
            "accuracy",
            "precision",
            "recall",
            "tokens",
            "s/page suite",
            "s/page docs",
            "overhead docs",
            "ink-checked/doc page",
        )
    ]
    for m, r in results.items():
        overhead = "-"
        if base_total and r.doc_seconds and m != baseline:
            overhead = f"{100 * (sum(r.doc_seconds) / base_total - 1):+.1f} %"
        ink = f"{r.ink_checked / len(r.doc_seconds):.0f}" if r.doc_seconds else "-"
        rows.append(
            (
                m,
                f"{r.score.accuracy:.4f}",
                f"{r.score.precision:.4f}",
                f"{r.score.recall:.4f}",
                str(r.score.total),
                _median(r.suite_seconds),
                _median(r.doc_seconds),
                overhead,
                ink,
            )
        )
    widths = [max(len(row[k]) for row in rows) for k in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in rows]
    return "\n".join([lines[0], "  ".join("-" * w for w in widths), *lines[1:]])


def _median(xs: list[float]) -> str:
    return f"{statistics.median(xs):.3f}" if xs else "-"
