#!/usr/bin/env python3
"""Export a released model's networks to ONNX for the lean engine, check them, update the manifest.

Usage: python scripts/export_onnx.py [--weights weights]

The release steps (``kneeoa train``, ``scripts/release_ensemble.py``) do this themselves; this
script adds the exported graphs (and their section of MODEL_CARD.md) to a model released before
they did (model 1.1.0). Each graph
must reproduce its `.keras` network on fixed probes, and the whole model its TensorFlow verdict
(``kneeoa_desktop.training.runtime_export``), or nothing is written. Needs the [train] extras.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", type=Path, default=REPO / "weights", help="the model's folder")
    args = parser.parse_args()
    from kneeoa_desktop.core.model.manifest import load_manifest
    from kneeoa_desktop.training.runtime_export import export_manifest, update_card

    manifest = export_manifest(load_manifest(args.weights))
    update_card(manifest)  # the card's "Runtime files" section
    for m in manifest.member_list:
        size = (manifest.directory / m.onnx_file).stat().st_size / 1e6
        print(f"{m.onnx_file}: {size:.1f} MB, sha256 {m.onnx_sha256}")
    print(f"model files in all: {manifest.total_bytes / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
