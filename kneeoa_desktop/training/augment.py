"""Augmentation for knee radiographs: what differs between sites, applied before preprocessing.

Films from other hospitals differ in post-processing (unsharp masking, smoothing), exposure and
tone curves, noise, and framing (zoom, aspect ratio, borders, small rotations). Each training
image is transformed on its raw pixels and then passes through the core's one ``preprocess``
function, exactly like a film at inference; the network never sees an input the app could not
produce. Plain numpy/OpenCV, run inside ``tf.data`` so the model itself stays a pure graph.

Other hospitals also send single-knee crops of other shapes (a wide band, a tall strip); the
pipeline grades such a crop whole, resized to the network's square input (``core.knees.framing``), so
``framed_band`` cuts training crops to such bands, which ``preprocess`` then resizes the same way.

Two recipes: ``augment_image`` (model 1.0.0's) and ``augment_site`` (the wider site shift of
issue "Model 1.1": anisotropic scaling of aspect 0.5–2.0, zoom 0.6–1.6 with plausible borders,
unsharp masking, CLAHE, gamma and contrast curves, noise, JPEG and 16-bit inputs).

``site_shift`` applies one fixed, seeded set of such changes: the validation proxy for other
hospitals' films, used to choose the checkpoint and by ``scripts/robustness_check.py``;
``framing_proxy`` is the same for crops of other shapes.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..core.knees.preprocess import preprocess


def unsharp(pixels: np.ndarray, sigma: float, amount: float) -> np.ndarray:
    blurred = cv2.GaussianBlur(pixels, (0, 0), sigma)
    return pixels + amount * (pixels - blurred)


def gamma(pixels: np.ndarray, value: float) -> np.ndarray:
    return 255.0 * np.power(np.clip(pixels, 0, 255) / 255.0, value)


def contrast(pixels: np.ndarray, strength: float) -> np.ndarray:
    """A sigmoid tone curve about mid-gray, spanning 0–255: higher contrast for strength > 0."""
    t = np.clip(pixels, 0, 255) / 255.0
    curved = 1.0 / (1.0 + np.exp(-strength * (t - 0.5)))
    lo, hi = 1.0 / (1.0 + np.exp(strength * 0.5)), 1.0 / (1.0 + np.exp(-strength * 0.5))
    return 255.0 * (curved - lo) / (hi - lo)


def clahe(pixels: np.ndarray, clip: float = 2.0, tiles: int = 8) -> np.ndarray:
    """Contrast-limited adaptive histogram equalisation of a float image on 0–255 (as float)."""
    u8 = np.clip(np.rint(pixels), 0, 255).astype(np.uint8)
    return cv2.createCLAHE(clipLimit=clip, tileGridSize=(tiles, tiles)).apply(u8).astype(np.float32)


def reframe(pixels: np.ndarray, rng: np.random.Generator, zoom: float, aspect: float,
            angle: float, shift: tuple[float, float], border: str = "dark") -> np.ndarray:
    """Rotate, scale (zoom < 1 shows more surroundings), stretch and shift, keeping the size."""
    h, w = pixels.shape
    sx, sy = zoom * np.sqrt(aspect), zoom / np.sqrt(aspect)
    rot = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), angle, 1.0)
    scale = np.array([[sx, 0, (1 - sx) * (w - 1) / 2], [0, sy, (1 - sy) * (h - 1) / 2], [0, 0, 1]])
    matrix = (np.vstack([rot, [0, 0, 1]]) @ scale)[:2]
    matrix[:, 2] += (shift[0] * w, shift[1] * h)
    if border == "reflect":
        return cv2.warpAffine(pixels, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    # Outside a collimated film: dark, as on most radiographs, at a level drawn near the film's own.
    fill = float(np.percentile(pixels, rng.uniform(0.5, 10.0)))
    return cv2.warpAffine(pixels, matrix, (w, h), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=fill)


def band(pixels: np.ndarray, ratio: float, wide: bool, offset: float = 0.0) -> np.ndarray:
    """The band of a square crop whose short side is ``ratio`` × its side: full width and cut in
    height (``wide``), or full height and cut in width; moved off centre by ``offset`` × the side."""
    n = pixels.shape[0]
    keep = max(1, round(n * ratio))
    start = int(np.clip(round((n - keep) / 2 + offset * n), 0, n - keep))
    return pixels[start:start + keep, :] if wide else pixels[:, start:start + keep]


def shaped_band(pixels: np.ndarray, width: int, height: int) -> np.ndarray:
    """The central band of a square crop at the aspect ratio width:height (full width for a wide
    band, full height for a tall one), resized to width × height: a crop of another shape, as
    another hospital might send (what the measuring scripts and the tests cut)."""
    n = pixels.shape[0]
    if width >= height:
        h = round(n * height / width)
        cut = pixels[(n - h) // 2:(n - h) // 2 + h, :]
    else:
        w = round(n * width / height)
        cut = pixels[:, (n - w) // 2:(n - w) // 2 + w]
    shrink = width * height < cut.shape[0] * cut.shape[1]
    return cv2.resize(cut, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def framed_band(pixels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random wide (60 %) or tall band, short side 0.5–0.9 of the crop, slightly off centre:
    a crop of another shape, which the pipeline grades whole, resized to the square input (the
    caller's ``preprocess`` does that resize)."""
    ratio = float(np.exp(rng.uniform(np.log(0.5), np.log(0.9))))
    return band(pixels, ratio, wide=bool(rng.random() < 0.6), offset=float(rng.uniform(-0.05, 0.05)))


