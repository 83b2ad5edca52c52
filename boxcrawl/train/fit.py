"""Fitting AdaBoost stumps with scikit-learn and turning them into Chrome's model form.

scikit-learn's binary SAMME: decision(x) = sum_m a_m * s_m(x) / sum(a) * 2, with s_m = +1 when stump m
predicts the positive class, else -1; predict positive when decision > 0. A stump splits on
`x[f] <= t` (left) / `x[f] > t` (right).

Chrome: margin(x) = sum_m w_m * [x[f_m] > split_m] - sum(w) / 2; positive when margin > 0.

For a stump whose right leaf is positive, s = 2[x > t] - 1, so a*s = 2a[x > t] - a: Chrome weight w = 2a.
For a stump whose right leaf is negative, s = 1 - 2[x > t]: w = -2a. In both cases the constant term is
-w/2, which is exactly Chrome's threshold share. A stump that did not split (or whose two leaves agree)
predicts a constant c: it becomes a stump that never fires (split = the largest double) with w = -2a*c.
Summing: margin = sum a*s (up to the positive scale we pick), so the decisions are identical.
Weights are scaled so sum |w| = 1; then margin = decision / 4.

One caveat: scikit-learn's trees compare float32(x) with the (float64) split, Chrome compares the double x.
Splits are midpoints between two training values, so the two can differ only for a value within float32
rounding (~6e-8 relative) of a midpoint.
"""

from __future__ import annotations

import sys

import numpy as np
from sklearn.ensemble import AdaBoostClassifier
from sklearn.tree import DecisionTreeClassifier

from .model import V1_FEATURES, AdaBoostModel, Stump

NEVER = sys.float_info.max  # `x > NEVER` is false for every finite feature value


def fit_adaboost(X: np.ndarray, y: np.ndarray, n_stumps: int = 100, seed: int = 0) -> AdaBoostClassifier:
    clf = AdaBoostClassifier(estimator=DecisionTreeClassifier(max_depth=1), n_estimators=n_stumps, random_state=seed)
    return clf.fit(X, y)


def _leaf_class(clf: AdaBoostClassifier, tree, node: int) -> int:
    return int(clf.classes_[int(np.argmax(tree.value[node][0]))])


def to_chrome_model(clf: AdaBoostClassifier, feature_names: tuple[str, ...] = V1_FEATURES) -> AdaBoostModel:
    """The fitted classifier as Chrome's stump model, with identical decisions."""
    if list(clf.classes_) != [0, 1]:
        raise ValueError(f"expected classes [0, 1], got {list(clf.classes_)}")
    pairs = [(est, a) for est, a in zip(clf.estimators_, clf.estimator_weights_) if a > 0]
    total = sum(a for _, a in pairs)
    stumps = []
    for est, alpha in pairs:
        tree = est.tree_
        a = alpha / total / 2  # so that sum |w| = 1
        left, right = tree.children_left[0], tree.children_right[0]
        if left == -1 or _leaf_class(clf, tree, left) == _leaf_class(clf, tree, right):
            constant = _leaf_class(clf, tree, 0 if left == -1 else left)
            stumps.append(Stump(0, NEVER, -2 * a * (1 if constant == 1 else -1)))
            continue
        sign = 1 if _leaf_class(clf, tree, right) == 1 else -1
        stumps.append(Stump(int(tree.feature[0]), float(tree.threshold[0]), 2 * a * sign))
    return AdaBoostModel(len(feature_names), tuple(stumps), tuple(feature_names))


def margins(model: AdaBoostModel, X: np.ndarray) -> np.ndarray:
    """Chrome's margin for every row (vectorised `model.margin`)."""
    score = np.zeros(len(X))
    for s in model.stumps:
        score += np.where(X[:, s.feature] > s.split, s.weight, 0.0)
    return score - model.threshold


def importances(model: AdaBoostModel) -> dict[str, float]:
    """Share of the total |weight| per feature (what the model leans on), largest first."""
    total = sum(abs(s.weight) for s in model.stumps if s.split != NEVER) or 1.0
    out = {name: 0.0 for name in model.feature_names}
    for s in model.stumps:
        if s.split != NEVER:
            out[model.feature_names[s.feature]] += abs(s.weight) / total
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))
