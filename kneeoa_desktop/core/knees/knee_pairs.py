"""Which of the scan's windows are the two knees of one film: a right knee in the image's left half
and a left knee in its right half, about the same size and height, side by side (``localise``
decides with them; ``knee_scan`` finds the windows).
"""

from __future__ import annotations

import numpy as np

from .knee_scan import ANISOTROPY_PENALTY, Peak, ScoreMap
from .knee_scan import best as best_peak

#: Both knees of a bilateral pair must score this much (a lone knee's mirror image scores lower).
BILATERAL_SCORE_MIN = 0.2
#: A knee's mate (``mate``) is sought only for a window at most this share of the film's width:
#: two knees side by side (a bilateral PA film: each knee's window about half its width; a film
#: of both legs hip to ankle: a fifth to a third); one knee's film has its knee across it.
MATE_MAX_SHARE = 0.5


def one_knee(best: Peak, pair: tuple[Peak, Peak]) -> bool:
    """Whether a scanned right/left pair is the two halves of one knee (its condyles, or the
    tibia and fibula below it): both windows lie inside the best window, which outscores them."""
    half_w, half_h = best.size / 2, best.height / 2
    return best.score > max(p.score for p in pair) and all(
        abs(p.cx - best.cx) <= half_w and abs(p.cy - best.cy) <= half_h for p in pair)


def paired(right: Peak, left: Peak) -> bool:
    """Two knees of one film: about the same size, shape and height, side by side."""
    big = max(right.size, left.size)
    return (min(right.score, left.score) >= BILATERAL_SCORE_MIN
            and right.aspect == left.aspect
            and big / min(right.size, left.size) < 1.3
            and abs(right.cy - left.cy) < 0.35 * max(right.height, left.height)
            and left.cx - right.cx > 0.8 * big)


def bilateral_pair(rights: list[Peak], lefts: list[Peak]) -> tuple[Peak, Peak] | None:
    """The best right/left pair that fits together, or None.

    Each side's best peak alone is not enough: a small false window can outscore the true knee
    on one side and break the pair, so the other side's best is matched with the best peak of
    compatible size and height, both ways round, and the pair with the higher weaker score wins.
    """
    candidates = []
    for anchor, others, anchor_is_right in ((best_peak(rights), lefts, True), (best_peak(lefts), rights, False)):
        if anchor is None:
            continue
        match = best_peak([p for p in others if (paired(anchor, p) if anchor_is_right else paired(p, anchor))])
        if match is None:
            continue
        pair = (anchor, match) if anchor_is_right else (match, anchor)
        if paired(*pair):  # the refined sizes must still fit
            candidates.append(pair)
    return max(candidates, key=lambda pr: min(pr[0].score, pr[1].score), default=None)


def best_pair(peaks: list[Peak], width: float) -> tuple[Peak, Peak] | None:
    """The best right/left pair among ``peaks`` (a right knee as it is in the image's left half, a
    left knee mirrored in its right half), sought under each stretch apart (the two knees of one
    film were stored alike); the pair with the higher weaker score wins."""
    pairs = [bilateral_pair([p for p in peaks if p.aspect == a and not p.mirrored and p.cx < width / 2],
                            [p for p in peaks if p.aspect == a and p.mirrored and p.cx >= width / 2])
             for a in sorted({p.aspect for p in peaks})]
    return max((pr for pr in pairs if pr is not None), key=lambda pr: min(pr[0].score, pr[1].score), default=None)


def pairs_at_other_heights(peaks: list[Peak], pair: tuple[Peak, Peak], best: Peak | None,
                           width: float, levels: int) -> list[tuple[Peak, Peak]]:
    """The best right/left pair at each height other than ``pair``'s (at most ``levels`` − 1):
    on a film of whole legs the scan's best pair may be the ankles or the hips, the knees' pair
    then lies above or below it. A pair inside the best window is one knee's halves, not two."""
    found, taken = [], [pair]
    for _ in range(levels - 1):
        # Windows half a pair's height or more above or below every pair found so far.
        rest = [p for p in peaks
                if all(abs(p.cy - (a.cy + b.cy) / 2) >= 0.5 * max(a.height, b.height) for a, b in taken)]
        other = best_pair(rest, width)
        if other is None:
            break
        taken.append(other)
        inside_best = best is not None and one_knee(best, other)
        if min(other[0].score, other[1].score) >= BILATERAL_SCORE_MIN and not inside_best:
            found.append(other)
    return found


def mate(maps: list[ScoreMap], anchor: Peak, width: float) -> Peak | None:
    """The other knee of a film of both knees beside ``anchor``, whatever the detector makes of it:
    the window of ``anchor``'s size and stretch (the nearest size scanned, ``maps``: the scan's
    ``ScoreMap``s) in the other half of the film, its centre within a quarter of the window's
    height of ``anchor``'s, that the other detector scores best (a replaced knee's metal scores
    far below any native joint, so no pair of the scan holds it, and a pair on the hips or the
    ankles, or on the metal and beside the other knee, outscored the knees'). The network's knee
    head judges it; None when no such window fits on the film (``width``, work px) beside it."""
    if anchor.size > MATE_MAX_SHARE * width:
        return None
    alike = [m for m in maps if abs(np.log(m.aspect / anchor.aspect)) < 1e-6]
    if not alike:
        return None
    grid = min(alike, key=lambda m: abs(np.log(m.size / anchor.size)))
    right = anchor.cx < width / 2  # the anchor is the patient's right knee: its mate is mirrored
    scores = grid.left if right else grid.right
    cx, cy = grid.centres(mirrored=right)
    beside = (cx >= max(width / 2, anchor.cx + 0.8 * anchor.size)) if right else (
        cx < min(width / 2, anchor.cx - 0.8 * anchor.size))
    level = np.abs(cy - anchor.cy) <= anchor.height / 4
    if not beside.any() or not level.any():
        return None
    masked = np.where(level[:, None] & beside[None, :], scores, -np.inf)
    i, j = np.unravel_index(int(np.argmax(masked)), masked.shape)
    score = float(masked[i, j]) - ANISOTROPY_PENALTY * abs(np.log2(grid.aspect))
    return Peak(float(cx[j]), float(cy[i]), anchor.size, score, right, anchor.aspect, anchor.level)
