"""Seeds from sitemaps (sitemaps.org): `crawl --sitemap URL` and `render --sitemap URL`.

A sitemap lists pages (`<urlset><url><loc>`); a sitemap index lists sitemaps (`<sitemapindex><sitemap><loc>`),
which are read in turn, up to MAX_SITEMAPS files. Files may be gzipped. Everything is fetched through the
network guard, with a deadline and a size limit, and parsed by expat, which expands no external entity and
limits entity expansion (a "billion laughs" file is an error, not a memory blow-up). A sitemap that cannot
be read is reported and the others still count.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from xml.etree import ElementTree

MAX_SITEMAPS = 100  # files read from one --sitemap, index included
MAX_BYTES = 50 << 20  # the protocol's limit for one (uncompressed) file
MAX_URLS = 1_000_000  # pages taken from one --sitemap


class SitemapError(ValueError):
    pass


def _xml(body: bytes) -> bytes:
    if body[:2] == b"\x1f\x8b":  # gzip, read up to the size limit
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        body = inflate.decompress(body, MAX_BYTES + 1)
        if len(body) > MAX_BYTES:
            raise SitemapError(f"larger than {MAX_BYTES >> 20} MB uncompressed")
    return body


def _locs(body: bytes) -> tuple[str, list[str]]:
    """(`urlset` or `sitemapindex`, the <loc> texts) of one file."""
    try:
        root = ElementTree.fromstring(_xml(body))
    except (ElementTree.ParseError, zlib.error) as exc:
        raise SitemapError(f"not a sitemap ({exc})") from None
    kind = root.tag.rsplit("}", 1)[-1]
    if kind not in ("urlset", "sitemapindex"):
        raise SitemapError(f"not a sitemap (root element <{kind}>)")
    locs = [el.text.strip() for el in root.iter() if el.tag.rsplit("}", 1)[-1] == "loc" and el.text]
    return kind, locs


def sitemap_urls(url: str, fetch: Callable[[str], bytes]) -> tuple[list[str], list[str]]:
    """The page URLs `url` lists (through any index), in order; and one line per file that could not be read."""
    pages: list[str] = []
    problems: list[str] = []
    todo: list[str] = [url]
    seen: set[str] = set()
    while todo and len(seen) < MAX_SITEMAPS and len(pages) < MAX_URLS:
        current = todo.pop(0)
        if current in seen:
            continue
        seen.add(current)
        try:
            kind, locs = _locs(fetch(current))
        except Exception as exc:  # noqa: BLE001 - FetchError, SitemapError, an XML bomb's error: one line each
            problems.append(f"sitemap {current}: {exc}")
            continue
        if kind == "sitemapindex":
            todo += locs
        else:
            pages += locs[: MAX_URLS - len(pages)]
    if todo:
        problems.append(f"sitemap {url}: more than {MAX_SITEMAPS} files or {MAX_URLS} pages; the rest not read")
    return list(dict.fromkeys(pages)), problems
