#!/usr/bin/env python3
"""Measure candidate members and ensembles of them on the same val images, against a baseline.

    python scripts/compare_ensembles.py --member base=weights --member a=runs/gpu/lite0.keras \\
        --member b=runs/gpu/lite2.keras --ensemble base+a --ensemble base+a+b [--flip] [--median]

A member is a model folder (manifest.json + .keras: its temperature and files as shipped) or a
bare ``.keras`` (a run's checkpoint). Each member grades every val crop once per set, as it is
and mirrored, cached by the file's sha256 (``--cache``): val as it is; the training's site
proxy (``augment.site_proxy``); the simulated sites of issue 24, framed whole as the app frames a
single-knee film (``sites.site_proxy``); crops of other shapes (``augment.framing_proxy``). An
ensemble is the geometric mean of its members' probabilities (``core.verdict.ensemble``, as the app
combines them); with ``--flip`` each member's two passes are averaged first, as the app does.

Printed per set: accuracy, quadratic-weighted kappa, MAE and ECE with 95 % bootstrap intervals
for every member and ensemble, then each one's paired difference from the baseline (the first
``--member``, alone), marked "real" when its 95 % interval excludes 0. ``--median`` adds rows
where the grade is the median of the distribution instead of the most probable one. ``--json``
writes every figure to a file. Figures only; no model is written.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kneeoa_desktop.core.verdict.ensemble import combine_probabilities  # noqa: E402
from kneeoa_desktop.core.verdict.grades import median_grade  # noqa: E402
from kneeoa_desktop.core.verdict.metrics import (bootstrap_intervals, headline_figures,  # noqa: E402
                                         paired_difference_intervals)

KEYS = ("accuracy", "quadratic_weighted_kappa", "mae", "ece")
SHORT = {"accuracy": "acc", "quadratic_weighted_kappa": "kappa", "mae": "MAE", "ece": "ECE"}
SETS = ("val", "site proxy", "simulated sites", "other shapes")


def median_one_hot(probs: np.ndarray) -> np.ndarray:
    """The median grade of each distribution, as a one-hot "probability" (for the grade rules only)."""
    return np.eye(probs.shape[1])[median_grade(probs)]


def member_files(spec: str) -> tuple[str, list[tuple[Path, str]]]:
    """``NAME=PATH`` → (name, [(file, sha256)]): a folder's members, or one bare file."""
    from kneeoa_desktop.core.model.manifest import load_manifest, sha256_of

    name, _, path = spec.partition("=")
    path = Path(path)
    if path.is_dir():
        manifest = load_manifest(path)
        return name, [(manifest.directory / m.file, m.sha256) for m in manifest.member_list]
    return name, [(path, sha256_of(path))]


