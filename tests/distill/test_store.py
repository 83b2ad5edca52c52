"""URL lists (blanks, comments, duplicates, invalid lines) and stable entry numbers."""

from boxcrawl.distill.store import OutDir, entry_id
from boxcrawl.urllist import read_url_lines


def test_url_file_tolerates_blanks_comments_duplicates_and_invalid_lines():
    text = (
        "# my list\n\nhttp://a.test/1\n  http://a.test/2  \nhttp://a.test/1\nftp://x/\nnot a url\n"
        "http://\nhttp://a.test/3\n"
    )
    lines, warnings = read_url_lines(text, "urls.txt")
    assert [(l.line, l.url) for l in lines] == [(2, "http://a.test/1"), (3, "http://a.test/2"), (8, "http://a.test/3")]
    assert len(warnings) == 4
    assert "urls.txt:5: duplicate of line 3" in warnings[0]
    assert "urls.txt:6: not an http(s) URL" in warnings[1]
    assert "urls.txt:8: URL has no host" in warnings[3]


def test_entry_numbers_survive_edits_to_the_url_file(tmp_path):
    out = OutDir(tmp_path)
    first = out.register(read_url_lines("http://a.test/x\nhttp://a.test/y\n")[0])
    assert [(e.index, e.url) for e in first] == [(0, "http://a.test/x"), (1, "http://a.test/y")]
    assert first[0].id == entry_id("http://a.test/x") and len(first[0].id) == 16
    # a URL inserted at the top: the old ones keep their numbers, the new one takes a free one
    second = out.register(read_url_lines("http://a.test/new\nhttp://a.test/x\nhttp://a.test/y\nhttp://a.test/z\n")[0])
    got = {e.url: e.index for e in second}
    assert got["http://a.test/x"] == 0 and got["http://a.test/y"] == 1
    assert got["http://a.test/z"] == 3  # its own line number was free
    assert got["http://a.test/new"] == 2  # line 0 was taken: the next free number
    assert len(set(got.values())) == 4
    assert {e.index: e.url for e in out.registered().values()} == {v: k for k, v in got.items()}
