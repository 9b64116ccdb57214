"""Grade a radiograph: preprocess → network(s) → probabilities, grade and evidence maps.

The model is one network or an ensemble of several (the manifest's members); ``ensemble`` says
how their outputs become one verdict. Each network runs on the engine ``engines.choose`` picks:
its exported ONNX graph on ONNX Runtime (``onnx_engine.OnnxNetwork``, the default: no
TensorFlow imported), or its `.keras` file on TensorFlow (``network.Network``, the reference).
Each network may also be run on the mirror image (``test_time_flip``): left and right knees
mirror each other.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..film.imaging import LoadedImage
from ..knees.preprocess import preprocess
from ..verdict.ensemble import combine_evidence, combine_probabilities
# What a grading produced is plain data in ``prediction`` (no TensorFlow there); re-exported here.
from ..verdict.prediction import Prediction
from . import engines
from .manifest import ModelManifest, load_manifest


class Predictor:
    """Loads the model once (every member sha256-checked, safe mode) and grades images.

    ``weights`` is a folder holding ``manifest.json`` (or the manifest itself); the model in use
    is ``model_store.active_weights_dir()``, which the front doors pass. ``engine`` is what
    ``--engine`` asked for (None: ``$KNEEOA_ENGINE``, else "auto"; see ``engines``).
    """

    def __init__(self, weights: str | Path | ModelManifest, engine: str | None = None):
        self.manifest = weights if isinstance(weights, ModelManifest) else load_manifest(weights)
        self.engine_kind = engines.choose(self.manifest, engine)
        self._tf = self._keras = None
        self.test_time_flip = self.manifest.test_time_flip
        # A department's site profile (``site_profile``), set by the front door that loads one:
        # the pipeline then shows its probabilities and grades by its cut points.
        self.site_profile = None
        if self.engine_kind == engines.ONNX:
            self._load_onnx()
        else:
            self._load_tensorflow()
        #: What graded, as shown to the user: "ONNX Runtime 1.32.0", "TensorFlow Lite with XNNPACK" …
        self.engine = self.networks[0].engine
        self.evidence_method = self.networks[0].evidence_method
        self.predict_array(np.zeros((*self.manifest.input_size, 1), np.float32))  # warm up

    def _load_onnx(self) -> None:
        from .onnx_engine import OnnxNetwork

        self.manifest.verify(onnx=True)
        self.networks = [OnnxNetwork(self.manifest.directory / m.onnx_file, self.input_size, m.onnx_probe)
                         for m in self.manifest.member_list]
        self.device = self.networks[0].device
        self.versions = {"onnxruntime": self.networks[0].version}

    def _load_tensorflow(self) -> None:
        from .lite_engine import usable as lite_usable
        from .network import Network
        from .runtime import tensorflow_runtime

        self.manifest.verify()
        runtime = tensorflow_runtime()
        self._tf, self._keras = runtime.tf, runtime.keras
        self.device = runtime.device
        self.versions = runtime.versions
        # On a GPU TensorFlow's own pass is the fast one; on a CPU, TensorFlow Lite (unless the
        # graph itself was asked for: the exact reference).
        lite = (runtime.device_kind == "CPU" and self.engine_kind == engines.TENSORFLOW
                and lite_usable(self._tf))
        self.networks = [Network(runtime, self.manifest.directory / m.file, m.sha256, self.input_size, lite)
                         for m in self.manifest.member_list]

    @property
    def input_size(self) -> tuple[int, int]:
        return self.manifest.input_size

    @property
    def lite_forward(self):
        """The first member's TensorFlow Lite forward pass (``batch -> (probs, cams, pooled)``),
        or None when TensorFlow's own graph or ONNX Runtime runs."""
        return getattr(self.networks[0], "lite", None)

    @property
    def _model(self):
        return self.networks[0]._model

    @property
    def model(self):
        """The first member's Keras model (loaded on first use when the start found it converted)."""
        return self.networks[0].model

    def tensorflow_forward(self):
        """The first member's TensorFlow forward pass (a ``tf.function``)."""
        return self.networks[0].tensorflow_forward()

    def predict_array(self, batch: np.ndarray, with_features: bool = False):
        """Network(s) on preprocessed input(s): returns (probabilities (B,5), evidence (B,h,w,5)).

        With ``with_features=True`` a third array follows: the first member's pooled features
        (B, C) of its "gap" layer (or the spatial mean of the last feature map for a model
        without one).
        """
        if batch.ndim == 3:
            batch = batch[None]
        n = batch.shape[0]
        if self.test_time_flip:  # one pass over the images and their mirror images
            batch = np.concatenate([batch, batch[:, :, ::-1]], axis=0)
        member_probs, member_cams, first_pooled = [], [], None
        for network in self.networks:
            probs, cams, pooled = network(batch)
            probs = np.asarray(probs, np.float64)
            cams = np.asarray(cams, np.float32)
            pooled = np.asarray(pooled, np.float32)
            if self.test_time_flip:
                probs = (probs[:n] + probs[n:]) / 2.0
                cams = (cams[:n] + cams[n:, :, ::-1]) / 2.0  # mirror the evidence back
                pooled = (pooled[:n] + pooled[n:]) / 2.0
            member_probs.append(probs)
            member_cams.append(cams)
            if first_pooled is None:
                first_pooled = pooled
        probs = combine_probabilities(member_probs, self.manifest.ensemble_temperature)
        cams = combine_evidence(member_cams)
        if with_features:
            return probs, cams, first_pooled
        return probs, cams

    def predict(self, image: LoadedImage) -> Prediction:
        """Grade one loaded radiograph (or its ROI crop: see ``LoadedImage.crop``)."""
        start = time.perf_counter()
        x = preprocess(image.pixels, self.input_size)
        probs, cams, pooled = self.predict_array(x, with_features=True)
        prediction = Prediction(
            probabilities=probs[0], evidence=cams[0], model=self.manifest.tag, device=self.device, engine=self.engine,
            elapsed_ms=(time.perf_counter() - start) * 1000.0, source_name=image.source_name,
            roi=image.metadata.get("roi"), features=pooled[0],
        )
        if self.site_profile is not None:
            shown, grades = self.site_profile.apply(probs)
            prediction.probabilities, prediction.assigned_grade = shown[0], int(grades[0])
            prediction.site = self.site_profile.describe()
        return prediction

