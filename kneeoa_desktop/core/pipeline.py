"""The grading pipeline: one call from a file (or a loaded image) to plain-data results.

    result = GradingPipeline(predictor)(path_or_image, region=None)

load → find the knees (``localise``) → frame each knee's region (``framing``: cut as it is,
resized to the square input) → preprocess → network (all regions in one batch) → scope check
(``scope``) → one ``KneeResult`` per knee. A single-joint crop of any shape is one region, the
whole image; a bilateral film, or two knees side by side, gives two (patient's right first, on
the image's left). A ``region`` given by the user overrides the localiser.
``grade_whole(images)`` grades a batch of single-joint crops, each as one whole region
(``kneeoa evaluate``). Nothing here knows about Qt; the CLI, the GUI worker, the self-test and
the evaluation all grade through this class, and export and overlay read what it returns.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .film.imaging import LoadedImage, load_image
from .knees.framing import cut_region
from .knees.localise import PAIRS_ASPECT, KneeRegion, is_tall, knee_candidates, side_from_laterality
from .knees.preprocess import preprocess
from .verdict.prediction import Prediction
from .verdict.scope import SMALL_REGION_PX, accepted, as_mate, assess, holds_implant, load_stats, most_knee_like

Rect = tuple[int, int, int, int]  # x, y, width, height in source pixels


@dataclass
class KneeResult:
    """One graded knee (or region): its place on the film, side, verdict and scope."""

    prediction: Prediction  # ``roi`` is the visible region, None for a whole image
    region: Rect  # as framed, in source pixels; may extend past the border of the film
    side: str | None  # the patient's "right" / "left", or None when unknown
    in_scope: bool
    scope_note: str | None
    whole_image: bool
    manual: bool = False  # drawn by the user rather than found
    localiser_score: float | None = None
    scope_reasons: dict = field(default_factory=dict)

    @property
    def side_letter(self) -> str:
        return {"right": "R", "left": "L"}.get(self.side or "", "")

    @property
    def visible(self) -> Rect:
        """The part of ``region`` inside the film (what is outlined and overlaid)."""
        return self.prediction.roi or self.region

    def visible_evidence(self, grade: int | None = None) -> np.ndarray:
        """Evidence for ``grade`` at the visible part's size (the region cut to the film)."""
        x, y, w, h = self.region
        full = self.prediction.evidence_map(grade, (h, w))
        vx, vy, vw, vh = self.visible
        return full[vy - y:vy - y + vh, vx - x:vx - x + vw]

    def as_dict(self) -> dict:
        """The record `kneeoa predict --json` prints for this knee."""
        record = self.prediction.as_dict()
        record.update({
            "knee": self.side,
            "region": [int(v) for v in self.region],
            "in_scope": bool(self.in_scope),
            "scope_note": self.scope_note,
        })
        sphere = self.scope_reasons.get("calibration_sphere_px")
        if sphere:  # a radiopaque calibration sphere beside the knee: its diameter on the film
            record["calibration_sphere_px"] = sphere
        return record


@dataclass
class GradingResult:
    """Everything one grading produced: the film, its display version and each knee's result."""

    image: LoadedImage
    display: np.ndarray  # 8-bit gray of the whole film, computed once
    knees: list[KneeResult]
    seconds: float = 0.0
    #: Milliseconds spent in each stage ("load", "find knees", "network", "scope check", and
    #: "candidates" when the knee head sent the scan's other sets through the network too); for
    #: ``grade_whole`` the network and scope figures are those of the whole batch.
    stages: dict[str, float] = field(default_factory=dict)

    def overlay(self, grades: list[int | None] | None = None):
        """An ``EvidenceOverlay`` over every knee (each for its own predicted grade unless given)."""
        from .outputs.overlay import EvidenceOverlay

        grades = grades or [None] * len(self.knees)
        return EvidenceOverlay.for_regions(
            self.display, [(k.visible_evidence(g), None if k.whole_image else k.visible)
                           for k, g in zip(self.knees, grades)])


