"""From a training run to a shippable model: train (or resume), export, evaluate, document.

`kneeoa train` calls ``train_and_release``. It writes into the output folder the inference-only
`.keras` model, its exported ONNX graph for the lean engine (``runtime_export``: the release
fails unless the graph reproduces the Keras model on fixed probes), its manifest (both files'
sha256, metrics, training config and timings), the figures and MODEL_CARD.md. Every figure in the card is computed here from the validation split, through
the same Predictor the app uses.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

from ..core.atomic import write_text_atomic
from ..core.knees.preprocess import preprocess
from ..core.verdict.grades import KL_LABELS
from ..core.verdict.metrics import ece_if_calibrated, headline_figures, paired_difference_interval
from .calibration import calibrated, cross_fitted_ece, fit_temperature, reliability_diagram
from .config import TrainConfig
from .dataset import list_split, load_split
from .evaluate import confusion_matrix_image, evaluate_folder, format_report
from .model_card import write_model_card
from .robustness import format_agreement, site_agreement
from .runtime_export import export_manifest
from .train import export_model, train

#: Images in kneeKL224's official test split (Chen et al. 2019), kept apart from this project.
PUBLISHED_TEST_SIZE = 1656

DESCRIPTIONS = {
    "lite0": ("EfficientNet-Lite0 (ReLU6 inverted-residual blocks, no squeeze-excitation) started from "
              "its ImageNet weights, with a 14×14 evidence layer (the 7×7 top features upsampled and "
              "added to a learned 1×1 projection of the 14×14 stage), global-average-pool + dense head, "
              "fine-tuned on kneeKL224/train; temperature-calibrated on kneeKL224/val."),
    "cnn": ("Compact CNN (four stages of 3×3 convolutions with batch normalisation, global-average-pool "
            "+ dense head, CAM evidence maps) trained from scratch on kneeKL224/train."),
}
_HEADLINE = ("accuracy", "quadratic_weighted_kappa", "mae", "oa_auc", "ece")


def dataset_summary(data_dir: Path) -> dict[str, list[int]]:
    """Images per grade for each split present under ``data_dir``."""
    counts = {}
    for split in ("train", "val"):
        if (data_dir / split).is_dir():
            grades = [g for _, g in list_split(data_dir / split)]
            counts[split] = np.bincount(grades, minlength=len(KL_LABELS)).tolist()
    return counts


def format_summary(counts: dict[str, list[int]]) -> str:
    lines = ["split   " + "".join(f"{label:>7}" for label in KL_LABELS) + "   total"]
    for split, row in counts.items():
        lines.append(f"{split:<7} " + "".join(f"{n:>7}" for n in row) + f"   {sum(row):>5}")
    return "\n".join(lines)


def train_and_release(config: TrainConfig, out_dir: Path, log=print) -> dict:
    """Train (resuming if possible), then export to ``out_dir`` with manifest, figures and card."""
    from ..core.model.predictor import Predictor
    from ..core.outputs.export import write_png_atomic
    from .plots import plot_dataset_summary, plot_evidence_examples, plot_learning_curves

    data_dir, run_dir = Path(config.data_dir), Path(config.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = dataset_summary(data_dir)
    log(format_summary(counts))
    plot_dataset_summary(counts, out_dir / "dataset_summary.png")

    init_record = run_dir / "init.json"
    if config.init_from and not init_record.is_file():
        # Read before anything is written: --out may be the starting model's own folder.
        write_text_atomic(json.dumps(_init_model(Path(config.init_from)), indent=2) + "\n", init_record)
    best = train(config, log)
    description = DESCRIPTIONS[config.architecture]
    predictor = Predictor(export_model(best, out_dir, config, {}, description))
    raws, grades, _ = load_split(data_dir / "val", tuple(config.input_size), config.cache_dir,
                                 config.limit_per_grade, raw=True)
    inputs = np.stack([preprocess(x, tuple(config.input_size)) for x in raws])

    # Test-time flip (left/right knees mirror): kept only if its gain in val kappa is real (its
    # 95 % interval excludes 0), as it doubles the network's time. The two passes'
    # log-probabilities serve as logits for the temperature (softmax ignores a per-row constant).
    predictor.test_time_flip = False
    logits = [np.log(np.maximum(predictor.predict_array(x)[0], 1e-12)) for x in (inputs, inputs[:, :, ::-1])]
    flip, flip_gain, passes, temperature, calibration = choose_flip_and_temperature(
        logits[:1], logits, grades, seed=config.seed)
    log(f"test-time flip {'on' if flip else 'off'} (kappa gain 95 % interval {flip_gain[0]:+.4f} … "
        f"{flip_gain[1]:+.4f}); temperature {temperature:.3f}; ECE {calibration['ece_uncalibrated']:.4f} → "
        f"{calibration['ece_cross_fitted']:.4f} (cross-fitted)")

    manifest = export_model(best, out_dir, config, {}, description, temperature=temperature)
    manifest.test_time_flip = flip
    # The lean engine's graph, checked against the Keras model; the figures below are then
    # measured on the engine the app grades with by default.
    manifest = export_manifest(manifest, log)
    predictor = Predictor(manifest)
    start = time.perf_counter()
    report = evaluate_folder(data_dir / "val", predictor)
    seconds = time.perf_counter() - start
    log(f"val through the app's predictor ({seconds:.0f} s): " + ", ".join(f"{k} {report[k]:.4f}" for k in _HEADLINE))
    robustness = site_agreement(raws, grades, predictor)
    log("agreement under site-like changes on val:\n" + format_agreement(robustness))

    manifest.metrics = validation_metrics(report, grades, logits[:1], logits, passes, temperature, calibration,
                                          flip_gain, robustness)
    with open(run_dir / "log.csv", newline="") as handle:
        epochs = list(csv.DictReader(handle))
    manifest.training.update({
        "data_dir": data_dir.name,  # not this machine's absolute path
        "epochs_run": len(epochs),
        "training_minutes": round(sum(float(e["seconds"]) for e in epochs) / 60, 1),
        "trained_on": f"{platform.machine()} CPU, {os.cpu_count()} cores"
                      + ("" if not _gpu_listed() else ", GPU listed by TensorFlow"),
        "best_epoch": 1 + int(np.argmax([float(e["val_select"]) for e in epochs])),
    })
    if config.init_from:  # a second stage: name the model it started from and how that was made
        manifest.training["init_model"] = json.loads(init_record.read_text())
    manifest.save()

    plot_learning_curves(run_dir / "log.csv", out_dir / "learning_curves.png")
    write_png_atomic(confusion_matrix_image(report), out_dir / "confusion_matrix.png")
    reliability_diagram(grades, calibrated(passes, temperature), out_dir / "reliability.png",
                        title=f"Reliability on val, T = {temperature:.2f} (numbers: images per bin)")
    plot_evidence_examples(raws, grades, predictor, out_dir / "evidence_examples.png")
    write_text_atomic(json.dumps(report, indent=2) + "\n", run_dir / "val_report.json")
    write_model_card(out_dir / "MODEL_CARD.md", manifest, counts, epochs)
    log(format_report(report))
    return report


def choose_flip_and_temperature(without: list[np.ndarray], with_flip: list[np.ndarray], grades, seed: int = 0,
                                forced: bool | None = None):
    """(flip, its kappa-gain interval, the passes kept, temperature, cross-fitted calibration).

    ``without`` and ``with_flip`` are the val logit sets graded without and with the mirror pass.
    The flip is kept only if its gain in val kappa is real (its 95 % interval excludes 0), as it
    doubles the network's time (``forced`` overrides that choice); the temperature is fitted on
    the passes kept.
    """
    flip_gain = paired_difference_interval(grades, calibrated(without, 1.0), calibrated(with_flip, 1.0))
    flip = bool(flip_gain[0] > 0) if forced is None else bool(forced)
    passes = with_flip if flip else without
    return flip, flip_gain, passes, fit_temperature(passes, grades), cross_fitted_ece(passes, grades, seed=seed)


def validation_metrics(report: dict, grades, without, with_flip, passes, temperature: float, calibration: dict,
                       flip_gain, robustness: dict) -> dict:
    """The manifest's ``metrics``: the val report's figures, the flip comparison, the calibration
    and the agreement under site-like changes."""
    metrics = {k: report[k] for k in ("n", *_HEADLINE, "intervals", "per_grade", "confusion_matrix", "three_class")}
    metrics["split"] = "val"
    metrics["test_time_flip_comparison"] = {
        "without": headline_figures(grades, calibrated(without, temperature)),
        "with": headline_figures(grades, calibrated(with_flip, temperature)),
        "kappa_gain_interval": flip_gain,
    }
    metrics["calibration"] = {
        "temperature": temperature, **calibration,
        # What chance alone leaves of the ECE of a calibrated model, on val (as evaluate_folder
        # measured it) and on a test split the size of the published one: the scale on which to
        # read the figures above.
        "ece_if_calibrated": [report["ece_if_calibrated"],
                              ece_if_calibrated(calibrated(passes, temperature), PUBLISHED_TEST_SIZE)],
    }
    metrics["site_agreement"] = robustness
    return metrics


def _init_model(path: Path) -> dict:
    """The starting model's tag, file hash and training record (its manifest, if beside it)."""
    from ..core.errors import ModelError
    from ..core.model.manifest import load_manifest, sha256_of

    try:
        first = load_manifest(path.parent)
    except ModelError:  # a bare .keras (e.g. a run's checkpoint): its hash is what we know
        return {"tag": path.name, "sha256": sha256_of(path), "training": {}}
    return {"tag": first.tag, "sha256": sha256_of(path), "training": dict(first.training)}


def _gpu_listed() -> bool:
    from ..core.model.runtime import tensorflow_runtime

    return tensorflow_runtime().device_kind == "GPU"
