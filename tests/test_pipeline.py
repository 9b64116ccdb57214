"""What the pipeline hands the network for each kind of region, with a stand-in network (no
TensorFlow): a square crop as it is, a crop of another shape resized whole to the square input
(never padded with black), a knee on a film cut with the film's border repeated where it
reaches past it."""

from __future__ import annotations

from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from kneeoa_desktop.core import pipeline
from kneeoa_desktop.core.film.imaging import LoadedImage
from kneeoa_desktop.core.knees.localise import KneeRegion
from kneeoa_desktop.core.pipeline import GradingPipeline
from kneeoa_desktop.core.knees.preprocess import preprocess

from .conftest import DATA_DIR, needs_data
from .test_localise import _val_crop


class StandInNetwork:
    """Records the network input; every grade equally likely, no evidence."""

    input_size = (224, 224)
    device = "test"
    manifest = SimpleNamespace(tag="stand-in@0", directory=None)

    def __init__(self):
        self.inputs = []

    def predict_array(self, batch, with_features=False):
        self.inputs.extend(batch)
        n = len(batch)
        return np.full((n, 5), 0.2), np.zeros((n, 14, 14, 5), np.float32), np.zeros((n, 8), np.float32)


def _grade(pixels: np.ndarray):
    network = StandInNetwork()
    result = GradingPipeline(network)(LoadedImage(pixels, "knee.png", "PNG", 8))
    return result, network.inputs


@needs_data
def test_a_square_crop_is_the_network_input_as_it_is():
    crop = _val_crop("R", "2")
    result, inputs = _grade(crop)
    [knee] = result.knees
    assert knee.whole_image and knee.region == (0, 0, 224, 224) and knee.prediction.roi is None
    np.testing.assert_array_equal(inputs[0], preprocess(crop))


@needs_data
def test_a_wide_crop_is_resized_whole_to_the_square_input():
    image = cv2.resize(_val_crop("R", "2"), (300, 162), interpolation=cv2.INTER_AREA)
    result, inputs = _grade(image)
    [knee] = result.knees
    assert knee.whole_image and knee.region == (0, 0, 300, 162)
    np.testing.assert_array_equal(inputs[0], preprocess(image))
    assert not (inputs[0] == 0).all(axis=1).any()  # no black bars
    assert knee.visible_evidence().shape == (162, 300)
    assert result.overlay().compose(1.0).shape == (162, 300, 3)


@needs_data
@pytest.mark.parametrize("wide", [True, False], ids=["wide band", "tall band"])
def test_training_frames_a_band_as_the_pipeline_frames_that_crop(wide):
    from kneeoa_desktop.training.augment import band as cut_band
    from kneeoa_desktop.training.augment import framing_proxy

    crop = _val_crop("R", "2")
    image = cut_band(crop, 162 / 300, wide=wide)
    network = StandInNetwork()
    [result] = GradingPipeline(network).grade_whole([LoadedImage(image, "band.png", "PNG", 8)])
    inputs = network.inputs
    assert result.knees[0].whole_image
    # The framing proxy that helps choose the checkpoint cycles wide, tall, …: image 0 wide, 1 tall.
    proxy = framing_proxy(np.stack([crop, crop]))[0 if wide else 1]
    np.testing.assert_array_equal(inputs[0], proxy)


def test_a_region_past_the_film_repeats_its_border(monkeypatch):
    film = np.random.default_rng(0).integers(30, 220, (120, 200), dtype=np.uint8)
    region = KneeRegion(-10, -40, 200, 150, None, 1.0, False)
    monkeypatch.setattr(pipeline, "knee_candidates", lambda pixels, spacing=None, laterality=None: [[region]])
    result, inputs = _grade(film)
    expected = cv2.copyMakeBorder(film[:110, :190], 40, 0, 10, 0, cv2.BORDER_REPLICATE)
    np.testing.assert_array_equal(inputs[0], preprocess(expected))
    assert result.knees[0].visible == (0, 0, 190, 110)


