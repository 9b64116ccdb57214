"""Numpy ↔ QImage conversions for display, kept in one place.

A QImage built on a numpy buffer does not own that memory and assumes its own row stride, so
every conversion here passes the array's stride and returns a detached copy: the array may
be freed or reused the moment the call returns. Pictures flow one way, numpy → QImage (the
tests' ``gui_helpers.qimage_to_bgr`` reads one back to compare what is shown).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage


def gray_to_qimage(gray: np.ndarray) -> QImage:
    """A 2-D uint8 array as an 8-bit grayscale QImage (copied)."""
    if gray.dtype != np.uint8 or gray.ndim != 2:
        raise ValueError("expected a 2-D uint8 array")
    gray = np.ascontiguousarray(gray)  # a cropped view has gaps QImage cannot describe
    height, width = gray.shape
    return QImage(gray.data, width, height, gray.strides[0], QImage.Format.Format_Grayscale8).copy()


def bgr_to_qimage(bgr: np.ndarray) -> QImage:
    """An (h, w, 3) uint8 BGR array, as OpenCV and the core's overlay produce it (copied)."""
    if bgr.dtype != np.uint8 or bgr.ndim != 3 or bgr.shape[2] != 3:
        raise ValueError("expected an (h, w, 3) uint8 array")
    bgr = np.ascontiguousarray(bgr)
    height, width = bgr.shape[:2]
    return QImage(bgr.data, width, height, bgr.strides[0], QImage.Format.Format_BGR888).copy()
