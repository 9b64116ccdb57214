"""Score the knee SVM's windows over a radiograph: the search machinery of ``localise``.

For each window size and vertical stretch, the work image (stretched) is resized so that the
window is 64 px, ``hog.block_grid`` + ``hog.score_map`` score every window on the 8-px grid at
once, as it is (a right knee) and mirrored (a left knee), and the best window of each detector in
each half of the image is kept as a ``Peak`` (sub-grid position by a parabola). ``localise``
decides what the peaks mean.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from ..film.quantiles import percentiles
from ..paths import resources_dir
from . import hog

#: Longest side of the working copy; the smallest window searched is then still ≥ 64 px.
WORK_SIDE = 512
#: Longest side of a stretched copy (its windows are the larger sizes, still ≥ 64 px there).
STRETCHED_SIDE = 320
#: Score handicap of a window per doubling of its stretch (see ``peaks``).
ANISOTROPY_PENALTY = 0.4
#: Window sizes scanned side by side (this CPU-bound search is most of a bilateral film's time).
SCAN_THREADS = min(2, os.cpu_count() or 1)


@dataclass(frozen=True)
class Peak:
    cx: float  # window centre, work pixels
    cy: float
    size: float  # window width, work pixels (its height is size / aspect)
    score: float
    mirrored: bool  # found by the mirrored (left-knee) detector
    aspect: float = 1.0  # the vertical stretch under which it was found
    level: int = 0  # 0: the best of its half at its size; 1, 2, …: the next ones (``peaks``' ``keep``)

    @property
    def height(self) -> float:
        return self.size / self.aspect


@dataclass(frozen=True)
class ScoreMap:
    """The scores of every window of one size under one stretch (``peaks`` keeps them when asked):
    as-is and mirrored maps on the 8-px grid of the resized image, and how to place a grid cell
    back on the work image."""

    right: np.ndarray
    left: np.ndarray
    f: float  # the resize factor of the scan (the window is 64 px there)
    shift: int  # the mirrored map's grid offset (px of the resized image)
    window: float  # the window's side on the (stretched, padded) image scanned
    ox: int  # padding added on the left and at the top
    oy: int
    fx: float  # the stretch's factors from the work image
    fy: float

    @property
    def size(self) -> float:
        """The window's width in work pixels."""
        return self.window / self.fx

    @property
    def aspect(self) -> float:
        return self.fy / self.fx

    def centres(self, mirrored: bool) -> tuple[np.ndarray, np.ndarray]:
        """Work-pixel centres of the grid's columns and rows (x, then y) of one detector's map."""
        off = self.shift if mirrored else 0
        rows, cols = self.right.shape
        cx = ((np.arange(cols) * hog.CELL + off) / self.f + self.window / 2 - self.ox) / self.fx
        cy = (np.arange(rows) * hog.CELL / self.f + self.window / 2 - self.oy) / self.fy
        return cx, cy


@lru_cache(maxsize=1)
def model() -> tuple[np.ndarray, float]:
    """(grid weights, bias) from the shipped SVM; mirrored windows are scored with the same
    weights on the mirror image's blocks."""
    data = np.load(resources_dir() / "kneeloc" / "knee_joint_hog_svm.npz")
    weights = np.asarray(data["weights"], np.float32)
    grid = hog.window_weights(weights)
    return grid, float(data["bias"])


def stretch(pixels: np.ndarray) -> np.ndarray:
    """8-bit copy contrast-stretched between the 5th and 99th percentiles (SVM training)."""
    lo, hi = percentiles(pixels, (5, 99))
    if hi <= lo:
        lo, hi = float(pixels.min()), float(pixels.max())
    if hi <= lo:
        return np.zeros(pixels.shape, np.uint8)
    scaled = (pixels.astype(np.float32) - np.float32(lo)) * np.float32(255.0 / (hi - lo))
    return np.clip(scaled, 0, 255).astype(np.uint8)


def patch_scores(patches: list[np.ndarray]) -> list[tuple[float, float]]:
    """SVM scores of gray regions (any shape) each resized to the 64×64 window, as they are and
    mirrored."""
    grid, bias = model()
    smalls = [cv2.resize(p, (hog.WINDOW, hog.WINDOW), interpolation=cv2.INTER_AREA) for p in patches]
    blocks = hog.block_grid(np.stack([x for s in smalls for x in (s, np.fliplr(s))]))
    scores = [float(hog.score_map(b, grid, bias)[0, 0]) for b in blocks]
    return [(scores[2 * k], scores[2 * k + 1]) for k in range(len(patches))]


