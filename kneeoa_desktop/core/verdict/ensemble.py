"""How the members of an ensemble make one verdict (plain numpy, no TensorFlow).

* Probabilities: the geometric mean of the members' probabilities (the mean of their logs),
  renormalised, then the ensemble's own temperature (fitted on val after the members were
  chosen, so the low-confidence warning keeps its meaning). With one member and temperature 1
  it returns that member's probabilities unchanged.
* Evidence maps: each member's per-grade map scaled to its own peak, averaged, and scaled to
  the peak again; a member whose grid differs from the first's is resized to it.
* Pooled features: the first member's (the scope check was fitted on that member's features).
"""

from __future__ import annotations

import cv2
import numpy as np


def combine_probabilities(member_probs: list[np.ndarray], temperature: float = 1.0) -> np.ndarray:
    """(B, K) probabilities from each member's (B, K), as the module docstring says."""
    if len(member_probs) == 1 and temperature == 1.0:
        probs = np.asarray(member_probs[0], np.float64)
        return probs / probs.sum(axis=1, keepdims=True)
    logs = np.mean([np.log(np.clip(np.asarray(p, np.float64), 1e-12, 1.0)) for p in member_probs], axis=0)
    logits = logs / float(temperature)
    logits -= logits.max(axis=1, keepdims=True)
    probs = np.exp(logits)
    return probs / probs.sum(axis=1, keepdims=True)


def scale_to_peak(cams: np.ndarray) -> np.ndarray:
    """Each (b, grade) map of (B, h, w, K) divided by its own peak (an all-zero map stays zero)."""
    cams = np.asarray(cams, np.float32)
    peak = cams.max(axis=(1, 2), keepdims=True)
    return np.divide(cams, peak, out=np.zeros_like(cams), where=peak > 0)


def combine_evidence(member_cams: list[np.ndarray]) -> np.ndarray:
    """(B, h, w, K) evidence from each member's maps, on the first member's grid."""
    first = member_cams[0]
    if len(member_cams) == 1:
        return scale_to_peak(first)
    grid = first.shape[1:3]
    scaled = []
    for cams in member_cams:
        cams = scale_to_peak(cams)
        if cams.shape[1:3] != grid:
            cams = np.stack([np.stack([cv2.resize(m[:, :, k], (grid[1], grid[0]), interpolation=cv2.INTER_LINEAR)
                                       for k in range(m.shape[2])], axis=-1) for m in cams])
        scaled.append(cams)
    return scale_to_peak(np.mean(scaled, axis=0))
