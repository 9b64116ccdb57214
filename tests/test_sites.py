"""Simulated sites through the whole pipeline (real model): kneeKL224/val films re-sized out of
shape, re-framed, re-processed and stored at 8/12/16 bits are graded, not refused, one record
each; two knees side by side give two. The figures on all of val: scripts/measure_sites.py."""

from __future__ import annotations

import cv2
import numpy as np

from kneeoa_desktop.training.site_check import grade_sites, grade_two_knees
from kneeoa_desktop.training.sites import SITE_TRANSFORMS

from .conftest import DATA_DIR, needs_data


def _val(step: int):
    paths = sorted((DATA_DIR / "val").glob("[0-4]/*.png"))[::step]
    return paths, [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in paths]


#: What the code does on every 24th val film (35 per site; `scripts/measure_sites.py --step 24`
#: prints the same figures) less a small margin: (films graded whole, at least; κ, at least).
#: Floors, so that the front-of-pipeline work to come may raise them; a fall below is a
#: regression a clinician would meet. Measured with model 1.1.0, its held-out knee head deciding
#: between the scan's candidates (a small region doubted whatever the head says), on 2026-12-07;
#: two lowered for the head that learnt sclerotic knees and the scan's windows off the joints
#: (issue 33): on this subset it refuses one equalised film (κ 0.677; 1.9 % of 413 as against
#: 1.7 %) and grades one zoomed-out film fewer whole (24; on 413, 71.2 % whole against 68.3 %).
#: The full leg film's lowered for the head that learnt long-leg and teaching films: on this
#: subset it chooses another of the scan's windows on two films (κ 0.839 against 0.879; on 413,
#: 0.824 against 0.825).
FLOORS = {
    "as is": (35, 0.73), "300x162": (34, 0.73), "300x162 sharpened": (34, 0.71),
    "300x162 sharpened 16-bit": (34, 0.66), "tight 300x162 sharpened": (34, 0.65),
    "zoomed out 300x200": (23, 0.67), "stretched 200x300": (34, 0.69), "equalised": (33, 0.65),
    "high contrast": (34, 0.67), "gamma 0.6": (34, 0.74), "gamma 1.6 12-bit": (34, 0.70),
    "full leg film 16-bit": (0, 0.83),
}


@needs_data
def test_simulated_sites_are_graded_whole_and_seldom_refused(predictor):
    from kneeoa_desktop.core.pipeline import GradingPipeline

    paths, raws = _val(24)
    grades = np.array([int(p.parent.name) for p in paths])
    figures = list(grade_sites(GradingPipeline(predictor), raws, grades))
    report = "\n".join(f.line() for f in figures)
    assert [f.name for f in figures] == list(SITE_TRANSFORMS) == list(FLOORS)
    assert all(f.films == 35 for f in figures)
    # 1 refusal (an equalised film) and none with two records in 420 today (issue 24's bar was
    # 5 % and 2 %).
    assert sum(f.refused for f in figures) <= 3, report
    assert sum(f.multiple for f in figures) <= 4, report
    for f in figures:
        whole, kappa = FLOORS[f.name]
        assert f.refused <= 2 and f.multiple <= 2, f.line()
        assert f.whole >= whole, f.line()
        assert f.kappa >= kappa, f.line()
    as_is = figures[0]
    assert as_is.refused == 0 and as_is.whole == as_is.films, report


@needs_data
def test_two_knees_side_by_side_give_two_records(predictor):
    from kneeoa_desktop.core.pipeline import GradingPipeline

    paths, raws = _val(12)
    rights = [r for p, r in zip(paths, raws) if p.stem.endswith("R")]
    lefts = [r for p, r in zip(paths, raws) if p.stem.endswith("L")]
    pairs = grade_two_knees(GradingPipeline(predictor), rights, lefts)
    # 27 of 27 today: one of each may go.
    assert pairs.images == 27
    assert pairs.two_in_halves >= pairs.images - 1, pairs
    assert pairs.both_in_scope >= pairs.images - 1, pairs
