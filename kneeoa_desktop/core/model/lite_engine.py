"""Fast CPU inference: the predictor's forward pass converted to TensorFlow Lite (XNNPACK).

On a laptop CPU, TensorFlow Lite's XNNPACK kernels run the EfficientNet-Lite0 forward pass
(probabilities, evidence maps and pooled features in one call) about three times faster than
TensorFlow's own graph, with the same results to float rounding (probabilities within 1e-6).
TensorFlow Lite ships inside TensorFlow, so nothing more is installed.

The conversion takes a few seconds, so it is done once per model and kept in the user's cache
folder (``KNEEOA_CACHE_DIR`` overrides it), named by the model file's sha256 (already checked
against the manifest before we get here), the TensorFlow version and ``FORWARD_VERSION``; a later
start loads it in milliseconds and does not load the Keras model at all. A fresh conversion
must give TensorFlow's own outputs on a probe input; those outputs are kept beside it, and a
cached file must give them again, so a damaged file is found without running TensorFlow's pass.
Anything that goes wrong (a conversion error, a damaged cache file) is logged and the caller
keeps TensorFlow's forward pass: slower, never wrong. The predictor tries none of this when
``usable`` says no (no ``tf.lite`` in this TensorFlow) or the engine asked for is
``tensorflow-graph`` (``core.model.engines``). This is the TensorFlow engine's fast path; the lean
engine (``onnx_engine``) needs no TensorFlow at all. No Qt here.
"""

from __future__ import annotations

import io
import logging
import os
import threading
import warnings
from pathlib import Path

import numpy as np

from ..atomic import write_bytes_atomic
from ..native_stderr import redirect_native_stderr
from ..paths import user_dir

log = logging.getLogger(__name__)

#: Name shown by ``kneeoa info`` and the About box for each engine.
LITE_ENGINE = "TensorFlow Lite with XNNPACK"
TF_ENGINE = "TensorFlow"
#: Bump when the forward function (what it returns, how) changes: old cache files then go unused.
FORWARD_VERSION = 1


def usable(tf) -> bool:
    """Whether to try TensorFlow Lite at all: this TensorFlow has it."""
    return hasattr(tf, "lite")


def cache_file(model_sha256: str, tf_version: str) -> Path:
    safe_version = "".join(c if c.isalnum() or c in ".-" else "_" for c in tf_version)
    name = f"{model_sha256}-tf{safe_version}-f{FORWARD_VERSION}.tflite"
    return user_dir("cache", "KNEEOA_CACHE_DIR") / "lite" / name


class LiteForward:
    """The converted forward pass: ``(batch) -> (probs, cams, pooled)`` as numpy arrays.

    An interpreter is not thread-safe and holds one input shape at a time, so calls are
    serialised and the input is resized only when the batch size changes."""

    def __init__(self, tf, flatbuffer: bytes):
        # tf.lite.Interpreter announces its successor package (a Python warning) and its XNNPACK
        # delegate (on descriptor 2): neither is for the user.
        with warnings.catch_warnings(), redirect_native_stderr():
            warnings.simplefilter("ignore")
            self._interpreter = tf.lite.Interpreter(model_content=flatbuffer,
                                                    num_threads=max(1, min(4, os.cpu_count() or 1)))
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._outputs = None
        self._batch = None
        self._lock = threading.Lock()

    def __call__(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        batch = np.ascontiguousarray(batch, np.float32)
        with self._lock:
            it = self._interpreter
            if batch.shape[0] != self._batch:
                with redirect_native_stderr():
                    it.resize_tensor_input(self._input, list(batch.shape))
                    it.allocate_tensors()
                self._batch = batch.shape[0]
                self._outputs = _output_order(it.get_output_details())
            it.set_tensor(self._input, batch)
            it.invoke()
            return tuple(np.array(it.get_tensor(i)) for i in self._outputs)


def _output_order(details) -> tuple[int, int, int]:
    """Tensor indices of (probabilities (B, K), evidence (B, h, w, K), features (B, C)): the
    converter does not keep the function's output order, so they are told apart by shape."""
    rank4 = [d for d in details if len(d["shape_signature"]) == 4]
    rank2 = [d for d in details if len(d["shape_signature"]) == 2]
    if len(rank4) != 1 or len(rank2) != 2:
        raise ValueError("unexpected outputs of the converted model")
    grades = int(rank4[0]["shape_signature"][3])
    probs = [d for d in rank2 if int(d["shape_signature"][1]) == grades]
    if len(probs) != 1:
        raise ValueError("cannot tell the converted model's outputs apart")
    features = [d for d in rank2 if d is not probs[0]]
    return probs[0]["index"], rank4[0]["index"], features[0]["index"]


def convert(tf, concrete_function, trackable_obj=None) -> bytes:
    """The forward pass as a TensorFlow Lite flatbuffer (float32, no quantisation)."""
    absl = logging.getLogger("absl")  # the converter's notes on deprecated paths
    level = absl.level
    absl.setLevel(logging.ERROR)
    try:
        with redirect_native_stderr(capture=True) as captured:
            converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete_function], trackable_obj)
            flatbuffer = converter.convert()
    finally:
        absl.setLevel(level)
    if captured.text.strip():
        log.debug("TensorFlow Lite converter: %s", captured.text.strip())
    return flatbuffer


