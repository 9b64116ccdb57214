"""The model in use, from the command line: `kneeoa info`, `download-weights`, `restore-model`, `self-test`."""

from __future__ import annotations

import sys

from . import common
from .output import ByteProgress


def info(args) -> int:
    from ..core.model.model_info import model_facts

    for key, value in model_facts(common.predictor_for(args), args.weights).items():
        print(f"{key:<12} {value}")
    return common.EXIT_OK


def download_weights(args) -> int:
    from ..core.model.download import download_model

    if bool(args.url) != bool(args.sha256):
        print("kneeoa: give --url and --sha256 together (the checksum pins what the URL must deliver)",
              file=sys.stderr)
        return common.EXIT_USAGE
    bar = ByteProgress()
    try:
        manifest = download_model(args.url, args.sha256, version=args.model_version, progress=bar.update,
                                  timeout=args.timeout, retries=args.retries)
    finally:
        bar.close()
    print(f"model {manifest.tag} (sha256 {manifest.sha256[:12]}…) installed in {manifest.directory} "
          "and now in use")
    return common.EXIT_OK


def restore_model(args) -> int:
    from ..core.model.manifest import load_manifest
    from ..core.model.model_store import restore_bundled

    active = restore_bundled()
    print(f"now using the bundled model {load_manifest(active.directory).tag}")
    return common.EXIT_OK


def self_test(args) -> int:
    from ..selftest import main as self_test

    if args.weights:
        print("kneeoa: self-test checks the model in use; --weights is not supported here", file=sys.stderr)
        return common.EXIT_USAGE
    return self_test(args.image)
