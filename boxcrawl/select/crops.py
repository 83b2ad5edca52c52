"""Crop selection: regions of a rendered page that make good (image, token boxes) samples.

Pure geometry on the token boxes, no browser. A crop
- is at most max_width x max_height and at least min_height image px,
- holds at least min_tokens visible tokens whose every box lies fully inside,
- has its edges in the gaps between lines and words, so no visible token is cut
  where that can be avoided (the few that are get recorded),
- overlaps no other crop of the page by more than max_overlap of the smaller one.
"""

from __future__ import annotations

import math

import numpy as np

from ..config import SelectConfig
from ..records import Crop, Measurement

PAD = 6.0  # breathing room around the text, CSS px, when the page allows it
MAX_LEFTS = 24  # horizontal window positions tried per band on wide pages
EDGE_TOLERANCE = 0.5  # sub-pixel overhang that still counts as inside (boxes are clipped to the image)


class _Fragments:
    """Visible token boxes as parallel arrays sorted by top edge (one row per line fragment)."""

    def __init__(self, m: Measurement):
        rows, counts = m.box_rows()
        shown = np.repeat(np.fromiter((not reason for reason in m.hidden), bool, len(m.hidden)), counts)
        a = rows[shown]
        order = np.argsort(a[:, 1], kind="stable")
        a = a[order]
        self.x0, self.y0, self.x1, self.y1 = a[:, 0], a[:, 1], a[:, 2], a[:, 3]
        self.owner = np.repeat(np.arange(len(m.boxes), dtype=np.int64), counts)[shown][order]
        self.per_token = np.bincount(self.owner, minlength=len(m.boxes))
        self.tallest = float((self.y1 - self.y0).max()) if len(a) else 0.0
        self._local()

    def _local(self) -> None:
        # the view's tokens, and each fragment's place among them: classify then counts with
        # bincount, several times cheaper than unique/setdiff on arrays this small
        self.tokens, self.slot = np.unique(self.owner, return_inverse=True)
        self.whole = self.per_token[self.tokens]

    def __len__(self) -> int:
        return len(self.owner)

    def near(self, top: float, bottom: float) -> "_Fragments":
        """The fragments that can touch the rows [top, bottom] (a view: cheap on long pages)."""
        lo = np.searchsorted(self.y0, top - self.tallest - 1, side="left")
        hi = np.searchsorted(self.y0, bottom + 1, side="right")
        view = object.__new__(_Fragments)
        view.x0, view.y0, view.x1, view.y1 = self.x0[lo:hi], self.y0[lo:hi], self.x1[lo:hi], self.y1[lo:hi]
        view.owner, view.per_token, view.tallest = self.owner[lo:hi], self.per_token, self.tallest
        view._local()
        return view

    def classify(self, l: float, t: float, r: float, b: float) -> tuple[np.ndarray, np.ndarray]:
        """Tokens fully inside the box, and visible tokens the box edge cuts."""
        e = EDGE_TOLERANCE
        touch = (self.x1 > l + e) & (self.x0 < r - e) & (self.y1 > t + e) & (self.y0 < b - e)
        inside = (self.x0 >= l - e) & (self.x1 <= r + e) & (self.y0 >= t - e) & (self.y1 <= b + e)
        k = len(self.tokens)
        complete = np.bincount(self.slot[inside], minlength=k) == self.whole
        touched = np.bincount(self.slot[touch], minlength=k) > 0
        return self.tokens[complete], self.tokens[touched & ~complete]


def select_crops(m: Measurement, cfg: SelectConfig, scale: float = 1.0) -> list[Crop]:
    """Choose crops for one page. Limits in ``cfg`` are image pixels; boxes are CSS px."""
    frags = _Fragments(m)
    if len(frags) == 0:
        return []
    max_w, max_h, min_h = cfg.max_width / scale, cfg.max_height / scale, cfg.min_height / scale
    page_w, page_h = max(m.width, float(frags.x1.max())), m.height

    candidates: list[Crop] = []
    skip_until = -math.inf
    for top in _line_tops(frags):
        if top < skip_until:
            continue  # a crop starting here would mostly repeat the one just found
        # the text may use the limits less 1 px, which outward rounding of the edges needs
        local = frags.near(top - max_h, top + 2 * max_h)
        crop = _best_crop_at(local, top, max_w - 1, max_h - 1, min_h, page_w, page_h, cfg.min_tokens)
        if crop is not None:
            candidates.append(crop)
            skip_until = top + (crop.box[3] - crop.box[1]) / 2
    return _pick(candidates, cfg)


def _line_tops(frags: _Fragments) -> list[float]:
    """Top edges of text lines, top to bottom (tops within 2 px count as one line)."""
    tops = np.unique(np.round(frags.y0, 0))
    keep, last = [], -math.inf
    for v in tops:
        if v - last > 2:
            keep.append(float(v))
            last = v
    return keep


def _straddles(frags: _Fragments, y: float, mask: np.ndarray) -> bool:
    return bool(np.any(mask & (frags.y0 < y) & (frags.y1 > y)))