def _probe(input_size: tuple[int, int]) -> np.ndarray:
    return np.random.default_rng(0).random((1, *input_size, 1), dtype=np.float32)


def load_cached(tf, model_sha256: str, input_size: tuple[int, int]) -> tuple[LiteForward, str] | None:
    """The forward pass converted at an earlier start, with the evidence method it computes,
    if its file is there and still gives the outputs recorded then; else None.

    With it, the start needs no Keras model at all: the file was made from this very model
    file (its sha256 is in the name, and the caller has checked it against the manifest)."""
    path = cache_file(model_sha256, tf.__version__)
    reference = path.with_suffix(".npz")
    if not (path.is_file() and reference.is_file()):
        return None
    try:
        with np.load(reference) as saved:
            expected = tuple(saved[k] for k in ("probs", "cams", "pooled"))
            method = str(saved["evidence_method"])
            if tuple(int(v) for v in saved["input_size"]) != tuple(input_size):
                raise ValueError("converted for another input size")
        engine = LiteForward(tf, path.read_bytes())
        _check_same(engine(_probe(input_size)), expected)
    except Exception as exc:  # damaged or foreign: the caller converts again
        log.warning("cached TensorFlow Lite model %s not usable (%s: %s)", path, type(exc).__name__, exc)
        return None
    log.info("inference engine: %s (cached %s)", LITE_ENGINE, path.name)
    return engine, method


def convert_and_cache(tf, forward, model_sha256: str, input_size: tuple[int, int],
                      evidence_method: str) -> LiteForward | None:
    """``forward`` (the predictor's ``tf.function``, input (None, H, W, 1) float32) converted,
    checked against TensorFlow's own outputs on a probe input and kept in the cache; None if
    it cannot be converted or does not agree."""
    path = cache_file(model_sha256, tf.__version__)
    probe = _probe(input_size)
    try:
        flatbuffer = convert(tf, forward.get_concrete_function(), forward)
        engine = LiteForward(tf, flatbuffer)
        expected = tuple(np.asarray(a) for a in forward(tf.constant(probe)))
        _check_same(engine(probe), expected)
    except Exception as exc:  # any failure: TensorFlow's pass stays; never fail the model load
        log.warning("TensorFlow Lite engine not usable (%s: %s); using TensorFlow", type(exc).__name__, exc)
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # The reference first: a flatbuffer without one is never trusted.
        write_bytes_atomic(_npz_bytes(probs=expected[0], cams=expected[1], pooled=expected[2],
                                      evidence_method=np.array(evidence_method),
                                      input_size=np.array(input_size)), path.with_suffix(".npz"))
        write_bytes_atomic(flatbuffer, path)
    except OSError as exc:  # a read-only cache only costs the next start another conversion
        log.warning("cannot keep the converted model in %s (%s)", path.parent, exc)
    log.info("inference engine: %s (converted)", LITE_ENGINE)
    return engine


def _npz_bytes(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _check_same(lite, reference) -> None:
    """The converted pass must give what TensorFlow gives on the same input."""
    if len(lite) != len(reference):
        raise ValueError("a different number of outputs")
    for a, b, tol in zip(lite, reference, (1e-4, 1e-3, 1e-3)):
        b = np.asarray(b)
        if a.shape != b.shape:
            raise ValueError(f"output shape {a.shape} != {b.shape}")
        scale = max(1.0, float(np.abs(b).max()))
        if float(np.abs(a - b).max()) > tol * scale:
            raise ValueError(f"outputs differ by {float(np.abs(a - b).max()):.2g}")
