"""A standing hip-to-ankle film of both legs at true proportions, built around two kneeKL224 crops.

``sites.standing_film`` puts two knees at mid-height of a film only three crops wide and six
tall, their shafts the crops' own first and last rows continued. A real pre-operative long-leg
film (issue 33: ~1,800×4,300 px, a 25-mm calibration sphere, a ruler) is about 2.4 times as tall
as wide, and each knee's kneeKL224-like region (about 100 mm across: the bone is 80 mm) is only a
fifth to a quarter of its width: the hips are at its top, the ankles at its bottom, the femora
and tibiae are narrow shafts in soft tissue, and the fibula runs down to the ankle. On such a film
the knee windows are smaller than any the scan searched before, and the ankles' and hips' joints
are there to be mistaken for knees: "7 misplaced (on the ankles, or the whole film as one
region)". The anatomy is drawn (shafts with their cortex, femoral heads and necks, a pelvis, the
ankle mortise over the talus, the feet) at the crops' gray levels; only the knees are real.

A replaced knee on such a film (issue 33: "7 of the 8 replaced knees are flagged") is a real one:
``replaced_knee`` cuts the joint of an AP film of ``shared/data/out-of-scope/implants``
(``REPLACED_KNEES``: the joint's centre and a kneeKL224-like framing, read off each film by eye)
and marks its metal as denser than any bone, so that on the film its bone matches the other
knee's and its metal saturates, as on a real standing film.
"""

from __future__ import annotations

import cv2
import numpy as np

from .sites import METAL_OVER, _levelled, finish_standing

#: AP films of replaced knees in shared/data/out-of-scope/implants → (centre x / width, centre
#: y / height, side / width) of a square framed as kneeKL224 frames a joint: the joint line at
#: mid-height, the bone about three quarters of the width. Total and unicompartmental ones.
REPLACED_KNEES = {
    "Biomet AGC (Implant 3346).jpg": (0.39, 0.52, 0.62),
    "J _ J PFC Sigma (Implant 4233).jpg": (0.36, 0.585, 0.714),
    "J_J PFC or Osteonic Series 3000 (Implant 612).jpg": (0.45, 0.562, 0.682),
    "Knee Prostheses Bicompartmental Smith _ Nephew Deuce (Implant 804).jpg": (0.42, 0.5, 0.6),
    "Knee Prostheses Unicompartmental  Interpositional Stryker Triathlon (Implant 4243).jpg": (0.55, 0.595, 0.75),
    "Knee ProsthesisTotalUnidentified (Implant 160608AP).jpg": (0.5, 0.561, 0.95),
    "Smith _ Nephew Genesis II (Implant 10).jpg": (0.5, 0.577, 1.0),
    "Stryker Scorpio (Implant 412).jpg": (0.5, 0.541, 0.714),
    "Wright Medical Axiom (Implant 4274).jpg": (0.42, 0.478, 0.85),
    "Zimmer Natural (Implant 810).jpg": (0.48, 0.533, 0.65),
}


