"""Prediction through the shipped model: probabilities, grade, OA probability, evidence maps,
and refusal of damaged or unsafe models."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from kneeoa_desktop.core import errors
from kneeoa_desktop.core.film.imaging import load_image
from kneeoa_desktop.core.model.manifest import load_manifest, sha256_of
from kneeoa_desktop.core.model.predictor import Predictor

from . import samples


def test_prediction_is_consistent(predictor, knee_png):
    image = load_image(knee_png)
    p = predictor.predict(image)
    assert p.probabilities.shape == (5,)
    assert p.probabilities.sum() == pytest.approx(1.0, abs=1e-6)
    assert (p.probabilities >= 0).all()
    assert p.grade == int(np.argmax(p.probabilities))
    assert p.oa_probability == pytest.approx(p.probabilities[2:].sum())
    assert p.model == predictor.manifest.tag and p.device
    assert p.evidence.shape[2] == 5 and p.evidence.min() >= 0 and p.evidence.max() <= 1


def test_evidence_map_for_any_grade_at_image_size(predictor, knee_png):
    p = predictor.predict(load_image(knee_png))
    for grade in range(5):
        m = p.evidence_map(grade, (300, 200))
        assert m.shape == (300, 200) and m.dtype == np.float32
        assert 0.0 <= m.min() and m.max() <= 1.0
    assert np.array_equal(p.evidence_map(None, (50, 50)), p.evidence_map(p.grade, (50, 50)))
    with pytest.raises(ValueError):
        p.evidence_map(5)


def test_same_grade_for_every_encoding_of_one_radiograph(predictor, knee_png, knee_pixels, tmp_path):
    reference = predictor.predict(load_image(knee_png)).probabilities
    renamed = tmp_path / "png_named.jpg"
    renamed.write_bytes(knee_png.read_bytes())
    non_ascii = tmp_path / "рентген колена.png"
    non_ascii.write_bytes(knee_png.read_bytes())
    exact = [
        samples.write_png16(knee_pixels, tmp_path / "a16.png"),
        samples.write_tiff16(knee_pixels, tmp_path / "a16.tif"),
        samples.write_rgba(knee_pixels, tmp_path / "rgba.png"),
        samples.write_dicom(knee_pixels, tmp_path / "m2.dcm", bits=12),
        samples.write_dicom(knee_pixels, tmp_path / "m1.dcm", bits=12, monochrome1=True),
        renamed, non_ascii,
    ]
    for path in exact:
        probs = predictor.predict(load_image(path)).probabilities
        np.testing.assert_allclose(probs, reference, atol=1e-5, err_msg=str(path.name))
    jpeg = predictor.predict(load_image(samples.write_jpeg(knee_pixels, tmp_path / "a.jpg"))).probabilities
    assert np.argmax(jpeg) == np.argmax(reference)
    np.testing.assert_allclose(jpeg, reference, atol=0.05)


def test_region_of_interest(predictor, knee_png):
    crop = load_image(knee_png).crop(20, 20, 180, 180)
    p = predictor.predict(crop)
    assert p.roi == (20, 20, 180, 180)
    assert p.as_dict()["roi"] == [20, 20, 180, 180]


def _copy_weights(tmp_path):
    manifest = load_manifest()
    target = tmp_path / "weights"
    target.mkdir()
    for member in manifest.member_list:
        for file in (member.file, member.onnx_file):
            if file:
                shutil.copy(manifest.directory / file, target / file)
    shutil.copy(manifest.directory / "manifest.json", target / "manifest.json")
    return target, manifest


# Each engine reads its own files: the `.keras` for TensorFlow, the exported graph for ONNX Runtime.
ENGINE_FILES = [("tensorflow", "file", "sha256"), ("onnx", "onnx_file", "onnx_sha256")]


@pytest.mark.parametrize("engine, file_key, sha_key", ENGINE_FILES)
def test_tampered_model_is_refused(tmp_path, engine, file_key, sha_key):
    target, manifest = _copy_weights(tmp_path)
    model = target / getattr(manifest.member_list[0], file_key)
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model.write_bytes(bytes(data))
    with pytest.raises(errors.ModelError, match="checksum") as caught:
        Predictor(target, engine=engine)
    assert model.name in str(caught.value) and str(caught.value).count(".") <= 3  # one sentence


@pytest.mark.parametrize("engine, file_key, sha_key", ENGINE_FILES)
def test_missing_and_truncated_model(tmp_path, engine, file_key, sha_key):
    target, manifest = _copy_weights(tmp_path)
    model = target / getattr(manifest.member_list[0], file_key)
    model.write_bytes(model.read_bytes()[:1000])
    text = json.loads((target / "manifest.json").read_text())
    digest = sha256_of(model)  # checksum matches, file is still garbage
    if sha_key in text:
        text[sha_key] = digest
    for member in text.get("members", [])[:1]:  # an ensemble's first member is that file
        member[sha_key] = digest
    (target / "manifest.json").write_text(json.dumps(text))
    with pytest.raises(errors.ModelError, match="cannot be loaded"):
        Predictor(target, engine=engine)
    model.unlink()
    with pytest.raises(errors.ModelError, match="missing"):
        Predictor(target, engine=engine)
    (target / "manifest.json").write_text("{not json")
    with pytest.raises(errors.ModelError, match="damaged"):
        Predictor(target, engine=engine)


def test_the_engines_agree_on_a_real_radiograph(predictor, knee_png):
    """The lean engine (the default) against TensorFlow's own graph, the reference."""
    from kneeoa_desktop.core.pipeline import GradingPipeline

    reference = Predictor(predictor.manifest, engine="tensorflow-graph")
    assert predictor.engine.startswith("ONNX Runtime") and reference.engine == "TensorFlow"
    lean, tf = (GradingPipeline(p)(load_image(knee_png)).knees[0].prediction for p in (predictor, reference))
    np.testing.assert_allclose(lean.probabilities, tf.probabilities, atol=1e-4)
    np.testing.assert_allclose(lean.evidence, tf.evidence, atol=1e-3)
    np.testing.assert_allclose(lean.features, tf.features, atol=1e-3)
    assert lean.grade == tf.grade and lean.as_dict()["engine"] == predictor.engine


