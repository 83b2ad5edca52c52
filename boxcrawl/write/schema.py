"""The one definition of what a dataset holds: Arrow schemas the writers and readers share.

Every sample field is always present with one type (an empty list, never ``null``; a float is
written as a float even when it is whole), so a loader that infers types from the first few
samples, as Hugging Face ``datasets`` does for WebDataset shards, infers the right ones. For the
same reason no sample field is a list that may be empty: the selection record of a page (which
page tokens each crop holds and which its edge cuts) is in the pages table's ``crops`` column.

``hf_features`` and ``hub_features`` give the same schemas in the two forms the Hugging Face
tools read: the JSON kept in Parquet metadata, and the YAML list of a dataset card.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from typing import Any

import pyarrow as pa

BOX = pa.list_(pa.float32())  # x0, y0, x1, y1

PAGE_TOKEN = pa.struct(
    [
        ("text", pa.string()),
        ("token", pa.string()),
        ("id", pa.int32()),
        ("start", pa.int32()),
        ("end", pa.int32()),
        ("boxes", pa.list_(BOX)),
        ("visible", pa.bool_()),
        ("hidden_reason", pa.string()),
    ]
)
PAGE_CROP = pa.struct(
    [
        ("key", pa.string()),  # the sample made of this crop
        ("box", BOX),  # page CSS px
        ("tokens", pa.list_(pa.int32())),  # page token indices fully inside
        ("cut_tokens", pa.list_(pa.int32())),  # visible page tokens its edge cuts (not in the sample)
    ]
)
TIMING_STAGES = (
    "load",
    "settle",
    "layout",
    "collect",
    "tokenize",
    "measure",
    "ink",
    "select",
    "capture",
    "encode",
    "verify",
)
PAGES_SCHEMA = pa.schema(
    [
        ("key", pa.string()),
        ("url", pa.string()),
        ("final_url", pa.string()),
        ("status", pa.int32()),
        ("outcome", pa.string()),
        ("error", pa.string()),
        ("content_type", pa.string()),
        ("fetched_at", pa.string()),
        ("depth", pa.int32()),
        ("attempts", pa.int32()),
        ("width", pa.float32()),
        ("height", pa.float32()),
        ("viewport_width", pa.int32()),
        ("viewport_height", pa.int32()),
        ("scale", pa.float32()),
        ("elements", pa.int64()),
        ("load_complete", pa.bool_()),
        ("hit_tests_skipped", pa.int32()),
        ("dialogs", pa.int32()),
        ("blocked_requests", pa.int32()),
        ("timings", pa.struct([(s, pa.float32()) for s in TIMING_STAGES])),
        ("browser", pa.string()),
        ("tokenizer", pa.string()),
        ("opt_out", pa.string()),  # the --opt-out level the page was judged under (optout.policy)
        ("verdict", pa.string()),  # "allowed", "refused: <signal>", or "not judged" (failed before)
        ("signals", pa.list_(pa.string())),  # every opt-out signal seen, "source: what it said"
        ("lang_declared", pa.string()),  # <html lang> as written; null when the page has none
        ("lang_detected", pa.string()),  # with --lang: detected from the text; null otherwise or too little text
        ("lang_score", pa.float32()),  # ... the detector's probability for it
        ("text", pa.string()),
        ("n_tokens", pa.int32()),
        ("n_visible", pa.int32()),
        ("n_samples", pa.int32()),
        ("n_no_ink", pa.int32()),
        ("n_links", pa.int32()),
        ("crops", pa.list_(PAGE_CROP)),
        ("shard", pa.string()),
        ("tokens", pa.list_(PAGE_TOKEN)),
    ]
)

SAMPLE_TOKEN = pa.struct(
    [
        ("index", pa.int32()),  # in the page's tokens
        ("text", pa.string()),
        ("token", pa.string()),
        ("id", pa.int32()),
        ("start", pa.int32()),
        ("end", pa.int32()),
        ("box", BOX),  # image px: the first line's box
        ("boxes", pa.list_(BOX)),  # image px: one box per line the token spans
    ]
)
# The .json member of a WebDataset sample; the samples table adds `shard` (and `image` on request).
# Every field is filled (see `converter`); Arrow says nullable only because `datasets` reads no other.
SAMPLE_FIELDS = pa.schema(
    [
        ("key", pa.string()),
        ("page_key", pa.string()),
        ("url", pa.string()),
        ("final_url", pa.string()),
        ("crop", BOX),  # page CSS px
        ("scale", pa.float32()),
        ("width", pa.int32()),
        ("height", pa.int32()),
        ("image_format", pa.string()),
        ("n_tokens", pa.int32()),
        ("n_cut_tokens", pa.int32()),
        ("opt_out", pa.string()),  # the level and the verdict the sample was kept under
        ("verdict", pa.string()),
        ("tokens", pa.list_(SAMPLE_TOKEN)),
    ]
)
# The encoded image the way Hugging Face `datasets` stores an `Image` feature.
IMAGE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])


def webdataset_columns(image_ext: str) -> pa.Schema:
    """The columns Hugging Face's WebDataset loader makes of a shard: the key and shard path, the
    ``.json`` member as a struct, and the image (an `Image` feature, named by its extension)."""
    return pa.schema(
        [
            ("__key__", pa.string()),
            ("__url__", pa.string()),
            ("json", pa.struct(list(SAMPLE_FIELDS))),
            (image_ext, IMAGE),
        ]
    )


def samples_schema(images: bool) -> pa.Schema:
    fields = [*SAMPLE_FIELDS, pa.field("shard", pa.string())]
    if images:
        fields.append(("image", IMAGE))
    return with_hf_features(pa.schema(fields), ["image"] if images else [])


def converter(type_: pa.DataType) -> Callable[[Any], Any]:
    """A function giving a value exactly the Python types ``type_`` calls for (float for a float,
    list for a list), so JSON written from it reads back with one type per field. A missing field
    or a ``None`` is a bug in the writer and raises. Built once per type: a page's samples hold
    thousands of values."""
    if pa.types.is_struct(type_):
        fields = [(f.name, converter(f.type)) for f in type_]
        return lambda v: {name: convert(v[name]) for name, convert in fields}
    if pa.types.is_list(type_):
        item = converter(type_.value_type)
        if item is float:  # the boxes: most of the work
            return lambda v: [float(x) for x in v]
        return lambda v: [item(x) for x in v]
    for check, scalar in _SCALARS:
        if check(type_):
            return scalar
    raise TypeError(f"no JSON form for {type_}")


def _not_null(kind: type) -> Callable[[Any], Any]:
    def convert(v: Any) -> Any:
        if v is None:
            raise TypeError(f"null where a {kind.__name__} is required")
        return kind(v)

    return convert


_SCALARS: list[tuple[Callable[[pa.DataType], bool], Callable[[Any], Any]]] = [
    (pa.types.is_floating, float),  # float(None) raises already
    (pa.types.is_integer, int),
    (pa.types.is_boolean, _not_null(bool)),
    (pa.types.is_string, _not_null(str)),
]
_conform_head = converter(pa.struct([f for f in SAMPLE_FIELDS if f.name != "tokens"]))


def conform_sample(meta: dict[str, Any]) -> dict[str, Any]:
    """A sample's .json member, every field of its exact type. Its ``tokens`` are built typed
    (write/rows.py: ints, strings and boxes of floats from one numpy array) and pass as they
    are: converting a page's thousands of token values one by one cost more than writing them."""
    return {**_conform_head(meta), "tokens": meta["tokens"]}


