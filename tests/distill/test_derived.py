"""Derived features (calculate_derived_features.py semantics) and Chrome's v1 vector: golden values."""

import math

import pytest

from boxcrawl.distill.features import (
    V1_NAMES,
    as_dict,
    derived_features,
    last_segment,
    path_features,
    utf8,
    v1_from_derived,
    v1_from_native,
    word_count,
)

PATH_KEYS = ("pathLength", "domain", "pathComponents", "slugDetector", "pathNumbers", "lastSegmentLength")


def raw(url="http://example.com/", **kw):
    base = dict(
        opengraph=False,
        url=url,
        title="t",
        numElements=10,
        numAnchors=2,
        numForms=1,
        numTextInput=1,
        numPasswordInput=1,
        numPPRE=3,
        innerText="",
        textContent="",
        innerHTML="",
        mozScore=2.0,
        mozScoreAllSqrt=20.0,
        mozScoreAllLinear=166.0,
        visibleElements=8,
        visiblePPRE=2,
    )
    base.update(kw)
    return base


def path_vector(url):
    d = as_dict(derived_features(0, raw(url)))
    return tuple(int(d[k]) for k in PATH_KEYS), d


# Chromium's page_features_unittest vectors (reference §3).
@pytest.mark.parametrize(
    "url, expected, flags_on, flags_off",
    [
        (
            "http://example.com/search/view/index/the-title-of-archive.php",
            (43, 0, 4, 4, 0, 24),
            {"search", "view", "index", "archive", "php"},
            {"forum", "asp", "phpbb"},
        ),
        (
            "http://example.com/phpbb/forum123/456.asp",
            (23, 0, 3, 1, 2, 7),
            {"forum", "asp", "phpbb"},
            {"search", "view", "index", "archive", "php"},
        ),
        ("https://example.com/", (1, 1, 0, 0, 0, 1), set(), {"forum", "php", "asp"}),
        ("https://example.com/trailing/", (10, 0, 1, 0, 0, 9), set(), {"forum", "php"}),
    ],
)
def test_chromium_url_vectors(url, expected, flags_on, flags_off):
    got, d = path_vector(url)
    assert got == expected
    assert all(d[f] is True for f in flags_on)
    assert all(d[f] is False for f in flags_off)


# The path columns and anchor ratios of Chromium's derived_features.json fixtures (three real sites).
@pytest.mark.parametrize(
    "url, n_el, n_a, expected, ratio",
    [
        ("https://zh-tw.facebook.com/permalink.php", 120, 26, (14, 0, 1, 1, 0, 13), 0.21666666666666667),
        ("https://zb.getitfree.us/myaccount/survey.html", 92, 5, (22, 0, 2, 1, 0, 11), 0.05434782608695652),
        ("https://yande.re/pool", 492, 112, (5, 0, 1, 0, 0, 4), 0.22764227642276422),
    ],
)
def test_chromium_fixture_vectors(url, n_el, n_a, expected, ratio):
    d = as_dict(derived_features(0, raw(url, numElements=n_el, numAnchors=n_a)))
    assert tuple(int(d[k]) for k in PATH_KEYS) == expected
    assert d["anchorRatio"] == ratio  # exact float, as Python 2 printed it
    assert d["php"] is url.endswith(".php")


def test_48_pairs_in_the_original_order():
    flat = derived_features(3, raw("http://example.com/a/b-c.html?q=1#f"))
    names = flat[0::2]
    assert len(flat) == 96 and len(names) == 48
    assert names[:3] == ["id", "sin", "openGraph"]
    assert names[17:21] == ["visibleRatio", "visiblePPRERatio", "PPRERatio", "anchorPPRERatio"]
    assert names[38] == "anchorRatio"
    assert names[39:] == [
        "mozScore",
        "mozScoreAllLinear",
        "mozScoreAllSqrt",
        "numAnchors",
        "numElements",
        "numForms",
        "numPPRE",
        "numPasswordInput",
        "numTextInput",
    ]
    d = as_dict(flat)
    assert d["id"] == 3 and d["sin"] == math.sin(3)
    assert "visibleElements" not in d and "visiblePPRE" not in d
    assert d["visibleRatio"] == 0.8 and d["PPRERatio"] == 0.3 and d["anchorPPRERatio"] == 2 / 3


def test_urlparse_path_drops_query_fragment_and_params():
    d = as_dict(derived_features(0, raw("http://h/x/page.php;jsessionid=1?view=1#search")))
    assert d["pathLength"] == len("/x/page.php") and d["php"] is True
    assert d["view"] is False and d["search"] is False


def test_ratios_use_max_one_denominator():
    d = as_dict(derived_features(0, raw(numElements=0, numPPRE=0, numAnchors=0, visibleElements=0)))
    assert d["visibleRatio"] == 0.0 and d["anchorPPRERatio"] == 0.0 and d["innerTextLengthRatio"] == 0.0


