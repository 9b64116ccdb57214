"""Composite an evidence map over the radiograph, with a brightness control.

Everything that does not depend on brightness (gray → RGB, colour map of the evidence) is
computed once in ``EvidenceOverlay``; ``compose(brightness)`` is then a lookup table and one
blend over the box around the graded regions, a few milliseconds for a megapixel, so a slider
can call it on every move.
"""

from __future__ import annotations

import cv2
import numpy as np

#: Brightness range offered to users: 0 hides the overlay, 1 is the default.
MIN_BRIGHTNESS, DEFAULT_BRIGHTNESS, MAX_BRIGHTNESS = 0.0, 1.0, 4.0
#: Opacity of the strongest evidence at brightness 1; higher brightness saturates sooner.
_BASE_OPACITY = 0.55
_MAX_OPACITY = 0.9
#: Evidence below this share of the map's peak is not drawn, so the radiograph stays readable
#: instead of being washed over with colour.
_FLOOR = 0.15


def _evidence_colours() -> np.ndarray:
    """A 256-entry BGR lookup: weak evidence pink-magenta (as in the original tool), strong yellow-white."""
    t = np.linspace(0.0, 1.0, 256)[:, None]
    magenta = np.array([200.0, 40.0, 255.0])  # BGR
    yellow = np.array([120.0, 255.0, 255.0])
    return np.clip(magenta * (1 - t) + yellow * t, 0, 255).astype(np.uint8)[:, None, :]


_COLOURS = _evidence_colours()


class EvidenceOverlay:
    """A radiograph and one evidence map, ready to be recomposed at any brightness."""

    def __init__(self, gray_u8: np.ndarray, evidence: np.ndarray,
                 roi: tuple[int, int, int, int] | None = None):
        """``evidence`` is in [0, 1], at the image's size or at the ROI's (x, y, w, h) size."""
        self._prepare(gray_u8, [(evidence, roi)])

    @classmethod
    def for_regions(cls, gray_u8: np.ndarray, maps: list) -> "EvidenceOverlay":
        """One overlay over several regions: ``maps`` holds (evidence, roi or None) pairs."""
        overlay = cls.__new__(cls)
        overlay._prepare(gray_u8, maps)
        return overlay

    def _prepare(self, gray_u8: np.ndarray, maps: list) -> None:
        # The film's colour copy and the colour map are made once, however many regions. Only
        # the box around the regions can carry colour: the rest of a large film is never
        # colour-mapped or blended, only copied.
        if gray_u8.dtype != np.uint8 or gray_u8.ndim != 2:
            raise ValueError("gray_u8 must be a 2-D uint8 image")
        h, w = gray_u8.shape
        self.gray_rgb = cv2.cvtColor(gray_u8, cv2.COLOR_GRAY2BGR)
        level = np.zeros((h, w), np.uint8)
        y0, y1, x0, x1 = h, 0, w, 0
        for evidence, roi in maps:
            rx, ry, rw, rh = (0, 0, w, h) if roi is None else roi
            target = (slice(ry, ry + rh), slice(rx, rx + rw))
            region = level[target]
            if region.size == 0:
                continue
            if evidence.shape != region.shape:
                evidence = cv2.resize(evidence.astype(np.float32), (region.shape[1], region.shape[0]),
                                      interpolation=cv2.INTER_CUBIC)
            np.maximum(region, np.clip(evidence * 255.0 + 0.5, 0, 255).astype(np.uint8), out=region)
            y0, x0 = min(y0, max(0, ry)), min(x0, max(0, rx))
            y1, x1 = max(y1, min(h, ry + rh)), max(x1, min(w, rx + rw))
        self._box = (slice(y0, max(y0, y1)), slice(x0, max(x0, x1)))
        self.level = level[self._box]
        self.colour = cv2.applyColorMap(self.level, _COLOURS) if self.level.size else None

    def compose(self, brightness: float = DEFAULT_BRIGHTNESS) -> np.ndarray:
        """Return the blended BGR uint8 image; brightness 0 returns the plain radiograph."""
        brightness = float(np.clip(brightness, MIN_BRIGHTNESS, MAX_BRIGHTNESS))
        if brightness <= 0.0 or self.colour is None:
            return self.gray_rgb.copy()
        ramp = np.clip((np.linspace(0.0, 1.0, 256) - _FLOOR) / (1.0 - _FLOOR), 0.0, 1.0)
        lut = np.clip(ramp * (_BASE_OPACITY * brightness), 0.0, _MAX_OPACITY).astype(np.float32)
        alpha = cv2.LUT(self.level, lut)
        blended = cv2.blendLinear(self.gray_rgb[self._box], self.colour, 1.0 - alpha, alpha)
        if blended.shape == self.gray_rgb.shape:  # the regions cover the whole film
            return blended
        out = self.gray_rgb.copy()
        out[self._box] = blended
        return out


def compose_overlay(gray_u8: np.ndarray, evidence: np.ndarray, brightness: float = DEFAULT_BRIGHTNESS,
                    roi: tuple[int, int, int, int] | None = None) -> np.ndarray:
    """One-shot convenience: BGR uint8 overlay of ``evidence`` on ``gray_u8``."""
    return EvidenceOverlay(gray_u8, evidence, roi).compose(brightness)