# -- the Hugging Face forms -----------------------------------------------------------------------
_HF_DTYPES = {
    pa.string(): "string",
    pa.binary(): "binary",
    pa.bool_(): "bool",
    pa.int32(): "int32",
    pa.int64(): "int64",
    pa.float32(): "float32",
    pa.float64(): "float64",
}


def hf_feature(type_: pa.DataType, image: bool = False) -> Any:
    """One field as `datasets.Features.to_dict()` writes it (lists in the plain-list form that
    every `datasets` release since 2.x reads)."""
    if image:
        return {"_type": "Image"}
    if pa.types.is_struct(type_):
        return {f.name: hf_feature(f.type) for f in type_}
    if pa.types.is_list(type_):
        return [hf_feature(type_.value_type)]
    return {"dtype": _HF_DTYPES[type_], "_type": "Value"}


def hf_features(schema: pa.Schema, images: Collection[str] = ()) -> dict[str, Any]:
    return {f.name: hf_feature(f.type, f.name in images) for f in schema}


def with_hf_features(schema: pa.Schema, images: Collection[str] = ()) -> pa.Schema:
    """The schema with the metadata `datasets` reads back as its features (so an `image` struct
    loads as an `Image`, not as bytes)."""
    info = {"info": {"features": hf_features(schema, images)}}
    return schema.with_metadata({b"huggingface": json.dumps(info).encode()})


def hub_feature(name: str, type_: pa.DataType, image: bool = False) -> dict[str, Any]:
    """One field in the YAML form of a dataset card's ``dataset_info.features``."""
    if image:
        return {"name": name, "dtype": "image"}
    if pa.types.is_struct(type_):
        return {"name": name, "struct": [hub_feature(f.name, f.type) for f in type_]}
    if pa.types.is_list(type_):
        inner = hub_feature("", type_.value_type)
        inner.pop("name")
        if list(inner) == ["dtype"]:
            return {"name": name, "list": inner["dtype"]}
        if list(inner) == ["struct"]:
            return {"name": name, "list": inner["struct"]}
        return {"name": name, "list": inner}
    return {"name": name, "dtype": _HF_DTYPES[type_]}


def hub_features(schema: pa.Schema, images: Collection[str] = ()) -> list[dict[str, Any]]:
    return [hub_feature(f.name, f.type, f.name in images) for f in schema]
