"""Reading a page's native distillability record, whichever shape it comes in.

Three shapes exist: ours (`scoring.ChromeScorer.native_record`: booleans at the top level, Blink's raw
counts under `features`), Chrome's own `adaboost_classification` dump (integers 0/1; `is_mobile_friendly`
only under `features`, snake_case) and the 2016 `distillability_features` dump the original scripts read
(`features.isMobileFriendly`, camelCase).
"""

from __future__ import annotations


def mobile_friendly(native: dict | None) -> bool | None:
    """Whether Chrome called the page mobile-friendly; None when the record does not say."""
    if not native:
        return None
    if "is_mobile_friendly" in native:
        return bool(native["is_mobile_friendly"])
    for key in ("features", "features_2016"):
        features = native.get(key)
        if isinstance(features, dict):
            for name in ("is_mobile_friendly", "isMobileFriendly"):
                if name in features:
                    return bool(features[name])
    return None


def distillable(native: dict | None) -> bool | None:
    """Chrome's first model's answer (`distillable`, a boolean or 0/1); None when the record has none."""
    if not native or "distillable" not in native:
        return None
    return bool(native["distillable"])