@needs_data
@pytest.mark.parametrize("name", ["4/9070207R.png", "0/9006140R.png"])
def test_a_wide_crop_is_graded_like_its_square_original(predictor, name):
    """With the real model (slow): a clear KL4 and a clear KL0, resized to 300×162 without
    keeping the aspect ratio as another hospital stores them, keep their grade and P(OA) and
    stay in scope (all of val through such sites: scripts/measure_sites.py)."""
    crop = cv2.imread(str(DATA_DIR / "val" / name), cv2.IMREAD_GRAYSCALE)
    grader = GradingPipeline(predictor)
    original = grader(LoadedImage(crop, "square.png", "PNG", 8)).knees[0]
    squashed = cv2.resize(crop, (300, 162), interpolation=cv2.INTER_AREA)
    [wide] = grader(LoadedImage(squashed, "wide.png", "PNG", 8)).knees
    assert wide.region == (0, 0, 300, 162) and wide.in_scope
    assert wide.prediction.grade == original.prediction.grade
    assert abs(wide.prediction.oa_probability - original.prediction.oa_probability) < 0.1


@needs_data
def test_each_stage_of_a_bilateral_film_is_timed():
    """The result says where its time went (the benchmark prints it): every stage once, none
    negative, together no more than the whole grading."""
    from .test_localise import bilateral_film

    film, _ = bilateral_film(_val_crop("R"), _val_crop("L"))
    result, inputs = _grade(film)
    assert len(inputs) == len(result.knees) == 2
    assert set(result.stages) == {"load", "find knees", "network", "scope check"}
    assert all(ms >= 0 for ms in result.stages.values())
    assert result.stages["find knees"] > 0 and result.stages["scope check"] > 0
    assert sum(result.stages.values()) <= result.seconds * 1000.0 + 1e-6


@needs_data
def test_the_candidates_pass_is_timed_apart(predictor):
    """Two tight knees side by side: the scan decides on one knee, the image is wide enough for
    two, so the scan's other sets go through the network too ("candidates"), after the first pass
    ("network"), and two knees are graded."""
    from kneeoa_desktop.training import sites

    right, left = (sites.tight_cut(_val_crop(side).astype(np.float32)) for side in "RL")
    image = sites._u8(sites.unsharp(sites.two_knees(right, left).astype(np.float32), 2.0, 1.2))
    result = GradingPipeline(predictor)(LoadedImage(image, "two.png", "PNG", 8))
    assert [k.side for k in result.knees] == ["right", "left"]
    assert set(result.stages) == {"load", "find knees", "network", "candidates", "scope check"}
    assert min(result.stages.values()) >= 0 and result.stages["candidates"] > 0
    assert sum(result.stages.values()) <= result.seconds * 1000.0 + 1e-6


@needs_data
@pytest.mark.parametrize("laterality, truth", [(None, "right"), ("L", "left"), ("R", "right")])
def test_each_record_names_the_knee_the_film_shows_or_its_header_says(tmp_path, laterality, truth):
    """Which knee a record is about, through the whole pipeline and into its record: a right
    knee's crop (as a DICOM file, with and without ImageLaterality: the header wins), the same
    crop mirrored (a left knee), and a bilateral film (right on the image's left)."""
    import pydicom

    from kneeoa_desktop.core.film.imaging import load_image

    from .samples import write_dicom
    from .test_localise import bilateral_film

    path = write_dicom(_val_crop("R", "2"), tmp_path / "knee.dcm")
    if laterality:
        ds = pydicom.dcmread(path)
        ds.ImageLaterality = laterality
        ds.save_as(path)
    result = GradingPipeline(StandInNetwork())(load_image(path))
    assert [k.side for k in result.knees] == [truth]
    assert result.knees[0].as_dict()["knee"] == truth and result.knees[0].side_letter == truth[0].upper()

    mirrored, _ = _grade(np.ascontiguousarray(_val_crop("R", "2")[:, ::-1]))
    assert [k.as_dict()["knee"] for k in mirrored.knees] == ["left"]
    film, _ = bilateral_film(_val_crop("R", "3"), _val_crop("L", "1"))
    both, _ = _grade(film)
    assert [(k.side, k.side_letter) for k in both.knees] == [("right", "R"), ("left", "L")]


def _region(x, y, w, h):
    return KneeRegion(x, y, w, h, None, 0.0, False)


