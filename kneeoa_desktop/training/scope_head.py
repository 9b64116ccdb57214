"""Fit the scope check's knee head: "is this region a native knee PA/AP view?" from pooled features.

Standardised features → PCA (``components``) → L2-regularised logistic regression, classes
weighted to count equally, fitted by Newton's method (IRLS) in numpy, then folded back into one
weight vector on the raw features (``core.verdict.scope.KneeHead``: a dot product at grading time).
``cross_validate`` gives out-of-fold probabilities with folds drawn by *group* (a source film
and all its crops and variants stay together), from which the thresholds are read.
"""

from __future__ import annotations

import numpy as np

from ..core.verdict.scope import KneeHead


def fit_logistic(x: np.ndarray, y: np.ndarray, weight: np.ndarray, l2: float, iterations: int = 50):
    """(w, b) minimising the weighted log-loss + l2/2 ‖w‖² (the bias is not penalised)."""
    n, d = x.shape
    xb = np.hstack([x, np.ones((n, 1))])
    theta = np.zeros(d + 1)
    penalty = np.full(d + 1, l2)
    penalty[-1] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(xb @ theta, -50, 50)))
        grad = xb.T @ (weight * (p - y)) + penalty * theta
        hess = (xb * (weight * p * (1 - p))[:, None]).T @ xb + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        theta -= step
        if np.abs(step).max() < 1e-7:
            break
    return theta[:-1], float(theta[-1])


def fit_head(features: np.ndarray, labels: np.ndarray, components: int = 64, l2: float = 1.0,
             threshold: float = 0.5, doubt: float = 0.5) -> KneeHead:
    """A ``KneeHead`` fitted on (N, D) features with labels 1 (knee PA/AP) / 0 (anything else)."""
    x = np.asarray(features, np.float64)
    y = np.asarray(labels, np.float64)
    centre = x.mean(axis=0)
    scale = x.std(axis=0) + 1e-6
    z = (x - centre) / scale
    _, _, vt = np.linalg.svd(z, full_matrices=False)
    basis = vt[:components]  # (k, D)
    projected = z @ basis.T
    # Each class counts as much as the other, whatever their sizes.
    weight = np.where(y > 0.5, 0.5 / max(1, (y > 0.5).sum()), 0.5 / max(1, (y <= 0.5).sum())) * len(y)
    w, b = fit_logistic(projected, y, weight, l2)
    folded = (basis.T @ w) / scale  # logit = folded · (x − centre) + b
    return KneeHead(centre=centre, weights=folded, bias=b, threshold=threshold, doubt=doubt)


def group_folds(groups, folds: int, seed: int = 0) -> np.ndarray:
    """Fold index per sample, whole groups at a time."""
    names = np.unique(np.asarray(groups))
    order = np.random.default_rng(seed).permutation(len(names))
    fold_of = {names[i]: k % folds for k, i in enumerate(order)}
    return np.array([fold_of[g] for g in groups])


def cross_validate(features, labels, groups, folds: int = 5, **fit) -> np.ndarray:
    """Out-of-fold P(knee) for every sample."""
    fold = group_folds(groups, folds)
    out = np.zeros(len(labels))
    for k in range(folds):
        test = fold == k
        head = fit_head(features[~test], labels[~test], **fit)
        out[test] = head.probability(features[test])
    return out
