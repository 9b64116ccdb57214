"""The real films of issue 33 ("Real films, round two"), each rebuilt as a simulated case that fails
the way the real films fail (``training/sites.py``): another hospital's tight single-knee films,
two such knees side by side, portrait films with long shafts, standing films of both legs with a
ruler and a calibration sphere, and such films on a high-contrast tone curve whose knees carry
dense subchondral sclerosis. A case marked xfail fails today and is held strictly: when the
front of the pipeline is fixed it passes, and the mark must go.

The bars are issue 33's "Done when" for the matching real films."""

from __future__ import annotations

import numpy as np
import pytest

from kneeoa_desktop.training import sites
from kneeoa_desktop.training.site_check import as_film, centred_on

from .conftest import needs_data
from .test_sites import _val

pytestmark = needs_data


@pytest.fixture(scope="module")
def grader(predictor):
    from kneeoa_desktop.core.pipeline import GradingPipeline

    return GradingPipeline(predictor)


def _tight(grader, bits: int) -> tuple[int, int, int]:
    _, raws = _val(24)
    rng = np.random.default_rng(0)
    knees = []
    for raw in raws:
        film = sites.tight_film(raw.astype(np.float32), rng, bits)
        knees.append(grader(as_film(film if bits == 16 else sites._u8(film), "tight")).knees)
    whole = sum(len(k) == 1 and k[0].whole_image for k in knees)
    flagged = sum(any(not q.in_scope for q in k) for k in knees)
    return whole, flagged, len(raws)


@pytest.mark.parametrize("bits", [16, 8])
def test_tight_films_are_graded_whole_and_seldom_flagged(grader, bits):
    """Issue 33's bar (98 % graded whole, at most 5 % flagged). The scan took a small window inside
    these films (15 and 12 of 35 graded whole on b58d070, 5–6 flagged); with the knee head choosing
    between the scan's candidates, 34 and 33 (2 flagged); 35 and 35 once a region under
    ``scope.SMALL_REGION_PX`` no longer stood on the head's certainty alone; none flagged once the
    head learnt from every candidate on other body parts and the detector's "unlike a knee" no
    longer tipped a doubtful head."""
    whole, flagged, films = _tight(grader, bits)
    assert whole >= 0.98 * films and flagged <= 0.05 * films, (whole, flagged, films)


def _two_tight(grader) -> tuple[int, int]:
    paths, raws = _val(12)
    rights = [r for p, r in zip(paths, raws) if p.stem.endswith("R")][:25]
    lefts = [r for p, r in zip(paths, raws) if p.stem.endswith("L")][:25]

    good = 0
    for right, left in zip(rights, lefts):
        image = sites.two_tight_knees(right, left)
        knees = grader(as_film(image, "two tight knees")).knees
        good += (len(knees) == 2 and knees[0].region[0] < image.shape[1] // 4
                 and knees[1].region[0] >= image.shape[1] // 2 - 20 and all(k.in_scope for k in knees))
    return good, len(rights)


def test_two_tight_knees_side_by_side_give_one_knee_per_half(grader):
    """Issue 33's bar (90 %). None of 25 on b58d070 (the real two-knee images: 59 %); 19 with the
    head deciding between the scan's sets; 24 once a pair the head is sure of beats one knee on
    an image this wide (the head is as sure of a small window on one knee as of each half)."""
    good, images = _two_tight(grader)
    assert good >= 0.9 * images, (good, images)


@pytest.mark.parametrize("joint_at", [0.15, 0.5, 0.85])
def test_a_portrait_film_with_long_shafts_gives_one_knee_on_the_joint(grader, joint_at):
    """On b58d070 and until the scan searched windows wider than a portrait film (the leg fills
    it across), it took a condyle, or the two condyles for a pair: 27, 24, 24 of 35 on the joint
    and in scope; now 35 of 35 at each height."""
    _, raws = _val(24)
    good = 0
    for raw in raws:
        film, centre = sites.shaft_film(raw.astype(np.float32), joint_at)
        knees = grader(as_film(sites._u8(film), "shafts")).knees
        good += len(knees) == 1 and centred_on(knees[0].region, centre) and knees[0].in_scope
    assert good >= 0.9 * len(raws), (good, len(raws))


def _standing(grader, sphere, sclerosis: bool = False):
    """(films with both knees on their joints, of their knees graded in scope, films). With
    ``sclerosis``, the knees of severe OA (val KL 3–4) carry dense subchondral sclerosis (one
    compartment, then both, by turns) on a high-contrast film."""
    paths, raws = _val(24 if not sclerosis else 4)
    if sclerosis:
        raws = [r for p, r in zip(paths, raws) if p.parent.name in "34"]
        paths = [p for p in paths if p.parent.name in "34"]
    rights = [r for p, r in zip(paths, raws) if p.stem.endswith("R")][:8]
    lefts = [r for p, r in zip(paths, raws) if p.stem.endswith("L")][:8]
    placed = graded = 0
    rng = np.random.default_rng(0)
    for k, (right, left) in enumerate(zip(rights, lefts)):
        if sclerosis:
            right, left = (sites._u8(sites.sclerotic(x, rng, 1 + k % 2)) for x in (right, left))
        film, centres = sites.standing_film(right, left, sphere, heavy=sclerosis)
        knees = grader(as_film(film, "standing")).knees
        if [k.side for k in knees] == ["right", "left"] and all(centred_on(k.region, c) for k, c in zip(knees, centres)):
            placed += 1
            graded += sum(k.in_scope for k in knees)
    return placed, graded, len(rights)


def test_a_standing_film_of_both_legs_gives_both_knees_on_their_joints(grader):
    placed, graded, films = _standing(grader, None)
    assert placed == films and graded == 2 * films


@pytest.mark.parametrize("sphere", ["between", "beside right"])
def test_a_calibration_sphere_on_a_standing_film_refuses_no_knee(grader, sphere):
    """Before metal was metal (b58d070), the sphere between the knees refused 15 of 16 of them
    as implants, beside one knee 8: a round plateau beside the joint is a sphere, a fact."""
    placed, graded, films = _standing(grader, sphere)
    assert placed == films and graded == 2 * films, (placed, graded, films)


def test_dense_sclerosis_on_a_high_contrast_standing_film_refuses_no_knee(grader):
    """Most knees on the real standing films have severe OA with dense subchondral sclerosis, on
    high-contrast JPEGs. Rebuilt (``sites.sclerotic`` on val KL 3–4 crops, ``standing_film(...,
    heavy=True)``, a sphere between the knees): on b58d070 both knees of every film were found
    on their joints but none was graded (all "metal": the sphere); 9 of 16 were graded with the
    knee head that had seen no such knee (6a7244c; the rest "not a knee"); 16 of 16 once such
    films were among its positives. The bar is issue 33's for the real standing films (80 of 88
    native knees)."""
    placed, graded, films = _standing(grader, "between", sclerosis=True)
    assert placed == films and graded >= 0.9 * 2 * films, (placed, graded, films)
