"""Small distillability data dirs in the crawler's layout, with real PNG screenshots, for label-app tests."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image, ImageDraw


def make_data_dir(root: Path, n: int = 12) -> Path:
    """`root` gets i.png, i-distilled.png, i.info and the aggregated `index` for entries 0..n-1."""
    root.mkdir(parents=True, exist_ok=True)
    records = []
    for i in range(n):
        url = f"http://127.0.0.1:9/articles/{i}/page-{i}.html"
        for name, size, colour in (
            (f"{i}.png", (320, 400), (250, 250, 245)),
            (f"{i}-distilled.png", (160, 400), (255, 255, 255)),
        ):
            img = Image.new("RGB", size, colour)
            draw = ImageDraw.Draw(img)
            draw.text((10, 10), f"entry {i}", fill=(0, 0, 0))
            for y in range(40, size[1] - 20, 14):
                draw.line((10, y, size[0] - 10 - (y * 7 + i * 13) % 60, y), fill=(90, 90, 90), width=3)
            img.save(root / name)
        info = {"index": i, "url": url, "screenshot": f"out/{i}.png", "distilled": f"out/{i}-distilled.png"}
        (root / f"{i}.info").write_text(json.dumps(info))
        records.append(info)
    (root / "index").write_text(json.dumps(records, indent=2))
    return root
