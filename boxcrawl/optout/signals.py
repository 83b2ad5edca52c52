"""The machine-readable ways a site says "do not use this for training", each parsed as its
standard writes it. Pure functions from text to findings: no network, no browser.

- robots.txt (RFC 9309, through protego) for the crawler's token, and the AI crawlers' tokens;
- `Content-Signal` lines in robots.txt (contentsignals.org: `ai-train=no`);
- `Content-Usage` lines in robots.txt and the `Content-Usage` header (IETF aipref: `train-ai=n`);
- `X-Robots-Tag` headers and `<meta name="robots">` / `<meta name="TOKEN">` (`noai`, `noimageai`,
  `noindex`, `none`);
- TDMRep (W3C community report, 2024): `tdm-reservation` / `tdm-policy` headers and `<meta>`, and
  `/.well-known/tdmrep.json` rules by path. `<meta>` wins over the header, which wins over the file.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from urllib.parse import urlsplit

from protego import Protego

# What a finding is about; policy.LEVELS says which kinds each --opt-out level honours.
ROBOTS = "robots"  # robots.txt disallows the URL for the crawler's token
AI_ROBOTS = "ai-robots"  # robots.txt disallows it for an AI-training crawler's token
NOAI = "noai"  # noai / noimageai in X-Robots-Tag or <meta>
NOINDEX = "noindex"  # noindex / none in X-Robots-Tag or <meta>
TDM = "tdm"  # a TDMRep reservation
CONTENT_SIGNAL = "content-signal"  # Content-Signal: ai-train=no
CONTENT_USAGE = "content-usage"  # Content-Usage: train-ai=n (or train-genai=n)
NOTE = "note"  # seen and recorded, reserves nothing (an allow, an overridden or malformed signal)


@dataclass(frozen=True)
class Finding:
    source: str  # where it was read: "robots.txt", "x-robots-tag", "meta robots", "tdmrep.json", ...
    detail: str  # what it said, short
    kind: str = NOTE
    reserves: bool = False  # True: under a level that honours `kind`, the page is refused

    def __str__(self) -> str:
        return f"{self.source}: {self.detail}"


def ai_crawler_tokens() -> tuple[str, list[str]]:
    """(the list's date, the user-agent tokens of crawlers that collect AI training data)."""
    text = (resources.files("boxcrawl.optout") / "data" / "ai-crawlers.txt").read_text(encoding="utf-8")
    date = re.search(r"as of (\d{4}-\d{2}-\d{2})", text)
    tokens = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return (date.group(1) if date else "unknown"), tokens


# -- robots.txt ----------------------------------------------------------------------------------
class RobotsFile:
    """One robots.txt, parsed once for the crawler's token: its rules (protego) and the
    Content-Signal / Content-Usage lines of the group that applies to the token."""

    def __init__(self, body: str, token: str):
        self.token = token
        self.rules = Protego.parse(body)
        self.lines = _group_lines(body, token)
        self.named = _named_agents(body)

    def findings(self, url: str, ai_tokens: list[str] | None = None) -> list[Finding]:
        """Allow/Disallow for the token (and each AI crawler token when given), and the usage lines."""
        token = self.token
        found = [
            Finding("robots.txt", f"allows {token}")
            if self.rules.can_fetch(url, token)
            else Finding("robots.txt", f"disallows it for {token}", ROBOTS, True)
        ]
        # only crawlers the file names: what `*` disallows is disallowed for the token already
        named = [t for t in ai_tokens or [] if t.lower() in self.named]
        blocked = [t for t in named if not self.rules.can_fetch(url, t)]
        if blocked:
            shown = ", ".join(blocked[:5]) + (f" and {len(blocked) - 5} more" if len(blocked) > 5 else "")
            found.append(Finding("robots.txt", f"disallows it for AI crawlers ({shown})", AI_ROBOTS, True))
        for value in self.lines.get("content-signal", []):
            found.append(content_signal_finding(value))
        usage = _usage_for_path(self.lines.get("content-usage", []), _path(url))
        if usage is not None:
            found.append(content_usage_finding("robots.txt content-usage", usage))
        return found

    def crawl_delay(self) -> float | None:
        delay = self.rules.crawl_delay(self.token)
        return float(delay) if delay is not None else None


def _group_lines(body: str, token: str) -> dict[str, list[str]]:
    """The non-standard lines (name -> values) of the robots.txt groups that apply to ``token``:
    the groups naming it, else the `*` groups (RFC 9309 group matching). Lines before any group
    apply to every agent."""
    groups: list[tuple[set[str], dict[str, list[str]]]] = []
    everyone: dict[str, list[str]] = {}
    agents: set[str] = set()
    lines: dict[str, list[str]] | None = None
    last_was_agent = False
    for raw in body.splitlines():
        line = raw.split("#", 1)[0].strip()
        if ":" not in line:
            continue
        name, value = (part.strip() for part in line.split(":", 1))
        name = name.lower()
        if name == "user-agent":
            if not last_was_agent:
                agents, lines = set(), {}
                groups.append((agents, lines))
            agents.add(value.lower())
            last_was_agent = True
            continue
        last_was_agent = False
        if name in ("content-signal", "content-usage"):
            (lines if lines is not None else everyone).setdefault(name, []).append(value)
    mine = [g for a, g in groups if token.lower() in a] or [g for a, g in groups if "*" in a]
    merged: dict[str, list[str]] = {k: list(v) for k, v in everyone.items()}
    for group in mine:
        for name, values in group.items():
            merged.setdefault(name, []).extend(values)
    return merged


def _named_agents(body: str) -> set[str]:
    """Every user-agent token that has a group of its own (lower case)."""
    named = set()
    for raw in body.splitlines():
        name, sep, value = raw.split("#", 1)[0].partition(":")
        if sep and name.strip().lower() == "user-agent":
            named.add(value.strip().lower())
    return named


def matches(pattern: str, path: str) -> bool:
    """Whether a robots.txt / TDMRep path pattern (`*` any run, a final `$` the end) matches the
    start of ``path``. Linear time: each literal piece is found in order, leftmost first, so a
    hostile pattern (`/*a*a*a*...`) cannot stall the crawl the way a backtracking regex would."""
    anchored = pattern.endswith("$")
    pieces = (pattern[:-1] if anchored else pattern).split("*")
    if not path.startswith(pieces[0]):
        return False
    at = len(pieces[0])
    if len(pieces) == 1:
        return not anchored or at == len(path)
    for piece in pieces[1:-1]:
        found = path.find(piece, at)
        if found < 0:
            return False
        at = found + len(piece)
    last = pieces[-1]
    if anchored:
        return path.endswith(last) and len(path) - len(last) >= at
    return path.find(last, at) >= 0


def _path(url: str) -> str:
    """What robots.txt and TDMRep patterns are matched against: the path and the query."""
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _usage_for_path(values: list[str], path: str) -> str | None:
    """The Content-Usage value for ``path``: a line with a path applies under that path (the
    longest match wins), a line without one to every path."""
    best, best_len = None, -1
    for value in values:
        first, _, rest = value.partition(" ")
        if first.startswith("/"):
            if matches(first, path) and len(first) > best_len:
                best, best_len = rest.strip(), len(first)
        elif best_len < 0:
            best, best_len = value, 0
    return best


# -- preference vocabularies ------------------------------------------------------------------
def _pairs(value: str) -> dict[str, str]:
    """`a=x, b=y` (a structured-field dictionary, or the Content-Signal list) as a dict."""
    out = {}
    for item in value.split(","):
        key, _, val = item.strip().partition("=")
        if key:
            out[key.strip().lower()] = val.split(";")[0].strip().strip('"').lower()
    return out


def content_signal_finding(value: str) -> Finding:
    prefs = _pairs(value)
    if prefs.get("ai-train") == "no":
        return Finding("robots.txt content-signal", "ai-train=no", CONTENT_SIGNAL, True)
    return Finding("robots.txt content-signal", value.strip()[:100] or "(empty)")


def content_usage_finding(source: str, value: str) -> Finding:
    prefs = _pairs(value)
    refused = [k for k in ("train-ai", "train-genai") if prefs.get(k) == "n"]
    if refused:
        return Finding(source, ", ".join(f"{k}=n" for k in refused), CONTENT_USAGE, True)
    return Finding(source, value.strip()[:100] or "(empty)")


_VALUED = {"max-snippet", "max-image-preview", "max-video-preview", "unavailable_after"}  # `name: value`


def robots_directives(source: str, values: list[str], token: str) -> list[Finding]:
    """X-Robots-Tag headers or robots <meta> contents: the directives for every agent and those
    after `TOKEN:` (in a header, `googlebot: noindex, nofollow` is all for googlebot, up to the
    next agent); other agents' directives are not ours."""
    words: set[str] = set()
    for value in values:
        agent = None  # directives here are for every agent until a `name:` prefix says otherwise
        for part in value.lower().split(","):
            part = part.strip()
            name, sep, rest = part.partition(":")
            if sep and name.strip() not in _VALUED and " " not in name.strip():
                agent, part = name.strip(), rest.strip()
            if agent in (None, token.lower()):
                words.update(part.split())
    found = []
    for word in sorted(words & {"noai", "noimageai"}):
        found.append(Finding(source, word, NOAI, True))
    for word in sorted(words & {"noindex", "none"}):
        found.append(Finding(source, word, NOINDEX, True))
    return found


# -- TDMRep ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TdmRule:
    location: str
    reservation: int
    policy: str | None


class Malformed(ValueError):
    """A signal file that does not follow its format (recorded, never fatal)."""


def parse_tdmrep(body: str) -> tuple[list[TdmRule], list[str]]:
    """/.well-known/tdmrep.json: a JSON array of {location, tdm-reservation, tdm-policy?}.
    (the rules, what was wrong with the others): a bad rule is skipped on its own, as TDMRep
    treats a bad value as unset; a file that is not a JSON array is Malformed."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:  # a hostile file may nest deeper than the parser goes
        raise Malformed(f"not JSON ({getattr(exc, 'msg', type(exc).__name__)})") from None
    if not isinstance(data, list):
        raise Malformed("not a JSON array of rules")
    rules, problems = [], []
    for n, rule in enumerate(data[:10_000], 1):
        location = rule.get("location") if isinstance(rule, dict) else None
        reservation = rule.get("tdm-reservation") if isinstance(rule, dict) else None
        if not isinstance(location, str):
            problems.append(f"rule {n} has no location")
        elif type(reservation) is not int or reservation not in (0, 1):  # not true, not 1.0, not "1"
            problems.append(f"rule {n} ({location[:50]}): tdm-reservation {str(reservation)[:20]!r} is neither 0 nor 1")
        else:
            policy = rule.get("tdm-policy")
            rules.append(TdmRule(location, reservation, policy if isinstance(policy, str) else None))
    return rules, problems


def tdm_file_rule(rules: list[TdmRule], url: str) -> TdmRule | None:
    """The first rule whose location matches the URL's path (TDMRep: rules are read in order)."""
    path = _path(url)
    for rule in rules:
        if matches(rule.location if rule.location.startswith("/") else "/" + rule.location, path):
            return rule
    return None


def tdm_findings(header: str | None, meta: str | None, rule: TdmRule | None, policy: str | None) -> list[Finding]:
    """The reservation in force, and every other declaration seen as a note. TDMRep's order:
    the page's <meta> over its response header over the file's rule; an invalid value is unset."""
    declared = [("meta tdm-reservation", meta), ("tdm-reservation header", header)]
    if rule is not None:
        declared.append(("tdmrep.json", str(rule.reservation)))
    seen = [(source, value.strip()) for source, value in declared if value is not None]
    effective = next((d for d in seen if d[1] in ("0", "1")), None)
    policy = policy or (rule.policy if rule else None)
    found = []
    for source, value in seen:
        if value not in ("0", "1"):
            found.append(Finding(source, f"tdm-reservation {value[:20]!r} is neither 0 nor 1 (ignored)"))
        elif (source, value) != effective:
            found.append(Finding(source, f"tdm-reservation {value} (overridden)"))
        elif value == "1":
            where = f" for {rule.location}" if source == "tdmrep.json" and rule else ""
            found.append(
                Finding(source, f"tdm-reservation 1{where}" + (f", policy {policy[:200]}" if policy else ""), TDM, True)
            )
        else:
            found.append(Finding(source, "tdm-reservation 0"))
    return found
