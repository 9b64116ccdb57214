"""Decode PNG, JPEG, BMP and TIFF bytes with OpenCV into one gray channel.

The header's size has been checked (``pixels.check_dimensions``) before these bytes get here.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..errors import CorruptImageError
from ..messages import QT_TRANSLATE_NOOP
from ..native_stderr import redirect_native_stderr
from .pixels import to_gray

try:  # OpenCV would otherwise print decoder warnings on stderr for damaged files.
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
except AttributeError:  # pragma: no cover - very old OpenCV
    pass


def decode_raster(data: bytes, fmt: str) -> tuple[np.ndarray, int]:
    buffer = np.frombuffer(data, np.uint8)
    try:
        with redirect_native_stderr():  # libpng/libjpeg complain on fd 2
            decoded = cv2.imdecode(buffer, cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION)
    except cv2.error:
        decoded = None
    if decoded is None or decoded.size == 0:
        raise CorruptImageError(QT_TRANSLATE_NOOP(
            "CoreMessages", "The {0} file is damaged or truncated and cannot be decoded."), fmt)
    return to_gray(decoded)
