"""Framing: how a region of a film becomes the network's input — the one place it is decided.

A region is a rectangle in the film's pixels (found by ``localise``, drawn by the user, or the
whole image). It is cut out as it is, with the film's border pixels repeated where it reaches
past the edge, and resized to the network's square input by ``preprocess``, whatever its shape:
a knee squashed by a film resized without keeping the aspect ratio gets its proportions back.
Nothing is ever padded with black: a non-square crop on a black square graded another
hospital's films at kappa 0.49 where the same network, fed the whole film resized, reached 0.67
(issue 24), and ``scripts/measure_crop_framing.py`` measures the choice on val.

The pipeline cuts every region here (the scope check reads the same cut) and hands it to
``preprocess``; training, the site proxy and the scope head's fit feed whole crops and films to
``preprocess`` (or through the pipeline), which is this framing of the whole image.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..film.pixels import MIN_SIDE

#: A region whose part inside the film is thinner than this (px) is degenerate: the whole film is graded.
MIN_INSIDE = MIN_SIDE // 4


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