def test_an_engine_that_cannot_grade_the_model_is_refused_in_one_sentence(tmp_path, monkeypatch):
    from dataclasses import replace

    from kneeoa_desktop.core.model import engines

    manifest = load_manifest()
    keras_only = replace(manifest, members=tuple(replace(m, onnx_file="", onnx_sha256="") for m in manifest.members))
    assert engines.choose(manifest) == engines.ONNX and engines.choose(keras_only) == engines.TENSORFLOW
    with pytest.raises(errors.ModelError, match="no runtime file for ONNX Runtime"):
        engines.choose(keras_only, "onnx")
    with pytest.raises(errors.ModelError, match="Unknown engine"):
        engines.choose(manifest, "cuda-magic")
    monkeypatch.setenv(engines.ENGINE_ENV, "tensorflow")
    assert engines.choose(manifest) == engines.TENSORFLOW
    monkeypatch.setattr(engines, "installed", lambda module: False)
    with pytest.raises(errors.ModelError, match="TensorFlow engine is not installed"):
        engines.choose(manifest)
    with pytest.raises(errors.ModelError, match="kneeoa-desktop\\[tensorflow\\]"):
        engines.choose(keras_only, "auto")
    monkeypatch.delenv(engines.ENGINE_ENV)
    with pytest.raises(errors.ModelError, match="ONNX Runtime is not installed"):
        engines.choose(manifest, "onnx")


def test_lambda_model_is_refused_without_running_its_code(tmp_path):
    import keras

    from kneeoa_desktop.core.model.manifest import ModelManifest

    inputs = keras.Input((64, 64, 1))
    x = keras.layers.Lambda(lambda t: t * 2.0)(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(5, activation="softmax", name="head")(x))
    path = tmp_path / "evil.keras"
    model.save(path)
    manifest = ModelManifest(name="evil", version="1", file="evil.keras", sha256=sha256_of(path),
                             input_size=(64, 64), directory=tmp_path)
    with pytest.raises(errors.ModelError):  # safe mode refuses to deserialise the lambda
        Predictor(manifest)


def test_grad_cam_for_a_model_without_a_cam_head(tmp_path, knee_pixels):
    import keras

    from kneeoa_desktop.core.film.imaging import LoadedImage
    from kneeoa_desktop.core.model.manifest import ModelManifest

    inputs = keras.Input((64, 64, 1))
    x = keras.layers.Conv2D(4, 3, strides=2, activation="relu")(inputs)
    x = keras.layers.Flatten()(x)
    model = keras.Model(inputs, keras.layers.Dense(5, activation="softmax")(x))
    path = tmp_path / "flat.keras"
    model.save(path)
    manifest = ModelManifest(name="flat", version="1", file="flat.keras", sha256=sha256_of(path),
                             input_size=(64, 64), directory=tmp_path)
    predictor = Predictor(manifest)
    assert predictor.evidence_method == "Grad-CAM"
    p = predictor.predict(LoadedImage(knee_pixels, "k.png", "PNG", 8))
    assert p.evidence.shape == (31, 31, 5) and p.probabilities.sum() == pytest.approx(1.0)
    assert p.evidence_map(2, knee_pixels.shape).shape == knee_pixels.shape


def test_test_time_flip_averages_an_image_and_its_mirror(single_predictor, knee_pixels):
    from kneeoa_desktop.core.knees.preprocess import preprocess

    predictor = single_predictor  # one network: the flip's mean is then the verdict itself

    x = preprocess(knee_pixels)
    mirrored = x[:, ::-1]
    saved = predictor.test_time_flip
    try:
        predictor.test_time_flip = False
        p1, c1 = predictor.predict_array(x)
        p2, c2 = predictor.predict_array(mirrored)
        predictor.test_time_flip = True
        p, c = predictor.predict_array(x)
        pm, cm = predictor.predict_array(mirrored)
    finally:
        predictor.test_time_flip = saved
    np.testing.assert_allclose(p[0], (p1[0] + p2[0]) / 2, atol=1e-5)
    np.testing.assert_allclose(p, pm, atol=1e-5)  # a mirror image now gets the same grades
    np.testing.assert_allclose(c[0], cm[0, :, ::-1], atol=1e-4)  # and mirrored evidence
