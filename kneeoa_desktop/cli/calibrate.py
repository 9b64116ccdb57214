"""`kneeoa calibrate DATA_DIR --out PROFILE.json`: fit a site profile on a department's own films.

DATA_DIR is laid out like kneeKL224 (``0/ … 4/``, the films its readers graded). Every film is
graded through the pipeline as `kneeoa predict` grades it; films that hold more than one knee,
films the scope check refuses and unreadable files are left out, counted (the unreadable ones
named). The profile (``core.verdict.site_profile``) is fitted and judged by k-fold cross-validation
(``training.site_calibration``); it is written, atomically, only when it is better than the model
as it is by more than chance, or with ``--force``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from ..core.errors import KneeOAError
from ..core.verdict.grades import NUM_GRADES
from . import common
from .progress import Progress


def run(args) -> int:
    from ..core.pipeline import GradingPipeline
    from ..core.verdict.site_profile import save_profile
    from ..training.dataset import list_split
    from ..training.site_calibration import MIN_FILMS, MIN_PER_GRADE, build_profile, format_report

    data_dir = Path(args.data_dir)
    if not data_dir.is_dir():
        print(f"kneeoa: {data_dir}: not a folder", file=sys.stderr)
        return common.EXIT_FAILED
    missing = [g for g in range(NUM_GRADES) if not (data_dir / str(g)).is_dir()]
    if missing:
        print(f"kneeoa: {data_dir}: not laid out as 0/ … 4/ (there is no folder {missing[0]}/)", file=sys.stderr)
        return common.EXIT_FAILED
    items = list_split(data_dir)
    predictor = common.predictor_for(args, with_profile=False)  # the model as it is: that is what is fitted
    pipeline = GradingPipeline(predictor)
    probs, grades, unreadable, refused, several = [], [], [], 0, 0
    with Progress(len(items), "grading", json_output=getattr(args, "json", False)) as progress:
        for k, (path, grade) in enumerate(items):
            try:
                result = pipeline(path)
            except KneeOAError as exc:
                progress.clear()
                common.fail(args, path, exc)
                unreadable.append(path)
                continue
            finally:
                progress.update(k + 1)
            if len(result.knees) != 1:
                several += 1
            elif not result.knees[0].in_scope:
                refused += 1
            else:
                probs.append(result.knees[0].prediction.probabilities)
                grades.append(grade)
    y = np.array(grades, np.int64)
    counts = np.bincount(y, minlength=NUM_GRADES)
    print(f"{len(items)} files in {data_dir}: {len(y)} graded films used; {refused} refused by the scope check, "
          f"{several} with more than one knee, {len(unreadable)} unreadable (all left out)")
    print("films per grade: " + ", ".join(f"KL{g} {n}" for g, n in enumerate(counts)))
    if len(y) < MIN_FILMS:
        print(f"kneeoa: a site profile needs at least {MIN_FILMS} graded films; {data_dir} gave {len(y)}.",
              file=sys.stderr)
        return common.EXIT_FAILED
    if counts.min() < MIN_PER_GRADE:
        g = int(counts.argmin())
        print(f"kneeoa: KL{g} has {counts[g]} films; a site profile needs at least {MIN_PER_GRADE} of each grade.",
              file=sys.stderr)
        return common.EXIT_FAILED
    name = args.name or data_dir.resolve().name
    profile = build_profile(np.stack(probs), y, predictor.manifest, name, folds=args.folds)
    print(format_report(profile.cross_validated))
    print(f"fitted on all {profile.films} films: temperature {profile.temperature:.3f}, cut points on the "
          "expected grade " + ", ".join(f"{t:.2f}" for t in profile.thresholds))
    if not (profile.cross_validated["better"] or args.force):
        print("The profile is not better than the model as it is by more than chance (kappa must rise "
              "for real, accuracy and MAE must not get worse); nothing was written. --force writes it anyway.")
        return common.EXIT_OK
    path = save_profile(profile, args.out)
    print(f"wrote {path}" + ("" if profile.cross_validated["better"] else " (forced: not better by more than chance)"))
    return common.EXIT_OK