def replaced_knee(film: np.ndarray, box: tuple[float, float, float], n: int = 224) -> np.ndarray:
    """The joint of a real AP film of a replaced knee (uint8) framed by ``box`` (as in
    ``REPLACED_KNEES``) at ``n``×``n``, float: its metal (the components: a plateau at the top of
    the film's gray range, as the scope check sees one) lifted above ``METAL_OVER``."""
    cx, cy, side = box
    h, w = film.shape
    size = side * w
    x0, y0, pad = int(round(cx * w - size / 2)), int(round(cy * h - size / 2)), int(size)
    padded = cv2.copyMakeBorder(film, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    crop = cv2.resize(padded[y0 + pad:y0 + pad + int(size), x0 + pad:x0 + pad + int(size)], (n, n),
                      interpolation=cv2.INTER_AREA).astype(np.float32)
    lo, hi = np.percentile(crop, [1.0, 99.9])
    top = (crop >= hi - 0.12 * (hi - lo)).astype(np.uint8)
    top = cv2.morphologyEx(top, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(top, connectivity=8)
    metal = np.isin(labels, [i for i in range(1, count) if stats[i, cv2.CC_STAT_AREA] >= 0.002 * crop.size])
    crop[metal] += METAL_OVER + 40.0 - float(hi)
    return crop


def _line(layer: np.ndarray, a, b, width: float, value: float) -> None:
    cv2.line(layer, (int(a[0]), int(a[1])), (int(b[0]), int(b[1])), float(value), max(1, int(round(width))),
             cv2.LINE_AA)


def _ellipse(layer: np.ndarray, c, axes, value: float, angle: float = 0.0) -> None:
    cv2.ellipse(layer, (int(c[0]), int(c[1])), (max(1, int(axes[0])), max(1, int(axes[1]))), angle, 0, 360,
                float(value), -1, cv2.LINE_AA)


def _leg(soft: np.ndarray, bone: np.ndarray, knee, hip, ankle, n: int, lateral: int, levels) -> None:
    """One leg drawn into the soft-tissue and bone layers (max-combined gray values): ``knee``,
    ``hip`` and ``ankle`` are joint centres (x, y); ``lateral`` is +1 or −1 (the image side
    away from the midline); ``levels`` (soft tissue, bone, cortex) are the knee crop's."""
    t, b, c = levels
    kx, ky = knee
    # Soft tissue: the thigh (wide at the hip, narrower at the knee), the calf, the ankle, the foot.
    thigh = np.array([[hip[0] - 0.85 * n, hip[1] - 0.5 * n], [hip[0] + 0.85 * n, hip[1] - 0.5 * n],
                      [kx + 0.6 * n, ky], [kx - 0.6 * n, ky]], np.int32)
    calf = np.array([[kx - 0.6 * n, ky], [kx + 0.6 * n, ky], [kx + 0.55 * n, ky + 1.3 * n],
                     [ankle[0] + 0.32 * n, ankle[1]], [ankle[0] - 0.32 * n, ankle[1]],
                     [kx - 0.55 * n, ky + 1.3 * n]], np.int32)
    cv2.fillPoly(soft, [thigh, calf], float(t), cv2.LINE_AA)
    _ellipse(soft, (ankle[0], ankle[1] + 0.45 * n), (0.42 * n, 0.5 * n), t)
    # The femur: head in the acetabulum, neck, greater trochanter, shaft (cortex, then canal) to
    # the condyles (the knee crop covers them).
    neck = (hip[0] + lateral * 0.38 * n, hip[1] + 0.3 * n)
    shaft_top = (hip[0] + lateral * 0.45 * n, hip[1] + 0.55 * n)
    shaft_end = (kx, ky - 0.45 * n)
    _ellipse(bone, hip, (0.24 * n, 0.24 * n), c)
    _line(bone, hip, neck, 0.26 * n, b)
    _ellipse(bone, (hip[0] + lateral * 0.62 * n, hip[1] + 0.28 * n), (0.16 * n, 0.22 * n), b)
    _line(bone, neck, shaft_top, 0.34 * n, b)
    _line(bone, shaft_top, shaft_end, 0.32 * n, c)
    _line(bone, shaft_top, shaft_end, 0.17 * n, b)
    # The tibia (flaring into the plafond), its medial malleolus; the fibula to the lateral one.
    plafond = (ankle[0], ankle[1] - 0.12 * n)
    _line(bone, (kx, ky + 0.45 * n), (ankle[0], ankle[1] - 0.5 * n), 0.3 * n, c)
    _line(bone, (kx, ky + 0.45 * n), (ankle[0], ankle[1] - 0.5 * n), 0.15 * n, b)
    _ellipse(bone, plafond, (0.27 * n, 0.14 * n), b)
    _ellipse(bone, (ankle[0] - lateral * 0.22 * n, ankle[1] + 0.02 * n), (0.06 * n, 0.1 * n), b)
    _line(bone, (kx + lateral * 0.33 * n, ky + 0.45 * n), (ankle[0] + lateral * 0.3 * n, ankle[1]), 0.09 * n, b)
    _ellipse(bone, (ankle[0] + lateral * 0.3 * n, ankle[1] + 0.05 * n), (0.07 * n, 0.13 * n), b)
    # The talus under a dark joint line, the calcaneus and the foot behind it.
    _ellipse(bone, (ankle[0], ankle[1] + 0.17 * n), (0.21 * n, 0.13 * n), b)
    _ellipse(bone, (ankle[0], ankle[1] + 0.5 * n), (0.3 * n, 0.24 * n), 0.85 * b + 0.15 * t)


def long_leg_film(right: np.ndarray, left: np.ndarray, rng: np.random.Generator, knee_share: float = 0.22,
                  sphere: str | None = "between", heavy: bool = False, quality: int = 90,
                  drop: float = 0.0, tilt: float = 0.0,
                  apart: float = 1.0) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Two crops (the patient's right knee, then the left; a ``replaced_knee`` may be either) on
    a standing hip-to-ankle film 2.4 times as tall as wide, each crop ``knee_share`` of its width,
    the knees a little below mid-height and two crops apart, a ruler along the left edge, a
    calibration sphere (``"between"``, ``"beside right"`` or None) at knee height, stored as a
    JPEG; ``heavy`` as in ``sites.standing_film``. ``drop``: the left knee that many crops lower
    (a tilted pelvis, legs of unequal length); ``tilt``: each knee's joint line turned by that
    many degrees, both the same way round the body (varus when positive, as in medial OA);
    ``apart``: the knees' distance from the midline times that (under 1: knock knees).
    Returns the uint8 film and the true joint centres."""
    n = right.shape[0]
    width = int(round(n / knee_share))
    height = int(round(2.4 * width))
    bone_only = [k.astype(np.float32) <= METAL_OVER for k in (right, left)]
    knees = [_levelled(k.astype(np.float32)) for k in (right, left)]
    # Soft tissue as at the crops' sides (their outer tenths), bone and cortex as in their middle
    # (a replaced knee's metal aside: the shafts are bone).
    edge = max(2, n // 10)
    sides = np.concatenate([np.r_[k[:, :edge][m[:, :edge]], k[:, -edge:][m[:, -edge:]]]
                            for k, m in zip(knees, bone_only)])
    middle = np.concatenate([k[:, edge:-edge][m[:, edge:-edge]] for k, m in zip(knees, bone_only)])
    levels = (float(np.percentile(sides, 30)), float(np.percentile(middle, 60)), float(np.percentile(middle, 85)))
    background = 12.0 + cv2.GaussianBlur(rng.normal(0, 3, (height, width)).astype(np.float32), (0, 0), 2)
    soft = np.zeros((height, width), np.float32)
    bone = np.zeros((height, width), np.float32)
    ky = 0.53 * height + rng.uniform(-0.02, 0.02) * height
    gap = apart * (1.0 + rng.uniform(-0.1, 0.1)) * n
    centres = [(width / 2 - gap, ky), (width / 2 + gap, ky + drop * n)]
    for (kx, cy), lateral in zip(centres, (-1, 1)):
        hip = (width / 2 + lateral * 1.05 * n, ky - 4.3 * n)
        ankle = (width / 2 + lateral * 0.9 * n, ky + 3.7 * n)
        _leg(soft, bone, (kx, cy), hip, ankle, n, lateral, levels)
    # The pelvis over the hips: the iliac wings' lower parts, the acetabular roofs, the pubic
    # rami between them around the obturator foramina.
    hy = ky - 4.3 * n
    for lateral in (-1, 1):
        hx = width / 2 + lateral * 1.05 * n
        _ellipse(bone, (hx + lateral * 0.1 * n, hy - 0.55 * n), (0.75 * n, 0.45 * n), 0.8 * levels[1], 0)
        _ellipse(bone, (width / 2 + lateral * 0.55 * n, hy + 0.35 * n), (0.42 * n, 0.28 * n), 0.8 * levels[1])
    for lateral in (-1, 1):
        _ellipse(bone, (width / 2 + lateral * 0.6 * n, hy + 0.36 * n), (0.2 * n, 0.14 * n), levels[0])
    film = np.maximum(background, cv2.GaussianBlur(soft, (0, 0), 0.03 * n))
    bone = cv2.GaussianBlur(bone, (0, 0), 0.012 * n)
    grain = cv2.GaussianBlur(rng.normal(0, 1, (height, width)).astype(np.float32), (0, 0), 1.5)
    film = np.where(bone > film, bone + 4.0 * grain, film)
    # The knees themselves: each crop with its edges continued (its first and last rows as the
    # metaphyses, its side columns as the soft tissue), fading into the drawn leg outside it.
    ext_y, ext_x = int(0.7 * n), int(0.3 * n)
    fy = np.clip(1 - np.maximum(np.abs(np.arange(n + 2 * ext_y) - (n + 2 * ext_y - 1) / 2) - n / 2, 0) / ext_y, 0, 1)
    fx = np.clip(1 - np.maximum(np.abs(np.arange(n + 2 * ext_x) - (n + 2 * ext_x - 1) / 2) - n / 2, 0) / ext_x, 0, 1)
    alpha = np.minimum(fy[:, None], fx[None, :]) ** 1.5
    for (kx, cy), knee, lateral in zip(centres, knees, (-1, 1)):
        if tilt:  # varus: the right knee (image left) turned clockwise on the film, the left anticlockwise
            turn = cv2.getRotationMatrix2D(((n - 1) / 2, (n - 1) / 2), lateral * tilt, 1.0)
            knee = cv2.warpAffine(knee, turn, (n, n), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        patch = cv2.copyMakeBorder(knee, ext_y, ext_y, ext_x, ext_x, cv2.BORDER_REPLICATE)
        outside = alpha < 1
        patch[outside] = cv2.GaussianBlur(patch, (0, 0), 0.04 * n)[outside]
        x0, y0 = int(round(kx - n / 2)) - ext_x, int(round(cy - n / 2)) - ext_y
        region = film[y0:y0 + patch.shape[0], x0:x0 + patch.shape[1]]
        film[y0:y0 + patch.shape[0], x0:x0 + patch.shape[1]] = alpha * patch + (1 - alpha) * region
    # The sphere is 25 mm, a quarter of a knee's region here.
    return finish_standing(film, centres, n, sphere, n / 4, heavy, quality), centres
