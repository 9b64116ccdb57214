#!/usr/bin/env python3
"""What `kneeoa calibrate` would do at a simulated site: cross-validated figures with and without
a site profile, on kneeKL224 val films pushed through one site transform.

    .venv/bin/python scripts/measure_site_calibration.py [--site "tight 300x162 sharpened"] \\
        [--readers-lower] [--step 1] [--folds 5]

Each val crop (every ``--step``-th) becomes the site's film (``training/sites.py``) and goes
through the whole pipeline as `kneeoa calibrate` grades a film: films with more than one knee or
refused by the scope check are left out, as there. ``--readers-lower`` simulates a site whose
readers grade one step lower than OAI's readers for half of the films of KL1–KL4 (a fixed random
half), so that the model reads that site about half a step too high; a whole step would leave
one grade without films, and `kneeoa calibrate` needs five of each. Printed: the films
used, then the cross-validated comparison `kneeoa calibrate` prints and whether it would write
the profile. Figures only; nothing is written. Never tune the method to one site with this.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main(argv=None) -> int:
    from kneeoa_desktop.training.sites import SITE_TRANSFORMS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", default="tight 300x162 sharpened", choices=list(SITE_TRANSFORMS))
    parser.add_argument("--readers-lower", action="store_true")
    parser.add_argument("--step", type=int, default=1)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "kneeKL224")
    args = parser.parse_args(argv)

    from kneeoa_desktop.core.pipeline import GradingPipeline
    from kneeoa_desktop.core.model.predictor import Predictor
    from kneeoa_desktop.training.dataset import load_split
    from kneeoa_desktop.training.site_calibration import cross_validate, format_report
    from kneeoa_desktop.training.site_check import as_film
    from kneeoa_desktop.training.sites import site_film

    raws, grades, _ = load_split(args.data / "val", (224, 224), raw=True)
    raws, grades = raws[::args.step], grades[::args.step]
    if args.readers_lower:
        half = np.random.default_rng(0).random(len(grades)) < 0.5
        grades = np.where(half & (grades >= 1), grades - 1, grades)
    pipeline = GradingPipeline(Predictor(REPO / "weights"))
    probs, y, left_out = [], [], 0
    for i, (raw, grade) in enumerate(zip(raws, grades)):
        knees = pipeline(as_film(site_film(raw, args.site, i), f"{args.site} {i}")).knees
        if len(knees) != 1 or not knees[0].in_scope:
            left_out += 1
            continue
        probs.append(knees[0].prediction.probabilities)
        y.append(int(grade))
    y = np.array(y)
    print(f"site {args.site!r}{' (readers one step lower for half of KL1–KL4)' if args.readers_lower else ''}: "
          f"{len(y)} films used, {left_out} left out; per grade {np.bincount(y, minlength=5).tolist()}")
    report = cross_validate(np.stack(probs), y, folds=args.folds)
    print(format_report(report))
    print("kneeoa calibrate would " + ("write the profile" if report["better"] else "write nothing"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
