"""Which engine grades: the lean ONNX Runtime engine, or TensorFlow (the reference).

``auto`` (the default) takes ONNX Runtime when the model ships its exported graphs and ONNX
Runtime is installed, else TensorFlow when it is installed (``pip install
"kneeoa-desktop[tensorflow]"``). ``--engine`` on the command line or ``KNEEOA_ENGINE`` asks
for one; ``tensorflow-graph`` is TensorFlow without its TensorFlow Lite fast path (its own
graph, the exact reference). Nothing here imports either engine. No Qt here.
"""

from __future__ import annotations

import importlib.util
import os

from ..errors import ModelError
from ..messages import QT_TRANSLATE_NOOP
from .manifest import ModelManifest

ENGINE_ENV = "KNEEOA_ENGINE"
ONNX, TENSORFLOW, TENSORFLOW_GRAPH = "onnx", "tensorflow", "tensorflow-graph"
#: What ``--engine`` accepts.
CHOICES = ("auto", ONNX, TENSORFLOW, TENSORFLOW_GRAPH)
_ALIASES = {"": "auto", "onnxruntime": ONNX, "ort": ONNX, "tf": TENSORFLOW, "tflite": TENSORFLOW}


def requested(engine: str | None = None) -> str:
    """The engine asked for: ``engine`` if given, else ``$KNEEOA_ENGINE``, else "auto"."""
    text = (engine if engine is not None else os.environ.get(ENGINE_ENV, "")).strip().lower()
    text = _ALIASES.get(text, text)
    if text not in CHOICES:
        raise ModelError(QT_TRANSLATE_NOOP("CoreMessages", "Unknown engine {0} (choose from {1})."),
                         text, ", ".join(CHOICES))
    return text


def installed(module: str) -> bool:
    """Whether ``module`` can be imported (without importing it: TensorFlow takes seconds)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def choose(manifest: ModelManifest, engine: str | None = None) -> str:
    """ONNX, TENSORFLOW or TENSORFLOW_GRAPH for ``manifest``; ModelError (one sentence) when the
    engine asked for cannot grade it here."""
    wanted = requested(engine)
    if wanted == ONNX or (wanted == "auto" and manifest.has_onnx and installed("onnxruntime")):
        if not manifest.has_onnx:
            raise ModelError(QT_TRANSLATE_NOOP(
                "CoreMessages", "The model {0} has no runtime file for ONNX Runtime; grade it with the "
                "TensorFlow engine (--engine tensorflow)."), manifest.tag)
        if not installed("onnxruntime"):
            raise ModelError(QT_TRANSLATE_NOOP(
                "CoreMessages", "ONNX Runtime is not installed (pip install onnxruntime)."))
        return ONNX
    if not (installed("tensorflow") and installed("keras")):
        if wanted == "auto":
            raise ModelError(QT_TRANSLATE_NOOP(
                "CoreMessages", "The model {0} has no runtime file, and the TensorFlow engine that could "
                "grade it is not installed (pip install \"kneeoa-desktop[tensorflow]\")."), manifest.tag)
        raise ModelError(QT_TRANSLATE_NOOP("CoreMessages", "The TensorFlow engine is not installed "
                                           "(pip install \"kneeoa-desktop[tensorflow]\")."))
    return TENSORFLOW_GRAPH if wanted == TENSORFLOW_GRAPH else TENSORFLOW
