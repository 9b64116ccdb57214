"""Images that are not a knee PA/AP view, for fitting and checking the scope head.

Real films of other kinds first: the replaced knees, hands, chests, shoulders with implants and
children's pelvises of ``shared/data/out-of-scope`` (each folder's licence beside it), pydicom's
own test files (CT, MR, ultrasound, RT and other non-knee DICOM), and scikit-image's sample
pictures (photographs, text, micrographs) when scikit-image is installed; then cheap synthetic
ones (pages of text, noise, gradients, shapes, near-blank). Each comes with a *group* (its source
file) so that cross-validation never scores an image against a copy of itself, and each real
image is also offered as a few crops, since the knee finder may hand the scope check any part of
a film. A fixed quarter of the groups is held out of the fit (``is_held_out``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from ..core.film.imaging import load_image

#: The only real lateral views at hand (both with implants) stay out of the fit, so that
#: tests/test_scope.py judges the head on lateral views it never saw.
HELD_OUT = ("Knee Prostheses Patellofemoral Centerpulse PFJ (Implant 167).jpg",
            "Smith _ Nephew TC-PLUS SOLUTION, lat (Implant 160508).jpg")
#: The out-of-scope folders read, and the kind each one's films are.
FOLDERS = (("implant", "implants"), ("hand", "hands"), ("chest", "chest"),
           ("shoulder", "shoulder-implants"), ("pelvis", "hip-pelvis"))
#: One source in this many (by a hash of its group, so the same ones every time, whatever else
#: is added) is held out of the scope head's fit, to judge the head and the metal rule on films
#: they were not fitted on (scripts/fit_scope_head.py prints those figures).
HOLD_OUT_ONE_IN = 4


def is_held_out(group: str) -> bool:
    """Whether a source (a film, a patient of kneeKL224, a sample picture) is held out of the
    scope head's fit: a fixed quarter of every source, chosen by the hash of its group."""
    return int(hashlib.sha256(group.encode("utf-8")).hexdigest()[:8], 16) % HOLD_OUT_ONE_IN == 0


def _crops(pixels: np.ndarray, rng: np.random.Generator, count: int) -> list[np.ndarray]:
    """The image and ``count`` random crops of 35–80 % of its sides (any aspect)."""
    out = [pixels]
    h, w = pixels.shape
    for _ in range(count):
        ch, cw = int(h * rng.uniform(0.35, 0.8)), int(w * rng.uniform(0.35, 0.8))
        if min(ch, cw) < 48:
            break
        y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
        out.append(pixels[y:y + ch, x:x + cw])
    return out


def real_films(out_of_scope: Path, rng: np.random.Generator, crops: int = 3) -> Iterator[tuple[str, str, np.ndarray]]:
    """(kind, group, pixels) of the out-of-scope films, of each kind in ``FOLDERS``."""
    for kind, folder in FOLDERS:
        for path in sorted((out_of_scope / folder).glob("*")):
            if path.suffix.lower() not in (".jpg", ".jpeg", ".png") or path.name in HELD_OUT:
                continue
            pixels = load_image(path).pixels
            for crop in _crops(pixels, rng, crops):
                yield kind, f"{folder}/{path.name}", crop


def dicom_files(rng: np.random.Generator, crops: int = 1) -> Iterator[tuple[str, str, np.ndarray]]:
    """(kind "dicom", group, pixels) of every pydicom test file that loads as one 2-D image."""
    try:
        from pydicom.data import get_testdata_files
    except ImportError:
        return
    for name in sorted(get_testdata_files("*.dcm")):
        try:
            pixels = load_image(Path(name)).pixels
        except Exception:  # multi-frame, no pixel data, compressed beyond our decoders: not needed
            continue
        if pixels.ndim != 2 or min(pixels.shape) < 48 or pixels.max() == pixels.min():
            continue
        for crop in _crops(pixels, rng, crops):
            yield "dicom", f"pydicom/{Path(name).name}", crop


