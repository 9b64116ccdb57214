"""Calibration after training: one temperature fitted on val, its honest error, and the diagram.

Temperature scaling divides the logits by one number T before the softmax; it changes no grade,
only how sure the model claims to be. T is fitted on val by minimising the negative
log-likelihood of the probabilities the app shows (averaged over the test-time flip when the
model uses it). Because the same val would then also judge the calibration, the reported
calibration error is cross-fitted: T fitted on one half of val, the error measured on the other,
and the two halves swapped.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.verdict.metrics import expected_calibration_error


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def calibrated(logit_sets: list[np.ndarray], temperature: float) -> np.ndarray:
    """Probabilities for each pass (e.g. image and mirror image) at ``temperature``, averaged."""
    return np.mean([_softmax(np.asarray(l, np.float64) / temperature) for l in logit_sets], axis=0)


def fit_temperature(logit_sets: list[np.ndarray], y_true) -> float:
    """The temperature minimising the negative log-likelihood (grid, then golden-section search)."""
    y_true = np.asarray(y_true, np.int64)
    rows = np.arange(len(y_true))

    def nll(log_t: float) -> float:
        p = calibrated(logit_sets, float(np.exp(log_t)))[rows, y_true]
        return float(-np.mean(np.log(np.maximum(p, 1e-12))))

    grid = np.linspace(np.log(0.25), np.log(4.0), 41)
    best = int(np.argmin([nll(t) for t in grid]))
    lo, hi = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
    ratio = (np.sqrt(5.0) - 1.0) / 2.0
    for _ in range(40):
        a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
        if nll(a) < nll(b):
            hi = b
        else:
            lo = a
    return float(np.exp((lo + hi) / 2.0))


def cross_fitted_ece(logit_sets: list[np.ndarray], y_true, seed: int = 0) -> dict:
    """ECE before and after temperature scaling, each half of val judged by a T fitted on the other."""
    y_true = np.asarray(y_true, np.int64)
    order = np.random.default_rng(seed).permutation(len(y_true))
    halves = (order[: len(order) // 2], order[len(order) // 2:])
    after = np.empty((len(y_true), logit_sets[0].shape[1]))
    temperatures = []
    for fit, judge in (halves, halves[::-1]):
        t = fit_temperature([l[fit] for l in logit_sets], y_true[fit])
        temperatures.append(t)
        after[judge] = calibrated([l[judge] for l in logit_sets], t)
    before = calibrated(logit_sets, 1.0)
    return {"ece_uncalibrated": expected_calibration_error(y_true, before),
            "ece_cross_fitted": expected_calibration_error(y_true, after),
            "half_temperatures": temperatures}


def reliability_diagram(y_true, probabilities, target: Path, bins: int = 15, title: str = "") -> Path:
    """Accuracy against confidence per bin, with the share of images in each bin."""
    from .plots import _pyplot

    y_true = np.asarray(y_true, np.int64)
    probabilities = np.asarray(probabilities)
    confidence = probabilities.max(1)
    correct = probabilities.argmax(1) == y_true
    index = np.clip(np.ceil(confidence * bins).astype(np.int64) - 1, 0, bins - 1)
    centres, accuracy, counts = [], [], []
    for b in range(bins):
        members = index == b
        if members.any():
            centres.append(confidence[members].mean())
            accuracy.append(correct[members].mean())
            counts.append(int(members.sum()))
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 5), dpi=110)
    ax.plot([0, 1], [0, 1], "--", color="grey", label="perfect calibration")
    ax.plot(centres, accuracy, "o-", label="this model")
    for x, y, n in zip(centres, accuracy, counts):
        ax.annotate(str(n), (x, y), textcoords="offset points", xytext=(4, -12), fontsize=7)
    ax.set_xlabel("confidence (top probability)")
    ax.set_ylabel("accuracy")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title(title or "Reliability on val (numbers: images per bin)")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(target)
    plt.close(fig)
    return target
