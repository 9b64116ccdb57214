"""Percentiles of 8- and 16-bit images from their histogram, equal to ``np.percentile``'s.

``np.percentile`` partitions a float copy of every pixel; an integer image's order statistics
can be read off the cumulative histogram instead, which costs one counting pass. The knee
finder and the scope check take percentiles of every film and every region, so this is on the
path of each grading. Other types fall back to ``np.percentile``.
"""

from __future__ import annotations

import numpy as np


def percentiles(pixels: np.ndarray, q) -> np.ndarray:
    """``np.percentile(pixels, q)`` (linear interpolation), as float64, for any array.

    For uint8/uint16 the result is the same to the last bit: the same two order statistics,
    combined by the same formula (numpy's ``_lerp``)."""
    a = np.asarray(pixels)
    qs = np.asarray(q, dtype=np.float64)
    if a.dtype not in (np.uint8, np.uint16) or a.size == 0 or np.any((qs < 0) | (qs > 100)):
        return np.percentile(a, q)
    cumulative = np.cumsum(np.bincount(a.ravel(), minlength=256 if a.dtype == np.uint8 else 1))
    n = a.size
    index = (qs / 100.0) * (n - 1)  # numpy's "linear" virtual index
    below = np.floor(index)
    t = index - below
    below = below.astype(np.int64)
    above = np.minimum(below + 1, n - 1)
    # The k-th smallest value (0-based) is the first gray level whose cumulative count exceeds k.
    lo = np.searchsorted(cumulative, below, side="right").astype(np.float64)
    hi = np.searchsorted(cumulative, above, side="right").astype(np.float64)
    diff = hi - lo
    # numpy's _lerp: from below when t < 0.5, from above otherwise (monotone in t).
    out = np.where(t >= 0.5, hi - diff * (1 - t), lo + diff * t)
    return out if qs.ndim else out[()]
