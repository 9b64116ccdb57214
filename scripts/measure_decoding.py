#!/usr/bin/env python3
"""Which rule should turn the five probabilities into the grade? Argmax, median or thresholds.

    .venv/bin/python scripts/measure_decoding.py weights [MORE_WEIGHTS ...] [--flip] [--data ../shared/data/kneeKL224]

The models' probabilities on kneeKL224/val (more than one folder: their geometric mean, an
ensemble; ``--flip``: each also on the mirrored input, averaged) are decoded three ways:
- argmax: the most probable grade (what the program shows today);
- median: the smallest grade whose cumulative probability reaches 1/2 (minimises the expected
  absolute error, which MAE and quadratic kappa reward);
- thresholds: four cut points on the expected grade, fitted to maximise kappa, out of fold
  (5 folds of val, each graded with thresholds fitted on the other four, so val never grades
  itself).
Printed on val and on val through the simulated sites (``training.sites.site_proxy``): accuracy,
quadratic-weighted kappa and MAE with 95 % bootstrap intervals, and each rule's paired difference
from argmax (the same resampled images; "real" when the interval excludes 0). Figures only.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kneeoa_desktop.core.verdict.grades import expected_grade, grade_by_cut_points, median_grade  # noqa: E402
from kneeoa_desktop.core.verdict.metrics import quadratic_weighted_kappa  # noqa: E402


def fit_thresholds(expected: np.ndarray, grades: np.ndarray, sweeps: int = 3) -> np.ndarray:
    """Four increasing cut points on the expected grade maximising kappa (coordinate search)."""
    cuts = np.array([0.5, 1.5, 2.5, 3.5])
    grid = np.linspace(0.0, 4.0, 161)
    for _ in range(sweeps):
        for k in range(4):
            lo = cuts[k - 1] if k else -np.inf
            hi = cuts[k + 1] if k < 3 else np.inf
            best, best_kappa = cuts[k], -np.inf
            for c in grid[(grid > lo) & (grid < hi)]:
                trial = cuts.copy()
                trial[k] = c
                kappa = quadratic_weighted_kappa(grades, grade_by_cut_points(expected, trial))
                if kappa > best_kappa:
                    best, best_kappa = c, kappa
            cuts[k] = best
    return cuts


def thresholds_out_of_fold(probs: np.ndarray, grades: np.ndarray, folds: int = 5, seed: int = 0) -> np.ndarray:
    expected = expected_grade(probs)
    fold = np.random.default_rng(seed).permutation(len(grades)) % folds
    out = np.zeros(len(grades), np.int64)
    for k in range(folds):
        test = fold == k
        cuts = fit_thresholds(expected[~test], grades[~test])
        out[test] = grade_by_cut_points(expected[test], cuts)
    return out


def figures(grades: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    return {"acc": float((predicted == grades).mean()),
            "kappa": quadratic_weighted_kappa(grades, predicted),
            "MAE": float(np.abs(predicted - grades).mean())}


def intervals(grades, predicted, reference, resamples: int = 2000, seed: int = 0):
    """(95 % interval of each figure, 95 % interval of its difference from ``reference``)."""
    rng = np.random.default_rng(seed)
    alone, diff = {k: [] for k in ("acc", "kappa", "MAE")}, {k: [] for k in ("acc", "kappa", "MAE")}
    for _ in range(resamples):
        pick = rng.integers(0, len(grades), len(grades))
        f, r = figures(grades[pick], predicted[pick]), figures(grades[pick], reference[pick])
        for k in f:
            alone[k].append(f[k])
            diff[k].append(f[k] - r[k])
    q = lambda v: (float(np.quantile(v, 0.025)), float(np.quantile(v, 0.975)))  # noqa: E731
    return {k: q(v) for k, v in alone.items()}, {k: q(v) for k, v in diff.items()}


def _probabilities(predictors, inputs: np.ndarray, flip: bool, batch: int = 64) -> np.ndarray:
    logs = []
    for predictor in predictors:
        views = [inputs, inputs[:, :, ::-1]] if flip else [inputs]
        for view in views:
            p = np.concatenate([predictor.predict_array(view[i:i + batch])[0] for i in range(0, len(view), batch)])
            logs.append(np.log(np.clip(p, 1e-7, 1.0)))
    mean = np.exp(np.mean(logs, axis=0))
    return mean / mean.sum(axis=1, keepdims=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("weights", nargs="+", type=Path, help="model folders (more than one: their geometric mean)")
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "kneeKL224")
    ap.add_argument("--flip", action="store_true", help="average each model over the mirrored input too")
    ap.add_argument("--resamples", type=int, default=2000)
    args = ap.parse_args(argv)

    from kneeoa_desktop.core.model.predictor import Predictor
    from kneeoa_desktop.core.knees.preprocess import preprocess
    from kneeoa_desktop.training.dataset import load_split
    from kneeoa_desktop.training.sites import site_proxy

    predictors = [Predictor(w) for w in args.weights]
    size = predictors[0].input_size
    raws, grades, _ = load_split(args.data / "val", size, raw=True)
    grades = np.asarray(grades, np.int64)
    sets = {"val": np.stack([preprocess(x, size) for x in raws]), "simulated sites": site_proxy(raws, seed=1234)}
    print(f"models: {', '.join(p.manifest.tag for p in predictors)}; flip {'on' if args.flip else 'off'}; "
          f"{len(grades)} val images")
    for name, inputs in sets.items():
        probs = _probabilities(predictors, inputs, args.flip)
        rules = {"argmax": probs.argmax(1), "median": median_grade(probs),
                 "thresholds (out of fold)": thresholds_out_of_fold(probs, grades)}
        print(f"\n{name}:")
        for rule, predicted in rules.items():
            f = figures(grades, predicted)
            alone, diff = intervals(grades, predicted, rules["argmax"], args.resamples)
            line = "  ".join(f"{k} {f[k]:.3f} [{alone[k][0]:.3f}, {alone[k][1]:.3f}]" for k in f)
            if rule != "argmax":
                line += "  | vs argmax: " + "  ".join(
                    f"{k} [{diff[k][0]:+.3f}, {diff[k][1]:+.3f}]{' real' if diff[k][0] > 0 or diff[k][1] < 0 else ''}"
                    for k in f)
            print(f"  {rule:<26} {line}")
        if name == "val":
            print(f"  thresholds fitted on all of val: {np.round(fit_thresholds(expected_grade(probs), grades), 3).tolist()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
