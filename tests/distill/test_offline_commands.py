"""The commands that need no browser: distill-score, --write-index, derive-features, features-csv, checks,
mhtml-corpus. They run on a distill directory built here from raw feature records."""

import csv
import json
import math

from distill_helpers import cli as run_boxcrawl

from boxcrawl.distill.features import V1_NAMES, derived_features, v1_from_derived
from boxcrawl.distill.run import _feature_record, write_features
from boxcrawl.distill.scoring import load_scorer, score_record
from boxcrawl.distill.store import OutDir, entry_id
from boxcrawl.files import atomic_write_json


def raw(url, **kw):
    base = dict(
        opengraph=False,
        url=url,
        title="t",
        numElements=300,
        numAnchors=30,
        numForms=0,
        numTextInput=0,
        numPasswordInput=0,
        numPPRE=10,
        innerText="x",
        textContent="x",
        innerHTML="<p>x</p>",
        mozScore=0.0,
        mozScoreAllSqrt=0.0,
        mozScoreAllLinear=0.0,
        visibleElements=290,
        visiblePPRE=10,
    )
    base.update(kw)
    return base


# The reference's synthetic vectors (§6.3): a short og:article (mozScore 15) is distillable but not long;
# a homepage and a tiny page are rejected by both models.
SHORT_ARTICLE = raw(
    "http://news.test/2016/05/short-story-about-something.html",
    opengraph=True,
    mozScore=15.0,
    mozScoreAllSqrt=30.0,
    mozScoreAllLinear=400.0,
    numElements=400,
    numAnchors=20,
)
HOMEPAGE = raw(
    "http://news.test/", numElements=3000, numAnchors=600, mozScore=5.0, mozScoreAllSqrt=40.0, mozScoreAllLinear=900.0
)
TINY = raw("http://tiny.test/a", numElements=12, numAnchors=2)
LONG_ARTICLE = raw(
    "http://news.test/2016/05/a-long-story-about-many-things-that-happened.html",
    opengraph=True,
    mozScore=175.9,
    mozScoreAllSqrt=150.0,
    mozScoreAllLinear=6000.0,
    numElements=900,
    numAnchors=40,
)


def record(index, r):
    return {"index": index, "id": entry_id(r["url"]), "url": r["url"], "features": derived_features(index, r)}


def test_chrome_models_on_the_reference_vectors():
    scorer = load_scorer()
    short = score_record(record(0, SHORT_ARTICLE), scorer)
    assert short["distillable"] is True and short["long_page"] is False and short["decision"] is False
    for page in (HOMEPAGE, TINY):
        r = score_record(record(1, page), scorer)
        assert r["distillable"] is False and r["long_page"] is False and r["decision"] is False
    long_ = score_record(record(2, LONG_ARTICLE), scorer)
    assert long_["decision"] is True
    # the explanation: per-feature contributions add up to each margin
    assert math.isclose(sum(long_["contributions"]["distillable"].values()), long_["score"], abs_tol=1e-5)
    assert math.isclose(sum(long_["contributions"]["long_page"].values()), long_["long_score"], abs_tol=1e-5)
    assert set(long_["contributions"]["distillable"]) <= set(V1_NAMES)
    filtered = score_record(
        record(3, dict(LONG_ARTICLE, url="https://www.reddit.com/r/x/comments/1/a_long_title/")), scorer
    )
    assert filtered["filtered"] is True and filtered["decision"] is False
    assert score_record(record(0, SHORT_ARTICLE), scorer, heuristics="opengraph")["decision"] is True