def set_inputs(data: Path, seed: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
    from kneeoa_desktop.training.dataset import load_split
    from kneeoa_desktop.training.robustness import validation_sets

    raws, grades, _ = load_split(data / "val", (224, 224), raw=True)
    return validation_sets(raws, seed), grades


def network_probabilities(path: Path, sha256: str, inputs: dict[str, np.ndarray], cache: Path) -> dict:
    """{set: (plain (N, 5), mirrored (N, 5))} for one network file, cached by its sha256."""
    cache_file = cache / f"{sha256[:20]}.npz"
    if cache_file.is_file():
        with np.load(cache_file) as saved:
            if all(f"{s}|plain" in saved for s in inputs):
                return {s: (saved[f"{s}|plain"], saved[f"{s}|mirror"]) for s in inputs}
    from kneeoa_desktop.core.model.network import Network
    from kneeoa_desktop.core.model.runtime import tensorflow_runtime

    network = Network(tensorflow_runtime(), path, sha256, (224, 224), lite=True)
    out = {}
    for name, x in inputs.items():
        passes = []
        for batch in (x, x[:, :, ::-1]):
            passes.append(np.concatenate([np.asarray(network(batch[i:i + 32])[0], np.float64)
                                          for i in range(0, len(batch), 32)]))
        out[name] = tuple(passes)
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(cache_file, **{f"{s}|{k}": p for s, pair in out.items() for k, p in zip(("plain", "mirror"), pair)})
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--member", action="append", required=True, metavar="NAME=PATH")
    parser.add_argument("--ensemble", action="append", default=[], metavar="A+B+…")
    parser.add_argument("--flip", action="store_true", help="average each member over the mirror image first")
    parser.add_argument("--median", action="store_true", help="also the median-grade rule")
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "kneeKL224")
    parser.add_argument("--cache", type=Path, default=REPO / "runs" / "ensemble-cache")
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1234, help="seed of the site proxies (training's default)")
    parser.add_argument("--sets", nargs="*", default=list(SETS), choices=SETS)
    parser.add_argument("--json", type=Path, help="write every figure here")
    args = parser.parse_args(argv)

    inputs, grades = set_inputs(args.data, args.seed)
    inputs = {s: inputs[s] for s in args.sets}
    members = dict(member_files(spec) for spec in args.member)
    baseline = next(iter(members))
    per_network = {}
    for name, files in members.items():
        per_network[name] = [network_probabilities(p, sha, inputs, args.cache) for p, sha in files]
        print(f"{name}: {', '.join(str(p) for p, _ in files)}", flush=True)

    def member_probs(name: str, set_name: str) -> np.ndarray:
        passes = [net[set_name] for net in per_network[name]]
        flipped = [(a + b) / 2.0 if args.flip else a for a, b in passes]
        return combine_probabilities(flipped)

    candidates = {name: [name] for name in members}
    for spec in args.ensemble:
        parts = spec.split("+")
        if any(p not in members for p in parts):
            parser.error(f"--ensemble {spec}: name each part with --member first")
        candidates[spec] = parts
    figures: dict = {}
    print(f"\n{len(grades)} val images; flip {'on' if args.flip else 'off'}; baseline {baseline}")
    for set_name in inputs:
        probs = {c: combine_probabilities([member_probs(m, set_name) for m in parts])
                 for c, parts in candidates.items()}
        rules = {"argmax": lambda p: p}
        if args.median:
            rules["median"] = median_one_hot
        print(f"\n{set_name}: figures with 95 % bootstrap intervals; then the paired difference from {baseline}")
        for rule, decode in rules.items():
            keys = KEYS if rule == "argmax" else KEYS[:3]  # a one-hot median has no calibration
            for c, p in probs.items():
                q = decode(p)
                f, iv = headline_figures(grades, q), bootstrap_intervals(grades, q, args.resamples)
                figures.setdefault(set_name, {}).setdefault(rule, {})[c] = {
                    "figures": {k: f[k] for k in keys}, "intervals": {k: list(iv[k]) for k in keys}}
                print(f"  {rule:<6} {c:<28}" + "".join(
                    f"  {SHORT[k]} {f[k]:.3f} [{iv[k][0]:.3f}, {iv[k][1]:.3f}]" for k in keys))
            base = decode(probs[baseline])
            for c, p in probs.items():
                if c == baseline and rule == "argmax":
                    continue
                q = decode(p)
                d = paired_difference_intervals(grades, base, q, keys, resamples=args.resamples)
                cells = []
                for k in keys:
                    delta = headline_figures(grades, q)[k] - headline_figures(grades, base)[k]
                    real = " real" if d[k][0] > 0 or d[k][1] < 0 else ""
                    cells.append(f"  {SHORT[k]} {delta:+.3f} [{d[k][0]:+.3f}, {d[k][1]:+.3f}]{real}")
                    figures[set_name][rule][c].setdefault("vs_baseline", {})[k] = [delta, *d[k]]
                print(f"  {rule:<6} {c + ' − ' + baseline:<28}" + "".join(cells))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
