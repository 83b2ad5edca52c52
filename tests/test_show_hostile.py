"""`boxcrawl show` on a dataset written by someone else: every field it puts in the page is escaped
or checked, nothing from the data can run, and garbage samples do not stop the gallery."""

import html
import io
import json
import tarfile
from html.parser import HTMLParser

import pyarrow as pa
import pyarrow.parquet as pq
from conftest import run_boxcrawl
from PIL import Image, ImageDraw

SCRIPT = "<script>alert('x')</script>"
IMG_ONERROR = '<img src=x onerror="alert(1)">'
JS_URL = "javascript:alert(document.cookie)"


def _png(size=(120, 40)) -> bytes:
    im = Image.new("RGB", size, "white")
    d = ImageDraw.Draw(im)
    d.rectangle((10, 10, 40, 30), fill="black")
    d.rectangle((60, 10, 100, 30), fill="black")
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def _good(key: str) -> dict:
    return {
        "key": key,
        "url": f"https://example.test/{key}",
        "width": 120,
        "height": 40,
        "image_format": "png",
        "tokens": [
            {"text": "one", "token": "one", "id": 1, "boxes": [[10, 10, 40, 30]]},
            {"text": "two", "token": "two", "id": 2, "boxes": [[60, 10, 100, 30]]},
        ],
    }


def _tar(path, members: list[tuple[str, bytes]]) -> None:
    with tarfile.open(path, "w") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def _hostile_dataset(root):
    png = _png()
    evil = {
        "key": f"evil{SCRIPT}",
        "url": JS_URL,
        "width": '120" onload="alert(1)',
        "height": SCRIPT,
        "image_format": 'png"><script>alert(3)</script>',
        "tokens": [
            {"text": SCRIPT, "token": IMG_ONERROR, "id": '7"><script>alert(4)</script>', "boxes": [[10, 10, 40, 30]]},
            {"text": "s", "token": "strcoord", "id": 3, "boxes": [["1", 2, 3, 4], ["<script>", 0, 5, 5]]},
            {"text": "n", "token": "nan", "id": 4, "boxes": [[float("nan"), 0, 1e999, 5], [1, 2, 3]]},
            "<script>not a token</script>",
            {"text": "ok", "token": "fine", "id": 5, "boxes": [[60, 10, 100, 30]]},
            {"text": "u", "token": "lone \ud800 surrogate\x00", "id": True, "boxes": [[60, 10, 100, 30]]},
            {"text": "b", "token": "strboxes", "id": 6, "boxes": "[[0, 0, 1, 1]]"},
        ],
    }
    (root / "wds").mkdir(parents=True)
    _tar(
        root / "wds" / "part-000000.tar",
        [
            ("good_000.png", png),
            ("good_000.json", json.dumps(_good("good_000")).encode()),
            ("evil_000.png", png),
            ("evil_000.json", json.dumps(evil).encode()),
            ("strtokens_000.png", png),
            ("strtokens_000.json", json.dumps({**_good("strtokens_000"), "tokens": SCRIPT}).encode()),
            ("list_000.png", png),
            ("list_000.json", b"[1, 2, 3]"),
            ("broken_000.png", png),
            ("broken_000.json", b"{not json <script>"),
            ("noimage_000.json", json.dumps(_good("noimage_000")).encode()),
            ("badimage_000.png", SCRIPT.encode()),
            ("badimage_000.json", json.dumps(_good("badimage_000")).encode()),
            ("good_001.png", png),
            ("good_001.json", json.dumps(_good("good_001")).encode()),
        ],
    )
    (root / "wds" / "part-000001.tar").write_bytes(b"not a tar file " + SCRIPT.encode())
    (root / "pages").mkdir()
    pq.write_table(
        pa.Table.from_pylist(
            [
                {"url": "https://example.test/good_000", "outcome": "ok", "error": None, "n_tokens": 2, "n_visible": 2},
                {"url": JS_URL, "outcome": SCRIPT, "error": IMG_ONERROR, "n_tokens": 5, "n_visible": 1},
                {
                    "url": "https://example.test/fail?a=1&b=<x>",
                    "outcome": "timeout",
                    "error": "took too long",
                    "n_tokens": 0,
                    "n_visible": 0,
                },
            ]
        ),
        root / "pages" / "part-000000.parquet",
    )
    # the same columns with the wrong types
    pq.write_table(
        pa.Table.from_pylist(
            [
                {"url": 12, "outcome": 5, "error": 3.5, "n_tokens": "<script>many</script>", "n_visible": "x"},
            ]
        ),
        root / "pages" / "part-000001.parquet",
    )
    pq.write_table(pa.Table.from_pylist([{"something": "else"}]), root / "pages" / "part-000002.parquet")
    (root / "pages" / "part-000003.parquet").write_bytes(b"PAR1 garbage " + SCRIPT.encode())
    return root


