"""Every visibility method on the adversarial suite (tests/visibility_suite), in the real Chromium."""

from pathlib import Path

import pytest

from boxcrawl.config import VISIBILITY_METHODS
from boxcrawl.visibility.evaluate import evaluate
from boxcrawl.visibility.truth import load_suite

pytestmark = pytest.mark.browser

SUITE = Path(__file__).resolve().parents[1] / "visibility_suite"
DEFAULT = VISIBILITY_METHODS[0]


@pytest.fixture(scope="module")
def results():
    methods = [DEFAULT, "heuristic", "occlusion", "pixel"]
    return evaluate(SUITE, methods, n_docs=0, chromium=None, report=lambda line: None, tabs=2)


def test_the_suite_is_big_enough_and_labels_every_word():
    pages = load_suite(SUITE)
    assert len(pages) >= 40
    assert sum(not v for p in pages for v in p.words.values()) >= 60  # hidden words
    assert sum(v for p in pages for v in p.words.values()) >= 100  # visible words


def test_the_default_method_is_right_on_99_percent_of_tokens(results):
    r = results[DEFAULT]
    assert r.score.total > 200
    assert r.score.unlabeled == 0, "every word on every suite page must be named in its truth"
    assert r.score.accuracy >= 0.99, r.errors


def test_every_method_is_scored_on_the_same_tokens(results):
    totals = {m: r.score.total for m, r in results.items()}
    assert len(set(totals.values())) == 1, totals
    for m, r in results.items():
        assert len(r.suite_seconds) == len(load_suite(SUITE)), m
        assert 0 < r.score.accuracy <= 1 and 0 < r.score.recall <= 1, m
    # the three methods of the original project each miss a class of hiding the default catches
    assert results["heuristic"].score.accuracy < results[DEFAULT].score.accuracy
    assert results["occlusion"].score.accuracy < results[DEFAULT].score.accuracy
