"""`pip install boxcrawl` alone crawls and renders: a wheel built from this checkout goes into a
new venv with the base install only, renders a page, and every command of an extra that is not
installed says in one line which extra to install."""

import os
import shutil
import subprocess
import sys
import venv

import pytest
from conftest import ROOT, fast_flags

pytestmark = pytest.mark.browser

EXTRAS_ONLY = [
    "readability-lxml",
    "lxml",
    "html5lib",
    "starlette",
    "uvicorn",
    "scikit-learn",
    "matplotlib",
    "datasets",
    "py3langid",
]


def _run(*cmd, cwd=None, timeout=600):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(list(map(str, cmd)), capture_output=True, text=True, timeout=timeout, cwd=cwd, env=env)


@pytest.fixture(scope="module")
def base_venv(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("install")
    src = tmp / "src"  # built from a copy: a build in place would leave build/ in the checkout
    shutil.copytree(ROOT / "boxcrawl", src / "boxcrawl", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    built = _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", tmp / "dist", src)
    assert built.returncode == 0, built.stderr
    [wheel] = (tmp / "dist").glob("boxcrawl-*.whl")
    env = tmp / "venv"
    venv.create(env, with_pip=True)
    installed = _run(env / "bin" / "pip", "install", "-q", wheel)
    assert installed.returncode == 0, installed.stderr[-3000:]
    return env


def test_the_base_install_has_no_extra_and_renders_a_page(base_venv, site, tmp_path):
    listed = _run(base_venv / "bin" / "pip", "list", "--format=freeze").stdout.lower()
    names = {line.split("==")[0] for line in listed.splitlines()}
    assert "boxcrawl" in names and "playwright" in names
    assert not names & {n.lower() for n in EXTRAS_ONLY}, names & set(EXTRAS_ONLY)
    out = tmp_path / "out"
    proc = _run(base_venv / "bin" / "boxcrawl", "render", f"{site.url}/index.html", "--out", out, *fast_flags())
    assert proc.returncode == 0, proc.stderr
    read = _run(
        base_venv / "bin" / "python",
        "-c",
        "import sys, boxcrawl; ds = boxcrawl.open_dataset(sys.argv[1]); "
        "print(sum(1 for _ in ds.samples()), [p['outcome'] for p in ds.pages()])",
        out,
    )
    assert read.returncode == 0, read.stderr
    n, outcomes = read.stdout.split(" ", 1)
    assert int(n) >= 1 and outcomes.strip() == "['ok']"
    assert (out / "README.md").is_file()  # the dataset card needs no extra either


@pytest.mark.parametrize(
    "extra, args",
    [
        ("distill", ["distill", "http://127.0.0.1:9/", "--out", "{tmp}/d"]),
        ("distill", ["readerable", "{tmp}/x.html"]),
        ("label", ["label", "--data-dir", "{tmp}"]),
        ("train", ["train", "--csv", "{tmp}/x.csv", "--model", "distillable"]),
        ("lang", ["render", "http://127.0.0.1:9/", "--out", "{tmp}/r", "--lang", "de"]),
        (
            "ray",
            ["render", "--urls-file", "{tmp}/x.csv", "--shard-urls", "2", "--distributor", "ray", "--out", "{tmp}/y"],
        ),
    ],
)
def test_a_command_whose_extra_is_missing_says_which_to_install(base_venv, tmp_path, extra, args):
    (tmp_path / "x.html").write_text("<p>hi</p>")
    (tmp_path / "x.csv").write_text("url,label\n")
    proc = _run(base_venv / "bin" / "boxcrawl", *[a.format(tmp=tmp_path) for a in args])
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1, proc.stderr  # one line, no traceback
    assert f"pip install 'boxcrawl[{extra}]'" in proc.stderr, proc.stderr


def test_to_hf_without_datasets_says_which_extra(base_venv, tmp_path):
    proc = _run(
        base_venv / "bin" / "python", "-c", f"import boxcrawl; boxcrawl.open_dataset({str(tmp_path)!r}).to_hf()"
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1].endswith("pip install 'boxcrawl[hf]'"), proc.stderr
