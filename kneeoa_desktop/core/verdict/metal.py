"""Metal on a radiograph: the plateaus of a joint replacement, and calibration spheres, which are not.

A replaced joint shows as a flat plateau at the top of the gray range, bounded by a sharp drop to
the bone around it. A calibration sphere (a 25-mm radiopaque ball on a short stem, beside the knee
on standing films) is a plateau too, but round and beside the joint: a fact about the film (its
scale), never a reason to refuse the knee. Everything here works on the scope check's working
copy of a region (``scope._working_copy``: at most 256 px, its robust gray range on [0, 1]).
"""

from __future__ import annotations

import cv2
import numpy as np

# The constants were chosen on the 826 validation crops (none may reach them)
# and the 29 implant films of shared/data/out-of-scope (most must); scripts/measure_sites.py
# prints the metal notes per simulated site and on the implant films, tests/test_scope.py holds them.
TOP_BAND = 0.10  # metal candidates: within 10 % of the robust maximum of the gray range
METAL_DROP = 0.20  # median fall in brightness from just inside to just outside a plateau
METAL_RING_DARK = 0.40  # share of the plateau's surroundings that is clearly darker than it
METAL_MIN_COMPONENT = 0.002  # a plateau smaller than this share of the region is a label or noise
METAL_MIN_FRACTION = 0.006  # metal plateaus covering at least this share of the region: an implant
METAL_MAX_COMPONENT = 0.5  # one plateau over half the region is a bright background (a page), not metal
# At least one plateau must cover this share: sharpened or equalised bone edges of other sites'
# films make several small plateaus (0.2–0.9 % each) that added up to an implant. Chosen by an
# ad-hoc check of whole films (every third val crop through the 11 site transforms of
# training/sites.py: 1.4 % of the equalised ones and 1.4 % of the high-contrast ones reached the
# old rule, none reach this one; 20 of the 29 implant films still do, 21 before).
METAL_MIN_PLATEAU = 0.010
#: A round plateau is a calibration sphere (a fact, not an implant) when its centre lies at least
#: this share of the width from the middle of the region or its context (beside the joint) and it
#: is at most ``SPHERE_MAX`` of the width across (a 25-mm sphere is about a third of a knee).
SPHERE_BESIDE = 0.3
SPHERE_MAX = 0.45


def metal_share(plateaus: list[dict], inner_only: bool = False) -> tuple[float, int]:
    """The share of a region that ``plateaus`` (its ``metal_plateaus``) cover as metal, and their
    number.

    A plateau is a connected area in the top band of the gray range; it counts as metal when the
    brightness falls steeply just outside it, nearly all the way round, and the share is 0 unless
    one plateau covers ``METAL_MIN_PLATEAU`` of the region. Bright bone fades into
    its surroundings; overexposed bone saturates, but over a soft edge; metal stands out from the
    bone it sits in like a cut-out. A round plateau (a calibration sphere, with or without its
    stem) is not an implant. ``inner_only``: leave out the plateaus cut by the region's edge (the
    caller judges them whole, on the film around it).
    """
    covered, count, largest = 0.0, 0, 0.0
    for plateau in plateaus:
        if plateau["sphere"] or (inner_only and plateau["cut"]):
            continue
        covered += plateau["share"]
        count += 1
        largest = max(largest, plateau["share"])
    if largest < METAL_MIN_PLATEAU:  # only small plateaus: bright bone edges, not a component
        return 0.0, count
    return float(covered), count


def sphere_px(plateaus: list[dict], scale: float) -> float | None:
    """The diameter, in the source's pixels, of the largest calibration sphere among ``plateaus``
    (``scale``: working-copy pixels per source pixel), or None when there is none."""
    spheres = [q["diameter"] for q in plateaus if q["sphere"]]
    return round(max(spheres) / scale, 1) if spheres else None


