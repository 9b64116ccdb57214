"""Metrics against values worked out by hand (the working is in the comments), never against
the code's own formula."""

import math

import numpy as np
import pytest

from kneeoa_desktop.core.verdict.metrics import (bootstrap_intervals, classification_report, confusion_matrix,
                                         ece_if_calibrated, expected_calibration_error, headline_figures,
                                         paired_difference_interval, paired_difference_intervals,
                                         quadratic_weighted_kappa, roc_auc)


def test_confusion_matrix():
    # Pairs (true, predicted): (0,0) (1,2) (2,2) (2,2) (4,3); rows are the true grade.
    cm = confusion_matrix([0, 1, 2, 2, 4], [0, 2, 2, 2, 3])
    np.testing.assert_array_equal(cm, [[1, 0, 0, 0, 0],
                                       [0, 0, 1, 0, 0],
                                       [0, 0, 2, 0, 0],
                                       [0, 0, 0, 0, 0],
                                       [0, 0, 0, 1, 0]])
    assert confusion_matrix([], []).shape == (5, 5) and confusion_matrix([], []).sum() == 0


def test_kappa_three_items():
    # y = [0, 2, 4], p = [0, 4, 4], K = 5 grades, weights w_ij = (i - j)² / (K - 1)² = (i - j)² / 16.
    # Observed O: (0,0), (2,4), (4,4), one each.  Σ w·O = w_24 = 4/16 = 0.25.
    # Row sums (true) r = [1, 0, 1, 0, 1]; column sums (predicted) c = [1, 0, 0, 0, 2]; n = 3.
    # Expected E = r cᵀ / n, non-zero cells:
    #   E_00 = 1/3 (w 0)   E_04 = 2/3 (w 16/16)
    #   E_20 = 1/3 (w 4/16) E_24 = 2/3 (w 4/16)
    #   E_40 = 1/3 (w 16/16) E_44 = 2/3 (w 0)
    # Σ w·E = 2/3 + 1/12 + 2/12 + 1/3 = 1.25.  κ = 1 − 0.25 / 1.25 = 0.8.
    assert quadratic_weighted_kappa([0, 2, 4], [0, 4, 4]) == pytest.approx(0.8)


def test_kappa_one_step_misses():
    # y = [0, 1, 2, 3, 4], p = [1, 1, 2, 3, 3]: two misses by one grade, (0→1) and (4→3).
    # Σ w·O = 1/16 + 1/16 = 0.125.
    # r = [1, 1, 1, 1, 1], c = [0, 2, 1, 2, 0], n = 5, so E_ij = c_j / 5 and
    # Σ w·E = (1/5)(1/16) Σ_j c_j Σ_i (i − j)²; Σ_i (i − j)² is 15 for j = 1 and 3, 10 for j = 2:
    # = (1/80)(2·15 + 1·10 + 2·15) = 70/80 = 0.875.  κ = 1 − 0.125 / 0.875 = 1 − 1/7 = 6/7.
    assert quadratic_weighted_kappa([0, 1, 2, 3, 4], [1, 1, 2, 3, 3]) == pytest.approx(6 / 7)


def test_kappa_perfect_reversed_and_degenerate():
    assert quadratic_weighted_kappa([0, 1, 2, 3, 4], [0, 1, 2, 3, 4]) == pytest.approx(1.0)
    # y = [0, 4], p = [4, 0]: Σ w·O = 1 + 1 = 2; r = c = [1, 0, 0, 0, 1], n = 2, so E is 1/2 in
    # the four corners and Σ w·E = 1/2 + 1/2 = 1.  κ = 1 − 2/1 = −1 (worse than chance).
    assert quadratic_weighted_kappa([0, 4], [4, 0]) == pytest.approx(-1.0)
    # One grade everywhere, both raters: no expected disagreement; the code calls that agreement.
    assert quadratic_weighted_kappa([2, 2, 2], [2, 2, 2]) == 1.0
    assert math.isnan(quadratic_weighted_kappa([], []))


