"""Plain data passed between stages. No Playwright object ever appears here."""

from __future__ import annotations

import enum
import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .optout.policy import NOT_JUDGED

if TYPE_CHECKING:
    import numpy as np

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in page CSS px


class Outcome(str, enum.Enum):
    """How a page ended. Every page ends as exactly one record with one of these."""

    OK = "ok"
    NO_TEXT = "no_text"  # rendered fine, nothing to tokenize
    HTTP_ERROR = "http_error"  # 4xx / 5xx
    NOT_HTML = "not_html"  # PDF, image, download ...
    NETWORK = "network_error"  # refused, reset, DNS, redirect loop ...
    TIMEOUT = "timeout"  # the per-page deadline passed
    CRASH = "crash"  # renderer or browser died
    REFUSED = "refused"  # network guard: internal address, bad scheme, not allowed
    SKIPPED = "skipped"  # left out by a filter the run asked for (--lang): nothing kept, and no failure
    ERROR = "error"  # anything else (message says what)


KEPT_OUTCOMES = (Outcome.OK.value, Outcome.NO_TEXT.value)  # pages whose content was kept
NOT_FAILED = (*KEPT_OUTCOMES, Outcome.SKIPPED.value)  # any other outcome is a failure (exit code 1)


@dataclass
class Measurement:
    """What the in-page pass saw: the page text and one entry per token."""

    text: str
    links: list[str]
    width: float  # rendered page size, CSS px
    height: float
    elements: int
    cross_origin_frames: int
    boxes: list[list[float]] = field(default_factory=list)  # per token: flat x0,y0,x1,y1,...
    hidden: list[str] = field(default_factory=list)  # per token: "" = visible, else the reason
    hit_tests_skipped: int = 0  # tokens not hit-tested (time budget spent on a huge DOM)
    ink_checked: int = 0  # tokens the ink pass (two renders) decided
    no_ink: int = 0  # sample tokens the check of the captured crops found without ink
    layout_boxes: dict[int, list[float]] = field(default_factory=dict)  # with --ink-boxes: token -> layout boxes

    def box_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """Every token's boxes as one (n, 4) float64 array, in token order, and how many rows each
        token owns (one per line fragment): what selecting and writing a page compute on."""
        import numpy as np  # not loaded to build the command line

        counts = np.fromiter((len(flat) // 4 for flat in self.boxes), np.int64, len(self.boxes))
        rows = np.fromiter(itertools.chain.from_iterable(self.boxes), np.float64).reshape(-1, 4)
        return rows, counts


@dataclass
class RenderedPage:
    """Result of one page in the browser; fields after `error` are empty unless outcome is OK/NO_TEXT."""

    url: str
    final_url: str
    status: int | None
    content_type: str | None
    outcome: Outcome
    error: str | None
    retryable: bool = False
    timings: dict[str, float] = field(default_factory=dict)  # ms per stage
    measurement: Measurement | None = None
    images: list[bytes] = field(default_factory=list)  # PNG per clip the plan chose, at the device scale factor
    dialogs: int = 0
    blocked_requests: int = 0
    load_complete: bool = True
    retry_after: str | None = None  # the Retry-After header of a 429/503 answer
    verdict: str = NOT_JUDGED  # "allowed" or "refused: <signal>" (optout.policy)
    signals: list[str] = field(default_factory=list)  # every opt-out signal seen, "source: detail"
    lang_declared: str | None = None  # the document's <html lang>, as written
    lang_detected: str | None = None  # with --lang: the language detected from the text (None: too little text)
    lang_score: float | None = None  # ... and the detector's probability for it
    links: list[str] = field(default_factory=list)  # a skipped page's links (it has no measurement)

    @classmethod
    def unreached(
        cls,
        url: str,
        outcome: Outcome,
        error: str,
        retryable: bool = False,
        timings: dict[str, float] | None = None,
        verdict: str = NOT_JUDGED,
        signals: list[str] | None = None,
    ) -> RenderedPage:
        """A page that ended before any answer of its own was kept: refused, timed out, crashed."""
        return cls(
            url=url,
            final_url=url,
            status=None,
            content_type=None,
            outcome=outcome,
            error=error,
            retryable=retryable,
            timings=timings if timings is not None else {},
            verdict=verdict,
            signals=signals or [],
        )


@dataclass(frozen=True)
class Crop:
    box: tuple[float, float, float, float]  # page CSS px, x0 y0 x1 y1
    tokens: tuple[int, ...]  # indices of visible tokens fully inside
    cut: tuple[int, ...]  # indices of visible tokens crossing the edge