def _scan(work: np.ndarray, window: float) -> tuple[np.ndarray, np.ndarray, float, int]:
    """Score maps (as-is, mirrored) of all windows of side ``window`` work px, on a grid of
    ``window / 8``; returns them with the resize factor used."""
    grid, bias = model()
    f = hog.WINDOW / window
    h, w = work.shape
    size = (max(hog.WINDOW, int(round(w * f))), max(hog.WINDOW, int(round(h * f))))
    small = cv2.resize(work, size, interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR)
    blocks, mirrored = hog.block_grid_and_mirror(small)
    right = hog.score_map(blocks, grid, bias)
    left = hog.score_map(mirrored, grid, bias)[:, ::-1]  # back to image x order
    # The mirrored image's grid starts at its own left edge; re-align it to ours.
    shift = (size[0] - hog.WINDOW) % hog.CELL
    return right, left, f, shift


def _refine(m: np.ndarray, i: int, j: int) -> tuple[float, float]:
    """Sub-grid peak position by a parabola through the neighbours in y and in x."""

    def vertex(a: float, b: float, c: float) -> float:
        if not (np.isfinite(a) and np.isfinite(c)):
            return 0.0
        d = a - 2 * b + c
        return 0.0 if d >= 0 else float(np.clip(0.5 * (a - c) / d, -0.5, 0.5))

    di = vertex(m[i - 1, j], m[i, j], m[i + 1, j]) if 0 < i < m.shape[0] - 1 else 0.0
    dj = vertex(m[i, j - 1], m[i, j], m[i, j + 1]) if 0 < j < m.shape[1] - 1 else 0.0
    return i + di, j + dj


@lru_cache(maxsize=1)
def _scan_pool() -> ThreadPoolExecutor:
    # The scan's matrix products are mid-sized: BLAS would split each over every core, on top
    # of the scan's own threads, and its workers' spinning cost more than they gained (a
    # bilateral film 10–20 % slower). One BLAS thread per caller, for the whole process: no other
    # numpy work on the grading path is large enough to want more.
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1, user_api="blas")
    except Exception:  # a speed setting must never stop a grading
        pass
    return ThreadPoolExecutor(max_workers=SCAN_THREADS, thread_name_prefix="kneeoa-knee-scan")


def _stretched(work: np.ndarray, aspect: float) -> tuple[np.ndarray, float, float]:
    """The work image stretched vertically by ``aspect`` and reduced to at most
    ``STRETCHED_SIDE`` (its windows are the larger ones: a squashed knee fills much of its film),
    with the x and y factors applied."""
    if aspect == 1.0:
        return work, 1.0, 1.0
    h, w = work.shape
    fx, fy = 1.0, aspect
    longest = max(h * fy, w * fx)
    if longest > STRETCHED_SIDE:
        fx, fy = fx * STRETCHED_SIDE / longest, fy * STRETCHED_SIDE / longest
    size = (max(1, round(w * fx)), max(1, round(h * fy)))
    shrink = size[0] * size[1] < w * h
    return cv2.resize(work, size, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR), fx, fy


def _scans(jobs: list[tuple[np.ndarray, float]]) -> list[tuple]:
    """``_scan`` of each (image, window) job, ``SCAN_THREADS`` at a time (NumPy and OpenCV
    release the GIL for the heavy parts). The costliest (most windows) start first."""
    if SCAN_THREADS < 2 or len(jobs) < 2:
        return [_scan(img, window) for img, window in jobs]
    order = sorted(range(len(jobs)), key=lambda k: -jobs[k][0].size / jobs[k][1] ** 2)
    done = dict(zip(order, _scan_pool().map(lambda k: _scan(*jobs[k]), order)))
    return [done[k] for k in range(len(jobs))]


def _padded(img: np.ndarray, window: float) -> tuple[np.ndarray, int, int]:
    """The image with its shorter side continued by its own border pixels when ``window`` is wider
    than that side (a leg that fills a portrait film across: its joint's window reaches past the
    film's edges, and is cut there the same way, ``framing``); with the offsets (x, y) added."""
    h, w = img.shape
    pad = int(np.ceil((window - min(h, w)) / 2)) + hog.CELL
    if pad <= hog.CELL:
        return img, 0, 0
    if w <= h:
        return cv2.copyMakeBorder(img, 0, 0, pad, pad, cv2.BORDER_REPLICATE), pad, 0
    return cv2.copyMakeBorder(img, pad, pad, 0, 0, cv2.BORDER_REPLICATE), 0, pad