def test_auc():
    assert roc_auc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert roc_auc([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1]) == 0.0
    assert roc_auc([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]) == 0.5
    assert roc_auc([0, 1, 1], [0.1, 0.4, 0.05]) == 0.5
    assert math.isnan(roc_auc([1, 1], [0.2, 0.3]))


def test_auc_with_ties_counts_them_half():
    # Positives score {0.4, 0.8, 0.2}, negatives {0.1, 0.4}; each (positive, negative) pair
    # scores 1 if the positive is higher, ½ if tied, 0 if lower:
    #   0.4 vs 0.1 → 1, 0.4 vs 0.4 → ½, 0.8 vs 0.1 → 1, 0.8 vs 0.4 → 1, 0.2 vs 0.1 → 1, 0.2 vs 0.4 → 0
    # AUC = 4.5 / 6 = 0.75.
    assert roc_auc([0, 1, 0, 1, 1], [0.1, 0.4, 0.4, 0.8, 0.2]) == pytest.approx(0.75)
    # The order the images come in does not matter.
    assert roc_auc([1, 1, 0, 1, 0], [0.2, 0.8, 0.4, 0.4, 0.1]) == pytest.approx(0.75)


def test_expected_calibration_error():
    probabilities = np.array([[0.90, 0.10, 0.00, 0.00, 0.00],   # true 0: conf 0.90, right
                              [0.90, 0.10, 0.00, 0.00, 0.00],   # true 1: conf 0.90, wrong
                              [0.19, 0.62, 0.19, 0.00, 0.00],   # true 1: conf 0.62, right
                              [0.10, 0.10, 0.05, 0.45, 0.30]])  # true 4: conf 0.45, wrong (says 3)
    y = [0, 1, 1, 4]
    # 15 bins of width 1/15: 0.90 → bin 13 (13.5/15), 0.62 → bin 9 (9.3/15), 0.45 → bin 6 (6.75/15).
    #   bin 13: 2 images, accuracy ½, confidence 0.90 → |0.5 − 0.9| = 0.40, weight 2
    #   bin  9: 1 image,  accuracy 1, confidence 0.62 → 0.38
    #   bin  6: 1 image,  accuracy 0, confidence 0.45 → 0.45
    # ECE = (2·0.40 + 0.38 + 0.45) / 4 = 1.63 / 4 = 0.4075.
    assert expected_calibration_error(y, probabilities) == pytest.approx(0.4075)
    # One bin: accuracy 2/4 = 0.5, mean confidence (0.9 + 0.9 + 0.62 + 0.45)/4 = 0.7175 → 0.2175.
    assert expected_calibration_error(y, probabilities, bins=1) == pytest.approx(0.2175)
    # Sure and right every time: perfectly calibrated.
    assert expected_calibration_error([0, 3], np.eye(5)[[0, 3]]) == 0.0
    # Sure and wrong every time: as badly calibrated as can be.
    assert expected_calibration_error([1, 2], np.eye(5)[[0, 3]]) == pytest.approx(1.0)
    assert math.isnan(expected_calibration_error([], np.zeros((0, 5))))


def test_report():
    probs = np.eye(5)[[0, 1, 2, 3, 3]]
    report = classification_report([0, 1, 2, 3, 4], probs)
    assert report["accuracy"] == pytest.approx(0.8)
    assert report["mae"] == pytest.approx(0.2)
    assert report["per_grade"][3]["precision"] == pytest.approx(0.5)
    assert report["per_grade"][4]["recall"] == 0.0
    assert report["oa_auc"] == pytest.approx(1.0)
    # Kappa: one miss by one grade (4→3), so Σ w·O = 1/16 = 5/80; r = [1,1,1,1,1],
    # c = [1,1,1,2,0], E_ij = c_j / 5; Σ_i (i − j)² = 30, 15, 10, 15 for j = 0..3:
    # Σ w·E = (30 + 15 + 10 + 2·15) / 80 = 85/80; κ = 1 − (5/80)/(85/80) = 1 − 1/17 = 16/17.
    assert report["quadratic_weighted_kappa"] == pytest.approx(16 / 17)
    # Confidence 1 everywhere, four right of five: ECE = |0.8 − 1| = 0.2.
    assert report["ece"] == pytest.approx(0.2)
    assert report["confusion_matrix"][4] == [0, 0, 0, 1, 0]


