"""`boxcrawl train --csv labelled.csv --model distillable|long-article`: fit, cross-validate, compare, export."""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

from ..files import atomic_write_json
from .argtypes import whole_number
from .errors import CLIError

MODELS = ("distillable", "long-article")


EXTRA = "train"  # what `pip install 'boxcrawl[train]'` adds for these commands


def register(sub) -> None:
    p = sub.add_parser(
        "train",
        help="train an AdaBoost stump model on a labelled features CSV",
        description="AdaBoost with decision stumps on the 22 v1 features of a `features-csv` "
        "file: stratified cross-validation, calibration, comparison with Chrome's "
        "shipped model on the same pages, export as Chrome's AdaBoostProto + JSON.",
    )
    p.add_argument("--csv", required=True, type=Path, help="labelled CSV (features-csv output, or its v1 group)")
    p.add_argument("--model", required=True, choices=MODELS, help="which of Chrome's two models this trains")
    p.add_argument("--out", type=Path, help="output folder (default: MODEL-model next to the CSV)")
    p.add_argument("--stumps", type=whole_number(1), default=100, help="boosting rounds (default 100, as Chrome's)")
    p.add_argument("--folds", type=whole_number(1), default=5, help="cross-validation folds (default 5)")
    p.add_argument("--seed", type=int, default=0, help="fold shuffling and fitting seed (default 0)")
    p.add_argument(
        "--compare",
        default="chrome",
        help="model to compare with: chrome (the installed Chromium's, the default), a .bin/.json file, or none",
    )
    p.set_defaults(run=run)


def _line(name: str, m: dict) -> str:
    return (
        f"{name:<40} accuracy {m['accuracy']:.3f}  precision {m['precision']:.3f}  "
        f"recall {m['recall']:.3f}  ROC AUC {m['roc_auc']:.3f}"
    )


def run(args: argparse.Namespace) -> int:
    # Imported here so `boxcrawl --help` and other subcommands do not pay for scikit-learn and matplotlib.
    import numpy as np

    from ..train.dataset import DatasetError, read_labelled_csv
    from ..train.model import AdaBoostModel, ModelError, chrome_decision

    try:
        data = read_labelled_csv(args.csv)
    except DatasetError as exc:
        raise CLIError(str(exc)) from None
    pos, neg = data.counts
    if min(pos, neg) < 2:
        raise CLIError(
            f"need at least 2 pages of each class to cross-validate; {args.csv} has {pos} positive, {neg} negative"
        )
    reference = None
    if args.compare != "none":
        source = f"chrome:{args.model}" if args.compare == "chrome" else args.compare
        try:
            reference = (source, AdaBoostModel.load(source))
        except ModelError as exc:
            raise CLIError(f"--compare: {exc}") from None
    out = args.out or args.csv.resolve().parent / f"{args.model}-model"
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CLIError(f"cannot create {out}: {exc.strerror}") from None

    from ..train.evaluate import compare, cross_validate  # scikit-learn and matplotlib load only once inputs are good
    from ..train.fit import fit_adaboost, importances, margins, to_chrome_model
    from ..train.plot import write_plot

    print(f"{len(data.y)} labelled pages from {args.csv}: {pos} positive, {neg} negative")
    cv = cross_validate(data.X, data.y, args.stumps, args.folds, args.seed)
    s = cv.summary()
    print(f"{cv.folds}-fold stratified cross-validation, {args.stumps} stumps (mean ± std over folds):")
    for k in ("accuracy", "precision", "recall", "f1", "roc_auc"):
        print(f"  {k:<10} {s[k]['mean']:.3f} ± {s[k]['std']:.3f}")
    print(f"  calibration (Platt on out-of-fold margins): Brier {cv.brier:.3f}, ECE {cv.ece:.3f}")

    model = to_chrome_model(fit_adaboost(data.X, data.y, args.stumps, args.seed))
    final_margin = margins(model, data.X)
    report = {
        "model": args.model,
        "csv": str(args.csv),
        "csv_sha256": hashlib.sha256(args.csv.read_bytes()).hexdigest(),
        "rows": len(data.y),
        "positive": pos,
        "negative": neg,
        "stumps": len(model.stumps),
        "folds": cv.folds,
        "seed": args.seed,
        "cv": s,
        "cv_pooled": cv.pooled,
        "calibration": {
            "brier": cv.brier,
            "ece": cv.ece,
            "platt": cv.platt,
            "reliability": {"predicted": cv.reliability[0], "observed": cv.reliability[1]},
        },
        "training_fit": compare(data.y, final_margin, final_margin),
        "importances": importances(model),
    }
    print(_line("  pooled out-of-fold", cv.pooled))
    chrome_margin = None
    if reference is not None:
        name, ref = reference
        chrome_margin = margins(ref, data.X)
        vs = compare(data.y, cv.oof_margin, chrome_margin)
        vs["agreement_final_model"] = float(((final_margin > 0) == (chrome_margin > 0)).mean())
        report["reference"] = {"source": name, **vs}
        print(_line(f"  {name} on the same pages", vs))
        print(
            f"  agreement with {name}: {vs['agreement']:.1%} of pages (out-of-fold decisions), "
            f"{vs['agreement_final_model']:.1%} (final model)"
        )
        if args.compare == "chrome" and args.model == "distillable":
            try:
                long_model = AdaBoostModel.load("chrome:long-article")
            except ModelError:
                long_model = None
            if long_model is not None:
                # What Chrome finally shows: both models must pass (hosts unknown here, so no host filter).
                both = np.array([chrome_decision(x, "", ref, long_model) for x in data.X], dtype=float) - 0.5
                combined = compare(data.y, cv.oof_margin, both)
                combined.pop("roc_auc")
                report["reference_combined"] = {"source": "chrome:distillable && chrome:long-article", **combined}
                print(
                    f"  Chrome's combined decision (distillable && long-article): accuracy "
                    f"{combined['accuracy']:.3f}  precision {combined['precision']:.3f}  "
                    f"recall {combined['recall']:.3f}  agreement {combined['agreement']:.1%}"
                )

    bin_path = model.save(out / f"{args.model}.bin")
    json_path = model.save(out / f"{args.model}.json")
    report_path = out / f"{args.model}-report.json"
    atomic_write_json(report_path, report)
    png = write_plot(
        out / f"{args.model}.png",
        f"{args.model}: {len(data.y)} pages, {cv.folds}-fold CV",
        data.y,
        cv.oof_margin,
        cv.folds,
        chrome_margin,
        "Chrome's shipped model" if args.compare == "chrome" else str(args.compare),
        cv.reliability,
        report["importances"],
    )
    for path in (bin_path, json_path, report_path, png):
        print(f"wrote {path}")
    return 0
