"""An ensemble of networks: how members combine, how the manifest lists and checks them, and a
two-member model graded end to end."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from kneeoa_desktop.core import errors
from kneeoa_desktop.core.verdict.ensemble import combine_evidence, combine_probabilities, scale_to_peak
from kneeoa_desktop.core.model.manifest import Member, ModelManifest, load_manifest, sha256_of

from .conftest import DATA_DIR, needs_data


def test_one_member_is_unchanged_and_several_are_a_geometric_mean():
    p = np.array([[0.1, 0.2, 0.3, 0.3, 0.1], [0.5, 0.2, 0.1, 0.1, 0.1]])
    np.testing.assert_allclose(combine_probabilities([p]), p)
    q = np.array([[0.3, 0.3, 0.2, 0.1, 0.1], [0.1, 0.1, 0.1, 0.2, 0.5]])
    both = combine_probabilities([p, q])
    expected = np.sqrt(p * q)
    np.testing.assert_allclose(both, expected / expected.sum(1, keepdims=True))
    assert both.sum(1) == pytest.approx([1.0, 1.0])
    # A temperature above 1 flattens the combined verdict and keeps its order.
    warm = combine_probabilities([p, q], temperature=2.0)
    assert warm.max() < both.max() and (warm.argmax(1) == both.argmax(1)).all()


def test_a_member_sure_of_zero_does_not_break_the_mean():
    p = np.array([[1.0, 0.0, 0.0, 0.0, 0.0]])
    q = np.array([[0.2, 0.2, 0.2, 0.2, 0.2]])
    out = combine_probabilities([p, q])
    assert np.isfinite(out).all() and out.argmax() == 0 and out.sum() == pytest.approx(1.0)


def test_evidence_is_each_members_map_at_its_peak_averaged_on_the_first_grid():
    rng = np.random.default_rng(0)
    a = rng.random((2, 14, 14, 5)).astype(np.float32) * 7.0
    np.testing.assert_allclose(combine_evidence([a]), scale_to_peak(a))
    b = np.zeros((2, 7, 7, 5), np.float32)
    b[:, 3, 3, :] = 100.0  # another grid, on another scale: resized, and weighs as much as a
    out = combine_evidence([a, b])
    assert out.shape == a.shape and out.max() == pytest.approx(1.0) and out.min() >= 0.0
    assert np.unravel_index(out[0, :, :, 2].argmax(), (14, 14)) in {(6, 6), (6, 7), (7, 6), (7, 7)}
    assert combine_evidence([np.zeros((1, 4, 4, 5), np.float32)] * 2).max() == 0.0


def _two_member_folder(tmp_path, temperature=1.0):
    """The shipped network twice under two names: an ensemble whose verdict must equal one member's."""
    shipped = load_manifest()
    target = tmp_path / "ensemble"
    target.mkdir(parents=True)
    data = shipped.model_path.read_bytes()
    (target / "a.keras").write_bytes(data)
    (target / "b.keras").write_bytes(data)
    sha = sha256_of(target / "a.keras")
    manifest = ModelManifest(
        name="kneeoa-kl-test-ensemble", version="9.9.9", file="a.keras", sha256=sha,
        input_size=shipped.input_size, test_time_flip=shipped.test_time_flip,
        members=(Member("a", "1", "a.keras", sha), Member("b", "1", "b.keras", sha)),
        ensemble_temperature=temperature, directory=target)
    manifest.save()
    return target


