"""--lang: which pages are in the languages a dataset is for.

The rule (README, "Languages"): the language detected from the page's visible text decides when there is
enough text to tell (MIN_LETTERS letters) and the detector is sure of it (MIN_SCORE); otherwise the page's
declared `<html lang>` decides (its primary subtag: `en-US` is `en`); a page with neither is skipped as
"language unknown". The detector (py3langid, the [lang] extra) is imported only when --lang is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .extras import require

# ISO 639-1: the two-letter codes --lang takes and a declared lang's primary subtag must be
ISO_639_1 = frozenset(
    """aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz ee
    el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is
    it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms
    mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk
    sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi
    yo za zh zu""".split()
)
# Below this many letters the detector guesses (a menu, a cookie banner, a title): the declared lang decides.
MIN_LETTERS = 200
# The detector's probability (py3langid, normalised) below which the text does not decide: mixed pages.
MIN_SCORE = 0.9
# Text read from a page for detection: the first this many characters (enough to tell, bounded work).
TEXT_CHARS = 20_000

SKIPPED_UNKNOWN = "language unknown"


def parse_codes(text: str) -> tuple[str, ...]:
    """`en,de` -> ('en', 'de'); ValueError naming the first code that is not ISO 639-1."""
    codes = [c.strip().lower() for c in text.split(",") if c.strip()]
    if not codes:
        raise ValueError(f"expected ISO 639-1 language codes like en,de, got {text!r}")
    for code in codes:
        if code not in ISO_639_1:
            raise ValueError(f"{code!r} is not an ISO 639-1 language code (two letters, like en or de)")
    return tuple(dict.fromkeys(codes))


def primary_subtag(declared: str | None) -> str | None:
    """The language of a lang attribute (`en-US`, `EN`, `de_CH` -> en, en, de); None when it names none."""
    tag = (declared or "").strip().replace("_", "-").split("-")[0].lower()
    return tag if tag in ISO_639_1 else None


@dataclass(frozen=True)
class Detection:
    """What the detector said of a page's text: nothing when there was too little text to ask it."""

    letters: int
    language: str | None = None
    score: float | None = None


@dataclass(frozen=True)
class LangVerdict:
    keep: bool
    language: str | None  # the page's language as the rule judged it; None: unknown
    basis: str  # "detected", "declared" or "unknown"
    reason: str | None = None  # why a page not kept was skipped (its record's `error`)


def judge(wanted: tuple[str, ...], declared: str | None, detection: Detection) -> LangVerdict:
    """The rule, without the detector: keep the page when the language it is judged to be in is wanted."""
    language, basis = None, "unknown"
    told = detection.language if detection.score is not None and detection.score >= MIN_SCORE else None
    if told in ISO_639_1:  # "zxx" (no language) and the model's few three-letter codes tell nothing here
        language, basis = told, "detected"
    elif (declared_language := primary_subtag(declared)) is not None:
        language, basis = declared_language, "declared"
    if language is None:
        if detection.language is None:
            text = f"{detection.letters} letters of text, too few to tell"
        else:
            text = f"the text is no clear language (best guess {detection.language}, score {detection.score:.2f})"
        return LangVerdict(False, None, basis, f"{SKIPPED_UNKNOWN}: {text}, and no <html lang> naming one")
    if language in wanted:
        return LangVerdict(True, language, basis)
    how = f"detected, score {detection.score:.2f}" if basis == "detected" else f"declared {declared!r}"
    return LangVerdict(False, language, basis, f"language {language} ({how}) is not one of {','.join(wanted)}")


class LangFilter:
    """The --lang filter of a run: the detector is loaded once (about a second), then shared by every tab."""

    def __init__(self, wanted: tuple[str, ...]):
        self.wanted = wanted
        self._identifier = load_detector()

    def detect(self, text: str) -> Detection:
        """The detector's language and score for ``text``, when it has MIN_LETTERS letters (CPU work: run it
        off the event loop)."""
        text = text[:TEXT_CHARS]
        letters = sum(c.isalpha() for c in text)
        if letters < MIN_LETTERS:
            return Detection(letters)
        language, score = self._identifier.classify(text)
        return Detection(letters, str(language), round(float(score), 4))

    def judge(self, declared: str | None, detection: Detection) -> LangVerdict:
        return judge(self.wanted, declared, detection)


def check_installed() -> None:
    """MissingExtra naming [lang] unless the detector is installed (before a run starts, not in its first page)."""
    require("py3langid")


def load_detector() -> Any:
    """py3langid's identifier with normalised probabilities; MissingExtra naming [lang] when not installed."""
    check_installed()
    langid = require("py3langid.langid")
    return langid.LanguageIdentifier.from_model_file(langid.MODEL_FILE, norm_probs=True)
