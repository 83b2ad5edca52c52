"""Tokenizers: bert-base-uncased WordPiece offline by default, any HF tokenizer on request.

Every token keeps its character span in the page text, so a dataset can be
re-tokenized later without re-crawling.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from tokenizers import Tokenizer
from tokenizers.implementations import BertWordPieceTokenizer

DEFAULT_TOKENIZER = "bert-base-uncased"


class TokenizerError(ValueError):
    """The --tokenizer argument names nothing we can load."""


@dataclass(frozen=True)
class TokenSpans:
    """Tokens of one text: vocabulary strings, ids and [start, end) code-point offsets."""

    tokens: list[str]
    ids: list[int]
    offsets: list[tuple[int, int]]


class PageTokenizer:
    """Wraps a `tokenizers.Tokenizer`; no special tokens, no truncation."""

    def __init__(self, tokenizer: Tokenizer, name: str):
        tokenizer.no_truncation()
        tokenizer.no_padding()
        self._tokenizer = tokenizer
        self.name = name

    def __call__(self, text: str) -> TokenSpans:
        # `tokenizers` is quadratic on one long string (100k chars take minutes), so encode
        # whitespace-bounded chunks in one batch and shift their offsets back.
        chunks = list(_chunks(text))
        encodings = self._tokenizer.encode_batch([text[a:b] for a, b in chunks], add_special_tokens=False)
        tokens, ids, offsets = [], [], []
        for (base, _), enc in zip(chunks, encodings):
            for piece, tid, (s, e) in zip(enc.tokens, enc.ids, enc.offsets):
                if e > s:  # drop zero-width pieces
                    tokens.append(piece)
                    ids.append(tid)
                    offsets.append((base + s, base + e))
        return TokenSpans(tokens=tokens, ids=ids, offsets=offsets)


CHUNK = 2000


def _chunks(text: str):
    """[start, end) ranges of about CHUNK chars, cut after a newline or else a space."""
    start, n = 0, len(text)
    while start < n:
        end = min(start + CHUNK, n)
        if end < n:
            cut = text.rfind("\n", start, end)
            if cut <= start:
                cut = text.rfind(" ", start, end)
            if cut > start:
                end = cut + 1
        yield start, end
        start = end


_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*(/[\w.-]+)?")


def _bundled_vocab() -> Path:
    return Path(str(resources.files("boxcrawl.extract") / "data" / "bert-base-uncased-vocab.txt"))


def load_tokenizer(spec: str | None = None) -> PageTokenizer:
    """Load a tokenizer from a name or path.

    - None / "bert-base-uncased": the bundled bert-base-uncased vocabulary (offline)
    - a path to a HF ``tokenizer.json``
    - a path to a WordPiece ``vocab.txt`` (lower-cased unless the file name contains "cased"
      without "uncased")
    - any other string: a Hugging Face hub name, read from the local Hugging Face cache; boxcrawl
      downloads nothing while it runs (a hub download retries for a minute, printing as it goes)
    """
    spec = spec or DEFAULT_TOKENIZER
    if spec == DEFAULT_TOKENIZER:
        wp = BertWordPieceTokenizer(str(_bundled_vocab()), lowercase=True)
        return PageTokenizer(wp._tokenizer, DEFAULT_TOKENIZER)  # the wrapped tokenizers.Tokenizer
    path = Path(spec).expanduser()
    if path.is_dir() and (path / "tokenizer.json").exists():
        path = path / "tokenizer.json"
    if path.suffix == ".json" and path.exists():
        try:
            return PageTokenizer(Tokenizer.from_file(str(path)), str(path))
        except Exception as exc:  # tokenizers raises a bare Exception on bad JSON
            raise TokenizerError(f"cannot read tokenizer file {path}: {exc}") from None
    if path.suffix == ".txt" and path.exists():
        name = path.name.lower()
        lowercase = not ("cased" in name and "uncased" not in name)
        wp = BertWordPieceTokenizer(str(path), lowercase=lowercase)
        return PageTokenizer(wp._tokenizer, str(path))
    if path.exists():
        raise TokenizerError(f"--tokenizer {spec}: expected a tokenizer.json or a vocab.txt")
    if not _HUB_ID.fullmatch(spec):  # a path, not a repository name like `org/name`
        raise TokenizerError(f"--tokenizer {spec}: no such file")
    from huggingface_hub import try_to_load_from_cache  # tokenizers' own dependency

    try:
        cached = try_to_load_from_cache(spec, "tokenizer.json")
    except ValueError:  # not a valid repository name
        cached = None
    if not isinstance(cached, str):
        raise TokenizerError(
            f"--tokenizer {spec}: not a tokenizer.json or vocab.txt file, and not in the local Hugging Face "
            f"cache; boxcrawl downloads nothing while it runs: fetch it first (`hf download {spec} "
            "tokenizer.json`) or pass the file"
        )
    try:
        return PageTokenizer(Tokenizer.from_file(cached), spec)
    except Exception as exc:  # tokenizers raises a bare Exception on bad JSON
        raise TokenizerError(f"cannot read tokenizer file {cached}: {exc}") from None


def utf16_offsets(text: str, offsets: list[tuple[int, int]]) -> list[int]:
    """Code-point offsets -> flat [s0, e0, s1, e1, ...] UTF-16 offsets (what JS strings use)."""
    if text.isascii():
        return [v for pair in offsets for v in pair]
    # prefix count of UTF-16 units before each code point
    units = [0] * (len(text) + 1)
    total = 0
    for i, ch in enumerate(text):
        units[i] = total
        total += 2 if ord(ch) > 0xFFFF else 1
    units[len(text)] = total
    return [units[v] for pair in offsets for v in pair]
