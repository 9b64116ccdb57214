"""Fit the scope check for one model — the knee head and the "unusual" distance — and write
``scope.npz`` beside it.

    .venv/bin/python scripts/fit_scope_head.py --weights weights [--positives 1500] [--dry-run]

1. Positives: ``--positives`` kneeKL224/train crops, each pushed through one simulated site
   (``training/sites.py``, cycling: as is, resized without keeping the aspect ratio, tight cuts,
   zoomed out, sharpened, equalised, high contrast, gamma, 12/16-bit), graded through the whole
   pipeline (knee finding and framing as in the app): the pooled features of every region it
   grades. Then, for variety the sites lack (issue 33's real films): ``--pairs`` two-knee images
   (``sites.two_knees``; every other one cut tight and sharpened), ``--shafts`` portrait films
   with long shafts (``sites.shaft_film``, the joint anywhere from 15 to 85 % of the height),
   ``--tight`` films whose joint fills them (``sites.tight_film``, 8- and 16-bit), ``--standing``
   standing films of both legs with a ruler and a calibration sphere (``sites.standing_film``),
   and ``--sclerotic`` such films on a high-contrast tone curve whose knees carry dense
   subchondral sclerosis of varied strength (``sites.sclerotic``), and ``--long-leg`` standing
   films at true proportions (``long_leg.long_leg_film``: hips and ankles on the film, each knee
   0.17–0.26 of its width; every other one with sclerotic knees on a high-contrast film): the
   regions the pipeline grades on the true joints (a region off them is left out, not taught as
   a knee) and, on the long-leg films, every candidate of the scan centred on a joint; and
   ``--teaching`` teaching-collection films of one knee (``sites.teaching_film``: enlarged to
   1,000–2,400 px, sharpened, a marker and an arrow burnt in; every other one with an avulsion
   fracture, ``sites.avulsion``); and ``--tight-cuts`` tight films cut as many hands cut them
   (``sites.TightCut.drawn``: tighter or looser, the joint off centre, turned), whose regions on
   the joint and whole film are knees (no candidate on them is mined: on a film this tight a
   window off the joint is still knee; the whole film counts twice when graded whole), and
   ``--pair-cuts`` two such knees side by side, each cut otherwise (``sites.two_tight_knees``),
   whose halves and regions graded on the joints are knees (each half once; none by default:
   tried, not kept). Unless
   ``--no-mining``, the scan's candidates on these films that lie off every joint (centred
   farther than half their size from each: the tibia and fibula, a condyle, a corner of a tight
   film) are hard negatives.
2. Negatives: ``training/negatives.py`` (the replaced knees, hands, chests, shoulders and pelvises
   of shared/data/out-of-scope, pydicom's test DICOM, scikit-image's pictures (the [train]
   extra installs it), synthetic pages, noise, gradients, shapes), through
   the same pipeline, every region; and, unless ``--no-mining``, every region the scan proposes
   on them (``localise.knee_candidates``: the windows, pairs, halves and whole image the knee
   head chooses between in the app), as hard negatives: a candidate the head accepts on a film of
   another body part is what lets such a film through.
   A fixed quarter of every source (``negatives.is_held_out``: by the hash of a film's name, of
   a kneeKL224 patient, of a picture) is held out: nothing below is fitted or chosen on it.
3. The head (``training/scope_head.py``), on the rest: out-of-fold probabilities by group (5 folds) for each
   L2 strength tried; the strength with the best out-of-fold log-loss is kept. The threshold is
   the largest probability that refuses at most ``--refuse`` (default 1 %) of the out-of-fold
   positives; the doubt level, at most ``--doubt-share`` (5 %) of them (the pipeline keeps the
   knee finder's decision without a second look when the head scores it at least that much).
4. The distance ("unusual image; check the grade"): PCA statistics of the positives' features,
   threshold at their ``--unusual`` quantile (99 %).
The regions are those the pipeline grades with the ``scope.npz`` already in ``--weights`` (its
knee head chooses between the scan's candidates, as in the app): fit into a copy of the shipped
weights folder, not an empty one (without a head the regions are the scan's decisions alone).
Then the final head is fitted on the rest and written with the statistics (atomically); the
out-of-fold figures on the rest and then the held-out figures are printed per kind: the share of
regions the head refuses, that the metal rule flags (its constants were chosen before on val and
on the 29 implant films, of which the held-out ones are not independent; the chest, shoulder and
pelvis films are), and that the scope check flags either way. Figures on val: scripts/measure_sites.py.
``--judge FOLDER ...`` (with ``--cache``): no fit; the held-out report of the head in each folder
on the same cached regions, to compare candidates (weights/LEDGER.md).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kneeoa_desktop.core.verdict import scope  # noqa: E402
from kneeoa_desktop.training.site_check import as_film, centred_on  # noqa: E402


def _regions(pipeline, pixels: np.ndarray, name: str, centres=None, rects: bool = False) -> list:
    """(features, localiser score or nan, metal seen) of every region the pipeline grades on an
    image; metal is the scope check's rule on the region and its context, whatever the head says.
    ``centres``: the true joints of a simulated film; a region not centred on one (within a fifth
    of its size) is left out, as no example of a knee. With ``rects``, each as (that triple, the
    region's (x, y, width, height))."""
    out = []
    for knee in pipeline(as_film(pixels, name)).knees:
        if centres is not None and not any(centred_on(knee.region, c) for c in centres):
            continue
        score = knee.localiser_score if knee.localiser_score is not None else float("nan")
        reasons = knee.scope_reasons
        metal = max(reasons.get("metal_fraction", 0.0), reasons.get("context_metal_fraction", 0.0))
        region = (np.asarray(knee.prediction.features, np.float64), score, metal >= scope.METAL_MIN_FRACTION)
        out.append((region, tuple(knee.region)) if rects else region)
    return out


def _mined(pipeline, pixels: np.ndarray) -> list[tuple[np.ndarray, float, bool]]:
    """(features, localiser score, False) of every region the scan proposes on an image, through
    the network in one batch as the pipeline's second pass sends them (metal is not judged)."""
    return _through_network(pipeline, pixels, _candidates(pixels))


def _candidates(pixels: np.ndarray) -> list:
    """Every region the scan proposes on an image (``localise.knee_candidates``' sets), once."""
    from kneeoa_desktop.core.knees.localise import knee_candidates

    return list(dict.fromkeys(r for s in knee_candidates(pixels) for r in s))


def _through_network(pipeline, pixels: np.ndarray, regions) -> list[tuple[np.ndarray, float, bool]]:
    """(features, localiser score, False) of ``regions`` of an image, in one batch."""
    from kneeoa_desktop.core.knees.framing import cut_region
    from kneeoa_desktop.core.knees.preprocess import preprocess

    if not regions:
        return []
    size = pipeline.predictor.input_size
    batch = np.stack([preprocess(cut_region(pixels, r.x, r.y, r.width, r.height), size) for r in regions])
    _, _, features = pipeline.predictor.predict_array(batch, with_features=True)
    return [(np.asarray(f, np.float64), float(r.score) if np.isfinite(r.score) else float("nan"), False)
            for f, r in zip(features, regions)]


def _off_joint(pipeline, pixels: np.ndarray, candidates, centres) -> list[tuple[np.ndarray, float, bool]]:
    """(features, localiser score, False) of the scan's ``candidates`` on a simulated knee film that
    lie off every true joint: centred farther from each than half their own size (a shaft, the
    tibia and fibula, a condyle, a corner of a tight film). A region near a joint at another size
    is left out, and so is one that holds both joints (taught as a negative, it dragged the
    threshold down and refused tight knees: weights/LEDGER.md)."""
    off = [r for r in candidates
           if not any(centred_on((r.x, r.y, r.width, r.height), c, 0.5) for c in centres)]
    return _through_network(pipeline, pixels, off)


def _on_joint(pipeline, pixels: np.ndarray, candidates, centres) -> list[tuple[np.ndarray, float, bool]]:
    """(features, localiser score, False) of the scan's ``candidates`` on a simulated knee film that
    are centred on a true joint (as a graded region must be, ``centred_on``): the knees the head
    chooses between, whichever the pipeline graded."""
    on = [r for r in candidates if any(centred_on((r.x, r.y, r.width, r.height), c) for c in centres)]
    return _through_network(pipeline, pixels, on)


def _refused(p: np.ndarray, threshold: float) -> np.ndarray:
    """What the head refuses as not a knee (see ``scope.assess``)."""
    return p < threshold


def _report(title: str, kinds: np.ndarray, refused: np.ndarray, metal: np.ndarray) -> None:
    """Per kind: regions, refused by the head, flagged as metal, flagged by either."""
    print(f"{title}:")
    print(f"  {'kind':32s} {'regions':>7} {'head refuses':>12} {'metal':>7} {'flagged':>8}")
    for kind in sorted(set(kinds)):
        sel = kinds == kind
        print(f"  {kind:32s} {sel.sum():7d} {refused[sel].mean():12.1%} {metal[sel].mean():7.1%} "
              f"{(refused | metal)[sel].mean():8.1%}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", type=Path, default=REPO / "weights")
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--positives", type=int, default=1500, help="train crops pushed through the sites")
    ap.add_argument("--pairs", type=int, default=150, help="two-knee images among the positives")
    ap.add_argument("--shafts", type=int, default=150, help="portrait films with shafts among the positives")
    ap.add_argument("--tight", type=int, default=150, help="tight films (joint fills the film) among the positives")
    ap.add_argument("--standing", type=int, default=40, help="standing films of both legs among the positives")
    ap.add_argument("--sclerotic", type=int, default=60,
                    help="high-contrast standing films with sclerotic knees among the positives")
    ap.add_argument("--long-leg", type=int, default=60,
                    help="standing films at true proportions (hips, ankles) among the positives")
    ap.add_argument("--teaching", type=int, default=60, help="teaching films of one knee among the positives")
    ap.add_argument("--tight-cuts", type=int, default=300,
                    help="tight films cut otherwise (sites.TightCut.drawn) among the positives")
    ap.add_argument("--pair-cuts", type=int, default=0,
                    help="two tight knees side by side, each cut otherwise, among the positives (tried with 150: "
                         "not kept, weights/LEDGER.md)")
    ap.add_argument("--no-mining", action="store_true", help="no hard negatives from the scan's candidates")
    ap.add_argument("--leave-out", nargs="*", default=[], metavar="FOLDER",
                    help="hold out whole out-of-scope folders (e.g. chest): how the head does on a body "
                         "part it never learnt from (write into a copy of the weights folder and grade "
                         "that folder's films with it)")
    ap.add_argument("--refuse", type=float, default=0.01, help="share of positives the threshold may refuse")
    ap.add_argument("--doubt-share", type=float, default=0.05, help="share of positives under the doubt level")
    ap.add_argument("--unusual", type=float, default=0.99, help="quantile of the positives' distance")
    ap.add_argument("--components", type=int, default=64)
    ap.add_argument("--dry-run", action="store_true", help="report only; write nothing")
    ap.add_argument("--cache", type=Path, help="an .npz of the regions' features: written after they are "
                    "computed, read instead of computing them when it exists (to try thresholds)")
    ap.add_argument("--judge", nargs="*", type=Path, default=[], metavar="FOLDER",
                    help="instead of fitting, report the heads in these weights folders on the held-out regions "
                         "(with --cache: the same regions for every candidate)")
    args = ap.parse_args(argv)

    from kneeoa_desktop.core.pipeline import GradingPipeline
    from kneeoa_desktop.core.model.predictor import Predictor
    from kneeoa_desktop.training.negatives import is_held_out, negatives
    from kneeoa_desktop.training.scope_head import cross_validate, fit_head
    from kneeoa_desktop.core.knees.localise import KneeRegion
    from kneeoa_desktop.training.sites import (SITE_TRANSFORMS, TightCut, _u8, avulsion, sclerotic, shaft_film,
                                               site_film, standing_film, teaching_film, tight_film, two_knees,
                                               two_tight_knees)
    from kneeoa_desktop.training.long_leg import long_leg_film

    pipeline = GradingPipeline(Predictor(args.weights))
    print(f"model {pipeline.predictor.manifest.tag}")
    t0 = time.perf_counter()
    if args.cache is not None and args.cache.exists():  # the regions' features of an earlier run
        with np.load(args.cache) as cached:
            x, y, scores, groups, kinds, metal = (cached[k] for k in ("x", "y", "scores", "groups", "kinds", "metal"))
        n_pos = int((y == 1).sum())
    else:
        paths = sorted((args.data / "kneeKL224" / "train").glob("[0-4]/*.png"))
        rng = np.random.default_rng(2024)
        pick = rng.choice(len(paths), min(args.positives, len(paths)), replace=False)
        names = list(SITE_TRANSFORMS)
        feats, scores, labels, groups, kinds, metal_flags = [], [], [], [], [], []

        def add(regions, label, group, kind):
            for f, s, m in regions:
                feats.append(f)
                scores.append(s)
                metal_flags.append(m)
                labels.append(label)
                groups.append(group)
                kinds.append(kind)

        def knee_film(film, name, centres, group, kind, on_joint=False):
            """A simulated knee film's regions on the joints as knees (with ``on_joint``, the scan's
            candidates centred on them too) and, unless --no-mining, the scan's candidates off
            them as hard negatives."""
            add(_regions(pipeline, film, name, centres), 1, group, kind)
            candidates = _candidates(film) if on_joint or not args.no_mining else []
            if on_joint:
                add(_on_joint(pipeline, film, candidates, centres), 1, group, kind)
            if not args.no_mining:
                add(_off_joint(pipeline, film, candidates, centres), 0, group, f"{kind} (off the joint)")

        for k, i in enumerate(pick):
            raw = cv2.imread(str(paths[i]), cv2.IMREAD_GRAYSCALE)
            site = names[k % len(names)]
            add(_regions(pipeline, site_film(raw, site, k), site), 1, f"knee/{paths[i].stem[:7]}", f"knee: {site}")
        rights = [p for p in paths if p.stem.endswith("R")]
        lefts = [p for p in paths if p.stem.endswith("L")]
        for k in range(min(args.pairs, len(rights), len(lefts))):
            a, b = (cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in (rights[k], lefts[-1 - k]))
            # Every other one as the other hospital's: cut tight and sharpened.
            image = two_tight_knees(a, b) if k % 2 else two_knees(a, b)
            w, h = image.shape[1], image.shape[0]
            knee_film(image, "pair", [(w / 4, h / 2), (3 * w / 4, h / 2)], f"knee/{rights[k].stem[:7]}",
                      "knee: two side by side")
        # Issue 33's real films, simulated: other crops than the sites' (the far end of the pick).
        extra = rng.choice(len(paths), args.shafts + args.tight, replace=False)
        for k, i in enumerate(extra):
            raw = cv2.imread(str(paths[i]), cv2.IMREAD_GRAYSCALE)
            group = f"knee/{paths[i].stem[:7]}"
            if k < args.shafts:
                film, centre = shaft_film(raw.astype(np.float32), float(rng.uniform(0.15, 0.85)))
                knee_film(_u8(film), "shafts", [centre], group, "knee: portrait film with shafts")
            else:
                film = tight_film(raw.astype(np.float32), rng, 16 if k % 2 else 8)
                knee_film(film, "tight", [(film.shape[1] / 2, film.shape[0] / 2)], group, "knee: tight film")
        for k in range(min(args.standing, len(rights), len(lefts))):
            a, b = (cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in (rights[-1 - k], lefts[k]))
            film, centres = standing_film(a, b, ("between", "beside right", None)[k % 3])
            knee_film(film, "standing", centres, f"knee/{rights[-1 - k].stem[:7]}", "knee: standing film of both legs")
        # Severe OA on a high-contrast film (the real standing films' knees): other crops again.
        start = min(args.standing, len(rights), len(lefts))
        for k in range(start, min(start + args.sclerotic, len(rights), len(lefts))):
            a, b = (_u8(sclerotic(cv2.imread(str(p), cv2.IMREAD_GRAYSCALE), rng, 1 + k % 2,
                                  float(rng.uniform(60, 150)))) for p in (rights[-1 - k], lefts[k]))
            film, centres = standing_film(a, b, ("between", "beside right", None)[k % 3], heavy=True)
            knee_film(film, "standing", centres, f"knee/{rights[-1 - k].stem[:7]}", "knee: sclerotic, high contrast")
        # Standing films at true proportions (hips and ankles on them, the knees small): other
        # crops again; every other one sclerotic on a high-contrast film.
        start = min(start + args.sclerotic, len(rights), len(lefts))
        for k in range(start, min(start + args.long_leg, len(rights), len(lefts))):
            a, b = (cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in (rights[-1 - k], lefts[k]))
            heavy = bool(k % 2)
            if heavy:
                a, b = (_u8(sclerotic(x, rng, 1 + k // 2 % 2, float(rng.uniform(60, 150)))) for x in (a, b))
            film, centres = long_leg_film(a, b, rng, float(rng.uniform(0.17, 0.26)),
                                          ("between", "beside right", None)[k % 3], heavy=heavy)
            knee_film(film, "long leg", centres, f"knee/{rights[-1 - k].stem[:7]}",
                      "knee: long-leg film" + (", sclerotic" if heavy else ""), on_joint=True)
        # Teaching films of one knee, enlarged and annotated: crops drawn at random again (a crop
        # may serve another film too; each film is new).
        for k, i in enumerate(rng.choice(len(paths), args.teaching, replace=False)):
            raw = cv2.imread(str(paths[i]), cv2.IMREAD_GRAYSCALE).astype(np.float32)
            film, centre = teaching_film(avulsion(raw, rng) if k % 2 else raw, rng, int(rng.uniform(1000, 2400)))
            knee_film(film, "teaching", [centre], f"knee/{paths[i].stem[:7]}",
                      "knee: teaching film" + (", avulsion" if k % 2 else ""))
        # Tight films cut as many hands cut them (issue 33's other hospital: one cut passed while
        # theirs failed), from their own generator so that the films above stay as they were.
        cuts = np.random.default_rng(77)
        for k, i in enumerate(cuts.choice(len(paths), args.tight_cuts, replace=False)):
            raw = cv2.imread(str(paths[i]), cv2.IMREAD_GRAYSCALE).astype(np.float32)
            cut = TightCut.drawn(cuts)
            film = tight_film(raw, cuts, 16 if k % 2 else 8, cut)
            h, w = film.shape
            group, kind = f"knee/{paths[i].stem[:7]}", "knee: tight film, cut otherwise"
            add(_regions(pipeline, film, "tight", [cut.joint(w, h)]), 1, group, kind)
            # The whole film as a knee too, whatever was graded: a film graded whole counts twice,
            # the weight the shipped head was fitted with (counted once, the refit refused more
            # held-out tight films, 4.2 % against 1.4 %, and a two-knee image: weights/LEDGER.md).
            add(_through_network(pipeline, film, [KneeRegion(0, 0, w, h, None, float("nan"), True)]), 1, group, kind)
        # Two such knees side by side, each cut as its radiographer cuts it, 8- and 16-bit in turn:
        # the halves (the candidates the head chooses between there) and the regions graded on the
        # joints are knees. Right and left crops drawn by the same generator after the films above.
        for k, (i, j) in enumerate(zip(cuts.choice(len(rights), args.pair_cuts, replace=False),
                                       cuts.choice(len(lefts), args.pair_cuts, replace=False))):
            a, b = (cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in (rights[i], lefts[j]))
            image = two_tight_knees(a, b, (TightCut.drawn(cuts), TightCut.drawn(cuts)), 16 if k % 2 else 8, cuts)
            h, w = image.shape
            group, kind = f"knee/{rights[i].stem[:7]}", "knee: two tight knees, cut otherwise"
            centres = [(w / 4, h / 2), (3 * w / 4, h / 2)]
            graded = _regions(pipeline, image, "pair", centres, rects=True)
            add([region for region, _ in graded], 1, group, kind)
            halves = [KneeRegion(0, 0, w // 2, h, "right", float("nan"), False),
                      KneeRegion(w // 2, 0, w - w // 2, h, "left", float("nan"), False)]
            seen = {rect for _, rect in graded}  # each half once, graded or not
            add(_through_network(pipeline, image, [r for r in halves if (r.x, r.y, r.width, r.height) not in seen]),
                1, group, kind)
        for kind, group, pixels in negatives(args.data / "out-of-scope"):
            add(_regions(pipeline, pixels, group), 0, group, kind)
            if not args.no_mining:
                add(_mined(pipeline, pixels), 0, group, f"{kind} (every candidate)")
        x, y = np.stack(feats), np.array(labels)
        scores, groups, kinds, metal = np.array(scores), np.array(groups), np.array(kinds), np.array(metal_flags)
        if args.cache is not None:
            np.savez(args.cache, x=x, y=y, scores=scores, groups=groups, kinds=kinds, metal=metal)
        n_pos = int((y == 1).sum())
    held = np.array([is_held_out(g) or g.split("/")[0] in args.leave_out for g in groups])
    print(f"{n_pos} positive and {len(y) - n_pos} negative regions in {time.perf_counter() - t0:.0f} s; "
          f"held out: {held[y == 1].sum()} positive and {held[y == 0].sum()} negative regions "
          f"({len(set(groups[held]))} of {len(set(groups))} sources)")
    for folder in args.judge:  # other heads on the same held-out regions, instead of a fit
        head = scope.load_stats(folder).head
        refused = _refused(head.probability(x[held]), head.threshold)
        _report(f"HELD OUT, the head in {folder} (threshold {head.threshold:.3f})", kinds[held], refused, metal[held])
        print(f"  knee regions flagged {(refused | metal[held])[y[held] == 1].mean():.2%}, negative regions "
              f"accepted {(~(refused | metal[held]))[y[held] == 0].sum()} of {(y[held] == 0).sum()}")
    if args.judge:
        return 0
    fit = ~held
    xf, yf, gf = x[fit], y[fit], groups[fit]

    best = None
    for l2 in (1.0, 10.0, 100.0, 1000.0):
        oof = cross_validate(xf, yf, gf, components=args.components, l2=l2)
        p = np.clip(oof, 1e-6, 1 - 1e-6)
        balance = np.where(yf == 1, 0.5 / yf.mean(), 0.5 / (1 - yf.mean()))
        loss = -np.mean(np.where(yf == 1, np.log(p), np.log(1 - p)) * balance)
        print(f"  l2 {l2:6.1f}: out-of-fold balanced log-loss {loss:.4f}")
        if best is None or loss < best[0]:
            best = (loss, l2, oof)
    _, l2, oof = best
    threshold = float(np.quantile(oof[yf == 1], args.refuse))
    doubt = float(np.quantile(oof[yf == 1], args.doubt_share))
    print(f"chosen l2 {l2}; threshold {threshold:.4f} (refuses {args.refuse:.0%} of positives out of fold), "
          f"doubt {doubt:.4f}")
    _report("out of fold, on the sources fitted on", kinds[fit], _refused(oof, threshold),
            metal[fit])

    stats = scope.fit_stats(xf[yf == 1], k=32, shrinkage=0.1)
    d = stats.distance(xf[yf == 1])
    unusual = float(np.quantile(d, args.unusual))
    head = fit_head(xf, yf, components=args.components, l2=l2, threshold=threshold, doubt=doubt)
    stats = scope.with_thresholds(stats, unusual, unusual, pipeline.predictor.manifest.tag, head)
    print(f"distance: unusual above {unusual:.3f} ({args.unusual:.0%} of positives below)")
    _report("HELD OUT (never fitted on; the head written below)", kinds[held],
            _refused(head.probability(x[held]), threshold), metal[held])
    if not args.dry_run:
        path = scope.save_stats(stats, args.weights)
        print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
