"""`show`: an HTML gallery of a dataset's samples with their token boxes; `card`: its dataset card."""

from __future__ import annotations

import argparse
from pathlib import Path

from .argtypes import whole_number
from .errors import CLIError


def register(sub) -> None:
    show = sub.add_parser("show", help="write an HTML gallery of a dataset")
    show.add_argument("out", metavar="DIR")
    show.add_argument("--limit", type=whole_number(0), default=60, help="samples shown (default 60)")
    show.add_argument("--html", type=Path, help="where to write (default DIR/gallery.html)")
    show.set_defaults(run=run)
    card = sub.add_parser(
        "card",
        help="write DIR/README.md, the dataset card (crawl, render and worker write it at the end)",
        description="Write DIR/README.md in the Hugging Face Hub's dataset-card form: configs and features, "
        "what was crawled and how, counts, visible and ink share, and a few samples drawn with their boxes.",
    )
    card.add_argument("out", metavar="DIR")
    card.set_defaults(run=run_card)


def run(args: argparse.Namespace) -> int:
    from ..locations import is_url, shown
    from ..show.gallery import write_gallery

    if is_url(args.out):  # the gallery reads shards as local files; the card reads any URL
        raise CLIError(f"show reads a local folder: copy {shown(args.out)} down first (`boxcrawl card` reads URLs)")
    if not Path(args.out).is_dir():
        raise CLIError(f"no dataset at {args.out}")
    path = write_gallery(args.out, args.html, args.limit)
    print(f"gallery: {path.resolve()}")
    return 0


def run_card(args: argparse.Namespace) -> int:
    from ..write.card import write_card
    from .outputs import output_store

    store = output_store(args.out, "card")
    if not store.is_dir("pages"):
        raise CLIError(f"no dataset at {store.shown}")
    card = write_card(args.out)
    print(f"card: {card.resolve() if isinstance(card, Path) else card}")
    return 0
