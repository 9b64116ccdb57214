#!/usr/bin/env python3
"""Release an ensemble of finished networks as the shipped model (manifest, figures, model card).

    python scripts/release_ensemble.py scripts/ensemble-1.1.0.json --out weights

The spec (JSON) names the model, its version and its members in order (the first member's
pooled features feed the scope check, so keep the network ``scope.npz`` was fitted on first, or
refit it with ``scripts/fit_scope_head.py``); each member gives its ``source`` file (relative
to the spec), name, version and training record (recipe, command, seed, where it was trained).
See ``kneeoa_desktop/training/ensemble_release.py`` for what is measured and written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "kneeKL224")
    args = parser.parse_args(argv)
    from kneeoa_desktop.training.ensemble_release import read_spec, release_ensemble

    spec = read_spec(args.spec)
    spec.setdefault("spec", str(args.spec))
    release_ensemble(spec, args.out, args.data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
