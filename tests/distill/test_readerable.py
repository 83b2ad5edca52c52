"""isProbablyReaderable: Readability's own unit vectors, its options, and JS semantics Python gets wrong."""

import math

from boxcrawl.distill.readerable import (
    PRESETS,
    ReaderableOptions,
    is_probably_readerable,
    js_trim,
    readerable,
    utf16_len,
)


def page(body: str) -> str:
    return f"<!DOCTYPE html><html><head><title>t</title></head><body>{body}</body></html>"


def hello(n: int) -> str:
    return page(f'<p id="main">{"hello there " * n}</p>')


def test_readability_unit_vectors_default_options():
    # readability's test: 11 and 12 repetitions are not readerable, 50 is
    assert readerable(hello(11)).readerable is False and readerable(hello(11)).score == 0
    r12 = readerable(hello(12))
    assert r12.readerable is False and math.isclose(r12.score, math.sqrt(143 - 140))  # ~1.7
    r50 = readerable(hello(50))
    assert r50.readerable is True and math.isclose(r50.score, math.sqrt(599 - 140))  # ~21.4


def test_readability_option_overrides():
    assert is_probably_readerable(hello(11), ReaderableOptions(min_content_length=120, min_score=0))
    assert not is_probably_readerable(hello(12), ReaderableOptions(min_content_length=200, min_score=0))
    assert is_probably_readerable(hello(12), ReaderableOptions(min_score=1))
    assert not is_probably_readerable(hello(50), ReaderableOptions(min_score=30))
    assert not is_probably_readerable(hello(50), PRESETS["chrome"])


def test_custom_visibility_checker_also_as_bare_function():
    assert not is_probably_readerable(hello(50), ReaderableOptions(visibility_checker=lambda node: False))
    assert not is_probably_readerable(hello(50), lambda node: False)
    seen = []
    is_probably_readerable(hello(50), lambda node: seen.append(node.tag) or True)
    assert seen == ["p"]


def test_default_visibility_is_inline_style_and_attributes_only():
    text = "word " * 200
    assert not is_probably_readerable(page(f'<p style="color:red; display: none">{text}</p>'))
    assert not is_probably_readerable(page(f"<p hidden>{text}</p>"))
    assert not is_probably_readerable(page(f'<p aria-hidden="true">{text}</p>'))
    assert is_probably_readerable(page(f'<p aria-hidden="true" class="x fallback-image">{text}</p>'))
    # a stylesheet does not count: no layout
    assert is_probably_readerable(page(f"<style>p{{display:none}}</style><p>{text}</p>"))


def test_unlikely_maybe_and_li_p():
    text = "word " * 200
    assert not is_probably_readerable(page(f'<p class="sidebar">{text}</p>'))
    assert is_probably_readerable(page(f'<p class="sidebar" id="main-content">{text}</p>'))
    assert not is_probably_readerable(page(f"<ul><li><div><p>{text}</p></div></li></ul>"))  # any li ancestor
    assert is_probably_readerable(page(f"<ul><li><pre>{text}</pre></li></ul>"))  # only p is excluded
    # "share" is only in Chrome's 2015 list, "footer" only in Readability's
    assert is_probably_readerable(page(f'<p class="share">{text}</p>'))
    assert not is_probably_readerable(page(f'<p class="footer">{text}</p>'))


def test_div_with_br_is_a_candidate_and_article_counts_twice():
    text = "word " * 60  # 299 chars after trim: sqrt(159) ~ 12.6 per candidate
    assert not is_probably_readerable(page(f"<div>{text}</div>"))
    assert is_probably_readerable(page(f"<div>{text}<br>{text}</div>"))
    r = readerable(page(f"<article><p>{text}</p></article>"))
    assert r.counted == 2 and r.readerable  # the article and its own p


def test_js_trim_and_utf16_length():
    assert js_trim("\ufeff\u00a0 x \u3000") == "x"  # JS trims BOM and every Zs
    assert js_trim("\x85x\x1c") == "\x85x\x1c"  # Python's strip() would remove these
    assert utf16_len("😀a") == 3
    emoji = "😀" * 70  # 140 UTF-16 units but 70 code points
    r = readerable(page(f"<p>{emoji}x</p>"), ReaderableOptions(min_score=0))
    assert r.counted == 1 and math.isclose(r.score, 1.0)
    bom = "\ufeff" * 10
    assert readerable(page(f"<p>{bom}{'a' * 141}</p>"), ReaderableOptions(min_score=0)).score == 1.0


def test_script_text_counts_in_text_content_but_comments_do_not():
    r = readerable(
        page(f"<p>{'a' * 100}<script>{'b' * 44}</script><!-- {'c' * 500} --></p>"), ReaderableOptions(min_score=0)
    )
    assert math.isclose(r.score, 2.0)  # 144 - 140 = 4
