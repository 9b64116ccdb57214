"""The knee-joint localiser: OpenCV-exact HOG, whole crops, bilateral films, sides, bad input."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from kneeoa_desktop.core.knees import hog, knee_pairs, knee_scan, localise
from kneeoa_desktop.core.knees.localise import KneeRegion, find_knees
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
    assert regions == [KneeRegion(0, 0, 224, 224, "right", regions[0].score, True)]
    assert find_knees(crop, laterality="L")[0].side == "left"  # the DICOM header wins


def _centred(region: KneeRegion, truth) -> bool:
    cx, cy = region.centre
    return max(abs(cx - truth[0]), abs(cy - truth[1])) <= 0.15 * region.width


@needs_data
def test_bilateral_film_gives_right_then_left_centred():
    film, truth = bilateral_film(_val_crop("R"), _val_crop("L"))
    regions = find_knees(film)
    assert [r.side for r in regions] == ["right", "left"]
    assert not any(r.whole_image for r in regions)
    for region, centre in zip(regions, truth):
        assert _centred(region, centre), (region, centre)


@needs_data
def test_scanning_window_sizes_in_threads_changes_nothing(monkeypatch):
    """The window sizes are scanned on two threads; one thread finds exactly the same regions."""
    film, _ = bilateral_film(_val_crop("R"), _val_crop("L"))
    band = shaped_band(_val_crop("R"), 300, 162)
    monkeypatch.setattr(knee_scan, "SCAN_THREADS", 2)
    threaded = [find_knees(film), find_knees(band)]
    monkeypatch.setattr(knee_scan, "SCAN_THREADS", 1)
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
        assert _centred(regions[0], (film.shape[1] / 2, film.shape[0] / 2))


@needs_data
@pytest.mark.parametrize("make", [
    lambda c: shaped_band(c, 300, 162),
    lambda c: shaped_band(c, 280, 224),
    lambda c: cv2.resize(c, (300, 162), interpolation=cv2.INTER_AREA),  # resized, aspect not kept
    lambda c: cv2.resize(c, (200, 300), interpolation=cv2.INTER_AREA),
    lambda c: cv2.copyMakeBorder(c, 45, 45, 0, 0, cv2.BORDER_REPLICATE),  # a taller film
], ids=["wide 300x162", "wide 280x224", "squashed 300x162", "stretched 200x300", "taller film"])
def test_a_crop_of_another_shape_is_one_whole_region(make):
    """Always looked at, never shortcut on its shape: the whole image wins as one crop (resized
    to the square input by the pipeline, never padded)."""
    image = make(_val_crop("R", "1"))
    h, w = image.shape
    regions = find_knees(image, laterality="L")
    assert regions == [KneeRegion(0, 0, w, h, "left", regions[0].score, True)]


@needs_data
def test_a_square_bilateral_film_is_searched_not_taken_for_a_crop():
    """A bilateral film whose aspect ratio is under 1.35 (the real one of issue 24 is 571×456)
    still gives two knees: no shape makes the finder skip its search."""
    film, truth = bilateral_film(_val_crop("R"), _val_crop("L"))
    w = film.shape[1]
    top = int(truth[0][1] - w / 1.25 / 2)
    landscape = film[top:top + int(w / 1.25)]  # 1.25:1, the joints at mid-height
    regions = find_knees(landscape)
    assert [r.side for r in regions] == ["right", "left"]
    for region, (x, y) in zip(regions, truth):
        assert _centred(region, (x, y - top)), (region, (x, y - top))


@needs_data
def test_two_squashed_knees_side_by_side_give_two_records():
    from kneeoa_desktop.training.sites import two_knees

    image = two_knees(_val_crop("R", "2"), _val_crop("L", "3"))
    right, left = find_knees(image)
    assert (right.side, left.side) == ("right", "left")
    assert right.centre[0] < 320 <= left.centre[0]


@needs_data
def test_a_crop_on_a_flat_canvas_is_framed_on_its_content():
    """A crop pasted on a black canvas: the flat margins are not part of the joint."""
    crop = _val_crop("L", "3")
    film = cv2.copyMakeBorder(crop, 224, 224, 112, 112, cv2.BORDER_CONSTANT, value=0)
    [region] = find_knees(film)
    assert not region.whole_image
    cx, cy = region.centre
    assert abs(cx - film.shape[1] / 2) <= 0.15 * 224 and abs(cy - film.shape[0] / 2) <= 0.15 * 224
    assert 0.7 * 224 <= region.width <= 1.3 * 224


@needs_data
def test_a_knee_on_a_larger_film_is_found():
    """A knee a third of the film's height is looked for on it, not taken for a crop."""
    film = cv2.copyMakeBorder(_val_crop("L", "3"), 224, 224, 112, 112, cv2.BORDER_REPLICATE)
    regions = find_knees(film)
    assert len(regions) == 1 and not regions[0].whole_image
    assert _centred(regions[0], (film.shape[1] / 2, film.shape[0] / 2))


