"""Find the knee joints on a radiograph and frame each one like the training crops.

Method: KneeLocalizer's detector (Tiulpin et al., SCIA 2017) — a linear SVM on OpenCV's HOG of
a 64×64 window (``hog``), weights shipped in ``resources/kneeloc/`` with their MIT licence.
The SVM sees every knee as a right knee, so each window is scored twice: as it is (a right
knee: on a PA film, on the image's left) and mirrored (a left knee).

The search is ours: the image is reduced once, contrast-stretched between its 5th and 99th
percentiles (as the SVM was trained), then for a ladder of window sizes resized so that the
window is 64 px; ``hog.block_grid`` + ``hog.score_map`` score every window on the 8-px grid at
once. The best peak is refined to sub-grid precision (a parabola through its neighbours) and
re-centred by the mean offset between the SVM's peak and the joint measured on kneeKL224.

Decisions (measured by ``scripts/measure_localiser.py``):
- An image that already is a single-joint crop (square-ish and the whole image is
  knee-like at the scale of a crop) is one region: a square one is the ``whole_image`` region,
  exactly as graded before; any other shape (another hospital's 300×162 crop) is framed as the
  centred square of its longer side, black past the border (``squared``), so that the joint keeps
  its shape and scale rather than being squashed (``scripts/measure_crop_framing.py``: of the
  fills measured, black framed wide, tall and wider crops at least as well as repeated or
  mirrored border pixels).
  An image too oblong for that test is squared (border repeated, or black) and scored as one
  more window. It is two knees when a bilateral pair is found whose weaker knee scores better
  than that square (a bilateral film squared scores as no joint; the two halves of one joint in
  a band score as weak knees). Otherwise it is a crop when its square scores as a crop and at
  most ``CROP_MARGIN`` below the best window inside it (a part of the joint inside a band
  sometimes scores a little better; a knee on a film two or three times its size, by far).
- Regions are squares of ``FRAME`` × the SVM window, which frames the joint like kneeKL224.
  They are reported as found, in source pixels, and may extend past the image border
  (negative x/y or beyond width/height); whoever cuts them pads with the border value.
  Shifting them inside would move the joint off-centre, which the model was not trained on.
- Nothing knee-like → ``[]``; the caller grades the whole image and its scope check flags it.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import cv2
import numpy as np

from . import hog
from .paths import resources_dir
from .quantiles import percentiles

#: A window scoring below this is not taken for a knee joint (SVM margin; see the module notes).
KNEE_SCORE_MIN = 0.0
#: Region side ÷ SVM window side: makes a found joint fill the region as in kneeKL224.
FRAME = 0.85
#: SVM-peak → joint-centre offset, in window sides, for a right knee (x mirrored for a left).
_CENTRE_OFFSET = (0.0, 0.0)
#: Longest side of the working copy; the smallest window searched is then still ≥ 64 px.
_WORK_SIDE = 512
#: Window sides searched, as fractions of the image's shorter side (ratio 2^(1/4) apart, 0.88 … 0.26:
#: a knee window is rarely smaller than a quarter of the short side; smaller ones cost the most).
_SCALES = tuple(0.88 / 2 ** (k / 4) for k in range(8))
#: Aspect ratio (long/short) up to which an image may be a single-joint crop.
_CROP_ASPECT = 1.35
_MIN_SIDE = 32
#: A square-ish image whose whole-image score reaches this is a single-joint crop. Measured
#: (scripts/measure_localiser.py and by hand): 0.36 % of kneeKL224/val crops score below −0.3
#: (0.24 % below −0.5), while synthetic bilateral films (30 portrait 1.3:1, within the crop aspect,
#: and 30 landscape 1.6:1) all score below −0.63 as a whole.
CROP_SCORE_MIN = -0.3
#: An oblong image squared is a crop unless a window inside it scores this much better. Chosen on
#: 150 kneeKL224/train crops with scripts/measure_localiser.py (section 5, which prints the shares
#: at this margin and others): at 0.3, 97.3 % of 300×162 and 100 % of 162×300 bands cut from them
#: are one crop, and 0.7 % of the knees placed on a film 3 × 2 their size (99.3 % found there).
CROP_MARGIN = 0.3
#: Both knees of a bilateral pair must score this much (a lone knee's mirror image scores lower).
BILATERAL_SCORE_MIN = 0.2
#: The as-is and mirrored detectors must differ by this much to name the side of a single knee.
SIDE_MARGIN = 0.3
#: Window sizes scanned side by side (this CPU-bound search is most of a bilateral film's time).
SCAN_THREADS = min(2, os.cpu_count() or 1)
#: Plausible SVM window sides in millimetres, used when the pixel spacing is known.
_JOINT_WINDOW_MM = (90.0, 260.0)


@dataclass(frozen=True)
class KneeRegion:
    """One knee joint, as a square in the source image's pixels.

    The square may extend past the image border (see the module notes). ``side`` is the
    patient's side ("right" is on the image's left on a PA film) or None when unknown.
    ``squared``: a single-joint crop of another shape, the square centred on it; what lies past
    its border is black (the network's equalisation then leaves the crop's own tones as they
    are), where past a film's border the border pixels are repeated."""

    x: int
    y: int
    width: int
    height: int
    side: str | None
    score: float
    whole_image: bool
    squared: bool = False

    @property
    def centre(self) -> tuple[float, float]:
        return (self.x + self.width / 2.0, self.y + self.height / 2.0)


