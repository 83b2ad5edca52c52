"""The one decision point: given every signal seen for a page, is it kept, and why.

The crawl, the Redis workers and the URL-list renderer go through `OptOut`: `site` before the
page is loaded (robots.txt rules and lines, the TDMRep file), `page` with the page's own headers
and `<meta>` tags. What each `--opt-out` level honours is `LEVELS`; README's table says the same.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .signals import (
    AI_ROBOTS,
    CONTENT_SIGNAL,
    CONTENT_USAGE,
    NOAI,
    NOINDEX,
    ROBOTS,
    TDM,
    Finding,
    TdmRule,
    content_usage_finding,
    robots_directives,
    tdm_findings,
)

STANDARD = "standard"
LEVELS: dict[str, frozenset[str]] = {
    "robots-only": frozenset({ROBOTS}),
    STANDARD: frozenset({ROBOTS, NOAI, TDM, CONTENT_SIGNAL, CONTENT_USAGE}),
    "strict": frozenset({ROBOTS, NOAI, TDM, CONTENT_SIGNAL, CONTENT_USAGE, NOINDEX, AI_ROBOTS}),
}
ALLOWED = "allowed"
REFUSED = "refused: "
NOT_JUDGED = "not judged"  # the page failed before its own signals were read


@dataclass(frozen=True)
class OptOutConfig:
    level: str = STANDARD
    token: str = "boxcrawl"  # robots.txt group, `<meta name=TOKEN>`, `TOKEN:` in X-Robots-Tag, the UA
    respect_ai_robots: bool = False  # also honour robots.txt rules for AI-training crawlers
    ignore_robots: bool = False  # do not obey robots.txt Allow/Disallow (recorded on every page)

    @property
    def honoured(self) -> frozenset[str]:
        kinds = set(LEVELS[self.level])
        if self.respect_ai_robots:
            kinds.add(AI_ROBOTS)
        if self.ignore_robots:
            kinds.discard(ROBOTS)
        return frozenset(kinds)

    @property
    def reads_site_files(self) -> bool:
        """Whether robots.txt or the TDMRep file can matter (not when only page headers and <meta> do)."""
        return bool(self.honoured - {NOAI, NOINDEX})

    @property
    def wants_ai_robots(self) -> bool:
        return AI_ROBOTS in self.honoured

    def describe(self) -> str:
        """How pages were judged, as recorded with every page and sample."""
        extra = [
            f for f, on in (("ai-robots", self.respect_ai_robots), ("robots.txt ignored", self.ignore_robots)) if on
        ]
        return self.level + "".join(f" + {e}" for e in extra)


def with_token(user_agent: str, token: str) -> str:
    """The User-Agent with ``token/version`` appended, unless the token is in it already."""
    if token.lower() in user_agent.lower():
        return user_agent
    from .. import __version__

    return f"{user_agent} {token}/{__version__}"


@dataclass
class Verdict:
    """Every signal seen for one page, and whether it is kept."""

    findings: list[Finding] = field(default_factory=list)
    refused_by: Finding | None = None

    @property
    def allowed(self) -> bool:
        return self.refused_by is None

    @property
    def text(self) -> str:
        return ALLOWED if self.refused_by is None else f"{REFUSED}{self.refused_by}"

    @property
    def signals(self) -> list[str]:
        return [str(f) for f in self.findings]


def decide(findings: list[Finding], cfg: OptOutConfig) -> Verdict:
    """Refused by the first finding that reserves and that the level honours."""
    honoured = cfg.honoured
    refused = next((f for f in findings if f.reserves and f.kind in honoured), None)
    notes = [Finding("boxcrawl", "robots.txt ignored (--ignore-robots)")] if cfg.ignore_robots else []
    return Verdict(notes + findings, refused)


@dataclass
class PageCheck:
    """The decision for one page, given what its site said (robots.txt, the TDMRep rule for its
    path) and, once it is loaded, its own response headers and `<meta>` tags."""

    cfg: OptOutConfig
    site: list[Finding] = field(default_factory=list)
    tdm_rule: TdmRule | None = None

    def judge(self, headers: dict[str, str], metas: list[tuple[str, str]]) -> Verdict:
        token = self.cfg.token.lower()
        meta: dict[str, list[str]] = {}
        for name, content in metas:
            meta.setdefault(name.strip().lower(), []).append(content)
        found = list(self.site)
        found += robots_directives("x-robots-tag", _values(headers.get("x-robots-tag")), token)
        found += robots_directives("meta robots", meta.get("robots", []), token)
        if token != "robots":
            found += robots_directives(f"meta {token}", meta.get(token, []), token)
        if headers.get("content-usage"):
            found.append(content_usage_finding("content-usage header", headers["content-usage"]))
        found += tdm_findings(
            headers.get("tdm-reservation"),
            next(iter(meta.get("tdm-reservation", [])), None),
            self.tdm_rule,
            headers.get("tdm-policy") or next(iter(meta.get("tdm-policy", [])), None),
        )
        return decide(found, self.cfg)


def _values(header: str | None) -> list[str]:
    """A header's values (Playwright joins repeated headers with newlines)."""
    return [v for v in (header or "").split("\n") if v.strip()]


def refused_by(verdicts: Iterable[str | None]) -> dict[str, int]:
    """Pages refused per signal source ("x-robots-tag", "tdmrep.json", ...), from page verdicts."""
    counts: dict[str, int] = {}
    for verdict in verdicts:
        if verdict and verdict.startswith(REFUSED):
            source = verdict.removeprefix(REFUSED).split(": ")[0]
            counts[source] = counts.get(source, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
