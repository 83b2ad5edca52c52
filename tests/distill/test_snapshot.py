"""MHTML snapshots as Chrome's distiller is given them (distill/snapshot.py), without a browser."""

import asyncio

from boxcrawl.distill.snapshot import Snapshot, SnapshotServer

MHTML = (
    b"From: <Saved by Blink>\r\nSnapshot-Content-Location: http://a.test/page\r\nSubject: x\r\n"
    b'MIME-Version: 1.0\r\nContent-Type: multipart/related; type="text/html"; boundary="B"\r\n\r\n'
    b"--B\r\nContent-Type: text/html\r\nContent-ID: <frame-0>\r\nContent-Transfer-Encoding: quoted-printable\r\n"
    b"Content-Location: http://a.test/page#top\r\n\r\n<html><body><p>caf=C3=A9</p></body></html>\r\n"
    b"--B\r\nContent-Type: text/css\r\nContent-Transfer-Encoding: quoted-printable\r\n"
    b"Content-Location: http://a.test/\xc3\xa9.css\r\n\r\np { color: red }\r\n--B--\r\n"
)


def test_parse_reads_the_document_and_parts_even_with_raw_non_ascii_headers():
    snap = Snapshot.parse(MHTML)
    assert snap.url == "http://a.test/page"  # the fragment is not part of what Chrome asks for
    kind, body = snap.resources["http://a.test/page"]
    assert kind == "text/html" and "café".encode() in body
    assert any(url.endswith(".css") for url in snap.resources)


def test_two_entries_with_one_url_take_turns():
    server = SnapshotServer()
    first, second = (
        Snapshot("http://a.test/", {"http://a.test/": ("text/html", b"1")}),
        Snapshot("http://a.test/", {"http://a.test/": ("text/html", b"2")}),
    )
    seen = []

    async def distil(snap, name):
        async with server.serving(snap):
            seen.append((name, server._find("http://a.test/")[1]))
            await asyncio.sleep(0.01)
            seen.append((name, server._find("http://a.test/")[1]))

    async def both():
        await asyncio.gather(distil(first, "first"), distil(second, "second"))

    asyncio.run(both())
    assert seen == [("first", b"1"), ("first", b"1"), ("second", b"2"), ("second", b"2")]
    assert server._find("http://a.test/") is None
