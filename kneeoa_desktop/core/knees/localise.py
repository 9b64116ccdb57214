"""Find the knee joints on a radiograph and frame each one as the network's input.

Method: KneeLocalizer's detector (Tiulpin et al., SCIA 2017) — a linear SVM on OpenCV's HOG of
a 64×64 window (``hog``), weights shipped in ``resources/kneeloc/`` with their MIT licence.
The SVM sees every knee as a right knee, so each window is scored twice: as it is (a right
knee: on a PA film, on the image's left) and mirrored (a left knee).

The search is ours and always looks (no shortcut on the image's shape). The image is reduced
once and contrast-stretched between its 5th and 99th percentiles (as the SVM was trained); then
the candidates are scored:
- the whole image as one crop, resized to the SVM's square window whatever its shape (a film
  resized without keeping the aspect ratio gets its proportions back);
- the two halves of the image as a pair of crops (two knees side by side on a wide image);
- windows on the 8-px grid at a ladder of sizes (``hog.block_grid`` + ``hog.score_map`` score
  them all at once), on the image as it is and stretched vertically by each of ``ANISOTROPIES``
  (a knee squashed by up to 2×, or stretched), so that a window is a rectangle on the film; on a
  portrait film (``PORTRAIT_ASPECT``) also windows wider than the film (a leg that fills it across)
  and smaller ones (both legs hip to ankle, each knee a fifth of the width), several per half at
  each size at different heights.
The best peak is refined to sub-grid precision (a parabola through its neighbours).

Decisions (measured by ``scripts/measure_sites.py`` and ``scripts/measure_localiser.py``):
- two knees when a right/left pair (scanned, or the two halves) scores as knees and its weaker
  knee beats the whole image as one crop; a scanned pair that lies inside the best window, which
  outscores it, is one knee's condyles (or its tibia and fibula), not two knees;
- else the whole image is one crop when it scores as a crop (``CROP_SCORE_MIN``) and at most
  ``CROP_MARGIN`` below the best window inside it (a part of the joint sometimes scores a little
  better; a knee on a film two or three times its size, by far);
- an image with wide flat margins (a crop pasted on a canvas) is judged on its content box: the
  box is the "whole image", and no window is kept whose centre lies near a flat margin;
- else the best window, when it scores as a knee (``KNEE_SCORE_MIN``); else ``[]`` (the caller
  grades the whole image and its scope check judges it).
- ``knee_candidates`` returns that decision first, then the other sets weighed (the best window,
  the best pair, the same joint's window a rung smaller, the whole image and a wide image's
  halves), for the network's knee head to choose between when it doubts the decision
  (``pipeline``, ``scope.most_knee_like``). On a film at least ``PORTRAIT_ASPECT`` times as tall
  as wide (a leg with its shafts, or both legs hip to ankle) also the best right/left pair at
  each other height (the knees, when the scan preferred the ankles or the hips), and not the
  whole film once anything else was found; nor on an image at least ``PAIRS_ASPECT`` times as
  wide as tall once a pair was proposed. On any film, the best window's and each half's best
  knee window's pair with its mate (``knee_pairs.mate``: the other knee at its height, however
  little it looks like a knee to the detector: a replaced knee beside a native one).
- Regions are rectangles of ``FRAME`` × the SVM window, which frames the joint like kneeKL224;
  the pipeline resizes each to the network's square input (``core.knees.framing``), never pads it
  with black. They are reported as found, in source pixels, and may extend past the image
  border; whoever cuts them repeats the border pixels there (shifting them inside would move
  the joint off-centre, which the model was not trained on).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import cv2
import numpy as np

from .knee_pairs import BILATERAL_SCORE_MIN, best_pair, mate, one_knee, pairs_at_other_heights
from .knee_scan import WORK_SIDE, Peak
from .knee_scan import best as best_peak
from .knee_scan import patch_scores
from .knee_scan import peaks as scan_peaks
from .knee_scan import stretch

#: A window scoring below this is not taken for a knee joint (SVM margin; see the module notes).
KNEE_SCORE_MIN = 0.0
#: Region side ÷ SVM window side: makes a found joint fill the region as in kneeKL224.
FRAME = 0.85
#: Window sides searched, as fractions of the image's shorter side (ratio 2^(1/4) apart, 0.88 … 0.26:
#: a knee window is rarely smaller than a quarter of the short side; smaller ones cost the most).
_SCALES = tuple(0.88 / 2 ** (k / 4) for k in range(8))
#: Vertical stretches under which the image is also searched (a knee on a film resized without
#: keeping the aspect ratio: squashed by up to 2×, or stretched), with the window sizes searched
#: at each (a squashed knee fills much of its film: the larger windows only).
ANISOTROPIES = {1.0: _SCALES, 1.4: _SCALES[:5], 2.0: _SCALES[:5], 0.7: _SCALES[:5]}
#: On a portrait film this much taller than wide (a leg with its shafts: the knee often fills the
#: film across), windows wider than the film are searched too, continuing the ladder upwards
#: (1.05 and 1.24 × the width; the film's edges repeated past its border, as ``framing`` cuts
#: them). Not on a 14×17-inch cassette (1.2) nor on a crop stored stretched (kneeKL224 at
#: 200×300: 1.5), whose knee fits inside; a standing film of both legs is wider than this.
PORTRAIT_ASPECT = 1.8
_WIDER_SCALES = (0.88 * 2 ** 0.25, 0.88 * 2 ** 0.5)
#: On such a film, smaller windows too (0.22 and 0.185 × the width), up to ``_LEVELS`` windows per
#: half at each size at different heights, and as many right/left pairs: a standing hip-to-ankle
#: film of both legs holds each knee's window in a quarter of its width or less, with the hips
#: above and the ankles below (issue 33: knees missed, a pair taken on the ankles or the hips;
#: ``training/long_leg.py``).
_SMALLER_SCALES = (0.88 / 2 ** 2, 0.88 / 2 ** 2.25)
#: An image at least this much wider than tall may hold two knees side by side (640×161: 4.0);
#: a single knee's film, however squashed, hardly (300×162: 1.85). There, as on a tall film, the
#: whole image is no knee's region once a pair is proposed: squashed into one square, two knees
#: side by side were one knee to the knee head (and graded so, in scope).
PAIRS_ASPECT = 2.5
_LEVELS = 4
_MIN_SIDE = 32
#: The whole image scoring this much is a single-joint crop (kneeKL224/val: 0.36 % below −0.3).
CROP_SCORE_MIN = -0.3
#: The whole image is a crop unless a window inside it scores this much better. Chosen on 150
#: kneeKL224/train crops through the simulated sites (training/sites.py): with the search always
#: on, a part of the joint inside a crop often scores a little better, and at 0.3 (the margin of
#: the aspect-gated search before) 7 % of them as they are, 13 % sharpened at 300×162, were cut to
#: such a part; at 1.0, 1 % and 6 %. A knee on a film 3 × 2 its size still beats the whole image by
#: 2.0 or more (all found); one on a film 2.2 × 1.5 its size is taken whole 22 % of the time
#: (3 % at 0.3), graded then with its surroundings (scripts/measure_localiser.py, section 5).
CROP_MARGIN = 1.0
#: The as-is and mirrored detectors must differ by this much on a whole crop to name its side,
#: and by ``WINDOW_SIDE_MARGIN`` on both the region and the window of a knee found on a film
#: (its reading is weaker there: shafts, soft tissue, a canvas's edge). Chosen on every 30th
#: kneeKL224/train crop (193) as it is, mirrored, on a canvas, squashed, on a larger film and
#: on a leg film: wrong sides 0, 0, 0, 0, 1, 0 at these margins; 0, 0, 0, 0, 2, 2 with 0.3 for
#: windows too (``scripts/measure_sides.py --split train --step 30``).
SIDE_MARGIN = 0.3
WINDOW_SIDE_MARGIN = 0.45
#: The halves of an image are scored as a pair of crops only when it is this much wider than tall.
_HALVES_ASPECT = 1.2
#: A margin row or column whose gray range is under this share of the image's is flat (a canvas).
_FLAT_MARGIN = 0.02
#: Flat margins are cut off only when what remains is at most this share of the image.
_CONTENT_MIN_SHARE = 0.7
#: Plausible SVM window sides in millimetres, used when the pixel spacing is known.
_JOINT_WINDOW_MM = (90.0, 260.0)


@dataclass(frozen=True)
class KneeRegion:
    """One knee joint, as a rectangle in the source image's pixels.

    The rectangle may extend past the image border (see the module notes); it is resized to the
    network's square input as it is. ``side`` is the patient's side ("right" is on the image's
    left on a PA film) or None when unknown. ``whole_image``: the whole image is the region."""

    x: int
    y: int
    width: int
    height: int
    side: str | None
    score: float
    whole_image: bool

    @property
    def centre(self) -> tuple[float, float]:
        return (self.x + self.width / 2.0, self.y + self.height / 2.0)


def _work_and_box(pixels: np.ndarray) -> tuple[np.ndarray, float, tuple[int, int, int, int]]:
    """Reduced, stretched copy, its scale (work px per source px) and its content box (work px,
    found before the stretch, whose clipping would make bright or dark rows look flat)."""
    h, w = pixels.shape
    scale = min(1.0, WORK_SIDE / max(h, w))
    src = pixels
    if scale < 1.0:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        # Resized in its own 8/16-bit type: converting a film of megapixels to float first
        # cost more than the whole search. The percentiles are then taken on the small copy.
        if src.dtype not in (np.uint8, np.uint16, np.float32):
            src = src.astype(np.float32)
        src = cv2.resize(src, size, interpolation=cv2.INTER_AREA)
    return stretch(src), scale, content_box(src)


def _region(peak: Peak, scale: float, side: str | None) -> KneeRegion:
    """The region of a window found on the work image."""
    w, h = FRAME * peak.size / scale, FRAME * peak.height / scale
    cx, cy = peak.cx / scale, peak.cy / scale
    w, h = int(round(w)), int(round(h))
    return KneeRegion(int(round(cx - w / 2)), int(round(cy - h / 2)), w, h, side, peak.score, False)


def _pair_regions(pair: tuple[Peak, Peak], scale: float) -> list[KneeRegion]:
    """The regions of a scanned right/left pair: the patient's right knee, then the left."""
    return [_region(pair[0], scale, "right"), _region(pair[1], scale, "left")]


