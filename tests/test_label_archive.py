"""Archives: safe names, deterministic newest-first restore (resets survive), generational pruning."""

import json
from datetime import datetime, timedelta, timezone

from label_data import make_data_dir

from boxcrawl.label.app import LabelApp
from boxcrawl.label.archive import (
    archive_time,
    list_archives,
    newest_archive,
    prune_archives,
    read_archive,
    write_archive,
)
from boxcrawl.label.entries import load_entries

T0 = datetime(2026, 11, 22, 2, 0, 0, tzinfo=timezone.utc)


def test_names_are_safe_sortable_and_the_seeds_still_parse(tmp_path):
    a = write_archive(tmp_path, [{"index": 0}], T0)
    b = write_archive(tmp_path, [{"index": 1}], T0)  # same instant: a suffix, never an overwrite
    c = write_archive(tmp_path, [{"index": 2}], T0 + timedelta(milliseconds=5))
    for p in (a, b, c):
        assert " " not in p.name and ":" not in p.name
    seed = tmp_path / "archive" / "archive-2026-11- 1-09:15:00.json"  # the original pipeline's %e day and colons
    seed.write_text("[]")
    assert archive_time(seed.name) == datetime(2026, 11, 1, 9, 15)
    assert list_archives(tmp_path) == [seed, a, b, c]
    assert newest_archive(tmp_path) == c and read_archive(b) == [{"index": 1}]
    assert not list(tmp_path.glob("archive/*.tmp"))


def test_restore_uses_the_newest_archive_whatever_the_directory_order(tmp_path):
    data = make_data_dir(tmp_path / "data", 4)
    url = {e.index: e.url for e in load_entries(data)}
    newer = [
        {"index": 0, "url": url[0], "good": 1, "labeler": "bob", "labeled_at": "2026-11-22T02:00:00.000Z"},
        {"index": 1, "url": url[1]},  # reset after the older archive
        {"index": 2, "url": "http://elsewhere/", "good": 0},  # URL list changed: must not apply
        {"index": 3, "url": url[3] + " ", "good": -1},
    ]  # whitespace on one side only
    older = [{"index": 0, "url": url[0], "good": 0}, {"index": 1, "url": url[1], "good": 2}]
    # Write the newer one first so creation/listing order disagrees with the time in the names.
    write_archive(data, newer, T0 + timedelta(hours=1))
    write_archive(data, older, T0)
    app = LabelApp(data, load_entries(data))
    labels = app.store.labels()
    assert {i: lab.good for i, lab in labels.items()} == {0: 1, 3: -1}
    assert labels[0].labeler == "bob" and labels[0].at == "2026-11-22T02:00:00.000Z"
    assert app.ignored == 1
    app.store.close()
    # Second start: the database is the truth; archives are not replayed again.
    app = LabelApp(data, load_entries(data))
    assert app.restored_from is None and set(app.store.labels()) == {0, 3}
    path = app.archive_now()
    records = json.loads(path.read_text())
    assert [r.get("good") for r in records] == [1, None, None, -1]
    assert records[0]["labeler"] == "bob" and records[0]["url"] == url[0]
    assert records[0]["screenshot"] == "out/0.png"  # the index record itself, as the original server archived it
    assert app.archive_now() is None  # nothing changed since: no new file
    app.store.close()


def test_pruning_keeps_generations_by_age(tmp_path):
    # One archive a minute for 30 hours (named as write_archive names them; no need to fsync 1,800 files).
    (tmp_path / "archive").mkdir()
    paths = []
    for m in range(30 * 60):
        t = T0 + timedelta(minutes=m)
        paths.append(tmp_path / "archive" / t.strftime("archive-%Y-%m-%dT%H-%M-%S.000Z.json"))
        paths[-1].write_text("[]")
    (tmp_path / "x").mkdir()
    assert paths[0].name == write_archive(tmp_path / "x", [], T0).name
    deleted = prune_archives(tmp_path)
    kept = list_archives(tmp_path)
    assert len(kept) + len(deleted) == len(paths) and len(kept) <= 20
    assert kept[-1] == paths[-1]  # the newest always stays
    times = [archive_time(p.name) for p in reversed(kept)]
    gaps = [(a - b).total_seconds() / 60 for a, b in zip(times, times[1:])]
    assert gaps[:4] == [1, 1, 1, 1]  # the five newest, every save
    assert min(gaps[5:9]) >= 10 and min(gaps[10:14]) >= 100  # then every 10, every 100 minutes
    assert (times[0] - times[-1]) >= timedelta(hours=16)  # and history reaches back many hours
    seed = tmp_path / "archive" / "archive-2020-01- 1-00:00:00.json"
    seed.write_text("[]")
    prune_archives(tmp_path)
    assert seed.exists()  # other tools' files are left alone


def test_restore_prefers_the_stable_id(tmp_path):
    data = make_data_dir(tmp_path / "data", 3)
    index = json.loads((data / "index").read_text())
    for rec in index:
        rec["id"] = f"id-{rec['index']}"
    (data / "index").write_text(json.dumps(index))
    # The URL file was reordered since: ids still find the right pages.
    write_archive(data, [{"index": 0, "id": "id-2", "url": index[2]["url"], "good": 2}], T0)
    app = LabelApp(data, load_entries(data))
    assert {i: lab.good for i, lab in app.store.labels().items()} == {2: 2}
    app.archive_now()
    assert json.loads(newest_archive(data).read_text())[2]["id"] == "id-2"
    app.store.close()