def augment_image(raw: np.ndarray, rng: np.random.Generator, squared_rate: float = 0.0) -> np.ndarray:
    """One random site-like variant of a raw uint8 radiograph, preprocessed: (H, W, 1) float32.

    ``squared_rate``: the share of variants cut to a band of another shape (``framed_band``) and
    resized to the square input, as a crop of that shape reaches the network through the pipeline."""
    x = raw.astype(np.float32)
    if rng.random() < 0.5:  # left and right knees mirror each other
        x = x[:, ::-1]
    zoom = rng.uniform(0.75, 1.0) if rng.random() < 0.3 else rng.uniform(0.92, 1.12)
    aspect = np.exp(rng.uniform(np.log(0.8), np.log(1.25))) if rng.random() < 0.4 else 1.0
    x = reframe(x, rng, zoom, aspect, rng.uniform(-8, 8), tuple(rng.uniform(-0.05, 0.05, 2)),
                border="reflect" if rng.random() < 0.3 else "dark")
    if rng.random() < 0.4:
        x = unsharp(x, rng.uniform(1.0, 6.0), rng.uniform(0.3, 1.5))
    elif rng.random() < 0.25:
        x = cv2.GaussianBlur(x, (0, 0), rng.uniform(0.4, 1.2))
    if rng.random() < 0.5:
        x = gamma(x, np.exp(rng.uniform(np.log(0.6), np.log(1.6))))
    if rng.random() < 0.3:
        x = x + rng.normal(0.0, rng.uniform(2.0, 10.0), x.shape)
    # Drawn only when asked for, so that a run without it draws exactly what it drew before.
    if squared_rate > 0 and rng.random() < squared_rate:
        x = framed_band(np.clip(x, 0, 255), rng)
    return preprocess(np.clip(np.rint(x), 0, 255).astype(np.uint8), raw.shape)


