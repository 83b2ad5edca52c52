"""Mozilla Readability's `isProbablyReaderable` (Readability-readerable.js, Apache-2.0, Arc90 Inc and
Mozilla and Contributors), ported with JavaScript's semantics where Python's differ: the HTML is parsed
the way browsers parse it (html5lib), `trim()` uses JS's whitespace set, lengths are UTF-16 code units,
`li p` means any `li` ancestor, and the parents of `div > br` are candidates too.
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

UNLIKELY = re.compile(
    r"-ad-|ai2html|banner|breadcrumbs|combx|comment|community|cover-wrap|disqus|extra|footer|gdpr|header|"
    r"legends|menu|related|remark|replies|rss|shoutbox|sidebar|skyscraper|social|sponsor|supplemental|"
    r"ad-break|agegate|pagination|pager|popup|yom-remote",
    re.I,
)
MAYBE = re.compile(r"and|article|body|column|content|main|mathjax|shadow", re.I)

# String.prototype.trim: WhiteSpace (incl. every Zs and U+FEFF) and LineTerminator; not Python's set
# (which adds U+001C-U+001F and U+0085 and misses U+FEFF).
JS_WHITESPACE = (
    "\t\n\x0b\x0c\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)


def js_trim(text: str) -> str:
    return text.strip(JS_WHITESPACE)


def utf16_len(text: str) -> int:
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


def _is_element(node) -> bool:
    return isinstance(node.tag, str)


def text_content(node) -> str:
    """DOM textContent: every descendant text node, comments excluded."""
    parts: list[str] = []

    def walk(el) -> None:
        if el.text and _is_element(el):
            parts.append(el.text)
        for child in el:
            if _is_element(child):
                walk(child)
            if child.tail:
                parts.append(child.tail)

    walk(node)
    return "".join(parts)


def _inline_display(style: str) -> str | None:
    display = None
    for decl in style.split(";"):
        name, _, value = decl.partition(":")
        if name.strip().lower() == "display":
            display = value.replace("!important", "").strip().lower()
    return display


def is_node_visible(node) -> bool:
    """Readability's default checker: no layout, only inline display, `hidden` and `aria-hidden`."""
    if _inline_display(node.get("style") or "") == "none":
        return False
    if node.get("hidden") is not None:
        return False
    if node.get("aria-hidden") == "true" and "fallback-image" not in (node.get("class") or ""):
        return False
    return True


@dataclass(frozen=True)
class ReaderableOptions:
    min_content_length: int = 140
    min_score: float = 20
    visibility_checker: Callable = is_node_visible


# Chrome's ReaderModeUseReadability defaults seen in builds (score 50 or 100, length 160 or 200).
PRESETS = {
    "mozilla": ReaderableOptions(),
    "chrome": ReaderableOptions(min_content_length=200, min_score=100),
    "chrome-low": ReaderableOptions(min_content_length=160, min_score=50),
}


@lru_cache(maxsize=1)
def _html5lib():
    import html5lib
    from html5lib.constants import DataLossWarning

    # The lxml tree cannot hold names XML forbids (attributes like `@click` or `[hidden]`): html5lib drops
    # them with one warning each. Nothing readerable counts depends on them; on real pages it is only noise.
    warnings.filterwarnings("ignore", category=DataLossWarning)
    return html5lib


def parse_html(html: str | bytes):
    return _html5lib().parse(html, treebuilder="lxml", namespaceHTMLElements=False)


def candidates(doc) -> list:
    root = doc.getroot() if hasattr(doc, "getroot") else doc
    nodes = [el for el in root.iter() if _is_element(el) and el.tag in ("p", "pre", "article")]
    seen = {id(n) for n in nodes}
    for br in root.iter("br"):
        parent = br.getparent()
        if parent is not None and parent.tag == "div" and id(parent) not in seen:
            seen.add(id(parent))
            nodes.append(parent)
    return nodes


def _has_li_ancestor(node) -> bool:
    parent = node.getparent()
    while parent is not None:
        if parent.tag == "li":
            return True
        parent = parent.getparent()
    return False


@dataclass
class ReaderableResult:
    readerable: bool
    score: float  # the full sum (the JS stops early once it passes min_score; same answer)
    counted: int  # candidates that added to the score


def readerable(doc, options: ReaderableOptions | Callable | None = None) -> ReaderableResult:
    if callable(options) and not isinstance(options, ReaderableOptions):
        options = ReaderableOptions(visibility_checker=options)  # the JS accepts a bare checker too
    options = options or ReaderableOptions()
    if isinstance(doc, (str, bytes)):
        doc = parse_html(doc)
    score, counted = 0.0, 0
    for node in candidates(doc):
        if not options.visibility_checker(node):
            continue
        match = (node.get("class") or "") + " " + (node.get("id") or "")
        if UNLIKELY.search(match) and not MAYBE.search(match):
            continue
        if node.tag == "p" and _has_li_ancestor(node):
            continue
        length = utf16_len(js_trim(text_content(node)))
        if length < options.min_content_length:
            continue
        score += math.sqrt(length - options.min_content_length)
        counted += 1
    return ReaderableResult(score > options.min_score, score, counted)


def is_probably_readerable(doc, options: ReaderableOptions | Callable | None = None) -> bool:
    return readerable(doc, options).readerable
