"""A saved MHTML snapshot served to Chromium's DOM distiller, offline.

Chrome's distiller distils only http(s) URLs, which it loads itself in a hidden page of the browser's
default context; given a file:// MHTML it answers "Failed to find article". So for --load-mhtml the
hidden page asks for the page's own URL and gets the snapshot instead: the archive's HTML part as the
document, its other parts (stylesheets, images) at their Content-Locations, and nothing from the network.
The document is served with scripts off (CSP `script-src 'none'`), as Chromium runs an MHTML archive.
Then a live page and its snapshot are distilled by the same distiller and their texts can be compared
(`check-distilled-mhtml`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email import policy
from email.parser import BytesParser
from urllib.parse import urldefrag

from playwright.async_api import Route

NO_SCRIPTS = "script-src 'none'; object-src 'none'"


class SnapshotError(ValueError):
    pass


@dataclass(frozen=True)
class Snapshot:
    url: str  # the document's URL when it was saved (its part's Content-Location)
    resources: dict[str, tuple[str, bytes]]  # URL without fragment -> (Content-Type, body); the document first

    @classmethod
    def parse(cls, data: bytes) -> "Snapshot":
        message = BytesParser(policy=policy.compat32).parsebytes(data)
        resources: dict[str, tuple[str, bytes]] = {}
        for part in message.walk():
            if part.is_multipart():
                continue
            location = str(part.get("Content-Location") or "")  # a raw non-ASCII header is a Header object
            body = part.get_payload(decode=True)
            if not location or not isinstance(body, bytes):
                continue
            resources.setdefault(urldefrag(location.strip())[0], (str(part.get("Content-Type") or ""), body))
        document = next((u for u, (kind, _) in resources.items() if kind.lower().startswith("text/html")), None)
        if document is None or not document.startswith(("http://", "https://")):
            raise SnapshotError("MHTML has no http(s) HTML document to distil")
        return cls(document, resources)


class SnapshotServer:
    """The route handler of the hidden pages (BrowserPool `hidden_route`): the snapshots being distilled
    are served, every other request is refused. Entries are distilled concurrently (--tabs), so it
    serves several snapshots at once, each under its own URL."""

    def __init__(self) -> None:
        self._serving: dict[str, Snapshot] = {}
        self._turns: dict[str, asyncio.Lock] = {}

    @asynccontextmanager
    async def serving(self, snapshot: Snapshot) -> AsyncIterator[None]:
        """Serve `snapshot` for the block. Two entries whose snapshots have one URL (`a.test` and `a.test/`
        in the list) take turns: Chrome's distiller asks for the URL, not for the entry."""
        async with self._turns.setdefault(snapshot.url, asyncio.Lock()):
            self._serving[snapshot.url] = snapshot
            try:
                yield
            finally:
                del self._serving[snapshot.url]

    def _find(self, url: str) -> tuple[str, bytes] | None:
        """(content type, body) of ``url`` in a snapshot being served: the page's own first."""
        url = urldefrag(url)[0]
        if url in self._serving:
            return self._serving[url].resources[url]
        for snapshot in list(self._serving.values()):
            if url in snapshot.resources:
                return snapshot.resources[url]
        return None

    async def handle(self, route: Route) -> None:
        found = self._find(route.request.url)
        if found is None:
            await route.abort("blockedbyclient")  # offline: nothing of a snapshot's page is fetched
            return
        kind, body = found
        headers = {"content-type": kind or "application/octet-stream"}
        if any(t in kind.lower() for t in ("html", "svg", "xml")):  # frames and SVG run no script either
            headers["content-security-policy"] = NO_SCRIPTS
        await route.fulfill(status=200, headers=headers, body=body)
