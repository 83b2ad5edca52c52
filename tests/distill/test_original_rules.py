"""Golden tests against the original pipeline's and Chromium's own rules, written down from their sources
(write_features_csv.py `getGroups`, the derived-feature table, Chromium's distillability agent and
DomDistillerTabUtils), not from boxcrawl's output."""

import json
from pathlib import Path

import pytest
from distill_helpers import DERIVED
from distill_helpers import cli as run_boxcrawl
from test_offline_commands import LONG_ARTICLE, SHORT_ARTICLE, raw, read_csv

from boxcrawl.distill.features import V1_NAMES, derived_features, v1_from_derived
from boxcrawl.distill.scoring import load_scorer, score_record
from boxcrawl.distill.store import entry_id

DATA = Path(__file__).parent.parent / "data" / "distill"
NUM_ELEMENT = "numElements numAnchors anchorRatio numForms numTextInput numPasswordInput numPPRE".split()
# Each group file: `good`, then the group's names that the header has, in the group's order. The
# visibleElement and entries groups name features the 48 no longer have, so their files hold `good` alone;
# allElement = numElement + visibleElement + entries, so it is the seven num* columns.
GROUPS = {
    "path": "forum index search view archive asp phpbb php pathLength domain pathComponents slugDetector "
    "pathNumbers lastSegmentLength".split(),
    "numElement": NUM_ELEMENT,
    "visibleElement": [],
    "entries": [],
    "v1": "openGraph forum index search view archive asp phpbb php pathLength domain pathComponents "
    "slugDetector pathNumbers lastSegmentLength formCount anchorCount elementCount anchorRatio mozScore "
    "mozScoreAllSqrt mozScoreAllLinear".split(),
    "v1NoPath": "openGraph formCount anchorCount elementCount anchorRatio mozScore mozScoreAllSqrt "
    "mozScoreAllLinear".split(),
    "allElement": NUM_ELEMENT,
    "mozScores": ["mozScore", "mozScoreAllLinear", "mozScoreAllSqrt"],
    # every name without "inner", "Content" or "WordCount": #1-21 and #34-48 of the table
    "noText": DERIVED[:21] + DERIVED[33:],
}
assert len(DERIVED) == 48 and len(GROUPS["noText"]) == 36


def feature_entry(index, page, native):
    return {
        "index": index,
        "id": entry_id(page["url"]),
        "url": page["url"],
        "features": derived_features(index, page),
        "native": native,
    }


def chrome_dump(page, mobile, distillable=1):
    """A native record as Chrome's own `adaboost_classification` dump: integers, and is_mobile_friendly only
    under `features` (snake_case)."""
    v1 = v1_from_derived(derived_features(0, page))
    return {
        "features": {"is_mobile_friendly": int(mobile), "element_count": page["numElements"], "open_graph": 1},
        "derived_features": v1,
        "score": 1.0,
        "distillable": distillable,
        "long_score": 1.0,
        "long_page": 1,
        "filtered": 0,
    }


def test_every_group_file_has_exactly_the_original_columns(tmp_path):
    pages = [SHORT_ARTICLE, LONG_ARTICLE]
    features = [feature_entry(i, p, {}) for i, p in enumerate(pages)]
    marked = [{"url": p["url"], "good": g} for p, g in zip(pages, (0, 1))]
    (tmp_path / "features").write_text(json.dumps(features))
    (tmp_path / "marked").write_text(json.dumps(marked))
    run_boxcrawl(
        "features-csv", "--marked", tmp_path / "marked", "--features", tmp_path / "features", "--out", tmp_path / "l"
    )
    main = read_csv(tmp_path / "l")
    assert main[0] == ["good", *DERIVED]
    for name, columns in GROUPS.items():
        rows = read_csv(tmp_path / f"l-group-{name}.csv")
        assert rows[0] == ["good", *columns], name
        assert [r[0] for r in rows[1:]] == ["0.0", "1.0"], name
        for c in columns:  # the same values as the main file's column
            assert [r[1 + columns.index(c)] for r in rows[1:]] == [r[main[0].index(c)] for r in main[1:]]
    for name in DERIVED:
        assert read_csv(tmp_path / f"l-feature-{name}.csv")[0] == ["good", name]
    written = sorted(p.name for p in tmp_path.glob("l-*.csv"))
    assert len(written) == 48 + 9
    # a second run to the same --out overwrites nothing unless asked to
    again = (
        "features-csv",
        "--marked",
        tmp_path / "marked",
        "--features",
        tmp_path / "features",
        "--out",
        tmp_path / "l",
    )
    refused = run_boxcrawl(*again, check=False)
    assert refused.returncode == 2 and "exist already; pass --force" in refused.stderr
    assert run_boxcrawl(*again, "--force").returncode == 0


