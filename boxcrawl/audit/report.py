"""Audit a dataset against its own pixels: the share of sample tokens with ink, the samples that
fail, and (for boxcrawl datasets) the hidden reasons and the ``offpage`` share of the pages.

Reads a boxcrawl dataset folder, any folder of WebDataset shards whose ``.json`` members carry
``tokens`` with a ``box`` (or ``boxes``) in image pixels, or the seed layout (``img/`` + ``csv/``);
and a boxcrawl dataset at a URL (s3://..., any fsspec URL).
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterator

from ..inkcheck import Gray
from ..locations import is_url, local_path
from ..write.markers import committed, committed_files
from ..write.reader import IMAGE_EXTS, parquet_files, read_shard
from ..write.store import Store, StoreUnavailable

FAIL_SHARE = 0.10  # a sample fails when more than this share of its tokens has no ink
BLANK_SHARE = 0.50  # ... and is counted blank above this share


class AuditError(Exception):
    """Nothing to audit at the given path."""


@dataclass
class SampleVerdict:
    key: str
    url: str
    tokens: int
    no_ink: int


@dataclass
class AuditReport:
    source: str
    samples: int = 0
    tokens: int = 0
    tokens_with_ink: int = 0
    failing: list[SampleVerdict] = field(default_factory=list)  # > FAIL_SHARE tokens without ink
    blank: int = 0
    pages: int | None = None  # the page-level figures need a boxcrawl pages table
    page_tokens: int | None = None
    hidden_reasons: dict[str, int] = field(default_factory=dict)
    removed_by_check: int | None = None  # tokens the pipeline's own check took out before writing

    @property
    def ink_share(self) -> float | None:
        return self.tokens_with_ink / self.tokens if self.tokens else None

    @property
    def offpage_share(self) -> float | None:
        return self.hidden_reasons.get("offpage", 0) / self.page_tokens if self.page_tokens else None

    def to_dict(self) -> dict:
        d = asdict(self)
        d["ink_share"] = self.ink_share
        d["offpage_share"] = self.offpage_share
        d["failing_samples"] = len(self.failing)
        return d


def _token_boxes(token: dict) -> list:
    boxes = token.get("boxes")
    return boxes if boxes else [token["box"]]


def _samples(root: Path) -> Iterator[dict]:
    """Samples as dicts with key, url, image (bytes) and tokens (with boxes), whatever the layout."""
    shards = committed_files(root, "wds", "tar") if (root / "wds").is_dir() else sorted(root.glob("*.tar"))
    if shards:
        for shard in shards:
            yield from read_shard(shard, decode=False)
        return
    if (root / "img").is_dir() and (root / "csv").is_dir():
        for table in sorted((root / "csv").glob("*.csv")):
            images = [root / "img" / f"{table.stem}.{ext}" for ext in IMAGE_EXTS]
            image = next((p for p in images if p.exists()), None)
            if image is None:
                continue
            with table.open(newline="", encoding="utf-8") as f:
                rows = list(csv.DictReader(f))
            tokens = [
                {
                    "box": [
                        float(r["x"]),
                        float(r["y"]),
                        float(r["x"]) + float(r["width"]),
                        float(r["y"]) + float(r["height"]),
                    ]
                }
                for r in rows
            ]
            yield {
                "key": table.stem,
                "url": rows[0]["url"] if rows else "",
                "image": image.read_bytes(),
                "tokens": tokens,
            }
        return
    raise AuditError(f"no samples in {root} (expected wds/*.tar, *.tar, or img/ + csv/)")


def _stored_samples(store: Store) -> Iterator[dict]:
    """The samples of a boxcrawl dataset in object storage (its WebDataset shards)."""
    shards = committed(store, "wds", "tar")
    if not shards:
        raise AuditError(f"no samples in {store.shown} (expected wds/*.tar)")
    for rel in shards:
        yield from read_shard(store.location(rel), decode=False)


def audit(root: str | Path, every: int = 1) -> AuditReport:
    """The audit of every ``every``-th sample (all by default)."""
    samples: Iterator[dict]
    if is_url(root):
        try:
            store = Store(root)
        except StoreUnavailable as exc:
            raise AuditError(str(exc)) from None
        if not store.is_dir():
            raise AuditError(f"no dataset at {store.shown}")
        report, samples = AuditReport(source=store.shown), _stored_samples(store)
    else:
        root = local_path(root)
        if not root.is_dir():
            raise AuditError(f"no dataset at {root}")
        report, samples, store = AuditReport(source=str(root)), _samples(root), Store(root)
    for n, sample in enumerate(samples):
        if n % every:
            continue
        gray = Gray(sample["image"])
        tokens = sample.get("tokens") or []
        missing = sum(not gray.token_has_ink(_token_boxes(t)) for t in tokens)
        report.samples += 1
        report.tokens += len(tokens)
        report.tokens_with_ink += len(tokens) - missing
        if tokens and missing / len(tokens) > FAIL_SHARE:
            report.failing.append(SampleVerdict(sample.get("key", "?"), sample.get("url", ""), len(tokens), missing))
        if tokens and missing / len(tokens) > BLANK_SHARE:
            report.blank += 1
    _page_figures(store, report)
    return report


def _page_figures(store: Store, report: AuditReport) -> None:
    files, fs = parquet_files(store, "pages")
    if not files:
        return
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    pages = ds.dataset(files, format="parquet", filesystem=fs)
    table = pages.to_table(columns=["tokens", *(["n_no_ink"] if "n_no_ink" in pages.schema.names else [])])
    reasons = pc.list_flatten(table["tokens"]).combine_chunks().field("hidden_reason")
    counts = pc.value_counts(reasons.fill_null("")).to_pylist()
    report.pages = table.num_rows
    report.page_tokens = len(reasons)
    report.hidden_reasons = {c["values"]: c["counts"] for c in counts if c["values"]}
    if "n_no_ink" in table.column_names:
        report.removed_by_check = int(pc.sum(table["n_no_ink"]).as_py() or 0)
