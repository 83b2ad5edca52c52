"""Samples as model inputs, LayoutLM-style: token ids, boxes on a 0-1000 grid, a fixed-size image.

Works on a sample in any of the forms boxcrawl's data is read in: ``open_dataset(DIR).samples()``,
``Dataset.to_hf()`` rows, and ``webdataset.WebDataset(ds.shards).decode("pil")`` samples::

    import torch, webdataset as wds, boxcrawl
    from boxcrawl.loaders import collate, layout_example

    ds = boxcrawl.open_dataset("out")
    pipe = wds.WebDataset(ds.shards).decode("pil").map(layout_example)
    for batch in torch.utils.data.DataLoader(pipe, batch_size=8, collate_fn=collate):
        batch["input_ids"], batch["bbox"], batch["attention_mask"], batch["pixel_values"]

Only ``collate`` needs torch.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

from .write.reader import IMAGE_EXTS

GRID = 1000  # LayoutLM (v1-v3), LiLT, UDOP: boxes as integers on a 0-1000 grid of the image


def layout_example(sample: dict[str, Any], size: tuple[int, int] = (224, 224), max_tokens: int = 512) -> dict[str, Any]:
    """``input_ids`` (the tokenizer ids boxcrawl wrote), ``bbox`` (each token's first box,
    x0 y0 x1 y1 as integers 0-1000 of the image's width and height), and ``pixel_values``
    (the image resized to ``size`` = (width, height), uint8 H x W x 3). Tokens past
    ``max_tokens`` are dropped, in page order."""
    meta = sample.get("json", sample)  # a webdataset sample keeps its fields under "json"
    image = sample["image"] if "image" in sample else next(sample[e] for e in IMAGE_EXTS if e in sample)
    width, height = meta["width"], meta["height"]
    tokens = meta["tokens"][:max_tokens]
    bbox = [
        [_grid(x0, width), _grid(y0, height), _grid(x1, width), _grid(y1, height)]
        for x0, y0, x1, y1 in (t["box"] for t in tokens)
    ]
    pixels = np.asarray(image.convert("RGB").resize(size, Image.Resampling.BILINEAR), dtype=np.uint8)
    return {
        "key": meta["key"],
        "input_ids": [int(t["id"]) for t in tokens],
        "bbox": bbox,
        "pixel_values": pixels,
    }


def _grid(v: float, extent: float) -> int:
    return min(max(int(GRID * v / extent), 0), GRID) if extent else 0


def collate(batch: list[dict[str, Any]], pad_id: int = 0) -> dict[str, Any]:
    """A list of ``layout_example`` outputs as padded tensors: ``input_ids`` and
    ``attention_mask`` (B x L), ``bbox`` (B x L x 4, padding boxes all 0), ``pixel_values``
    (B x 3 x H x W, float 0-1) and ``key`` (a list). L is the longest sample's length."""
    import torch

    longest = max(len(e["input_ids"]) for e in batch)
    input_ids = torch.full((len(batch), longest), pad_id, dtype=torch.long)
    mask = torch.zeros((len(batch), longest), dtype=torch.long)
    bbox = torch.zeros((len(batch), longest, 4), dtype=torch.long)
    for row, e in enumerate(batch):
        n = len(e["input_ids"])
        input_ids[row, :n] = torch.tensor(e["input_ids"], dtype=torch.long)
        mask[row, :n] = 1
        if n:
            bbox[row, :n] = torch.tensor(e["bbox"], dtype=torch.long)
    pixels = torch.from_numpy(np.stack([e["pixel_values"] for e in batch])).permute(0, 3, 1, 2).float() / 255
    return {
        "key": [e["key"] for e in batch],
        "input_ids": input_ids,
        "attention_mask": mask,
        "bbox": bbox,
        "pixel_values": pixels,
    }
