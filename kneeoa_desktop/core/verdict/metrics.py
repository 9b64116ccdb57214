"""Classification metrics for ordinal KL grades, in plain numpy (no sklearn needed)."""

from __future__ import annotations

import numpy as np

from .grades import NUM_GRADES, OA_THRESHOLD


def confusion_matrix(y_true, y_pred, num_classes: int = NUM_GRADES) -> np.ndarray:
    """Rows: true grade; columns: predicted grade."""
    y_true = np.asarray(y_true, np.int64)
    y_pred = np.asarray(y_pred, np.int64)
    return np.bincount(y_true * num_classes + y_pred, minlength=num_classes ** 2).reshape(
        num_classes, num_classes)


def quadratic_weighted_kappa(y_true, y_pred, num_classes: int = NUM_GRADES) -> float:
    observed = confusion_matrix(y_true, y_pred, num_classes).astype(np.float64)
    n = observed.sum()
    if n == 0:
        return float("nan")
    idx = np.arange(num_classes)
    weights = (idx[:, None] - idx[None, :]) ** 2 / (num_classes - 1) ** 2
    expected = np.outer(observed.sum(1), observed.sum(0)) / n
    denom = (weights * expected).sum()
    if denom == 0:
        return 1.0
    return float(1.0 - (weights * observed).sum() / denom)


def roc_auc(labels, scores) -> float:
    """Area under the ROC curve (Mann–Whitney U with ties counted half)."""
    labels = np.asarray(labels, bool)
    scores = np.asarray(scores, np.float64)
    pos, neg = labels.sum(), (~labels).sum()
    if pos == 0 or neg == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores), np.float64)
    sorted_scores = scores[order]
    # Average ranks over ties.
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    avg = first + (counts - 1) / 2.0 + 1.0
    ranks[order] = np.repeat(avg, counts)
    return float((ranks[labels].sum() - pos * (pos + 1) / 2.0) / (pos * neg))


def classification_report(y_true, probabilities, y_pred=None) -> dict:
    """All figures `kneeoa evaluate` reports, from true grades and (N, 5) probabilities; the
    grades are the most probable ones unless ``y_pred`` gives them (a site profile's)."""
    y_true = np.asarray(y_true, np.int64)
    probabilities = np.asarray(probabilities, np.float64)
    y_pred = probabilities.argmax(1) if y_pred is None else np.asarray(y_pred, np.int64)
    cm = confusion_matrix(y_true, y_pred)
    per_grade = []
    for g in range(NUM_GRADES):
        tp = cm[g, g]
        predicted, actual = cm[:, g].sum(), cm[g, :].sum()
        per_grade.append({
            "grade": g,
            "support": int(actual),
            "precision": float(tp / predicted) if predicted else float("nan"),
            "recall": float(tp / actual) if actual else float("nan"),
        })
    oa_prob = probabilities[:, OA_THRESHOLD:].sum(1)
    return {
        "n": int(len(y_true)),
        "accuracy": float((y_pred == y_true).mean()) if len(y_true) else float("nan"),
        "quadratic_weighted_kappa": quadratic_weighted_kappa(y_true, y_pred),
        "mae": float(np.abs(y_pred - y_true).mean()) if len(y_true) else float("nan"),
        "oa_auc": roc_auc(y_true >= OA_THRESHOLD, oa_prob),
        "ece": expected_calibration_error(y_true, probabilities),
        "per_grade": per_grade,
        "confusion_matrix": cm.tolist(),
    }


def expected_calibration_error(y_true, probabilities, bins: int = 15) -> float:
    """Top-label ECE: |accuracy − confidence| averaged over equal-width confidence bins."""
    y_true = np.asarray(y_true, np.int64)
    probabilities = np.asarray(probabilities, np.float64)
    if len(y_true) == 0:
        return float("nan")
    confidence = probabilities.max(1)
    correct = probabilities.argmax(1) == y_true
    # Bin b holds confidences in (b/bins, (b+1)/bins]; a confidence of exactly 0 joins bin 0.
    index = np.clip(np.ceil(confidence * bins).astype(np.int64) - 1, 0, bins - 1)
    total = 0.0
    for b in range(bins):
        members = index == b
        if members.any():
            total += members.sum() * abs(correct[members].mean() - confidence[members].mean())
    return float(total / len(y_true))


