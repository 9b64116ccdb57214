#!/usr/bin/env python3
"""Print how often the grade holds when val films are merely re-processed (site-like changes).

Usage: python scripts/robustness_check.py [--weights DIR] [--data ../shared/data/kneeKL224] [--limit N]

For each change (sharpened, smoothed, gamma 0.7/1.4, noisy, zoomed out, wide, rotated) every val
image is graded before and after it; printed: share of unchanged grades, share within one grade,
and kappa against the true grades. The same figures go into the model card at release.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> None:
    from kneeoa_desktop.training.config import DEFAULT_DATA_DIR

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, help="model folder (default: the model in use)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--limit", type=int, help="only the first N val images")
    args = parser.parse_args()
    if not (args.data / "val").is_dir():
        sys.exit(f"{args.data}/val not found")

    from kneeoa_desktop.core.model.model_store import active_weights_dir
    from kneeoa_desktop.core.model.predictor import Predictor
    from kneeoa_desktop.training.dataset import load_split
    from kneeoa_desktop.training.robustness import format_agreement, site_agreement

    predictor = Predictor(args.weights or active_weights_dir())
    raws, grades, _ = load_split(args.data / "val", predictor.input_size, raw=True)
    if args.limit:
        raws, grades = raws[:args.limit], grades[:args.limit]
    print(f"model {predictor.manifest.tag}, {len(grades)} val images")
    print(format_agreement(site_agreement(raws, grades, predictor)))


if __name__ == "__main__":
    main()
