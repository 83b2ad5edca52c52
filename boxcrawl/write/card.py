"""DIR/README.md: the dataset card, in the Hugging Face Hub's form, so a dataset folder can be
pushed to the Hub as it is and ``datasets.load_dataset(DIR)`` reads it with its real types.

The YAML header gives the configs (samples, pages) with their files and features; the body says
what was crawled, when, how, under which robots and opt-out policy, with the counts, the visible
share, the ink share from the audit and a few samples drawn with their boxes. Everything a page
controls (URLs, hosts) is written as inert code spans: the card is rendered as Markdown.
"""

from __future__ import annotations

import io
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyarrow.compute as pc
import pyarrow.dataset as pads
import yaml
from PIL import ImageDraw

from .. import __version__
from ..audit.report import audit
from ..optout.policy import refused_by
from ..records import KEPT_OUTCOMES, NOT_FAILED, Outcome
from .markers import committed
from .reader import parquet_files, read_shard
from .schema import PAGES_SCHEMA, hub_features, samples_schema, webdataset_columns
from .store import Store

CARD = "README.md"
PICTURES = "card"  # DIR/card/<key>.png: the samples shown in the card
N_PICTURES = 3
AUDITED = 5000  # at most about this many samples are checked against their pixels for the card


@dataclass
class CardFigures:
    """What the card states, computed from the committed files (the same as `status` counts)."""

    pages: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    samples: int = 0
    sample_tokens: int = 0
    page_tokens: int = 0
    visible_tokens: int = 0
    ink_share: float | None = None
    audited_samples: int = 0
    sample_bytes: int = 0  # on disk: the files a loader reads for the samples ...
    page_bytes: int = 0  # ... and for the pages
    first_fetch: str | None = None
    last_fetch: str | None = None
    hosts: dict[str, int] = field(default_factory=dict)
    refused_by: dict[str, int] = field(default_factory=dict)  # pages refused per opt-out signal

    @property
    def ok(self) -> int:
        return sum(n for outcome, n in self.outcomes.items() if outcome in KEPT_OUTCOMES)  # as `status` counts

    @property
    def skipped(self) -> int:
        return self.outcomes.get(Outcome.SKIPPED.value, 0)

    @property
    def failed(self) -> int:
        return sum(n for outcome, n in self.outcomes.items() if outcome not in NOT_FAILED)

    @property
    def visible_share(self) -> float | None:
        return self.visible_tokens / self.page_tokens if self.page_tokens else None


def figures(root: str | Path, images: bool = False) -> CardFigures:
    f = CardFigures()
    store = Store(root)
    page_files, fs = parquet_files(store, "pages")
    sample_files, _ = parquet_files(store, "samples")
    f.sample_bytes = sum(store.size(rel) for rel in committed(store, "samples", "parquet")) if images else 0
    f.sample_bytes = f.sample_bytes or sum(store.size(rel) for rel in committed(store, "wds", "tar"))
    f.page_bytes = sum(store.size(rel) for rel in committed(store, "pages", "parquet"))
    if page_files:
        table = pads.dataset(page_files, format="parquet", filesystem=fs)
        pages = table.to_table(
            columns=["url", "outcome", "fetched_at", "n_tokens", "n_visible"]
            + (["verdict"] if "verdict" in table.schema.names else [])
        )
        if "verdict" in pages.column_names:
            f.refused_by = refused_by(pages["verdict"].to_pylist())
        f.pages = pages.num_rows
        f.outcomes = dict(sorted(Counter(pages["outcome"].to_pylist()).items()))
        f.page_tokens = int(pc.sum(pages["n_tokens"]).as_py() or 0)
        f.visible_tokens = int(pc.sum(pages["n_visible"]).as_py() or 0)
        times = [t for t in pages["fetched_at"].to_pylist() if t]
        f.first_fetch, f.last_fetch = (min(times), max(times)) if times else (None, None)
        f.hosts = dict(Counter(urlsplit(u).netloc for u in pages["url"].to_pylist()).most_common())
    if sample_files:
        samples = pads.dataset(sample_files, format="parquet", filesystem=fs).to_table(columns=["n_tokens"])
        f.samples = samples.num_rows
        f.sample_tokens = int(pc.sum(samples["n_tokens"]).as_py() or 0)
    if f.samples:
        report = audit(root, every=max(1, math.ceil(f.samples / AUDITED)))
        f.ink_share, f.audited_samples = report.ink_share, report.samples
    return f


def write_card(root: str | Path) -> Path | str:
    """Write (or rewrite) DIR/README.md and the pictures it shows, from what DIR (a folder or a URL) holds
    now; returns where the card is."""
    store = Store(root)
    config = _config(store)
    images = bool(config.get("write", {}).get("parquet_images"))
    fig = figures(root, images)
    pictures = _pictures(store)
    text = "---\n" + yaml.safe_dump(_header(config, fig, images), sort_keys=False, allow_unicode=True) + "---\n"
    text += _body(config, fig, images, pictures)
    store.write_bytes(CARD, text.encode("utf-8"))
    return Path(store.location(CARD)) if store.is_local else store.location(CARD)