def skimage_pictures(rng: np.random.Generator, crops: int = 2) -> Iterator[tuple[str, str, np.ndarray]]:
    """(kind "picture", group, pixels) of scikit-image's bundled samples, when it is installed."""
    try:
        from skimage import data
    except ImportError:
        return
    names = ("astronaut", "brick", "camera", "cat", "cell", "checkerboard", "chelsea", "clock", "coffee",
             "coins", "colorwheel", "grass", "gravel", "horse", "hubble_deep_field", "immunohistochemistry",
             "logo", "microaneurysms", "moon", "page", "retina", "rocket", "text", "rough_wall")
    for name in names:
        try:
            image = np.asarray(getattr(data, name)())
        except Exception:  # a sample that needs a download (pooch) is simply left out
            continue
        if image.ndim == 3:
            image = cv2.cvtColor(image[..., :3].astype(np.uint8), cv2.COLOR_RGB2GRAY)
        if image.dtype == bool:
            image = image.astype(np.uint8) * 255
        image = np.asarray(image)
        if image.dtype not in (np.uint8, np.uint16):
            image = cv2.normalize(image.astype(np.float32), None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
        if min(image.shape) < 48 or image.max() == image.min():
            continue
        for crop in _crops(image, rng, crops):
            yield "picture", f"skimage/{name}", crop
            yield "picture", f"skimage/{name}", 255 - crop  # inverted, as a film shows density


def synthetic(rng: np.random.Generator, count: int = 60) -> Iterator[tuple[str, str, np.ndarray]]:
    """(kind "synthetic", group, pixels): text pages, noise, gradients, shapes, near-blank."""
    for i in range(count):
        h, w = int(rng.integers(160, 700)), int(rng.integers(160, 700))
        kind = i % 5
        if kind == 0:  # a page of text
            img = np.full((h, w), int(rng.integers(200, 256)), np.uint8)
            for row in range(20, h - 10, int(rng.integers(18, 32))):
                words = "".join(chr(int(c)) for c in rng.integers(97, 123, 40))
                cv2.putText(img, words, (10, row), cv2.FONT_HERSHEY_SIMPLEX, rng.uniform(0.4, 0.9), 0, 1)
        elif kind == 1:  # smoothed noise of some grain
            img = cv2.GaussianBlur(rng.normal(128, 60, (h, w)).astype(np.float32), (0, 0), rng.uniform(0.5, 8))
            img = cv2.normalize(img, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
        elif kind == 2:  # a gradient with a little noise
            yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
            a = rng.uniform(-1, 1, 2)
            img = a[0] * xx / w + a[1] * yy / h + rng.normal(0, 0.02, (h, w))
            img = cv2.normalize(img.astype(np.float32), None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
        elif kind == 3:  # bright shapes on dark
            img = np.full((h, w), int(rng.integers(0, 60)), np.uint8)
            for _ in range(int(rng.integers(2, 9))):
                centre = (int(rng.integers(0, w)), int(rng.integers(0, h)))
                axes = (int(rng.integers(10, w // 2)), int(rng.integers(10, h // 2)))
                cv2.ellipse(img, centre, axes, float(rng.uniform(0, 180)), 0, 360, int(rng.integers(100, 256)), -1)
            img = cv2.GaussianBlur(img, (0, 0), rng.uniform(1, 6))
        else:  # nearly blank, a faint vignette
            yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
            r = np.hypot(xx / w - 0.5, yy / h - 0.5)
            img = (120 + 20 * r + rng.normal(0, 2, (h, w))).clip(0, 255).astype(np.uint8)
        yield "synthetic", f"synthetic/{i}", img


def negatives(out_of_scope: Path, seed: int = 0) -> list[tuple[str, str, np.ndarray]]:
    """Every negative above, as (kind, group, pixels)."""
    rng = np.random.default_rng(seed)
    return [*real_films(out_of_scope, rng), *dicom_files(rng), *skimage_pictures(rng), *synthetic(rng)]
