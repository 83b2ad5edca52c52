"""Optional parts of boxcrawl and the extra that installs each: a missing one is one line that
says what to install, never a traceback."""

from __future__ import annotations

import importlib
from types import ModuleType

# top-level module -> (the package that brings it, the extra that installs the package)
EXTRA_OF = {
    "readability": ("readability-lxml", "distill"),
    "lxml": ("lxml", "distill"),
    "lxml_html_clean": ("lxml-html-clean", "distill"),
    "html5lib": ("html5lib", "distill"),
    "cssselect": ("cssselect", "distill"),
    "chardet": ("chardet", "distill"),
    "google": ("protobuf", "distill"),  # the .dfeature files and the exported model
    "starlette": ("starlette", "label"),
    "uvicorn": ("uvicorn", "label"),
    "sklearn": ("scikit-learn", "train"),
    "matplotlib": ("matplotlib", "train"),
    "datasets": ("datasets", "hf"),
    "py3langid": ("py3langid", "lang"),
    "s3fs": ("s3fs", "s3"),  # --out s3://...
    "ray": ("ray", "ray"),
}


class MissingExtra(ImportError):
    def __init__(self, package: str, extra: str):
        super().__init__(
            f"{package} is not installed; it comes with boxcrawl's [{extra}] extra: pip install 'boxcrawl[{extra}]'"
        )
        self.extra = extra


def hint(exc: ModuleNotFoundError, extra: str | None = None) -> MissingExtra | None:
    """The one-line error for a missing optional module (naming ``extra``, the one the command
    needs, when given: protobuf alone is in two), or None when ``exc`` is about another module."""
    top = (exc.name or "").split(".")[0]
    if top not in EXTRA_OF:
        return None
    package, own = EXTRA_OF[top]
    return MissingExtra(package, extra or own)


def require(module: str) -> ModuleType:
    """``module`` imported, or the one-line MissingExtra."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if (missing := hint(exc)) is None:
            raise
        raise missing from None
