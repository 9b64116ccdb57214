"""One network of the grader: its `.keras` file loaded (safe mode, checked) and its forward pass.

A forward pass returns, for a batch of preprocessed inputs, the probabilities (B, 5), the
per-grade evidence maps (B, h, w, 5) and the pooled features (B, C) in one call. The shipped
networks end in global-average-pooling + dense, so the evidence is the exact class activation
map (CAM): ReLU(features · w_g); a network without that head falls back to Grad-CAM on its last
4-D layer. On a CPU the pass runs as TensorFlow Lite when it converts and agrees
(``lite_engine``), else as TensorFlow's graph. ``predictor.Predictor`` combines one or several
of these (an ensemble's members).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ModelError
from ..messages import QT_TRANSLATE_NOOP
from ..verdict.grades import NUM_GRADES
from .lite_engine import LITE_ENGINE, TF_ENGINE, convert_and_cache, load_cached


class Network:
    """One member's model file, already checked against its sha256 by the caller."""

    def __init__(self, runtime, path: Path, sha256: str, input_size: tuple[int, int], lite: bool):
        self._tf, self._keras = runtime.tf, runtime.keras
        self.path, self.sha256, self.input_size = Path(path), sha256, tuple(input_size)
        self._model = self._forward = None
        self.evidence_method = ""
        # On a CPU the forward pass runs about 3× faster as TensorFlow Lite (see lite_engine); a
        # start that finds this model already converted needs no Keras model at all.
        cached = load_cached(self._tf, sha256, self.input_size) if lite else None
        if cached is not None:
            self.lite, self.evidence_method = cached
        else:
            self._load_keras()
            self.lite = (convert_and_cache(self._tf, self._forward, sha256, self.input_size,
                                           self.evidence_method) if lite else None)
        self.engine = LITE_ENGINE if self.lite is not None else TF_ENGINE

    @property
    def model(self):
        """The Keras model (loaded on first use when the start found the converted one)."""
        if self._model is None:
            self._load_keras()
        return self._model

    def tensorflow_forward(self):
        """TensorFlow's own forward pass (a ``tf.function``): what TensorFlow Lite was made from."""
        if self._forward is None:
            self._load_keras()
        return self._forward

    def __call__(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self.lite is not None:
            return self.lite(batch)
        out = self.tensorflow_forward()(self._tf.convert_to_tensor(batch, self._tf.float32))
        return tuple(np.asarray(a) for a in out)

    def _load_keras(self) -> None:
        try:
            model = self._keras.saving.load_model(self.path, compile=False, safe_mode=True)
        except Exception as exc:  # Keras raises many types for a damaged or foreign file
            raise ModelError(QT_TRANSLATE_NOOP("CoreMessages", "The model file {0} cannot be loaded ({1})."),
                             self.path.name, type(exc).__name__) from exc
        check_model(model, self.input_size)
        self._build_forward(model)
        self._model = model

    def _build_forward(self, model) -> None:
        tf, keras = self._tf, self._keras
        names = {layer.name for layer in model.layers}
        head = model.get_layer("head") if "head" in names else model.layers[-1]
        features = model.get_layer("features") if "features" in names else None
        gap = model.get_layer("gap").output if "gap" in names else None
        spec = tf.TensorSpec((None, *self.input_size, 1), tf.float32)
        if features is not None and isinstance(head, keras.layers.Dense):
            pooled_out = gap if gap is not None else features.output
            both = keras.Model(model.inputs, [features.output, model.outputs[0], pooled_out])
            kernel = tf.constant(np.asarray(head.kernel), tf.float32)  # (C, 5)

            @tf.function(input_signature=[spec], jit_compile=False)
            def forward(x):
                fmap, probs, pooled = both(x, training=False)
                cams = tf.nn.relu(tf.einsum("bhwc,ck->bhwk", fmap, kernel))
                return probs, cams, _pool(tf, pooled)
            self.evidence_method = "CAM"
        else:
            last4d = [layer for layer in model.layers if len(getattr(layer, "output").shape) == 4][-1]
            pooled_out = gap if gap is not None else last4d.output
            both = keras.Model(model.inputs, [last4d.output, model.outputs[0], pooled_out])

            @tf.function(input_signature=[spec])
            def forward(x):
                cams = []
                with tf.GradientTape(persistent=True) as tape:
                    fmap, probs, pooled = both(x, training=False)
                    scores = [probs[:, k] for k in range(NUM_GRADES)]
                for k in range(NUM_GRADES):
                    grads = tape.gradient(scores[k], fmap)
                    weights = tf.reduce_mean(grads, axis=[1, 2], keepdims=True)
                    cams.append(tf.nn.relu(tf.reduce_sum(weights * fmap, axis=-1)))
                return probs, tf.stack(cams, axis=-1), _pool(tf, pooled)
            self.evidence_method = "Grad-CAM"
        self._forward = forward


def _pool(tf, pooled):
    """Pooled features as (B, C): a 4-D map (model without a "gap" layer) is averaged over space."""
    if len(pooled.shape) == 4:
        return tf.reduce_mean(pooled, axis=[1, 2])
    # A static feature width (not -1) keeps the output's shape known to a converted model.
    return tf.reshape(pooled, (-1, int(np.prod(pooled.shape[1:]))))


def check_model(model, input_size: tuple[int, int]) -> None:
    """Refuse layer types from outside Keras, Lambda layers, and a shape other than the manifest's."""
    import keras

    for layer in model.layers:
        # Safe mode already refuses lambdas; also refuse layer classes from outside Keras,
        # which would be code we have not reviewed.
        if not type(layer).__module__.startswith("keras."):
            raise ModelError(QT_TRANSLATE_NOOP(
                "CoreMessages", "The model contains an unknown layer type ({0}); it was not loaded."),
                type(layer).__name__)
        if isinstance(layer, keras.layers.Lambda):
            raise ModelError(QT_TRANSLATE_NOOP(
                "CoreMessages", "The model contains a Lambda layer (arbitrary code); it was not loaded."))
    in_shape = tuple(model.inputs[0].shape[1:])
    out_shape = tuple(model.outputs[0].shape[1:])
    if in_shape != (*input_size, 1) or out_shape != (NUM_GRADES,):
        raise ModelError(QT_TRANSLATE_NOOP("CoreMessages", "The model's shape {0}→{1} does not match its manifest "
                                           "({2} gray → {3} grades)."),
                         in_shape, out_shape, tuple(input_size), NUM_GRADES)
