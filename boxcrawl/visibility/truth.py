"""Ground truth of a visibility suite: per page, which words a person can see.

Each page names its words in two HTML comments right after the doctype,
``<!-- visible: word ... -->`` and ``<!-- hidden: word ... -->``. Comments are not text
nodes, so nothing a method looks at contains the truth.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_TRUTH = re.compile(r"<!--\s*(visible|hidden):([^>]*?)-->")
WORD = re.compile(r"\w+")


class SuiteError(ValueError):
    pass


@dataclass(frozen=True)
class TruthPage:
    name: str  # file name
    words: dict[str, bool]  # word -> visible


def load_suite(folder: Path) -> list[TruthPage]:
    if not folder.is_dir():
        raise SuiteError(f"no suite folder {folder}")
    pages = []
    for path in sorted(folder.glob("*.html")):
        words: dict[str, bool] = {}
        for kind, listed in _TRUTH.findall(path.read_text(encoding="utf-8")):
            for word in listed.split():
                words[word.lower()] = kind == "visible"
        if words:
            pages.append(TruthPage(path.name, words))
    if not pages:
        raise SuiteError(f"{folder} has no pages with <!-- visible: ... --> / <!-- hidden: ... --> truth")
    return pages


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    tn: int = 0
    fn: int = 0
    unlabeled: int = 0  # tokens of words the truth does not name

    def add(self, other: "Score") -> None:
        self.tp += other.tp
        self.fp += other.fp
        self.tn += other.tn
        self.fn += other.fn
        self.unlabeled += other.unlabeled

    @property
    def total(self) -> int:
        return self.tp + self.fp + self.tn + self.fn

    @property
    def accuracy(self) -> float:
        return (self.tp + self.tn) / self.total if self.total else 0.0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0


def score_page(
    truth: TruthPage, text: str, offsets: list[tuple[int, int]], hidden: list[str], errors: list[str] | None = None
) -> Score:
    """Score each token by the word of the page text it lies in. A word the truth calls visible
    but the page text lacks counts as one missed token; a hidden one as one correct token."""
    score = Score()
    spans = [(m.start(), m.end(), m.group().lower()) for m in WORD.finditer(text)]
    seen = set()
    k = 0
    for (start, _end), reason in zip(offsets, hidden):
        while k < len(spans) and spans[k][1] <= start:
            k += 1
        word = spans[k][2] if k < len(spans) and spans[k][0] <= start else None
        if word not in truth.words:
            score.unlabeled += 1
            continue
        seen.add(word)
        want, got = truth.words[word], not reason
        if want and got:
            score.tp += 1
        elif want:
            score.fn += 1
        elif got:
            score.fp += 1
        else:
            score.tn += 1
        if errors is not None and want != got:
            errors.append(f"{truth.name}: {word!r} is {'visible' if want else 'hidden'}, judged {reason or 'visible'}")
    for word, want in truth.words.items():
        if word not in seen:
            if want:
                score.fn += 1
                if errors is not None:
                    errors.append(f"{truth.name}: {word!r} is visible but not in the page text")
            else:
                score.tn += 1
    return score
