"""`boxcrawl label --data-dir DIR`: serve the labeling app for a distillability data dir."""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
from pathlib import Path

from .errors import CLIError

EXTRA = "label"  # what `pip install 'boxcrawl[label]'` adds for these commands


def register(sub) -> None:
    p = sub.add_parser(
        "label",
        help="label distilled pages by hand in a web app",
        description="Serve a labeling web app over a distillability data dir (its 'index', "
        "screenshots and archive/). Labels are committed to DIR/labels.sqlite and "
        "archived to DIR/archive/archive-<time>.json for features-csv.",
    )
    p.add_argument("--data-dir", required=True, type=Path, metavar="DIR")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1; others need --token)")
    p.add_argument("--port", type=int, default=8081, help="default 8081")
    p.add_argument(
        "--token",
        default=os.environ.get("BOXCRAWL_LABEL_TOKEN"),
        help="access token every request must carry (required off loopback; default $BOXCRAWL_LABEL_TOKEN)",
    )
    p.add_argument(
        "--archive-every",
        type=float,
        default=60.0,
        metavar="S",
        help="write an archive this often when labels changed (default 60 s)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from ..label.app import LabelApp
    from ..label.entries import EntriesError, load_entries
    from ..label.security import check_bind

    refusal = check_bind(args.host, args.token)
    if refusal:
        raise CLIError(refusal)
    if not 0 < args.port < 65536:
        raise CLIError(f"--port must be 1-65535, got {args.port}")
    if args.archive_every <= 0:
        raise CLIError("--archive-every must be > 0")
    try:
        entries = load_entries(args.data_dir)
    except EntriesError as exc:
        raise CLIError(str(exc)) from None
    # Bind before anything else so a busy port is a one-line error, not a server log line.
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
    except OSError as exc:
        sock.close()
        raise CLIError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
    label_app = LabelApp(args.data_dir, entries, archive_every=args.archive_every)
    app = label_app.build(bind_host=args.host, port=args.port, token=args.token)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    link = f"http://{shown}:{args.port}/" + (f"?token={args.token}" if args.token else "")
    if label_app.restored_from:
        print(f"restored labels from {label_app.restored_from}", file=sys.stderr)
    if label_app.ignored:
        print(
            f"warning: {label_app.ignored} archived labels did not match an entry (index+url) and were ignored",
            file=sys.stderr,
        )
    print(f"labeling {len(entries)} entries at {link}", file=sys.stderr, flush=True)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level="warning", access_log=False, lifespan="on")
    uvicorn.Server(config).run(sockets=[sock])
    return 0
