"""One small PNG: ROC curves (ours cross-validated, Chrome's), reliability curve, feature importances."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display; must precede pyplot

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.metrics import roc_curve  # noqa: E402

from ..files import atomic_write_bytes  # noqa: E402


def write_plot(
    path: Path,
    title: str,
    y: np.ndarray,
    oof_margin: np.ndarray,
    folds: int,
    chrome_margin: np.ndarray | None,
    chrome_label: str,
    reliability: tuple[list[float], list[float]],
    importances: dict[str, float],
) -> Path:
    fig, (roc, cal, imp) = plt.subplots(1, 3, figsize=(12, 3.6), dpi=80, gridspec_kw={"width_ratios": [1, 1, 1.3]})
    fpr, tpr, _ = roc_curve(y, oof_margin)
    roc.plot(fpr, tpr, label=f"trained ({folds}-fold, out-of-fold)", color="#1f5fd1")
    if chrome_margin is not None:
        cfpr, ctpr, _ = roc_curve(y, chrome_margin)
        roc.plot(cfpr, ctpr, label=chrome_label, color="#d23a3a")
    roc.plot([0, 1], [0, 1], ls=":", color="#999")
    roc.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    roc.legend(loc="lower right", fontsize=8)

    predicted, observed = reliability
    cal.plot([0, 1], [0, 1], ls=":", color="#999")
    cal.plot(predicted, observed, marker="o", color="#2e9d4a")
    cal.set(
        xlabel="predicted probability (Platt, out-of-fold)",
        ylabel="observed positive rate",
        title="calibration",
        xlim=(0, 1),
        ylim=(0, 1),
    )

    top = [(k, v) for k, v in importances.items() if v > 0][:12][::-1]
    imp.barh([k for k, _ in top], [v for _, v in top], color="#1f5fd1")
    imp.set(xlabel="share of |stump weight|", title="feature importance")
    imp.tick_params(axis="y", labelsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    png = io.BytesIO()
    try:
        fig.savefig(png, format="png")
    finally:
        plt.close(fig)
    return atomic_write_bytes(path, png.getvalue())
