"""The headless core: loading, preprocessing, prediction, evidence maps, overlay and export.

Importing this package never imports Qt or TensorFlow; TensorFlow is imported when a
``Predictor`` is created.
"""

from .errors import (CorruptImageError, ExportError, ImageLoadError, ImageTooLargeError,
                     ImageTooSmallError, KneeOAError, ModelError, UnsupportedFormatError)
from .grades import DISCLAIMER, KL_LABELS, KL_NAMES, OA_THRESHOLD, grade_title
from .imaging import LoadedImage, decode_image, load_image
from .manifest import ModelManifest, load_manifest
from .overlay import EvidenceOverlay, compose_overlay
from .preprocess import equalize_histogram, preprocess
from .prediction import Prediction
from .predictor import Predictor

__all__ = [
    "CorruptImageError", "DISCLAIMER", "EvidenceOverlay", "ExportError", "ImageLoadError",
    "ImageTooLargeError", "ImageTooSmallError", "KL_LABELS", "KL_NAMES", "KneeOAError",
    "LoadedImage", "ModelError", "ModelManifest", "OA_THRESHOLD", "Prediction", "Predictor",
    "UnsupportedFormatError", "compose_overlay", "decode_image", "equalize_histogram",
    "grade_title", "load_image", "load_manifest", "preprocess",
]
