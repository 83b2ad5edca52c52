"""URL lists, as every command reads them (`render --urls-file`, `crawl --seeds-file`, `distill --urls-file`,
and URLs given as arguments): one URL per line, blank lines and `# comments` skipped, a comment after a URL
too (`#` after whitespace; a `#` inside a URL is its fragment). A line that is not an http(s) URL, or repeats
an earlier one, is skipped with a warning that names the file and line; the rest of the list goes on.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .frontier.urls import BadURL, normalize
from .lists.location import Location, Unreadable, read_bytes
from .locations import shown

_TRAILING_COMMENT = re.compile(r"\s+#.*$")


class UrlListError(ValueError):
    """The list cannot be read at all (missing file, not UTF-8)."""


@dataclass(frozen=True)
class UrlLine:
    line: int  # 0-based line number in the file (the original distill pipeline's entry index)
    url: str
    source: str = "urls"  # the file, or "argument", for messages

    def where(self) -> str:
        return f"{self.source}:{self.line + 1}"


def url_problem(url: str) -> str | None:
    """Why `url` is not a URL boxcrawl can fetch (a message that names it), or None."""
    try:
        normalize(url)
    except BadURL as exc:
        return str(exc)
    if any(c.isspace() for c in url):
        return f"URL contains whitespace: {url[:200]!r}"
    return None


def read_url_lines(text: str, source: str = "urls") -> tuple[list[UrlLine], list[str]]:
    """The URLs of `text` with their line numbers, and why each other line was skipped (`SOURCE:LINE: why`)."""
    urls: list[UrlLine] = []
    warnings: list[str] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines()):
        line = _TRAILING_COMMENT.sub("", raw).strip()
        if not line or line.startswith("#"):
            continue
        where = f"{source}:{number + 1}"
        if problem := url_problem(line):
            warnings.append(f"{where}: {problem}")
            continue
        if line in seen:
            warnings.append(f"{where}: duplicate of line {seen[line] + 1}: {line[:200]!r}")
            continue
        seen[line] = number
        urls.append(UrlLine(number, line, source))
    return urls, warnings


def read_url_file(path: Location) -> tuple[list[UrlLine], list[str]]:
    """`read_url_lines` of a file (local, or an fsspec URL); UrlListError when it cannot be read."""
    try:
        text = read_bytes(path).decode("utf-8-sig")  # a byte-order mark is not part of the first URL
    except UnicodeDecodeError as exc:
        raise UrlListError(f"{shown(path)} is not UTF-8 text (byte {exc.start})") from None
    except Unreadable as exc:
        raise UrlListError(str(exc)) from None
    except OSError as exc:
        raise UrlListError(f"cannot read {shown(path)}: {exc.strerror or exc}") from None
    return read_url_lines(text, shown(path))


def read_urls(
    arguments: list[str],
    path: Location | None,
    read: Callable[[Location], tuple[list[UrlLine], list[str]]] = read_url_file,
) -> tuple[list[UrlLine], list[str]]:
    """URLs given as arguments, then those of the file (as `read` reads it: a text list, or a table, see
    boxcrawl/lists/); duplicates across both are skipped too."""
    lines, warnings = read_url_lines("\n".join(arguments), "argument")
    if path is not None:
        more, more_warnings = read(path)
        given = {u.url: u for u in lines}
        for u in more:
            if u.url in given:
                more_warnings.append(f"{u.where()}: duplicate of {given[u.url].where()}: {u.url[:200]!r}")
            else:
                lines.append(u)
        warnings += more_warnings
    return lines, warnings
