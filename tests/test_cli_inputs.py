"""What a new user types wrong, without a browser: URL lists (one reader for every command), output folders
that cannot be written, a tokenizer that is not there, library noise. Each is one line and exit code 2, or
a warning that names the line, and the rest goes on."""

import subprocess
import sys

import pytest

from boxcrawl.commands import main
from boxcrawl.urllist import read_url_file, read_url_lines


def test_one_reader_strips_comments_keeps_fragments_and_names_skipped_lines(tmp_path):
    text = (
        "# pages to render\n"
        "\n"
        "http://127.0.0.1:9/a.html   # the first one\n"
        "http://127.0.0.1:9/b.html#section-2\n"
        "not a url\n"
        "http://127.0.0.1:9/a.html\n"
        "ftp://127.0.0.1/c\n"
        "\thttp://127.0.0.1:9/d.html\t#\ttabbed comment\n"
    )
    lines, skipped = read_url_lines(text, "urls.txt")
    bom = tmp_path / "bom.txt"  # Windows editors start a UTF-8 file with a byte-order mark
    bom.write_text("\ufeffhttp://127.0.0.1:9/first.html\n", encoding="utf-8")
    assert [u.url for u in read_url_file(bom)[0]] == ["http://127.0.0.1:9/first.html"]
    assert [(u.line, u.url) for u in lines] == [
        (2, "http://127.0.0.1:9/a.html"),
        (3, "http://127.0.0.1:9/b.html#section-2"),
        (7, "http://127.0.0.1:9/d.html"),
    ]
    assert [s.split(": ", 2)[:2] for s in skipped] == [
        ["urls.txt:5", "not an http(s) URL"],
        ["urls.txt:6", "duplicate of line 3"],
        ["urls.txt:7", "not an http(s) URL"],
    ]


def run(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code
    return code, capsys.readouterr().err


def test_a_list_with_nothing_usable_is_one_line_naming_the_first_bad_line(capsys, tmp_path, monkeypatch):
    urls = tmp_path / "urls.txt"
    urls.write_text("# nothing good here\nftp://x/\nhttp://\n")
    for command in ("render", "distill"):
        code, err = run([command, "--urls-file", urls, "--out", "o"], capsys, tmp_path, monkeypatch)
        assert code == 2 and len(err.strip().splitlines()) == 1, err
        assert "urls.txt:2: not an http(s) URL: 'ftp://x/' (and 1 more)" in err, err
    code, err = run(["crawl", "--seeds-file", tmp_path / "none.txt", "--out", "o"], capsys, tmp_path, monkeypatch)
    assert code == 2 and "cannot read" in err and "none.txt" in err and len(err.strip().splitlines()) == 1
    (tmp_path / "latin1.txt").write_bytes(b"http://127.0.0.1:9/caf\xe9\n")
    code, err = run(["render", "--urls-file", tmp_path / "latin1.txt", "--out", "o"], capsys, tmp_path, monkeypatch)
    assert code == 2 and "is not UTF-8 text" in err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("command", ["render", "distill"])
def test_an_out_folder_that_cannot_be_written_is_one_line(command, capsys, tmp_path, monkeypatch):
    a_file = tmp_path / "taken"
    a_file.write_text("not a folder")
    for out, why in ((a_file, "exists and is not a directory"), ("/proc/boxcrawl-x1", "cannot write there")):
        argv = [command, "http://127.0.0.1:9/", "--out", out, "--allow-hosts", "127.0.0.1"]
        code, err = run(argv, capsys, tmp_path, monkeypatch)
        assert code == 2 and len(err.strip().splitlines()) == 1, err
        assert err.startswith(f"boxcrawl {command}: error: --out {out}: {why}"), err


def test_a_tokenizer_that_is_not_there_is_one_line_and_no_download(capsys, tmp_path, monkeypatch):
    code, err = run(
        [
            "render",
            "http://127.0.0.1:9/",
            "--out",
            tmp_path / "o",
            "--tokenizer",
            "nosuch-org/nosuch",
            "--quiet",
            "--allow-hosts",
            "127.0.0.1",
        ],
        capsys,
        tmp_path,
        monkeypatch,
    )
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "not in the local Hugging Face cache" in err and "downloads nothing" in err


def test_html5lib_data_loss_warnings_stay_out_of_the_output(tmp_path):
    page = tmp_path / "page.html"
    page.write_text(f"<html><body><p @click='x' [hidden]='y' :class='z'>{'word ' * 200}</p></body></html>")
    proc = subprocess.run(
        [sys.executable, "-m", "boxcrawl", "readerable", page], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0 and '"readerable": true' in proc.stdout
    assert proc.stderr == ""