def test_one_knee_of_a_pair_is_told_from_the_image_of_both_and_from_a_knee_over_its_condyles():
    pair = [_region(100, 500, 250, 250), _region(450, 500, 250, 250)]
    assert pipeline._one_of_the_pair(_region(110, 490, 240, 260), pair)  # the right knee, framed again
    assert pipeline._one_of_the_pair(_region(440, 510, 270, 240), pair)  # the left one
    assert not pipeline._one_of_the_pair(_region(0, 0, 800, 1400), pair)  # the whole film: both knees
    condyles = [_region(100, 100, 90, 90), _region(200, 100, 90, 90)]
    assert not pipeline._one_of_the_pair(_region(80, 60, 240, 200), condyles)  # one knee over both
    assert not pipeline._one_of_the_pair(_region(110, 490, 240, 260), pair[:1])


@needs_data
def test_a_knee_the_head_refuses_keeps_its_record_beside_the_knee_it_accepts(predictor):
    """A standing film of both legs, high contrast, a sphere beside the right knee, the left knee
    with sclerosis dense enough to look like a block of metal: the head refuses that knee (0.02)
    and was sure of a window on the right one, which replaced the scan's right/left pair; the
    left knee vanished from the record without a word. Now it is there, refused with its reason."""
    from kneeoa_desktop.training import sites
    from kneeoa_desktop.training.site_check import as_film

    rng = np.random.default_rng(30)
    right, left = (sites._u8(sites.sclerotic(cv2.imread(str(DATA_DIR / "val" / name), cv2.IMREAD_GRAYSCALE),
                                             rng, 1, 150.0)) for name in ("0/9365192R.png", "0/9305272L.png"))
    film, centres = sites.standing_film(right, left, "beside right", heavy=True)
    knees = GradingPipeline(predictor)(as_film(film, "standing")).knees
    assert [k.side for k in knees] == ["right", "left"]
    for knee, (cx, cy) in zip(knees, centres):
        x, y, w, h = knee.region
        assert abs(x + w / 2 - cx) <= 0.2 * w and abs(y + h / 2 - cy) <= 0.2 * h
    assert knees[0].in_scope and (knees[1].in_scope or knees[1].scope_note)


def test_a_knee_refused_alone_beside_a_sure_one_is_graded_as_its_mate():
    """``pipeline`` lets ``scope.as_mate`` decide the other knee of a right/left pair whose one
    knee is in scope and sure: graded at even odds, never when refused for metal, never beside a
    knee that is itself refused, and never for a single record."""
    from kneeoa_desktop.core.verdict import scope

    head = scope.KneeHead(centre=np.zeros(2), weights=np.zeros(2), bias=0.0, threshold=0.85, doubt=0.98)
    stats = SimpleNamespace(head=head, threshold=10.0)

    def knee(side, in_scope, note, p):
        return SimpleNamespace(side=side, in_scope=in_scope, scope_note=note,
                               scope_reasons={"knee_probability": p, "feature_distance": 1.0})

    pair = [knee("right", True, None, 0.995), knee("left", False, scope.NOTE_NOT_KNEE, 0.6)]
    pipeline._graded_beside_a_sure_knee(pair, stats)
    assert pair[1].in_scope and pair[1].scope_note is None and pair[1].scope_reasons["mate_knee_probability"] == 0.995
    pair = [knee("right", False, scope.NOTE_NOT_KNEE, 0.7), knee("left", True, None, 0.99)]
    pipeline._graded_beside_a_sure_knee(pair, stats)
    assert pair[0].in_scope
    for pair in ([knee("right", True, None, 0.995), knee("left", False, scope.NOTE_IMPLANT, 0.6)],
                 [knee("right", False, scope.NOTE_IMPLANT, 0.995), knee("left", False, scope.NOTE_NOT_KNEE, 0.6)],
                 [knee("right", True, None, 0.995), knee("right", False, scope.NOTE_NOT_KNEE, 0.6)]):
        pipeline._graded_beside_a_sure_knee(pair, stats)
        assert not pair[1].in_scope
    one = [knee("left", False, scope.NOTE_NOT_KNEE, 0.6)]
    pipeline._graded_beside_a_sure_knee(one, stats)
    assert not one[0].in_scope
