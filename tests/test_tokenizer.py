import blingfire
import pytest

from boxcrawl.extract.tokenizer import TokenizerError, load_tokenizer, utf16_offsets

TEXT = (
    'Tokenization of web pages: bounding boxes for every WordPiece, e.g. "hello" -> 7592; '
    "naïve café déjà-vu, CJK 漢字 and emoji 😀 are handled; URLs like https://example.org/a?b=c."
)


@pytest.fixture(scope="module")
def tok():
    return load_tokenizer()


def test_known_bert_base_uncased_ids(tok):
    assert tok("hello").ids == [7592]
    assert tok("tokenization").ids == [19204, 3989]
    assert tok("tokenization").tokens == ["token", "##ization"]


def test_ids_equal_an_independent_bert_base_uncased_implementation(tok):
    # blingfire ships its own compiled bert-base-uncased model; the two must agree id for id
    model = blingfire.load_model(blingfire.__file__.rsplit("/", 1)[0] + "/bert_base_tok.bin")
    theirs = [int(i) for i in blingfire.text_to_ids(model, TEXT, 512, 100) if i]
    blingfire.free_model(model)
    assert tok(TEXT).ids == theirs


def test_spans_point_at_the_surface_text(tok):
    spans = tok(TEXT)
    for piece, (s, e) in zip(spans.tokens, spans.offsets):
        surface = TEXT[s:e].lower()
        if piece != "[UNK]":
            assert piece.removeprefix("##") in (surface, _strip_accents(surface))


def _strip_accents(s):
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFD", s) if unicodedata.category(c) != "Mn")


def test_long_text_is_chunked_without_changing_tokens(tok):
    long_text = (TEXT + "\n") * 400  # ~80k chars: one encode() call would take minutes
    spans = tok(long_text)
    single = tok(TEXT + "\n")
    assert spans.ids == single.ids * 400
    step = len(TEXT) + 1
    n = len(single.ids)
    assert spans.offsets[n] == (single.offsets[0][0] + step, single.offsets[0][1] + step)


def test_utf16_offsets_count_astral_characters_twice():
    text = "a😀b"
    assert utf16_offsets(text, [(0, 1), (1, 2), (2, 3)]) == [0, 1, 1, 3, 3, 4]


def test_vocab_and_tokenizer_json_load(tmp_path, tok):
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\nworld\n##s\n")
    mine = load_tokenizer(str(vocab))
    assert mine("hello worlds").ids == [4, 5, 6]
    saved = tmp_path / "tokenizer.json"
    tok._tokenizer.save(str(saved))
    assert load_tokenizer(str(saved))("hello tokenization").ids == [7592, 19204, 3989]


def test_bad_tokenizer_path_is_a_clear_error(tmp_path):
    bad = tmp_path / "tokenizer.json"
    bad.write_text("{not json")
    with pytest.raises(TokenizerError, match="cannot read tokenizer"):
        load_tokenizer(str(bad))
    with pytest.raises(TokenizerError):
        load_tokenizer(str(tmp_path / "nope" / "x.bin"))


def test_hub_names_come_from_the_local_cache_only(tmp_path, tok, monkeypatch):
    """A hub name is read from the Hugging Face cache's layout; one that is not there is one clear error at
    once, not a minute of download retries: nothing downloads at run time."""
    from huggingface_hub import constants

    snapshot = tmp_path / "hub" / "models--someorg--tiny-bert" / "snapshots" / "0123abcd"
    snapshot.mkdir(parents=True)
    tok._tokenizer.save(str(snapshot / "tokenizer.json"))
    (tmp_path / "hub" / "models--someorg--tiny-bert" / "refs").mkdir()
    (tmp_path / "hub" / "models--someorg--tiny-bert" / "refs" / "main").write_text("0123abcd")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    loaded = load_tokenizer("someorg/tiny-bert")
    assert loaded.name == "someorg/tiny-bert" and loaded("hello tokenization").ids == [7592, 19204, 3989]
    for name in ("someorg/not-cached", "nosuch"):
        with pytest.raises(TokenizerError, match="not in the local Hugging Face cache"):
            load_tokenizer(name)
