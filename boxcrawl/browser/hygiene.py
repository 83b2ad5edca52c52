"""What every page boxcrawl opens needs, whatever it is opened for: dialogs dismissed so a page can
never block, and Playwright calls whose failure changes nothing awaited without noise."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from playwright.async_api import Dialog
from playwright.async_api import Error as PlaywrightError


async def quietly(coro: Awaitable[Any]) -> None:
    """Await a Playwright call whose failure changes nothing (the page or browser is going away)."""
    try:
        await coro
    except PlaywrightError:
        pass


def dismiss(dialog: Dialog) -> None:
    """A "dialog" listener: alert/confirm/prompt/beforeunload are dismissed at once, so a page never
    blocks waiting for a click."""
    asyncio.ensure_future(quietly(dialog.dismiss()))
