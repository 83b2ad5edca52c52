"""The labeling web app (Starlette): the page, its assets, the screenshots, and a small JSON API.

API
- `GET  /api/entries`            every entry with its current label, and the sequence number to poll from
- `GET  /api/updates?since=SEQ`  label changes after SEQ (anyone's), oldest first
- `POST /api/label`              `{"index": I, "good": 1|0|2|-1|null, "labeler": NAME}`; answers once committed
- `GET  /images/NAME`            a screenshot an entry names, from the data dir itself

The original labeling server's protocol, for its clients and scripts (same semantics, on the same store):
- `POST /message`                `{"action": "getData"}` -> `{"response": {"data": [entries], "nextId": N}}`;
                                 `{"action": "update", "data": ENTRY}` sets the label of the entry with that url
                                 (and index, when given) to ENTRY's `good`, or resets it when `good` is absent
- `GET  /getupdates?nextId=N`    `{"response": {"data", "updates": [{"index", "id", "entry"}], "nextId"}}`:
                                 the updates from N on; `data` (the whole list) instead when the client is more
                                 than 500 updates behind; both null when nothing changed
Entries there are the index records with their `good`, as the original kept them; update ids count from 0.

A malformed request (a number out of range, a body that is not the JSON asked for, a path no entry names) gets
a 4xx with one short `{"error": ...}`; nothing a client sends may end in a 500. The only redirect is the
token link's (security.py), to a path on this server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import unicodedata
from importlib import resources
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from .archive import newest_archive, prune_archives, read_archive, write_archive
from .entries import IMAGE_SUFFIXES, Entry
from .security import SecurityMiddleware
from .store import LABEL_NAMES, LabelStore

log = logging.getLogger("boxcrawl.label")

DB_FILE = "labels.sqlite"
MAX_BODY = 16 * 1024
MAX_UPDATES = 2000  # a client further behind than this reloads everything
ORIGINAL_UPDATES = 500  # the original server's update window (a deque of 500)
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1  # what SQLite stores in an INTEGER column
_DIGITS = re.compile(r"[0-9]{1,19}")  # ASCII digits only: int() would also take "+1", " 1", "1_0", "٣"
_NOT_IN_NAMES = {"Cc", "Cs", "Zl", "Zp"}  # controls, lone surrogates, line and paragraph separators
STATIC = {"app.js": "text/javascript", "app.css": "text/css"}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self'; script-src 'self'; style-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class BadRequest(Exception):
    pass


def _whole_number(text: str | None, name: str, low: int = 0, high: int = INT64_MAX) -> int:
    """`text` as an integer from `low` to `high`, written in plain ASCII digits; BadRequest otherwise."""
    if text is None or not _DIGITS.fullmatch(text) or not low <= int(text) <= high:
        raise BadRequest(f"{name} must be a whole number from {low} to {high}")
    return int(text)


async def _json_body(request: Request) -> dict:
    """The request's JSON object, read up to MAX_BODY; BadRequest for anything else."""
    declared = request.headers.get("content-length", "").lstrip("0")  # the server checked it is digits
    if len(declared) > 9 or (declared.isdigit() and int(declared) > MAX_BODY):
        raise BadRequest("request body too large")  # refused before reading any of it
    body = b""
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                raise BadRequest("request body too large")
    except ClientDisconnect:
        raise BadRequest("request body incomplete") from None
    try:
        # NaN and Infinity are not JSON; a number past Python's digit limit or nesting past its recursion
        # limit is a ValueError or RecursionError rather than a JSONDecodeError.
        data = json.loads(body, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        raise BadRequest("body is not valid JSON") from None
    if not isinstance(data, dict):
        raise BadRequest("body must be a JSON object")
    return data


def _good(good) -> int | None:
    if good is not None and (type(good) is not int or good not in LABEL_NAMES):  # not 1.0, not true
        raise BadRequest("'good' must be 1 (good), 0 (bad), 2 (good with mistakes), -1 (error) or null (reset)")
    return good


def _labeler(labeler) -> str:
    if (
        not isinstance(labeler, str)
        or not labeler.strip()
        or len(labeler) > 64
        or any(unicodedata.category(c) in _NOT_IN_NAMES for c in labeler)
    ):
        raise BadRequest("'labeler' must be a name of 1-64 printable characters")
    return labeler.strip()


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _static_text(name: str) -> str:
    return resources.files("boxcrawl.label").joinpath("static", name).read_text(encoding="utf-8")


class LabelApp:
    """Owns the entries, the store and the archive schedule; builds the ASGI app."""

    def __init__(self, data_dir: Path, entries: list[Entry], *, archive_every: float = 60.0):
        self.data_dir = data_dir.resolve()
        self.entries = entries
        self.by_index = {e.index: e for e in entries}
        # The only names /images/ serves: a set lookup, so no name a client makes up reaches the file system.
        self.images = {name for e in entries for name in (e.screenshot, e.distilled) if name}
        self.store = LabelStore(self.data_dir / DB_FILE)
        self.archive_every = archive_every
        self.restored_from: Path | None = None
        self.ignored: int = 0
        self._restore_if_new()
        self._archived_seq = int(self.store.meta("archived_seq") or 0)

    # -- startup ------------------------------------------------------------------------------------
    def _restore_if_new(self) -> None:
        """A data dir labelled before (by the original labeling server or ours without its database): start from the
        newest archive, chosen by the time in its name, so the result does not depend on directory order."""
        if self.store.meta("initialised"):
            return
        newest = newest_archive(self.data_dir)
        if newest is not None:
            by_id = {e.stable_id: e for e in self.entries if e.stable_id}
            for rec in read_archive(newest):
                good = rec.get("good")
                # Match on the stable id when both sides have one, else on index *and* URL (stripped on both
                # sides): a changed URL list must not move labels onto other pages.
                entry = by_id.get(rec.get("id")) if rec.get("id") and by_id else None
                if entry is None:
                    entry = self.by_index.get(rec.get("index"))
                    if entry is not None and str(rec.get("url", "")).strip() != entry.url.strip():
                        entry = None
                if entry is None or good not in LABEL_NAMES or isinstance(good, bool):
                    self.ignored += good is not None
                    continue
                at = rec.get("labeled_at")
                self.store.set_label(
                    entry.index,
                    entry.url,
                    good,
                    str(rec.get("labeler") or "archive"),
                    at if isinstance(at, str) else None,
                )
            self.restored_from = newest
        self.store.set_meta("initialised", "1")

    # -- views ----------------------------------------------------------------------------------------
    def entry_json(self, entry: Entry, labels) -> dict:
        label = labels.get(entry.index)
        if label is not None and label.url != entry.url:
            label = None  # the index file changed under this label; do not show it on another page
        return {
            "index": entry.index,
            "url": entry.url,
            "screenshot": f"images/{entry.screenshot}" if entry.screenshot else None,
            "distilled": f"images/{entry.distilled}" if entry.distilled else None,
            "distillation": entry.record.get("distillation"),  # the crawler's outcome, when it recorded one
            **({"good": label.good, "labeler": label.labeler, "at": label.at} if label else {}),
        }

    def archive_records(self) -> list[dict]:
        labels = self.store.labels()
        return [self._record(e, labels.get(e.index), who=True) for e in self.entries]

    @staticmethod
    def _record(entry: Entry, label, who: bool) -> dict:
        """The whole index record with its label, as the original server kept entries (features-csv joins on id
        or url); `who` adds the labeler and time, as archives carry them."""
        record = {k: v for k, v in entry.record.items() if k not in ("good", "labeler", "labeled_at")}
        if label is not None and label.url == entry.url:
            record["good"] = label.good
            if who:
                record.update(labeler=label.labeler, labeled_at=label.at)
        return record

    def archive_now(self, force: bool = False) -> Path | None:
        seq = self.store.last_seq()
        if seq == self._archived_seq and not force:
            return None
        path = write_archive(self.data_dir, self.archive_records())
        self._archived_seq = seq
        self.store.set_meta("archived_seq", str(seq))
        prune_archives(self.data_dir)
        return path

    async def _archive_loop(self) -> None:
        while True:
            await asyncio.sleep(self.archive_every)
            try:
                self.archive_now()
            except OSError as exc:  # a full disk must not stop labeling: SQLite still has every label
                log.error("archive failed: %s", exc)

    @contextlib.asynccontextmanager
    async def lifespan(self, app):
        task = asyncio.create_task(self._archive_loop())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(OSError):
                self.archive_now()
            self.store.close()

    # -- handlers ---------------------------------------------------------------------------------------
    async def page(self, request: Request) -> Response:
        html = _static_text("index.html").replace("{{CSRF}}", self.csrf_token)
        return HTMLResponse(html, headers=SECURITY_HEADERS)

    async def static(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in STATIC:
            return JSONResponse({"error": "not found"}, status_code=404)
        return Response(_static_text(name), media_type=STATIC[name], headers=SECURITY_HEADERS)

    async def image(self, request: Request) -> Response:
        name = request.path_params["name"]
        # A name an entry uses, flat, with an image suffix, and (after following links) still inside the data dir.
        if (
            name not in self.images
            or "/" in name
            or "\\" in name
            or name.startswith(".")
            or not name.lower().endswith(IMAGE_SUFFIXES)
        ):
            return JSONResponse({"error": "not found"}, status_code=404)
        try:
            path = (self.data_dir / name).resolve()
            found = path.is_relative_to(self.data_dir) and path.is_file()
        except (OSError, ValueError):  # a file system that refuses the name (too long, NUL, permissions)
            found = False
        if not found:
            return JSONResponse({"error": "not found"}, status_code=404)
        return FileResponse(
            path, headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"}
        )

    async def entries_view(self, request: Request) -> Response:
        seq = self.store.last_seq()  # read first: a change landing in between is re-sent, never missed
        labels = self.store.labels()
        return JSONResponse(
            {"entries": [self.entry_json(e, labels) for e in self.entries], "seq": seq},
            headers={"Cache-Control": "no-store"},
        )

    async def updates(self, request: Request) -> Response:
        try:
            since = _whole_number(request.query_params.get("since", "0"), "since")
        except BadRequest as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        events = self.store.events_since(since, MAX_UPDATES + 1)
        if len(events) > MAX_UPDATES or since > self.store.last_seq():
            return JSONResponse({"resync": True, "seq": self.store.last_seq()})
        seq = events[-1].seq if events else max(since, 0)
        return JSONResponse(
            {"updates": [ev.as_json() for ev in events if ev.index in self.by_index], "seq": seq},
            headers={"Cache-Control": "no-store"},
        )

    async def set_label(self, request: Request) -> Response:
        try:
            index, good, labeler = await self._parse_label(request)
        except BadRequest as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        entry = self.by_index.get(index)
        if entry is None:
            return JSONResponse({"error": f"no entry with index {index}"}, status_code=404)
        label = self.store.set_label(index, entry.url, good, labeler)  # committed when this returns
        return JSONResponse(label.as_json())

    async def _parse_label(self, request: Request) -> tuple[int, int | None, str]:
        data = await _json_body(request)
        index, good, labeler = data.get("index"), data.get("good"), data.get("labeler")
        if type(index) is not int or not INT64_MIN <= index <= INT64_MAX:
            raise BadRequest("'index' must be a 64-bit integer")
        return index, _good(good), _labeler(labeler)

    # -- the original server's protocol -----------------------------------------------------------------
    def original_entries(self) -> list[dict]:
        labels = self.store.labels()
        return [self._record(e, labels.get(e.index), who=False) for e in self.entries]

    async def message(self, request: Request) -> Response:
        try:
            data = await _json_body(request)
            action = data.get("action")
            if action == "getData":
                seq = self.store.last_seq()  # read first, as /api/entries does
                return JSONResponse({"response": {"data": self.original_entries(), "nextId": seq}})
            if action != "update":
                raise BadRequest("'action' must be getData or update")
            entry = data.get("data")
            if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
                raise BadRequest("'data' must be an entry with its url")
            good = _good(entry.get("good"))
            labeler = _labeler(entry.get("labeler", "message-api"))
        except BadRequest as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        target = self._entry_for(entry["url"], entry.get("index"))
        if target is None:
            return JSONResponse({"error": "no entry with that url"}, status_code=404)
        self.store.set_label(target.index, target.url, good, labeler)  # committed when this returns
        return JSONResponse({"response": "ok"})

    def _entry_for(self, url: str, index) -> Entry | None:
        """The entry an update names: by index and url when it gives both, else by url (the first of that url;
        the original's url map let duplicates collide)."""
        if type(index) is int and index in self.by_index and self.by_index[index].url == url:
            return self.by_index[index]
        return next((e for e in self.entries if e.url == url), None)

    async def get_updates(self, request: Request) -> Response:
        try:
            next_id = _whole_number(request.query_params.get("nextId"), "nextId")
        except BadRequest as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        last = self.store.last_seq()  # update k (from 0) is event seq k + 1
        data = updates = None
        if next_id > last:  # a client of an earlier database: it cannot catch up by updates
            data = self.original_entries()
        elif next_id < last:
            events = self.store.events_since(next_id, ORIGINAL_UPDATES + 1)
            if len(events) > ORIGINAL_UPDATES:
                data = self.original_entries()
            else:
                labels = self.store.labels()  # each update carries the entry as it is now, as the original's did
                updates = [
                    {"index": ev.index, "id": ev.seq - 1, "entry": self._record(entry, labels.get(ev.index), who=False)}
                    for ev in events
                    if (entry := self.by_index.get(ev.index)) is not None
                ]
        return JSONResponse(
            {"response": {"data": data, "updates": updates, "nextId": last}}, headers={"Cache-Control": "no-store"}
        )

    async def health(self, request: Request) -> Response:
        return JSONResponse({"ok": True, "entries": len(self.entries), "seq": self.store.last_seq()})

    def build(self, *, bind_host: str, port: int, token: str | None):
        self.csrf_token = self.store.secret("csrf_token")
        app = Starlette(
            routes=[
                Route("/", self.page),
                Route("/static/{name}", self.static),
                Route("/images/{name:path}", self.image),
                Route("/api/entries", self.entries_view),
                Route("/api/updates", self.updates),
                Route("/api/label", self.set_label, methods=["POST"]),
                Route("/api/health", self.health),
                Route("/message", self.message, methods=["POST"]),
                Route("/getupdates", self.get_updates),
                Route("/favicon.ico", lambda request: Response(status_code=204)),
            ],
            lifespan=self.lifespan,
        )
        # No "add or drop the trailing slash" redirects: Starlette builds them from the Host header, which is not
        # checked off loopback, and no client of this app needs them.
        app.router.redirect_slashes = False
        return SecurityMiddleware(app, bind_host=bind_host, port=port, token=token, csrf_token=self.csrf_token)