class GradingPipeline:
    """Grades films with one loaded ``Predictor`` (and its scope statistics, if it has any)."""

    def __init__(self, predictor):
        self.predictor = predictor
        directory = getattr(getattr(predictor, "manifest", None), "directory", None)
        self.scope_stats = load_stats(directory) if directory is not None else None

    def __call__(self, source: str | os.PathLike | LoadedImage, region: Rect | None = None) -> GradingResult:
        start = time.perf_counter()
        image = source if isinstance(source, LoadedImage) else load_image(Path(source))
        loaded = time.perf_counter()
        laterality = _laterality(image)
        if region is not None:
            crop = image.crop(*region)  # clamped to the film; refuses a region that is too small
            found = [KneeRegion(*crop.metadata["roi"], side=side_from_laterality(laterality), score=float("nan"),
                                whole_image=False)]
            result = self._grade([(image, found)], True, start)[0]
            located = loaded
        else:
            sets = knee_candidates(image.pixels, _spacing(image.metadata), laterality) or [[_whole(image)]]
            located = time.perf_counter()
            result = self._grade([(image, sets[0])], False, start)[0]
            head = self.scope_stats.head if self.scope_stats is not None else None
            sure = [k.scope_reasons.get("knee_probability", 0.0) >= head.doubt for k in result.knees] if head else []
            wide = image.width >= PAIRS_ASPECT * image.height
            tall = is_tall(image.height, image.width)
            one_of_two = wide and len(sets[0]) == 1 and any(len(s) == 2 for s in sets)
            small = any(not r.whole_image and min(r.width, r.height) < SMALL_REGION_PX for r in sets[0])
            if head is not None and len(sets) > 1 and (not all(sure) or one_of_two or small):
                # The scan proposes, the network's knee head disposes: every other set it weighed
                # goes through the network in one pass (the decision's regions were graded
                # above), and the most knee-like is graded (scope.most_knee_like). A film the head
                # is sure of costs nothing more, unless it is one knee on an image wide enough for
                # two side by side, or a small region.
                graded = {(k.region, k.side): k for k in result.knees}
                decided = {r: head.probability(graded[(_rect(r), r.side)].prediction.features)[0] for r in sets[0]}
                others = [r for r in dict.fromkeys(r for s in sets for r in s) if r not in decided]
                chosen: list[KneeRegion] = []

                def choose(features: np.ndarray) -> list[int]:
                    p = {**decided, **dict(zip(others, head.probability(features)))}
                    chosen[:] = sets[most_knee_like([[float(p[r]) for r in s] for s in sets], head, wide, small)]
                    # One knee of a right/left pair whose two knees the head accepts is that pair:
                    # the other knee is not lost (a standing film of both legs, where the scan
                    # preferred the ankles and the head is as sure of one knee as of the pair).
                    # On a film of both legs hip to ankle (tall) the pair is kept even when the
                    # head doubts its other knee, which keeps its record, refused with its reason.
                    if len(chosen) == 1:
                        weakest = {i: min(float(p[r]) for r in s) for i, s in enumerate(sets) if len(s) == 2}
                        mates = [i for i, low in weakest.items() if _one_of_the_pair(chosen[0], sets[i])
                                 and (tall or accepted([float(p[r]) for r in sets[i]], head))]
                        if mates:
                            chosen[:] = sets[max(mates, key=weakest.get)]
                        elif _one_of_the_pair(chosen[0], sets[0]):
                            # A right/left pair the scan decided on is not replaced by one of its
                            # own knees: the other knee, which the head doubts, keeps its record
                            # (refused with its reason) instead of vanishing from a bilateral film.
                            chosen[:] = sets[0]
                    refused = all(float(p[r]) < head.threshold for r in chosen)
                    if len(chosen) == 1 or refused:
                        # A knee the head is sure of beside a replaced one (metal in or around its
                        # region) is that right/left pair: the replaced knee keeps its record,
                        # refused as metal, and neither the image of both, the metal alone nor a
                        # pair on the hips or the ankles is graded instead.
                        beside = [i for i, s in enumerate(sets) if len(s) == 2 and _one_replaced(
                            s, [float(p[r]) for r in s], chosen, refused, head, image)]
                        if beside:
                            chosen[:] = sets[max(beside, key=lambda i: max(float(p[r]) for r in sets[i]))]
                    return [others.index(r) for r in chosen if r in others]

                if others:
                    first = result
                    result = self._grade([(image, others)], False, start, choose)[0]
                    # The chosen set's knees, in its order, from whichever pass graded them.
                    graded.update({(k.region, k.side): k for k in result.knees})
                    result.knees = [graded[(_rect(r), r.side)] for r in chosen]
                    result.stages = {"network": first.stages["network"], "candidates": result.stages["network"],
                                     "scope check": first.stages["scope check"] + result.stages["scope check"]}
            _graded_beside_a_sure_knee(result.knees, self.scope_stats)
        result.stages.update({"load": (loaded - start) * 1000.0, "find knees": (located - loaded) * 1000.0})
        return result

    def grade_whole(self, images: list[LoadedImage]) -> list[GradingResult]:
        """Grade each film as one region, the whole image, without looking for knees, and all of
        them in one network pass: for a folder of single-joint crops (``kneeoa evaluate``)."""
        return self._grade([(image, [_whole(image)]) for image in images], False, time.perf_counter())

    def _grade(self, films: list[tuple[LoadedImage, list[KneeRegion]]], manual: bool,
               start: float, choose=None) -> list[GradingResult]:
        """Cut and preprocess every region of every film, run the network once, check scope.
        ``choose(features of a film's regions)`` → the indices of the regions to keep (the others
        were candidates only: no scope check, no result)."""
        crops = [[_cut(image, r) for r in found] for image, found in films]
        size = self.predictor.input_size
        batch = np.stack([preprocess(c, size) for film in crops for c in film])
        network_start = time.perf_counter()
        probs, cams, features = self.predictor.predict_array(batch, with_features=True)
        profile = getattr(self.predictor, "site_profile", None)
        assigned = None
        if profile is not None:  # the site's temperature and its cut points on the expected grade
            probs, assigned = profile.apply(probs)
        elapsed = (time.perf_counter() - start) * 1000.0
        network_ms = (time.perf_counter() - network_start) * 1000.0
        checking = 0.0
        results, i = [], 0
        for (image, found), film in zip(films, crops):
            meta = image.metadata
            knees = []
            keep = range(len(found)) if choose is None else choose(features[i:i + len(found)])
            for k, (r, crop) in enumerate(zip(found, film)):
                if k not in keep:
                    i += 1
                    continue
                visible = None if r.whole_image else _visible(r, image)
                prediction = _prediction(self.predictor, probs[i], cams[i], features[i], image.source_name,
                                         visible, elapsed / len(batch))
                if assigned is not None:
                    prediction.assigned_grade, prediction.site = int(assigned[i]), profile.describe()
                score = None if manual or not np.isfinite(r.score) else float(r.score)
                checked = time.perf_counter()
                verdict = assess(crop, features[i], self.scope_stats, localiser_score=score,
                                 view_position=meta.get("ViewPosition"),
                                 context=None if r.whole_image else _context(image, r))
                checking += time.perf_counter() - checked
                knees.append(KneeResult(prediction, _rect(r), r.side, verdict.in_scope,
                                        verdict.note, r.whole_image, manual, score, verdict.reasons))
                i += 1
            results.append(GradingResult(image, image.display_u8(), knees, time.perf_counter() - start))
        for result in results:
            result.stages.update({"network": network_ms, "scope check": checking * 1000.0})
        return results


