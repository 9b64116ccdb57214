"""Small pictures for the window: per-grade evidence thumbnails of one knee, and a reduced film.

Both are plain numpy (OpenCV) work, done once per grading on the worker thread, so that the
GUI only turns finished BGR arrays into QImages. A thumbnail is the knee's visible region,
shrunk to fit a square of ``side`` pixels (aspect kept), with that grade's evidence over it.
The reduced film (``reduce``) lets a window recompose the overlay of a large radiograph fast
enough while a slider is dragged; ``overlay_at_scale`` builds that overlay for every knee.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..verdict.grades import NUM_GRADES
from .overlay import DEFAULT_BRIGHTNESS, EvidenceOverlay

# Side of the per-grade evidence thumbnails, in pixels (drawn at about half that on screen,
# so they stay sharp on high-density displays).
THUMBNAIL_SIDE = 128
# Films larger than this (longest side) also get a reduced copy of this size for previews.
PREVIEW_SIDE = 1024


def fit_within(gray: np.ndarray, side: int) -> np.ndarray:
    """``gray`` resized so that its longer side is ``side`` (aspect kept; shrinking uses INTER_AREA)."""
    height, width = gray.shape[:2]
    scale = side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)


def evidence_thumbnails(display: np.ndarray, knee, side: int = THUMBNAIL_SIDE,
                        brightness: float = DEFAULT_BRIGHTNESS) -> list[np.ndarray]:
    """One BGR uint8 picture per grade: ``knee``'s visible region (a ``pipeline.KneeResult``)
    with that grade's evidence over it."""
    x, y, w, h = knee.visible
    small = fit_within(np.ascontiguousarray(display[y:y + h, x:x + w]), side)
    return [EvidenceOverlay(small, knee.visible_evidence(grade)).compose(brightness)
            for grade in range(NUM_GRADES)]


def reduce(display: np.ndarray, side: int = PREVIEW_SIDE) -> tuple[np.ndarray, float] | None:
    """A reduced copy of a film longer than ``side`` and its scale (full pixels per reduced pixel),
    or None for a film small enough to recompose at full size."""
    height, width = display.shape
    if max(height, width) <= side:
        return None
    small = fit_within(display, side)
    return small, width / small.shape[1]


def overlay_at_scale(gray: np.ndarray, scale: float, knees, grades: list[int | None]) -> EvidenceOverlay:
    """The evidence overlay of every knee over a reduced film (``scale`` full pixels per pixel)."""
    height, width = gray.shape
    maps = []
    for knee, grade in zip(knees, grades):
        evidence = knee.visible_evidence(grade)
        if knee.whole_image and knee.prediction.roi is None:
            maps.append((evidence, None))
            continue
        x, y, w, h = (round(v / scale) for v in knee.visible)
        x, y = min(x, width - 1), min(y, height - 1)
        maps.append((evidence, (x, y, max(1, min(w, width - x)), max(1, min(h, height - y)))))
    return EvidenceOverlay.for_regions(gray, maps)