@dataclass(frozen=True)
class _Peak:
    cx: float  # window centre, work pixels
    cy: float
    size: float  # window side, work pixels
    score: float
    mirrored: bool  # found by the mirrored (left-knee) detector


@lru_cache(maxsize=1)
def _model() -> tuple[np.ndarray, float]:
    """(grid weights, bias) from the shipped SVM; mirrored windows are scored with the same
    weights on the mirror image's blocks."""
    data = np.load(resources_dir() / "kneeloc" / "knee_joint_hog_svm.npz")
    weights = np.asarray(data["weights"], np.float32)
    grid = hog.window_weights(weights)
    return grid, float(data["bias"])


def _stretch(pixels: np.ndarray) -> np.ndarray:
    """8-bit copy contrast-stretched between the 5th and 99th percentiles (SVM training)."""
    lo, hi = percentiles(pixels, (5, 99))
    if hi <= lo:
        lo, hi = float(pixels.min()), float(pixels.max())
    if hi <= lo:
        return np.zeros(pixels.shape, np.uint8)
    scaled = (pixels.astype(np.float32) - np.float32(lo)) * np.float32(255.0 / (hi - lo))
    return np.clip(scaled, 0, 255).astype(np.uint8)


def _work_image(pixels: np.ndarray) -> tuple[np.ndarray, float]:
    """Reduced, stretched copy and its scale (work px per source px)."""
    h, w = pixels.shape
    scale = min(1.0, _WORK_SIDE / max(h, w))
    src = pixels
    if scale < 1.0:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        # Resized in its own 8/16-bit type: converting a film of megapixels to float first
        # cost more than the whole search. The percentiles are then taken on the small copy.
        if src.dtype not in (np.uint8, np.uint16, np.float32):
            src = src.astype(np.float32)
        src = cv2.resize(src, size, interpolation=cv2.INTER_AREA)
    return _stretch(src), scale


def _patch_scores(patch: np.ndarray) -> tuple[float, float]:
    """SVM scores of one gray region resized to 64×64 (stretched as in training), as it is and
    mirrored."""
    small = cv2.resize(_stretch(patch), (hog.WINDOW, hog.WINDOW), interpolation=cv2.INTER_AREA)
    grid, bias = _model()
    blocks = hog.block_grid(np.stack([small, np.fliplr(small)]))
    right, left = (float(hog.score_map(b, grid, bias)[0, 0]) for b in blocks)
    return right, left


def _scan(work: np.ndarray, window: float) -> tuple[np.ndarray, np.ndarray, float, int]:
    """Score maps (as-is, mirrored) of all windows of side ``window`` work px, on a grid of
    ``window / 8``; returns them with the resize factor used."""
    grid, bias = _model()
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


def _scans(work: np.ndarray, windows: list[float]) -> list[tuple]:
    """``_scan`` of each window size, ``SCAN_THREADS`` at a time (NumPy and OpenCV release the
    GIL for the heavy parts). The smallest windows cost the most, so they start first."""
    if SCAN_THREADS < 2 or len(windows) < 2:
        return [_scan(work, window) for window in windows]
    order = sorted(range(len(windows)), key=lambda k: windows[k])
    done = dict(zip(order, _scan_pool().map(lambda k: _scan(work, windows[k]), order)))
    return [done[k] for k in range(len(windows))]


def _peaks(work: np.ndarray, scales) -> list[_Peak]:
    """The best window of each detector at each scale, in work pixels."""
    out = []
    short = min(work.shape)
    windows = [frac * short for frac in scales]
    for window, (right, left, f, shift) in zip(windows, _scans(work, windows)):
        if right.size == 0:
            continue
        step = hog.CELL / f
        centres = (np.arange(right.shape[1]) * hog.CELL + hog.WINDOW / 2) / f
        for m, mirrored, off in ((right, False, 0), (left, True, shift)):
            # Best window per image half (by its centre), for bilateral films.
            for half in (centres + off / f < work.shape[1] / 2,
                         centres + off / f >= work.shape[1] / 2):
                if not half.any():
                    continue
                masked = np.where(half[None, :], m, -np.inf)
                i, j = np.unravel_index(int(np.argmax(masked)), m.shape)
                fi, fj = _refine(masked, i, j)
                cx = (fj * hog.CELL + off) / f + window / 2
                cy = fi * step + window / 2
                out.append(_Peak(cx, cy, window, float(m[i, j]), mirrored))
    return out


