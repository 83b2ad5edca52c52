"""Options several commands share, each defined once: the browser, tokens and crops, output, and
the fleet and politeness group, and how they become a `CrawlConfig`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import (
    REDACTED,
    VISIBILITY_METHODS,
    BrowserConfig,
    CrawlConfig,
    PolitenessConfig,
    SelectConfig,
    WriteConfig,
)
from ..frontier.base import DEFAULT_LEASE_SECONDS
from ..locations import output_location
from ..optout.policy import LEVELS, STANDARD, OptOutConfig
from .argtypes import (
    cookies_file,
    header,
    host_list,
    language_codes,
    number,
    product_token,
    proxy_url,
    size,
    whole_number,
)
from .errors import CLIError

if TYPE_CHECKING:
    from ..lists.location import Location
    from ..urllist import UrlLine


def add_chromium(
    p: argparse.ArgumentParser | argparse._ArgumentGroup,
    help: str = "Chromium executable (default: $BOXCRAWL_CHROMIUM or the system one)",
) -> None:
    p.add_argument("--chromium", help=help)


def add_proxy(p: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    p.add_argument(
        "--proxy",
        type=proxy_url,
        metavar="URL",
        help="send all traffic through this proxy: http://[USER:PASS@]HOST:PORT (CONNECT) or socks5://...; "
        "the network guard still decides, and the proxy is asked for the approved address, never a name",
    )


def add_render_options(p: argparse.ArgumentParser, *, worker: bool = False) -> None:
    """What `render`, `crawl` and `worker` take to render a page into samples (a worker keeps the
    pages the crawl it joins keeps: it takes no --lang of its own)."""
    p.add_argument(
        "--out",
        required=True,
        type=output_location,
        help="output folder (created; reruns resume), or an fsspec URL (s3://bucket/prefix) with --shard-urls "
        "or a Redis frontier",
    )
    b = p.add_argument_group("browser")
    b.add_argument("--tabs", type=whole_number(1), default=2, help="pages rendered at once (default 2)")
    add_chromium(b)
    b.add_argument(
        "--allow-hosts",
        type=host_list,
        default=(),
        metavar="H,...",
        help="the browser reaches only these hosts; also allows loopback/private ones",
    )
    add_proxy(b)
    b.add_argument("--viewport", type=size(64), default=(512, 512), metavar="WxH", help="default 512x512")
    b.add_argument("--scale", type=number(0, allow_minimum=False), default=1.0, help="device scale factor (default 1)")
    b.add_argument(
        "--page-timeout",
        type=number(0, allow_minimum=False),
        default=30.0,
        help="hard per-page deadline, s (default 30)",
    )
    b.add_argument(
        "--load-timeout",
        type=number(0, allow_minimum=False),
        default=15.0,
        help="wait this long for the load event, then use what rendered (s, default 15)",
    )
    b.add_argument(
        "--max-page-height",
        type=whole_number(1),
        default=1_048_576,
        help="measure and capture at most this many CSS px of a page (default 1048576)",
    )
    b.add_argument(
        "--settle",
        type=number(0),
        default=0.1,
        metavar="S",
        help="after load, wait until the page has had no DOM change and no request "
        "in flight for this long, s (default 0.1)",
    )
    b.add_argument(
        "--settle-max",
        type=number(0),
        default=2.0,
        metavar="S",
        help="wait for that at most this long, then measure the page as it is (default 2)",
    )
    b.add_argument(
        "--user-agent", help="User-Agent header and navigator.userAgent (default Chromium's; + the agent token)"
    )
    repeatable(
        b,
        "--header",
        header,
        "'NAME: VALUE'",
        "an extra request header of every request to the page's own host (repeatable)",
        "headers",
    )
    b.add_argument(
        "--cookies",
        type=cookies_file,
        default=(),
        metavar="FILE",
        help="cookies every page starts with, from a Netscape cookies.txt (what curl, wget and browser "
        "extensions export)",
    )
    b.add_argument(
        "--visibility",
        choices=VISIBILITY_METHODS,
        default=VISIBILITY_METHODS[0],
        help="how to decide which tokens are visible (default combined; see README)",
    )
    b.add_argument(
        "--ink-boxes",
        action="store_true",
        help="tighten each visible token's boxes to its painted pixels (a second render)",
    )
    if not worker:
        add_lang(p)

    t = p.add_argument_group("tokens and crops")
    t.add_argument("--tokenizer", help="tokenizer.json, vocab.txt or hub name (default bert-base-uncased, bundled)")
    t.add_argument(
        "--crop-max", type=size(64), default=(512, 256), metavar="WxH", help="largest crop, image px (default 512x256)"
    )
    t.add_argument("--crop-min-height", type=whole_number(0), default=100, help="image px (default 100)")
    t.add_argument("--min-tokens", type=whole_number(0), default=50, help="visible tokens per crop (default 50)")
    t.add_argument("--max-crops", type=whole_number(0), default=16, help="per page, 0 = no limit (default 16)")
    t.add_argument(
        "--no-ink-check",
        dest="ink_check",
        action="store_false",
        help="keep tokens whose boxes show no ink in their crop's pixels (faster; see README; default: checked)",
    )
    o = p.add_argument_group("output")
    o.add_argument(
        "--image-format", choices=("png", "jpeg", "webp"), default="png", help="sample image files (default png)"
    )
    o.add_argument("--seed-layout", action="store_true", help="also write img/<key>.png + csv/<key>.csv")
    o.add_argument(
        "--parquet-images",
        action="store_true",
        help="also store each sample's image in samples/*.parquet (loads as an Image in Hugging Face datasets)",
    )
    o.add_argument("--shard-samples", type=whole_number(1), default=1000, help="samples per shard (default 1000)")
    o.add_argument("--shard-pages", type=whole_number(1), default=200, help="pages per shard (default 200)")
    o.add_argument(
        "--max-attempts", type=whole_number(1), default=3, help="tries per page on transient errors (default 3)"
    )
    o.add_argument(
        "--retry-delay",
        type=number(0, allow_minimum=False),
        default=5.0,
        help="first retry delay, s, doubling (default 5)",
    )
    o.add_argument("--quiet", action="store_true", help="no progress line")
    again = p.add_argument_group("when --out holds a dataset already (the same settings resume it)")
    again.add_argument("--force", action="store_true", help="delete it and start afresh")
    again.add_argument(
        "--resume-with-changes",
        action="store_true",
        help="go on with settings that differ from its own (config.json keeps the old ones in `history`)",
    )


def add_lang(p: argparse.ArgumentParser) -> None:
    p.add_argument_group("pages kept").add_argument(
        "--lang",
        type=language_codes,
        default=(),
        metavar="CODE,...",
        help="keep only pages in these languages (ISO 639-1, e.g. en,de): detected from the text, else "
        "<html lang>; the others are recorded as skipped (needs boxcrawl[lang]; see README)",
    )


def repeatable(
    p: argparse.ArgumentParser | argparse._ArgumentGroup,
    flag: str,
    kind: Callable[[str], Any],
    metavar: str,
    help: str,
    dest: str | None = None,
) -> None:
    """An option given any number of times, collected in a list (checked one by one by `kind`)."""
    p.add_argument(flag, action="append", type=kind, default=[], metavar=metavar, help=help, dest=dest)


def add_worker_identity(p: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    p.add_argument("--worker-id", help="names this worker's shards (default HOST-PID-xxxx)")
    p.add_argument(
        "--lease-seconds",
        type=number(0.5),
        default=DEFAULT_LEASE_SECONDS,
        help="a lease not extended this long goes back to the queue: the last resort for a "
        "worker that died without a heartbeat (default 120)",
    )


def add_fleet_options(p: argparse.ArgumentParser, *, frontier: bool, opt_out: bool = True) -> None:
    """``opt_out=False`` for `worker`: it judges pages by the crawl's opt-out settings, kept in Redis."""
    g = p.add_argument_group("fleet and politeness")
    if frontier:
        g.add_argument(
            "--frontier",
            default="sqlite",
            metavar="SPEC",
            help="sqlite (embedded in --out, default) or redis://[:PASSWORD@]HOST:PORT/DB "
            "(rediss:// for TLS) shared by many workers",
        )
        add_worker_identity(g)
    g.add_argument(
        "--time-limit", type=number(0), default=0.0, metavar="S", help="stop gracefully after S seconds (0 = no limit)"
    )
    g.add_argument(
        "--host-concurrency",
        type=whole_number(1),
        default=2,
        help="pages of one host at once, across all workers (default 2)",
    )
    g.add_argument(
        "--host-delay",
        type=number(0),
        default=1.0,
        metavar="S",
        help="seconds between page starts on one host (default 1; robots Crawl-delay may raise it)",
    )
    if opt_out:
        add_opt_out_options(p)


