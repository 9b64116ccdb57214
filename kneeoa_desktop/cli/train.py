"""`kneeoa train`: train a network on a kneeKL224-shaped folder and release it as a model folder.

Only the source install with the ``[train]`` extra can train; the installed bundle says so in
one sentence. The work itself is ``training.release.train_and_release``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from . import common


def run(args) -> int:
    from platformdirs import user_cache_dir

    from ..training.config import TrainConfig

    data = Path(args.data)
    for split in ("train", "val"):
        if not (data / split).is_dir():
            print(f"kneeoa: {data / split}: not a folder (expected {data}/train and {data}/val, "
                  "each with 0/ … 4/)", file=sys.stderr)
            return common.EXIT_FAILED
    from ..core.model.engines import installed

    missing = [m for m in ("tensorflow", "keras", "tf2onnx", "matplotlib") if not installed(m)]
    if missing:
        if getattr(sys, "frozen", False):  # the installed bundle leaves training out on purpose
            print("kneeoa: training is not part of the installed program; use the source install "
                  "(pip install 'kneeoa-desktop[train]')", file=sys.stderr)
        else:
            print(f"kneeoa: training needs {', '.join(missing)}: pip install 'kneeoa-desktop[train]'",
                  file=sys.stderr)
        return common.EXIT_FAILED
    if args.init_from and not Path(args.init_from).is_file():
        print(f"kneeoa: {args.init_from}: no such model file", file=sys.stderr)
        return common.EXIT_FAILED
    from ..training.release import train_and_release

    config = TrainConfig(
        data_dir=str(data), run_dir=args.run_dir or f"runs/{args.name}-{args.model_version}",
        epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate,
        ordinal_weight=args.ordinal_weight, class_weight_power=args.class_weight_power, seed=args.seed,
        limit_per_grade=args.limit_per_grade, steps_per_epoch=args.steps_per_epoch,
        architecture=args.architecture, freeze_through=args.freeze_through, init_from=args.init_from,
        squared_rate=args.squared_rate, augmentation=args.augmentation, jit_compile=args.xla,
        model_name=args.name, model_version=args.model_version,
        cache_dir=args.cache_dir or str(Path(user_cache_dir("kneeoa")) / "datasets"))
    out = Path(args.out)
    report = train_and_release(config, out, log=lambda text: print(text, flush=True))
    print(f"\nmodel written to {out} (use it with: kneeoa --weights {out} …)")
    return common.EXIT_OK if report["n"] else common.EXIT_FAILED
