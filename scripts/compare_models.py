#!/usr/bin/env python3
"""Compare two models on the same validation images: which differences are real?

    python scripts/compare_models.py A_WEIGHTS_DIR B_WEIGHTS_DIR [--data ../shared/data/kneeKL224]

Both models grade every val crop, as it is and re-processed as other hospitals' films look (the
training's site proxy: sharpened, smoothed, re-exposed, noisy, zoomed out, stretched, rotated;
``training.augment.site_proxy``), through the simulated sites of issue 24 (resized out of shape,
tight cuts, zoomed out, sharpened, equalised, 12/16-bit, framed whole as the app frames a
single-knee film; ``training.sites.site_proxy``), and cut to the crop shapes other hospitals send
(wide and tall bands resized to the square input as the app frames them;
``training.augment.framing_proxy``).
Printed for A, B and the mean of their probabilities (a
two-model ensemble, at twice the network cost): accuracy, quadratic-weighted kappa, MAE and
calibration error with 95 % bootstrap intervals, and for B − A and ensemble − A the paired 95 %
interval of each difference (the same resampled images for both), marked "real" when it
excludes 0. Figures only; nothing is written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kneeoa_desktop.core.verdict.metrics import (bootstrap_intervals, headline_figures,  # noqa: E402
                                         paired_difference_intervals)

KEYS = ("accuracy", "quadratic_weighted_kappa", "mae", "ece")
SHORT = {"accuracy": "acc", "quadratic_weighted_kappa": "kappa", "mae": "MAE", "ece": "ECE"}


def _probabilities(predictor, inputs: np.ndarray, batch: int = 64) -> np.ndarray:
    return np.concatenate([predictor.predict_array(inputs[i:i + batch])[0]
                           for i in range(0, len(inputs), batch)])


def _row(name: str, grades, probs, resamples: int) -> str:
    figures = headline_figures(grades, probs)
    intervals = bootstrap_intervals(grades, probs, resamples)
    return f"  {name:<10}" + "".join(
        f"  {SHORT[k]} {figures[k]:.3f} [{intervals[k][0]:.3f}, {intervals[k][1]:.3f}]" for k in KEYS)


def _difference(name: str, grades, base, other, resamples: int) -> str:
    cells = []
    intervals = paired_difference_intervals(grades, base, other, KEYS, resamples=resamples)
    for k in KEYS:
        lo, hi = intervals[k]
        delta = headline_figures(grades, other)[k] - headline_figures(grades, base)[k]
        real = " real" if lo > 0 or hi < 0 else ""
        cells.append(f"  {SHORT[k]} {delta:+.3f} [{lo:+.3f}, {hi:+.3f}]{real}")
    return f"  {name:<10}" + "".join(cells)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", type=Path, help="model folder A (manifest.json + .keras), e.g. weights")
    parser.add_argument("b", type=Path, help="model folder B")
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "kneeKL224")
    parser.add_argument("--resamples", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1234, help="seed of the site proxy (training's default)")
    args = parser.parse_args(argv)

    from kneeoa_desktop.core.model.predictor import Predictor
    from kneeoa_desktop.training.dataset import load_split
    from kneeoa_desktop.training.robustness import validation_sets

    a, b = Predictor(args.a), Predictor(args.b)
    if a.input_size != b.input_size:
        parser.error("the two models take different input sizes")
    raws, grades, _ = load_split(args.data / "val", a.input_size, raw=True)
    inputs = validation_sets(raws, args.seed, a.input_size)
    print(f"A = {a.manifest.tag} (flip {'on' if a.test_time_flip else 'off'}), "
          f"B = {b.manifest.tag} (flip {'on' if b.test_time_flip else 'off'}); {len(grades)} val images")
    for split, x in inputs.items():
        pa, pb = _probabilities(a, x), _probabilities(b, x)
        mean = (pa + pb) / 2.0
        print(f"\n{split}: figures with 95 % bootstrap intervals")
        print(_row("A", grades, pa, args.resamples))
        print(_row("B", grades, pb, args.resamples))
        print(_row("mean A+B", grades, mean, args.resamples))
        print(f"{split}: paired differences (95 % interval; 'real' when it excludes 0)")
        print(_difference("B − A", grades, pa, pb, args.resamples))
        print(_difference("mean − A", grades, pa, mean, args.resamples))
    return 0


if __name__ == "__main__":
    sys.exit(main())
