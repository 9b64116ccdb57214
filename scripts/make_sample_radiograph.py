"""Synthesise a knee-radiograph-like PNG for the self-test and the bundle check.

Real radiographs from the dataset must not be copied into the repository (their licence and
their patients are not ours to redistribute), so the program ships a drawing instead: an
antero-posterior knee with the femoral shaft and two condyles above, the tibial plateau and
shaft below, the fibular head at the side, a faint patella, a joint space between, cortical
rims brighter than the marrow, soft tissue around, and film grain. It is not a patient and
the model's grade for it means nothing; it only has the shape and statistics of the real
thing, so the whole path (decode → preprocess → network → evidence → overlay) is exercised.

    python scripts/make_sample_radiograph.py [OUT.png] [--size 320] [--seed 2024]

The output is deterministic for a given size and seed (NumPy's PCG64 generator and OpenCV's
blur and PNG encoder), 8-bit gray, and well under 100 KB at the default size.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "resources" / "samples" / "synthetic-knee.png"


def _smooth_step(d: np.ndarray, width: float) -> np.ndarray:
    """0 outside a shape, 1 inside, with an edge ``width`` wide (d < 0 is inside)."""
    return np.clip(0.5 - d / width, 0.0, 1.0)


def _ellipse_distance(x, y, cx, cy, rx, ry):
    """Approximate signed distance to an ellipse, in units of the normalised image."""
    return (np.sqrt(((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2) - 1.0) * min(rx, ry)


def _bone(inside_distance: np.ndarray, edge: float, cortex: float) -> np.ndarray:
    """Bone density: marrow inside, a brighter cortical rim ``cortex`` thick at the edge."""
    body = _smooth_step(inside_distance, edge)
    rim = np.exp(-((inside_distance + cortex / 2) / (cortex / 2)) ** 2)
    return 0.72 * body + 0.35 * rim * body


def synthesise(size: int = 320, seed: int = 2024) -> np.ndarray:
    """Return a (size, size) uint8 image that looks like an AP knee radiograph."""
    if size < 64:
        raise ValueError("size must be at least 64 pixels")
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size].astype(np.float64) / size
    edge = 3.0 / size

    # Soft tissue: a broad column of thigh and calf, darker towards the film's edges.
    tissue = 0.22 * np.exp(-((x - 0.5) / 0.36) ** 4)

    # Femur: a shaft from the top that widens into the metaphysis, ending in two condyles.
    half_width = 0.12 + 0.11 * np.clip((y - 0.10) / 0.26, 0.0, 1.0) ** 2
    shaft = np.maximum(np.abs(x - 0.5) - half_width, y - 0.36)
    medial = _ellipse_distance(x, y, 0.39, 0.40, 0.115, 0.085)
    lateral = _ellipse_distance(x, y, 0.61, 0.40, 0.11, 0.08)
    notch = _ellipse_distance(x, y, 0.5, 0.475, 0.035, 0.05)  # intercondylar notch
    femur = np.maximum(np.minimum(np.minimum(shaft, medial), lateral), -notch)

    # Tibia: a plateau just below the joint space (slightly narrower medially, as in early
    # osteoarthritis), a tapering metaphysis and the shaft to the bottom edge.
    plateau_top = 0.515 + 0.012 * np.cos((x - 0.5) * 9.0) + 0.006 * (x < 0.5)
    tib_half = 0.245 - 0.12 * np.clip((y - 0.56) / 0.30, 0.0, 1.0) ** 0.7
    tibia = np.maximum(np.abs(x - 0.5) - tib_half, plateau_top - y)
    spines = _ellipse_distance(x, y, 0.5, plateau_top - 0.008, 0.03, 0.018)  # tibial spines
    tibia = np.minimum(tibia, spines)

    fibula = _ellipse_distance(x, y, 0.73, 0.655, 0.055, 0.05)  # the fibular head
    fibula_shaft = np.maximum(np.abs(x - (0.735 - 0.06 * (y - 0.66))) - 0.032, 0.66 - y)
    fibula = np.minimum(fibula, fibula_shaft)

    patella = _ellipse_distance(x, y, 0.52, 0.33, 0.085, 0.10)

    density = tissue
    density = density + _bone(femur, edge, 0.035)
    density = density + _bone(tibia, edge, 0.03)
    density = density + 0.8 * _bone(fibula, edge, 0.02)
    density = density + 0.18 * _smooth_step(patella, 4 * edge)  # seen through the femur
    # Trabecular texture inside bone, at a few pixels' scale.
    texture = cv2.GaussianBlur(rng.normal(0.0, 1.0, (size, size)), (0, 0), 1.6)
    bone_mask = np.clip(density - tissue, 0.0, 1.0)
    density = density + 0.08 * texture * bone_mask

    # Exposure: a gentle heel effect from left to right, then film grain.
    density *= 0.92 + 0.08 * x
    pixels = 18.0 + 215.0 * np.clip(density, 0.0, 1.05) / 1.05
    grain = cv2.GaussianBlur(rng.normal(0.0, 1.0, (size, size)), (0, 0), 0.7)
    pixels = pixels + 3.5 * grain
    return np.clip(np.rint(pixels), 0, 255).astype(np.uint8)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Draw a synthetic knee radiograph (not a patient).")
    parser.add_argument("out", nargs="?", type=Path, default=DEFAULT_OUT, help="PNG to write (default: %(default)s)")
    parser.add_argument("--size", type=int, default=320, help="width and height in pixels (default 320)")
    parser.add_argument("--seed", type=int, default=2024, help="random seed (default 2024)")
    args = parser.parse_args(argv)
    try:
        image = synthesise(args.size, args.seed)
    except ValueError as exc:
        print(f"make_sample_radiograph: {exc}", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    ok, data = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    if not ok:
        print("make_sample_radiograph: PNG encoding failed", file=sys.stderr)
        return 1
    args.out.write_bytes(data.tobytes())
    print(f"{args.out}: {image.shape[1]}×{image.shape[0]} 8-bit gray, {len(data) // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