@needs_data
@pytest.mark.parametrize("grade, side", [("0", "L"), ("3", "R"), ("2", "L")])
def test_a_full_leg_film_gives_one_knee_on_the_joint(grade, side):
    """A full single-knee AP film (shafts above and below, a dark background beside the leg):
    one region, on the joint, not a pair of condyles nor the shaft (issue 24's real AP films)."""
    from kneeoa_desktop.training.sites import leg_film

    crop = _val_crop(side, grade)
    film = np.clip(leg_film(crop.astype(np.float32), 3.0), 0, 255).astype(np.uint8)
    [region] = find_knees(film)
    truth = (film.shape[1] / 2, (20 + 1.5 * 224) * 3.0)
    cx, cy = region.centre
    assert abs(cx - truth[0]) <= 0.2 * region.width and abs(cy - truth[1]) <= 0.2 * region.height


@needs_data
@pytest.mark.parametrize("joint_at", [0.15, 0.5, 0.85])
def test_a_leg_that_fills_a_portrait_film_across_is_framed_on_its_joint(joint_at):
    """A portrait film with long shafts whose leg fills it across (``training.sites.shaft_film``,
    issue 33's single-knee AP films): the joint's window may be wider than the film, so the scan
    searches windows past its edges (``PORTRAIT_ASPECT``). The scan alone, every 24th val crop:
    35, 35, 35 of 35 on the joint; 29, 32, 26 before it did (a condyle, or two condyles taken
    for a pair)."""
    from kneeoa_desktop.training.sites import _u8, shaft_film

    paths = sorted((DATA_DIR / "val").glob("[0-4]/*.png"))[::24]
    on_joint = 0
    for path in paths:
        film, (tx, ty) = shaft_film(cv2.imread(str(path), cv2.IMREAD_GRAYSCALE).astype(np.float32), joint_at)
        regions = find_knees(_u8(film))
        if len(regions) == 1:
            cx, cy = regions[0].centre
            on_joint += abs(cx - tx) <= 0.2 * regions[0].width and abs(cy - ty) <= 0.2 * regions[0].height
    assert on_joint >= len(paths) - 1, (on_joint, len(paths))


def test_two_windows_inside_one_better_knee_window_are_not_a_pair():
    """The condyles, or the tibia and fibula, of one knee score as a right/left pair to the
    detector; both lie inside the knee's own window, which outscores them: one knee."""
    best = knee_scan.Peak(100, 200, 120, 1.6, False)
    condyles = (knee_scan.Peak(75, 205, 40, 0.5, False), knee_scan.Peak(125, 195, 40, 0.3, True))
    assert knee_pairs.one_knee(best, condyles)
    # Two knees of a bilateral film: the best window is one of them; the other lies outside it.
    knees = (knee_scan.Peak(100, 200, 120, 1.6, False), knee_scan.Peak(300, 200, 120, 1.2, True))
    assert not knee_pairs.one_knee(best, knees)
    # A pair that outscores the window around it is a pair (two small knees on a large film).
    assert not knee_pairs.one_knee(knee_scan.Peak(100, 200, 120, 0.2, False), condyles)


@needs_data
@pytest.mark.parametrize("anchor_side", ["right", "left"])
def test_a_knees_mate_is_the_other_knee_at_its_height_however_it_scores(anchor_side):
    """On a film of both legs hip to ankle, the best window's mate (``knee_pairs.mate``) is the
    window of its size in the other half, about its height, that the other detector scores best
    (read off the scan's own score maps: it costs nothing more):
    the other knee, even when it is a block of metal (no pair of the scan holds a replaced knee,
    which the detector scores far below a native joint). None for a window too wide for two knees
    side by side (one knee's film with its shafts)."""
    from kneeoa_desktop.training.long_leg import long_leg_film

    rng = np.random.default_rng(0)
    right, left = _val_crop("R"), _val_crop("L")
    # The other knee covered by a flat bright block, as metal: nothing like a joint to the SVM.
    if anchor_side == "right":
        left = left.copy()
        left[60:170, 40:190] = 250
    else:
        right = right.copy()
        right[60:170, 40:190] = 250
    film, centres = long_leg_film(right, left, rng, 0.22, None)
    work, scale, _ = localise._work_and_box(film)
    size = right.shape[0] / localise.FRAME * scale
    mine, theirs = (centres if anchor_side == "right" else centres[::-1])
    anchor = knee_scan.Peak(mine[0] * scale, mine[1] * scale, size, 1.5, anchor_side == "left")
    maps: list = []
    knee_scan.peaks(work, localise._anisotropies(work, scale, None), 1, maps)
    found = knee_pairs.mate(maps, anchor, work.shape[1])
    assert found is not None and found.mirrored == (anchor_side == "right") and found.size == size
    assert abs(found.cx - theirs[0] * scale) <= size / 2 and abs(found.cy - theirs[1] * scale) <= size / 4
    assert found.score < knee_pairs.BILATERAL_SCORE_MIN  # no pair of the scan would hold it
    wide = knee_scan.Peak(work.shape[1] * 0.3, mine[1] * scale, 0.6 * work.shape[1], 1.5, False)
    assert knee_pairs.mate(maps, wide, work.shape[1]) is None


