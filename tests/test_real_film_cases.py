"""The real films of issue 33 ("Real films, round two"), each rebuilt as a simulated case that fails
the way the real films fail (``training/sites.py``): another hospital's tight single-knee films,
two such knees side by side, portrait films with long shafts, standing films of both legs with a
ruler and a calibration sphere, and such films on a high-contrast tone curve whose knees carry
dense subchondral sclerosis, and standing films at true proportions (hips at the top, ankles at
the bottom, each knee a fifth of the width: ``training/long_leg.py``), one of them replaced. A case marked xfail fails
today and is held strictly: when the front of the pipeline is fixed it passes, and the mark must
go.

The bars are issue 33's "Done when" for the matching real films. The films and their counting
are ``training/site_check.py``; ``scripts/measure_real_film_cases.py`` prints the same counts."""

from __future__ import annotations

import pytest

from kneeoa_desktop.training import site_check

from .conftest import DATA_DIR, IMPLANTS, needs_data, needs_implants

pytestmark = needs_data


@pytest.fixture(scope="module")
def grader(predictor):
    from kneeoa_desktop.core.pipeline import GradingPipeline

    return GradingPipeline(predictor)


@pytest.mark.parametrize("bits", [16, 8])
def test_tight_films_are_graded_whole_and_seldom_flagged(grader, bits):
    """Issue 33's bar (98 % graded whole, at most 5 % flagged). The scan took a small window inside
    these films (15 and 12 of 35 graded whole on b58d070, 5–6 flagged); with the knee head choosing
    between the scan's candidates, 34 and 33 (2 flagged); 35 and 35 once a region under
    ``scope.SMALL_REGION_PX`` no longer stood on the head's certainty alone; none flagged once the
    head learnt from every candidate on other body parts and the detector's "unlike a knee" no
    longer tipped a doubtful head."""
    whole, flagged, films = site_check.tight(grader, DATA_DIR, bits)
    assert whole >= 0.98 * films and flagged <= 0.05 * films, (whole, flagged, films)


@pytest.fixture(scope="module")
def tight_cuts(grader):
    return site_check.tight_cuts(grader, DATA_DIR)


def test_tight_films_cut_as_each_radiographer_cuts_are_seldom_flagged(tight_cuts):
    """Tight films not all cut alike (``sites.TightCut.drawn``: 60–90 % across, 38–70 % down, the
    joint up to a tenth off centre, turned up to 8°; 69 films): the one cut above passed while
    the real films, cut by many hands, still failed. On b58d070 9 of 69 graded whole, 24
    flagged; with the head fitted on the one cut (e4773f4) 63, 6 flagged (a joint low on the
    film or cut close refused as "not a knee"); with the head that learnt 300 such cuts, 67, 2
    flagged. Issue 33's bar on flags (at most 5 %) holds; this floor keeps what was won."""
    whole, flagged, films = tight_cuts
    assert flagged <= 0.05 * films and whole >= 0.95 * films, (whole, flagged, films)


@pytest.mark.xfail(strict=True, reason="67 of 69 graded whole (97 %): the head refuses the whole film of two "
                                       "cuts close to the joint (0.58 and 0.69 against its threshold 0.85)")
def test_tight_films_cut_as_each_radiographer_cuts_meet_the_bar(tight_cuts):
    """Issue 33's bar on these films: 98 % graded whole."""
    whole, flagged, films = tight_cuts
    assert whole >= 0.98 * films, (whole, flagged, films)


def test_two_tight_knees_side_by_side_give_one_knee_per_half(grader):
    """Issue 33's bar (90 %). None of 25 on b58d070 (the real two-knee images: 59 %); 19 with the
    head deciding between the scan's sets; 24 once a pair the head is sure of beats one knee on
    an image this wide (the head is as sure of a small window on one knee as of each half); 23
    with the head that learnt long-leg and teaching films. On the other two the head took the
    whole image, two knees squashed into one square, for one knee and graded it in scope (2 of 25
    on f4d3daf): on an image this wide the whole image is no candidate once a pair is proposed,
    and with no set accepted a pair with one knee the head is sure of is graded (the other knee
    refused, with its record): none. 25 with the head that learnt tight films cut otherwise."""
    good, whole, images = site_check.two_tight(grader, DATA_DIR)
    assert good >= 0.9 * images and whole == 0, (good, whole, images)


