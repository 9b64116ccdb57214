"""OpenCV's HOG descriptor, re-implemented in numpy and vectorised over whole images.

OpenCV 5 dropped ``cv2.HOGDescriptor``; the knee-joint SVM (``localise``) was trained on its
features, so this module reproduces ``cv2.HOGDescriptor((64, 64), (16, 16), (8, 8), (8, 8), 9)``
exactly (``tests/test_localise.py`` checks it against descriptors saved from OpenCV 4):

- gradients ``[-1, 0, 1]`` in x and y, image borders mirrored without repeating the edge
  (BORDER_REFLECT_101), no gamma correction (the 5-argument constructor's default);
- unsigned orientation, 9 bins over 0–180°, each gradient split linearly between the two
  nearest bin centres (centres at 10°, 30°, …);
- inside a 16×16 block, each pixel weighted by a Gaussian of sigma 4 centred on pixel (8, 8)
  (OpenCV's ``i - blockSize/2``, not the geometric centre 7.5) and split bilinearly between the
  four 8×8 cells around it (cell centres at 3.5 and 11.5), without renormalising at the edges;
- L2-Hys per block: ``v / (‖v‖ + 0.1·36)``, clipped at 0.2, then ``v / (‖v‖ + 1e-3)``;
- feature order: blocks column by column (x outer, y inner), inside a block the cells
  column by column too, then the 9 bins.

Because the block stride equals the cell size, every block's histogram is a sum of four 8×8
tile contributions that depend only on the tile and its quadrant in the block. ``block_grid``
computes those once for a whole image; a 64×64 window whose corner lies on the 8-pixel grid
then reads its 7×7 blocks straight off the grid, so a dense map of window scores costs about
one pass over the image instead of one descriptor per window.
"""

from __future__ import annotations

import cv2
import numpy as np

CELL = 8
BLOCK_CELLS = 2
NBINS = 9
WINDOW = 64
#: Blocks per window side: (64 - 16) / 8 + 1.
WINDOW_BLOCKS = (WINDOW - CELL * BLOCK_CELLS) // CELL + 1
DESCRIPTOR_SIZE = WINDOW_BLOCKS * WINDOW_BLOCKS * BLOCK_CELLS * BLOCK_CELLS * NBINS  # 1764
_SIGMA = (2 * CELL * BLOCK_CELLS) / 8.0  # OpenCV: (blockSize.width + blockSize.height) / 8
_L2HYS_THRESHOLD = 0.2


def _tile_profiles() -> np.ndarray:
    """Weights ``[quadrant, cell, pixel]`` (2, 2, 8) along one axis: Gaussian × cell share.

    The 2-D weight of a pixel is the product of its x and y profiles (OpenCV computes
    ``exp(-(di + dj))``, which factorises the same way)."""
    p = np.arange(2 * CELL, dtype=np.float64)  # position inside the block
    gauss = np.exp(-((p - CELL) ** 2) / (2 * _SIGMA**2))
    centre = (p + 0.5) / CELL - 0.5
    share = np.stack([np.maximum(0.0, 1.0 - np.abs(centre - c)) for c in range(BLOCK_CELLS)])
    weights = gauss * share  # (cell, position)
    return weights.reshape(BLOCK_CELLS, 2, CELL).transpose(1, 0, 2).astype(np.float32)


_PROFILES = _tile_profiles()


# OpenCV's fast arctangent (``fastAtan32f``, used by ``cartToPolar``): a 7th-order polynomial,
# within ~0.01° of the true angle. Copying it, not calling np.arctan2, is what makes the
# descriptors agree to ~1e-6 instead of ~3e-4 near orientation-bin boundaries.
_ATAN = [np.float32(c * 180 / np.pi) for c in
         (0.9997878412794807, -0.3258083974640975, 0.1555786518463281, -0.04432655554792128)]


