"""`boxcrawl show DIR`: one self-contained HTML page to look at a dataset.

Samples with every token box drawn and one token per sample masked in red (the
original project's figure), plus the numbers: pages ok/failed, samples, tokens,
visible share, and the failed pages with their errors. Samples that fail the ink
check (``boxcrawl audit``'s: more than 10 % of their tokens without ink under the
box) get an orange frame, and those tokens an orange dashed box.
"""

from __future__ import annotations

import base64
import hashlib
import html
from collections import Counter
from pathlib import Path

from ..audit.report import FAIL_SHARE
from ..inkcheck import Gray
from ..write.reader import open_dataset

MIME = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp"}

STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;background:#fafafa}
h1{font-size:20px;margin:0 0 8px} table{border-collapse:collapse;margin:8px 0 20px}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:left} th{background:#eee}
.grid{display:flex;flex-wrap:wrap;gap:16px} figure{margin:0;background:#fff;border:1px solid #ddd;padding:6px}
.crop{position:relative;display:inline-block;line-height:0} .crop svg{position:absolute;left:0;top:0}
figcaption{font-size:12px;max-width:512px;word-break:break-all;margin-top:4px}
.box{fill:none;stroke:#1565c0;stroke-width:1} .mask{fill:#e53935;stroke:#e53935}
.noink{fill:rgba(255,152,0,.25);stroke:#ef6c00;stroke-width:2;stroke-dasharray:3 2}
figure.fails{border:3px solid #ef6c00} .fails figcaption b.warn{color:#ef6c00}
"""


def masked_token(key: str, n: int) -> int:
    """The token to mask, fixed per sample so the gallery is the same every time."""
    return int(hashlib.sha1(key.encode()).hexdigest(), 16) % n if n else -1


def write_gallery(root: str | Path, out: str | Path | None = None, limit: int = 60) -> Path:
    ds = open_dataset(root)
    out = Path(out) if out else Path(root) / "gallery.html"
    outcomes, errors = Counter(), []
    n_pages = n_tokens = n_visible = 0
    for page in ds.pages(columns=["url", "outcome", "error", "n_tokens", "n_visible", "status"]):
        n_pages += 1
        outcomes[page["outcome"]] += 1
        n_tokens += page["n_tokens"] or 0
        n_visible += page["n_visible"] or 0
        if page["outcome"] not in ("ok", "no_text"):
            errors.append(page)
    figures, n_samples = [], 0
    for sample in ds.samples(decode=False):
        n_samples += 1
        if len(figures) < limit:
            figures.append(_figure(sample))
    ok = outcomes.get("ok", 0) + outcomes.get("no_text", 0)
    stats = [("pages", n_pages), ("pages ok", ok), ("pages failed", n_pages - ok),
             ("samples", n_samples), ("samples per ok page", f"{n_samples / ok:.2f}" if ok else "-"),
             ("tokens (all)", n_tokens),
             ("visible share", f"{100 * n_visible / n_tokens:.1f} %" if n_tokens else "-")]
    parts = [f"<!doctype html><meta charset=utf-8><title>boxcrawl: {html.escape(str(root))}</title>",
             f"<style>{STYLE}</style><h1>boxcrawl dataset: {html.escape(str(root))}</h1>",
             "<table>" + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in stats) + "</table>",
             "<table><tr><th>outcome</th><th>pages</th></tr>" + "".join(
                 f"<tr><td>{html.escape(k)}</td><td>{v}</td></tr>" for k, v in sorted(outcomes.items())) + "</table>"]
    parts.append(f"<h2>Samples (first {len(figures)} of {n_samples}; red = masked token)</h2>")
    parts.append('<div class="grid">' + "".join(figures) + "</div>")
    if errors:
        parts.append("<h2>Failed pages</h2><table><tr><th>url</th><th>outcome</th><th>error</th></tr>" + "".join(
            f"<tr><td>{html.escape(e['url'])}</td><td>{e['outcome']}</td><td>{html.escape(e['error'] or '')}</td></tr>"
            for e in errors[:500]) + "</table>")
    tmp = out.with_suffix(".html.tmp")
    tmp.write_text("".join(parts), encoding="utf-8")
    tmp.replace(out)
    return out


def _figure(sample: dict) -> str:
    w, h = sample["width"], sample["height"]
    fmt = sample.get("image_format", "png")
    data = base64.b64encode(sample["image"]).decode()
    mask = masked_token(sample["key"], len(sample["tokens"]))
    gray = Gray(sample["image"])
    no_ink = {i for i, token in enumerate(sample["tokens"]) if not gray.token_has_ink(token["boxes"])}
    fails = bool(sample["tokens"]) and len(no_ink) / len(sample["tokens"]) > FAIL_SHARE
    rects = []
    for i, token in enumerate(sample["tokens"]):
        for x0, y0, x1, y1 in token["boxes"]:
            cls = ("mask" if i == mask else "box") + (" noink" if i in no_ink else "")
            rects.append(f'<rect class="{cls}" x="{x0}" y="{y0}" width="{x1 - x0:.2f}" height="{y1 - y0:.2f}">'
                         f"<title>{html.escape(token['token'])} ({token['id']})</title></rect>")
    masked = sample["tokens"][mask]["token"] if mask >= 0 else ""
    warn = f' · <b class="warn">{len(no_ink)} without ink</b>' if no_ink else ""
    return (f'<figure{" class=fails" if fails else ""}><div class="crop"><img src="data:{MIME.get(fmt, "image/png")};base64,{data}" '
            f'width="{w}" height="{h}"><svg width="{w}" height="{h}" viewBox="0 0 {w} {h}">{"".join(rects)}</svg></div>'
            f"<figcaption>{html.escape(sample['key'])} · {len(sample['tokens'])} tokens · masked "
            f"<b>{html.escape(masked)}</b>{warn}<br>{html.escape(sample['url'])}</figcaption></figure>")
