"""Grade a radiograph: preprocess → network → probabilities, grade and evidence maps.

The shipped model ends in global-average-pooling + dense, so class activation maps (CAM) come
from the same forward pass: evidence for grade g = ReLU(features · w_g). A model without that
head falls back to Grad-CAM on its last 4-D layer. On a CPU the forward pass runs as
TensorFlow Lite when it converts and agrees (``lite_engine``), else as TensorFlow's graph.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from .errors import ModelError
from .grades import NUM_GRADES
from .imaging import LoadedImage
from .lite_engine import LITE_ENGINE, TF_ENGINE, LiteForward, convert_and_cache, load_cached
from .lite_engine import usable as lite_usable
from .manifest import ModelManifest, load_manifest
from .messages import QT_TRANSLATE_NOOP
# What a grading produced is plain data in ``prediction`` (no TensorFlow there); re-exported here.
from .prediction import Prediction
from .preprocess import preprocess
from .runtime import tensorflow_runtime


class Predictor:
    """Loads the model once (sha256-checked, safe mode) and grades images.

    ``weights`` is a folder holding ``manifest.json`` (or the manifest itself); the model in use
    is ``model_store.active_weights_dir()``, which the front doors pass.
    """

    def __init__(self, weights: str | Path | ModelManifest):
        self.manifest = weights if isinstance(weights, ModelManifest) else load_manifest(weights)
        self.manifest.verify()
        runtime = tensorflow_runtime()
        self._tf = runtime.tf
        self.device = runtime.device
        self.versions = runtime.versions
        self._keras = runtime.keras
        self.test_time_flip = self.manifest.test_time_flip
        self._model = self._forward = None
        # On a CPU the forward pass runs about 3× faster as TensorFlow Lite (see lite_engine); a
        # start that finds this model already converted needs no Keras model at all. On a GPU
        # TensorFlow's own pass is the fast one.
        lite = runtime.device_kind == "CPU" and lite_usable(self._tf)
        cached = load_cached(self._tf, self.manifest.sha256, self.input_size) if lite else None
        if cached is not None:
            self._lite, self.evidence_method = cached
        else:
            self._load_keras()
            self._lite = (convert_and_cache(self._tf, self._forward, self.manifest.sha256, self.input_size,
                                            self.evidence_method) if lite else None)
        self.engine = LITE_ENGINE if self._lite is not None else TF_ENGINE
        self.predict_array(np.zeros((*self.manifest.input_size, 1), np.float32))  # warm up

    @property
    def input_size(self) -> tuple[int, int]:
        return self.manifest.input_size

    @property
    def lite_forward(self) -> LiteForward | None:
        """The TensorFlow Lite forward pass in use (``batch -> (probs, cams, pooled)``), or None
        when TensorFlow's own runs."""
        return self._lite

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

    def _load_keras(self) -> None:
        try:
            model = self._keras.saving.load_model(self.manifest.model_path, compile=False, safe_mode=True)
        except Exception as exc:  # Keras raises many types for a damaged or foreign file
            raise ModelError(QT_TRANSLATE_NOOP("CoreMessages", "The model file {0} cannot be loaded ({1})."),
                             self.manifest.file, type(exc).__name__) from exc
        _check_model(model, self.manifest)
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

    def predict_array(self, batch: np.ndarray, with_features: bool = False):
        """Network on preprocessed input(s): returns (probabilities (B,5), evidence (B,h,w,5)).

        With ``with_features=True`` a third array follows: the pooled features (B, C) of the
        "gap" layer (or the spatial mean of the last feature map for a model without one).
        """
        if batch.ndim == 3:
            batch = batch[None]
        n = batch.shape[0]
        if self.test_time_flip:  # one pass over the images and their mirror images
            batch = np.concatenate([batch, batch[:, :, ::-1]], axis=0)
        if self._lite is not None:
            probs, cams, pooled = self._lite(batch)
        else:
            probs, cams, pooled = self.tensorflow_forward()(self._tf.convert_to_tensor(batch, self._tf.float32))
        probs = np.asarray(probs, np.float64)
        cams = np.asarray(cams, np.float32)
        pooled = np.asarray(pooled, np.float32)
        if self.test_time_flip:
            probs = (probs[:n] + probs[n:]) / 2.0
            cams = (cams[:n] + cams[n:, :, ::-1]) / 2.0  # mirror the evidence back
            pooled = (pooled[:n] + pooled[n:]) / 2.0
        probs /= probs.sum(axis=1, keepdims=True)
        peak = cams.max(axis=(1, 2), keepdims=True)
        cams = np.divide(cams, peak, out=np.zeros_like(cams), where=peak > 0)
        if with_features:
            return probs, cams, pooled
        return probs, cams

    def predict(self, image: LoadedImage) -> Prediction:
        """Grade one loaded radiograph (or its ROI crop: see ``LoadedImage.crop``)."""
        start = time.perf_counter()
        x = preprocess(image.pixels, self.input_size)
        probs, cams, pooled = self.predict_array(x, with_features=True)
        return Prediction(
            probabilities=probs[0], evidence=cams[0], model=self.manifest.tag, device=self.device,
            elapsed_ms=(time.perf_counter() - start) * 1000.0, source_name=image.source_name,
            roi=image.metadata.get("roi"), features=pooled[0],
        )


def _pool(tf, pooled):
    """Pooled features as (B, C): a 4-D map (model without a "gap" layer) is averaged over space."""
    if len(pooled.shape) == 4:
        return tf.reduce_mean(pooled, axis=[1, 2])
    # A static feature width (not -1) keeps the output's shape known to a converted model.
    return tf.reshape(pooled, (-1, int(np.prod(pooled.shape[1:]))))


def _check_model(model, manifest: ModelManifest) -> None:
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
    if in_shape != (*manifest.input_size, 1) or out_shape != (NUM_GRADES,):
        raise ModelError(QT_TRANSLATE_NOOP("CoreMessages", "The model's shape {0}→{1} does not match its manifest "
                                           "({2} gray → {3} grades)."),
                         in_shape, out_shape, tuple(manifest.input_size), NUM_GRADES)