@pytest.mark.parametrize(
    "shape",
    [
        lambda page, mobile: chrome_dump(page, mobile),  # Chrome's dump: features.is_mobile_friendly
        lambda page, mobile: dict(chrome_dump(page, mobile), features={"isMobileFriendly": int(mobile)}),  # 2016
        lambda page, mobile: dict(chrome_dump(page, False), is_mobile_friendly=mobile, distillable=True),  # ours
    ],
)
def test_long_article_labels_skip_mobile_friendly_pages_in_every_native_shape(tmp_path, shape):
    """Only distillable, not mobile-friendly pages get a long-article label; the label measures the article
    alone (article_bytes), not the reader view's whole text."""
    pages = [
        raw("http://news.test/a-mobile-friendly-story.html"),
        raw("http://news.test/a-short-story.html"),
        raw("http://news.test/a-long-story.html"),
        raw("http://news.test/not-distillable.html"),
    ]
    natives = [shape(pages[0], True), shape(pages[1], False), shape(pages[2], False)]
    natives.append(dict(natives[1], distillable=0))
    features = [feature_entry(i, p, n) for i, (p, n) in enumerate(zip(pages, natives))]
    viewer = "settings font size " * 60  # the viewer's own text makes every view "long"
    distilled = [
        {
            "url": p["url"],
            "id": entry_id(p["url"]),
            "features": derived_features(i, raw(p["url"], innerText=viewer)),
            "article_bytes": n,
        }
        for i, (p, n) in enumerate(zip(pages, (5000, 999, 1000, 5000)))
    ]
    (tmp_path / "features").write_text(json.dumps(features))
    (tmp_path / "distilled").write_text(json.dumps(distilled))
    args = ("features-csv", "--distilled", tmp_path / "distilled", "--features", tmp_path / "features")
    run_boxcrawl(*args, "--out", tmp_path / "article.csv")
    rows = read_csv(tmp_path / "article.csv")
    assert [(r[0], r[rows[0].index("id")]) for r in rows[1:]] == [("0.0", "1.0"), ("1.0", "2.0")]
    run_boxcrawl(*args, "--out", tmp_path / "viewer.csv", "--measure", "viewer")
    assert [r[0] for r in read_csv(tmp_path / "viewer.csv")[1:]] == ["1.0", "1.0"]


def test_heuristics_modes_follow_chromium():
    """adaboost and allarticles run the same two models on the same vector; only adaboost may reject a
    mobile-friendly page (Chromium's ShouldExcludeMobileFriendly is true for ADABOOST_MODEL alone)."""
    scorer = load_scorer()
    long_mobile = feature_entry(0, LONG_ARTICLE, chrome_dump(LONG_ARTICLE, True))
    short = feature_entry(1, SHORT_ARTICLE, chrome_dump(SHORT_ARTICLE, False))
    filtered_page = dict(LONG_ARTICLE, url="https://old.reddit.com/r/x/comments/1/a_long_title/")
    filtered = feature_entry(2, filtered_page, chrome_dump(filtered_page, False))

    def decide(record, heuristics, reject=False):
        return score_record(record, scorer, heuristics=heuristics, reject_mobile=reject)["decision"]

    assert decide(long_mobile, "adaboost") is True
    assert decide(long_mobile, "adaboost", reject=True) is False
    assert decide(long_mobile, "allarticles", reject=True) is True
    assert decide(short, "allarticles") is False  # distillable, not long: both models must agree
    assert decide(filtered, "allarticles") is False  # the filtered hosts hold for allarticles too
    assert decide(short, "opengraph") is True and decide(short, "alwaystrue") is True
    assert decide(long_mobile, "none") is False


