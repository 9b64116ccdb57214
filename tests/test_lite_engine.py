"""The TensorFlow Lite engine: same outputs as TensorFlow's pass, cached per model, and a damaged
cache or a failed conversion never costs more than speed."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from kneeoa_desktop.core.model import lite_engine
from kneeoa_desktop.core.model.predictor import Predictor


@pytest.fixture()
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KNEEOA_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "lite"


def _inputs(n: int) -> np.ndarray:
    return np.random.default_rng(5).random((n, 224, 224, 1), dtype=np.float32)


def test_the_shipped_model_runs_as_tensorflow_lite_with_tensorflows_results(predictor):
    # The TensorFlow engine's fast path (the app's default is the lean engine, see test_predictor).
    predictor = Predictor(predictor.manifest, engine="tensorflow")
    assert predictor.engine == lite_engine.LITE_ENGINE
    x = _inputs(3)
    for network in predictor.networks:  # every member of an ensemble
        assert network.engine == lite_engine.LITE_ENGINE
        lite = network.lite(x)
        reference = [np.asarray(a) for a in network.tensorflow_forward()(predictor._tf.constant(x))]
        np.testing.assert_allclose(lite[0], reference[0], atol=1e-5)  # probabilities
        np.testing.assert_allclose(lite[1], reference[1], atol=1e-3 * max(1.0, reference[1].max()))  # evidence
        np.testing.assert_allclose(lite[2], reference[2], atol=1e-3 * max(1.0, reference[2].max()))  # features
        # Batches of other sizes follow each other on one interpreter.
        one = network.lite(x[:1])
        np.testing.assert_allclose(one[0], lite[0][:1], atol=1e-6)


def test_conversion_is_cached_and_a_damaged_cache_is_converted_again(own_cache, caplog, single_weights):
    caplog.set_level(logging.INFO, logger="kneeoa_desktop.core.model.lite_engine")
    first = Predictor(single_weights)
    assert first.engine == lite_engine.LITE_ENGINE and "(converted)" in caplog.text
    [cached] = list(own_cache.glob("*.tflite"))
    assert first.manifest.sha256 in cached.name and cached.with_suffix(".npz").is_file()

    caplog.clear()
    second = Predictor(single_weights)
    assert "cached" in caplog.text and "converted" not in caplog.text
    assert second._model is None and second.evidence_method == first.evidence_method == "CAM"  # no Keras load
    x = _inputs(2)
    np.testing.assert_array_equal(second.lite_forward(x)[0], first.lite_forward(x)[0])

    data = bytearray(cached.read_bytes())
    quarter = len(data) // 4
    data[quarter:2 * quarter] = bytes(quarter)  # a quarter of the weights zeroed: other numbers
    cached.write_bytes(bytes(data))
    caplog.clear()
    third = Predictor(single_weights)
    assert "not usable" in caplog.text and "(converted)" in caplog.text
    assert third.engine == lite_engine.LITE_ENGINE
    np.testing.assert_allclose(third.lite_forward(x)[0], first.lite_forward(x)[0], atol=1e-6)


def test_a_failed_conversion_keeps_tensorflow(own_cache, monkeypatch, caplog, single_weights):
    def broken(tf, function, trackable=None):
        raise RuntimeError("converter exploded")

    monkeypatch.setattr(lite_engine, "convert", broken)
    predictor = Predictor(single_weights)
    assert predictor.engine == lite_engine.TF_ENGINE and "converter exploded" in caplog.text
    probs, cams = predictor.predict_array(_inputs(1))
    assert probs.shape == (1, 5) and cams.shape == (1, 14, 14, 5)
    assert not list(own_cache.glob("*.tflite"))


def test_the_environment_can_ask_for_tensorflow(own_cache, monkeypatch, single_weights):
    monkeypatch.setenv("KNEEOA_ENGINE", "tensorflow-graph")
    assert Predictor(single_weights).engine == lite_engine.TF_ENGINE
