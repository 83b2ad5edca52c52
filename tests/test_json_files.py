"""JSON that boxcrawl writes is valid UTF-8 even when page text holds lone UTF-16 surrogates
(a script can put any code unit in a text node), and reads back to the same text."""

import json

from boxcrawl.files import atomic_write_json, json_bytes

TEXT = {"title": "lone \ud800 high, lone \udfff low", "text": "a pair \U0001f600 and é stay as they are"}


def test_json_bytes_escape_lone_surrogates_and_round_trip():
    data = json_bytes(TEXT)
    decoded = data.decode("utf-8")  # strict
    assert "\\ud800" in decoded and "\\udfff" in decoded
    assert "\U0001f600" in decoded and "é" in decoded  # readable text is not escaped
    assert json.loads(decoded) == TEXT


def test_a_json_file_with_lone_surrogates_opens_with_a_strict_reader(tmp_path):
    path = atomic_write_json(tmp_path / "entry.feature", TEXT)
    with open(path, encoding="utf-8") as f:  # what the label app and most tools do
        assert json.load(f) == TEXT
