"""Run configuration: one frozen dataclass per stage, built once by the CLI and saved as DIR/config.json."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .frontier.base import DEFAULT_LEASE_SECONDS
from .optout.policy import OptOutConfig

if TYPE_CHECKING:
    from .egress.upstream import Upstream
    from .frontier.urls import FollowRules

REDACTED = "<redacted>"  # what config.json and the card show for a secret
VISIBILITY_METHODS = ("combined", "heuristic", "occlusion", "pixel", "none")  # the first is the default


@dataclass(frozen=True)
class BrowserConfig:
    chromium: str | None = None  # executable; None = BOXCRAWL_CHROMIUM or the system Chromium
    tabs: int = 2  # pages rendered at once
    viewport_width: int = 512  # the original project's width: most text columns then fit one crop
    viewport_height: int = 512
    max_page_height: int = 1_048_576  # measure and capture at most this much of a page (CSS px)
    scale: float = 1.0  # device scale factor of captures
    page_timeout: float = 30.0  # hard deadline for everything done to one page (s)
    load_timeout: float = 15.0  # wait for the load event at most this long, then use what rendered
    settle: float = 0.1  # after load, wait until the page is this quiet (s): no DOM change, no request
    settle_max: float = 2.0  # ... but at most this long (s); then it is frozen as it is
    allow_hosts: tuple[str, ...] = ()  # when set, the browser reaches only these hosts
    user_agent: str | None = None  # None: Chromium's own; the agent token is appended either way
    headers: tuple[tuple[str, str], ...] = ()  # extra request headers of every page (--header)
    proxy: Upstream | None = None  # every connection, tunnelled to the address the guard approved (--proxy)
    cookies: tuple[dict[str, Any], ...] = ()  # cookies every page starts with (--cookies FILE), Playwright's form
    agent_token: str = "boxcrawl"  # robots.txt group and opt-out <meta> name the crawl answers to
    pages_per_browser: int = 500  # relaunch Chromium after this many pages (memory stays flat)
    visibility: str = "combined"  # none | heuristic | occlusion | pixel | combined (see browser/js/visibility.js)
    ink_boxes: bool = False  # tighten every visible token's boxes to its painted pixels


@dataclass(frozen=True)
class SelectConfig:
    max_width: int = 512  # crop size limits, page CSS px
    max_height: int = 256
    min_height: int = 100
    min_tokens: int = 50  # visible tokens fully inside a crop
    max_crops: int = 16  # per page; 0 = no limit
    max_overlap: float = 0.1  # of the smaller crop's area
    ink_check: bool = True  # check every token of a crop against the crop's pixels


@dataclass(frozen=True)
class WriteConfig:
    image_format: str = "png"  # png | jpeg | webp
    seed_layout: bool = False  # also write img/<key>.png + csv/<key>.csv
    parquet_images: bool = False  # also store the images in samples/*.parquet
    shard_samples: int = 1000  # close a shard after this many samples ...
    shard_pages: int = 200  # ... or this many pages ...
    shard_seconds: float = 60.0  # ... or this much time, whichever comes first


@dataclass(frozen=True)
class PolitenessConfig:
    host_concurrency: int = 2  # pages of one host rendered at once, across all workers
    host_delay: float = 1.0  # seconds between page starts on one host (robots Crawl-delay may raise it)
    robots: bool = True  # obey robots.txt
    backoff: float = 30.0  # pause a host this long after 429/503 without Retry-After (doubles)


@dataclass(frozen=True)
class CrawlConfig:
    out: str = "out"
    scope: str = "host"  # host | domain | prefix | any
    max_depth: int | None = None  # links followed at most this many hops from a seed (None: any)
    include: tuple[str, ...] = ()  # regexes: follow only links matching one of them (when any are given)
    exclude: tuple[str, ...] = ()  # regexes: never follow links matching one of them
    max_pages: int = 0  # 0 = no limit
    max_attempts: int = 3  # transient failures are retried up to this many times
    retry_delay: float = 5.0  # first retry after this many seconds, doubling each time
    follow_links: bool = True
    tokenizer: str | None = None
    frontier: str = "sqlite"  # sqlite (DIR/frontier.sqlite) or redis://... (shared by workers)
    worker_id: str | None = None  # names this worker's shards; default host-pid
    lease_seconds: float = DEFAULT_LEASE_SECONDS  # the last resort: heartbeats find dead workers sooner
    time_limit: float = 0.0  # stop gracefully after this many seconds (0 = none)
    politeness: PolitenessConfig = field(default_factory=PolitenessConfig)
    browser: BrowserConfig = field(default_factory=BrowserConfig)
    select: SelectConfig = field(default_factory=SelectConfig)
    write: WriteConfig = field(default_factory=WriteConfig)
    command: tuple[str, ...] = ()  # the command line that made this crawl, passwords redacted
    opt_out: str = "standard"  # robots-only | standard | strict (optout.policy.LEVELS)
    respect_ai_robots: bool = False  # also refuse pages robots.txt closes to AI-training crawlers
    lang: tuple[str, ...] = ()  # --lang: keep only pages in these ISO 639-1 languages (boxcrawl/lang.py); () = all

    @property
    def opt_out_config(self) -> OptOutConfig:
        """How this crawl judges opt-out signals (one object the crawl, render and workers share)."""
        return OptOutConfig(
            level=self.opt_out,
            token=self.browser.agent_token,
            respect_ai_robots=self.respect_ai_robots,
            ignore_robots=not self.politeness.robots,
        )

    @property
    def follow_rules(self) -> FollowRules:
        from .frontier.urls import FollowRules  # URL libraries: not loaded to build the command line

        return FollowRules(self.max_depth, self.include, self.exclude)

    @property
    def follow_settings(self) -> dict[str, Any]:
        """What workers on a shared frontier adopt from the crawl, besides scope and page limit."""
        return {
            "max_depth": self.max_depth,
            "include": list(self.include),
            "exclude": list(self.exclude),
            "lang": list(self.lang),  # which pages become samples: one answer for every worker
        }

    def with_opt_out(self, optout: OptOutConfig) -> CrawlConfig:
        """This config judging pages as ``optout`` says (the inverse of ``opt_out_config``)."""
        return dataclasses.replace(
            self,
            opt_out=optout.level,
            respect_ai_robots=optout.respect_ai_robots,
            politeness=dataclasses.replace(self.politeness, robots=not optout.ignore_robots),
            browser=dataclasses.replace(self.browser, agent_token=optout.token),
        )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
