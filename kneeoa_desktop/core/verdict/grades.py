"""Kellgren–Lawrence grades: labels, names, the OA threshold, and the rules that read a grade
off five probabilities other than the most probable one (median, cut points on the expected grade)."""

import numpy as np

KL_LABELS = ("KL0", "KL1", "KL2", "KL3", "KL4")
KL_NAMES = ("none", "doubtful", "minimal", "moderate", "severe")
NUM_GRADES = len(KL_LABELS)
#: Radiographic osteoarthritis is conventionally KL ≥ 2.
OA_THRESHOLD = 2
DISCLAIMER = "Decision support only — not a diagnosis"
#: A grading whose top probability is below this is flagged as low confidence: front doors
#: warn the user to weigh it with particular care.
LOW_CONFIDENCE = 0.5


def grade_title(grade: int) -> str:
    """E.g. 'KL2 (minimal)'."""
    return f"{KL_LABELS[grade]} ({KL_NAMES[grade]})"


def expected_grade(probs) -> np.ndarray:
    """Σ k·p_k of each row of (N, 5) probabilities."""
    p = np.atleast_2d(np.asarray(probs, np.float64))
    return p @ np.arange(p.shape[1])


def median_grade(probs) -> np.ndarray:
    """The smallest grade whose cumulative probability reaches 1/2 (it minimises the expected
    absolute error), for each row of (N, 5) probabilities."""
    return (np.cumsum(np.atleast_2d(probs), axis=1) < 0.5).sum(axis=1)


def grade_by_cut_points(expected, cuts) -> np.ndarray:
    """The grade of each expected grade: how many of the increasing cut points lie at or below it."""
    return np.searchsorted(np.asarray(cuts), expected, side="right").astype(np.int64)