def _prediction(predictor, probs, cams, features, source_name, roi, elapsed_ms):
    return Prediction(probabilities=probs, evidence=cams, model=predictor.manifest.tag,
                      device=predictor.device, elapsed_ms=elapsed_ms, source_name=source_name,
                      roi=roi, features=features, engine=str(getattr(predictor, "engine", "")))


def _laterality(image: LoadedImage) -> str | None:
    return image.metadata.get("ImageLaterality") or image.metadata.get("Laterality")


def _whole(image: LoadedImage) -> KneeRegion:
    """The whole film as one region (a single-joint crop, or nothing knee-like was found)."""
    return KneeRegion(0, 0, image.width, image.height, side_from_laterality(_laterality(image)), float("-inf"), True)


def _spacing(meta: dict) -> float | None:
    value = meta.get("PixelSpacing") or meta.get("ImagerPixelSpacing")
    try:
        if isinstance(value, str):  # "0.14\\0.14" or, as pydicom prints a pair, "[0.14, 0.14]"
            value = value.replace("\\", " ").replace("[", " ").replace(",", " ").split()[0]
        elif isinstance(value, (list, tuple)):
            value = value[0]
        spacing = float(value)
    except (TypeError, ValueError, IndexError):
        return None
    return spacing if 0.01 <= spacing <= 5.0 else None


