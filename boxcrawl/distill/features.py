"""Derived page features: the 48 name/value pairs of calculate_derived_features.py, and Chrome's 22-feature
"v1" vector (the AdaBoost models' input).

The original ran on Python 2, and users' numbers depend on that: every length is a UTF-8 *byte* count and
the regexes ran on byte strings, so `\\w` and `\\d` are ASCII only (CJK text has almost no "words").
Everything below therefore works on bytes. Logic after Chromium's dom-distiller (BSD-3-Clause).
"""

from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import urlparse, urlsplit

# Chrome's model input order (page_features.cc); AdaBoost stumps index this list.
V1_NAMES = (
    "openGraph",
    "forum",
    "index",
    "search",
    "view",
    "archive",
    "asp",
    "phpbb",
    "php",
    "pathLength",
    "domain",
    "pathComponents",
    "slugDetector",
    "pathNumbers",
    "lastSegmentLength",
    "formCount",
    "anchorCount",
    "elementCount",
    "anchorRatio",
    "mozScore",
    "mozScoreAllSqrt",
    "mozScoreAllLinear",  # Sqrt before Linear, unlike the derived list
)
# The v1 columns that do not depend on the URL (compared for MHTML, whose URL is file://).
V1_NO_PATH = (
    "openGraph",
    "formCount",
    "anchorCount",
    "elementCount",
    "anchorRatio",
    "mozScore",
    "mozScoreAllSqrt",
    "mozScoreAllLinear",
)

RAW_KEYS = (
    "opengraph",
    "url",
    "title",
    "numElements",
    "numAnchors",
    "numForms",
    "numTextInput",
    "numPasswordInput",
    "numPPRE",
    "innerText",
    "textContent",
    "innerHTML",
    "mozScore",
    "mozScoreAllSqrt",
    "mozScoreAllLinear",
    "visibleElements",
    "visiblePPRE",
)

_SLASH_ANY = re.compile(rb"/.")
_SLUG = re.compile(rb"[^\w/]")  # bytes pattern: \w is [A-Za-z0-9_]
_DIGITS = re.compile(rb"\d+")
_WORD = re.compile(rb"\w+")


def utf8(text: str) -> bytes:
    """Python 2's unicode.encode('utf-8'): lone surrogates (legal in JS strings) become 3 bytes."""
    return text.encode("utf-8", "surrogatepass")


def word_count(data: bytes) -> int:
    return len(_WORD.findall(data))


def last_segment(path: bytes) -> bytes:
    """The last segment, keeping a trailing slash: b"/a/bar/" -> b"bar/", b"/" -> b"/"."""
    cut = path.rfind(b"/", 0, max(0, len(path) - 1))
    return path if cut < 0 else path[cut + 1 :]


def path_features(path: bytes) -> list[tuple[str, Any]]:
    """Features 4-17: substring flags and shape of the URL path (bytes)."""
    return [
        ("forum", b"forum" in path),
        ("index", b"index" in path),
        ("search", b"search" in path),
        ("view", b"view" in path),
        ("archive", b"archive" in path),
        ("asp", b".asp" in path),
        ("phpbb", b"phpbb" in path),
        ("php", path.endswith(b".php")),
        ("pathLength", len(path)),
        ("domain", len(path) < 2),
        ("pathComponents", len(_SLASH_ANY.findall(path))),
        ("slugDetector", len(_SLUG.findall(path))),
        ("pathNumbers", len(_DIGITS.findall(path))),
        ("lastSegmentLength", len(last_segment(path))),
    ]


def _ratio(a: float, b: float) -> float:
    return float(a) / max(1, b)


def derived_pairs(index: int, raw: dict) -> list[tuple[str, Any]]:
    """The 48 (name, value) pairs of calculate_derived_features.py, in its order."""
    path = utf8(urlparse(raw["url"]).path)  # urlparse: no query, fragment or ;params
    inner_text = utf8(raw["innerText"] or "")
    text_content = utf8(raw["textContent"] or "")
    inner_html = utf8(raw["innerHTML"] or "")
    n_elements = raw["numElements"]
    n_anchors = raw["numAnchors"]
    n_ppre = raw["numPPRE"]
    it_len, tc_len, html_len = len(inner_text), len(text_content), len(inner_html)
    it_words, tc_words, html_words = word_count(inner_text), word_count(text_content), word_count(inner_html)
    pairs: list[tuple[str, Any]] = [
        ("id", index),
        ("sin", math.sin(index)),
        ("openGraph", raw["opengraph"]),
        *path_features(path),
        ("visibleRatio", _ratio(raw["visibleElements"], n_elements)),
        ("visiblePPRERatio", _ratio(raw["visiblePPRE"], n_ppre)),
        ("PPRERatio", _ratio(n_ppre, n_elements)),
        ("anchorPPRERatio", _ratio(n_anchors, n_ppre)),
        ("innerTextLength", it_len),
        ("textContentLength", tc_len),
        ("innerHtmlLength", html_len),
        ("innerTextLengthRatio", _ratio(it_len, html_len)),
        ("textContentLengthRatio", _ratio(tc_len, html_len)),
        ("innerTexttextContentLengthRatio", _ratio(it_len, tc_len)),
        ("innerTextWordCount", it_words),
        ("textContentWordCount", tc_words),
        ("innerhtmlWordCount", html_words),
        ("innerTextWordCountRatio", _ratio(it_words, html_words)),
        ("textContentWordCountRatio", _ratio(tc_words, html_words)),
        ("innerTexttextContentWordCountRatio", _ratio(it_words, tc_words)),
        ("textCount", raw["numTextInput"]),
        ("passwordCount", raw["numPasswordInput"]),
        ("formCount", raw["numForms"]),
        ("anchorCount", n_anchors),
        ("elementCount", n_elements),
        ("anchorRatio", _ratio(n_anchors, n_elements)),
    ]
    pairs += [(key, raw[key]) for key in sorted(raw) if "mozScore" in key or "num" in key]
    return pairs


