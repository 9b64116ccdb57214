"""Training end to end on a handful of images: `kneeoa train` writes a model the app loads."""

from __future__ import annotations

import json
import shutil

import cv2
import numpy as np
import pytest

from kneeoa_desktop.cli.entry import main
from kneeoa_desktop.core.film.imaging import load_image
from kneeoa_desktop.core.model.manifest import load_manifest, sha256_of
from kneeoa_desktop.core.model.predictor import Predictor
from kneeoa_desktop.training.augment import SITE_SHIFTS, augment_image, augment_site, framed_band, site_shift
from kneeoa_desktop.training.sites import SITE_TRANSFORMS, site_film, site_proxy, two_knees
from kneeoa_desktop.training.train import class_weights


@pytest.mark.slow
def test_tiny_training_end_to_end(capsys, tmp_path, tiny_dataset, knee_png):
    out, run = tmp_path / "model", tmp_path / "run"
    code = main(["train", "--data", str(tiny_dataset), "--out", str(out), "--run-dir", str(run),
                 "--cache-dir", str(tmp_path / "cache"), "--epochs", "2", "--steps-per-epoch", "2",
                 "--batch-size", "4", "--version", "9.9.9-test", "--architecture", "cnn", "--xla",
                 "--name", "kneeoa-kl-cnn"])
    text = capsys.readouterr().out
    assert code == 0, text
    assert "KL0" in text and "accuracy" in text  # dataset summary and the report were printed
    for name in ("manifest.json", "MODEL_CARD.md", "learning_curves.png", "confusion_matrix.png",
                 "dataset_summary.png", "reliability.png", "evidence_examples.png", "kneeoa-kl-cnn.keras"):
        assert (out / name).is_file(), name
    assert len((run / "log.csv").read_text().strip().splitlines()) == 3  # header + 2 epochs
    config = json.loads((run / "config.json").read_text())
    assert config["epochs"] == 2 and config["ordinal_weight"] == 1.0

    manifest = load_manifest(out)
    assert manifest.version == "9.9.9-test" and manifest.sha256 == sha256_of(manifest.model_path)
    assert manifest.metrics["n"] == 15 and manifest.training["epochs_run"] == 2
    assert {"with", "without"} <= set(manifest.metrics["test_time_flip_comparison"])
    assert 0.25 <= manifest.metrics["calibration"]["temperature"] <= 4.0
    assert set(manifest.metrics["intervals"]) == {"accuracy", "quadratic_weighted_kappa", "mae", "ece"}
    assert set(manifest.metrics["site_agreement"]) == {"original", *SITE_SHIFTS}
    header = (run / "log.csv").read_text().splitlines()[0].split(",")
    assert {"loss", "val_loss", "val_kappa", "val_shift_kappa", "val_select"} <= set(header)
    card = (out / "MODEL_CARD.md").read_text()
    assert manifest.sha256 in card and f"{manifest.metrics['accuracy']:.3f}" in card

    prediction = Predictor(out).predict(load_image(knee_png))  # the app's own loader and predictor
    assert prediction.probabilities.sum() == pytest.approx(1.0)
    assert prediction.model == "kneeoa-kl-cnn@9.9.9-test"

    # Resuming a finished run trains nothing more and releases the same checkpoint again.
    shutil.rmtree(out)
    assert main(["train", "--data", str(tiny_dataset), "--out", str(out), "--run-dir", str(run),
                 "--cache-dir", str(tmp_path / "cache"), "--epochs", "2", "--steps-per-epoch", "2",
                 "--batch-size", "4", "--architecture", "cnn", "--xla", "--name", "kneeoa-kl-cnn"]) == 0
    assert "training already finished (2 epochs" in capsys.readouterr().out
    assert len((run / "log.csv").read_text().strip().splitlines()) == 3

    # A second stage starts from the finished model and says so in its manifest and card, even
    # when it is written over the folder it started from.
    started_from = load_manifest(out)
    assert main(["train", "--data", str(tiny_dataset), "--out", str(out), "--run-dir", str(tmp_path / "run2"),
                 "--cache-dir", str(tmp_path / "cache"), "--epochs", "1", "--steps-per-epoch", "1",
                 "--batch-size", "4", "--architecture", "cnn", "--xla", "--name", "kneeoa-kl-cnn",
                 "--version", "9.9.10-test", "--init-from", str(out / "kneeoa-kl-cnn.keras"),
                 "--squared-crops", "0.5"]) == 0
    assert f"started from {out / 'kneeoa-kl-cnn.keras'}" in capsys.readouterr().out
    second = load_manifest(out)
    first = second.training["init_model"]
    assert second.version == "9.9.10-test" and second.sha256 != started_from.sha256
    assert first["tag"] == started_from.tag and first["sha256"] == started_from.sha256
    card = (out / "MODEL_CARD.md").read_text()
    assert f"Two stages. Stage 1 (model {started_from.tag}) from random weights" in card
    assert "--out stage1" in card and "--init-from stage1/kneeoa-kl-cnn.keras" in card
    # The second stage trained on crops cut to bands, and was judged on val cut so too.
    assert second.training["squared_rate"] == 0.5 and "--squared-crops 0.5 --init-from" in card
    assert "50% of the training crops cut to wide or tall bands and resized to the square input" in card
    assert "val_frame_kappa" in (tmp_path / "run2" / "log.csv").read_text().splitlines()[0].split(",")


def test_the_card_names_the_site_augmentation_and_its_command():
    from kneeoa_desktop.training import model_card

    t = {"augmentation": "site", "data_dir": "kneeKL224", "architecture": "lite0", "seed": 7}
    assert "`--augmentation site`" in model_card._augmentation(t) and "0.5–2.0" in model_card._augmentation(t)
    assert model_card._command(t, "1.1.0", "weights").endswith("--augmentation site")
    assert "--augmentation" not in model_card._command({**t, "augmentation": "standard"}, "1.0.0", "weights")


