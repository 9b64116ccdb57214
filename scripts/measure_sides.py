"""Print how often the knee finder names a single knee's side right, not at all, or wrongly.

    nice -n 19 .venv/bin/python scripts/measure_sides.py [--data ../shared/data] [--split val] [--step 10]

Every ``--step``-th crop of ``--split`` (its file name gives the side: …R.png is the patient's
right knee) is given to ``localise.find_knees`` as it is, mirrored (the other side), on a black
canvas, squashed to 300×162, on a larger film (its border repeated) and on a simulated leg film
(``training.sites.leg_film``), without a DICOM laterality. A wrong side is a clinical error; an
unnamed one (``null``) is only unhelpful. Figures only; nothing is asserted
(``tests/test_localise.py`` holds the bounds).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kneeoa_desktop.core.knees.localise import find_knees  # noqa: E402
from kneeoa_desktop.training.sites import leg_film  # noqa: E402

OTHER = {"right": "left", "left": "right"}


def on_canvas(crop: np.ndarray) -> np.ndarray:
    canvas = np.zeros((600, 500), np.uint8)
    canvas[100:100 + crop.shape[0], 150:150 + crop.shape[1]] = crop
    return canvas


CASES = {  # name: (make the film, does it swap the side)
    "as it is": (lambda c: c, False),
    "mirrored": (lambda c: np.ascontiguousarray(c[:, ::-1]), True),
    "on a black canvas": (on_canvas, False),
    "squashed 300x162": (lambda c: cv2.resize(c, (300, 162), interpolation=cv2.INTER_AREA), False),
    "on a larger film": (lambda c: cv2.copyMakeBorder(c, 224, 224, 112, 112, cv2.BORDER_REPLICATE), False),
    "leg film (x2)": (lambda c: np.clip(leg_film(c.astype(np.float32), 2.0), 0, 255).astype(np.uint8), False),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    parser.add_argument("--split", default="val")
    parser.add_argument("--step", type=int, default=10)
    args = parser.parse_args()
    paths = sorted((Path(args.data) / "kneeKL224" / args.split).glob("*/*.png"))[::args.step]
    print(f"{len(paths)} crops of kneeKL224/{args.split} (every {args.step}th)")
    print(f"{'case':<20} {'right side':>10} {'unnamed':>8} {'WRONG':>6} {'other':>6}")
    start = time.perf_counter()
    for name, (make, swaps) in CASES.items():
        counts = {"right side": 0, "unnamed": 0, "WRONG": 0, "other": 0}
        for path in paths:
            crop = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
            truth = "right" if path.stem.endswith("R") else "left"
            truth = OTHER[truth] if swaps else truth
            regions = find_knees(make(crop))
            if len(regions) != 1:
                counts["other"] += 1  # no region, or two
            elif regions[0].side is None:
                counts["unnamed"] += 1
            else:
                counts["right side" if regions[0].side == truth else "WRONG"] += 1
        print(f"{name:<20} " + " ".join(f"{v:>{w}}" for v, w in zip(counts.values(), (10, 8, 6, 6))))
    print(f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
