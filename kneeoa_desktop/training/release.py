"""From a training run to a shippable model: train (or resume), export, evaluate, document.

`kneeoa train` calls ``train_and_release``. It writes into the output folder the inference-only
`.keras` model, its manifest (sha256, metrics, training config and timings), the figures and
MODEL_CARD.md. Every figure in the card is computed here from the validation split, through
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

from ..core.grades import KL_LABELS
from .dataset import list_split
from .evaluate import confusion_matrix_image, evaluate_folder, format_report
from .model_card import write_model_card
from .config import TrainConfig
from .train import export_model, train

DESCRIPTION = ("Compact CNN (four stages of 3×3 convolutions with batch normalisation, "
               "global-average-pool + dense head, CAM evidence maps) trained from scratch on "
               "kneeKL224/train.")
_HEADLINE = ("accuracy", "quadratic_weighted_kappa", "mae", "oa_auc")


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
    from ..core.export import write_png_atomic
    from ..core.predictor import Predictor
    from .plots import plot_dataset_summary, plot_learning_curves

    data_dir, run_dir = Path(config.data_dir), Path(config.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = dataset_summary(data_dir)
    log(format_summary(counts))
    plot_dataset_summary(counts, out_dir / "dataset_summary.png")

    best = train(config, log)
    manifest = export_model(best, out_dir, config, {}, DESCRIPTION)
    predictor = Predictor(manifest)

    # Test-time flip: measured on val, kept only if it helps kappa (left/right knees mirror).
    reports = {}
    for flip in (False, True):
        predictor.test_time_flip = flip
        start = time.perf_counter()
        reports[flip] = evaluate_folder(data_dir / "val", predictor)
        reports[flip]["seconds"] = time.perf_counter() - start
        log(f"val with test-time flip={flip}: " + ", ".join(
            f"{k} {reports[flip][k]:.4f}" for k in _HEADLINE))
    flip = max(reports, key=lambda f: reports[f]["quadratic_weighted_kappa"])
    report = reports[flip]

    manifest.test_time_flip = flip
    manifest.metrics = {k: report[k] for k in ("n", *_HEADLINE, "per_grade", "confusion_matrix",
                                               "three_class")}
    manifest.metrics["split"] = "val"
    manifest.metrics["test_time_flip_comparison"] = {
        ("with" if f else "without"): {k: reports[f][k] for k in _HEADLINE} for f in reports}
    with open(run_dir / "log.csv", newline="") as handle:
        epochs = list(csv.DictReader(handle))
    manifest.training.update({
        "data_dir": data_dir.name,  # not this machine's absolute path
        "epochs_run": len(epochs),
        "training_minutes": round(sum(float(e["seconds"]) for e in epochs) / 60, 1),
        "trained_on": f"{platform.machine()} CPU, {os.cpu_count()} cores"
                      + ("" if not _gpu_listed() else ", GPU listed by TensorFlow"),
        "best_epoch": 1 + int(np.argmax([float(e["val_kappa"]) for e in epochs])),
    })
    (out_dir / "manifest.json").write_text(manifest.to_json(), encoding="utf-8")

    plot_learning_curves(run_dir / "log.csv", out_dir / "learning_curves.png")
    write_png_atomic(confusion_matrix_image(report), out_dir / "confusion_matrix.png")
    (run_dir / "val_report.json").write_text(json.dumps(report, indent=2) + "\n")
    write_model_card(out_dir / "MODEL_CARD.md", manifest, counts, epochs)
    log(format_report(report))
    return report


def _gpu_listed() -> bool:
    from ..core.runtime import tensorflow_runtime

    return tensorflow_runtime().device_kind == "GPU"
