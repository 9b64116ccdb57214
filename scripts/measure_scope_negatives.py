"""Print how many images that are not a knee PA/AP view the whole pipeline grades as a knee.

    .venv/bin/python scripts/measure_scope_negatives.py [--weights weights] [--data ../shared/data]
                                                        [--list]

Every negative of ``training/negatives.py`` (the out-of-scope films and crops of them, pydicom's
test images, scikit-image's pictures, synthetic pages, noise and shapes) goes through
``GradingPipeline`` as a file opened in the app, twice: as it is, and squashed to 640×161, the
shape of another hospital's two-knees-side-by-side images, on which the knee finder proposes
halves and right/left pairs. An image is *accepted* when any of its records is in scope (a KL
grade shown as if it were a knee). Counted apart for the sources the knee head was fitted on and
the quarter held out of its fit (``negatives.is_held_out``): only the held-out figure says how
the head does on images it never saw. Then every film of ``out-of-scope`` opened as a file, as a
clinician would (the two lateral views that the fit never sees included): flagged when any of
its records is out of scope. The knee head's ledger (``weights/LEDGER.md``) cites these figures.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

#: Another hospital's two-knees-side-by-side images (issue 33): 640×161.
WIDE = (640, 161)


def _records(knees) -> str:
    """Each record's side, region and knee-head probability, for ``--list``."""
    return "; ".join(f"{k.side} {k.region} p={k.scope_reasons.get('knee_probability')}" for k in knees)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--weights", type=Path, default=None, help="model folder (default: the active model)")
    ap.add_argument("--list", action="store_true", help="also print each accepted image and its records")
    args = ap.parse_args(argv)

    from kneeoa_desktop.core.model.model_store import active_weights_dir
    from kneeoa_desktop.core.model.predictor import Predictor
    from kneeoa_desktop.core.pipeline import GradingPipeline
    from kneeoa_desktop.training.negatives import is_held_out, negatives
    from kneeoa_desktop.training.site_check import as_film

    pipeline = GradingPipeline(Predictor(args.weights or active_weights_dir()))
    print(f"model {pipeline.predictor.manifest.tag}")
    start = time.perf_counter()
    images = negatives(args.data / "out-of-scope")
    counts = {shape: {part: Counter() for part in ("fitted", "held out")} for shape in ("as is", "640x161")}
    for i, (kind, group, pixels) in enumerate(images):
        part = "held out" if is_held_out(group) else "fitted"
        wide = cv2.resize(pixels, WIDE, interpolation=cv2.INTER_AREA)
        for shape, image in (("as is", pixels), ("640x161", wide)):
            knees = pipeline(as_film(np.ascontiguousarray(image), f"{group} {i}")).knees
            accepted = any(k.in_scope for k in knees)
            counts[shape][part][kind, "images"] += 1
            counts[shape][part][kind, "accepted"] += accepted
            if accepted and args.list:
                print(f"  accepted ({shape}, {part}): {group} {pixels.shape[1]}×{pixels.shape[0]}: "
                      + _records([k for k in knees if k.in_scope]))
    print(f"{len(images)} negative images, each as is and squashed to {WIDE[0]}×{WIDE[1]} "
          f"({time.perf_counter() - start:.0f} s)")
    for shape, parts in counts.items():
        for part, count in parts.items():
            kinds = sorted({kind for kind, _ in count})
            total = sum(count[k, "images"] for k in kinds)
            taken = sum(count[k, "accepted"] for k in kinds)
            detail = ", ".join(f"{k} {count[k, 'accepted']}/{count[k, 'images']}" for k in kinds)
            print(f"{shape:8s} {part:9s} accepted {taken} of {total} ({detail})")
    flagged, films = Counter(), Counter()
    for folder in sorted(p.name for p in (args.data / "out-of-scope").iterdir() if p.is_dir()):
        for path in sorted((args.data / "out-of-scope" / folder).iterdir()):
            if path.suffix.lower() not in (".jpg", ".jpeg", ".png"):
                continue
            knees = pipeline(path).knees
            films[folder] += 1
            flagged[folder] += any(not k.in_scope for k in knees)
            if args.list and not any(not k.in_scope for k in knees):
                print(f"  not flagged: {folder}/{path.name}: " + _records(knees))
    print(f"out-of-scope films opened as files: {sum(flagged.values())} of {sum(films.values())} flagged ("
          + ", ".join(f"{f} {flagged[f]}/{films[f]}" for f in films) + ")")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