def is_tall(height: int, width: int) -> bool:
    """A film at least ``PORTRAIT_ASPECT`` times as tall as wide: a leg with its shafts, or both
    legs hip to ankle (searched with wider and smaller windows, several per half at each size)."""
    return height >= PORTRAIT_ASPECT * width


def side_from_laterality(laterality: str | None) -> str | None:
    """DICOM (Image)Laterality "R"/"L" as the patient's "right"/"left"; None otherwise."""
    code = (laterality or "").strip().upper()[:1]
    return {"R": "right", "L": "left"}.get(code)


def content_box(pixels: np.ndarray) -> tuple[int, int, int, int]:
    """(x, y, width, height) of the image without its flat margins: rows and columns at either
    edge whose gray range is under ``_FLAT_MARGIN`` of the image's (a canvas the film was pasted
    on, a blacked-out border). The whole image when it has none."""
    x = np.asarray(pixels)
    everything = (0, 0, x.shape[1], x.shape[0])
    spread = float(x.max()) - float(x.min())
    if spread <= 0:
        return everything
    flat = _FLAT_MARGIN * spread
    rows = np.flatnonzero((x.max(axis=1).astype(np.float64) - x.min(axis=1)) > flat)
    cols = np.flatnonzero((x.max(axis=0).astype(np.float64) - x.min(axis=0)) > flat)
    if not len(rows) or not len(cols):
        return everything
    box = (int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1))
    # A thin flat strip (a crop cut at the edge of its film, padded as kneeKL224's are) stays:
    # the network was trained on such crops as they are.
    if box[2] * box[3] > _CONTENT_MIN_SHARE * x.shape[0] * x.shape[1]:
        return everything
    return box