def test_two_tight_knees_each_cut_as_its_radiographer_cuts_give_one_knee_per_half(grader):
    """Two-knee images whose knees are cut as the other hospital's single films are
    (``sites.TightCut.drawn`` per knee, 8- and 16-bit; 50 images): the one cut above passed while
    theirs would not. On b58d070 1 of 50 gave a knee per half; on 11a0889 45, the head refusing
    one half alone (0.56–0.84 against its threshold 0.85) beside a knee it was sure of (and on
    such images drawn otherwise, all at 8 bits, a 50-px window it refused, 0.0, beat a pair with
    a half it accepted). Now 50: the mate of a sure knee needs even odds (``scope.MATE_MIN``), and a pair
    with a half the head accepts beats a window it refuses. Issue 33's bar is 90 %; this floor
    (96 %) keeps what was won."""
    good, whole, images = site_check.two_tight(grader, DATA_DIR, drawn=True)
    assert good >= 0.96 * images and whole == 0, (good, whole, images)


@pytest.mark.parametrize("joint_at", [0.15, 0.5, 0.85])
def test_a_portrait_film_with_long_shafts_gives_one_knee_on_the_joint(grader, joint_at):
    """On b58d070 and until the scan searched windows wider than a portrait film (the leg fills
    it across), it took a condyle, or the two condyles for a pair: 27, 24, 24 of 35 on the joint
    and in scope; now 35 of 35 at each height."""
    good, films = site_check.shafts(grader, DATA_DIR, joint_at)
    assert good >= 0.9 * films, (good, films)


#: Shorter portrait films with the joint at an end fail today (counts on 11a0889 and 51c2423 alike).
_AT_THE_END = pytest.mark.xfail(strict=True, reason="issue 33: the joint's window cannot reach past the film's end "
                                                    "(three crops tall) or the whole film is graded (two crops tall)")


@pytest.mark.parametrize("length, joint_at", [pytest.param(3.0, 0.15), pytest.param(3.0, 0.85, marks=_AT_THE_END),
                                              pytest.param(2.0, 0.15, marks=_AT_THE_END),
                                              pytest.param(2.0, 0.85, marks=_AT_THE_END)])
def test_a_shorter_portrait_film_with_the_joint_at_its_end_gives_one_knee_on_the_joint(grader, length, joint_at):
    """The films above are six crops tall, so every joint had shaft above and below it. Real AP
    films with shafts are shorter, "the joint anywhere from 15 % to 87 % of the height": two or
    three crops tall, a joint high or low lies at the film's end. On 51c2423 32 and 25 of 35 on
    the joint (three crops tall, high and low): a tall film's windows stop at its ends, so the
    joint's window, which reaches past the end, is never scanned and the scan takes two condyles
    for a pair (refused); 27 and 12 (two crops tall, 1.74 times as tall as wide, under
    ``localise.PORTRAIT_ASPECT``): the whole film, shaft and all, graded as the knee. Tried and
    not kept yet: windows reaching a quarter of their side past a tall film's ends and a
    portrait aspect of 1.6 gave 35 of 35 on all four, but the padding moved the scan's grid on
    every tall film, and one standing knee's region took the calibration sphere into its
    context, refused as metal (16 → 15 of 16 twice). Issue 33's bar (19 of 21)."""
    good, films = site_check.shafts(grader, DATA_DIR, joint_at, length)
    assert good >= 0.9 * films, (good, films)


def test_a_standing_film_of_both_legs_gives_both_knees_on_their_joints(grader):
    placed, graded, films = site_check.standing(grader, DATA_DIR, None)
    assert placed == films and graded == 2 * films


@pytest.mark.parametrize("sphere", ["between", "beside right"])
def test_a_calibration_sphere_on_a_standing_film_refuses_no_knee(grader, sphere):
    """Before metal was metal (b58d070), the sphere between the knees refused 15 of 16 of them
    as implants, beside one knee 8: a round plateau beside the joint is a sphere, a fact."""
    placed, graded, films = site_check.standing(grader, DATA_DIR, sphere)
    assert placed == films and graded == 2 * films, (placed, graded, films)


def test_dense_sclerosis_on_a_high_contrast_standing_film_refuses_no_knee(grader):
    """Most knees on the real standing films have severe OA with dense subchondral sclerosis, on
    high-contrast JPEGs. Rebuilt (``sites.sclerotic`` on val KL 3–4 crops, ``standing_film(...,
    heavy=True)``, a sphere between the knees): on b58d070 both knees of every film were found
    on their joints but none was graded (all "metal": the sphere); 9 of 16 were graded with the
    knee head that had seen no such knee (6a7244c; the rest "not a knee"); 16 of 16 once such
    films were among its positives. The bar is issue 33's for the real standing films (80 of 88
    native knees)."""
    placed, graded, films = site_check.standing(grader, DATA_DIR, "between", sclerosis=True)
    assert placed == films and graded >= 0.9 * 2 * films, (placed, graded, films)