def make_dir(tmp_path, pages):
    out = OutDir(tmp_path / "out")
    out.root.mkdir()
    scorer = load_scorer()
    entries = out.register([type("L", (), {"line": i, "url": p["url"]})() for i, p in enumerate(pages)])
    for entry, page in zip(entries, pages):
        v1 = v1_from_derived(derived_features(entry.index, page))
        native = {
            "derived_features": v1,
            "features": {"element_count": page["numElements"], "is_mobile_friendly": False},
        }
        native.update(scorer.explain(v1, page["url"], explain=False))
        write_features(out, entry, "feature", _feature_record(entry, page, native))
        (out.root / f"{entry.index}.png").write_bytes(b"png")
        text = "word " * (300 if page is LONG_ARTICLE else 40)
        write_features(out, entry, "dfeature", _feature_record(entry, raw("chrome-distiller://x/", innerText=text)))
        atomic_write_json(
            out.path(entry.index, ".info"),
            {
                "index": entry.index,
                "id": entry.id,
                "url": entry.url,
                "screenshot": str(out.path(entry.index, ".png")),
                "distilled": str(out.path(entry.index, "-distilled.png")),
            },
            indent=None,
        )
    return out.root, entries


def test_write_index_aggregates_without_a_browser(tmp_path):
    root, entries = make_dir(tmp_path, [SHORT_ARTICLE, HOMEPAGE, TINY, LONG_ARTICLE])
    proc = run_boxcrawl("distill", "--out", root, "--write-index", "--raw-jsonl")
    assert "index: 4" in proc.stdout
    index = json.loads((root / "index").read_text())
    assert [i["index"] for i in index] == [0, 1, 2, 3] and index[3]["url"] == LONG_ARTICLE["url"]
    derived = json.loads((root / "feature-derived").read_text())
    assert [d["index"] for d in derived] == [0, 1, 2, 3] and len(derived[0]["features"]) == 96
    assert len(json.loads((root / "dfeature-derived").read_text())) == 4
    assert json.loads((root / "mfeature-derived").read_text()) == []
    lines = (root / "feature.jsonl").read_text().splitlines()
    assert len(lines) == 4 and json.loads(lines[1])["features"]["url"] == HOMEPAGE["url"]

    # re-derivation from the aggregated raw features gives the same derived lists; it never overwrites
    run_boxcrawl("derive-features", "--core", root / "feature.jsonl", "--out", tmp_path / "rederived")
    again = json.loads((tmp_path / "rederived").read_text())
    assert [a["features"] for a in again] == [d["features"] for d in derived]
    refused = run_boxcrawl(
        "derive-features", "--core", root / "feature.jsonl", "--out", tmp_path / "rederived", check=False
    )
    assert refused.returncode == 2 and "refusing to overwrite" in refused.stderr
    native = run_boxcrawl("distill-score", root, "--vector", "native", "--no-explain")
    assert [json.loads(line)["decision"] for line in native.stdout.splitlines()] == [False, False, False, True]
    assert "contributions" not in native.stdout
    scored = run_boxcrawl("distill-score", root)
    rows = [json.loads(line) for line in scored.stdout.splitlines()]
    assert [r["decision"] for r in rows] == [False, False, False, True]
    assert "1/4 pages would get reader mode" in scored.stderr

    check = run_boxcrawl("check-derived", "--features", root / "feature-derived")
    assert "0/4 have mismatching derived features, 0 were skipped." in check.stdout


def read_csv(path):
    with open(path) as f:
        return list(csv.reader(f))


