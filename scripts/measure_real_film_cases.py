"""Print what the whole pipeline does with issue 33's real films rebuilt as simulated cases.

    .venv/bin/python scripts/measure_real_film_cases.py [--weights weights] [--data ../shared/data]
                                                        [--cases NAME ...] [--sweep]

Each case (``training/site_check.py``: another hospital's tight films, one cut and cut as many
hands cut them, two such knees side by side, one cut for both or each cut its own way, portrait
films with shafts, six crops tall or shorter with the joint at an end, standing films of both
legs with a sphere, with sclerotic knees, standing films at true proportions) is built from fixed kneeKL224 val crops, graded
through the pipeline as a file opened in the app, and counted: the README's table of simulated
cases. ``tests/test_real_film_cases.py`` holds the same counts against issue 33's bars.
``--sweep``: instead, tight films cut in other ways (each cut on every crop) and long-leg films of
other knee sizes, pelvic tilts and varus or valgus.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kneeoa_desktop.training.site_check import CASES, LONG_LEG_SWEEP, TIGHT_SWEEP, long_leg, tight_cuts  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--weights", type=Path, default=None, help="model folder (default: the active model)")
    ap.add_argument("--cases", nargs="*", default=None, choices=list(CASES), metavar="NAME",
                    help="only these cases (default: all)")
    ap.add_argument("--sweep", action="store_true",
                    help="instead, tight films cut otherwise and long-leg films of other proportions, tilts and "
                         "drops (site_check.TIGHT_SWEEP, LONG_LEG_SWEEP)")
    args = ap.parse_args(argv)

    from kneeoa_desktop.core.model.model_store import active_weights_dir
    from kneeoa_desktop.core.model.predictor import Predictor
    from kneeoa_desktop.core.pipeline import GradingPipeline

    pipeline = GradingPipeline(Predictor(args.weights or active_weights_dir()))
    print(f"model {pipeline.predictor.manifest.tag}")
    if args.sweep:
        for name, cut in TIGHT_SWEEP.items():
            whole, flagged, films = tight_cuts(pipeline, args.data / "kneeKL224", [cut])
            print(f"tight film, {name}: {whole} / {flagged} / {films} (graded whole, flagged, films)", flush=True)
        for share, drop, tilt, apart in LONG_LEG_SWEEP:
            placed, graded, films = long_leg(pipeline, args.data / "kneeKL224", share, drop=drop, tilt=tilt,
                                             apart=apart)
            print(f"long-leg, knee {share} of the width, drop {drop}, tilt {tilt}°, apart ×{apart}: "
                  f"{placed} / {graded} / {films} (films placed, knees graded, films)", flush=True)
        return 0
    for name in args.cases or CASES:
        what, count = CASES[name]
        start = time.perf_counter()
        figures = count(pipeline, args.data / "kneeKL224")
        print(f"{name:40s} {' / '.join(str(f) for f in figures):12s} ({what}; "
              f"{time.perf_counter() - start:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