def _unsigned_angle_deg(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Gradient orientation in [0, 180] degrees, as OpenCV computes it modulo 180."""
    ax, ay = np.abs(dx), np.abs(dy)
    lo, hi = np.minimum(ax, ay), np.maximum(ax, ay)
    c = lo / (hi + np.float32(2.220446049250313e-16))
    c2 = c * c
    a = (((_ATAN[3] * c2 + _ATAN[2]) * c2 + _ATAN[1]) * c2 + _ATAN[0]) * c
    a = np.where(ay > ax, np.float32(90) - a, a)
    # OpenCV maps x < 0 to 180 - a and y < 0 to 360 - a; modulo 180 only the sign parity counts.
    return np.where((dx < 0) != (dy < 0), np.float32(180) - a, a)


def _orientation_histograms(images: np.ndarray) -> np.ndarray:
    """Per-pixel gradient magnitude split over the 9 bins: (9, ..., H, W) float32, bins first
    so that the tile contractions in ``block_grid`` are plain matrix products."""
    img = images.astype(np.float32)
    pad = [(0, 0)] * (img.ndim - 2) + [(1, 1), (1, 1)]
    padded = np.pad(img, pad, mode="reflect")  # numpy's "reflect" is OpenCV's REFLECT_101
    dx = padded[..., 1:-1, 2:] - padded[..., 1:-1, :-2]
    dy = padded[..., 2:, 1:-1] - padded[..., :-2, 1:-1]
    mag = np.sqrt(dx * dx + dy * dy)
    pos = _unsigned_angle_deg(dx, dy) * np.float32(NBINS / 180.0) - np.float32(0.5)
    low = np.floor(pos)
    upper = mag * (pos - low)
    low = low.astype(np.intp) % NBINS
    # Each pixel writes its two shares straight into its two bins, by flat index: a one-hot
    # mask over all 9 bins (9 full-size temporaries) cost twice as much on the larger scales.
    out = np.zeros(NBINS * mag.size, np.float32)
    pixel = np.arange(mag.size)
    low = low.ravel()
    out[low * mag.size + pixel] = (mag - upper).ravel()
    upper_bin = np.where(low == NBINS - 1, 0, low + 1)  # the next bin up, 170–180° wrapping to 0
    out[upper_bin * mag.size + pixel] = upper.ravel()
    return out.reshape((NBINS,) + mag.shape)


def block_grid(images: np.ndarray) -> np.ndarray:
    """L2-Hys normalised block histograms on the 8-pixel grid of one image or a batch.

    ``images``: (..., H, W) gray, any numeric type (not rescaled: pass 0–255 values).
    Returns (..., H//8 - 1, W//8 - 1, 36) float32; the block at [i, j] covers pixels
    ``[8i, 8i+16) × [8j, 8j+16)``, features in OpenCV's in-block order."""
    return _blocks_from_histograms(_orientation_histograms(images))


def block_grid_and_mirror(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``block_grid`` of an image and of its mirror image, from one gradient computation.

    Mirroring negates dx, which turns an orientation θ into 180° − θ: bin b's share goes to
    bin 8 − b, exactly (the bin centres are symmetric about 90°). So the mirror image's
    per-pixel histograms are the image's, flipped left–right with the bins reversed."""
    hist = _orientation_histograms(image)  # (9, H, W)
    mirrored = hist[::-1, :, ::-1]
    return _blocks_from_histograms(hist), _blocks_from_histograms(np.ascontiguousarray(mirrored))


def _blocks_from_histograms(hist: np.ndarray) -> np.ndarray:
    *lead, h, w = hist.shape[1:]
    ty, tx = h // CELL, w // CELL
    tiles = np.ascontiguousarray(hist[..., : ty * CELL, : tx * CELL])
    profiles = _PROFILES.reshape(2 * BLOCK_CELLS, CELL)  # [(quadrant, cell), pixel]
    # Contract the pixels of each tile with the separable weights, x then y, as two matrix
    # products whose results keep the (quadrant, cell) axes outermost: the four quadrant sums
    # below then add long contiguous rows (adding short strided ones cost twice as much).
    t = profiles @ tiles.reshape(-1, CELL).T  # (qx·cx, 9·…·ty·8·tx)
    t = profiles @ t.reshape(2 * BLOCK_CELLS, -1, CELL, tx)  # (qx·cx, 9·…·ty, qy·cy, tx)
    t = t.reshape(2, 2, NBINS, *lead, ty, 2, 2, tx)  # (qx, cx, 9, ..., ty, qy, cy, tx)
    # A block at (i, j) adds tile (i + qy, j + qx) seen from quadrant (qy, qx).
    blocks = (t[0, :, ..., :-1, 0, :, :-1] + t[1, :, ..., :-1, 0, :, 1:]
              + t[0, :, ..., 1:, 1, :, :-1] + t[1, :, ..., 1:, 1, :, 1:])  # (cx, 9, ..., by, cy, bx)
    # -> (..., by, bx, cx, cy, bin): OpenCV's order (cells column by column, then the bins).
    nd = blocks.ndim
    blocks = blocks.transpose(*range(2, nd - 3), nd - 3, nd - 1, 0, nd - 2, 1)
    blocks = np.ascontiguousarray(blocks).reshape(*blocks.shape[:-3], 4 * NBINS)
    return _l2hys(blocks)


def _l2hys(blocks: np.ndarray) -> np.ndarray:
    n = blocks.shape[-1]
    v = blocks / (np.sqrt((blocks * blocks).sum(-1, keepdims=True)) + np.float32(0.1 * n))
    v = np.minimum(v, np.float32(_L2HYS_THRESHOLD))
    return v / (np.sqrt((v * v).sum(-1, keepdims=True)) + np.float32(1e-3))


def hog(patches: np.ndarray) -> np.ndarray:
    """Descriptors of 64×64 patches, (64, 64) -> (1764,) or (N, 64, 64) -> (N, 1764), equal to
    ``cv2.HOGDescriptor((64, 64), (16, 16), (8, 8), (8, 8), 9).compute`` of each patch."""
    patches = np.asarray(patches)
    if patches.shape[-2:] != (WINDOW, WINDOW):
        raise ValueError(f"HOG patches must be {WINDOW}×{WINDOW}, got {patches.shape[-2:]}")
    blocks = block_grid(patches)  # (..., 7, 7, 36) as [by, bx]
    return np.swapaxes(blocks, -3, -2).reshape(*patches.shape[:-2], DESCRIPTOR_SIZE)


def window_weights(weights: np.ndarray) -> np.ndarray:
    """A linear model's 1764 weights rearranged as [by, bx, 36] to match ``block_grid``."""
    w = np.asarray(weights, np.float32).reshape(WINDOW_BLOCKS, WINDOW_BLOCKS, 4 * NBINS)
    return np.ascontiguousarray(w.transpose(1, 0, 2))  # stored x-major -> [by, bx]


def score_map(blocks: np.ndarray, grid_weights: np.ndarray, bias: float) -> np.ndarray:
    """Linear scores of every 64×64 window whose corner lies on the 8-pixel grid.

    ``blocks``: (BH, BW, 36) from ``block_grid``; ``grid_weights`` from ``window_weights``.
    Entry [i, j] scores the window with top-left pixel (8i, 8j)."""
    bh, bw, _ = blocks.shape
    nh, nw = bh - WINDOW_BLOCKS + 1, bw - WINDOW_BLOCKS + 1
    if nh <= 0 or nw <= 0:
        return np.empty((0, 0), np.float32)
    # A correlation of each feature plane with its 7×7 weights, summed over the 36 features
    # (OpenCV's filter2D: several times faster than summing 49 shifted slices in NumPy).
    planes = np.ascontiguousarray(np.moveaxis(blocks, -1, 0))  # one copy, not one per plane
    acc = np.zeros((bh, bw), np.float32)
    for plane, weights in zip(planes, np.ascontiguousarray(np.moveaxis(grid_weights, -1, 0))):
        acc += cv2.filter2D(plane, -1, weights, anchor=(0, 0), borderType=cv2.BORDER_CONSTANT)
    return acc[:nh, :nw] + np.float32(bias)
