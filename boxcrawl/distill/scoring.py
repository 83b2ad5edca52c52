"""Chrome's distillability decision on our features, with Chrome's own models (boxcrawl.train.model):
distillable && long-article, filtered hosts, and the margin and per-feature contributions as explanation."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

from ..train.model import FILTERED_HOSTS, AdaBoostModel, ModelError
from .features import V1_NAMES, as_dict, v1_from_derived, v1_from_native
from .native import mobile_friendly

__all__ = ["ChromeScorer", "ModelError", "load_scorer", "score_record"]


class ChromeScorer:
    def __init__(self, distillable: AdaBoostModel, long_article: AdaBoostModel):
        self.distillable = distillable
        self.long_article = long_article

    def explain(self, v1: list[float], url: str, explain: bool = True) -> dict:
        host = (urlsplit(url).hostname or "").lower()
        filtered = host in FILTERED_HOSTS
        d_margin = self.distillable.margin(v1)
        l_margin = self.long_article.margin(v1)
        out = {
            "distillable": d_margin > 0,
            "long_page": l_margin > 0,
            "filtered": filtered,
            "decision": (d_margin > 0) and (l_margin > 0) and not filtered,
            "score": d_margin,  # margins (score - threshold), as Chrome's dump reports them
            "long_score": l_margin,
        }
        if explain:
            out["contributions"] = {
                "distillable": _top(self.distillable.contributions(v1)),
                "long_page": _top(self.long_article.contributions(v1)),
            }
        return out

    def native_record(self, url: str, native_raw: dict) -> dict:
        """The shape of Chrome's `adaboost_classification` dump, computed from our Blink-equivalent collector."""
        v1 = v1_from_native(url, native_raw)
        record = {
            "source": "boxcrawl-native-js",
            "features": native_raw,
            "derived_features": v1,
            "is_mobile_friendly": bool(native_raw.get("is_mobile_friendly")),
        }
        record.update(self.explain(v1, url, explain=False))
        return record


def _top(contributions: dict[str, float]) -> dict[str, float]:
    """Non-zero contributions, largest effect first (they sum to the margin)."""
    items = sorted(((k, v) for k, v in contributions.items() if v), key=lambda kv: -abs(kv[1]))
    return {k: round(v, 6) for k, v in items}


@lru_cache(maxsize=8)
def load_scorer(distillable: str = "chrome:distillable", long_article: str = "chrome:long-article") -> ChromeScorer:
    return ChromeScorer(AdaBoostModel.load(distillable), AdaBoostModel.load(long_article))


def score_record(
    record: dict,
    scorer: ChromeScorer,
    vector: str = "js",
    heuristics: str = "adaboost",
    reject_mobile: bool = False,
    explain: bool = True,
) -> dict:
    """Chrome's decision on one `feature-derived` record: `decision` (distillable && long-article && host not
    filtered), both margins and, with `explain`, the per-feature contributions (they sum to the margin).
    `heuristics` is Chrome's --reader-mode-heuristics:
      adaboost     the two models; with `reject_mobile`, no for a mobile-friendly page, as Chrome did until
                   about 2017 and Android's reader mode still does for this heuristic;
      allarticles  the same models, and a mobile-friendly page is never rejected (Chromium's
                   ShouldExcludeMobileFriendly is true for adaboost only);
      opengraph    og:type is article; alwaystrue; none.
    Raises KeyError for a record without a field it needs (no native record with vector="native")."""
    derived = as_dict(record["features"])
    native = record.get("native") or {}
    if vector == "native":
        if "derived_features" not in native:
            raise KeyError("no native record")
        v1 = [float(x) for x in native["derived_features"]]
    else:
        v1 = v1_from_derived(record["features"])
    result = {"index": record.get("index"), "id": record.get("id"), "url": record["url"]}
    if heuristics in ("adaboost", "allarticles"):
        result.update(scorer.explain(v1, record["url"], explain=explain))
        if heuristics == "adaboost" and reject_mobile and mobile_friendly(native):
            result["decision"] = False
            result["rejected"] = "mobile-friendly"
    else:
        result["decision"] = {"opengraph": bool(derived.get("openGraph")), "alwaystrue": True, "none": False}[
            heuristics
        ]
    return result


def native_record_without_model(url: str, native_raw: dict, error: str) -> dict:
    return {
        "source": "boxcrawl-native-js",
        "features": native_raw,
        "derived_features": v1_from_native(url, native_raw),
        "is_mobile_friendly": bool(native_raw.get("is_mobile_friendly")),
        "model_error": error,
    }


assert len(V1_NAMES) == 22