class _Elements(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def test_show_escapes_and_checks_every_field_of_a_hostile_dataset(tmp_path):
    root = _hostile_dataset(tmp_path / "ds")
    proc = run_boxcrawl("show", root, check=False)
    assert proc.returncode == 0, proc.stderr
    page = (root / "gallery.html").read_text(encoding="utf-8")

    # nothing from the data became markup
    assert "<script" not in page.lower()
    parser = _Elements()
    parser.feed(page)
    for tag, attrs in parser.tags:
        assert tag not in ("script", "iframe", "object", "embed", "base", "form"), tag
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name, value)
            if name in ("href", "src", "xlink:href", "action"):
                assert not (value or "").strip().lower().startswith("javascript:"), (tag, name, value)
        if tag == "img":
            assert attrs["src"].startswith(
                ("data:image/png;base64,", "data:image/jpeg;base64,", "data:image/webp;base64,")
            ), attrs["src"][:60]
        if tag == "a":
            assert attrs["href"].startswith(("https://", "http://")), attrs
        if tag in ("img", "svg", "rect"):
            for name in ("width", "height", "x", "y"):
                if name in attrs:
                    float(attrs[name])  # numbers only, never the data's text
    # no script of its own either, and a policy that forbids any
    assert sum(1 for tag, a in parser.tags if tag == "meta" and a.get("http-equiv") == "Content-Security-Policy") == 1
    csp = next(
        a["content"] for tag, a in parser.tags if tag == "meta" and a.get("http-equiv") == "Content-Security-Policy"
    )
    assert "default-src 'none'" in csp and "script-src" not in csp

    # the data's text is shown, escaped
    assert html.escape(SCRIPT) in page  # outcome, token text / key
    assert html.escape(IMG_ONERROR) in page  # token and error
    assert html.escape(JS_URL) in page  # shown as text, not linked
    assert html.escape("https://example.test/fail?a=1&b=<x>") in page
    assert "lone \ufffd surrogate\ufffd" in page

    # the good samples are all there, the garbage ones counted
    figures = page.split("<figure")[1:]
    assert any("good_000" in f for f in figures) and any("good_001" in f for f in figures)
    assert any("evil" in f for f in figures)  # partly bad: shown, with a note
    evil = next(f for f in figures if "evil" in f)
    assert "invalid" in evil
    assert "skipped" in page
    assert '<a href="https://example.test/good_001"' in page


def test_show_in_process_returns_the_gallery_for_string_coordinates(tmp_path):
    from boxcrawl.show.gallery import write_gallery

    root = tmp_path / "ds"
    (root / "wds").mkdir(parents=True)
    meta = {**_good("strcoords"), "width": "120", "height": "40"}
    meta["tokens"][0]["boxes"] = [["1", 2, 3, 4]]
    _tar(root / "wds" / "part-000000.tar", [("strcoords.png", _png()), ("strcoords.json", json.dumps(meta).encode())])
    page = write_gallery(root).read_text(encoding="utf-8")
    assert page.count("<figure") == 1 and "strcoords" in page
    assert 'width="120"' in page and 'height="40"' in page  # taken from the image itself
