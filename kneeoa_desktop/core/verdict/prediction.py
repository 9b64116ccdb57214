"""What one grading produced: probabilities, grade and evidence maps, as plain data.

No TensorFlow here (``predictor`` holds the network): export, the pipeline's results, the GUI
and the tests read a ``Prediction`` without importing the module that loads the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from .grades import LOW_CONFIDENCE, NUM_GRADES, OA_THRESHOLD


@dataclass
class Prediction:
    """What one grading produced; plain data, safe to hand between threads."""

    probabilities: np.ndarray  # (5,) float64, sums to 1
    evidence: np.ndarray  # (h, w, 5) float32 in [0, 1], at the network's feature resolution
    model: str  # "name@version"
    device: str
    elapsed_ms: float = 0.0
    source_name: str = ""
    roi: tuple[int, int, int, int] | None = None  # (x, y, w, h) when a region was graded
    metadata: dict = field(default_factory=dict)
    # The network's pooled features (the "gap" layer), flip-averaged like the probabilities:
    # what the scope check compares with the training images' features.
    features: np.ndarray | None = None
    # Under a site profile (``core.verdict.site_profile``) the grade comes from its cut points on the
    # expected grade, not from the most probable one; ``site`` then says so ("calibrated for …").
    assigned_grade: int | None = None
    site: str = ""
    engine: str = ""  # what ran the network(s): "ONNX Runtime 1.32.0", "TensorFlow" …

    @property
    def grade(self) -> int:
        if self.assigned_grade is not None:
            return int(self.assigned_grade)
        return int(np.argmax(self.probabilities))

    @property
    def oa_probability(self) -> float:
        """P(KL ≥ 2): radiographic osteoarthritis."""
        return float(self.probabilities[OA_THRESHOLD:].sum())

    @property
    def confidence(self) -> float:
        return float(self.probabilities.max())

    @property
    def low_confidence(self) -> bool:
        """True when the top probability is below ``grades.LOW_CONFIDENCE``."""
        return self.confidence < LOW_CONFIDENCE

    def evidence_map(self, grade: int | None = None, shape: tuple[int, int] | None = None) -> np.ndarray:
        """Evidence for ``grade`` (default: the predicted one), upsampled to ``shape`` (h, w)."""
        grade = self.grade if grade is None else int(grade)
        if not 0 <= grade < NUM_GRADES:
            raise ValueError(f"grade must be 0..{NUM_GRADES - 1}")
        cam = np.ascontiguousarray(self.evidence[:, :, grade])
        if shape is None or tuple(shape) == cam.shape:
            return cam.copy()
        up = cv2.resize(cam, (int(shape[1]), int(shape[0])), interpolation=cv2.INTER_CUBIC)
        return np.clip(up, 0.0, 1.0, out=up)

    def as_dict(self) -> dict:
        return {
            "file": self.source_name,
            "probabilities": [round(float(p), 6) for p in self.probabilities],
            "grade": self.grade,
            "oa_probability": round(self.oa_probability, 6),
            "model": self.model,
            "device": self.device,
            **({"engine": self.engine} if self.engine else {}),
            "roi": list(self.roi) if self.roi else None,
            **({"site_profile": self.site} if self.site else {}),
        }