def test_a_tighter_window_on_the_same_joint_is_offered_to_the_knee_head():
    best = knee_scan.Peak(100, 200, 120, 1.6, False)
    peaks = [best, knee_scan.Peak(104, 198, 101, 1.1, False), knee_scan.Peak(102, 200, 84, 1.3, False),
             knee_scan.Peak(100, 200, 60, 2.0, False),  # a condyle: too small
             knee_scan.Peak(180, 200, 100, 1.9, False),  # elsewhere
             knee_scan.Peak(100, 200, 100, 1.9, False, 1.4)]  # another stretch
    assert localise._smaller(peaks, best) == peaks[2]
    assert localise._smaller([best], best) is None


def test_content_box_cuts_only_wide_flat_margins():
    img = np.zeros((300, 400), np.uint8)
    img[100:200, 150:250] = np.random.default_rng(0).integers(50, 200, (100, 100))
    assert localise.content_box(img) == (150, 100, 100, 100)
    thin = np.random.default_rng(1).integers(50, 200, (300, 400)).astype(np.uint8)
    thin[:20] = 0  # a thin black strip stays part of the crop
    assert localise.content_box(thin) == (0, 0, 400, 300)


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
            assert region.width > 0 and region.height > 0


@needs_data
def test_sixteen_bit_crop_same_as_eight_bit():
    crop = _val_crop("L", "3")
    assert find_knees(crop.astype(np.uint16) * 257)[0].whole_image


# --- which knee is which: a report that names the wrong knee is a clinical error ----------------

def _side_crops() -> list[tuple[np.ndarray, str]]:
    """A fixed spread of kneeKL224/val crops of every grade, with the side their file names
    (…R.png: the patient's right knee, its fibula on the image's left)."""
    paths = sorted((DATA_DIR / "val").glob("*/*.png"))[::40]
    return [(cv2.imread(str(p), cv2.IMREAD_GRAYSCALE), "right" if p.stem.endswith("R") else "left") for p in paths]


def _on_canvas(crop: np.ndarray) -> np.ndarray:
    canvas = np.zeros((600, 500), np.uint8)
    canvas[100:100 + crop.shape[0], 150:150 + crop.shape[1]] = crop
    return canvas


_OTHER = {"right": "left", "left": "right"}
#: How a single knee reaches the finder, and what that does to the side it must name.
SIDE_CASES = {
    "as it is": (lambda c: c, False),
    "mirrored": (lambda c: np.ascontiguousarray(c[:, ::-1]), True),
    "on a black canvas": (_on_canvas, False),
    "mirrored on a black canvas": (lambda c: _on_canvas(np.ascontiguousarray(c[:, ::-1])), True),
    "squashed to 300x162": (lambda c: cv2.resize(c, (300, 162), interpolation=cv2.INTER_AREA), False),
    "on a larger film": (lambda c: cv2.copyMakeBorder(c, 224, 224, 112, 112, cv2.BORDER_REPLICATE), False),
}


@needs_data
@pytest.mark.parametrize("case", list(SIDE_CASES))
def test_a_single_knee_is_named_its_own_side_or_none(case):
    """Never the other knee; and named for most (the first val/2 right knee on a black canvas
    was named "left" when the side came from the best mirrored window anywhere on the film)."""
    make, mirrored = SIDE_CASES[case]
    crops = _side_crops()
    assert len(crops) >= 20 and {side for _, side in crops} == {"right", "left"}
    wrong, named = [], 0
    for k, (crop, side) in enumerate(crops):
        truth = _OTHER[side] if mirrored else side
        [region] = find_knees(make(crop))
        if region.side is not None:
            named += 1
            if region.side != truth:
                wrong.append((k, truth, region.side))
    assert wrong == []
    assert named >= 0.75 * len(crops), f"{case}: {named} of {len(crops)} named"


