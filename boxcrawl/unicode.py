"""Lone UTF-16 surrogates: a page's script can put any code unit in its text, and Python hands such
text on as str, but UTF-8 (files, Parquet, lxml, tokenizers) has no form for them."""

from __future__ import annotations

import re

LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def well_formed(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD (one code point for one: offsets hold)."""
    return LONE_SURROGATE.sub("\ufffd", text)