def test_features_csv_marked_and_distilled(tmp_path):
    root, entries = make_dir(tmp_path, [SHORT_ARTICLE, HOMEPAGE, TINY, LONG_ARTICLE])
    run_boxcrawl("distill", "--out", root, "--write-index")
    archive = json.loads((root / "index").read_text())
    archive[0]["good"], archive[1]["good"], archive[3]["good"] = 2, 0, -1  # 2 -> 1, -1 dropped, 2 unlabeled
    archive[0]["url"] = "  " + archive[0]["url"] + " \n"  # stripped on both sides
    del archive[0]["id"]
    (tmp_path / "archive.json").write_text(json.dumps(archive))
    proc = run_boxcrawl(
        "features-csv",
        "--marked",
        tmp_path / "archive.json",
        "--features",
        root / "feature-derived",
        "--out",
        tmp_path / "labelled",
    )
    assert "2 labelled entries (1 positive)" in proc.stdout
    main = read_csv(tmp_path / "labelled")
    assert main[0][:3] == ["good", "id", "sin"] and len(main[0]) == 49
    assert [r[0] for r in main[1:]] == ["1.0", "0.0"]
    assert main[1][main[0].index("openGraph")] == "1.0"  # booleans through float()
    assert main[2][main[0].index("anchorRatio")] == repr(600 / 3000)
    assert read_csv(tmp_path / "labelled-feature-mozScore.csv")[0] == ["good", "mozScore"]
    v1 = read_csv(tmp_path / "labelled-group-v1.csv")
    assert [r[0] for r in v1[1:]] == ["1.0", "0.0"]  # group files carry the same rows

    # long-article labels: only pages the distillable model accepts (SHORT_ARTICLE and LONG_ARTICLE)
    run_boxcrawl(
        "features-csv",
        "--distilled",
        root / "dfeature-derived",
        "--features",
        root / "feature-derived",
        "--out",
        tmp_path / "long.csv",
        "--drop-id-sin",
    )
    long_rows = read_csv(tmp_path / "long.csv")
    assert long_rows[0][:2] == ["good", "openGraph"]
    assert [r[0] for r in long_rows[1:]] == ["0.0", "1.0"]  # 200 bytes vs 1500 bytes
    assert (tmp_path / "long-group-v1.csv").exists()

    bad = run_boxcrawl("features-csv", "--features", root / "feature-derived", "--out", tmp_path / "x", check=False)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_check_distilled_mhtml_and_mhtml_corpus(tmp_path):
    root, entries = make_dir(tmp_path, [SHORT_ARTICLE, HOMEPAGE, TINY])
    out = OutDir(root)
    same = json.loads(out.path(0, ".dfeature").read_text())
    out.path(0, ".mdfeature").write_text(json.dumps(same))
    part = dict(same, features=dict(same["features"], innerText=same["features"]["innerText"][:20]))
    out.path(1, ".mdfeature").write_text(json.dumps(part))  # a substring: stitched pages
    failed = dict(same, features=dict(same["features"], innerText="No data found."))
    out.path(2, ".mdfeature").write_text(json.dumps(failed))
    proc = run_boxcrawl("check-distilled-mhtml", "--dir", root, check=False)
    assert "2: failed to distill from MHTML" in proc.stdout
    assert "1/3 have different distilled content from mhtml" in proc.stdout and proc.returncode == 1

    out.path(0, ".mhtml").write_bytes("From: <Saved by Blink>\r\nSubject: é\r\n\r\n<p>x</p>".encode())
    out.path(1, ".mhtml").write_bytes(b"<html>not mhtml</html>")
    out.path(2, ".mhtml").write_bytes(b"From: <Saved by Blink>\r\n\xff\xfe bad utf-8")
    proc = run_boxcrawl("mhtml-corpus", "--dir", root, input="0 1\n2 7\n")
    records = proc.stdout.split("\n\n")
    assert records[0].splitlines()[0] == SHORT_ARTICLE["url"]
    assert records[0].splitlines()[1] == "url: " + json.dumps(SHORT_ARTICLE["url"])
    assert records[0].splitlines()[2] == 'title: "t"'
    assert json.loads(records[0].splitlines()[3][len("html: ") :]).startswith("From: <Saved by Blink>")
    assert records[0].splitlines()[4] == 'content: ""'
    assert proc.stdout.count("url: ") == 1
    assert "1: SKIPPED: not an MHTML file" in proc.stderr and "2: SKIPPED: MHTML is not UTF-8" in proc.stderr
    assert "7: SKIPPED: missing 7.feature" in proc.stderr