def add_opt_out_options(p: argparse.ArgumentParser) -> None:
    """The opt-out signals a crawl honours (optout.policy; README's "What boxcrawl honours")."""
    g = p.add_argument_group("opt-out signals")
    g.add_argument(
        "--opt-out",
        choices=tuple(LEVELS),
        default=STANDARD,
        help="which signals refuse a page: robots-only (robots.txt), standard (default: + noai, TDMRep, "
        "Content-Signal ai-train=no, Content-Usage train-ai=n), strict (+ noindex, AI crawlers' robots.txt rules)",
    )
    g.add_argument(
        "--respect-ai-robots",
        action="store_true",
        help="also refuse pages robots.txt closes to AI-training crawlers (GPTBot, CCBot, ...; on under strict)",
    )
    g.add_argument(
        "--agent-token",
        type=product_token,
        default="boxcrawl",
        metavar="TOKEN",
        help="the name robots.txt groups, <meta name=TOKEN> and 'TOKEN:' in X-Robots-Tag address; "
        "appended to the User-Agent sent (default boxcrawl)",
    )
    g.add_argument(
        "--ignore-robots",
        action="store_true",
        help="do not obey robots.txt Allow/Disallow and Crawl-delay (its usage lines and every other "
        "signal still count; recorded in config.json, the card and every page)",
    )


