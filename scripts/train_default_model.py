#!/usr/bin/env python3
"""Train the shipped default model, export it to weights/, and record its validation metrics.

Usage: python scripts/train_default_model.py [--data DIR] [--run-dir DIR] [--epochs N] [--out DIR]

Resumes from the run directory's last checkpoint if one exists (a finished run is only
exported). The metrics written into the manifest come from evaluating the exported model
through the normal Predictor on DATA/val: exactly what `kneeoa evaluate DATA/val` prints.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kneeoa_desktop.training.dataset import DEFAULT_DATA_DIR  # noqa: E402
from kneeoa_desktop.training.train import TrainConfig, export_model, train  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--run-dir", type=Path, default=REPO / "runs" / "bootstrap")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--out", type=Path, default=REPO / "weights")
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "kneeoa-data")
    args = parser.parse_args()

    config = TrainConfig(data_dir=str(args.data), run_dir=str(args.run_dir), epochs=args.epochs,
                         cache_dir=str(args.cache_dir))
    start = time.time()
    best = train(config)
    print(f"training done in {(time.time() - start) / 60:.1f} min; best checkpoint {best}")

    from kneeoa_desktop.core.predictor import Predictor
    from kneeoa_desktop.training.evaluate import evaluate_folder, format_report

    # Export once to compute the metrics with the real predictor, then again with them recorded.
    description = ("Compact CNN (4 stages, global-average-pool + dense head, CAM evidence maps) "
                   "trained from scratch on kneeKL224/train; a bootstrap model until the full "
                   "training pipeline replaces it.")
    manifest = export_model(best, args.out, config, {}, description)
    report = evaluate_folder(args.data / "val", Predictor(manifest))
    metrics = {k: report[k] for k in ("n", "accuracy", "quadratic_weighted_kappa", "mae", "oa_auc",
                                      "per_grade", "confusion_matrix")}
    metrics["split"] = "val"
    manifest.metrics = metrics
    manifest.training["data_dir"] = "kneeKL224"  # not this machine's absolute path
    with open(args.run_dir / "log.csv", newline="") as handle:
        epochs = list(csv.DictReader(handle))
    manifest.training["epochs_run"] = len(epochs)
    manifest.training["training_minutes"] = round(sum(float(e["seconds"]) for e in epochs) / 60, 1)
    manifest.training["trained_on"] = f"{platform.machine()} CPU, {os.cpu_count()} cores, no GPU"
    (args.out / "manifest.json").write_text(manifest.to_json(), encoding="utf-8")
    print(format_report(report))
    print(json.dumps({k: metrics[k] for k in ("accuracy", "quadratic_weighted_kappa", "mae", "oa_auc")}))


if __name__ == "__main__":
    main()
