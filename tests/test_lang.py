"""--lang's rule (boxcrawl/lang.py), case by case: the detected language decides when the text is long enough
and the detector sure; else the declared <html lang>; else the page is skipped as language unknown."""

import pytest
from lang_site import ENGLISH, FRENCH, GERMAN

from boxcrawl.lang import MIN_LETTERS, Detection, LangFilter, judge, parse_codes, primary_subtag

SURE = Detection(letters=500, language="fr", score=0.99)

# (wanted, declared, detection) -> (keep, language, basis)
GOLDEN = [
    # enough text, detector sure: the text decides, whatever the page declares
    (("de",), "de", SURE, (False, "fr", "detected")),
    (("fr",), "de", SURE, (True, "fr", "detected")),
    (("fr", "de"), None, SURE, (True, "fr", "detected")),
    # too little text: the declared language decides, by its primary subtag, in any case
    (("de",), "de", Detection(letters=12), (True, "de", "declared")),
    (("en",), "en-US", Detection(letters=12), (True, "en", "declared")),
    (("en",), "EN_gb", Detection(letters=12), (True, "en", "declared")),
    (("de",), "en-US", Detection(letters=12), (False, "en", "declared")),
    # the detector unsure (a mixed page), or saying "no language" (zxx) or a code outside ISO 639-1
    (("de",), "de", Detection(500, "fr", 0.6), (True, "de", "declared")),
    (("de",), "de", Detection(500, "zxx", 0.99), (True, "de", "declared")),
    (("ar",), "ar", Detection(500, "arz", 0.99), (True, "ar", "declared")),
    # neither: unknown, skipped
    (("de",), None, Detection(letters=12), (False, None, "unknown")),
    (("de",), "", Detection(letters=12), (False, None, "unknown")),
    (("de",), "x-klingon", Detection(letters=12), (False, None, "unknown")),
    (("de",), None, Detection(500, "fr", 0.5), (False, None, "unknown")),
]


@pytest.mark.parametrize("wanted, declared, detection, expected", GOLDEN)
def test_the_rule(wanted, declared, detection, expected):
    verdict = judge(wanted, declared, detection)
    assert (verdict.keep, verdict.language, verdict.basis) == expected
    assert (verdict.reason is None) == verdict.keep  # a skipped page always says why


def test_the_reason_a_page_was_skipped_names_the_language_and_how_it_was_told():
    assert judge(("de",), "de", SURE).reason == "language fr (detected, score 0.99) is not one of de"
    assert judge(("de", "fr"), "en-US", Detection(3)).reason == "language en (declared 'en-US') is not one of de,fr"
    unknown = judge(("de",), None, Detection(3)).reason
    assert unknown is not None and unknown.startswith("language unknown: 3 letters")


def test_codes_and_subtags():
    assert parse_codes("en, DE,en") == ("en", "de") and parse_codes("en,") == ("en",)
    for bad in ("english", "xx", ",", "deu", "en,q1"):
        with pytest.raises(ValueError):
            parse_codes(bad)
    assert [primary_subtag(t) for t in ("zh-Hant-TW", " pt-BR ", "i-klingon", None)] == ["zh", "pt", None, None]


@pytest.fixture(scope="module")
def detector():
    return LangFilter(("de",))


@pytest.mark.parametrize("text, language", [(ENGLISH, "en"), (GERMAN, "de"), (FRENCH, "fr")])
def test_the_detector_tells_real_prose_apart(detector, text, language):
    found = detector.detect(text)
    assert found.letters >= MIN_LETTERS
    assert found.language == language and found.score is not None and found.score >= 0.9


def test_the_detector_is_not_asked_about_a_few_words(detector):
    assert detector.detect("Öffnungszeiten: Montag bis Freitag") == Detection(letters=30)
