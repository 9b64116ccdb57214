"""Read a kneeKL224-shaped folder (``SPLIT/GRADE/*.png``) into cached, preprocessed arrays.

Images pass through the core's one ``preprocess`` function, exactly as at inference, and the
result is cached as uint8 (``.npz``) so later runs skip decoding.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np

from ..core.atomic import atomic_path
from ..core.film.imaging import load_image
from ..core.knees.preprocess import preprocess
from ..core.verdict.grades import NUM_GRADES

#: Bump when preprocessing changes, so stale caches are not reused.
CACHE_VERSION = 2


def list_split(split_dir: str | Path) -> list[tuple[Path, int]]:
    """(path, grade) for every image in ``split_dir/0 … 4``; sorted for reproducibility."""
    split_dir = Path(split_dir)
    items = []
    for grade in range(NUM_GRADES):
        grade_dir = split_dir / str(grade)
        if grade_dir.is_dir():
            items += [(p, grade) for p in sorted(grade_dir.iterdir())
                      if p.is_file() and not p.name.startswith(".")]
    return items


def raw_pixels(path: str | Path, input_size: tuple[int, int]) -> np.ndarray:
    """The image as 8-bit gray at the model's input size, before preprocessing (for augmentation)."""
    pixels = load_image(path).pixels
    if pixels.dtype == np.uint16:
        pixels = np.rint(pixels / 257.0).astype(np.uint8)
    height, width = int(input_size[0]), int(input_size[1])
    if pixels.shape != (height, width):
        pixels = cv2.resize(pixels, (width, height), interpolation=cv2.INTER_AREA)
    return pixels


def load_split(split_dir: str | Path, input_size: tuple[int, int], cache_dir: str | Path | None = None,
               limit_per_grade: int | None = None, raw: bool = False) -> tuple[np.ndarray, np.ndarray, list[Path]]:
    """Return (images uint8 (N, H, W), grades int (N,), paths), cached.

    Images are preprocessed (the network input × 255), or with ``raw`` only sized to the
    model's input (``raw_pixels``), for augmentation that must come before preprocessing.
    """
    items = list_split(split_dir)
    if limit_per_grade is not None:
        kept, seen = [], {}
        for path, grade in items:
            if seen.get(grade, 0) < limit_per_grade:
                kept.append((path, grade))
                seen[grade] = seen.get(grade, 0) + 1
        items = kept
    if not items:
        raise FileNotFoundError(f"No images found under {split_dir}/0 … {NUM_GRADES - 1}.")
    cache_file = None
    if cache_dir is not None:
        key = hashlib.sha256(
            repr((CACHE_VERSION, raw, tuple(input_size), [(str(p), g, p.stat().st_size) for p, g in items]))
            .encode()).hexdigest()[:16]
        kind = "raw" if raw else "pre"
        cache_file = Path(cache_dir) / f"{Path(split_dir).name}-{kind}-{input_size[0]}x{input_size[1]}-{key}.npz"
        if cache_file.is_file():
            cached = np.load(cache_file)
            return cached["images"], cached["grades"], [p for p, _ in items]
    images = np.empty((len(items), *input_size), np.uint8)
    for i, (path, _grade) in enumerate(items):
        if raw:
            images[i] = raw_pixels(path, input_size)
        else:
            x = preprocess(load_image(path).pixels, input_size)
            images[i] = np.rint(x[:, :, 0] * 255.0).astype(np.uint8)
    grades = np.array([g for _, g in items], np.int64)
    if cache_file is not None:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(cache_file, suffix=".npz") as (_tmp, handle):
            np.savez(handle, images=images, grades=grades)
    return images, grades, [p for p, _ in items]