def metal_plateaus(x: np.ndarray) -> list[dict]:
    """Every metal-like plateau of the (working-copy) region: its share of the region, and whether
    it is a calibration sphere (``sphere``: round, with its diameter in working-copy pixels)."""
    candidates = (x >= 1.0 - TOP_BAND).astype(np.uint8)
    candidates = cv2.morphologyEx(candidates, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(candidates, connectivity=8)
    h, w = x.shape
    found = []
    for i in range(1, n):
        area = stats[i, cv2.CC_STAT_AREA]
        if area < METAL_MIN_COMPONENT * x.size or area > METAL_MAX_COMPONENT * x.size:
            continue
        left, top, bw, bh = (stats[i, c] for c in (cv2.CC_STAT_LEFT, cv2.CC_STAT_TOP,
                                                   cv2.CC_STAT_WIDTH, cv2.CC_STAT_HEIGHT))
        touches = left == 0 or top == 0 or left + bw == w or top + bh == h
        if touches and area >= 0.9 * bw * bh:  # a white film margin or label: a filled rectangle
            continue
        # Only the component's box and the 3 px that the 7×7 dilation reaches matter: cutting
        # it out gives the same rings as the whole image at a fraction of the cost.
        y0, y1 = max(0, top - 3), min(h, top + bh + 3)
        x0, x1 = max(0, left - 3), min(w, left + bw + 3)
        comp = (labels[y0:y1, x0:x1] == i).astype(np.uint8)
        patch = x[y0:y1, x0:x1]
        outer = cv2.dilate(comp, np.ones((7, 7), np.uint8)) - cv2.dilate(comp, np.ones((5, 5), np.uint8))
        inner = comp - cv2.erode(comp, np.ones((3, 3), np.uint8))
        if not outer.any() or not inner.any():
            continue
        ring = patch[outer > 0]
        drop = float(np.median(patch[inner > 0]) - np.median(ring))
        dark = float((ring < 1.0 - TOP_BAND - 0.15).mean())
        if drop >= METAL_DROP and dark >= METAL_RING_DARK:
            border = (x0 == 0, y0 == 0, x1 == w, y1 == h)  # the patch's sides that are the region's
            diameter = sphere_diameter(comp, border)
            # A sphere lies beside the joint, which the region (and its context) is centred on;
            # a round component in the joint (a hinge's femoral cap seen from the side) is metal.
            beside = abs(left + bw / 2.0 - w / 2.0) >= SPHERE_BESIDE * w
            sphere = diameter is not None and beside and diameter <= SPHERE_MAX * w
            found.append({"share": area / x.size, "sphere": sphere, "diameter": diameter, "cut": bool(touches)})
    return found


def sphere_diameter(mask: np.ndarray, border: tuple[bool, bool, bool, bool] = (False,) * 4) -> float | None:
    """The diameter of a plateau that is a disc (a calibration sphere, its thin stem aside), or None.

    The stem is opened away with a disc a quarter of the plateau's own width; what remains must
    lie on a circle (least-squares fit; the points on the region's edge left out, where the
    region cuts the sphere) and fill it. An implant's components — a femoral cap, a tibial tray
    on its stem, a plate — are nothing like a disc. ``border``: (left, top, right, bottom) sides
    of ``mask`` that are the region's own edge."""
    area = float(mask.sum())
    width = 2.0 * np.sqrt(area / np.pi)
    k = max(3, int(width / 4) | 1)
    core = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    contours, _ = cv2.findContours(core, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if not contours:
        return None
    pts = max(contours, key=cv2.contourArea)[:, 0, :].astype(np.float64)
    hh, ww = mask.shape
    keep = np.ones(len(pts), bool)
    for cut, on_edge in zip(border, (pts[:, 0] <= 0, pts[:, 1] <= 0, pts[:, 0] >= ww - 1, pts[:, 1] >= hh - 1)):
        if cut:
            keep &= ~on_edge
    pts = pts[keep]
    if len(pts) < 16:
        return None
    # Kåsa's circle fit: x² + y² = a x + b y + c.
    design = np.column_stack([pts[:, 0], pts[:, 1], np.ones(len(pts))])
    (a, b, c), *_ = np.linalg.lstsq(design, (pts ** 2).sum(axis=1), rcond=None)
    cx, cy = a / 2, b / 2
    radius = float(np.sqrt(max(c + cx * cx + cy * cy, 0.0)))
    if radius < 3:
        return None
    spread = np.hypot(pts[:, 0] - cx, pts[:, 1] - cy) - radius
    if float(np.sqrt(np.mean(spread ** 2))) > 0.08 * radius:
        return None
    circle = np.zeros_like(core)
    cv2.circle(circle, (int(round(cx)), int(round(cy))), int(round(radius)), 1, -1)
    inside = float((circle & core).sum())
    if inside < 0.85 * float(circle.sum()) or inside < 0.85 * float(core.sum()):
        return None
    if inside < 0.3 * np.pi * radius * radius:  # a straight edge fits a huge circle: not a disc
        return None
    return 2.0 * radius