def _config(store: Store) -> dict[str, Any]:
    """config.json, or with a shared frontier the first worker's config-<id>.json."""
    workers = [n for n in store.names("") if n.startswith("config-") and n.endswith(".json")]
    for rel in ["config.json", *workers]:
        try:
            loaded = store.read_json(rel)
        except (OSError, ValueError):
            continue
        if isinstance(loaded, dict):
            return loaded
    return {}


def _size_category(n: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < limit:
            return name
    return "1M<n<10M" if n < 10_000_000 else "10M<n<100M"


def _header(config: dict[str, Any], fig: CardFigures, images: bool) -> dict[str, Any]:
    sample_files = "samples/*.parquet" if images else "wds/*.tar"
    if images:
        sample_features = hub_features(samples_schema(images=True), ["image"])
    else:
        ext = config.get("write", {}).get("image_format", "png")
        sample_features = hub_features(webdataset_columns(ext), [ext])
    # `datasets` reads every config of a folder with one builder, so the pages table is a config
    # only when the samples are Parquet too; otherwise the body says how to load it
    configs = [{"config_name": "samples", "data_files": [{"split": "train", "path": sample_files}], "default": True}]
    info = [{"config_name": "samples", "features": sample_features, "splits": [_split(fig.samples, fig.sample_bytes)]}]
    if images:
        configs.append({"config_name": "pages", "data_files": [{"split": "train", "path": "pages/*.parquet"}]})
        info.append(
            {
                "config_name": "pages",
                "features": hub_features(PAGES_SCHEMA),
                "splits": [_split(fig.pages, fig.page_bytes)],
            }
        )
    return {
        "pretty_name": _title(config, fig),
        "license": "other",
        "license_details": "The pages belong to their authors; see each site's terms before use.",
        "task_categories": ["image-to-text"],
        "tags": ["boxcrawl", "ocr", "document-layout", "web-pages", "bounding-boxes"],
        "size_categories": [_size_category(fig.samples)],
        "configs": configs,
        "dataset_info": info,
    }


def _split(examples: int, size: int) -> dict[str, Any]:
    return {"name": "train", "num_bytes": size, "num_examples": examples}


def _title(config: dict[str, Any], fig: CardFigures, markdown: bool = False) -> str:
    """The card's name; in ``markdown``, each host an inert code span (a host is the page's word)."""
    hosts = list(fig.hosts) or [urlsplit(s).netloc for s in config.get("seeds", [])]
    shown = ", ".join(_code(h) if markdown else h for h in hosts[:3])
    shown += f" and {len(hosts) - 3} more hosts" if len(hosts) > 3 else ""
    return f"boxcrawl screenshots of {shown or 'web pages'}"


def _code(value: object) -> str:
    """``value`` as an inline code span: Markdown and HTML inside stay text."""
    text = re.sub(r"[\x00-\x1f\x7f]", " ", str(value))
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _share(value: float | None) -> str:
    return f"{100 * value:.1f} %" if value is not None else "-"


def _body(config: dict[str, Any], fig: CardFigures, images: bool, pictures: list[str]) -> str:
    politeness, write = config.get("politeness", {}), config.get("write", {})
    browser = config.get("browser", {})
    seeds = config.get("seeds", [])
    follows = bool(config.get("follow_links", True))
    command = config.get("command") or []
    level = config.get("opt_out", "standard")
    token = browser.get("agent_token", "boxcrawl")
    robots = (
        f"robots.txt obeyed for the agent token {_code(token)}"
        if politeness.get("robots", True)
        else "robots.txt **ignored** (`--ignore-robots`; its usage lines still counted)"
    )
    ai = (
        ", and robots.txt rules for AI-training crawlers"
        if config.get("respect_ai_robots") or level == "strict"
        else ""
    )
    lines = [
        f"# {_title(config, fig, markdown=True)}",
        "",
        f"Screenshots of web pages rendered in headless Chromium, cut into crops of at most "
        f"{config.get('select', {}).get('max_width', '?')} x {config.get('select', {}).get('max_height', '?')} px, "
        f"with the box of every visible token in image pixels. Made with boxcrawl {__version__}; "
        f"this card was written {datetime.now(timezone.utc).isoformat(timespec='seconds')}.",
        "",
        "## What was crawled",
        "",
        f"- {'Seeds' if follows else 'URLs'}: {', '.join(_code(s) for s in seeds[:10]) or '-'}"
        + (f" and {len(seeds) - 10} more" if len(seeds) > 10 else ""),
        (
            f"- Links followed in scope {_code(config.get('scope', '-'))}, "
            f"max pages: {config.get('max_pages') or 'no limit'}"
            if follows
            else "- Only the URLs listed were rendered (`boxcrawl render`)"
        ),
        f"- Pages fetched between {_code(fig.first_fetch or '-')} and {_code(fig.last_fetch or '-')} (UTC)",
        "- Hosts: "
        + (", ".join(f"{_code(h)} ({n})" for h, n in list(fig.hosts.items())[:10]) or "-")
        + (f" and {len(fig.hosts) - 10} more" if len(fig.hosts) > 10 else ""),
        f"- Command: {_code(' '.join(command)) if command else '-'}",
        f"- Viewport {browser.get('viewport_width', '?')} x {browser.get('viewport_height', '?')} CSS px at scale "
        f"{browser.get('scale', '?')}, tokenizer {_code(config.get('tokenizer') or 'bert-base-uncased (bundled)')}, "
        f"visibility {_code(browser.get('visibility', '-'))}, images {_code(write.get('image_format', 'png'))}",
        f"- Opt-out policy: `--opt-out {level}`{ai}; {robots}. A refused page is kept as a record with its "
        "URL, status and reason only (outcome `refused`); every page lists the signals seen (`signals`) and its "
        "`verdict`, and every sample the verdict it was kept under.",
        *(
            [
                f"- Languages: `--lang {','.join(config['lang'])}`; a page in another language (or in none the rule "
                "could tell) is kept as a record only (outcome `skipped`, `lang_declared`, `lang_detected`)."
            ]
            if config.get("lang")
            else []
        ),
        "",
        "## Counts",
        "",
        "| | |",
        "|---|---|",
        f"| pages | {fig.pages} |",
        f"| pages ok | {fig.ok} |",
        *([f"| pages skipped (--lang) | {fig.skipped} |"] if fig.skipped else []),
        f"| pages failed | {fig.failed} |",
        f"| outcomes | {', '.join(f'{k} {v}' for k, v in fig.outcomes.items()) or '-'} |",
        f"| samples | {fig.samples} |",
        f"| tokens in samples | {fig.sample_tokens} |",
        f"| tokens on pages | {fig.page_tokens} |",
        f"| visible share (of page tokens) | {_share(fig.visible_share)} |",
        f"| ink share (`boxcrawl audit` of {fig.audited_samples} samples) | {_share(fig.ink_share)} |",
        "",
        "## Opt-out verdicts",
        "",
        *(
            ["| signal | pages refused |", "|---|---|", *(f"| {_code(k)} | {n} |" for k, n in fig.refused_by.items())]
            if fig.refused_by
            else ["No page was refused by an opt-out signal."]
        ),
        "",
        "## Loading",
        "",
        "```python",
        "import datasets",
        'samples = datasets.load_dataset("path/to/this/folder", split="train")',
        (
            'pages = datasets.load_dataset("path/to/this/folder", "pages", split="train")'
            if images
            else 'pages = datasets.load_dataset("parquet", data_files="path/to/this/folder/pages/*.parquet")'
        ),
        "",
        "import boxcrawl  # pip install boxcrawl",
        'ds = boxcrawl.open_dataset("path/to/this/folder")',
        "ds.to_hf()  # the samples, flat, with the image as an Image",
        "```",
        "",
        "The fields are described in boxcrawl's README (Output formats). "
        + (
            "`samples/*.parquet` holds the images too."
            if images
            else "The images are in the WebDataset shards `wds/*.tar`, each beside its `.json`."
        ),
        "",
    ]
    if pictures:
        lines += ["## Samples", "", "Each token's box drawn on its crop.", ""]
        lines += [f"![sample {key}]({PICTURES}/{key}.png)" for key in pictures]
        lines.append("")
    return "\n".join(lines)


def _pictures(store: Store) -> list[str]:
    """The first samples of the first pages, their token boxes drawn, as DIR/card/<key>.png."""
    shards = committed(store, "wds", "tar")
    if not shards:
        return []
    keys, pages = [], set()
    for sample in read_shard(store.location(shards[0]), decode=True):
        if sample["page_key"] in pages:
            continue
        pages.add(sample["page_key"])
        image = sample["image"].convert("RGB")
        draw = ImageDraw.Draw(image)
        for token in sample["tokens"]:
            for box in token["boxes"]:
                draw.rectangle([box[0], box[1], box[2], box[3]], outline=(220, 40, 40))
        png = io.BytesIO()
        image.save(png, format="PNG")
        store.write_bytes(f"{PICTURES}/{sample['key']}.png", png.getvalue())
        keys.append(sample["key"])
        if len(keys) == N_PICTURES:
            break
    return keys


__all__ = ["CARD", "CardFigures", "figures", "write_card"]