def crawl_config(args: argparse.Namespace, follow_links: bool) -> CrawlConfig:
    """The run's configuration from the options above."""
    from ..fleet.workers import sanitize

    return CrawlConfig(
        out=args.out,
        scope=getattr(args, "scope", "any"),
        max_pages=getattr(args, "max_pages", 0),
        max_depth=getattr(args, "max_depth", None),
        include=tuple(getattr(args, "include", ())),
        exclude=tuple(getattr(args, "exclude", ())),
        max_attempts=args.max_attempts,
        retry_delay=args.retry_delay,
        follow_links=follow_links,
        tokenizer=args.tokenizer,
        lang=getattr(args, "lang", ()),  # a worker takes the crawl's
        browser=BrowserConfig(
            chromium=args.chromium,
            tabs=args.tabs,
            viewport_width=args.viewport[0],
            viewport_height=args.viewport[1],
            max_page_height=max(args.max_page_height, args.viewport[1]),
            scale=args.scale,
            page_timeout=args.page_timeout,
            load_timeout=min(args.load_timeout, args.page_timeout),
            allow_hosts=args.allow_hosts,
            user_agent=args.user_agent,
            headers=tuple(args.headers),
            proxy=args.proxy,
            cookies=args.cookies,
            visibility=args.visibility,
            ink_boxes=args.ink_boxes,
            settle=args.settle,
            settle_max=args.settle_max,
        ),
        select=SelectConfig(
            max_width=args.crop_max[0],
            max_height=args.crop_max[1],
            min_height=min(args.crop_min_height, args.crop_max[1]),
            min_tokens=args.min_tokens,
            max_crops=args.max_crops,
            ink_check=args.ink_check,
        ),
        write=WriteConfig(
            image_format=args.image_format,
            seed_layout=args.seed_layout,
            parquet_images=args.parquet_images,
            shard_samples=args.shard_samples,
            shard_pages=args.shard_pages,
        ),
        frontier=getattr(args, "frontier", "sqlite"),
        worker_id=sanitize(args.worker_id) if getattr(args, "worker_id", None) else None,
        lease_seconds=getattr(args, "lease_seconds", DEFAULT_LEASE_SECONDS),
        time_limit=args.time_limit,
        politeness=PolitenessConfig(host_concurrency=args.host_concurrency, host_delay=args.host_delay),
        command=recorded_command(args),
    ).with_opt_out(opt_out_config(args))


def opt_out_config(args: argparse.Namespace) -> OptOutConfig:
    """The flags of `add_opt_out_options` as one object (crawl, render and distill; a worker has none)."""
    if not hasattr(args, "opt_out"):
        return OptOutConfig()
    return OptOutConfig(
        level=args.opt_out,
        token=args.agent_token,
        respect_ai_robots=args.respect_ai_robots,
        ignore_robots=args.ignore_robots,
    )


