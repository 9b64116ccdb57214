"""Training end to end on a handful of images: `kneeoa train` writes a model the app loads."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from kneeoa_desktop.cli import main
from kneeoa_desktop.core.imaging import load_image
from kneeoa_desktop.core.manifest import load_manifest, sha256_of
from kneeoa_desktop.core.predictor import Predictor
from kneeoa_desktop.training.augment import augment_batch
from kneeoa_desktop.training.train import class_weights


@pytest.fixture
def tiny_dataset(tmp_path, knee_png, knee_pixels):
    """train/ and val/ with three images per grade (mirror and shifted copies of one radiograph)."""
    import cv2

    root = tmp_path / "tiny"
    for split in ("train", "val"):
        for grade in range(5):
            folder = root / split / str(grade)
            folder.mkdir(parents=True)
            for i in range(3):
                img = np.roll(knee_pixels, 7 * i + grade, axis=1)
                cv2.imwrite(str(folder / f"{grade}{i}.png"), img[:, ::-1] if i % 2 else img)
    return root


@pytest.mark.slow
def test_tiny_training_end_to_end(capsys, tmp_path, tiny_dataset, knee_png):
    out, run = tmp_path / "model", tmp_path / "run"
    code = main(["train", "--data", str(tiny_dataset), "--out", str(out), "--run-dir", str(run),
                 "--cache-dir", str(tmp_path / "cache"), "--epochs", "2", "--steps-per-epoch", "2",
                 "--batch-size", "4", "--version", "9.9.9-test"])
    text = capsys.readouterr().out
    assert code == 0, text
    assert "KL0" in text and "accuracy" in text  # dataset summary and the report were printed
    for name in ("manifest.json", "MODEL_CARD.md", "learning_curves.png", "confusion_matrix.png",
                 "dataset_summary.png", "kneeoa-kl-cnn.keras"):
        assert (out / name).is_file(), name
    assert len((run / "log.csv").read_text().strip().splitlines()) == 3  # header + 2 epochs
    config = json.loads((run / "config.json").read_text())
    assert config["epochs"] == 2 and config["ordinal_weight"] == 1.0

    manifest = load_manifest(out)
    assert manifest.version == "9.9.9-test" and manifest.sha256 == sha256_of(manifest.model_path)
    assert manifest.metrics["n"] == 15 and manifest.training["epochs_run"] == 2
    assert set(manifest.metrics["test_time_flip_comparison"]) == {"with", "without"}
    card = (out / "MODEL_CARD.md").read_text()
    assert manifest.sha256 in card and f"{manifest.metrics['accuracy']:.3f}" in card

    prediction = Predictor(out).predict(load_image(knee_png))  # the app's own loader and predictor
    assert prediction.probabilities.sum() == pytest.approx(1.0)
    assert prediction.model == "kneeoa-kl-cnn@9.9.9-test"

    # Resuming a finished run trains nothing more and releases the same checkpoint again.
    shutil.rmtree(out)
    assert main(["train", "--data", str(tiny_dataset), "--out", str(out), "--run-dir", str(run),
                 "--cache-dir", str(tmp_path / "cache"), "--epochs", "2", "--steps-per-epoch", "2",
                 "--batch-size", "4"]) == 0
    assert "resuming after epoch 2" in capsys.readouterr().out
    assert len((run / "log.csv").read_text().strip().splitlines()) == 3


def test_train_refuses_a_missing_dataset(capsys, tmp_path):
    assert main(["train", "--data", str(tmp_path / "nope")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a folder" in err


def test_class_weights_favour_rare_grades():
    grades = np.array([0] * 80 + [1] * 10 + [2] * 5 + [3] * 4 + [4] * 1)
    w = class_weights(grades, 0.5)
    assert w[4] > w[3] > w[2] > w[1] > w[0]
    assert sum(w[g] for g in grades) / len(grades) == pytest.approx(1.0)
    assert set(class_weights(grades, 0.0).values()) == {1.0}


def test_augmentation_keeps_shape_and_range_and_varies():
    import tensorflow as tf

    images = tf.random.stateless_uniform((4, 64, 64, 1), (1, 2))
    a = augment_batch(images, tf.constant([3, 4]))
    b = augment_batch(images, tf.constant([5, 6]))
    assert a.shape == images.shape
    assert float(tf.reduce_min(a)) >= 0.0 and float(tf.reduce_max(a)) <= 1.0
    assert not np.allclose(a.numpy(), b.numpy())
    np.testing.assert_allclose(a.numpy(), augment_batch(images, tf.constant([3, 4])).numpy())


def test_ordinal_loss_penalises_far_misses_more():
    import keras

    from kneeoa_desktop.training.losses import OrdinalCrossEntropy

    loss = OrdinalCrossEntropy(label_smoothing=0.0, ordinal_weight=1.0)
    truth = np.eye(5, dtype=np.float32)[[0]]
    near = np.array([[0.2, 0.8, 0, 0, 0]], np.float32) + 1e-6
    far = np.array([[0.2, 0, 0, 0, 0.8]], np.float32) + 1e-6
    assert float(loss(truth, far)) > float(loss(truth, near))
    plain = keras.losses.CategoricalCrossentropy()
    assert float(plain(truth, far)) == pytest.approx(float(plain(truth, near)), rel=1e-4)
