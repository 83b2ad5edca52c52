"""Chrome's distillability model: AdaBoost decision stumps over the 22 "v1" page features.

Wire format (components/dom_distiller/core/proto/adaboost.proto, field numbers read off the shipped models):

    message StumpProto    { int32 feature_number = 1; double split = 2; double weight = 3; }
    message AdaBoostProto { int32 num_stumps = 1; int32 num_features = 2; repeated StumpProto stump = 3; }

Chrome's decision (distillable_page_detector.cc): score = sum of `weight` over the stumps whose feature is
strictly greater than `split`; threshold = sum of all weights / 2; the page passes when score - threshold > 0.
A feature vector of the wrong length scores 0.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from google.protobuf import descriptor_pb2, message_factory
from google.protobuf.message import DecodeError

from ..distill.features import V1_NAMES
from ..files import atomic_write_bytes
from .chrome_pak import DEFAULT_PAK, PakError, read_pak

# The order Chrome builds the vector in (page_features.cc) and the order `feature_number` indexes.
V1_FEATURES = V1_NAMES

# Resource ids of the two AdaBoostProto models in Chromium 156's resources.pak, in declaration order:
# the page model (IDR_DISTILLABLE_PAGE_MODEL_NEW) then the long-article model (IDR_LONG_PAGE_MODEL).
CHROME_MODEL_IDS = {"distillable": 40075, "long-article": 40076}


class ModelError(ValueError):
    """A model file or resource that is not an AdaBoost stump model."""


def _proto_classes():
    """Build the two message classes from a descriptor, so no protoc step or generated code is needed."""
    file = descriptor_pb2.FileDescriptorProto(name="boxcrawl_adaboost.proto", package="dom_distiller", syntax="proto2")
    F = descriptor_pb2.FieldDescriptorProto
    stump = file.message_type.add(name="StumpProto")
    stump.field.add(name="feature_number", number=1, type=F.TYPE_INT32, label=F.LABEL_OPTIONAL)
    stump.field.add(name="split", number=2, type=F.TYPE_DOUBLE, label=F.LABEL_OPTIONAL)
    stump.field.add(name="weight", number=3, type=F.TYPE_DOUBLE, label=F.LABEL_OPTIONAL)
    model = file.message_type.add(name="AdaBoostProto")
    model.field.add(name="num_stumps", number=1, type=F.TYPE_INT32, label=F.LABEL_OPTIONAL)
    model.field.add(name="num_features", number=2, type=F.TYPE_INT32, label=F.LABEL_OPTIONAL)
    model.field.add(
        name="stump", number=3, type=F.TYPE_MESSAGE, label=F.LABEL_REPEATED, type_name=".dom_distiller.StumpProto"
    )
    classes = message_factory.GetMessages([file])
    return classes["dom_distiller.AdaBoostProto"]


_AdaBoostProto = _proto_classes()


@dataclass(frozen=True)
class Stump:
    feature: int
    split: float
    weight: float


@dataclass(frozen=True)
class AdaBoostModel:
    num_features: int
    stumps: tuple[Stump, ...]
    feature_names: tuple[str, ...] = V1_FEATURES

    def __post_init__(self):
        if self.num_features <= 0 or not self.stumps:
            raise ModelError("a model needs at least one feature and one stump")
        bad = [s.feature for s in self.stumps if not 0 <= s.feature < self.num_features]
        if bad:
            raise ModelError(f"stump feature {bad[0]} outside 0..{self.num_features - 1}")
        if len(self.feature_names) != self.num_features:
            object.__setattr__(self, "feature_names", tuple(f"f{i}" for i in range(self.num_features)))

    # -- scoring, exactly as Chrome does it --------------------------------------------------------------
    @property
    def threshold(self) -> float:
        return sum(s.weight for s in self.stumps) / 2

    def score(self, features: Sequence[float]) -> float:
        if len(features) != self.num_features:
            return 0.0
        return sum(s.weight for s in self.stumps if features[s.feature] > s.split)

    def margin(self, features: Sequence[float]) -> float:
        return self.score(features) - self.threshold

    def decide(self, features: Sequence[float]) -> bool:
        return self.margin(features) > 0

    def contributions(self, features: Sequence[float]) -> dict[str, float]:
        """Each feature's share of the margin: +w/2 for a stump that fired, -w/2 for one that did not.

        They sum to the margin, so they explain the decision feature by feature.
        """
        out = {name: 0.0 for name in self.feature_names}
        if len(features) != self.num_features:
            return out
        for s in self.stumps:
            fired = features[s.feature] > s.split
            out[self.feature_names[s.feature]] += (s.weight if fired else -s.weight) / 2
        return out

    # -- Chrome's AdaBoostProto ------------------------------------------------------------------------
    def to_proto(self) -> bytes:
        msg = _AdaBoostProto(num_stumps=len(self.stumps), num_features=self.num_features)
        for s in self.stumps:
            msg.stump.add(feature_number=s.feature, split=s.split, weight=s.weight)
        return msg.SerializeToString()

    @classmethod
    def from_proto(cls, data: bytes) -> "AdaBoostModel":
        msg = _AdaBoostProto()
        try:
            msg.ParseFromString(data)
        except DecodeError as exc:
            raise ModelError(f"not an AdaBoostProto: {exc}") from None
        if msg.num_stumps != len(msg.stump):
            raise ModelError(f"AdaBoostProto says {msg.num_stumps} stumps but holds {len(msg.stump)}")
        return cls(msg.num_features, tuple(Stump(s.feature_number, s.split, s.weight) for s in msg.stump))

    # -- JSON: the same fields, readable and diffable --------------------------------------------------
    def to_json(self) -> dict:
        return {
            "num_stumps": len(self.stumps),
            "num_features": self.num_features,
            "feature_names": list(self.feature_names),
            "stumps": [
                {
                    "feature_number": s.feature,
                    "feature": self.feature_names[s.feature],
                    "split": s.split,
                    "weight": s.weight,
                }
                for s in self.stumps
            ],
        }

    @classmethod
    def from_json(cls, obj: dict | str) -> "AdaBoostModel":
        if isinstance(obj, str):
            obj = json.loads(obj)
        try:
            stumps = tuple(
                Stump(int(s["feature_number"]), float(s["split"]), float(s["weight"])) for s in obj["stumps"]
            )
            names = tuple(obj.get("feature_names") or V1_FEATURES)
            return cls(int(obj["num_features"]), stumps, names)
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"not an AdaBoost model in JSON: {exc}") from None

    @classmethod
    def load(cls, source: str | Path) -> "AdaBoostModel":
        """`chrome:distillable` / `chrome:long-article` (from the installed Chromium), a `.json`, or a proto."""
        text = str(source)
        if text.startswith("chrome:"):
            return chrome_model(text.removeprefix("chrome:"))
        path = Path(source)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ModelError(f"cannot read model {path}: {exc.strerror}") from None
        if path.suffix == ".json":
            try:
                return cls.from_json(json.loads(data))
            except json.JSONDecodeError as exc:
                raise ModelError(f"{path}: bad JSON: {exc}") from None
        return cls.from_proto(data)

    def save(self, path: str | Path) -> Path:
        """Write `.json` as JSON, anything else as the proto; atomically."""
        path = Path(path)
        data = (json.dumps(self.to_json(), indent=1) + "\n").encode() if path.suffix == ".json" else self.to_proto()
        return atomic_write_bytes(path, data)


def chrome_model(name: str, pak: str | Path = DEFAULT_PAK) -> AdaBoostModel:
    """One of the models shipped inside Chromium's resources.pak."""
    if name not in CHROME_MODEL_IDS:
        raise ModelError(f"unknown Chrome model {name!r} (known: {', '.join(CHROME_MODEL_IDS)})")
    try:
        resources = read_pak(pak)
    except PakError as exc:
        raise ModelError(str(exc)) from None
    data = resources.get(CHROME_MODEL_IDS[name])
    if data is None:
        raise ModelError(f"{pak} has no resource {CHROME_MODEL_IDS[name]} ({name} model); other Chromium build?")
    return AdaBoostModel.from_proto(data)


# Chrome answers "no" for these hosts whatever the model says (distillable_page_utils / adaboost detector).
FILTERED_HOSTS = frozenset({"www.reddit.com", "old.reddit.com", "tools.usps.com"})


def chrome_decision(
    features: Sequence[float], host: str, distillable: AdaBoostModel, long_article: AdaBoostModel
) -> bool:
    """`IsDistillablePageAdaboost`: both models must pass and the host must not be filtered."""
    if host.lower() in FILTERED_HOSTS:
        return False
    return distillable.decide(features) and long_article.decide(features)
