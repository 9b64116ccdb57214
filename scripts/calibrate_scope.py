"""Calibrate the scope check for one model and write its statistics beside it (scope.npz).

    python scripts/calibrate_scope.py --weights weights [--data ../shared/data/kneeKL224]

1. pooled features ("gap" layer) of the training images, plus augmented copies of some of them
   (the training's own site-like changes: framing, tone, sharpness, noise), so that films from
   other hospitals are not "far" merely for looking different → PCA statistics
   (core.scope.fit_stats), rare grades weighted up so that severe OA does not look unusual;
   and, since a single-knee image of another shape is framed as a square with black bars
   (``--squared``: training crops cut to random wide and tall shapes and framed so), so that
   such a crop from another hospital is not "far" merely for its bars;
2. distance threshold = the (1 - target) quantile of the validation images' distances, so at
   most ``--false-alarms`` (default 3 %) of in-scope val crops are flagged; leaves room below
   the 5 % allowed on unseen films;
3. writes DIR/scope.npz atomically, then reports: false alarms on val overall, per KL grade and
   under the site shifts that mimic other hospitals' films and on val crops of other shapes
   framed as squares (the crop-framing shapes of scripts/measure_crop_framing.py); detection of the real replaced-knee
   films in shared/data/out-of-scope/implants (and which are missed); time per assessment.

Everything model-dependent is recomputed here from the given weights folder; nothing is
hard-coded, so a new model only needs this script run again.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kneeoa_desktop.core import scope  # noqa: E402
from kneeoa_desktop.core.imaging import load_image  # noqa: E402
from kneeoa_desktop.core.localise import pad_to_square  # noqa: E402
from kneeoa_desktop.core.preprocess import preprocess  # noqa: E402

from measure_crop_framing import SHAPES, band  # noqa: E402  (same folder)

SHIFTS = ("sharpened", "gamma 0.7", "gamma 1.4", "zoomed out")
#: The crop shapes whose squared framing is reported (the padded ones the pipeline makes).
SQUARED_SHAPES = ("wide 300x162", "tall 162x300", "wide 280x224")


def squared_crop(raw: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A square crop cut to a random wide or tall shape (height:width 0.5–0.9 or its inverse),
    framed as the pipeline frames such an image: centred on a black square of its longer side."""
    ratio = float(np.exp(rng.uniform(np.log(0.5), np.log(0.9))))
    n = raw.shape[0]
    shape = (n, round(n * ratio)) if rng.random() < 0.6 else (round(n * ratio), n)  # (width, height)
    return pad_to_square(band(raw, *shape), 0)  # 0 = cv2.BORDER_CONSTANT, black


def _images(folder: Path, limit: int | None, seed: int = 0) -> tuple[list[Path], np.ndarray]:
    paths = sorted(folder.glob("[0-4]/*.png"))
    if limit and len(paths) > limit:
        keep = np.sort(np.random.default_rng(seed).choice(len(paths), limit, replace=False))
        paths = [paths[i] for i in keep]
    return paths, np.array([int(p.parent.name) for p in paths])


def _features(predictor, raws, batch: int = 64) -> np.ndarray:
    size = predictor.input_size
    out = []
    for i in range(0, len(raws), batch):
        x = np.stack([preprocess(r, size) for r in raws[i:i + batch]])
        out.append(predictor.predict_array(x, with_features=True)[2])
    return np.concatenate(out).astype(np.float64)


def preprocess_augmented(raw, rng, size, augment_image):
    """One augmented copy at the model's input size (augment_image keeps the raw size)."""
    x = augment_image(raw, rng)
    if x.shape[:2] != tuple(size):
        x = preprocess((x[:, :, 0] * 255).astype(np.uint8), size)
    return x