def _best_crop_at(
    frags: _Fragments,
    top: float,
    max_w: float,
    max_h: float,
    min_h: float,
    page_w: float,
    page_h: float,
    min_tokens: int,
) -> Crop | None:
    # Vertical band: lines that start at or below `top` and end within max_h.
    start = top - 0.5
    in_band = (frags.y0 >= start) & (frags.y1 <= start + max_h)
    if not in_band.any():
        return None
    everything = np.ones(len(frags), dtype=bool)
    bottom = None
    for b in np.sort(np.unique(frags.y1[in_band]))[::-1]:  # lowest bottom that cuts no line
        if not _straddles(frags, b, everything):
            bottom = float(b)
            break
    if bottom is None:
        return None
    band = (frags.y0 >= start) & (frags.y1 <= bottom)

    # Horizontal window: the band's text if it fits, else the window that cuts fewest tokens.
    left, right = float(frags.x0[band].min()), float(frags.x1[band].max())
    windows = [(left, right)] if right - left <= max_w else _windows(frags, band, max_w)
    best = None
    for l, r in windows:
        full, cut = frags.classify(l, start, r, bottom)
        key = (len(cut), -len(full))
        if best is None or key < best[0]:
            best = (key, l, r)
    if best is None:
        return None
    _, l, r = best

    box = _pad(frags, l, start, r, bottom, max_w + 1, max_h + 1, min_h, page_w, page_h)
    if box is None:
        return None
    full, cut = frags.classify(*box)
    if len(full) < min_tokens:
        return None
    return Crop(box=box, tokens=tuple(int(i) for i in full), cut=tuple(int(i) for i in cut))


def _windows(frags: _Fragments, band: np.ndarray, max_w: float) -> list[tuple[float, float]]:
    """Candidate [left, right] windows no wider than max_w, edges preferably in gaps that no
    word of the band crosses (column gutters, ragged line ends)."""
    x0, x1 = frags.x0[band], frags.x1[band]

    def clean(edges: np.ndarray) -> np.ndarray:
        crossing: np.ndarray = (x0[:, None] < edges[None, :] - 0.5) & (x1[:, None] > edges[None, :] + 0.5)
        return np.logical_not(crossing.any(axis=0))

    lefts = np.unique(np.round(x0, 1))
    good = lefts[clean(lefts)]
    lefts = good if len(good) else lefts
    if len(lefts) > MAX_LEFTS:
        lefts = lefts[np.linspace(0, len(lefts) - 1, MAX_LEFTS).astype(int)]
    windows = []
    for l in lefts:
        fits = (x0 >= l - 0.5) & (x1 <= l + max_w)
        if not fits.any():
            continue
        rights = np.unique(x1[fits])[::-1]
        ok = rights[clean(rights)]
        windows.append((float(l) - 0.5, float(ok[0] if len(ok) else rights[0])))
    return windows


def _pad(
    frags: _Fragments,
    l: float,
    t: float,
    r: float,
    b: float,
    max_w: float,
    max_h: float,
    min_h: float,
    page_w: float,
    page_h: float,
) -> tuple[float, float, float, float] | None:
    """Grow the tight text box by up to PAD per side (and to min_h), never into other text."""

    def room(limit_mask: np.ndarray, values: np.ndarray, default: float) -> float:
        return float(values[limit_mask].max()) if limit_mask.any() else default

    row = (frags.y1 > t) & (frags.y0 < b)
    col = (frags.x1 > l) & (frags.x0 < r)
    left_limit = room(row & (frags.x1 <= l), frags.x1, 0.0)
    right_limit = -room(row & (frags.x0 >= r), -frags.x0, -page_w)
    up_limit = room(col & (frags.y1 <= t), frags.y1, 0.0)
    down_limit = -room(col & (frags.y0 >= b), -frags.y0, -page_h)

    spare_w = max(0.0, max_w - (r - l))
    l2 = max(left_limit, l - min(PAD, spare_w / 2))
    r2 = min(right_limit, r + min(PAD, max_w - (r - l2)))
    need = max(min_h - (b - t), 0.0)
    want_down = max(PAD, need)
    b2 = min(down_limit, b + want_down, t + max_h)
    t2 = max(up_limit, t - max(PAD, min_h - (b2 - t)))
    t2 = max(t2, b2 - max_h)
    # integer pixel edges, rounded outward, then trimmed back to the size limits
    x0, y0 = max(math.floor(l2), 0), max(math.floor(t2), 0)
    x1, y1 = min(math.ceil(r2), math.ceil(page_w)), min(math.ceil(b2), math.ceil(page_h))
    x1, y1 = min(x1, x0 + math.floor(max_w)), min(y1, y0 + math.floor(max_h))
    if y1 - y0 < min_h - 1e-6 or x1 <= x0:
        return None
    return (float(x0), float(y0), float(x1), float(y1))


def _pick(candidates: list[Crop], cfg: SelectConfig) -> list[Crop]:
    """Greedy: fewest cut tokens, then most tokens; skip heavy overlaps; keep page order."""
    order = sorted(candidates, key=lambda c: (len(c.cut), -len(c.tokens), c.box[1], c.box[0]))
    chosen: list[Crop] = []
    for crop in order:
        if all(_overlap(crop.box, other.box) <= cfg.max_overlap for other in chosen):
            chosen.append(crop)
            if cfg.max_crops and len(chosen) >= cfg.max_crops:
                break
    return sorted(chosen, key=lambda c: (c.box[1], c.box[0]))


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return float(w * h / smaller)