def _one_of_the_pair(region: KneeRegion, pair: list[KneeRegion]) -> bool:
    """Whether ``region`` is the same joint as one knee of a two-region set (overlapping it by at
    least 40 % of their union) and holds nothing of the other's centre: one knee of that pair, not
    the image of both, nor a knee between two windows on its condyles."""
    if len(pair) != 2:
        return False

    def overlap(a: KneeRegion, b: KneeRegion) -> float:
        w = min(a.x + a.width, b.x + b.width) - max(a.x, b.x)
        h = min(a.y + a.height, b.y + b.height) - max(a.y, b.y)
        inter = max(w, 0) * max(h, 0)
        return inter / float(a.width * a.height + b.width * b.height - inter)

    return any(overlap(region, mine) >= 0.4 and not _holds_centre(region, other)
               for mine, other in (pair, pair[::-1]))


def _graded_beside_a_sure_knee(knees: list[KneeResult], stats) -> None:
    """A knee of a right/left pair that the head alone refused is graded beside a knee it is sure
    of when it finds it more likely a knee than not (``scope.as_mate``): the other half of two
    knees side by side, the other knee of a bilateral or standing film."""
    if len(knees) != 2 or {k.side for k in knees} != {"right", "left"}:
        return
    for knee, mate in (knees, knees[::-1]):  # as_mate answers only for a knee refused as "not a knee"
        verdict = as_mate(knee.scope_note, knee.scope_reasons, mate.scope_reasons, stats) if mate.in_scope else None
        if verdict is not None:
            knee.in_scope, knee.scope_note, knee.scope_reasons = verdict.in_scope, verdict.note, verdict.reasons


def _holds_centre(a: KneeRegion, b: KneeRegion) -> bool:
    """Whether region ``a`` holds the centre of region ``b``."""
    cx, cy = b.centre
    return a.x <= cx < a.x + a.width and a.y <= cy < a.y + a.height


def _one_replaced(pair: list[KneeRegion], probabilities: list[float], chosen: list[KneeRegion], refused: bool,
                  head, image: LoadedImage) -> bool:
    """Whether a right/left pair is a native knee the head is sure of beside a replaced knee (which
    the head refuses and the scope check calls metal), where the set ``chosen`` is ``refused`` by
    the head, or is one region: one of the two knees, or the image of both."""
    native, other = (0, 1) if probabilities[0] >= probabilities[1] else (1, 0)
    if probabilities[native] < head.doubt or probabilities[other] >= head.threshold:
        return False
    one = chosen[0]
    holds_both = len(chosen) == 1 and all(_holds_centre(one, r) for r in pair)
    if not (refused or holds_both or (len(chosen) == 1 and _one_of_the_pair(one, pair))):
        return False
    return holds_implant(_cut(image, pair[other]), _context(image, pair[other]))


def _rect(region: KneeRegion) -> Rect:
    return (region.x, region.y, region.width, region.height)


def _visible(region: KneeRegion, image: LoadedImage) -> Rect:
    x0, y0 = max(0, region.x), max(0, region.y)
    x1 = min(image.width, region.x + region.width)
    y1 = min(image.height, region.y + region.height)
    return (x0, y0, max(1, x1 - x0), max(1, y1 - y0))


#: The scope check's look around a region for metal: the region enlarged this much about its centre.
CONTEXT = 1.6


def _context(image: LoadedImage, region: KneeRegion) -> np.ndarray:
    cx, cy = region.x + region.width / 2, region.y + region.height / 2
    half_w, half_h = CONTEXT * region.width / 2, CONTEXT * region.height / 2
    x0, y0 = max(0, int(cx - half_w)), max(0, int(cy - half_h))
    x1, y1 = min(image.width, int(cx + half_w)), min(image.height, int(cy + half_h))
    return image.pixels[y0:y1, x0:x1]


def _cut(image: LoadedImage, region: KneeRegion) -> np.ndarray:
    """The region's pixels as the network is to see them (``framing.cut_region``; the whole
    image is the film itself)."""
    return cut_region(image.pixels, region.x, region.y, region.width, region.height)
