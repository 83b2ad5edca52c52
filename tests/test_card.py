"""The dataset card renders what a page controls as text: a hostile seed URL or host name becomes
no HTML, link or image when the Hub (or any CommonMark renderer) shows the card."""

import json

from markdown_it import MarkdownIt

from boxcrawl.write.card import write_card

HOSTILE = [
    "http://<img src=x onerror=alert(0)>/",  # the host itself
    "http://evil.example/<img src=x onerror=alert(1)>",
    "http://evil.example/`</code><script>alert(2)</script>",
    "http://evil.example/``` ![x](http://evil.example/track.png) [click](javascript:alert(3))",
    "http://evil.example/a\nb <b>two lines</b>",
]


def test_hostile_seeds_stay_text_in_the_rendered_card(tmp_path):
    (tmp_path / "pages").mkdir()
    config = {
        "seeds": HOSTILE,
        "follow_links": True,
        "scope": "<i>host</i>",
        "command": ["boxcrawl", "crawl", *HOSTILE],
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    text = (write_card(tmp_path)).read_text(encoding="utf-8")
    html = MarkdownIt("commonmark").render(text.split("---\n", 2)[2])
    for tag in ("<img", "<script", "<b>", "<i>", "<a "):
        assert tag not in html, (tag, html)
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # still there, as text
    assert html.startswith("<h1>boxcrawl screenshots of <code>")
    assert html.count("<code>") >= len(HOSTILE)
