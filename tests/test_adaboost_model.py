"""Chrome's AdaBoostProto: the codec, Chrome's scoring rule, and the two models shipped with this Chromium."""

import gzip
import struct

import pytest

from boxcrawl.train.chrome_pak import PakError, read_pak
from boxcrawl.train.model import CHROME_MODEL_IDS, V1_FEATURES, AdaBoostModel, ModelError, Stump, chrome_decision

TOY = AdaBoostModel(3, (Stump(0, 1.0, 0.5), Stump(1, 0.0, -0.25), Stump(2, 10.0, 1.0)))


def test_score_counts_stumps_strictly_above_split():
    assert TOY.threshold == pytest.approx(0.625)
    assert TOY.score([1.0, 0.0, 10.0]) == 0.0  # equal to every split: nothing fires
    assert TOY.score([1.5, 0.0, 10.5]) == pytest.approx(1.5)
    assert TOY.decide([1.5, 0.0, 10.5]) and not TOY.decide([1.5, 1.0, 0.0])


def test_wrong_length_scores_zero_and_is_rejected():
    assert TOY.score([5.0, 5.0]) == 0.0
    assert not TOY.decide([5.0, 5.0])


def test_contributions_sum_to_the_margin():
    features = [2.0, 1.0, 3.0]
    contributions = TOY.contributions(features)
    assert sum(contributions.values()) == pytest.approx(TOY.margin(features))
    assert contributions["f0"] == pytest.approx(0.25) and contributions["f2"] == pytest.approx(-0.5)


def test_proto_and_json_round_trip(tmp_path):
    again = AdaBoostModel.from_proto(TOY.to_proto())
    assert again == TOY
    assert AdaBoostModel.from_json(TOY.to_json()) == TOY
    assert AdaBoostModel.load(TOY.save(tmp_path / "m.json")) == TOY
    assert AdaBoostModel.load(TOY.save(tmp_path / "m.bin")) == TOY
    assert not list(tmp_path.glob(".*tmp"))


def test_bad_models_give_clear_errors(tmp_path):
    (tmp_path / "junk.bin").write_bytes(b"\xff\xff\xff")
    with pytest.raises(ModelError):
        AdaBoostModel.load(tmp_path / "junk.bin")
    (tmp_path / "junk.json").write_text('{"stumps": []}')
    with pytest.raises(ModelError):
        AdaBoostModel.load(tmp_path / "junk.json")
    with pytest.raises(ModelError, match="cannot read"):
        AdaBoostModel.load(tmp_path / "missing.bin")
    with pytest.raises(ModelError, match="outside"):
        AdaBoostModel(2, (Stump(5, 0.0, 1.0),))
    with pytest.raises(ModelError, match="unknown Chrome model"):
        AdaBoostModel.load("chrome:nope")


def test_pak_reader_handles_aliases_and_gzip(tmp_path):
    raw, packed = b"plain bytes", gzip.compress(b"was gzipped")
    ids, data = [7, 9], [raw, packed]
    header = struct.pack("<IIHH", 5, 1, 2, 1)
    table_len = 6 * 3 + 4
    offsets, at = [], len(header) + table_len
    for blob in data:
        offsets.append(at)
        at += len(blob)
    table = b"".join(struct.pack("<HI", i, o) for i, o in zip(ids + [0], offsets + [at]))
    alias = struct.pack("<HH", 8, 0)  # id 8 is another name for entry 0
    path = tmp_path / "test.pak"
    path.write_bytes(header + table + alias + b"".join(data))
    assert read_pak(path) == {7: raw, 8: raw, 9: b"was gzipped"}
    (tmp_path / "bad.pak").write_bytes(struct.pack("<I", 99) + b"\0" * 20)
    with pytest.raises(PakError, match="version 99"):
        read_pak(tmp_path / "bad.pak")


def test_shipped_chrome_models_decode_byte_for_byte():
    resources = read_pak()
    for name, rid in CHROME_MODEL_IDS.items():
        model = AdaBoostModel.load(f"chrome:{name}")
        assert (len(model.stumps), model.num_features) == (100, 22)
        assert model.to_proto() == resources[rid]
        assert model.feature_names == V1_FEATURES


def test_shipped_models_match_the_published_reading():
    # Figures read off Chromium 156's resources.pak independently (weights sum, strongest stump).
    distillable, long_article = AdaBoostModel.load("chrome:distillable"), AdaBoostModel.load("chrome:long-article")
    assert distillable.threshold == pytest.approx(0.9575 / 2, abs=1e-4)
    assert long_article.threshold == pytest.approx(1.4264 / 2, abs=1e-4)
    top = max(distillable.stumps, key=lambda s: abs(s.weight))
    assert (V1_FEATURES[top.feature], top.split) == ("pathLength", 35.5)
    top = max(long_article.stumps, key=lambda s: abs(s.weight))
    assert V1_FEATURES[top.feature] == "mozScore" and top.split == pytest.approx(33.04, abs=0.01)


def _vector(**values):
    return [float(values.get(name, 0.0)) for name in V1_FEATURES]


def test_chrome_decision_needs_both_models_and_an_unfiltered_host():
    distillable, long_article = AdaBoostModel.load("chrome:distillable"), AdaBoostModel.load("chrome:long-article")
    tiny_home = _vector(pathLength=1, pathComponents=0, elementCount=30, anchorCount=10, anchorRatio=0.3)
    assert not distillable.decide(tiny_home)
    article = _vector(
        openGraph=1,
        pathLength=60,
        pathComponents=3,
        slugDetector=1,
        lastSegmentLength=40,
        elementCount=900,
        anchorCount=40,
        anchorRatio=0.04,
        mozScore=110,
        mozScoreAllSqrt=60,
        mozScoreAllLinear=5000,
        pathNumbers=1,
    )
    assert distillable.decide(article) and long_article.decide(article)
    assert chrome_decision(article, "example.org", distillable, long_article)
    assert not chrome_decision(tiny_home, "example.org", distillable, long_article)
    assert not chrome_decision(article, "www.reddit.com", distillable, long_article)