def test_manifest_round_trip_and_member_checks(tmp_path):
    target = _two_member_folder(tmp_path, temperature=1.3)
    manifest = load_manifest(target)
    assert [m.file for m in manifest.member_list] == ["a.keras", "b.keras"]
    assert manifest.ensemble_temperature == pytest.approx(1.3)
    assert manifest.total_bytes == 2 * (target / "a.keras").stat().st_size
    manifest.verify()
    data = json.loads((target / "manifest.json").read_text())
    # A single network's manifest keeps its old form.
    from dataclasses import replace

    single = replace(load_manifest(), members=(), ensemble_temperature=1.0)
    assert "members" not in json.loads(single.to_json()) and single.member_list[0].file == single.file

    (target / "b.keras").write_bytes(b"not the file")
    with pytest.raises(errors.ModelError, match="b.keras is damaged"):
        load_manifest(target).verify()
    (target / "b.keras").unlink()
    with pytest.raises(errors.ModelError, match="b.keras is missing"):
        load_manifest(target).verify()

    broken = json.loads(json.dumps(data))
    broken["members"][1]["file"] = "../b.keras"
    (target / "manifest.json").write_text(json.dumps(broken))
    with pytest.raises(errors.ModelError, match="outside"):
        load_manifest(target)
    broken = json.loads(json.dumps(data))
    broken["members"][0]["sha256"] = "0" * 64  # the first member no longer agrees with the top level
    (target / "manifest.json").write_text(json.dumps(broken))
    with pytest.raises(errors.ModelError, match="a.keras is damaged"):
        load_manifest(target).verify()
    broken = dict(data, ensemble_temperature=0.0)
    (target / "manifest.json").write_text(json.dumps(broken))
    with pytest.raises(errors.ModelError):
        load_manifest(target)


def test_an_ensemble_grades_like_its_members_combined(tmp_path, single_predictor, knee_pixels):
    from kneeoa_desktop.core.model.predictor import Predictor
    from kneeoa_desktop.core.knees.preprocess import preprocess

    predictor = single_predictor  # the shipped first network alone
    ensemble = Predictor(_two_member_folder(tmp_path))
    assert len(ensemble.networks) == 2
    x = preprocess(knee_pixels)
    p1, c1, f1 = predictor.predict_array(x, with_features=True)
    p2, c2, f2 = ensemble.predict_array(x, with_features=True)
    # Two identical members: the geometric mean is the member itself.
    np.testing.assert_allclose(p2, p1, atol=1e-6)
    np.testing.assert_allclose(c2, c1, atol=1e-5)
    np.testing.assert_allclose(f2, f1, atol=1e-5)
    hot = Predictor(_two_member_folder(tmp_path / "t", temperature=2.0))
    p3 = hot.predict_array(x)[0]
    assert p3.argmax() == p1.argmax() and p3.max() < p1.max()


def test_release_builds_a_measured_ensemble_and_its_card(tmp_path, tiny_dataset):
    """Two tiny from-scratch networks released as an ensemble: members copied and hashed, one
    temperature fitted, val graded through the app's predictor, and a card listing both."""
    import keras

    from kneeoa_desktop.core.model.architecture import build_model
    from kneeoa_desktop.core.model.predictor import Predictor
    from kneeoa_desktop.training.ensemble_release import read_spec, release_ensemble

    sources = []
    for seed in (1, 2):
        keras.utils.set_random_seed(seed)
        path = tmp_path / f"net{seed}.keras"
        build_model("cnn", (224, 224), widths=(8, 8, 8, 8)).save(path)
        sources.append(path)
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(json.dumps({
        "name": "kneeoa-kl-tiny-ensemble", "version": "0.0.1",
        "members": [{"name": f"tiny{k}", "version": "0.0.1", "source": p.name,
                     "training": {"recipe": f"random weights {k}", "seed": k, "command": f"make tiny{k}",
                                  "trained_on": "nowhere"}} for k, p in enumerate(sources)]}))
    out = tmp_path / "released"
    report = release_ensemble(read_spec(spec_path), out, tiny_dataset, log=lambda *_: None)
    manifest = load_manifest(out)
    assert [m.file for m in manifest.member_list] == ["tiny0.keras", "tiny1.keras"]
    manifest.verify()
    assert 0.25 <= manifest.ensemble_temperature <= 4.0 and manifest.metrics["n"] == report["n"]
    assert manifest.metrics["decoding"] == "argmax" and "calibration" in manifest.metrics
    card = (out / "MODEL_CARD.md").read_text()
    assert "## Members" in card and "tiny0 0.0.1" in card and "random weights 1" in card
    assert "make tiny1" in card and "release_ensemble.py" in card
    assert len(Predictor(out).networks) == 2