def derived_features(index: int, raw: dict) -> list:
    """The flat alternating list ``[name1, value1, name2, value2, ...]`` the original wrote."""
    flat: list = []
    for name, value in derived_pairs(index, raw):
        flat += [name, value]
    return flat


def as_dict(flat: list) -> dict[str, Any]:
    return dict(zip(flat[0::2], flat[1::2]))


def v1_from_derived(flat: list) -> list[float]:
    """Chrome's 22 model inputs picked out of a derived list (booleans as 0/1)."""
    d = as_dict(flat)
    return [float(d[name]) for name in V1_NAMES]


def v1_from_native(url: str, native: dict) -> list[float]:
    """What Chrome's CalculateDerivedFeatures builds from its own collector's numbers (snake_case keys) and
    the page URL. GURL's path keeps ``;params``, so this uses urlsplit, not urlparse."""
    path = utf8(urlsplit(url).path)
    elements, anchors = native["element_count"], native["anchor_count"]
    values = [float(native["open_graph"])]
    values += [float(v) for _, v in path_features(path)]
    values += [
        float(native["form_count"]),
        float(anchors),
        float(elements),
        _ratio(anchors, elements),
        float(native["moz_score"]),
        float(native["moz_score_all_sqrt"]),
        float(native["moz_score_all_linear"]),
    ]
    return values


# Chrome's older 29-feature vector (CalculateDerivedFeaturesFromJSON), fed by an 8-key JS collector: no
# `search`/`archive`, no moz scores, plus 12 text length / word-count features. Names as in Chromium's
# derived_features.json fixtures.
LEGACY29_NAMES = (
    "opengraph",
    "forum",
    "index",
    "view",
    "asp",
    "phpbb",
    "php",
    "pathlength",
    "domain",
    "pathcomponents",
    "slugdetector",
    "pathnumbers",
    "lastSegmentLength",
    "formcount",
    "anchorcount",
    "elementcount",
    "anchorratio",
    "innertextlength",
    "textcontentlength",
    "innerhtmllength",
    "innertextlengthratio",
    "textcontentlengthratio",
    "innertexttextcontentlengthratio",
    "innertextwordcount",
    "textcontentwordcount",
    "innerhtmlwordcount",
    "innertextwordcountratio",
    "textcontentwordcountratio",
    "innertexttextcontentwordcountratio",
)


def legacy29(raw: dict) -> list:
    """The flat [name, value, ...] list of the 29-feature variant, from the raw JS features."""
    path = dict(path_features(utf8(urlsplit(raw["url"]).path)))
    it, tc, html = (utf8(raw[k] or "") for k in ("innerText", "textContent", "innerHTML"))
    lens = (len(it), len(tc), len(html))
    words = (word_count(it), word_count(tc), word_count(html))
    values = [
        bool(raw["opengraph"]),
        path["forum"],
        path["index"],
        path["view"],
        path["asp"],
        path["phpbb"],
        path["php"],
        path["pathLength"],
        path["domain"],
        path["pathComponents"],
        path["slugDetector"],
        path["pathNumbers"],
        path["lastSegmentLength"],
        raw["numForms"],
        raw["numAnchors"],
        raw["numElements"],
        _ratio(raw["numAnchors"], raw["numElements"]),
        *lens,
        _ratio(lens[0], lens[2]),
        _ratio(lens[1], lens[2]),
        _ratio(lens[0], lens[1]),
        *words,
        _ratio(words[0], words[2]),
        _ratio(words[1], words[2]),
        _ratio(words[0], words[1]),
    ]
    flat: list = []
    for name, value in zip(LEGACY29_NAMES, values):
        flat += [name, value]
    return flat
