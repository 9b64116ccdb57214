"""Framing: how a region of a film becomes the network's input — the one place it is decided.

A region is a rectangle in the film's pixels (found by ``localise``, drawn by the user, or the
whole image). It is cut out as it is, with the film's border pixels repeated where it reaches
past the edge, and resized to the network's square input by ``preprocess``, whatever its shape:
a knee squashed by a film resized without keeping the aspect ratio gets its proportions back.
Nothing is ever padded with black: a non-square crop on a black square graded another
hospital's films at kappa 0.49 where the same network, fed the whole film resized, reached 0.67
(issue 24), and ``scripts/measure_crop_framing.py`` measures the choice on val.

Training feeds whole crops through ``preprocess`` the same way (``frame`` of the whole image is
``preprocess`` of it), and the site proxy and the scope head's fit frame their films here too.
"""

from __future__ import annotations

import cv2
import numpy as np

from .preprocess import preprocess

#: A region whose part inside the film is thinner than this (px) is degenerate: the whole film is graded.
MIN_INSIDE = 8


def cut_region(pixels: np.ndarray, x: int, y: int, width: int, height: int) -> np.ndarray:
    """The rectangle's pixels; where it reaches past the film, the border pixels are repeated
    (shifting it inside would move the joint off-centre). A degenerate rectangle gives the film."""
    h, w = pixels.shape[:2]
    if (x, y, width, height) == (0, 0, w, h):
        return pixels
    x1, y1 = x + width, y + height
    inside = pixels[max(0, y):min(h, y1), max(0, x):min(w, x1)]
    if inside.shape[0] < MIN_INSIDE or inside.shape[1] < MIN_INSIDE:
        return pixels
    pads = (max(0, -y), max(0, y1 - h), max(0, -x), max(0, x1 - w))
    if any(pads):
        inside = cv2.copyMakeBorder(inside, *pads, cv2.BORDER_REPLICATE)
    return inside


def frame(pixels: np.ndarray, region: tuple[int, int, int, int] | None = None,
          input_size: tuple[int, int] = (224, 224)) -> np.ndarray:
    """The network input (H, W, 1) float32 for ``region`` (x, y, width, height) of ``pixels``
    (None: the whole image), resized to ``input_size`` whatever the region's shape."""
    crop = pixels if region is None else cut_region(pixels, *region)
    return preprocess(crop, input_size)
