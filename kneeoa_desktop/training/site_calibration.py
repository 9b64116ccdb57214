"""Fit a site profile to a department's own graded films, and judge it by cross-validation.

The profile (``core.verdict.site_profile``) is a temperature plus four cut points on the expected grade.
The temperature minimises the negative log-likelihood; the cut points maximise kappa + accuracy
on the films (coordinate ascent over quantiles of the expected grade, from the even cut points
0.5, 1.5, 2.5, 3.5), so that a site's scale is moved without giving up agreement on the exact
grade. The profile is judged by stratified k-fold cross-validation: every film is graded by a
profile fitted without it, and kappa, accuracy and MAE with and without the profile are
compared on the same films with paired bootstrap intervals. ``better`` holds only when the kappa
gain is real (its 95 % interval excludes 0) and accuracy and MAE are no worse: otherwise
`kneeoa calibrate` writes nothing (unless forced). No Qt here.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from ..core.verdict.ensemble import combine_probabilities
from ..core.verdict.grades import NUM_GRADES, expected_grade, grade_by_cut_points
from ..core.verdict.metrics import headline_figures, paired_difference_intervals
from ..core.verdict.site_profile import SiteProfile, model_fingerprint
from .calibration import fit_temperature

KEYS = ("quadratic_weighted_kappa", "accuracy", "mae")
MIN_FILMS, MIN_PER_GRADE = 50, 5
EVEN_CUTS = tuple(k + 0.5 for k in range(NUM_GRADES - 1))


def _one_hot(grades: np.ndarray) -> np.ndarray:
    return np.eye(NUM_GRADES)[np.asarray(grades, np.int64)]


def _score(y: np.ndarray, predicted: np.ndarray) -> float:
    f = headline_figures(y, _one_hot(predicted))
    return f["quadratic_weighted_kappa"] + f["accuracy"]


def fit_thresholds(expected: np.ndarray, y: np.ndarray, rounds: int = 4) -> tuple[float, ...]:
    """Four increasing cut points on ``expected`` that maximise kappa + accuracy against ``y``."""
    expected, y = np.asarray(expected, np.float64), np.asarray(y, np.int64)
    candidates = np.unique(np.concatenate([np.quantile(expected, np.linspace(0, 1, 201)), EVEN_CUTS]))
    cuts = list(EVEN_CUTS)
    best = _score(y, grade_by_cut_points(expected, cuts))
    for _ in range(rounds):
        moved = False
        for j in range(len(cuts)):
            lo = cuts[j - 1] if j > 0 else -np.inf
            hi = cuts[j + 1] if j < len(cuts) - 1 else np.inf
            for c in candidates[(candidates > lo) & (candidates < hi)]:
                trial = cuts[:j] + [float(c)] + cuts[j + 1:]
                score = _score(y, grade_by_cut_points(expected, trial))
                if score > best + 1e-12:
                    best, cuts, moved = score, trial, True
        if not moved:
            break
    # Inside the grade scale and strictly increasing, as a profile must be.
    out = np.clip(np.asarray(cuts), 0.0, NUM_GRADES - 1.0)
    for j in range(1, len(out)):
        out[j] = max(out[j], out[j - 1] + 1e-6)
    return tuple(float(v) for v in np.minimum(out, NUM_GRADES - 1.0))


def fit(probs: np.ndarray, y: np.ndarray) -> tuple[float, tuple[float, ...]]:
    """(temperature, cut points) fitted on all of ``probs`` (N, 5) and true grades ``y``."""
    temperature = fit_temperature([np.log(np.clip(probs, 1e-12, 1.0))], y)
    return temperature, fit_thresholds(expected_grade(combine_probabilities([probs], temperature)), y)


def stratified_folds(y: np.ndarray, folds: int, seed: int = 0) -> np.ndarray:
    """A fold number per film, each grade dealt out evenly over the folds."""
    rng = np.random.default_rng(seed)
    assignment = np.empty(len(y), np.int64)
    for g in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == g))
        assignment[members] = np.arange(len(members)) % folds
    return assignment


def cross_validate(probs: np.ndarray, y: np.ndarray, folds: int = 5, seed: int = 0,
                   resamples: int = 2000) -> dict:
    """Out-of-fold grades with a profile against the model's own grades, on the same films."""
    probs, y = np.asarray(probs, np.float64), np.asarray(y, np.int64)
    fold = stratified_folds(y, folds, seed)
    with_profile = np.empty(len(y), np.int64)
    for f in range(folds):
        test = fold == f
        temperature, cuts = fit(probs[~test], y[~test])
        expected = expected_grade(combine_probabilities([probs[test]], temperature))
        with_profile[test] = grade_by_cut_points(expected, cuts)
    without = probs.argmax(1)
    a, b = _one_hot(without), _one_hot(with_profile)
    fa, fb = headline_figures(y, a), headline_figures(y, b)
    diff = paired_difference_intervals(y, a, b, KEYS, resamples=resamples, seed=seed)
    report = {
        "folds": folds, "films": int(len(y)),
        "without": {k: fa[k] for k in KEYS}, "with": {k: fb[k] for k in KEYS},
        "difference": {k: [fb[k] - fa[k], *diff[k]] for k in KEYS},
    }
    d = report["difference"]
    report["better"] = bool(d["quadratic_weighted_kappa"][1] > 0 and d["accuracy"][0] >= 0 and d["mae"][0] <= 0)
    return report


def build_profile(probs: np.ndarray, y: np.ndarray, manifest, name: str, folds: int = 5,
                  seed: int = 0, today: date | None = None) -> SiteProfile:
    """The profile fitted on all films, with its cross-validated figures."""
    report = cross_validate(probs, y, folds, seed)
    temperature, cuts = fit(probs, y)
    return SiteProfile(
        name=name, created=(today or date.today()).isoformat(), model=manifest.tag,
        model_fingerprint=model_fingerprint(manifest),
        films_per_grade=tuple(int(n) for n in np.bincount(y, minlength=NUM_GRADES)),
        temperature=float(temperature), thresholds=cuts, cross_validated=report)


def format_report(report: dict) -> str:
    names = {"quadratic_weighted_kappa": "kappa", "accuracy": "accuracy", "mae": "MAE"}
    lines = [f"{report['folds']}-fold cross-validation on {report['films']} films "
             "(each graded by a profile fitted without it):",
             f"  {'':<10} {'without':>8} {'with':>8}   change [95 % paired interval]"]
    for k in KEYS:
        delta, lo, hi = report["difference"][k]
        real = " real" if lo > 0 or hi < 0 else ""
        lines.append(f"  {names[k]:<10} {report['without'][k]:>8.3f} {report['with'][k]:>8.3f}   "
                     f"{delta:+.3f} [{lo:+.3f}, {hi:+.3f}]{real}")
    return "\n".join(lines)
