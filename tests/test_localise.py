"""The knee-joint localiser: OpenCV-exact HOG, whole crops, bilateral films, sides, bad input."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from kneeoa_desktop.core import hog, localise
from kneeoa_desktop.core.localise import KneeRegion, find_knees
from kneeoa_desktop.training.augment import shaped_band

from .conftest import DATA_DIR, needs_data

REFERENCE = Path(__file__).parent / "data" / "hog_reference.npz"


def test_hog_matches_opencv4_reference():
    """The numpy HOG reproduces cv2.HOGDescriptor((64,64),(16,16),(8,8),(8,8),9) of OpenCV 4
    (saved in the npz, with the version that made it), on knee patches, noise and flat."""
    ref = np.load(REFERENCE)
    assert str(ref["opencv_version"]).startswith("4.")
    ours = hog.hog(ref["patches"])
    assert ours.shape == ref["descriptors"].shape == (len(ref["patches"]), 1764)
    np.testing.assert_allclose(ours, ref["descriptors"], atol=1e-5)


def test_dense_grid_equals_per_window_descriptor():
    """A window read off the image's block grid is the descriptor of that window computed
    with its neighbouring pixels (how the dense search scores windows)."""
    img = cv2.GaussianBlur(np.random.default_rng(1).integers(0, 256, (120, 136)).astype(np.uint8),
                           (0, 0), 2)
    blocks = hog.block_grid(img)
    w = np.random.default_rng(2).normal(size=1764).astype(np.float32)
    scores = hog.score_map(blocks, hog.window_weights(w), 0.5)
    i, j = 2, 3
    desc = np.swapaxes(blocks[i:i + 7, j:j + 7], 0, 1).reshape(-1)
    assert scores[i, j] == pytest.approx(float(desc @ w) + 0.5, abs=1e-3)


@pytest.mark.parametrize("shape", [(64, 64), (100, 131), (245, 318)])
def test_mirrored_block_grid_is_that_of_the_mirror_image(shape):
    """The left-knee scan reuses the image's gradients (bins reversed, columns flipped); it
    gives the block grid of the mirror image, and the image's own grid is untouched."""
    img = cv2.GaussianBlur(np.random.default_rng(3).integers(0, 256, shape).astype(np.uint8),
                           (5, 5), 1.2)
    blocks, mirrored = hog.block_grid_and_mirror(img)
    np.testing.assert_array_equal(blocks, hog.block_grid(img))
    np.testing.assert_allclose(mirrored, hog.block_grid(np.fliplr(img)), atol=1e-6)


def test_each_gradient_lands_in_its_two_nearest_bins():
    """A pure horizontal ramp (gradient angle 0°, halfway between the bins centred at 170° and
    10°) splits its magnitude evenly between bin 8 and bin 0; a 45° ramp goes to bins 1 and 2."""
    ramp = np.tile(np.arange(0, 64, 2, dtype=np.float32), (8, 1))
    hist = hog._orientation_histograms(ramp)[:, 3, 3:-3]
    np.testing.assert_allclose(hist[0], 2.0)
    np.testing.assert_allclose(hist[8], 2.0)
    assert not hist[1:8].any()
    diag = np.add.outer(np.arange(16), np.arange(16)).astype(np.float32)
    hist = hog._orientation_histograms(diag)[:, 5, 5]
    assert set(np.flatnonzero(hist)) <= {1, 2} and hist.sum() == pytest.approx(2 * np.sqrt(2), rel=1e-6)


def _val_crop(side: str, grade: str = "2") -> np.ndarray:
    paths = sorted((DATA_DIR / "val" / grade).glob(f"*{side}.png"))
    return cv2.imread(str(paths[0]), cv2.IMREAD_GRAYSCALE)


def bilateral_film(right: np.ndarray, left: np.ndarray) -> tuple[np.ndarray, list]:
    """SYNTHETIC bilateral PA film: two real single-joint crops (patient's right on the image's
    left) on a dark canvas, each extended into a leg by its first and last rows (smoothed, so
    they read as shafts rather than as sharp streaks) and faded into the background at its
    sides like soft tissue. Returns the film and the true joint centres (x, y)."""
    n = right.shape[0]
    fade = np.clip((1 - np.abs(np.linspace(-1, 1, n))) / 0.12, 0, 1)[None, :]
    gap = int(0.15 * n)
    film = np.full((3 * n + 40, 2 * n + 3 * gap), 12, np.float32)
    truth = []
    for knee, x in zip((right, left), (gap, 2 * gap + n)):
        knee = knee.astype(np.float32)
        top = cv2.GaussianBlur(np.repeat(knee[:1], n, 0), (0, 0), 6)
        bottom = cv2.GaussianBlur(np.repeat(knee[-1:], n, 0), (0, 0), 6)
        leg = np.vstack([top, knee, bottom])
        film[20:20 + 3 * n, x:x + n] = leg * fade + 12 * (1 - fade)
        truth.append((x + n / 2, 20 + 1.5 * n))
    return np.clip(film, 0, 255).astype(np.uint8), truth


@needs_data
def test_crop_is_one_whole_region():
    crop = _val_crop("R", "0")
    regions = find_knees(crop)
    assert regions == [KneeRegion(0, 0, 224, 224, None, regions[0].score, True)]
    assert find_knees(crop, laterality="L")[0].side == "left"


def _centred(region: KneeRegion, truth) -> bool:
    cx, cy = region.centre
    return max(abs(cx - truth[0]), abs(cy - truth[1])) <= 0.15 * region.width


