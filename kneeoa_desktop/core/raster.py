"""Decode PNG, JPEG, BMP and TIFF bytes with OpenCV into one gray channel.

The header's size has been checked (``pixels.check_dimensions``) before these bytes get here.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading

import cv2
import numpy as np

from .errors import CorruptImageError
from .pixels import to_gray

try:  # OpenCV would otherwise print decoder warnings on stderr for damaged files.
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
except AttributeError:  # pragma: no cover - very old OpenCV
    pass


def decode_raster(data: bytes, fmt: str) -> tuple[np.ndarray, int]:
    buffer = np.frombuffer(data, np.uint8)
    try:
        with _native_stderr_silenced():
            decoded = cv2.imdecode(buffer, cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION)
    except cv2.error:
        decoded = None
    if decoded is None or decoded.size == 0:
        raise CorruptImageError(f"The {fmt} file is damaged or truncated and cannot be decoded.")
    return to_gray(decoded)


_STDERR_LOCK = threading.Lock()


@contextlib.contextmanager
def _native_stderr_silenced():
    """Point file descriptor 2 at the null device for the duration of a decode.

    libpng and libjpeg print their complaints about a damaged file ("libpng error: IDAT: CRC
    error", "Corrupt JPEG data: …") straight to descriptor 2, beneath OpenCV's log level, which
    would add lines to the one sentence a user gets on stderr. The cost: another thread's stderr
    output is lost for the milliseconds of a decode (the program logs to a file, not stderr).
    """
    with _STDERR_LOCK:
        try:
            sys.stderr.flush()
        except (AttributeError, OSError, ValueError):  # no usable sys.stderr (a windowed program)
            pass
        try:
            saved = os.dup(2)
        except OSError:  # no descriptor 2 at all: nothing to silence
            saved = None
        if saved is not None:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 2)
            os.close(null)
        try:
            yield
        finally:
            if saved is not None:
                os.dup2(saved, 2)
                os.close(saved)
