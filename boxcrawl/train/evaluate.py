"""Stratified cross-validation of the stump model, its calibration, and Chrome's shipped model on the same rows.

All figures are computed on Chrome-form models (`to_chrome_model`), i.e. on exactly what would be exported.
Calibration: a logistic map from margin to probability (Platt scaling), itself cross-validated on the
out-of-fold margins, so the reliability curve and Brier score describe unseen pages.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, brier_score_loss, f1_score, precision_score, recall_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from .fit import fit_adaboost, margins, to_chrome_model
from .model import AdaBoostModel


def metrics(y: np.ndarray, margin: np.ndarray) -> dict[str, float]:
    decided = (margin > 0).astype(int)
    out = {
        "accuracy": accuracy_score(y, decided),
        "precision": precision_score(y, decided, zero_division=0),
        "recall": recall_score(y, decided, zero_division=0),
        "f1": f1_score(y, decided, zero_division=0),
    }
    out["roc_auc"] = roc_auc_score(y, margin) if len(set(y.tolist())) == 2 else float("nan")
    return {k: float(v) for k, v in out.items()}


@dataclass
class CrossValidation:
    folds: int
    per_fold: list[dict[str, float]]
    pooled: dict[str, float]  # metrics of all out-of-fold margins together
    oof_margin: np.ndarray  # each row's margin from the model that did not see it
    calibrated: np.ndarray  # out-of-fold probability after Platt scaling
    brier: float
    ece: float
    reliability: tuple[list[float], list[float]]  # (mean predicted, observed fraction) per bin
    platt: dict[str, float] = field(default_factory=dict)  # fitted on all out-of-fold margins

    def summary(self) -> dict[str, dict[str, float]]:
        keys = self.per_fold[0].keys()
        return {
            k: {
                "mean": float(np.nanmean([f[k] for f in self.per_fold])),
                "std": float(np.nanstd([f[k] for f in self.per_fold])),
            }
            for k in keys
        }


def cross_validate(X: np.ndarray, y: np.ndarray, n_stumps: int, folds: int, seed: int) -> CrossValidation:
    smallest = int(min((y == 0).sum(), (y == 1).sum()))
    folds = max(2, min(folds, smallest))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    oof = np.zeros(len(y))
    per_fold = []
    for train, test in splitter.split(X, y):
        model = to_chrome_model(fit_adaboost(X[train], y[train], n_stumps, seed))
        oof[test] = margins(model, X[test])
        per_fold.append(metrics(y[test], oof[test]))
    m = oof.reshape(-1, 1)
    platt_cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed + 1)
    calibrated = cross_val_predict(LogisticRegression(C=1e4), m, y, cv=platt_cv, method="predict_proba")[:, 1]
    platt = LogisticRegression(C=1e4).fit(m, y)
    n_bins = max(2, min(10, len(y) // 20))
    observed, predicted = calibration_curve(y, calibrated, n_bins=n_bins, strategy="quantile")
    bins = np.clip((np.argsort(np.argsort(calibrated)) * n_bins) // len(y), 0, n_bins - 1)
    ece = float(
        sum(
            abs(calibrated[bins == b].mean() - y[bins == b].mean()) * (bins == b).mean()
            for b in range(n_bins)
            if (bins == b).any()
        )
    )
    return CrossValidation(
        folds,
        per_fold,
        metrics(y, oof),
        oof,
        calibrated,
        float(brier_score_loss(y, calibrated)),
        ece,
        (predicted.tolist(), observed.tolist()),
        {"a": float(platt.coef_[0][0]), "b": float(platt.intercept_[0])},
    )


def compare(y: np.ndarray, ours: np.ndarray, chrome_margin: np.ndarray) -> dict[str, float]:
    """Chrome's model scored against the labels, and how often it decides as ours does."""
    return {**metrics(y, chrome_margin), "agreement": float(np.mean((ours > 0) == (chrome_margin > 0)))}


def chrome_margins(model: AdaBoostModel, X: np.ndarray) -> np.ndarray:
    return margins(model, X)
