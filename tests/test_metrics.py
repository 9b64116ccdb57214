"""Metrics against hand-computed values."""

import math

import numpy as np
import pytest

from kneeoa_desktop.core.metrics import (classification_report, confusion_matrix,
                                         quadratic_weighted_kappa, roc_auc)


def test_confusion_matrix():
    cm = confusion_matrix([0, 1, 2, 2, 4], [0, 2, 2, 2, 3])
    assert cm[0, 0] == 1 and cm[1, 2] == 1 and cm[2, 2] == 2 and cm[4, 3] == 1 and cm.sum() == 5


def test_kappa_perfect_and_known_value():
    assert quadratic_weighted_kappa([0, 1, 2, 3, 4], [0, 1, 2, 3, 4]) == pytest.approx(1.0)
    # Two raters over 3 items, classes 0..4: by hand, O = diag(0,1) + (2→4); weights (i-j)²/16.
    y, p = [0, 2, 4], [0, 4, 4]
    observed = np.zeros((5, 5)); observed[0, 0] = observed[2, 4] = observed[4, 4] = 1
    w = np.array([[(i - j) ** 2 / 16 for j in range(5)] for i in range(5)])
    expected = np.outer(observed.sum(1), observed.sum(0)) / 3
    assert quadratic_weighted_kappa(y, p) == pytest.approx(1 - (w * observed).sum() / (w * expected).sum())


def test_auc():
    assert roc_auc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert roc_auc([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1]) == 0.0
    assert roc_auc([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]) == 0.5
    assert roc_auc([0, 1, 1], [0.1, 0.4, 0.05]) == 0.5
    assert math.isnan(roc_auc([1, 1], [0.2, 0.3]))


def test_report():
    probs = np.eye(5)[[0, 1, 2, 3, 3]]
    report = classification_report([0, 1, 2, 3, 4], probs)
    assert report["accuracy"] == pytest.approx(0.8)
    assert report["mae"] == pytest.approx(0.2)
    assert report["per_grade"][3]["precision"] == pytest.approx(0.5)
    assert report["per_grade"][4]["recall"] == 0.0
    assert report["oa_auc"] == pytest.approx(1.0)
