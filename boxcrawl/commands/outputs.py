"""--out of `render --shard-urls` and of workers: a local folder, or an fsspec URL (s3://, gs://, file://)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ..locations import local_path
from ..write.store import Store, StoreUnavailable
from .errors import CLIError

PROBE = ".boxcrawl-write-test"


def output_store(out: str, flag: str = "--out") -> Store:
    """`out` as a Store; one error line for a file where a folder should be or a missing fsspec driver."""
    from .options import refuse_non_folder

    try:
        store = Store(out)
    except StoreUnavailable as exc:
        raise CLIError(f"{flag} {exc}") from None
    if store.is_local:
        refuse_non_folder(local_path(out), flag)
    return store


@contextmanager
def writing(store: Store, flag: str = "--out") -> Iterator[None]:
    """While a run writes `store`: a local folder is created, probed and locked (one boxcrawl process per
    folder; OutputLocked when another holds it). Object storage has no lock to take: one command at a time
    may write a given URL (the done markers make running it again safe); it is probed with one small
    object, so a missing bucket or a refused credential is one line before any page is rendered."""
    from ..crawl import locked_output
    from .options import make_out_dir

    if store.is_local:
        with locked_output(make_out_dir(local_path(store.given), flag)):
            yield
        return
    probe(store, flag)
    yield


def probe(store: Store, flag: str = "--out") -> None:
    """Write and delete one small object: a missing bucket or a refused credential is one line now."""
    try:
        store.write_bytes(PROBE, b"")
        store.remove(PROBE)
    except Exception as exc:  # noqa: BLE001 - any driver's refusal (no bucket, no credentials) is one line
        raise CLIError(f"{flag} {store.shown}: cannot write there ({type(exc).__name__}: {exc})") from None


def remote_output(out: str, shared_frontier: bool, seed_layout: bool, flag: str = "--out") -> Store | None:
    """For crawl, render and worker: None for a local folder; for a URL its Store, probed. Only the
    writer of a shared frontier stages and publishes through a Store (`render --shard-urls` has its own)."""
    from ..locations import is_url, shown

    if not is_url(out):
        return None
    if not shared_frontier:
        raise CLIError(f"{flag} {shown(out)}: object storage takes render --shard-urls or --frontier redis://")
    if seed_layout:
        raise CLIError(f"{flag} {shown(out)}: --seed-layout writes a local folder only")
    store = output_store(out, flag)
    probe(store, flag)
    return store
