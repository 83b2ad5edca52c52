"""Finding the system Chromium and the flags it runs with. boxcrawl never downloads a browser."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

# Debian's /usr/bin/chromium is a wrapper script; the binary behind it skips the wrapper's warnings.
CANDIDATES = (
    "/usr/lib/chromium/chromium",
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
    "/usr/bin/google-chrome-stable",
)

# Without the background-networking flags Chromium keeps calling Google's hosts.
BASE_ARGS = [
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--disable-breakpad",
    "--hide-scrollbars",
    "--mute-audio",
    "--disable-dev-shm-usage",
]


class ChromiumNotFound(RuntimeError):
    pass


def find_chromium(explicit: str | None = None) -> str:
    """--chromium, then $BOXCRAWL_CHROMIUM, then the usual system locations."""
    for source, value in (("--chromium", explicit), ("BOXCRAWL_CHROMIUM", os.environ.get("BOXCRAWL_CHROMIUM"))):
        if value:
            path = shutil.which(value) or value
            if not Path(path).is_file():
                raise ChromiumNotFound(f"{source}={value}: no such executable")
            return path
    for path in CANDIDATES:
        if Path(path).is_file() and os.access(path, os.X_OK):
            return path
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise ChromiumNotFound(
        "Chromium not found: install it (apt-get install chromium) or pass --chromium PATH / set BOXCRAWL_CHROMIUM"
    )


def egress_args(proxy_url: str, proxy_host: str) -> list[str]:
    """Every connection through the egress proxy (`egress/proxy.py`), and no other way out:
    loopback is proxied too (Chromium bypasses proxies for it by default), Chromium's own resolver
    answers nothing but the proxy's address (so a path that skipped the proxy could not even
    resolve), and WebRTC may not send UDP of its own (QUIC is already off in BASE_ARGS)."""
    return [
        f"--proxy-server={proxy_url}",
        "--proxy-bypass-list=<-loopback>",
        f"--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE {proxy_host}",
        "--webrtc-ip-handling-policy=disable_non_proxied_udp",
    ]


def launch_args() -> list[str]:
    args = list(BASE_ARGS)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium refuses to start its sandbox as root
    return args
