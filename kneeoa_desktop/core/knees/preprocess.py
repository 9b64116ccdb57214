"""The one preprocessing function: what training, the CLI and the GUI all feed the network.

Histogram equalisation of the luminance (at the image's full bit depth), area resize to the
model's input size, scale to [0, 1], one gray channel. Equalisation depends only on the order
and frequency of gray values, so the same radiograph stored as 8-bit PNG, 16-bit PNG/TIFF or
12-bit DICOM gives the very same network input.
"""

from __future__ import annotations

import cv2
import numpy as np


def equalize_histogram(pixels: np.ndarray) -> np.ndarray:
    """Equalise a uint8 or uint16 gray image onto uint8, as OpenCV's equalizeHist does for 8-bit."""
    if pixels.dtype not in (np.uint8, np.uint16) or pixels.ndim != 2:
        raise ValueError("equalize_histogram expects a 2-D uint8 or uint16 array")
    levels = 256 if pixels.dtype == np.uint8 else 65536
    hist = np.bincount(pixels.ravel(), minlength=levels)
    first = int(np.flatnonzero(hist)[0])
    total = pixels.size
    if hist[first] == total:  # a flat image stays flat
        return np.zeros(pixels.shape, np.uint8)
    cdf = np.cumsum(hist, dtype=np.int64) - hist[first]
    lut = np.rint(cdf * (255.0 / (total - hist[first])))
    lut = np.clip(lut, 0, 255).astype(np.uint8)
    # OpenCV's table look-up is the same mapping, several times faster on a large film's crop;
    # it takes 8-bit indices only.
    return cv2.LUT(pixels, lut) if pixels.dtype == np.uint8 else lut[pixels]


def preprocess(pixels: np.ndarray, input_size: tuple[int, int] = (224, 224)) -> np.ndarray:
    """Return the network input for one gray image: float32 array of shape (H, W, 1) in [0, 1].

    ``input_size`` is (height, width) as in the model manifest.
    """
    equalized = equalize_histogram(pixels)
    height, width = int(input_size[0]), int(input_size[1])
    if equalized.shape != (height, width):
        equalized = cv2.resize(equalized, (width, height), interpolation=cv2.INTER_AREA)
    return (equalized.astype(np.float32) * (1.0 / 255.0))[:, :, None]
