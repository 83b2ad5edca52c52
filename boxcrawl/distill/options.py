"""Options of `boxcrawl distill`, and the device presets for --emulate-mobile."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..optout.policy import OptOutConfig, with_token

if TYPE_CHECKING:
    from ..egress.upstream import Upstream

# The original used ChromeDriver's "Google Nexus 5"; DevTools' current list calls it "Nexus 5".
# %s is replaced by the running Chromium's version.
DEVICES = {
    "Nexus 5": dict(
        width=360,
        height=640,
        scale=3.0,
        ua="Mozilla/5.0 (Linux; Android 6.0; Nexus 5 Build/MRA58N) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/%s Mobile Safari/537.36",
    ),
    "Pixel 7": dict(
        width=412,
        height=915,
        scale=2.625,
        ua="Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/%s Mobile Safari/537.36",
    ),
    "Galaxy S9+": dict(
        width=320,
        height=658,
        scale=4.5,
        ua="Mozilla/5.0 (Linux; Android 8.0.0; SM-G965U Build/R16NW) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/%s Mobile Safari/537.36",
    ),
}
DEFAULT_DEVICE = "Nexus 5"
# The original's window under mobile emulation (get_screenshots.py: 400x800, original and distilled);
# the device's metrics stay (scale, touch, user agent). `None` = the device's own viewport.
ORIGINAL_MOBILE_WINDOW = (400, 800)


@dataclass(frozen=True)
class DistillOptions:
    out: str
    mobile_device: str | None = None  # a DEVICES name; None = desktop
    save_mhtml: bool = False
    load_mhtml: bool = False
    skip_distillation: bool = False
    desktop_distillable_only: bool = False
    distiller: str = "auto"  # auto (Chrome, then Python) | chrome | python
    tabs: int = 2
    load_timeout: float = 60.0  # the original's page-load timeout
    settle: float = 3.0  # quiet time after load for async scripts (the original slept 3 s)
    mhtml_settle: float = 1.0
    distill_timeout: float = 20.0  # how long the distiller may take
    distill_settle: float = 2.0  # the viewer's text must stay unchanged this long (page stitching)
    entry_timeout: float = 180.0  # hard deadline for everything done to one entry
    desktop_size: tuple[int, int] = (1280, 5000)
    desktop_distilled_size: tuple[int, int] = (640, 5000)
    mobile_size: tuple[int, int] | None = ORIGINAL_MOBILE_WINDOW  # None: the device's own viewport
    allow_hosts: tuple[str, ...] = ()
    proxy: Upstream | None = None  # --proxy (egress/upstream.py)
    chromium: str | None = None
    models: tuple[str, str] = ("chrome:distillable", "chrome:long-article")
    optout: OptOutConfig = field(default_factory=OptOutConfig)  # the same decision as the crawl's
    user_agent: str | None = None  # desktop: None = Chromium's own; mobile: the device's (the token appended)
    extra: dict = field(default_factory=dict)

    @property
    def mobile(self) -> bool:
        return self.mobile_device is not None

    def device(self) -> dict:
        return DEVICES[self.mobile_device] if self.mobile_device else {}

    def original_viewport(self) -> dict:
        if self.mobile:
            w, h = self.mobile_size or (self.device()["width"], self.device()["height"])
        else:
            w, h = self.desktop_size
        return {"width": w, "height": h}

    def distilled_viewport(self) -> dict:
        if self.mobile:
            return self.original_viewport()
        w, h = self.desktop_distilled_size
        return {"width": w, "height": h}

    def context_options(self, chrome_version: str | None) -> dict:
        """Playwright context settings; mobile emulation is kept for the whole run, restarts included."""
        if not self.mobile:
            return {"viewport": self.original_viewport(), "device_scale_factor": 1}
        dev = self.device()
        return {
            "viewport": self.original_viewport(),
            "device_scale_factor": dev["scale"],
            "is_mobile": True,
            "has_touch": True,
            "user_agent": with_token(self.user_agent or dev["ua"] % (chrome_version or "156.0.0.0"), self.optout.token),
        }