def test_distill_score_cli_takes_allarticles(tmp_path):
    records = [feature_entry(0, LONG_ARTICLE, chrome_dump(LONG_ARTICLE, True))]
    (tmp_path / "f").write_text(json.dumps(records))
    rejected = run_boxcrawl("distill-score", tmp_path / "f", "--reject-mobile-friendly", "--no-explain")
    assert json.loads(rejected.stdout)["rejected"] == "mobile-friendly"
    kept = run_boxcrawl("distill-score", tmp_path / "f", "--heuristics", "allarticles", "--reject-mobile-friendly")
    assert json.loads(kept.stdout)["decision"] is True


def test_check_derived_tolerance_skips_and_mhtml_columns(tmp_path):
    """check_derived_features.py's rules: absolute tolerance 0.001 on the 22 values; a live entry whose
    native elementCount differs from ours is skipped (the DOM changed); --from-mhtml compares only the
    columns that do not depend on the URL, and skips nothing; entries without a native record don't count."""
    page = LONG_ARTICLE
    ours = v1_from_derived(derived_features(0, page))
    moz, path_length = V1_NAMES.index("mozScore"), V1_NAMES.index("pathLength")

    def entry(i, shift_at=None, by=0.0, element_count=page["numElements"]):
        vector = list(ours)
        if shift_at is not None:
            vector[shift_at] += by
        native = dict(chrome_dump(page, False), derived_features=vector)
        native["features"] = dict(native["features"], element_count=element_count)
        return dict(feature_entry(i, page, native), index=i)

    records = [
        entry(0),
        entry(1, moz, 0.0009),  # within the tolerance
        entry(2, moz, 0.002),  # not
        entry(3, element_count=page["numElements"] + 1),  # the page changed between the two runs
        entry(4, path_length, 5.0),  # a URL feature: the native URL of an MHTML is file://
        dict(feature_entry(5, page, None), native=None),
    ]
    (tmp_path / "f").write_text(json.dumps(records))
    live = run_boxcrawl("check-derived", "--features", tmp_path / "f", check=False)
    assert live.stdout.splitlines()[-1] == "2/4 have mismatching derived features, 1 were skipped."
    assert live.returncode == 1 and "2 " + page["url"] + ": mozScore" in live.stdout
    assert "4 " + page["url"] + ": pathLength" in live.stdout
    mhtml = run_boxcrawl("check-derived", "--features", tmp_path / "f", "--from-mhtml", check=False)
    assert mhtml.stdout.splitlines()[-1] == "1/5 have mismatching derived features, 0 were skipped."


def test_python2_marshal_core_reads_like_its_json(tmp_path):
    """feature-py27.marshal was written by Python 2.7.18 the way the original aggregates raw features
    (json.load of the .feature files, then marshal.dump) from feature-py27.json: unicode keys and values,
    a lone surrogate, CJK and an emoji, floats, booleans."""
    run_boxcrawl("derive-features", "--core", DATA / "feature-py27.marshal", "--out", tmp_path / "from-marshal")
    run_boxcrawl("derive-features", "--core", DATA / "feature-py27.json", "--out", tmp_path / "from-json")
    from_marshal = json.loads((tmp_path / "from-marshal").read_bytes().decode("utf-8"))  # strict UTF-8
    assert from_marshal == json.loads((tmp_path / "from-json").read_text())
    assert [e["index"] for e in from_marshal] == [0, 7] and from_marshal[0]["features"][:2] == ["id", 0]
    derived = dict(zip(from_marshal[0]["features"][0::2], from_marshal[0]["features"][1::2]))
    # "中文 text 😀 words": 6 + 6 + 4 + 6 bytes, ASCII words only
    assert derived["innerTextLength"] == 22 and derived["innerTextWordCount"] == 2