def recorded_command(args: argparse.Namespace) -> tuple[str, ...]:
    """The command line as config.json and the dataset card keep it: never a Redis password, a header value
    or the --proxy credentials."""
    from ..frontier.open import describe

    frontier = getattr(args, "frontier", None)
    words = ["boxcrawl"]
    after_header = after_proxy = False
    for word in getattr(args, "argv", []):
        if frontier and frontier in word:  # `URL` or `--frontier=URL`
            word = word.replace(frontier, describe(frontier))
        if after_header:  # a header's value may be a credential: its name is kept
            word = f"{word.partition(':')[0].strip()}: {REDACTED}"
        elif word.startswith("--header="):
            word = f"--header={word[len('--header=') :].partition(':')[0].strip()}: {REDACTED}"
        elif after_proxy:  # the proxy's address is kept, its user name and password are not
            word = _proxy_shown(word)
        elif word.startswith("--proxy="):
            word = "--proxy=" + _proxy_shown(word[len("--proxy=") :])
        after_header, after_proxy = word == "--header", word == "--proxy"
        words.append(word)
    return tuple(words)


def _proxy_shown(text: str) -> str:
    from ..egress.upstream import parse

    try:
        return parse(text).shown
    except ValueError:  # not what argparse accepted: nothing of it is kept
        return REDACTED


def url_list(
    arguments: list[str],
    path: Location | None,
    sitemaps: Sequence[str] = (),
    args: argparse.Namespace | None = None,
    urls_format: str | None = None,
    url_col: str = "url",
) -> list[UrlLine]:
    """URLs given as arguments, in a URL file and in sitemaps, through the one reader (boxcrawl/urllist.py);
    the lines skipped are warned about, and a list with nothing usable left is one error line. Sitemaps are
    fetched through the network guard of `args` (--allow-hosts), as the crawler's token."""
    from ..lists.read import ListError, list_format
    from ..lists.shards import UrlSource, table_lines
    from ..urllist import UrlListError, read_url_lines, read_urls

    def read_table(p: Location) -> tuple[list[UrlLine], list[str]]:
        return table_lines(UrlSource.open(p, urls_format, url_col, ()))

    is_table = path is not None and list_format(path, urls_format) != "text"
    try:
        lines, skipped = read_urls(arguments, path, read_table) if is_table else read_urls(arguments, path)
    except (UrlListError, ListError) as exc:
        raise CLIError(str(exc)) from None
    if sitemaps:
        from ..egress.fetch import fetch
        from ..egress.guard import NetworkGuard
        from ..frontier.sitemap import sitemap_urls

        guard = NetworkGuard(getattr(args, "allow_hosts", ()))
        agent = getattr(args, "agent_token", "boxcrawl")
        upstream = getattr(args, "proxy", None)
        given = {u.url for u in lines}
        for sitemap in sitemaps:
            found, problems = sitemap_urls(sitemap, lambda url: fetch(url, guard, agent, upstream=upstream))
            listed, listed_skipped = read_url_lines("\n".join(found), f"sitemap {sitemap}")
            lines += [u for u in listed if u.url not in given]
            given.update(u.url for u in listed)
            skipped += problems + listed_skipped
    report_skipped(skipped, left=len(lines))
    return lines


def report_skipped(problems: list[str], left: int) -> None:
    """One warning line per URL skipped (`FILE:LINE: why`); when none is left, one error line naming the first."""
    if not left:
        if not problems:
            raise CLIError("no URLs given")
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise CLIError(f"no URL left to fetch: {problems[0]}{more}")
    for problem in problems:
        print(f"warning: {problem} (skipped)", file=sys.stderr)


def refuse_non_folder(path: str | Path, flag: str = "--out") -> Path:
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise CLIError(f"{flag} {out}: exists and is not a directory")
    return out


def make_out_dir(path: str | Path, flag: str = "--out") -> Path:
    """The output folder, created if needed; one error line when it cannot be (a file there, no permission,
    a read-only or virtual file system) rather than a traceback from deep inside the first write."""
    out = refuse_non_folder(path, flag)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".boxcrawl-write-test"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise CLIError(f"{flag} {out}: cannot write there ({exc.strerror or exc})") from None
    return out
