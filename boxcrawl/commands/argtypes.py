"""argparse `type=` checkers shared by every subcommand, so a bad flag is one line, worded the same way."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..egress.upstream import Upstream


def whole_number(minimum: int = 0) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected a number >= {minimum}, got {text}")
        return value

    return parse


def number(
    minimum: float = 0.0, *, allow_minimum: bool = True, unit: str = "a number", maximum: float | None = None
) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {unit}, got {text!r}") from None
        if value < minimum or (value == minimum and not allow_minimum):
            bound = ">=" if allow_minimum else ">"
            raise argparse.ArgumentTypeError(f"expected {unit} {bound} {minimum:g}, got {text}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"expected {unit} <= {maximum:g}, got {text}")
        return value

    return parse


def size(minimum: int = 1, example: str = "512x512") -> Callable[[str], tuple[int, int]]:
    def parse(text: str) -> tuple[int, int]:
        try:
            w, h = (int(v) for v in text.lower().split("x"))
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT like {example}, got {text!r}") from None
        if w < minimum or h < minimum:
            raise argparse.ArgumentTypeError(f"expected at least {minimum}x{minimum}, got {text}")
        return w, h

    return parse


def host_list(text: str) -> tuple[str, ...]:
    return tuple(h.strip().lower() for h in text.split(",") if h.strip())


def product_token(text: str) -> str:
    """A robots.txt product token (RFC 9309: letters, `_` and `-`), as --agent-token takes it."""
    if not re.fullmatch(r"[A-Za-z_-]{1,64}", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a user-agent token (letters, '_' and '-' only)")
    return text


def language_codes(text: str) -> tuple[str, ...]:
    """`en,de`: ISO 639-1 codes (--lang)."""
    from ..lang import parse_codes

    try:
        return parse_codes(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def regex(text: str) -> str:
    """A regular expression (checked here, so a typo is a usage error, not a crash mid-crawl)."""
    try:
        re.compile(text)
    except re.error as exc:
        raise argparse.ArgumentTypeError(f"not a regular expression: {text!r} ({exc})") from None
    return text


# Headers the browser's own network stack sets (framing, connection, the host it connects to); Cookie
# has --cookies, which scopes cookies to their domains as a browser does.
NOT_SETTABLE = frozenset(
    "host content-length connection transfer-encoding upgrade keep-alive te trailer expect cookie".split()
)


def header(text: str) -> tuple[str, str]:
    """`NAME: VALUE`, as curl's -H takes it. Errors name the header, never its value (a credential)."""
    name, sep, value = text.partition(":")
    name = name.strip()
    if not sep or not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", name):
        raise argparse.ArgumentTypeError("expected 'NAME: VALUE': a header name, a colon, the value")
    if name.lower() in NOT_SETTABLE or name.lower().startswith("proxy-"):
        hint = "; use --cookies FILE" if name.lower() == "cookie" else ""
        raise argparse.ArgumentTypeError(f"{name} is set by the browser itself, not by --header{hint}")
    if any(c in value for c in "\r\n\0"):
        raise argparse.ArgumentTypeError(f"the value of {name} cannot hold a line break")
    return name, value.strip()


def proxy_url(text: str) -> Upstream:
    """`http://[USER:PASS@]HOST:PORT` or `socks5://...` (egress/upstream.py); the error never repeats a password."""
    from ..egress.upstream import parse

    try:
        return parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def cookies_file(path: str) -> tuple[dict[str, Any], ...]:
    """A Netscape cookies.txt, as Playwright's add_cookies takes cookies."""
    from http.cookiejar import LoadError, MozillaCookieJar

    jar = MozillaCookieJar(path)
    try:
        jar.load(ignore_discard=True, ignore_expires=True)
    except (OSError, LoadError) as exc:
        raise argparse.ArgumentTypeError(f"cannot read cookies from {path}: {exc}") from None
    return tuple(
        {
            "name": c.name,
            "value": c.value or "",
            "domain": c.domain,
            "path": c.path or "/",
            "expires": float(c.expires) if c.expires else -1,
            "secure": bool(c.secure),
            "httpOnly": c.has_nonstandard_attr("HTTPOnly") or c.has_nonstandard_attr("HttpOnly"),  # `#HttpOnly_` lines
        }
        for c in jar
    )