def test_a_spec_without_members_or_a_record_is_refused(tmp_path):
    from kneeoa_desktop.training.ensemble_release import read_spec

    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"name": "x", "version": "1", "members": []}))
    with pytest.raises(ValueError, match="no members"):
        read_spec(spec)
    spec.write_text(json.dumps({"name": "x", "version": "1", "members": [{"name": "a", "version": "1",
                                                                         "source": "a.keras"}]}))
    with pytest.raises(ValueError, match="training"):
        read_spec(spec)


def test_gpu_member_script_runs_end_to_end_on_a_tiny_pack(tmp_path, tiny_dataset):
    """The GPU machine's script, on this CPU with TensorFlow as Keras' backend: pack a tiny
    dataset, train one member for one epoch, and get a model the app's checks accept."""
    import os
    import subprocess
    import sys

    from kneeoa_desktop.core.model.network import check_model

    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3")
    pack, out = tmp_path / "pack", tmp_path / "out"
    subprocess.run([sys.executable, os.path.join(repo, "scripts", "pack_gpu_run.py"), "--data", str(tiny_dataset),
                    "--out", str(pack), "--backbones", "lite0"], check=True, env=env, capture_output=True)
    assert {p.name for p in pack.iterdir()} == {"train.npz", "val.npz", "imagenet-lite0.npz"}
    done = subprocess.run([sys.executable, os.path.join(repo, "scripts", "train_members_gpu.py"), "--pack", str(pack),
                           "--out", str(out), "--plan", "lite0-gpu-std", "--max-epochs", "1", "--batch-size", "5",
                           "--workers", "1", "--budget", "600"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    records = json.loads((out / "members.json").read_text())
    assert records[0]["member"] == "lite0-gpu-std" and records[0]["seed"] == 3104 and records[0]["epochs"] == 1
    assert "lite0-gpu-std epoch 1/1" in (out / "train.log").read_text()
    import keras

    model = keras.saving.load_model(out / "lite0-gpu-std.keras", compile=False, safe_mode=True)
    check_model(model, (224, 224))


@needs_data
def test_the_shipped_ensemble_is_both_members_combined_by_its_rule(predictor):
    """The shipped model's two networks differ; what it grades is their geometric mean at the
    manifest's temperature (computed here by hand), their maps each at its peak averaged, and
    the first member's features: a Predictor that used one network alone fails here."""
    from kneeoa_desktop.core.knees.preprocess import preprocess

    assert len(predictor.networks) == 2, "the shipped model is an ensemble of two networks"
    paths = [sorted((DATA_DIR / "val" / str(g)).glob("*.png"))[3] for g in range(5)]
    batch = np.stack([preprocess(cv2.imread(str(p), cv2.IMREAD_GRAYSCALE)) for p in paths])
    probs, cams, pooled = predictor.predict_array(batch, with_features=True)

    flip = predictor.test_time_flip
    members = []
    for network in predictor.networks:
        p, c, f = (np.asarray(a, np.float64) for a in network(batch))
        if flip:
            p2, c2, f2 = (np.asarray(a, np.float64) for a in network(np.ascontiguousarray(batch[:, :, ::-1])))
            p, c, f = (p + p2) / 2, (c + c2[:, :, ::-1]) / 2, (f + f2) / 2
        members.append((p, c, f))
    (p_a, c_a, f_a), (p_b, c_b, f_b) = members
    assert np.abs(p_a - p_b).max() > 0.05, "the two members should disagree somewhere"

    temperature = predictor.manifest.ensemble_temperature
    logits = (np.log(p_a) + np.log(p_b)) / 2 / temperature
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(probs, expected, atol=1e-6)
    assert np.abs(probs - p_a).max() > 0.02 and np.abs(probs - p_b).max() > 0.02

    def at_peak(c):  # each (image, grade) map over its own peak; a map with no positive peak is 0
        peak = c.max(axis=(1, 2), keepdims=True)
        return np.where(peak > 0, c / np.where(peak > 0, peak, 1), 0)

    assert c_a.shape == c_b.shape  # both members give 14×14 maps
    np.testing.assert_allclose(cams, at_peak((at_peak(c_a) + at_peak(c_b)) / 2), atol=1e-4)
    np.testing.assert_allclose(pooled, f_a, rtol=1e-4, atol=1e-4)
