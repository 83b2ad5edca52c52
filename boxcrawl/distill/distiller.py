"""Distilled pages: Chromium's own DOM distiller through the `chrome-distiller://` URL, explicit failure
detection, and a Python fallback (readability-lxml) rendered as a reader view in the same browser."""

from __future__ import annotations

import hashlib
import html
import uuid
from urllib.parse import quote

DISTILLER_FLAGS = ("--enable-dom-distiller",)
CHROME = "chrome-dom-distiller"
PYTHON = "readability-lxml"

# Texts of Chrome's viewer when there is nothing to show (the old retry loop took them for success).
FAILURE_MARKERS = ("Failed to find article", "Could not find the requested article", "No data found.")


def chrome_distiller_url(url: str) -> str:
    """Modern Chrome checks that the host part carries the SHA-256 of the URL it is asked to distil."""
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()
    return f"chrome-distiller://{uuid.uuid4()}_{digest}/?url={quote(url, safe='')}"


# What the viewer shows, read in one evaluate: title, whole text, article text (#content holds only the
# article; the rest is the viewer's own chrome: icon glyph, settings dialog).
VIEWER_STATE_JS = """() => {
  const content = document.getElementById('content');
  return {
    title: document.title,
    text: document.body ? document.body.innerText : '',
    article: content ? content.innerText : null,
    html: content ? content.innerHTML : null,
  };
}"""


def viewer_failure(state: dict) -> str | None:
    """None when the viewer shows an article, else why not."""
    for marker in FAILURE_MARKERS:
        if marker in (state.get("title") or "") or marker in (state.get("text") or ""):
            return f"chrome distiller: {marker}"
    if state.get("article") is None:
        return "chrome distiller: viewer has no #content element"
    if not state["article"].strip():
        return "chrome distiller: empty article"
    return None


def python_distill(page_html: str, url: str) -> tuple[str, str] | None:
    """(title, article HTML) from readability-lxml, or None when it finds no text."""
    from readability import Document  # lxml-based; imported late so feature-only commands stay light

    doc = Document(page_html, url=url)
    summary = doc.summary(html_partial=True)
    title = doc.short_title() or doc.title() or ""
    from lxml import html as lxml_html

    try:
        text = lxml_html.fromstring(summary).text_content().strip() if summary.strip() else ""
    except Exception:  # lxml raises on documents that parse to nothing
        text = ""
    if not text:
        return None
    return title, summary


READER_CSS = """
body { margin: 0; background: #fff; color: #202124; font: 18px/1.6 "DejaVu Sans", Roboto, sans-serif; }
#main-content { max-width: 560px; margin: 0 auto; padding: 24px 40px 80px; }
h1#title { font-size: 28px; line-height: 1.3; margin: 8px 0 24px; }
#content img, #content video { max-width: 100%; height: auto; }
#content pre { white-space: pre-wrap; background: #f1f3f4; padding: 8px; font-size: 15px; }
#content a { color: #1a73e8; }
"""


def reader_view_html(title: str, article_html: str, base_url: str) -> str:
    """A reader view like Chrome's: one column, the title, then the article. `<base>` keeps images working;
    the ids (#main-content, #title, #content) match Chrome's viewer so one reader script fits both."""
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<base href='{html.escape(base_url, quote=True)}'>"
        f"<title>{html.escape(title)} - Reading Mode</title><style>{READER_CSS}</style></head>"
        f"<body><div id='main-content'><h1 id='title'>{html.escape(title)}</h1>"
        f"<div id='content'>{article_html}</div></div></body></html>"
    )