@pytest.mark.parametrize("share", [0.22, 0.19])
def test_a_standing_film_at_true_proportions_gives_both_knees_on_their_joints(grader, share):
    """A real long-leg film is 2.4 times as tall as wide and each knee a fifth to a quarter of its
    width, with the hips above and the ankles below ("7 misplaced (on the ankles, or the whole
    film as one region)" on the real films). The scan searched no window that small and kept one
    window per half at each size, so its pair lay on the ankles or the hips: knees graded on their
    joints at a share of 0.22, 8 of 16 on b58d070 and 12 on 737d415; at 0.19, 10 on b58d070 (16
    on 737d415). Now a tall film is also searched with smaller windows, the best pair at each
    height goes to the knee head, the whole film is no candidate, and one knee of a pair whose
    two knees the head accepts is that pair: 16 and 16."""
    placed, graded, films = site_check.long_leg(grader, DATA_DIR, share)
    assert placed == films and graded == 2 * films, (placed, graded, films)


def test_small_askew_knees_on_a_standing_film_are_both_found(grader):
    """A smaller patient on a long cassette (each knee 0.17 of the width), knees in 6° of varus,
    the pelvis tilted (one knee a quarter of a knee lower): 0 of 8 films with both knees placed
    on b58d070, 7 on f4d3daf, where one knee's small window scored too little for the scan to
    pair it and the scan's best single window (both shins) was refused. Each half's best small
    window's mate is now proposed too (``knee_pairs.mate``): 8 of 8."""
    placed, graded, films = site_check.long_leg(grader, DATA_DIR, 0.17, drop=0.25, tilt=6.0)
    assert placed == films and graded == 2 * films, (placed, graded, films)


def test_dense_sclerosis_on_a_standing_film_at_true_proportions_refuses_no_knee(grader):
    """12 of 16 on b58d070 (16 on 737d415); 14 with the new scan and the knee head before, which
    refused one sclerotic knee and took the whole film for one knee; 16 with the head that learnt
    such films, 15 with the one that learnt teaching films too (the 16th on its joint, kept as a
    refused record: on a film of both legs the pair stands), 16 once the mate of a knee the head is
    sure of needs only even odds (``scope.MATE_MIN``). The bar is issue 33's (80 of 88)."""
    placed, graded, films = site_check.long_leg(grader, DATA_DIR, 0.2, sclerosis=True)
    assert placed == films and graded >= 0.9 * 2 * films, (placed, graded, films)


@needs_implants
def test_a_replaced_knee_on_a_standing_film_is_flagged_and_the_other_knee_graded(grader):
    """Issue 33's standing films: "8 of the 96 knees replaced", "7 of the 8 replaced knees are
    flagged". Rebuilt with real replaced knees (``long_leg.REPLACED_KNEES``: ten AP films of
    out-of-scope/implants, total and unicompartmental, each framed as kneeKL224 frames a joint,
    its metal saturating) on long-leg films beside a native val knee, each replaced knee as the
    right and as the left: on b58d070 8 replaced knees of 20 flagged and 8 native knees graded;
    on f4d3daf 14 and 16. A replaced knee's metal scores far below any native joint to the
    detector, so no pair held it and the scan's pair lay on the hips or the ankles, refused;
    when the head took the native knee alone, the replaced one had no record at all. Now the
    best window's mate at its height is proposed too (``knee_pairs.mate``), and on such a film a
    pair with one knee the head is sure of beats sets it accepts nothing of: 20 and 20."""
    flagged, native, films = site_check.replaced(grader, DATA_DIR, IMPLANTS)
    assert flagged >= 0.9 * films and native >= 0.9 * films, (flagged, native, films)


@pytest.mark.parametrize("fracture", [False, True])
def test_teaching_films_are_graded_on_the_joint_not_on_their_arrow(grader, fracture):
    """Issue 33's teaching-collection films of single knees (1,000–3,000 px, avulsion fractures):
    4 of 5 refused as "not a knee" by the knee head on b58d070. Rebuilt (``sites.teaching_film``:
    the knee with its shafts enlarged to 1,000–2,400 px and sharpened, a side marker and an arrow
    burnt in beside the joint; every 20th val crop, with ``sites.avulsion``'s fracture or
    without): on b58d070, 13 and 15 of 42 graded on the joint (the rest refused by that knee
    head); on 737d415, 42 and 42. A portrait film's smaller windows, searched for both legs'
    knees, first took the arrow for the knee (as "metal"): they now stand only in pairs. The bar
    is issue 33's (4 of 5), and no record off the joint."""
    good, off, films = site_check.teaching(grader, DATA_DIR, fracture)
    assert off == 0 and good >= 0.8 * films, (good, off, films)