def test_cjk_lengths_are_utf8_bytes_and_words_ascii_only():
    text = "中文網頁的內容 abc 123 日本語"  # 10 CJK chars (3 bytes each), 2 ASCII words
    d = as_dict(derived_features(0, raw(innerText=text, textContent=text, innerHTML=f"<p>{text}</p>")))
    assert d["innerTextLength"] == len(text.encode("utf-8")) == 10 * 3 + 9
    assert d["innerTextWordCount"] == 2  # Python 3's Unicode \w would say 5
    assert d["innerhtmlWordCount"] == 4  # p, abc, 123, p
    assert d["innerTextWordCountRatio"] == 0.5


def test_emoji_and_accented_path_bytes():
    # 😀 is 2 UTF-16 units in JS, 4 UTF-8 bytes here; é is 2 bytes; café counts as one ASCII run + one byte run
    d = as_dict(derived_features(0, raw("http://h/caf%C3%A9/😀", innerText="😀 café")))
    assert d["innerTextLength"] == 4 + 1 + 5
    assert d["innerTextWordCount"] == 1  # "caf" only: é is not an ASCII word byte
    path = "/caf%C3%A9/😀"
    assert d["pathLength"] == len(path.encode()) == 15
    assert d["slugDetector"] == 2 + 4  # two '%' and the four emoji bytes
    assert d["lastSegmentLength"] == 4


def test_lone_surrogates_count_three_bytes_like_python2():
    assert len(utf8("a\ud83d")) == 4
    d = as_dict(derived_features(0, raw(innerText="\ud83dx")))
    assert d["innerTextLength"] == 4


def test_path_helpers_edge_cases():
    assert last_segment(b"/a/bar/") == b"bar/" and last_segment(b"/") == b"/" and last_segment(b"") == b""
    assert last_segment(b"/pool") == b"pool" and last_segment(b"noslash") == b"noslash"
    d = dict(path_features(b"//a/"))
    assert d["pathComponents"] == 1  # "//" is one match, the trailing "/" none
    assert word_count(b"foo_bar baz-9") == 3


def test_v1_order_and_native_equivalence():
    flat = derived_features(0, raw("http://example.com/news/2016/long-story.html", opengraph=True))
    v1 = v1_from_derived(flat)
    assert len(v1) == 22 and V1_NAMES[19:] == ("mozScore", "mozScoreAllSqrt", "mozScoreAllLinear")
    assert v1[19:] == [2.0, 20.0, 166.0]  # Sqrt before Linear
    assert v1[0] == 1.0
    native = dict(
        open_graph=True,
        element_count=10,
        anchor_count=2,
        form_count=1,
        moz_score=2.0,
        moz_score_all_sqrt=20.0,
        moz_score_all_linear=166.0,
    )
    assert v1_from_native("http://example.com/news/2016/long-story.html", native) == v1
    # GURL keeps ;params in the path, urlparse does not
    with_params = v1_from_native("http://h/a.php;x=1", native)
    assert with_params[V1_NAMES.index("pathLength")] == len("/a.php;x=1")


def _text(n_bytes: int, n_words: int) -> str:
    """A string of exactly n_bytes UTF-8 bytes and n_words ASCII words (CJK padding has no words)."""
    words = "w " * n_words
    pad = n_bytes - len(words)
    return words + "中" * (pad // 3) + " " * (pad % 3)


# Chromium's components/test/data/dom_distiller/derived_features.json (the 29-feature variant): the raw text
# is rebuilt with the fixture's byte lengths and word counts, so every value below must come out exactly.
LEGACY_FIXTURES = [
    (
        "https://zh-tw.facebook.com/permalink.php",
        (1, 26, 120),
        (492, 12832, 19715),
        (5, 1470, 2313),
        [
            False,
            False,
            False,
            False,
            False,
            False,
            True,
            14,
            False,
            1,
            1,
            0,
            13,
            1,
            26,
            120,
            0.21666666666666667,
            492,
            12832,
            19715,
            0.024955617550088766,
            0.6508749682982501,
            0.03834164588528678,
            5,
            1470,
            2313,
            0.00216169476869866,
            0.6355382619974059,
            0.003401360544217687,
        ],
    ),
    (
        "https://yande.re/pool",
        (10, 112, 492),
        (1676, 41089, 56900),
        (303, 3874, 6502),
        [
            False,
            False,
            False,
            False,
            False,
            False,
            False,
            5,
            False,
            1,
            0,
            0,
            4,
            10,
            112,
            492,
            0.22764227642276422,
            1676,
            41089,
            56900,
            0.02945518453427065,
            0.7221265377855888,
            0.04078950570712356,
            303,
            3874,
            6502,
            0.04660104583205168,
            0.5958166717932943,
            0.07821373257614868,
        ],
    ),
]


@pytest.mark.parametrize("url, counts, lengths, words, expected", LEGACY_FIXTURES)
def test_legacy_29_feature_variant_matches_chromium_fixtures(url, counts, lengths, words, expected):
    from boxcrawl.distill.features import LEGACY29_NAMES, legacy29

    r = dict(
        url=url,
        opengraph=False,
        numForms=counts[0],
        numAnchors=counts[1],
        numElements=counts[2],
        innerText=_text(lengths[0], words[0]),
        textContent=_text(lengths[1], words[1]),
        innerHTML=_text(lengths[2], words[2]),
    )
    flat = legacy29(r)
    assert flat[0::2] == list(LEGACY29_NAMES)
    assert flat[1::2] == expected
