"""README, walked: every ```sh and ```python block in it runs here, as written, against sites served on
127.0.0.1, so the README cannot drift from the tool.

The only changes made to a block are in `SUBSTITUTIONS` below and each says why: public URLs become a
small local site, the Redis host and password become a real redis-server's, commands that open pages get
`--allow-hosts 127.0.0.1` (loopback is refused without it, as it should be). Blocks run in bash with
`set -euo pipefail` from a scratch folder, so any failing line fails the test. A block no story claims
fails `test_every_block_is_walked`: a new snippet gets a walk, or a reason it cannot run here.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import tomllib
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROOT
from label_server import free_port
from redis_server import RedisServer
from site_server import SiteServer

import boxcrawl

pytestmark = pytest.mark.browser

README = ROOT / "README.md"

# Lines that cannot run inside this suite, with the reason; every other line is run.
NOT_RUN = {
    "make test": "it is this test suite",
}


@dataclass(frozen=True)
class Block:
    line: int  # where the block's first line is in README
    lang: str
    text: str


def readme_blocks(tags: tuple[str, ...] = ("sh", "python")) -> list[Block]:
    """The fenced blocks of README with these tags (untagged ones are "-")."""
    blocks, lang, start, body = [], None, 0, []
    for number, line in enumerate(README.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("```"):
            if lang is None:
                lang, start, body = line[3:].strip() or "-", number + 1, []
            else:
                if lang in tags:
                    blocks.append(Block(start, lang, "\n".join(body)))
                lang = None
        elif lang is not None:
            body.append(line)
    return blocks


def block(starting: str) -> Block:
    """The one README block whose text contains `starting` (a walk names its block by content, not line)."""
    found = [b for b in readme_blocks() if starting in b.text]
    assert len(found) == 1, f"{len(found)} README blocks contain {starting!r}"
    return found[0]


# -- a small local site standing in for the public ones -------------------------------------------------
PROSE = (
    "Python is an easy to learn, powerful programming language. It has efficient high-level data "
    "structures and a simple but effective approach to object-oriented programming. Its elegant syntax "
    "and dynamic typing, together with its interpreted nature, make it an ideal language for scripting "
    "and rapid application development in many areas on most platforms. "
)


def page(title: str, links: list[str], paragraphs: int = 6) -> str:
    nav = "".join(f'<li><a href="{href}">{href}</a></li>' for href in links)
    body = "".join(f"<p>{PROSE * (1 + i % 3)}</p>" for i in range(paragraphs))
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f'<meta property="og:type" content="article"></head><body><nav><ul>{nav}</ul></nav>'
        f"<article><h1>{title}</h1>{body}</article></body></html>"
    )


DOCS_PAGES = ("", "index.html", "library.html", "tutorial.html")  # what a crawl of /docs/3/ finds


def write_site(root: Path) -> None:
    """/docs/3/ (three linked pages) for docs.python.org/3/, and / + /about.html for example.org."""
    docs = root / "docs" / "3"
    docs.mkdir(parents=True)
    names = ["index.html", "tutorial.html", "library.html"]
    for name in names:
        (docs / name).write_text(page(f"Docs {name}", [n for n in names if n != name]), encoding="utf-8")
    (root / "index.html").write_text(page("Example home", ["about.html"]), encoding="utf-8")
    (root / "about.html").write_text(page("About the example", ["index.html"]), encoding="utf-8")
    (root / "news.html").write_text(page("Example news", []), encoding="utf-8")


@pytest.fixture
def walk(tmp_path):
    root = tmp_path / "site"
    write_site(root)
    work = tmp_path / "work"
    work.mkdir()
    with SiteServer(root) as server:
        yield Walk(work, server.url)


LOOPBACK_COMMANDS = re.compile(r"^(\s*boxcrawl (?:crawl|render|worker|distill)(?=\s|$)(?:(?!\s#).)*?)(\s+#.*)?$", re.M)


class Walk:
    """Runs README blocks in one scratch folder, with the substitutions applied."""

    def __init__(self, cwd: Path, site: str):
        self.cwd, self.site = cwd, site
        self.extra: list[tuple[str, str]] = []

    def substitutions(self) -> list[tuple[str, str]]:
        # Each pair: (what README says, what runs here). Longest first, so a URL's path survives.
        return [
            ("source .venv/bin/activate", f"source {ROOT}/.venv/bin/activate"),  # the repo's venv, from here
            ("https://docs.python.org/3/", f"{self.site}/docs/3/"),  # a public site: a local one
            ("https://example.org/about", f"{self.site}/about.html"),
            ("https://example.org/", f"{self.site}/"),
            *self.extra,
        ]

    def prepare(self, text: str) -> str:
        for said, runs in self.substitutions():
            text = text.replace(said, runs)

        def allow_loopback(m: re.Match) -> str:
            command, comment = m.group(1), m.group(2) or ""
            return command if "--allow-hosts" in command else f"{command} --allow-hosts 127.0.0.1{comment}"

        return LOOPBACK_COMMANDS.sub(allow_loopback, text)

    def run(self, b: Block, *, lines: slice = slice(None), timeout: float = 540) -> subprocess.CompletedProcess:
        text = "\n".join(line for line in b.text.splitlines()[lines] if not any(k in line for k in NOT_RUN))
        script = self.prepare(text)
        if b.lang == "python":
            args = [str(ROOT / ".venv/bin/python"), "-c", script]
        else:
            args = ["bash", "-c", "set -euo pipefail\n" + script]
        proc = subprocess.run(args, cwd=self.cwd, capture_output=True, text=True, timeout=timeout, env=self.env())
        assert proc.returncode == 0, (
            f"README block at line {b.line} failed ({proc.returncode}):\n{script}\n"
            f"stdout:\n{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-4000:]}"
        )
        return proc

    def env(self) -> dict[str, str]:
        venv = str(ROOT / ".venv/bin")
        return {
            **os.environ,
            "PATH": f"{venv}:{os.environ['PATH']}",  # `boxcrawl` is the one `pip install` put on PATH
            "HF_HUB_OFFLINE": "1",  # nothing downloads: the snippets read local folders
            "HF_DATASETS_OFFLINE": "1",
            "PYTHONUNBUFFERED": "1",
        }


def outcomes(folder: Path) -> dict[str, str]:
    return {p["url"]: p["outcome"] for p in boxcrawl.open_dataset(folder).pages(latest=True)}


# -- the walks --------------------------------------------------------------------------------------------
def test_every_block_is_walked():
    """Each sh/python block is claimed by exactly one walk below, so a new one cannot hide; and commands
    cannot hide in a block tagged otherwise (bash, console): untagged blocks hold no command."""
    for b in readme_blocks(tags=("-", "bash", "console", "shell", "py", "python3", "zsh")):
        assert b.lang == "-" and not re.search(r"^\s*(\$ |boxcrawl |make |python|import )", b.text, re.M), b
    for b in readme_blocks():
        owners = [c for c in WALKED if c in b.text]
        assert len(owners) == 1, f"README block at line {b.line} is claimed by {owners}:\n{b.text}"
    for c in [*WALKED, *NOT_RUN]:
        block(c)  # and every claim still names a block


WALKED = [
    "make demo",
    "pip install ./boxcrawl",
    "boxcrawl crawl https://docs.python.org/3/ --out py-docs",
    "ds.pages(latest=True)",
    'datasets.load_dataset("webdataset"',
    "import torch, webdataset as wds",
    "boxcrawl audit demo-out",
    "--save-columns caption,source_id --shard-urls 1000",
    "--frontier redis://",
    "boxcrawl distill --urls-file urls.txt",
    "boxcrawl label --data-dir distill-out",
    "boxcrawl train --csv labelled",
]


def test_pip_install_names_only_extras_that_exist():
    """Installing is not run here (it would download); the block's extras must be the package's."""
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    named = re.findall(r"boxcrawl\[(\w+)\]", block("pip install ./boxcrawl").text)
    assert named and set(named) <= set(extras), (named, sorted(extras))
    for name, command in [("label", "label"), ("train", "train"), ("distill", "distill")]:
        assert name in named, f"README does not say which extra `{command}` needs"


def test_quick_start_demo_python_and_audit(walk):
    """`make demo`, the crawl/render/status/show quick start, the three Python snippets on demo-out, audit."""
    # OUT= is documented; -o bootstrap: the suite's own bootstrap ran, and a second would pip install into
    # the venv the other test workers are using
    walk.extra = [("make demo", f"make -C {ROOT} -o bootstrap demo OUT={walk.cwd}/demo-out")]
    demo = walk.run(block("make demo"))
    assert "gallery:" in demo.stdout
    assert boxcrawl.open_dataset(walk.cwd / "demo-out").samples_table().num_rows > 100

    quick = block("boxcrawl crawl https://docs.python.org/3/ --out py-docs")
    (walk.cwd / "urls.txt").write_text(
        f"# pages to render\n{walk.site}/news.html   # a comment after a URL\n{walk.site}/about.html\n"
    )
    out = walk.run(quick)
    crawled = outcomes(walk.cwd / "py-docs")
    assert sorted(crawled) == [f"{walk.site}/docs/3/{n}" for n in DOCS_PAGES]
    assert set(crawled.values()) == {"ok"}
    rendered = outcomes(walk.cwd / "some-pages")
    assert sorted(rendered) == [f"{walk.site}/", f"{walk.site}/about.html", f"{walk.site}/news.html"]
    assert set(rendered.values()) == {"ok"}
    assert "done" in out.stdout and (walk.cwd / "py-docs" / "gallery.html").is_file()

    for snippet in ("ds.pages(latest=True)", 'datasets.load_dataset("webdataset"', "import torch, webdataset"):
        walk.run(block(snippet))

    walk.extra = [("other-set", "py-docs")]  # any other dataset
    audit = block("boxcrawl audit demo-out")
    walk.run(audit, lines=slice(0, 2))
    bar = subprocess.run(
        ["bash", "-c", walk.prepare(audit.text.splitlines()[2])], cwd=walk.cwd, env=walk.env(), capture_output=True
    )
    assert bar.returncode in (0, 1), bar.stderr  # 1 is its documented answer below the bar


def test_rendering_a_url_list(walk):
    """The CSV list with two columns kept, two processes: one shard, marked done, the columns in the records."""
    proc = walk.run(block("--save-columns caption,source_id --shard-urls 1000"))
    assert "shards: 1 of 1 done" in proc.stdout
    ds = boxcrawl.open_dataset(walk.cwd / "list-pages")
    pages = {p["url"]: (p["caption"], p["source_id"]) for p in ds.pages(columns=["url", "caption", "source_id"])}
    assert pages == {f"{walk.site}/": ("home", "1"), f"{walk.site}/about.html": ("about", "2")}
    assert (walk.cwd / "list-pages" / "_done" / "part-000000.json").exists()


def test_redis_section(walk, tmp_path):
    with RedisServer(tmp_path / "redis", password="s3cret-pass") as redis:
        walk.extra = [
            ("redis://:PASS@redis-host:6379/0", redis.url()),  # a real redis-server, its real password
            ("/shared/py-docs", "shared/py-docs"),  # a shared filesystem: a folder here
        ]
        (walk.cwd / "shared").mkdir()
        out = walk.run(block("--frontier redis://"))
    crawled = outcomes(walk.cwd / "shared" / "py-docs")
    assert sorted(crawled) == [f"{walk.site}/docs/3/{n}" for n in DOCS_PAGES]
    assert set(crawled.values()) == {"ok"}
    assert "s3cret-pass" not in out.stdout + out.stderr


def test_distill_label_features_and_train(walk):
    """The distillability section end to end: distill, resume, index, label in the app, features, train."""
    urls = [f"{walk.site}/{p}" for p in ("index.html", "about.html", "news.html")]
    urls += [f"{walk.site}/docs/3/{p}" for p in ("index.html", "tutorial.html", "library.html")]
    (walk.cwd / "urls.txt").write_text("\n".join(urls) + "\n")
    section = block("boxcrawl distill --urls-file urls.txt")
    walk.run(section, lines=slice(0, 3))  # distill, resume, write the index
    assert len(json.loads((walk.cwd / "dd" / "index").read_text())) == len(urls)

    # README: `boxcrawl label --data-dir distill-out`, on this walk's distill folder
    walk.extra = [("distill-out", "dd")]
    label_line = walk.prepare(block("boxcrawl label --data-dir distill-out").text.split("#")[0])
    port = free_port()
    server = subprocess.Popen(
        ["bash", "-c", f"exec {label_line} --port {port}"],
        cwd=walk.cwd,
        env=walk.env(),
        stdout=subprocess.DEVNULL,
        # as started from a terminal: a test runner may have started this suite with SIGINT ignored, and
        # the server keeps an ignored SIGINT ignored once it has stopped gracefully (exit 0, not 130)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        label_all(f"http://127.0.0.1:{port}", len(urls))
    finally:
        server.send_signal(signal.SIGINT)  # Ctrl-C: a graceful stop, which writes the archive
        assert server.wait(20) in (130, -signal.SIGINT)
    assert list((walk.cwd / "dd" / "archive").glob("archive-*.json")), "no archive written on shutdown"

    walk.extra = [("dd/archive/<newest>.json", '"$(ls dd/archive/archive-*.json | sort | tail -n1)"')]
    walk.run(section, lines=slice(3, None))
    assert (walk.cwd / "labelled").read_text().startswith("good,") and (walk.cwd / "long").is_file()

    # the training section, on the same folder (its features-csv goes to a new folder: no --force needed)
    walk.extra = [("distill-out", "dd"), ("labelled", "trainset")]
    walk.run(block("boxcrawl train --csv labelled"))
    assert (walk.cwd / "distillable-model").is_dir()  # beside the CSV


def label_all(base: str, count: int) -> None:
    """Label every entry as the page does: its CSRF token, JSON, alternating good and bad."""
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(base + "/api/health", timeout=5):
                break
        except OSError:
            assert time.monotonic() < deadline, "the label app did not come up"
            time.sleep(0.2)
    html = urllib.request.urlopen(base + "/", timeout=10).read().decode()
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
    for index in range(count):
        body = json.dumps({"index": index, "good": index % 2, "labeler": "readme"}).encode()
        request = urllib.request.Request(
            base + "/api/label",
            data=body,
            headers={"Content-Type": "application/json", "X-CSRF-Token": csrf},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 200