def _toy_set(n: int, seed: int = 1):
    """n images, about 70 % graded right, every answer given with probability 0.8."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 5, n)
    pred = np.where(rng.random(n) < 0.7, y, rng.integers(0, 5, n))
    probs = np.full((n, 5), 0.05)
    probs[np.arange(n), pred] = 0.8
    return y, probs


def test_bootstrap_intervals_hold_the_point_estimate_and_narrow_with_more_data():
    y, probs = _toy_set(60)
    point = headline_figures(y, probs)
    small = bootstrap_intervals(y, probs, resamples=400, seed=0)
    # The same images sixteen times over: the same point estimates, sixteen times the evidence.
    big_y, big_probs = np.tile(y, 16), np.tile(probs, (16, 1))
    assert headline_figures(big_y, big_probs) == pytest.approx(point)
    big = bootstrap_intervals(big_y, big_probs, resamples=400, seed=0)
    for key, value in point.items():
        for interval in (small, big):
            low, high = interval[key]
            assert low <= value + 1e-12 and value <= high + 1e-12, (key, value, interval[key])
        # √16 = 4 times narrower in theory; at least twice narrower with 400 resamples.
        assert big[key][1] - big[key][0] < (small[key][1] - small[key][0]) / 2, key
    assert bootstrap_intervals(y, probs, resamples=400, seed=0) == small  # seeded: reproducible


def test_paired_difference_interval():
    y, probs = _toy_set(60)
    assert paired_difference_interval(y, probs, probs, resamples=200) == [0.0, 0.0]
    perfect = np.eye(5)[y]
    low, high = paired_difference_interval(y, probs, perfect, resamples=200)
    assert 0.0 < low <= high <= 1.0  # the perfect grader is really better


def test_paired_difference_intervals_share_one_bootstrap():
    y, probs = _toy_set(60)
    perfect = np.eye(5)[y]
    both = paired_difference_intervals(y, probs, perfect, ("accuracy", "mae"), resamples=200, seed=3)
    # Each figure's interval is the one its own single-figure bootstrap (same seed) gives.
    assert both["accuracy"] == paired_difference_interval(y, probs, perfect, "accuracy", 200, 3)
    assert both["mae"] == paired_difference_interval(y, probs, perfect, "mae", 200, 3)
    assert both["accuracy"][0] > 0 and both["mae"][1] < 0  # perfect: more right, smaller error


def test_ece_if_calibrated_holds_a_calibrated_models_ece_and_not_an_overconfident_ones():
    """Labels drawn from the probabilities make a calibrated model: its measured ECE lies in the
    range chance leaves; the same labels judged against sharpened probabilities (over-confident)
    lie above it. More images, less chance: the range moves down and narrows."""
    rng = np.random.default_rng(5)
    probs = rng.dirichlet(np.full(5, 0.6), 800)
    labels = np.array([rng.choice(5, p=p) for p in probs])
    floor = ece_if_calibrated(probs, seed=1)
    assert floor["n"] == 800
    lo, hi = floor["interval"]
    assert 0 < lo < floor["mean"] < hi
    assert lo <= expected_calibration_error(labels, probs) <= hi
    sharp = probs ** 3 / (probs ** 3).sum(1, keepdims=True)
    assert expected_calibration_error(labels, sharp) > ece_if_calibrated(sharp, seed=1)["interval"][1]
    bigger = ece_if_calibrated(probs, n=3200, seed=1)
    assert bigger["mean"] < floor["mean"] and bigger["interval"][1] - bigger["interval"][0] < hi - lo
