"""Print what the whole pipeline does with kneeKL224/val pushed through each simulated site.

    .venv/bin/python scripts/measure_sites.py [--step 4] [--weights weights] [--data ../shared/data]

Per site transform (``training/sites.py``: resized without keeping the aspect ratio, tight cuts,
zoomed out, sharpened, equalised, high contrast, gamma, 12/16-bit, a full leg film): the share of films refused
(with the scope notes), with more than one record, graded whole, flagged "unusual", and the grade's
agreement with kneeKL224 (kappa, accuracy, OA AUC; every film counted, refused ones included).
Then two knees side by side (640×161), the real implant and hand films of
``shared/data/out-of-scope``, and time per film. Figures only; ``tests/test_sites.py`` holds them
on a subset. Times are wall time on whatever else the machine is doing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kneeoa_desktop.core.film.imaging import load_image  # noqa: E402
from kneeoa_desktop.core.model.model_store import active_weights_dir  # noqa: E402
from kneeoa_desktop.training.site_check import grade_sites, grade_two_knees  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--weights", type=Path, default=None, help="model folder (default: the active model)")
    ap.add_argument("--step", type=int, default=1, help="use every n-th val crop")
    ap.add_argument("--sites", nargs="*", default=None, help="only these site transforms")
    args = ap.parse_args(argv)

    from kneeoa_desktop.core.pipeline import GradingPipeline
    from kneeoa_desktop.core.model.predictor import Predictor

    pipeline = GradingPipeline(Predictor(args.weights or active_weights_dir()))
    paths = sorted((args.data / "kneeKL224" / "val").glob("[0-4]/*.png"))[:: args.step]
    raws = [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in paths]
    grades = np.array([int(p.parent.name) for p in paths])
    print(f"model {pipeline.predictor.manifest.tag}; {len(raws)} val crops (every {args.step}.)")
    for figures in grade_sites(pipeline, raws, grades, args.sites):
        print(figures.line(), flush=True)

    rights = [r for p, r in zip(paths, raws) if p.stem.endswith("R")]
    lefts = [r for p, r in zip(paths, raws) if p.stem.endswith("L")]
    pairs = grade_two_knees(pipeline, rights, lefts)
    print(f"two knees side by side 640x161: {pairs.images} images; two records, one in each half "
          f"{100 * pairs.two_in_halves / max(1, pairs.images):.1f} %, both in scope "
          f"{100 * pairs.both_in_scope / max(1, pairs.images):.1f} %; records per image {sorted(pairs.records.items())}")

    for folder in ("implants", "hands"):
        files = sorted(p for p in (args.data / "out-of-scope" / folder).glob("*") if p.suffix.lower() in (".jpg", ".png"))
        flagged, lines = 0, []
        for p in files:
            knees = pipeline(load_image(p)).knees
            flagged += all(not k.in_scope for k in knees)
            notes = "; ".join(f"{k.side or '?'}: {k.scope_note or 'IN SCOPE'}" for k in knees)
            lines.append(f"    {p.name}: {notes}")
        print(f"{folder}: {flagged}/{len(files)} films with every record flagged")
        print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
