"""`boxcrawl distill-score`: Chrome's decision on pages from their features, with the reason.

Input: a distill directory (its `<i>.feature-derived` files) or an aggregated `feature-derived` JSON array.
Output: one JSON line per page with `decision` (Chrome's: distillable && long-article && host not filtered),
both margins and the per-feature contributions (they sum to the margin)."""

from __future__ import annotations

import json
from pathlib import Path

from .features import as_dict, v1_from_derived

MODES = ("adaboost", "opengraph", "alwaystrue", "none")


def add_parser(sub) -> None:
    p = sub.add_parser(
        "distill-score",
        help="Chrome's reader-mode decision from page features, explained",
        description=__doc__.split("\n\n")[0],
    )
    p.add_argument("inputs", nargs="+", type=Path, metavar="DIR|FILE")
    p.add_argument(
        "--distillable-model",
        default="chrome:distillable",
        help="a .bin AdaBoostProto, a .json model, or chrome:distillable (default)",
    )
    p.add_argument("--long-model", default="chrome:long-article", help="default chrome:long-article")
    p.add_argument(
        "--vector",
        choices=("js", "native"),
        default="js",
        help="v1 from the JS-derived features (default) or from the Blink-equivalent native record",
    )
    p.add_argument(
        "--heuristics",
        choices=MODES,
        default="adaboost",
        help="Chrome's --reader-mode-heuristics: adaboost (default), opengraph, alwaystrue, none",
    )
    p.add_argument(
        "--reject-mobile-friendly",
        action="store_true",
        help="also answer no for mobile-friendly pages (Chrome's behaviour until about 2017)",
    )
    p.add_argument("--no-explain", action="store_true", help="leave out the per-feature contributions")
    p.set_defaults(run=run)


def _records(path: Path) -> list[dict]:
    from .store import read_json

    if path.is_dir():
        files = sorted(
            (p for p in path.glob("*.feature-derived") if p.name.split(".")[0].isdigit()),
            key=lambda p: int(p.name.split(".")[0]),
        )
        return [read_json(p) for p in files]
    data = read_json(path)
    return data if isinstance(data, list) else [data]


def score_record(
    record: dict,
    scorer,
    vector: str = "js",
    heuristics: str = "adaboost",
    reject_mobile: bool = False,
    explain: bool = True,
) -> dict:
    derived = as_dict(record["features"])
    native = record.get("native") or {}
    if vector == "native":
        if "derived_features" not in native:
            raise KeyError("no native record")
        v1 = [float(x) for x in native["derived_features"]]
    else:
        v1 = v1_from_derived(record["features"])
    result = {"index": record.get("index"), "id": record.get("id"), "url": record["url"]}
    if heuristics == "adaboost":
        result.update(scorer.explain(v1, record["url"], explain=explain))
        if reject_mobile and native.get("is_mobile_friendly"):
            result["decision"] = False
            result["rejected"] = "mobile-friendly"
    else:
        result["decision"] = {"opengraph": bool(derived.get("openGraph")), "alwaystrue": True, "none": False}[
            heuristics
        ]
    return result


def run(args) -> int:
    from .cli import _error
    from .scoring import ModelError, load_scorer

    try:
        scorer = load_scorer(args.distillable_model, args.long_model)
    except ModelError as exc:
        raise _error(str(exc)) from None
    yes = total = 0
    for path in args.inputs:
        if not path.exists():
            raise _error(f"{path}: no such file or directory")
        try:
            records = _records(path)
        except ValueError as exc:
            raise _error(f"{path}: not JSON ({exc})") from None
        for record in records:
            try:
                r = score_record(
                    record, scorer, args.vector, args.heuristics, args.reject_mobile_friendly, not args.no_explain
                )
            except KeyError as exc:
                print(json.dumps({"index": record.get("index"), "url": record.get("url"), "error": str(exc)}))
                continue
            total += 1
            yes += bool(r["decision"])
            print(json.dumps(r))
    import sys

    print(f"{yes}/{total} pages would get reader mode", file=sys.stderr)
    return 0