def ece_if_calibrated(probabilities, n: int | None = None, draws: int = 500, seed: int = 0) -> dict:
    """The ECE that a perfectly calibrated model with these confidences would show on ``n``
    images (default: as many as given): ``{"n", "mean", "interval"}`` (central 95 %).

    An ECE measured on a finite sample is never 0: each bin's accuracy varies around its
    confidence by chance. Here labels are drawn from the probabilities themselves (which makes
    the model calibrated by construction) for ``n`` images resampled from these rows, and the
    ECE of each draw is taken. An observed ECE inside the interval is what sampling alone gives."""
    probabilities = np.asarray(probabilities, np.float64)
    n = len(probabilities) if n is None else int(n)
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(draws):
        rows = probabilities[rng.integers(0, len(probabilities), n)]
        cumulative = np.cumsum(rows, 1)
        labels = np.minimum((cumulative < rng.random(n)[:, None] * cumulative[:, -1:]).sum(1),
                            rows.shape[1] - 1)
        values.append(expected_calibration_error(labels, rows))
    return {"n": n, "mean": float(np.mean(values)),
            "interval": [float(v) for v in np.percentile(values, [2.5, 97.5])]}


#: The headline figures that get bootstrap intervals.
HEADLINE = ("accuracy", "quadratic_weighted_kappa", "mae", "ece")


def headline_figures(y_true, probabilities, y_pred=None) -> dict[str, float]:
    y_true = np.asarray(y_true, np.int64)
    y_pred = np.asarray(probabilities).argmax(1) if y_pred is None else np.asarray(y_pred, np.int64)
    return {
        "accuracy": float((y_pred == y_true).mean()),
        "quadratic_weighted_kappa": quadratic_weighted_kappa(y_true, y_pred),
        "mae": float(np.abs(y_pred - y_true).mean()),
        "ece": expected_calibration_error(y_true, probabilities),
    }


def bootstrap_intervals(y_true, probabilities, resamples: int = 2000, seed: int = 0,
                        level: float = 0.95, y_pred=None) -> dict[str, list[float]]:
    """Percentile bootstrap intervals of the headline figures (images resampled with replacement)."""
    y_true = np.asarray(y_true, np.int64)
    probabilities = np.asarray(probabilities, np.float64)
    y_pred = probabilities.argmax(1) if y_pred is None else np.asarray(y_pred, np.int64)
    rng = np.random.default_rng(seed)
    draws = {k: [] for k in HEADLINE}
    for _ in range(resamples):
        pick = rng.integers(0, len(y_true), len(y_true))
        for key, value in headline_figures(y_true[pick], probabilities[pick], y_pred[pick]).items():
            draws[key].append(value)
    tail = (1.0 - level) / 2.0
    return {k: [float(np.quantile(v, tail)), float(np.quantile(v, 1.0 - tail))] for k, v in draws.items()}


def paired_difference_intervals(y_true, probs_a, probs_b, keys=("quadratic_weighted_kappa",),
                                resamples: int = 2000, seed: int = 0) -> dict[str, list[float]]:
    """95 % interval of figure(b) − figure(a) for each of ``keys``, on the same resampled images
    (one bootstrap for all figures): is b really better?"""
    y_true = np.asarray(y_true, np.int64)
    rng = np.random.default_rng(seed)
    diffs = {key: [] for key in keys}
    for _ in range(resamples):
        pick = rng.integers(0, len(y_true), len(y_true))
        fig_a, fig_b = headline_figures(y_true[pick], probs_a[pick]), headline_figures(y_true[pick], probs_b[pick])
        for key in keys:
            diffs[key].append(fig_b[key] - fig_a[key])
    return {key: [float(np.quantile(d, 0.025)), float(np.quantile(d, 0.975))] for key, d in diffs.items()}


def paired_difference_interval(y_true, probs_a, probs_b, key: str = "quadratic_weighted_kappa",
                               resamples: int = 2000, seed: int = 0) -> list[float]:
    """95 % interval of figure(b) − figure(a) on the same resampled images: is b really better?"""
    return paired_difference_intervals(y_true, probs_a, probs_b, (key,), resamples, seed)[key]
