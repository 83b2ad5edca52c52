"""The WebDataset tars: what webdataset reads back, and a writer that does not need the package."""

import subprocess
import sys
import tarfile

import pyarrow as pa
import webdataset as wds

from boxcrawl.write.formats import PackedPage, write_webdataset


def page(keys: list[str]) -> PackedPage:
    members = [(key, "png", f"image of {key}".encode(), b'{"key": "%s"}' % key.encode()) for key in keys]
    return PackedPage("http://x/", "ok", None, pa.record_batch({"a": [1]}), pa.record_batch({"b": [1]}), members)


def test_webdataset_reads_every_sample_back_with_its_members(tmp_path):
    path = tmp_path / "part-000000.tar"
    write_webdataset(path, [page(["a-0000", "a-0001"]), page(["b-0000"])])
    samples = list(wds.WebDataset(str(path), shardshuffle=False))
    assert [(s["__key__"], s["png"], s["json"]) for s in samples] == [
        ("a-0000", b"image of a-0000", b'{"key": "a-0000"}'),
        ("a-0001", b"image of a-0001", b'{"key": "a-0001"}'),
        ("b-0000", b"image of b-0000", b'{"key": "b-0000"}'),
    ]
    with tarfile.open(path) as tar:
        infos = tar.getmembers()
    assert [i.name for i in infos][:2] == ["a-0000.json", "a-0000.png"], "a sample's members in name order"
    assert all(i.mode == 0o444 and i.isfile() for i in infos)
    # plain ustar, as webdataset writes: no pax header (an extra 1 KiB entry) before each member
    assert not any(i.pax_headers for i in infos) and b"PaxHeader" not in path.read_bytes()


def test_writing_a_dataset_imports_neither_webdataset_nor_torch():
    # webdataset imports torch where it is installed: seconds and 150 MB for every writer process
    code = (
        "import sys, boxcrawl.commands, boxcrawl.crawl, boxcrawl.distribute.render;"
        " print(sorted({'torch', 'webdataset'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
