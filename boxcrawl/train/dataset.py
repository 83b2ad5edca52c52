"""Labelled CSVs as `features-csv` (the original pipeline's write_features_csv.py) writes them.

The header is `good` followed by feature names: all 48 derived features for the main file, or just the 22
v1 columns for `<base>-group-v1.csv`. Every value is a float (`1.0`/`0.0` for booleans and labels). Only
the v1 columns are read, in Chrome's order (the order a model's `feature_number` indexes), whatever the
file's column order: the derived list has mozScoreAllLinear before mozScoreAllSqrt, Chrome the reverse.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .model import V1_FEATURES


class DatasetError(ValueError):
    """A CSV that cannot be trained on; one line for the user."""


@dataclass(frozen=True)
class LabelledSet:
    X: np.ndarray  # (n, 22) float64, columns in V1_FEATURES order
    y: np.ndarray  # (n,) int, 1 = positive (good / long article), 0 = negative
    source: Path

    @property
    def counts(self) -> tuple[int, int]:
        return int((self.y == 1).sum()), int((self.y == 0).sum())


def read_labelled_csv(path: str | Path, features: tuple[str, ...] = V1_FEATURES) -> LabelledSet:
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    if not rows:
        raise DatasetError(f"{path} is empty")
    header = [h.strip() for h in rows[0]]
    missing = [name for name in ("good", *features) if name not in header]
    if missing:
        raise DatasetError(
            f"{path} lacks column(s) {', '.join(missing)}; expected the header of "
            "`boxcrawl features-csv` output (good + derived features, or the v1 group)"
        )
    label_col = header.index("good")
    cols = [header.index(name) for name in features]
    X, y = [], []
    for line, row in enumerate(rows[1:], start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise DatasetError(f"{path}:{line}: {len(row)} values for {len(header)} columns")
        try:
            values = [float(row[c]) for c in cols]
            label = float(row[label_col])
        except ValueError as exc:
            raise DatasetError(f"{path}:{line}: {exc}") from None
        if not all(math.isfinite(v) for v in values):
            raise DatasetError(f"{path}:{line}: a feature is not a finite number")
        if label not in (0.0, 1.0):
            raise DatasetError(f"{path}:{line}: label 'good' must be 0 or 1, got {row[label_col]}")
        X.append(values)
        y.append(int(label))
    if not X:
        raise DatasetError(f"{path} has a header but no rows")
    return LabelledSet(np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.int64), path)
