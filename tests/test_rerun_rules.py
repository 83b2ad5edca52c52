"""Which output folders a rerun may resume, change or delete (write/rerun.py), without a browser."""

import json

import pytest

from boxcrawl.files import exclusive_lock
from boxcrawl.write.rerun import RerunRefused, clear, history_for

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
