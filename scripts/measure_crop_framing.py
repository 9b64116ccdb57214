"""Measure how single-knee images of other shapes are graded, today and under candidate framings.

    nice -n 19 .venv/bin/python scripts/measure_crop_framing.py [--data ../shared/data/kneeKL224]
        [--limit N] [--weights DIR] [--shapes "wide 300x162,..."] [--framings today,pad-black,...]
        [--save run.npz] [--baseline run-of-other-code.npz] [--network-only]

Each val crop (224×224, label = folder) is cut or placed into the shapes another hospital might
send (see SHAPES), then each derived image is framed (see FRAMINGS; "today" leaves it as it is)
and graded through the real ``GradingPipeline`` with the active model, one image per call as the
GUI and CLI do. Reported per shape × framing, against the val labels and against the grade of
the square original: accuracy and quadratic-weighted kappa (95 % bootstrap interval), kappa
change vs today (paired 95 % interval; "real" when it excludes 0), % same grade / within one of
the original, mean |Δ P(OA)|, and how the pipeline took the image (a whole joint crop, a region
found by the localiser, nothing found so graded whole, two knees) and how often it was flagged
out of scope. With ``--baseline`` (a ``--save`` file written by another version of the code on the
same images), that version's "today" is shown as "before", with paired intervals against this
one's. Figures only; nothing is asserted, and nothing is written but ``--save``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kneeoa_desktop.core.verdict.grades import OA_THRESHOLD  # noqa: E402
from kneeoa_desktop.core.film.imaging import LoadedImage  # noqa: E402
from kneeoa_desktop.core.verdict.metrics import (bootstrap_intervals, paired_difference_interval,  # noqa: E402
                                         quadratic_weighted_kappa)
from kneeoa_desktop.training.augment import shaped_band  # noqa: E402


def pad_to_square(pixels: np.ndarray, border: int = cv2.BORDER_CONSTANT) -> np.ndarray:
    """The image centred on a square of its longer side, filled by ``border`` (constant: black):
    how the pipeline framed such a crop before issue 24, kept here as a framing to compare."""
    h, w = pixels.shape[:2]
    n = max(h, w)
    top, left = (n - h) // 2, (n - w) // 2
    return cv2.copyMakeBorder(pixels, top, n - h - top, left, n - w - left, border, value=0)


def wider(img: np.ndarray, factor: float, border: int, tall: bool = False) -> np.ndarray:
    """The square crop in the middle of a canvas ``factor`` × as wide (or as tall): a film framed
    more loosely, its own border continued (``border``) or dark (constant 0)."""
    extra = round(img.shape[1] * (factor - 1))
    a, b = extra // 2, extra - extra // 2
    return cv2.copyMakeBorder(img, *((a, b, 0, 0) if tall else (0, 0, a, b)), border, value=0)


#: Shapes a hospital might send, made from a 224×224 val crop.
SHAPES = {
    "squashed 300x162": lambda im: cv2.resize(im, (300, 162), interpolation=cv2.INTER_AREA),  # aspect not kept
    "wide 300x162": lambda im: shaped_band(im, 300, 162),
    "tall 162x300": lambda im: shaped_band(im, 162, 300),
    "wide 280x224": lambda im: shaped_band(im, 280, 224),  # 1.25:1, within the localiser's crop aspect
    "film 1.4x reflect": lambda im: wider(im, 1.4, cv2.BORDER_REFLECT),
    "film 1.4x dark": lambda im: wider(im, 1.4, cv2.BORDER_CONSTANT),
    "film 1.4x tall": lambda im: wider(im, 1.4, cv2.BORDER_REPLICATE, tall=True),  # shafts go on
}


def centre_square(img: np.ndarray) -> np.ndarray:
    h, w = img.shape
    n = min(h, w)
    return img[(h - n) // 2:(h - n) // 2 + n, (w - n) // 2:(w - n) // 2 + n]


#: How the derived image is framed before the pipeline sees it.
FRAMINGS = {
    "today": lambda im: im,
    "pad-replicate": lambda im: pad_to_square(im, cv2.BORDER_REPLICATE),
    "pad-reflect": lambda im: pad_to_square(im, cv2.BORDER_REFLECT),
    "pad-black": lambda im: pad_to_square(im, cv2.BORDER_CONSTANT),
    "centre-square": centre_square,
}


def load_val(data: Path, limit: int | None) -> tuple[list[Path], np.ndarray]:
    paths, labels = [], []
    for grade in range(5):
        found = sorted((data / "val" / str(grade)).glob("*.png"))[:limit]
        paths += found
        labels += [grade] * len(found)
    return paths, np.asarray(labels, np.int64)


def grade_all(pipeline, images: list[np.ndarray], whole: bool = False) -> dict:
    """Grade each image through the pipeline (``whole``: as one region, without the knee
    finder, so that framings are compared as network inputs); the first knee stands for it."""
    probs, how, flagged = [], [], []
    for k, pixels in enumerate(images):
        film = LoadedImage(np.ascontiguousarray(pixels), f"{k}.png", "PNG", 8)
        knees = (pipeline.grade_whole([film])[0] if whole else pipeline(film)).knees
        knee = knees[0]
        probs.append(knee.prediction.probabilities)
        # A crop of another shape is framed as a square past its border: it covers the whole
        # image, which a region found on a film (at most 3/4 of the short side) never does.
        whole = knee.whole_image or knee.visible == (0, 0, pixels.shape[1], pixels.shape[0])
        how.append("two" if len(knees) > 1 else "found" if not whole
                   else "crop" if knee.localiser_score is not None else "whole")
        flagged.append(not knee.in_scope)
    return {"probs": np.asarray(probs, np.float64), "how": np.asarray(how), "flagged": np.asarray(flagged)}


def summarise(run: dict, labels: np.ndarray, original: dict) -> dict:
    grades = run["probs"].argmax(1)
    ref = original["probs"].argmax(1)
    oa = run["probs"][:, OA_THRESHOLD:].sum(1)
    oa_ref = original["probs"][:, OA_THRESHOLD:].sum(1)
    return {
        "acc": float((grades == labels).mean()),
        "qwk": quadratic_weighted_kappa(labels, grades),
        "same": float((grades == ref).mean()),
        "within1": float((np.abs(grades - ref) <= 1).mean()),
        "d_oa": float(np.abs(oa - oa_ref).mean()),
        **{f"{h}": float((run["how"] == h).mean()) for h in ("crop", "found", "whole", "two")},
        "flagged": float(run["flagged"].mean()),
    }


def same_share_difference(ref: np.ndarray, a: np.ndarray, b: np.ndarray, resamples: int) -> list[float]:
    """95 % paired bootstrap interval of (share of b's grades equal to ref) − (a's)."""
    rng = np.random.default_rng(0)
    hit_a, hit_b = (a == ref).astype(float), (b == ref).astype(float)
    diffs = [hit_b[p].mean() - hit_a[p].mean() for p in (rng.integers(0, len(ref), len(ref))
                                                          for _ in range(resamples))]
    return [float(np.quantile(diffs, 0.025)), float(np.quantile(diffs, 0.975))]


def _interval(lo_hi: list[float]) -> str:
    return f"[{lo_hi[0]:+.3f}, {lo_hi[1]:+.3f}]" + (" real" if lo_hi[0] > 0 or lo_hi[1] < 0 else "")


def _row(shape, framing, run, today, labels, original, resamples) -> str:
    s = summarise(run, labels, original)
    ci = bootstrap_intervals(labels, run["probs"], resamples)["quadratic_weighted_kappa"]
    d_kappa = d_same = ""
    if run is not today:
        d_kappa = _interval(paired_difference_interval(labels, today["probs"], run["probs"], resamples=resamples))
        d_same = _interval(same_share_difference(original["probs"].argmax(1), today["probs"].argmax(1),
                                                 run["probs"].argmax(1), resamples))
    kappa = f"{s['qwk']:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]"
    return (f"{shape:<18} {framing:<14} {s['acc']:5.3f} {kappa:>22} {d_kappa:>22} {100 * s['same']:5.1f}% "
            f"{100 * s['within1']:5.1f}% {d_same:>22} {s['d_oa']:8.3f} {100 * s['crop']:5.1f}% "
            f"{100 * s['found']:5.1f}% {100 * s['whole']:5.1f}% {100 * s['two']:4.1f}% {100 * s['flagged']:4.1f}%")


def main() -> None:
    default_data = Path(os.environ.get("KNEEOA_DATA", REPO.parent / "shared" / "data" / "kneeKL224"))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=default_data, help="a kneeKL224-shaped folder (val/0..4/*.png)")
    ap.add_argument("--limit", type=int, default=None, help="first N val images per grade (quick runs)")
    ap.add_argument("--weights", type=Path, default=None,
                    help="model folder (manifest.json + .keras + scope.npz); default: the model in use")
    ap.add_argument("--shapes", default=",".join(SHAPES), help="comma-separated, of: " + ", ".join(SHAPES))
    ap.add_argument("--framings", default=",".join(FRAMINGS), help="comma-separated, of: " + ", ".join(FRAMINGS))
    ap.add_argument("--resamples", type=int, default=2000, help="bootstrap resamples")
    ap.add_argument("--save", type=Path, help="write every run's probabilities to this .npz")
    ap.add_argument("--network-only", action="store_true",
                    help="grade each framed image whole, without the knee finder (which cuts a black "
                         "canvas off): the framings compared as what the network is fed")
    ap.add_argument("--baseline", type=Path, help="a --save file of another version of the code (same data "
                    "and --limit): its 'today' is shown, as 'before', beside this one's")
    args = ap.parse_args()
    shapes = [s.strip() for s in args.shapes.split(",")]
    framings = [f.strip() for f in args.framings.split(",")]
    if "today" not in framings:
        framings.insert(0, "today")
    for name in shapes + framings:
        if name not in SHAPES and name not in FRAMINGS:
            ap.error(f"unknown shape or framing: {name}")

    from kneeoa_desktop.core.model.model_store import active_weights_dir
    from kneeoa_desktop.core.pipeline import GradingPipeline
    from kneeoa_desktop.core.model.predictor import Predictor

    weights = args.weights or active_weights_dir()
    pipeline = GradingPipeline(Predictor(weights))
    paths, labels = load_val(args.data, args.limit)
    if not paths:
        ap.error(f"no images in {args.data / 'val'}/0..4 (give --data or set KNEEOA_DATA)")
    names = np.asarray([f"{p.parent.name}/{p.name}" for p in paths])
    baseline = dict(np.load(args.baseline)) if args.baseline else {}
    if baseline and not np.array_equal(baseline["names"], names):
        ap.error(f"{args.baseline} was made on other images (data or --limit differ)")
    crops = [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in paths]
    print(f"model {pipeline.predictor.manifest.tag} ({weights}); {len(crops)} val crops from {args.data}"
          f"{'' if args.limit is None else f' (first {args.limit} per grade)'}")
    start = time.perf_counter()
    original = grade_all(pipeline, crops)
    saved = {"names": names, **{f"original|{k}": v for k, v in original.items()}}
    base = summarise(original, labels, original)
    ci = bootstrap_intervals(labels, original["probs"], args.resamples)["quadratic_weighted_kappa"]
    print(f"square originals: accuracy {base['acc']:.3f}, kappa {base['qwk']:.3f} [{ci[0]:.3f}, {ci[1]:.3f}], "
          f"taken as a crop {100 * base['crop']:.1f} %, flagged {100 * base['flagged']:.1f} %\n")

    head = (f"{'shape':<18} {'framing':<14} {'acc':>5} {'kappa [95 % CI]':>22} {'Δkappa vs today':>22} "
            f"{'same':>6} {'±1':>6} {'Δsame vs today':>22} {'|ΔP(OA)|':>8} {'crop':>6} {'found':>6} "
            f"{'whole':>6} {'two':>5} {'flag':>5}")
    print(head)
    print("-" * len(head))
    for shape in shapes:
        derived = [SHAPES[shape](c) for c in crops]
        today = None
        for framing in framings:
            run = grade_all(pipeline, [FRAMINGS[framing](d) for d in derived], args.network_only)
            saved.update({f"{shape}|{framing}|{k}": v for k, v in run.items()})
            today = today or run
            print(_row(shape, framing, run, today, labels, original, args.resamples), flush=True)
            if framing == "today" and f"{shape}|today|probs" in baseline:
                before = {k: baseline[f"{shape}|today|{k}"] for k in ("probs", "how", "flagged")}
                print(_row(shape, "before", before, today, labels, original, args.resamples), flush=True)
        print()
    if args.save:
        np.savez_compressed(args.save, **saved)
    print(f"crop = taken whole as a joint crop (a non-square one squared, if the pipeline does); found = "
          f"a region framed by the localiser; whole = nothing found, graded whole (resized to the input: "
          f"squashed if not square); two = split into two knees (the first is scored); flag = out of scope. "
          f"same/±1: grade equal to / within one of the square original's. before = 'today' of --baseline. "
          f"Intervals: percentile bootstrap, {args.resamples} resamples; \"real\" = excludes 0. "
          f"{time.perf_counter() - start:.0f} s.")


if __name__ == "__main__":
    main()