def _whole_score(work: np.ndarray) -> tuple[float, bool]:
    """Best SVM score of the whole image as one window, and whether mirrored won."""
    right, left = _patch_scores(work)
    return (left, True) if left > right else (right, False)


def _is_joint_crop(work: np.ndarray) -> tuple[bool, float, bool]:
    h, w = work.shape
    if max(h, w) / min(h, w) > _CROP_ASPECT:
        return False, float("-inf"), False
    score, mirrored = _whole_score(work)
    return score >= CROP_SCORE_MIN, score, mirrored


def pad_to_square(pixels: np.ndarray, border: int = cv2.BORDER_CONSTANT) -> np.ndarray:
    """The image centred on a square of its longer side, filled by ``border`` (constant: black).

    How the pipeline frames a single-joint crop of another shape (``KneeRegion.squared``); the
    training augmentation and the measuring scripts frame theirs with this same function."""
    h, w = pixels.shape[:2]
    n = max(h, w)
    top, left = (n - h) // 2, (n - w) // 2
    return cv2.copyMakeBorder(pixels, top, n - h - top, left, n - w - left, border, value=0)


def _crop_region(w: int, h: int, score: float, laterality: str | None) -> KneeRegion:
    """A single-joint crop as one region: the whole image when square, else the centred square
    of its longer side (``squared``: whoever cuts it fills the rest with black)."""
    side = side_from_laterality(laterality)
    if w == h:
        return KneeRegion(0, 0, w, h, side, score, True)
    n = max(w, h)
    return KneeRegion(-((n - w) // 2), -((n - h) // 2), n, n, side, score, False, squared=True)


def _best(peaks: list[_Peak]) -> _Peak | None:
    """The highest peak, its size refined by a parabola over its neighbouring scales."""
    if not peaks:
        return None
    top = max(peaks, key=lambda p: p.score)
    same = sorted((p for p in peaks if p.mirrored == top.mirrored
                   and abs(p.cx - top.cx) < top.size), key=lambda p: p.size)
    k = same.index(top)
    if 0 < k < len(same) - 1:
        a, b, c = same[k - 1].score, top.score, same[k + 1].score
        d = a - 2 * b + c
        if d < 0:
            t = float(np.clip(0.5 * (a - c) / d, -0.5, 0.5))
            ratio = same[k + 1].size / top.size if t > 0 else top.size / same[k - 1].size
            top = _Peak(top.cx, top.cy, top.size * ratio ** t, top.score, top.mirrored)
    return top


def _region(peak: _Peak, scale: float, side: str | None) -> KneeRegion:
    ox, oy = _CENTRE_OFFSET
    cx = peak.cx + (-ox if peak.mirrored else ox) * peak.size
    cy = peak.cy + oy * peak.size
    side_px = FRAME * peak.size / scale
    cx, cy = cx / scale, cy / scale
    s = int(round(side_px))
    return KneeRegion(int(round(cx - s / 2)), int(round(cy - s / 2)), s, s, side, peak.score,
                      False)


def side_from_laterality(laterality: str | None) -> str | None:
    """DICOM (Image)Laterality "R"/"L" as the patient's "right"/"left"; None otherwise."""
    code = (laterality or "").strip().upper()[:1]
    return {"R": "right", "L": "left"}.get(code)


class _Candidates(NamedTuple):
    peaks: list[_Peak]
    pair: tuple[_Peak, _Peak] | None  # the best bilateral right/left pair
    best: _Peak | None  # the best window, its size refined
    squared: float  # the image squared, scored as one crop; -inf unless oblong


def _candidates(work: np.ndarray, scales, oblong: bool) -> _Candidates:
    """What ``find_knees`` decides between for an image that is not a square joint crop (the
    measuring script and the tests look at the same figures)."""
    peaks = _peaks(work, scales)
    ww = work.shape[1]
    # An oblong image may be a crop of another shape (e.g. 300×162): squared, it is one more
    # window at the scale of a crop. Squared on black a narrow band scores as the crop it is;
    # with its border repeated, a wide one or a loosely framed film more often does: the better
    # of the two counts.
    squared = (max(_whole_score(pad_to_square(work, b))[0] for b in (cv2.BORDER_REPLICATE, cv2.BORDER_CONSTANT))
               if oblong else float("-inf"))
    pair = _bilateral_pair([p for p in peaks if not p.mirrored and p.cx < ww / 2],
                           [p for p in peaks if p.mirrored and p.cx >= ww / 2])
    return _Candidates(peaks, pair, _best(peaks), squared)


def find_knees(pixels: np.ndarray, pixel_spacing_mm: float | None = None,
               laterality: str | None = None) -> list[KneeRegion]:
    """The knee joints on a gray radiograph, left to right in the image.

    ``pixels``: 2-D uint8/uint16 (or any real type). ``pixel_spacing_mm``: the detector's
    pixel spacing when known (DICOM), which narrows the window sizes searched.
    ``laterality``: DICOM (Image)Laterality, "R"/"L", for a single knee.
    Returns one region for a single-joint crop (``whole_image`` when square, else the centred
    square of its longer side), one region per knee found on a film (two on a bilateral PA
    film: image-left = patient's right), or [] when nothing scores as a knee
    (``KNEE_SCORE_MIN``)."""
    pixels = np.asarray(pixels)
    if pixels.ndim != 2 or min(pixels.shape) < _MIN_SIDE or not np.isfinite(pixels).all():
        return []
    if pixels.max() == pixels.min():
        return []
    h, w = pixels.shape
    work, scale = _work_image(pixels)
    crop, score, _ = _is_joint_crop(work)
    if crop:
        return [_crop_region(w, h, score, laterality)]
    oblong = max(h, w) / min(h, w) > _CROP_ASPECT
    peaks, pair, best, squared = _candidates(work, _scales(work, scale, pixel_spacing_mm), oblong)
    # Bilateral: a right knee in the image's left half and a left knee in its right half, of
    # about the same size and height, each scoring better than the whole image as one crop
    # (the two halves of one joint in a band score as weak knees; a bilateral film, squared,
    # scores as no crop at all).
    if pair is not None and min(pair[0].score, pair[1].score) > squared:
        right, left = pair
        return [_region(right, scale, "right"), _region(left, scale, "left")]
    # The squared crop must about match every window found inside (a knee on a larger film
    # beats it by far; a part of the joint inside a band sometimes scores a little better).
    if squared >= CROP_SCORE_MIN and (best is None or squared >= best.score - CROP_MARGIN):
        return [_crop_region(w, h, squared, laterality)]
    if best is None or best.score < KNEE_SCORE_MIN:
        return []
    side = side_from_laterality(laterality)
    if side is None and abs(_margin(peaks, best)) >= SIDE_MARGIN:
        side = "left" if best.mirrored else "right"
    return [_region(best, scale, side)]


def _paired(right: _Peak, left: _Peak) -> bool:
    """Two knees of one film: about the same size and height, side by side."""
    big = max(right.size, left.size)
    return (min(right.score, left.score) >= BILATERAL_SCORE_MIN
            and big / min(right.size, left.size) < 1.3
            and abs(right.cy - left.cy) < 0.35 * big
            and left.cx - right.cx > 0.8 * big)


def _bilateral_pair(rights: list[_Peak], lefts: list[_Peak]) -> tuple[_Peak, _Peak] | None:
    """The best right/left pair that fits together, or None.

    Each side's best peak alone is not enough: a small false window can outscore the true knee
    on one side and break the pair, so the other side's best is matched with the best peak of
    compatible size and height, both ways round, and the pair with the higher weaker score wins.
    """
    candidates = []
    for anchor, others, anchor_is_right in ((_best(rights), lefts, True), (_best(lefts), rights, False)):
        if anchor is None:
            continue
        match = _best([p for p in others if (_paired(anchor, p) if anchor_is_right else _paired(p, anchor))])
        if match is None:
            continue
        pair = (anchor, match) if anchor_is_right else (match, anchor)
        if _paired(*pair):  # the refined sizes must still fit
            candidates.append(pair)
    return max(candidates, key=lambda pr: min(pr[0].score, pr[1].score), default=None)


def _margin(peaks: list[_Peak], best: _Peak) -> float:
    """How much better the winning detector (as-is / mirrored) scored than the other."""
    other = [p.score for p in peaks if p.mirrored != best.mirrored]
    return best.score - max(other) if other else 0.0


def _scales(work: np.ndarray, scale: float, spacing: float | None) -> tuple[float, ...]:
    """Window sides to search, as fractions of the work image's shorter side."""
    if not spacing or spacing <= 0:
        return _SCALES
    short_mm = min(work.shape) / scale * spacing
    lo, hi = _JOINT_WINDOW_MM
    picked = tuple(f for f in _SCALES if lo <= f * short_mm <= hi)
    return picked or _SCALES