def test_train_refuses_a_missing_dataset(capsys, tmp_path):
    assert main(["train", "--data", str(tmp_path / "nope")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a folder" in err


def test_train_refuses_a_missing_starting_model(capsys, tmp_path, tiny_dataset):
    assert main(["train", "--data", str(tiny_dataset), "--init-from", str(tmp_path / "none.keras")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "none.keras: no such model file" in err


@pytest.mark.slow
def test_a_second_stage_starts_from_a_finished_model_by_layer_name(tmp_path):
    from kneeoa_desktop.core.model.architecture import build_model
    from kneeoa_desktop.training.train import copy_weights

    finished = build_model("cnn", (64, 64), widths=(8, 8, 8, 8), temperature=1.3)
    for layer in finished.layers:  # weights no fresh model could have by chance
        layer.set_weights([np.random.default_rng(1).normal(size=w.shape) for w in layer.get_weights()])
    finished.save(tmp_path / "finished.keras")
    fresh = build_model("cnn", (64, 64), widths=(8, 8, 8, 8))
    assert copy_weights(tmp_path / "finished.keras", fresh) == sum(1 for l in fresh.layers if l.weights)
    for a, b in zip(finished.get_weights(), fresh.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="does not match this architecture"):
        copy_weights(tmp_path / "finished.keras", build_model("cnn", (64, 64), widths=(8, 8, 8, 16)))


def test_class_weights_favour_rare_grades():
    grades = np.array([0] * 80 + [1] * 10 + [2] * 5 + [3] * 4 + [4] * 1)
    w = class_weights(grades, 0.5)
    assert w[4] > w[3] > w[2] > w[1] > w[0]
    assert sum(w[g] for g in grades) / len(grades) == pytest.approx(1.0)
    assert set(class_weights(grades, 0.0).values()) == {1.0}


def test_augmentation_is_seeded_varied_and_fed_through_preprocessing(knee_pixels):
    raw = cv2.resize(knee_pixels, (224, 224), interpolation=cv2.INTER_AREA)
    a = augment_image(raw, np.random.default_rng([1, 2]))
    b = augment_image(raw, np.random.default_rng([1, 3]))
    assert a.shape == (*raw.shape, 1) and a.dtype == np.float32
    assert a.min() >= 0.0 and a.max() <= 1.0
    assert not np.allclose(a, b)
    np.testing.assert_array_equal(a, augment_image(raw, np.random.default_rng([1, 2])))
    # What the network sees is always an output of the app's own preprocessing: equalised, so
    # its gray levels reach the top of the range whatever the augmentation did to exposure.
    assert a.max() == 1.0


def test_a_framed_band_is_a_band_of_the_crop_left_for_preprocess_to_resize(knee_pixels):
    raw = cv2.resize(knee_pixels, (224, 224), interpolation=cv2.INTER_AREA).astype(np.float32) + 1
    seen = set()
    for seed in range(40):
        out = framed_band(raw, np.random.default_rng(seed))
        wide = out.shape[1] == 224
        seen.add(wide)
        short = out.shape[0] if wide else out.shape[1]
        assert 0.5 * 224 - 1 <= short <= 0.9 * 224 + 1  # short side 0.5–0.9 of the crop
        assert any(np.array_equal(out, raw[s:s + short] if wide else raw[:, s:s + short])
                   for s in range(0, 224 - short + 1))  # the crop's own pixels, uncut, no padding
    assert seen == {True, False}  # both wide and tall bands are drawn
    # A run that asks for no such crops draws exactly what it drew before the option existed.
    np.testing.assert_array_equal(augment_image(raw.astype(np.uint8), np.random.default_rng(7)),
                                  augment_image(raw.astype(np.uint8), np.random.default_rng(7), 0.0))


def test_the_site_augmentation_gives_preprocessed_inputs_and_varies(knee_pixels):
    raw = cv2.resize(knee_pixels, (224, 224), interpolation=cv2.INTER_AREA)
    outs = [augment_site(raw, np.random.default_rng(seed)) for seed in range(12)]
    for a in outs:
        assert a.shape == (224, 224, 1) and a.dtype == np.float32
        assert a.min() >= 0.0 and a.max() == 1.0  # equalised by the app's own preprocess
    assert len({a.tobytes() for a in outs}) == len(outs)
    np.testing.assert_array_equal(outs[3], augment_site(raw, np.random.default_rng(3)))


def test_simulated_sites_make_films_of_other_shapes_and_depths(knee_pixels):
    raw = cv2.resize(knee_pixels, (224, 224), interpolation=cv2.INTER_AREA)
    films = {name: site_film(raw, name, seed=1) for name in SITE_TRANSFORMS}
    assert films["300x162 sharpened"].shape == (162, 300)
    assert films["300x162 sharpened 16-bit"].dtype == np.uint16
    assert films["gamma 1.6 12-bit"].max() <= 4095
    assert np.array_equal(films["as is"], raw)
    assert two_knees(raw, raw).shape == (161, 640)
    assert site_proxy(np.stack([raw, raw, raw])).shape == (3, 224, 224, 1)


def test_site_shifts_change_the_pixels_but_keep_the_size(knee_pixels):
    raw = cv2.resize(knee_pixels, (224, 224), interpolation=cv2.INTER_AREA)
    for name in SITE_SHIFTS:
        shifted = site_shift(raw, name, seed=3)
        assert shifted.shape == raw.shape and shifted.dtype == np.uint8, name
        assert not np.array_equal(shifted, raw), name


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
