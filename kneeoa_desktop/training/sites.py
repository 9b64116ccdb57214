"""Simulated sites: kneeKL224 crops pushed through what other hospitals do to their films.

Other hospitals' single-knee films differ from kneeKL224's in framing (landscape images of
about 300×162 px, resized without keeping the aspect ratio, so the condyles look squashed
vertically by 1.5–1.9×; zoom from the whole joint with shafts to a tight cut just above and
below the joint line), in processing (sharper, edge-enhanced, higher contrast, equalised) and in
storage (8- or 16-bit PNG); a full single-knee film shows the shafts and a dark background
around the leg. Each transform here turns one raw 8-bit crop into such a film — any
shape, uint8 or uint16 — that then goes through the whole pipeline like a file a user opens.

The transforms are fixed (a seed for what is random in them) so that their figures can be held
by a test. They are the measure of issue 24 (``scripts/measure_sites.py``: refusals, records per
film), the positives of the scope head (``scripts/fit_scope_head.py``) and the site proxy that
weighs in checkpoint choice (``augment.site_proxy``). Issue 33's real films are rebuilt here
too (tight films, two knees side by side, portrait films with shafts, standing films of both
legs with a sphere, sclerotic knees, teaching films with an arrow and an avulsion fracture;
the long-leg film at true proportions is ``long_leg``), counted by ``site_check.CASES``.
Nothing here is tuned to a real site.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .augment import clahe, contrast, gamma, reframe, unsharp


def _u8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def to_16bit(x: np.ndarray, rng: np.random.Generator, bits: int = 16) -> np.ndarray:
    """A float image on 0–255 stored as a ``bits``-bit film in a uint16 container, dithered so
    that its gray levels are as fine as a real detector's."""
    top = (1 << bits) - 1
    scaled = np.clip(x, 0, 255) * (top / 255.0) + rng.uniform(-0.5, 0.5, x.shape) * (top / 255.0)
    return np.clip(np.rint(scaled), 0, top).astype(np.uint16)


