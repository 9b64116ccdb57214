"""The headless core, in wings by concern: ``film`` (reading a radiograph), ``knees`` (finding and
framing the knees), ``model`` (the model's files and engines), ``verdict`` (what a grading means)
and ``outputs`` (overlay and export), strung together by ``pipeline``; the basics every wing
stands on (errors, messages, atomic writes, JSON read back, logs, paths) sit at this top.

Importing this package never imports Qt or TensorFlow; TensorFlow is imported when a
``Predictor`` is created.
"""

from .errors import (CorruptImageError, ExportError, ImageLoadError, ImageTooLargeError, ImageTooSmallError,
                     KneeOAError, ModelError, UnsupportedFormatError)
from .film.imaging import LoadedImage, decode_image, load_image
from .knees.preprocess import equalize_histogram, preprocess
from .model.manifest import ModelManifest, load_manifest
from .model.predictor import Predictor
from .outputs.overlay import EvidenceOverlay, compose_overlay
from .verdict.grades import DISCLAIMER, KL_LABELS, KL_NAMES, OA_THRESHOLD, grade_title
from .verdict.prediction import Prediction

__all__ = [
    "CorruptImageError", "DISCLAIMER", "EvidenceOverlay", "ExportError", "ImageLoadError",
    "ImageTooLargeError", "ImageTooSmallError", "KL_LABELS", "KL_NAMES", "KneeOAError",
    "LoadedImage", "ModelError", "ModelManifest", "OA_THRESHOLD", "Prediction", "Predictor",
    "UnsupportedFormatError", "compose_overlay", "decode_image", "equalize_histogram",
    "grade_title", "load_image", "load_manifest", "preprocess",
]
