"""Which output folders a rerun may resume, change or delete (write/rerun.py), without a browser."""

import json

import pytest

from boxcrawl.files import exclusive_lock
from boxcrawl.write.rerun import RerunRefused, check_layout, clear, history_for

NOW = {
    "seeds": ["http://a.test/"],
    "follow_links": True,
    "scope": "host",
    "include": [],
    "exclude": [],
    "browser": {"viewport_width": 512},
    "select": {"max_crops": 16},
}


def test_a_setting_an_older_config_json_did_not_have_is_not_a_change(tmp_path):
    older = {k: v for k, v in NOW.items() if k not in ("include", "exclude")}  # written before they existed
    (tmp_path / "config.json").write_text(json.dumps(older))
    assert history_for(tmp_path, NOW, resume_with_changes=False) == []
    (tmp_path / "config.json").write_text(json.dumps(dict(older, scope="any")))
    with pytest.raises(RerunRefused, match="scope: 'any' -> 'host'"):
        history_for(tmp_path, NOW, resume_with_changes=False)


def test_a_language_filter_is_a_change_even_to_a_folder_made_before_it_existed(tmp_path):
    older = dict(NOW)  # no "lang": every language
    (tmp_path / "config.json").write_text(json.dumps(older))
    assert history_for(tmp_path, dict(NOW, lang=[]), resume_with_changes=False) == []
    with pytest.raises(RerunRefused, match=r"lang: \[\] -> \['de'\]"):
        history_for(tmp_path, dict(NOW, lang=["de"]), resume_with_changes=False)
    (tmp_path / "config.json").write_text(json.dumps(dict(NOW, lang=["de"])))
    with pytest.raises(RerunRefused, match=r"lang: \['de'\] -> \['de', 'fr'\]"):
        history_for(tmp_path, dict(NOW, lang=["de", "fr"]), resume_with_changes=False)


def test_force_deletes_only_a_boxcrawl_folder_no_crawl_is_using(tmp_path):
    project = tmp_path / "my-web-app"  # a config.json and a pages/ folder of its own
    (project / "pages").mkdir(parents=True)
    (project / "config.json").write_text(json.dumps({"name": "my-web-app", "version": "1.0.0"}))
    with pytest.raises(RerunRefused, match="not a boxcrawl output folder"):
        clear(project)
    assert (project / "config.json").exists()

    dataset = tmp_path / "dataset"
    dataset.mkdir()
    (dataset / "config.json").write_text(json.dumps(NOW))
    with exclusive_lock(dataset / ".lock", RuntimeError("held")):  # a crawl running on it
        with pytest.raises(RerunRefused, match="a crawl is running"):
            clear(dataset)
    assert (dataset / "config.json").exists()
    clear(dataset)
    assert not dataset.exists()


def test_a_sharded_render_may_not_change_how_its_list_is_cut(tmp_path):
    """`render --shard-urls`: shard k is URLs k*N.. of the list, so the list, its URL column, the columns
    kept and N decide what every shard holds: changing one is refused like any defining setting."""
    doc = dict(
        NOW, follow_links=False, urls={"file": "u.parquet", "url_col": "url", "save_columns": [], "shard_urls": 25}
    )
    (tmp_path / "config.json").write_text(json.dumps(doc))
    assert history_for(tmp_path, doc, resume_with_changes=False) == []
    for key, value in [("shard_urls", 50), ("url_col", "link"), ("save_columns", ["caption"]), ("file", "v.csv")]:
        changed = dict(doc, urls=dict(doc["urls"], **{key: value}))
        with pytest.raises(RerunRefused, match=f"urls.{key}: "):
            history_for(tmp_path, changed, resume_with_changes=False)
    assert history_for(tmp_path, changed, resume_with_changes=True) == [doc]


def test_a_folder_is_sharded_or_not_never_both(tmp_path):
    (tmp_path / "frontier.sqlite").touch()
    with pytest.raises(RerunRefused, match="without --shard-urls"):
        check_layout(tmp_path, sharded=True)
    check_layout(tmp_path, sharded=False)
    (tmp_path / "frontier.sqlite").unlink()
    (tmp_path / "_done").mkdir()
    with pytest.raises(RerunRefused, match="with --shard-urls"):
        check_layout(tmp_path, sharded=False)
    check_layout(tmp_path, sharded=True)