def _log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def augment_site(raw: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One random variant of a raw uint8 crop under the wider site shift of issue "Model 1.1",
    preprocessed: (H, W, 1) float32.

    Geometry is drawn as the *net* change the network sees after the pipeline resizes a region to
    its square input: a site that squashes a tight cut to 300×162 leaves the knee stretched or
    squashed by up to 2× once it is resized back, and a film resized down loses resolution.
    """
    x = raw.astype(np.float32)
    if rng.random() < 0.5:
        x = x[:, ::-1]
    zoom = _log_uniform(rng, 0.6, 1.6) if rng.random() < 0.6 else rng.uniform(0.92, 1.12)
    aspect = _log_uniform(rng, 0.5, 2.0) if rng.random() < 0.5 else _log_uniform(rng, 0.87, 1.15)
    x = reframe(x, rng, zoom, aspect, rng.uniform(-8, 8), tuple(rng.uniform(-0.05, 0.05, 2)),
                border="reflect" if rng.random() < 0.5 else "dark")
    if rng.random() < 0.3:  # stored smaller than the crop (a 300×162 film), resized back later
        h, w = x.shape
        size = (max(64, round(w * rng.uniform(0.55, 1.0))), max(64, round(h * rng.uniform(0.5, 1.0))))
        x = cv2.resize(x, size, interpolation=cv2.INTER_AREA)
    if rng.random() < 0.5:
        x = unsharp(x, rng.uniform(1.0, 6.0), rng.uniform(0.3, 2.0))
    elif rng.random() < 0.2:
        x = cv2.GaussianBlur(x, (0, 0), rng.uniform(0.4, 1.2))
    if rng.random() < 0.25:
        tiles = int(rng.integers(4, 9))
        x = clahe(x, float(rng.uniform(1.0, 4.0)), tiles)
    if rng.random() < 0.5:
        x = gamma(x, _log_uniform(rng, 0.5, 2.0))
    if rng.random() < 0.25:  # higher contrast than OAI's
        x = contrast(x, rng.uniform(2.0, 8.0))
    if rng.random() < 0.3:
        x = x + rng.normal(0.0, rng.uniform(2.0, 10.0), x.shape)
    x = np.clip(x, 0, 255)
    if rng.random() < 0.2:
        ok, buf = cv2.imencode(".jpg", np.rint(x).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(40, 96))])
        if ok:
            x = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE).astype(np.float32)
    if rng.random() < 0.2:  # a 16-bit film: finer gray levels change the equalisation a little
        film = np.rint(x * 257.0 + rng.uniform(-128, 128, x.shape))
        return preprocess(np.clip(film, 0, 65535).astype(np.uint16), raw.shape)
    return preprocess(np.rint(x).astype(np.uint8), raw.shape)


#: The fixed site shifts of the validation proxy: name → transform of a float image.
SITE_SHIFTS = {
    "sharpened": lambda x, rng: unsharp(x, 3.0, 1.0),
    "smoothed": lambda x, rng: cv2.GaussianBlur(x, (0, 0), 1.0),
    "gamma 0.7": lambda x, rng: gamma(x, 0.7),
    "gamma 1.4": lambda x, rng: gamma(x, 1.4),
    "noisy": lambda x, rng: x + rng.normal(0.0, 6.0, x.shape),
    "zoomed out": lambda x, rng: reframe(x, rng, 0.8, 1.0, 0.0, (0.0, 0.0)),
    "wide": lambda x, rng: reframe(x, rng, 0.9, 1.2, 0.0, (0.0, 0.0)),
    "rotated": lambda x, rng: reframe(x, rng, 1.0, 1.0, 6.0, (0.0, 0.0)),
}


def site_shift(raw: np.ndarray, name: str, seed: int = 0) -> np.ndarray:
    """``raw`` (uint8) changed by one named site shift, back as uint8 raw pixels."""
    rng = np.random.default_rng(seed)
    x = SITE_SHIFTS[name](raw.astype(np.float32), rng)
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def site_proxy(raws: np.ndarray, seed: int = 0) -> np.ndarray:
    """Each raw image under one site shift (cycling through them): preprocessed (N, H, W, 1)."""
    names = list(SITE_SHIFTS)
    return np.stack([preprocess(site_shift(raw, names[i % len(names)], seed + i), raw.shape)
                     for i, raw in enumerate(raws)])


#: The crop shapes of the framing proxy (short side ÷ long side, wide or tall), as another
#: hospital might send them: the bands ``scripts/measure_crop_framing.py`` reports.
FRAMING_SHIFTS = {"wide 300x162": (162 / 300, True), "tall 162x300": (162 / 300, False),
                  "wide 280x224": (224 / 280, True)}


def framing_proxy(raws: np.ndarray) -> np.ndarray:
    """Each raw image cut to one of the proxy's band shapes (cycling) and resized to the square
    input, as the pipeline frames such a crop: preprocessed (N, H, W, 1)."""
    shapes = list(FRAMING_SHIFTS.values())
    return np.stack([preprocess(band(raw, *shapes[i % len(shapes)]), raw.shape)
                     for i, raw in enumerate(raws)])
