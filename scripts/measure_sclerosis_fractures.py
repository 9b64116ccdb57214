"""Print what the pipeline does with two of issue 33's real-film kinds rebuilt from val crops:
standing films whose knees carry dense subchondral sclerosis, at several strengths, and
teaching-collection films of single knees with an avulsion fracture.

    .venv/bin/python scripts/measure_sclerosis_fractures.py [--data ../shared/data] [--films 8]

1. Sclerosis: ``sites.sclerotic`` (one compartment, then both, by turns) on val KL 3–4 crops,
   ``sites.standing_film(..., heavy=True)`` with a sphere between the knees, as
   ``tests/test_real_film_cases.py`` builds them, at ``--strengths`` (the test's is 90): knees
   graded on their joints and in scope, knees called metal, and the largest metal share the
   metal rule finds in a region or its context. Dense bone that saturates but fades into the
   bone around it is not metal to the rule; a refusal here comes from elsewhere.
2. Avulsion fractures: every 40th val crop as a teaching film — a single knee with its shafts
   (``sites.teaching_film``), enlarged to 1,000–2,400 px across and sharpened, a side marker and an
   arrow burnt in — with and without a fracture line into the tibial plateau and a small
   fragment pulled off its rim: one knee on the joint and in scope, and the knee head's
   probabilities. Through b58d070 such films fail as the real teaching films did (4 of 5
   refused by the head there): ``scripts/measure_real_film_cases.py`` counts them on every 20th
   crop, ``tests/test_real_film_cases.py`` holds them.

Figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kneeoa_desktop.training import sites  # noqa: E402
from kneeoa_desktop.training.sites import avulsion, teaching_film  # noqa: E402
from kneeoa_desktop.training.site_check import as_film, centred_on  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--weights", type=Path, default=None, help="a weights folder (default: the active model)")
    ap.add_argument("--films", type=int, default=8, help="standing films per strength")
    ap.add_argument("--strengths", type=float, nargs="+", default=[90.0, 150.0, 220.0])
    args = ap.parse_args(argv)

    from kneeoa_desktop.core.model.model_store import active_weights_dir
    from kneeoa_desktop.core.model.predictor import Predictor
    from kneeoa_desktop.core.pipeline import GradingPipeline

    grader = GradingPipeline(Predictor(args.weights or active_weights_dir()))
    paths = sorted((args.data / "kneeKL224" / "val").glob("[0-4]/*.png"))
    severe = [p for p in paths[::4] if p.parent.name in "34"]
    rights = [p for p in severe if p.stem.endswith("R")][:args.films]
    lefts = [p for p in severe if p.stem.endswith("L")][:args.films]
    print(f"model {grader.predictor.manifest.tag}")
    print("1. sclerotic knees on high-contrast standing films, a sphere between them:")
    for strength in args.strengths:
        rng = np.random.default_rng(0)
        graded = metal = knees = 0
        largest = 0.0
        for k, (a, b) in enumerate(zip(rights, lefts)):
            pair = [sites._u8(sites.sclerotic(cv2.imread(str(p), cv2.IMREAD_GRAYSCALE).astype(np.float32), rng,
                                              1 + k % 2, strength)) for p in (a, b)]
            film, centres = sites.standing_film(pair[0], pair[1], "between", heavy=True)
            found = grader(as_film(film, "standing")).knees
            knees += 2
            graded += sum(centred_on(q.region, c) and q.in_scope for q, c in zip(found, centres)) if len(found) == 2 else 0
            for q in found:
                r = q.scope_reasons
                metal += not q.in_scope and "Metal" in (q.scope_note or "")
                largest = max(largest, r.get("metal_fraction", 0.0), r.get("context_metal_fraction", 0.0))
        print(f"  strength {strength:5.0f}: {graded} of {knees} knees graded on their joints, {metal} called metal; "
              f"largest metal share in a region or its context {largest:.3f}")
    print("2. teaching films of one knee (1,000-2,400 px), with and without an avulsion fracture:")
    crops = paths[::40]
    for fracture in (True, False):
        rng = np.random.default_rng(1)
        good, probs = 0, []
        for p in crops:
            raw = cv2.imread(str(p), cv2.IMREAD_GRAYSCALE).astype(np.float32)
            film, centre = teaching_film(avulsion(raw, rng) if fracture else raw, rng, int(rng.uniform(1000, 2400)))
            found = grader(as_film(film, "teaching")).knees
            good += len(found) == 1 and found[0].in_scope and centred_on(found[0].region, centre)
            probs += [q.scope_reasons.get("knee_probability", float("nan")) for q in found]
        print(f"  {'with' if fracture else 'without'} a fracture: {good} of {len(crops)} graded on the joint; "
              f"knee head's lowest probability {np.nanmin(probs):.3f}, median {np.nanmedian(probs):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
