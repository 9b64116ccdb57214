"""Pixel limits and conversions shared by every decoder (the raster reader and DICOM).

A leaf module: numpy, OpenCV and the error types only, so ``imaging`` (which dispatches to the
decoders) and ``dicom`` (one of them) both import it and never each other in a circle.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..errors import CorruptImageError, ImageTooLargeError, ImageTooSmallError
from ..messages import QT_TRANSLATE_NOOP

# Refuse anything above this many pixels before decoding it (a 100-megapixel radiograph
# is already far beyond any real detector).
MAX_PIXELS = 100_000_000
# Below this, a knee joint cannot be graded.
MIN_SIDE = 64
# Refuse files above this size before reading them (the largest legitimate DICOM is far smaller).
MAX_FILE_BYTES = 1 << 30


def check_dimensions(width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise CorruptImageError(QT_TRANSLATE_NOOP("CoreMessages", "The image header gives an invalid size."))
    if width * height > MAX_PIXELS:
        raise ImageTooLargeError(QT_TRANSLATE_NOOP(
            "CoreMessages", "The image is {0}×{1} pixels, more than the {2} megapixels this program accepts."),
            width, height, MAX_PIXELS // 1_000_000)
    if width < MIN_SIDE or height < MIN_SIDE:
        raise ImageTooSmallError(QT_TRANSLATE_NOOP(
            "CoreMessages", "The image is {0}×{1} pixels; at least {2}×{2} is needed."), width, height, MIN_SIDE)


def to_uint8(pixels: np.ndarray) -> np.ndarray:
    if pixels.dtype == np.uint8:
        return pixels
    lo, hi = int(pixels.min()), int(pixels.max())
    if hi <= lo:
        return np.zeros(pixels.shape, np.uint8)
    scaled = (pixels.astype(np.float32) - lo) * (255.0 / (hi - lo))
    return np.clip(scaled + 0.5, 0, 255).astype(np.uint8)


def to_gray(decoded: np.ndarray) -> tuple[np.ndarray, int]:
    """Reduce any decoded raster to one gray channel of uint8 or uint16; return (pixels, bits)."""
    if decoded.ndim == 3 and decoded.shape[2] == 1:
        decoded = decoded[:, :, 0]
    if decoded.ndim == 3:
        channels = decoded.shape[2]
        if channels == 4:
            decoded = decoded[:, :, :3]  # radiographs carry no meaning in alpha
        elif channels != 3:
            raise CorruptImageError(QT_TRANSLATE_NOOP(
                "CoreMessages", "Images with {0} channels are not supported."), channels)
        if decoded.dtype not in (np.uint8, np.uint16):
            decoded = rescale_to_uint16(decoded)
        # OpenCV decodes colour as BGR; its luminance weights reproduce the gray exactly
        # when the three channels are equal.
        decoded = cv2.cvtColor(np.ascontiguousarray(decoded), cv2.COLOR_BGR2GRAY)
    elif decoded.ndim != 2:
        raise CorruptImageError(QT_TRANSLATE_NOOP("CoreMessages", "The image has an unsupported pixel layout."))
    if decoded.dtype == np.uint8:
        return decoded, 8
    if decoded.dtype == np.uint16:
        return decoded, 16
    return rescale_to_uint16(decoded), 16


def rescale_to_uint16(values: np.ndarray) -> np.ndarray:
    """Map signed or floating-point data linearly onto uint16, keeping the order of values."""
    values = values.astype(np.float64)
    finite = np.isfinite(values)
    if not finite.any():
        raise CorruptImageError(QT_TRANSLATE_NOOP("CoreMessages", "The image holds no valid pixel values."))
    lo, hi = values[finite].min(), values[finite].max()
    values = np.where(finite, values, lo)
    if hi <= lo:
        return np.zeros(values.shape, np.uint16)
    return np.round((values - lo) * (65535.0 / (hi - lo))).astype(np.uint16)