def peaks(work: np.ndarray, anisotropies: dict[float, tuple[float, ...]], keep: int = 1,
          maps: list[ScoreMap] | None = None) -> list[Peak]:
    """The best window of each detector at each size and stretch in each half of the image, in
    work pixels; with ``keep`` > 1, up to that many, each at least half a window's height above
    or below the better ones (a film of whole legs: the hips, the knees and the ankles). A size
    above 1 (a fraction of the shorter side) is scanned on the image continued past that side's
    edges. ``maps``: a list that receives every size's ``ScoreMap``."""
    jobs, meta = [], []
    for aspect, scales in anisotropies.items():
        img, fx, fy = _stretched(work, aspect)
        short = min(img.shape)
        for frac in scales:
            padded, ox, oy = _padded(img, frac * short)
            jobs.append((padded, frac * short))
            meta.append((aspect, fx, fy, img.shape[1], ox, oy))
    out = []
    for (img, window), (aspect, fx, fy, iw, ox, oy), (right, left, f, shift) in zip(jobs, meta, _scans(jobs)):
        if right.size == 0:
            continue
        if maps is not None:
            maps.append(ScoreMap(right, left, f, shift, window, ox, oy, fx, fy))
        step = hog.CELL / f
        centres = (np.arange(right.shape[1]) * hog.CELL + hog.WINDOW / 2) / f - ox
        for m, mirrored, off in ((right, False, 0), (left, True, shift)):
            # Best window per image half (by its centre), for bilateral films.
            for half in (centres + off / f < iw / 2, centres + off / f >= iw / 2):
                if not half.any():
                    continue
                masked = np.where(half[None, :], m, -np.inf)
                rows = np.arange(m.shape[0])[:, None]
                for level in range(keep):
                    i, j = np.unravel_index(int(np.argmax(masked)), m.shape)
                    if not np.isfinite(masked[i, j]):
                        break
                    fi, fj = _refine(masked, i, j)
                    cx = ((fj * hog.CELL + off) / f + window / 2 - ox) / fx
                    cy = (fi * step + window / 2 - oy) / fy
                    aspect = fy / fx
                    # A film stored as taken is likelier than one resized out of shape: a
                    # stretched window must beat an upright one by a margin.
                    score = float(m[i, j]) - ANISOTROPY_PENALTY * abs(np.log2(aspect))
                    out.append(Peak(cx, cy, window / fx, score, mirrored, aspect, level))
                    # The next one half a window's height away or more (the grid step is an
                    # eighth of it): a joint just below a false window on a shaft is still found.
                    masked = np.where(np.abs(rows - i) < hog.WINDOW // hog.CELL // 2, -np.inf, masked)
    return out


def best(peaks: list[Peak]) -> Peak | None:
    """The highest peak, its size refined by a parabola over its neighbouring scales."""
    if not peaks:
        return None
    top = max(peaks, key=lambda p: p.score)
    if top.level == 0:  # neighbours: the best of its half at each other size, beside it
        same = sorted((p for p in peaks if p.level == 0 and p.mirrored == top.mirrored and p.aspect == top.aspect
                       and abs(p.cx - top.cx) < top.size), key=lambda p: p.size)
    else:  # the next best of its half (a film of whole legs): the one nearest in height, beside it
        nearest: dict[float, Peak] = {top.size: top}
        for p in peaks:
            if (p.size != top.size and p.mirrored == top.mirrored and p.aspect == top.aspect
                    and abs(p.cx - top.cx) < top.size and abs(p.cy - top.cy) < top.height
                    and (p.size not in nearest or abs(p.cy - top.cy) < abs(nearest[p.size].cy - top.cy))):
                nearest[p.size] = p
        same = sorted(nearest.values(), key=lambda p: p.size)
    k = same.index(top)
    if 0 < k < len(same) - 1:
        a, b, c = same[k - 1].score, top.score, same[k + 1].score
        d = a - 2 * b + c
        if d < 0:
            t = float(np.clip(0.5 * (a - c) / d, -0.5, 0.5))
            ratio = same[k + 1].size / top.size if t > 0 else top.size / same[k - 1].size
            top = Peak(top.cx, top.cy, top.size * ratio ** t, top.score, top.mirrored, top.aspect, top.level)
    return top