@needs_data
def test_the_first_val2_right_knee_on_a_black_canvas_is_the_right_knee():
    [region] = find_knees(_on_canvas(_val_crop("R", "2")))
    assert region.side == "right"
    [region] = find_knees(_on_canvas(np.ascontiguousarray(_val_crop("R", "2")[:, ::-1])))
    assert region.side == "left"


@needs_data
@pytest.mark.parametrize("grades", [("2", "2"), ("0", "3"), ("4", "1")])
def test_both_knees_of_bilateral_films_are_named_by_where_they_lie(grades):
    """Patient's right on the image's left, whichever crops the knees came from."""
    film, truth = bilateral_film(_val_crop("R", grades[0]), _val_crop("L", grades[1]))
    regions = find_knees(film)
    assert [r.side for r in regions] == ["right", "left"]
    for region, centre in zip(regions, truth):
        assert _centred(region, centre)


@needs_data
@pytest.mark.parametrize("code, side", [("R", "right"), ("L", "left"), ("", None)])
def test_the_dicom_laterality_names_a_crop_and_a_knee_on_a_film(code, side):
    crop = _val_crop("L", "2")
    film = cv2.copyMakeBorder(crop, 224, 224, 112, 112, cv2.BORDER_REPLICATE)
    for pixels in (crop, film):
        [region] = find_knees(pixels, laterality=code or None)
        assert region.side == (side or "left")  # without a header, the image's own reading


# --- the stretched-window search: a knee on a film resized without keeping its aspect ratio -------

def _resized_film(crop: np.ndarray, squash: float, base: str) -> tuple[np.ndarray, tuple[float, float]]:
    """A knee on a film three times its height (its border repeated, or a leg film from
    ``training.sites.leg_film``), the whole film then resized to 1/``squash`` of its height, as
    a hospital that does not keep the aspect ratio stores it. Returns it and the joint's centre."""
    from kneeoa_desktop.training.sites import leg_film

    if base == "larger film":
        film = cv2.copyMakeBorder(crop, 224, 224, 112, 112, cv2.BORDER_REPLICATE)
        centre = (film.shape[1] / 2, film.shape[0] / 2)
    else:
        film = np.clip(leg_film(crop.astype(np.float32), 1.0), 0, 255).astype(np.uint8)
        centre = (film.shape[1] / 2, 20 + 1.5 * crop.shape[0])
    film = cv2.resize(film, (film.shape[1], int(round(film.shape[0] / squash))), interpolation=cv2.INTER_AREA)
    return film, (centre[0], centre[1] / squash)


def _framed_at_its_shape(squash: float, base: str) -> tuple[int, int, int]:
    """(regions at the knee's own shape, regions centred on the joint, films) over the side crops."""
    shaped = centred = 0
    crops = _side_crops()
    for crop, _ in crops:
        film, (tx, ty) = _resized_film(crop, squash, base)
        regions = find_knees(film)
        if len(regions) != 1:
            continue
        [r] = regions
        cx, cy = r.centre
        shaped += 0.8 < r.height / r.width * squash < 1.25
        centred += abs(cx - tx) <= 0.15 * r.width and abs(cy - ty) <= 0.15 * r.height
    return shaped, centred, len(crops)


@needs_data
def test_the_stretched_search_frames_squashed_knees_that_the_upright_one_cannot():
    """Knees squashed 1.4× on larger films: only a stretched window has their shape (4 of 21
    today; 0 without the stretched search, which frames every one square)."""
    shaped, centred, films = _framed_at_its_shape(1.4, "larger film")
    assert shaped >= 3 and centred >= films - 3, (shaped, centred, films)


@needs_data
@pytest.mark.xfail(strict=True, reason="issue 33: the stretched windows beat the upright ones on knees that "
                   "were never resized (5 of 21 on larger films, 10 of 21 on leg films framed at a wrong "
                   "shape; 0 without the stretched search) and seldom frame a squashed knee at its shape")
@pytest.mark.parametrize("squash", [1.0, 1.4, 2.0])
@pytest.mark.parametrize("base", ["larger film", "leg film"])
def test_a_knee_on_a_resized_film_is_framed_on_its_joint_at_its_shape(base, squash):
    shaped, centred, films = _framed_at_its_shape(squash, base)
    assert shaped >= films - 2 and centred >= films - 2, (shaped, centred, films)