@needs_data
def test_bilateral_film_gives_right_then_left_centred():
    film, truth = bilateral_film(_val_crop("R"), _val_crop("L"))
    regions = find_knees(film)
    assert [r.side for r in regions] == ["right", "left"]
    assert not any(r.whole_image or r.squared for r in regions)
    for region, centre in zip(regions, truth):
        assert _centred(region, centre), (region, centre)


@needs_data
def test_scanning_window_sizes_in_threads_changes_nothing(monkeypatch):
    """The window sizes are scanned on two threads; one thread finds exactly the same regions."""
    film, _ = bilateral_film(_val_crop("R"), _val_crop("L"))
    band = shaped_band(_val_crop("R"), 300, 162)
    monkeypatch.setattr(localise, "SCAN_THREADS", 2)
    threaded = [find_knees(film), find_knees(band)]
    monkeypatch.setattr(localise, "SCAN_THREADS", 1)
    assert [find_knees(film), find_knees(band)] == threaded


@needs_data
def test_mirrored_film_swaps_sides():
    film, truth = bilateral_film(_val_crop("R"), _val_crop("L"))
    regions = find_knees(np.fliplr(film).copy())
    assert [r.side for r in regions] == ["right", "left"]
    w = film.shape[1]
    mirrored_truth = [(w - x, y) for x, y in reversed(truth)]
    for region, centre in zip(regions, mirrored_truth):
        assert _centred(region, centre)


@needs_data
def test_single_knee_film_uses_dicom_laterality():
    crop = _val_crop("R")
    n = crop.shape[0]
    film = cv2.copyMakeBorder(crop, n, n, n // 2, n // 2, cv2.BORDER_REPLICATE)  # 2.2:1 film
    for code, side in (("R", "right"), ("L", "left")):
        regions = find_knees(film, laterality=code)
        assert len(regions) == 1 and regions[0].side == side and not regions[0].whole_image
        assert not regions[0].squared
        assert _centred(regions[0], (film.shape[1] / 2, film.shape[0] / 2))


@needs_data
@pytest.mark.parametrize("make", [
    lambda c: shaped_band(c, 300, 162),
    lambda c: shaped_band(c, 162, 300),
    lambda c: shaped_band(c, 280, 224),  # within the aspect of the whole-crop test
    lambda c: cv2.copyMakeBorder(c, 0, 0, 45, 45, cv2.BORDER_CONSTANT, value=0),  # on a wider dark film
    lambda c: cv2.copyMakeBorder(c, 45, 45, 0, 0, cv2.BORDER_REPLICATE),  # a taller film
], ids=["wide 300x162", "tall 162x300", "wide 280x224", "wider dark film", "taller film"])
def test_a_crop_of_another_shape_is_one_squared_region(make):
    """Not squashed to a square, and not searched for a smaller knee: the centred square of its
    longer side, to be filled with black past the image (``squared``)."""
    image = make(_val_crop("R", "1"))
    h, w = image.shape
    n = max(h, w)
    regions = find_knees(image, laterality="L")
    assert regions == [KneeRegion(-((n - w) // 2), -((n - h) // 2), n, n, "left", regions[0].score, False, True)]


@needs_data
@pytest.mark.parametrize("name", ["0/9623707L.png", "0/9886598L.png"])
def test_a_band_whose_halves_pass_for_two_weak_knees_stays_one_crop(name):
    """In these bands the two halves of the one joint pass the bilateral pairing (weakly); the
    band squared scores far better than either half, so it is one squared crop, not two knees."""
    from kneeoa_desktop.core import localise

    image = shaped_band(cv2.imread(str(DATA_DIR / "val" / name), cv2.IMREAD_GRAYSCALE), 300, 162)
    work, scale = localise._work_image(image)
    candidates = localise._candidates(work, localise._scales(work, scale, None), oblong=True)
    assert candidates.pair is not None  # what made it "two knees" before the square had its say
    [region] = find_knees(image)
    assert region.squared and region.width == 300


@needs_data
@pytest.mark.parametrize("border", [cv2.BORDER_REPLICATE, cv2.BORDER_CONSTANT], ids=["replicated", "dark"])
def test_a_knee_on_a_larger_film_is_found_not_squared(border):
    """A knee a third of the film's height is looked for on it, not taken for a crop (how well it
    is then framed is test_single_knee_film_uses_dicom_laterality's matter)."""
    film = cv2.copyMakeBorder(_val_crop("L", "3"), 224, 224, 112, 112, border, value=0)
    regions = find_knees(film)
    assert regions and not any(r.whole_image or r.squared for r in regions)


@pytest.mark.parametrize("pixels", [
    np.zeros((10, 10), np.uint8),
    np.zeros((300, 300), np.uint8),
    np.full((400, 500), 40000, np.uint16),
    np.zeros((5, 5000), np.uint8),
    np.zeros((2, 3, 3), np.uint8),
], ids=["tiny", "flat", "flat16", "sliver", "3d"])
def test_bad_inputs_give_no_region(pixels):
    assert find_knees(pixels) == []


def test_sixteen_bit_and_noise_do_not_crash():
    rng = np.random.default_rng(0)
    for pixels in (rng.integers(0, 4096, (700, 900)).astype(np.uint16),
                   rng.integers(0, 256, (64, 64)).astype(np.uint8),
                   rng.random((100, 3000)).astype(np.float32)):
        for region in find_knees(pixels, pixel_spacing_mm=0.15):
            assert region.width == region.height > 0


@needs_data
def test_sixteen_bit_crop_same_as_eight_bit():
    crop = _val_crop("L", "3")
    assert find_knees(crop.astype(np.uint16) * 257)[0].whole_image