def _rate(flags) -> str:
    flags = np.asarray(flags, bool)
    return f"{flags.mean() * 100:5.1f} % ({flags.sum()}/{flags.size})"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", required=True, type=Path, help="model folder (manifest.json + .keras)")
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "kneeKL224")
    parser.add_argument("--implants", type=Path,
                        default=REPO.parent / "shared" / "data" / "out-of-scope" / "implants")
    parser.add_argument("--false-alarms", type=float, default=0.03, help="target share of val flagged")
    parser.add_argument("--components", type=int, default=32, help="PCA dimensions")
    parser.add_argument("--shrinkage", type=float, default=0.1)
    parser.add_argument("--train-limit", type=int, default=None, help="use at most this many training images")
    parser.add_argument("--augmented", type=int, default=2500, help="augmented training copies to add")
    parser.add_argument("--squared", type=int, default=3000,
                        help="training crops cut to other shapes and squared with black bars to add")
    parser.add_argument("--max-weight", type=float, default=4.0, help="cap on the weight of a rare grade")
    parser.add_argument("--dry-run", action="store_true", help="report only; do not write scope.npz")
    args = parser.parse_args(argv)

    from kneeoa_desktop.core.predictor import Predictor
    from kneeoa_desktop.training.augment import augment_image, site_shift

    predictor = Predictor(args.weights)
    print(f"model {predictor.manifest.tag} on {predictor.device}")

    t0 = time.perf_counter()
    train_paths, train_grades = _images(args.data / "train", args.train_limit)
    train_raw = [load_image(p).pixels for p in train_paths]
    train = _features(predictor, train_raw)
    rng = np.random.default_rng(1234)
    pick = rng.choice(len(train_raw), min(args.augmented, len(train_raw)), replace=False)
    size = predictor.input_size
    augmented = np.concatenate([
        predictor.predict_array(np.stack([preprocess_augmented(train_raw[i], rng, size, augment_image)
                                          for i in pick[s:s + 64]]), with_features=True)[2]
        for s in range(0, len(pick), 64)]) if len(pick) else np.zeros((0, train.shape[1]))
    pick_sq = rng.choice(len(train_raw), min(args.squared, len(train_raw)), replace=False)
    squared = _features(predictor, [squared_crop(train_raw[i], rng) for i in pick_sq]) \
        if len(pick_sq) else np.zeros((0, train.shape[1]))
    reference = np.concatenate([train, augmented.astype(np.float64), squared])
    ref_grades = np.concatenate([train_grades, train_grades[pick], train_grades[pick_sq]])
    counts = np.bincount(ref_grades, minlength=5).astype(np.float64)
    grade_weight = np.clip(np.median(counts) / np.maximum(counts, 1), 1.0, args.max_weight)
    print(f"reference features {reference.shape} ({len(augmented)} augmented, {len(squared)} squared) in "
          f"{time.perf_counter() - t0:.0f} s; grade weights {np.round(grade_weight, 2).tolist()}")
    stats = scope.fit_stats(reference, args.components, args.shrinkage, grade_weight[ref_grades])

    val_paths, grades = _images(args.data / "val", None)
    val_raw = [load_image(p).pixels for p in val_paths]
    val = _features(predictor, val_raw)
    d_val = stats.distance(val)
    threshold = float(np.quantile(d_val, 1.0 - args.false_alarms))
    doubt = float(np.quantile(d_val, 0.80))
    stats = scope.with_thresholds(stats, threshold, doubt, predictor.manifest.tag)
    d_train = stats.distance(train)
    print(f"distance: train median {np.median(d_train):.3f}, val median {np.median(d_val):.3f}, "
          f"threshold {threshold:.3f} (val {100 * (1 - args.false_alarms):.0f} %), doubt {doubt:.3f}")

    if not args.dry_run:  # written before the (slower) report, which reads nothing from disk
        path = scope.save_stats(stats, args.weights)
        print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")

    def verdicts(raws, feats):
        return [scope.assess(r, f, stats) for r, f in zip(raws, feats)]

    t0 = time.perf_counter()
    v_val = verdicts(val_raw, val)
    per_assess = (time.perf_counter() - t0) / len(val_raw) * 1000
    flags = np.array([not v.in_scope for v in v_val])
    print(f"\nfalse alarms on val: {_rate(flags)}  (train, distance only: {_rate(d_train > threshold)})")
    for g in range(5):
        print(f"  KL{g}: {_rate(flags[grades == g])}")
    metal_flags = np.array([v.note == scope.NOTE_IMPLANT for v in v_val])
    print(f"  of which metal: {_rate(metal_flags)}")

    print("\nval under other hospitals' looks:")
    for name in SHIFTS:
        shifted = [site_shift(r, name, i) for i, r in enumerate(val_raw)]
        v = verdicts(shifted, _features(predictor, shifted))
        print(f"  {name:11s} {_rate([not x.in_scope for x in v])}")

    print("\nval crops of other shapes, framed as squares with black bars:")
    for name in SQUARED_SHAPES:
        framed = [pad_to_square(SHAPES[name](r), 0) for r in val_raw]
        v = verdicts(framed, _features(predictor, framed))
        print(f"  {name:13s} {_rate([not x.in_scope for x in v])}")

    print(f"\nreplaced-knee films ({args.implants}):")
    implant_paths = sorted(args.implants.glob("*.jpg"))
    if implant_paths:
        raws = [load_image(p).pixels for p in implant_paths]
        t0 = time.perf_counter()
        feats = _features(predictor, raws)
        net_ms = (time.perf_counter() - t0) / len(raws) * 1000
        t0 = time.perf_counter()
        v_imp = verdicts(raws, feats)
        imp_ms = (time.perf_counter() - t0) / len(raws) * 1000
        caught = np.array([not v.in_scope for v in v_imp])
        metal = np.array([v.note == scope.NOTE_IMPLANT for v in v_imp])
        print(f"  flagged {_rate(caught)}; with the metal note {_rate(metal)}")
        for p, v in zip(implant_paths, v_imp):
            mark = "MISSED " if v.in_scope else ("metal  " if v.note == scope.NOTE_IMPLANT else "other  ")
            print(f"  {mark} d={v.reasons['feature_distance']:7.3f} metal={v.reasons['metal_fraction']:.4f}  {p.name}")
        print(f"\ntime per assessment (without the network): {per_assess:.1f} ms on 224² crops, "
              f"{imp_ms:.1f} ms on whole films; network with features {net_ms:.0f} ms per film")
    else:
        print("  (none found)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