class _Candidates(NamedTuple):
    peaks: list[Peak]
    pair: tuple[Peak, Peak] | None  # the best scanned bilateral right/left pair
    best: Peak | None  # the best window, its size refined
    whole: float  # the image (its content box) as one crop (best of as-is and mirrored)
    whole_side: float  # the content box's as-is score minus its mirrored score (> 0: a right knee)
    halves: float  # the weaker of the two halves as a right/left pair of crops; -inf if not wide
    levels: list  # on a portrait film, the best pair at each other height (hips, ankles, knees)
    mates: list  # the best window's and each half's best knee window's pair with its mate


def _candidates(work: np.ndarray, anisotropies, box: tuple[int, int, int, int] | None = None) -> _Candidates:
    """What ``find_knees`` decides between (the measuring scripts and the tests look at the
    same figures). ``box``: the content box (work px); the whole image and its halves are those
    of the box, while windows are scanned on the whole image (a knee's window may reach over a
    flat margin) but not kept when centred near one (see ``_clear_of_margins``)."""
    h, ww = work.shape
    bx, by, bw, bh = box or (0, 0, ww, h)
    tall = is_tall(h, ww)
    maps: list = []
    peaks = [p for p in scan_peaks(work, anisotropies, _LEVELS if tall else 1, maps)
             if _clear_of_margins(p, (bx, by, bw, bh), work.shape)]
    content = work[by:by + bh, bx:bx + bw]
    patches = [content]
    wide = bw >= _HALVES_ASPECT * bh and bw >= _MIN_SIDE
    if wide:
        patches += [content[:, :bw // 2], content[:, bw // 2:]]
    scores = patch_scores(patches)
    whole = max(scores[0])
    # The patient's right knee on the image's left reads as it is, the left knee mirrored.
    halves = min(scores[1][0], scores[2][1]) if wide else float("-inf")
    pair = best_pair(peaks, ww)
    # A portrait film's smaller windows are for the knees of both legs, each a fifth of its width,
    # in pairs: one knee alone fills a leg's film across, and a small window alone there found
    # a marker or an arrow beside the knee (a teaching film) as readily as a knee.
    smallest_usual = 0.99 * _SCALES[-1] * min(h, ww)
    is_small = [tall and p.aspect == 1.0 and p.size < smallest_usual for p in peaks]
    small = [p for p, s in zip(peaks, is_small) if s]
    usual = [p for p, s in zip(peaks, is_small) if not s]
    best = best_peak(usual)
    levels = pairs_at_other_heights(peaks, pair, best, ww, _LEVELS) if tall and pair is not None else []
    # The mates of the best window and of each half's best knee window: the other knee at its
    # height on a film of both knees, however little it looks like a knee to the detector (a
    # replaced one, whose metal the detector may even prefer), for the head to judge.
    # On a tall film, each half's best small window too (a knee a sixth of the width, whose mate
    # scores too little for the scan to pair them).
    anchors = [best] + [best_peak([p for p in group if p.mirrored == left and (p.cx >= ww / 2) == left])
                        for group in (usual, small) for left in (False, True)]
    mates: list = []
    for anchor in dict.fromkeys(a for a in anchors if a is not None):
        other = mate(maps, anchor, ww)
        found = None if other is None else (anchor, other) if anchor.cx < other.cx else (other, anchor)
        # A pair the scan (or another anchor) proposed already costs the network nothing more.
        if found is not None and not any(_same_pair(found, known) for known in [pair, *levels, *mates] if known):
            mates.append(found)
    return _Candidates(peaks, pair, best, whole, scores[0][0] - scores[0][1], halves, levels, mates)


def _same_pair(a: tuple[Peak, Peak], b: tuple[Peak, Peak]) -> bool:
    """Whether two right/left pairs are the same knees: each window centred within a quarter of
    the other's size and height."""
    return all(abs(p.cx - q.cx) <= q.size / 4 and abs(p.cy - q.cy) <= q.height / 4 for p, q in zip(a, b))


def _clear_of_margins(peak: Peak, box: tuple[int, int, int, int], shape: tuple[int, int]) -> bool:
    """Whether a window's centre lies at least a quarter of the window inside every flat margin
    of the image (a box edge that is not the image's own edge): the corners of a crop pasted on a
    black canvas read as knees to HOG, a joint is never centred there."""
    bx, by, bw, bh = box
    h, w = shape
    qx, qy = peak.size / 4, peak.height / 4
    return ((bx == 0 or peak.cx >= bx + qx) and (bx + bw >= w or peak.cx <= bx + bw - qx)
            and (by == 0 or peak.cy >= by + qy) and (by + bh >= h or peak.cy <= by + bh - qy))


def find_knees(pixels: np.ndarray, pixel_spacing_mm: float | None = None,
               laterality: str | None = None) -> list[KneeRegion]:
    """The scan's decision: the knee joints on a gray radiograph, left to right in the image (see
    ``knee_candidates`` for the sets it decided between)."""
    sets = knee_candidates(pixels, pixel_spacing_mm, laterality)
    return sets[0] if sets else []


def knee_candidates(pixels: np.ndarray, pixel_spacing_mm: float | None = None,
                    laterality: str | None = None) -> list[list[KneeRegion]]:
    """The sets of regions the scan proposes for a film, its own decision first, then the others
    it weighed: the best window and the best scanned right/left pair when they score as knees to
    it, and always the whole image (its content box) as one crop and, on a wide image, its two
    halves as two knees. The network's knee head then decides between them (``pipeline``,
    ``scope.most_knee_like``).

    ``pixels``: 2-D uint8/uint16 (or any real type). ``pixel_spacing_mm``: the detector's
    pixel spacing when known (DICOM), which narrows the window sizes searched.
    ``laterality``: DICOM (Image)Laterality, "R"/"L", for a single knee.
    The decision is one ``whole_image`` region for a single-joint crop of any shape, one region
    per knee found on a film (two on a bilateral PA film or two knees side by side: image-left =
    patient's right), or none when nothing scores as a knee (``KNEE_SCORE_MIN``): then no set."""
    pixels = np.asarray(pixels)
    if pixels.ndim != 2 or min(pixels.shape) < _MIN_SIDE or not np.isfinite(pixels).all():
        return []
    if pixels.max() == pixels.min():
        return []
    h, w = pixels.shape
    work, scale, box = _work_and_box(pixels)
    # The content box in source pixels (the whole image unless it has wide flat margins: a
    # canvas the film was pasted on).
    if box == (0, 0, work.shape[1], work.shape[0]):
        bx, by, bw, bh = 0, 0, w, h
    else:
        bx, by = int(box[0] / scale), int(box[1] / scale)
        bw = min(w, int(np.ceil((box[0] + box[2]) / scale))) - bx
        bh = min(h, int(np.ceil((box[1] + box[3]) / scale))) - by
    anisotropies = _anisotropies(work, scale, pixel_spacing_mm)
    peaks, pair, best, whole, whole_side, halves, levels, mates = _candidates(work, anisotropies, box)
    # Two knees: a right knee in the image's left half and a left knee in its right half, each
    # scoring better than the whole image as one crop (two knees side by side, or a bilateral
    # film, score as no single crop). Two scanned windows must each score as a knee on a film;
    # two halves each as a crop (CROP_SCORE_MIN: the halves of one crop score about −1.7, of
    # two knees side by side +0.7; scripts/measure_localiser.py).
    if pair is not None and best is not None and one_knee(best, pair):
        pair = None
    pair_score = min(pair[0].score, pair[1].score) if pair is not None else float("-inf")
    half = bw // 2
    halves_set = [KneeRegion(bx, by, half, bh, "right", halves, False),
                  KneeRegion(bx + half, by, bw - half, bh, "left", halves, False)]
    pair_set = _pair_regions(pair, scale) if pair is not None else []
    # A single knee's side: the DICOM header's when it has one, else what its own region reads
    # as (the detector sees a right knee as it is, a left knee mirrored).
    side = side_from_laterality(laterality)
    whole_set = [KneeRegion(bx, by, bw, bh, side or side_from_scores(whole_side, SIDE_MARGIN), whole,
                            (bw, bh) == (w, h))]
    # What scores as knees to the scan, in its order of preference: two knees when a right/left
    # pair (scanned, or the halves) beats the whole image as one crop; else the whole image when
    # it about matches every window found inside (a knee on a larger film beats it by far; a
    # part of the joint inside a crop sometimes scores a little better); else the best window.
    halves_ok = halves >= CROP_SCORE_MIN
    pair_ok = pair_score >= BILATERAL_SCORE_MIN
    whole_ok = whole >= CROP_SCORE_MIN
    window_ok = best is not None and best.score >= KNEE_SCORE_MIN
    # The window's side is read only when the window is proposed (two more SVM readings).
    window_set = ([_region(best, scale, side or side_from_scores(_window_side(work, best, box), WINDOW_SIDE_MARGIN))]
                  if window_ok else [])
    # The same joint a rung smaller: the scan's best window often takes in more of the leg than
    # the joint, which the knee head may doubt while the tighter window is plainly a knee.
    smaller = _smaller(peaks, best) if window_ok else None
    smaller_set = ([_region(smaller, scale, window_set[0].side)]
                   if smaller is not None and smaller.score >= KNEE_SCORE_MIN else [])
    two = [(halves, halves_set)] if halves_ok else []
    two += [(pair_score, pair_set)] if pair_ok else []
    two.sort(key=lambda t: -t[0])  # the halves first on a tie
    sets = []
    if two and two[0][0] > whole:
        sets.append(two[0][1])
    if whole_ok and (best is None or whole >= best.score - CROP_MARGIN):
        sets.append(whole_set)
    if window_ok:
        sets.append(window_set)
    if smaller_set:
        sets.append(smaller_set)
    # Then what the knee head may prefer: the pairs, and the whole image whatever the SVM made of
    # it (a joint that fills a sharpened, squashed film scores low to HOG, not to the network).
    sets += [s for _, s in two] + [whole_set]
    # On a film of whole legs, the pairs at the other joints' heights (the knees, when the scan
    # preferred the ankles or the hips).
    sets += [_pair_regions(other, scale) for other in levels]
    # Each knee window's mate at its height: a replaced knee beside a native one (``mate``).
    sets += [_pair_regions(other, scale) for other in mates]
    if bw >= _HALVES_ASPECT * bh and not halves_ok:
        sets.append(halves_set)
    unique = []
    for candidate in sets:
        if candidate not in unique:
            unique.append(candidate)
    if is_tall(h, w) and len(unique) > 1:
        # A film this much taller than wide is a leg with its shafts, or both legs hip to ankle:
        # the whole of it is no knee's region (squashed to the network's square, a standing film's
        # two knees side by side looked like one knee to the head), unless the scan found nothing.
        unique = [s for s in unique if s != whole_set] or unique
    if w >= PAIRS_ASPECT * h and any(len(s) == 2 for s in unique):
        unique = [s for s in unique if s != whole_set]
    return unique


def side_from_scores(as_is_minus_mirrored: float, margin: float) -> str | None:
    """The patient's side a knee's region reads as: "right" when the detector scores it better as
    it is than mirrored by ``margin``, "left" when mirrored scores better, else None.

    The side of a single knee is read on its own region only. The best window of the other
    detector anywhere on the film (a canvas corner, the other leg's soft tissue) says nothing
    about this knee: comparing with it named a right knee on a black canvas "left"."""
    if as_is_minus_mirrored >= margin:
        return "right"
    if as_is_minus_mirrored <= -margin:
        return "left"
    return None


def _window_side(work: np.ndarray, peak: Peak, box: tuple[int, int, int, int]) -> float:
    """The as-is minus the mirrored score of a found knee read on its own region and on its
    window (both cut to the content box: a window reaching over a canvas's flat margin would be
    read by the canvas's edges), or 0 when the two disagree (the weaker of the two otherwise).
    Either alone named the wrong side on 3–4 of 196 simulated val films (a knee on a larger
    film, on a canvas, on a leg film), both together on 1 at a margin of 0.3."""
    readings = []
    for frame in (FRAME, 1.0):
        bx, by, bw, bh = box
        half_w, half_h = frame * peak.size / 2, frame * peak.height / 2
        x0, y0 = max(bx, int(round(peak.cx - half_w))), max(by, int(round(peak.cy - half_h)))
        x1, y1 = min(bx + bw, int(round(peak.cx + half_w))), min(by + bh, int(round(peak.cy + half_h)))
        if x1 - x0 < _MIN_SIDE // 2 or y1 - y0 < _MIN_SIDE // 2:
            return 0.0
        as_is, mirrored = patch_scores([work[y0:y1, x0:x1]])[0]
        readings.append(as_is - mirrored)
    region, window = readings
    if region * window <= 0:
        return 0.0
    return min(region, window, key=abs)


def _smaller(peaks: list[Peak], best: Peak | None) -> Peak | None:
    """The best window one or two rungs of the size ladder below ``best`` (0.7–0.92 × its side),
    under the same stretch and centred within a quarter of its side: the same joint, tighter
    (the best of its half at that size, as the scan keeps one on any film but a tall one)."""
    if best is None:
        return None
    near = [p for p in peaks if p.level == 0 and p.aspect == best.aspect and 0.7 <= p.size / best.size <= 0.92
            and abs(p.cx - best.cx) <= best.size / 4 and abs(p.cy - best.cy) <= best.height / 4]
    return max(near, key=lambda p: p.score, default=None)


def _anisotropies(work: np.ndarray, scale: float, spacing: float | None) -> dict[float, tuple[float, ...]]:
    """Stretches and window sides to search (fractions of the stretched image's shorter side).
    A known pixel spacing narrows the sizes on the film as it is; stretched films have none
    (a film with a pixel spacing was not resized), so only the image as it is is searched."""
    h, w = work.shape
    tall = is_tall(h, w)
    ladder = (_WIDER_SCALES if tall else ()) + _SCALES + (_SMALLER_SCALES if tall else ())
    if not spacing or spacing <= 0:
        return {**ANISOTROPIES, 1.0: ladder}
    short_mm = min(work.shape) / scale * spacing
    lo, hi = _JOINT_WINDOW_MM
    picked = tuple(f for f in ladder if lo <= f * short_mm <= hi)
    return {1.0: picked or _SCALES}