def squash(x: np.ndarray, width: int = 300, height: int = 162) -> np.ndarray:
    """Resized to width × height without keeping the aspect ratio (area when shrinking)."""
    shrink = width * height < x.shape[0] * x.shape[1]
    return cv2.resize(x, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def tight(x: np.ndarray, keep: float) -> np.ndarray:
    """The central band of ``keep`` × the height: a cut just above and below the joint line."""
    n = x.shape[0]
    k = max(8, round(n * keep))
    top = (n - k) // 2
    return x[top:top + k]


def leg_film(x: np.ndarray, scale: float = 2.0) -> np.ndarray:
    """A full single-knee AP film made from a crop: the joint in the middle of a leg (its first
    and last rows continued, smoothed, as femoral and tibial shafts) fading into a dark
    background at its sides, on a film 3× as tall and 1.6× as wide, enlarged ``scale`` times."""
    n = x.shape[0]
    fade = np.clip((1 - np.abs(np.linspace(-1, 1, x.shape[1]))) / 0.12, 0, 1)[None, :]
    top = cv2.GaussianBlur(np.repeat(x[:1], n, 0), (0, 0), 6)
    bottom = cv2.GaussianBlur(np.repeat(x[-1:], n, 0), (0, 0), 6)
    leg = np.vstack([top, x, bottom])
    film = np.full((3 * n + 40, int(1.6 * x.shape[1])), 12.0, np.float32)
    left = (film.shape[1] - x.shape[1]) // 2
    film[20:20 + 3 * n, left:left + x.shape[1]] = leg * fade + 12.0 * (1 - fade)
    return cv2.resize(film, (round(film.shape[1] * scale), round(film.shape[0] * scale)),
                      interpolation=cv2.INTER_LINEAR)


def shaft_film(x: np.ndarray, joint_at: float = 0.5, length: float = 6.0,
               width: float = 1.15) -> tuple[np.ndarray, tuple[float, float]]:
    """A portrait single-knee AP film with long shafts: the crop's first and last rows continued
    (smoothed) as the femur above and the tibia and fibula below, on a film ``length`` × the crop's
    height and ``width`` × its width (the leg fills a portrait film across), the joint line at
    ``joint_at`` of the height, the leg fading into a dark background at its sides. Returns the
    film (float) and the joint's centre (x, y)."""
    n, w = x.shape
    height = int(round(length * n))
    centre = min(max(joint_at * height, n / 2), height - n / 2)
    above = int(round(centre - n / 2))
    below = height - above - n
    fade = np.clip((1 - np.abs(np.linspace(-1, 1, w))) / 0.12, 0, 1)[None, :]
    parts = [cv2.GaussianBlur(np.repeat(x[:1], max(above, 1), 0), (0, 0), 6)[:above], x,
             cv2.GaussianBlur(np.repeat(x[-1:], max(below, 1), 0), (0, 0), 6)[:below]]
    leg = np.vstack(parts)
    film = np.full((height, int(width * w)), 12.0, np.float32)
    left = (film.shape[1] - w) // 2
    film[:, left:left + w] = leg * fade + 12.0 * (1 - fade)
    return film, (left + w / 2, above + n / 2)


def calibration_sphere(film: np.ndarray, centre: tuple[float, float], diameter: float, stem: float = 0.0) -> None:
    """A radiopaque calibration sphere drawn in place on a film of 0–255: a saturated disc (25 mm,
    about a third of a knee's width) with a short stem below it (its holder) when ``stem`` > 0
    (its length)."""
    cx, cy = int(round(centre[0])), int(round(centre[1]))
    if stem:
        half = max(1, int(diameter / 16))
        film[cy:cy + int(diameter / 2 + stem), cx - half:cx + half + 1] = 255.0
    cv2.circle(film, (cx, cy), int(round(diameter / 2)), 255.0, -1)


#: Gray values above this in a knee crop are metal (``long_leg.replaced_knee``): denser than any bone.
METAL_OVER = 255.0


def _levelled(x: np.ndarray, lo: float = 40.0, hi: float = 200.0) -> np.ndarray:
    """``x`` mapped linearly so that the 1st and 99.5th percentiles of its bone and soft tissue
    (metal aside) fall on ``lo`` and ``hi``: metal then lies above ``hi``, as on a real film."""
    a, b = np.percentile(x[x <= METAL_OVER], [1.0, 99.5])
    return lo + (x - a) * (hi - lo) / max(float(b - a), 1.0)


def standing_film(right: np.ndarray, left: np.ndarray, sphere: str | None = "between",
                  quality: int = 90, heavy: bool = False) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """A standing hip-to-ankle film of both legs, as a surgeon plans a replacement on: two long
    legs (``shaft_film``, the knees at mid-height), a radiopaque ruler along the film's left edge,
    a calibration sphere at knee height ``"between"`` the knees, ``"beside right"`` (outside the
    patient's right knee) or none, stored as a JPEG; ``heavy``: the knees levelled to one gray
    range (one patient's, exposed alike) and the whole film through a high-contrast,
    edge-enhanced tone curve (dense bone saturates). Returns the uint8 film
    and the true joint centres (patient's right first, on the image's left)."""
    n = right.shape[0]
    knees = [k.astype(np.float32) for k in (right, left)]
    if heavy:  # one patient's knees, exposed alike: each crop levelled to the same gray range first
        knees = [_levelled(k) for k in knees]
    legs = [shaft_film(k, 0.5, 6.0, 1.3) for k in knees]
    gap = int(0.2 * n)
    ruler = int(0.25 * n)
    width = ruler + sum(f.shape[1] for f, _ in legs) + gap
    film = np.full((legs[0][0].shape[0], width), 12.0, np.float32)
    x, centres = ruler, []
    for (leg, (cx, cy)), g in zip(legs, (gap, 0)):
        film[:, x:x + leg.shape[1]] = np.maximum(film[:, x:x + leg.shape[1]], leg)
        centres.append((x + cx, cy))
        x += leg.shape[1] + g
    return finish_standing(film, centres, n, sphere, n / 3, heavy, quality), centres


def finish_standing(film: np.ndarray, centres: list[tuple[float, float]], n: int, sphere: str | None,
                    diameter: float, heavy: bool, quality: int) -> np.ndarray:
    """What every standing film of both legs gets once its legs are on it (``film``, float, in
    place): a radiopaque ruler along its left edge (a bright strip with ticks every tenth of a
    knee ``n``, longer ones every half), a calibration sphere of ``diameter`` at knee height
    ``"between"`` the knees (``centres``: right, then left), ``"beside right"`` or none, with
    ``heavy`` the high-contrast, edge-enhanced tone curve, then storage as a JPEG: uint8."""
    ruler = int(0.25 * n)
    film[:, 8:ruler // 3] = 235.0
    for k, y in enumerate(range(0, film.shape[0], max(4, n // 10))):
        film[y:y + 2, ruler // 3:ruler // 3 + (ruler // 2 if k % 5 == 0 else ruler // 4)] = 255.0
    if sphere is not None:
        (rx, ry), (lx, ly) = centres
        where = {"between": ((rx + lx) / 2, (ry + ly) / 2), "beside right": (rx - 0.75 * n, ry)}[sphere]
        calibration_sphere(film, where, diameter, stem=n / 8)
    if heavy:
        film = contrast(unsharp(film, 2.0, 1.0), 5.0)
    _, data = cv2.imencode(".jpg", _u8(film), [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)


def sclerotic(x: np.ndarray, rng: np.random.Generator, compartments: int = 1,
              strength: float = 90.0, depth: float = 0.07) -> np.ndarray:
    """Dense subchondral sclerosis, as on the knees of severe OA that a replacement is planned
    for: bone density added under the tibial plateau and over the condyle of one compartment (at
    random) or of both (``compartments``), following the joint space column by column, densest
    at the joint and fading into the bone over ``depth`` × the height, patchy. ``x``: a float
    crop on 0–255 centred on the joint, as kneeKL224's; returns a float image (may exceed 255)."""
    x = x.astype(np.float32)
    n, w = x.shape
    out = x.copy()
    rows = np.arange(n, dtype=np.float32)[:, None]
    a, b = int(0.36 * n), int(0.64 * n)
    # The joint space: the darkest row near the middle, column by column, smoothed across.
    line = a + np.argmin(cv2.GaussianBlur(x, (0, 0), 3)[a:b], axis=0).astype(np.float32)
    line = cv2.GaussianBlur(line[None, :], (0, 0), 0.04 * w)[0][None, :]
    cols = np.arange(w, dtype=np.float32)
    for k in rng.permutation(2)[:compartments]:
        lo, hi = ((0.12, 0.45), (0.55, 0.88))[k]
        t = np.clip((cols - lo * w) / ((hi - lo) * w), 0, 1)
        along = np.clip(np.sin(np.pi * t), 0, 1) ** 0.5  # deepest under the compartment's middle
        d = depth * n * (0.3 + 0.7 * along)[None, :]
        below, above = rows - (line + 1.0), (line - 1.0) - rows
        mask = (np.where(below >= 0, np.exp(-np.maximum(below, 0) / d), 0)
                + 0.7 * np.where(above >= 0, np.exp(-np.maximum(above, 0) / (0.7 * d)), 0))
        mask *= (along > 0.05)[None, :]
        patch = cv2.GaussianBlur(rng.normal(0, 1, (n, w)).astype(np.float32), (0, 0), 4)
        mask *= 0.75 + 0.25 * patch / max(float(patch.std()), 1e-6)
        out += strength * cv2.GaussianBlur(mask.astype(np.float32), (0, 0), 1.0) * (0.5 + 0.5 * x / 255.0)
    return out


def avulsion(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A crop (float, 0–255) with a thin fracture line running from the tibial spines into one
    side of the plateau and a small fragment pulled off that side's rim (a dark gap round it)."""
    x = x.astype(np.float32).copy()
    n, w = x.shape
    side = int(rng.integers(2))
    sign = 1 if side else -1
    cx, cy = int((0.88 if side else 0.12) * w), int(0.58 * n)
    fragment = np.array([[cx - sign * int(0.02 * w), cy - 6], [cx + sign * int(0.05 * w), cy - 2],
                         [cx + sign * int(0.05 * w), cy + 8], [cx - sign * int(0.02 * w), cy + 10]], np.int32)
    gap = np.zeros_like(x)
    cv2.polylines(gap, [fragment], True, 1.0, 2)
    line = np.zeros_like(x)
    cv2.line(line, (int(0.5 * w), int(0.56 * n)), (cx, int(0.72 * n)), 1.0, 1)
    return x - 60 * cv2.GaussianBlur(gap, (0, 0), 0.7) - 50 * cv2.GaussianBlur(line, (0, 0), 0.6)


def teaching_film(x: np.ndarray, rng: np.random.Generator, across: int) -> tuple[np.ndarray, tuple[float, float]]:
    """A teaching-collection film of one knee: its shafts, enlarged to ``across`` px wide and
    sharpened, with a side marker and an arrow at the joint's edge. Returns it and the joint's
    centre."""
    film, (jx, jy) = shaft_film(x, float(rng.uniform(0.35, 0.65)), 3.0, 1.4)
    s = across / film.shape[1]
    big = cv2.resize(film, None, fx=s, fy=s, interpolation=cv2.INTER_CUBIC)
    big = _u8(unsharp(big, 2.0 * s, 0.8))
    h, w = big.shape
    tip = (int(jx * s + 0.42 * x.shape[1] * s), int(jy * s + 0.1 * x.shape[0] * s))
    cv2.arrowedLine(big, (min(w - 5, tip[0] + int(0.12 * w)), tip[1] - int(0.08 * h)), tip, 255,
                    max(2, w // 200), tipLength=0.3)
    cv2.putText(big, "R", (int(0.05 * w), int(0.08 * h)), cv2.FONT_HERSHEY_SIMPLEX, w / 400, 255, max(2, w // 300))
    return big, (jx * s, jy * s)


@dataclass(frozen=True)
class TightCut:
    """How a hospital cuts a film around the joint, as shares of a kneeKL224 crop: ``across`` and
    ``down`` kept, the cut's centre moved ``dx`` and ``dy`` (positive: right, down; the joint then
    lies left of or above the film's centre) and turned ``turn`` degrees."""

    across: float = 0.75
    down: float = 0.55
    dx: float = 0.0
    dy: float = 0.0
    turn: float = 0.0

    @staticmethod
    def drawn(rng: np.random.Generator) -> TightCut:
        """One hospital's cut of one film, drawn from the range a radiographer's framing spans:
        60–90 % across, 38–70 % down, the joint up to a tenth of the crop off centre either
        way, turned up to 8°."""
        return TightCut(float(rng.uniform(0.6, 0.9)), float(rng.uniform(0.38, 0.7)), float(rng.uniform(-0.1, 0.1)),
                        float(rng.uniform(-0.1, 0.1)), float(rng.uniform(-8, 8)))

    def joint(self, width: int, height: int) -> tuple[float, float]:
        """Where the crop's centre (its joint) lies on a film of this cut of ``width`` × ``height``."""
        return width * (0.5 - self.dx / self.across), height * (0.5 - self.dy / self.down)


def tight_film(x: np.ndarray, rng: np.random.Generator, bits: int = 16, cut: TightCut | None = None) -> np.ndarray:
    """Another hospital's single-knee film whose joint fills it: the crop cut tighter than
    kneeKL224 both ways (``tight_cut``: by default its middle 75 % across and 55 % down),
    squashed to 300×162, sharpened and stored at ``bits`` bits (uint16) or 8 (``bits`` = 8, uint8)."""
    out = unsharp(squash(tight_cut(x, cut or TightCut())), 2.0, 1.2)
    return _u8(out) if bits == 8 else to_16bit(out, rng, bits)


def tight_cut(x: np.ndarray, cut: TightCut | None = None) -> np.ndarray:
    """A crop cut tighter (``TightCut``; by default its middle 75 % across and 55 % down): a joint
    that fills its film. A turned cut is taken from the crop turned about its centre (edges mirrored)."""
    cut = cut or TightCut()
    n, w = x.shape
    if cut.turn:
        turn = cv2.getRotationMatrix2D(((w - 1) / 2, (n - 1) / 2), cut.turn, 1.0)
        x = cv2.warpAffine(x, turn, (w, n), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    top = int(round((0.5 - cut.down / 2 + cut.dy) * n))
    left = int(round((0.5 - cut.across / 2 + cut.dx) * w))
    top, left = min(max(top, 0), n - 8), min(max(left, 0), w - 8)
    return x[top:top + max(8, int(round(cut.down * n))), left:left + max(8, int(round(cut.across * w)))]


#: name → transform of a float image (0–255, from a square uint8 crop) into a film of any shape,
#: returned as float (stored as uint8) or as a uint16 array (a 16-bit film).
SITE_TRANSFORMS = {
    "as is": lambda x, rng: x,
    "300x162": lambda x, rng: squash(x),
    "300x162 sharpened": lambda x, rng: unsharp(squash(x), 2.0, 1.2),
    "300x162 sharpened 16-bit": lambda x, rng: to_16bit(contrast(unsharp(squash(x), 2.0, 1.2), 4.0), rng),
    "tight 300x162 sharpened": lambda x, rng: unsharp(squash(tight(x, 0.65)), 2.0, 1.0),
    "zoomed out 300x200": lambda x, rng: squash(reframe(x, rng, 0.7, 1.0, 0.0, (0.0, 0.0), "reflect"), 300, 200),
    "stretched 200x300": lambda x, rng: squash(x, 200, 300),
    "equalised": lambda x, rng: clahe(x, 3.0, 8),
    "high contrast": lambda x, rng: contrast(unsharp(x, 3.0, 1.5), 6.0),
    "gamma 0.6": lambda x, rng: gamma(x, 0.6),
    "gamma 1.6 12-bit": lambda x, rng: to_16bit(gamma(x, 1.6), rng, bits=12),
    "full leg film 16-bit": lambda x, rng: to_16bit(leg_film(x), rng),
}


def site_film(raw: np.ndarray, name: str, seed: int = 0) -> np.ndarray:
    """``raw`` (a uint8 crop) as the named site would store it: uint8, or uint16 for 16-bit."""
    rng = np.random.default_rng(seed)
    out = SITE_TRANSFORMS[name](raw.astype(np.float32), rng)
    return out if out.dtype == np.uint16 else _u8(out)


def two_knees(right: np.ndarray, left: np.ndarray, width: int = 640, height: int = 161) -> np.ndarray:
    """Two single-knee crops side by side, each squashed to half of ``width`` × ``height``: the
    patient's right knee on the image's left, as a wide two-knee image of another hospital."""
    half = width // 2
    return np.hstack([_u8(squash(right.astype(np.float32), half, height)),
                      _u8(squash(left.astype(np.float32), width - half, height))])


def two_tight_knees(right: np.ndarray, left: np.ndarray, cuts: tuple[TightCut | None, TightCut | None] = (None, None),
                    bits: int = 8, rng: np.random.Generator | None = None) -> np.ndarray:
    """Two knees whose joints fill their halves (``tight_cut``, each with its own cut: by default
    the middle 75 % across and 55 % down) side by side (``two_knees``, 640×161), sharpened as the
    other hospital's films: uint8, or at ``bits`` bits in a uint16 (dithered from ``rng``)."""
    pair = two_knees(*(tight_cut(x.astype(np.float32), cut) for x, cut in zip((right, left), cuts)))
    out = unsharp(pair.astype(np.float32), 2.0, 1.2)
    return _u8(out) if bits == 8 else to_16bit(out, rng or np.random.default_rng(0), bits)


def site_proxy(raws: np.ndarray, seed: int = 0, input_size: tuple[int, int] | None = None) -> np.ndarray:
    """Each raw crop as one simulated site's film (cycling through the transforms other than
    "as is"), framed whole and preprocessed as the pipeline grades a single-knee film: the site
    proxy that weighs in checkpoint choice for runs trained with ``augment_site``."""
    from ..core.knees.preprocess import preprocess

    names = [n for n in SITE_TRANSFORMS if n != "as is"]
    size = input_size or raws[0].shape[:2]
    return np.stack([preprocess(site_film(raw, names[i % len(names)], seed + i), size)
                     for i, raw in enumerate(raws)])
