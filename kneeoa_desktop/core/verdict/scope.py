"""Scope check: may the model grade this region at all?

A Kellgren–Lawrence grade only means something for a native knee seen posterior–anterior (or
anterior–posterior). The model will still print five probabilities for a replaced joint, a
lateral view or a photograph of a cat, so every graded region is assessed here and flagged
out of scope when the evidence says the model was not trained for it.

The evidence, cheapest first:

* image facts on the region's raw pixels (no model needed): metal (a joint replacement is a
  flat plateau at the top of the gray range, bounded by a sharp drop to the bone around it),
  a blank region, and pure noise;
* the DICOM view position, when the file has one (a lateral view says so itself);
* the *knee head*: a logistic regression on the network's pooled features that answers "is this
  a native knee PA/AP view?", learnt from positives *and* negatives — kneeKL224 knees pushed
  through simulated sites (resized without keeping the aspect ratio, re-framed, sharpened,
  equalised, other gamma, 16-bit, tight films, long portrait films with shafts, standing films of
  both legs) against real films of other kinds (replaced knees, hands, chests, shoulders,
  pelvises, pydicom's CT/MR/other DICOM, scikit-image's pictures) and synthetic ones, and against
  every region the knee finder proposes on those (``scripts/fit_scope_head.py``). Its
  probability below the head's threshold refuses the region as not a knee;
* how far the features lie from those of the training images (a Mahalanobis distance in a PCA
  space with shrinkage): far is *not* a refusal when the head says knee — another site's scanner
  and processing move the features too — but a note, "unusual image; check the grade";
* the knee localiser's score, when a caller has one: reported, and with version-1 statistics
  (no head) supporting evidence.

The statistics and the head belong to one set of weights and live beside the model as
``scope.npz``. A model whose ``scope.npz`` predates the head (version 1) is judged as before:
the distance alone refuses.

The notes are module constants so that a GUI can translate them; ``reasons`` carries the raw
figures behind a verdict for logs and reports. No Qt and no TensorFlow here: the features come
from ``Predictor`` and are handed in as a plain array.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ..atomic import atomic_path
from ..film.quantiles import percentiles
from ..messages import QT_TRANSLATE_NOOP
from .metal import METAL_MIN_FRACTION, metal_plateaus, metal_share, sphere_px

#: The sentences a user may see; translatable templates without placeholders. The first three
#: refuse the region; ``NOTE_UNUSUAL`` goes with a grade that is shown.
NOTE_LATERAL = QT_TRANSLATE_NOOP("CoreMessages", "This looks like a lateral view; KL grading needs a PA or AP view.")
NOTE_IMPLANT = QT_TRANSLATE_NOOP("CoreMessages", "Metal implant: a replaced joint cannot be KL-graded.")
NOTE_NOT_KNEE = QT_TRANSLATE_NOOP("CoreMessages", "This does not look like a PA or AP knee radiograph; a lateral view or another body part cannot be KL-graded.")
NOTE_UNUSUAL = QT_TRANSLATE_NOOP("CoreMessages", "Unusual image for this model; check the grade.")
NOTES = (NOTE_LATERAL, NOTE_IMPLANT, NOTE_NOT_KNEE, NOTE_UNUSUAL)

#: Name of the statistics file written beside a model by scripts/fit_scope_head.py.
STATS_FILE = "scope.npz"
#: 2: with the knee head; 1 (distance only) is still read.
STATS_VERSION = 2

# --- Image facts. The constants were chosen on the 826 validation crops (none may reach them);
# the metal rule's are in ``metal``.
WORK_SIDE = 256  # facts are measured at this longest side, so they do not depend on resolution
BLANK_SPREAD = 0.01  # robust gray range, as a share of the brightest value, below which a region is blank
NOISE_RATIO = 0.8  # pixel-scale share of the variation above which a region is noise, not a film

#: View positions (DICOM ViewPosition) that are not PA/AP.
LATERAL_VIEWS = {"LAT", "LL", "RL", "ML", "LM", "LATERAL", "XTABLE"}

#: Localiser scores below this (the knee SVM's own decision boundary) count against a knee;
#: with version-1 statistics (no knee head) they tip a verdict the features already doubt.
LOCALISER_MIN = 0.0
#: A localiser score this high is a confident PA knee joint (true knees on films: 5th percentile
#: 0.74 in scripts/measure_localiser.py); its feature-distance bar is raised by SURE_KNEE_MARGIN.
LOCALISER_SURE = 1.0
SURE_KNEE_MARGIN = 1.2


@dataclass(frozen=True)
class ScopeVerdict:
    """Whether a region may be graded, the sentence to show if not, and the figures behind it."""

    in_scope: bool
    note: str | None
    reasons: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ScopeStats:
    """Feature statistics of the training images for one model (see ``fit_stats``).

    ``distance`` of a feature vector = sqrt(Mahalanobis² in the top-k PCA space, each axis
    scaled by its shrunk variance, + the squared residual outside that space scaled by the mean
    residual variance): an image unlike the training ones is far either along the directions
    the training images vary in, or in directions they never use.
    """

    mean: np.ndarray  # (D,)
    components: np.ndarray  # (k, D), orthonormal rows
    variances: np.ndarray  # (k,) shrunk variances along the components
    residual_variance: float  # mean variance per dimension outside the k components
    threshold: float  # distance above which a region is out of scope
    doubt: float  # lower distance above which weaker evidence (localiser) may tip the verdict
    model_tag: str = ""
    head: KneeHead | None = None  # None: a version-1 file, the distance alone refuses

    @property
    def dims(self) -> int:
        return int(self.mean.shape[0])

    def distance(self, features: np.ndarray) -> np.ndarray:
        """Distance of each row of ``features`` ((D,) or (N, D)) to the training images."""
        f = np.atleast_2d(np.asarray(features, np.float64)) - self.mean
        z = f @ self.components.T
        inside = (z * z / self.variances).sum(axis=1)
        residual = (f * f).sum(axis=1) - (z * z).sum(axis=1)
        outside = np.maximum(residual, 0.0) / self.residual_variance
        # Normalise by the dimensions so the figure stays near 1 for a typical training image.
        d = np.sqrt((inside + outside) / self.dims)
        return d if np.ndim(features) == 2 else d[:1]


@dataclass(frozen=True)
class KneeHead:
    """P(native knee PA/AP view | pooled features) = sigmoid(weights · (features − centre) + bias).

    Fitted by ``training.scope_head`` (standardised features, PCA, L2-regularised logistic
    regression, folded back into one weight vector). ``threshold``: below it a region is not a
    knee; ``doubt``: below it the head is not sure, and the pipeline lets it choose between the
    knee finder's other candidate regions (``most_knee_like``)."""

    centre: np.ndarray  # (D,)
    weights: np.ndarray  # (D,)
    bias: float
    threshold: float
    doubt: float

    def probability(self, features: np.ndarray) -> np.ndarray:
        f = np.atleast_2d(np.asarray(features, np.float64))
        z = (f - self.centre) @ self.weights + self.bias
        return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))


#: The scan's decision stands when its knee head probability is at least the head's doubt
#: level; below it, another candidate set replaces it only by scoring this much more.
SWITCH_MARGIN = 0.1


#: A found region narrower than this (source pixels) is upscaled 3× or more to the network's input:
#: the head's certainty means little there (it is sure of 36–66 px windows on a corner of another
#: hospital's 300×162 films, issue 33), so a decision that small is doubted whatever it scores.
SMALL_REGION_PX = 80


#: A knee of a right/left pair whose other knee the head is sure of (``doubt``) needs only to be
#: more likely a knee than not, the head's even odds: beside a knee that sure, the other side of
#: the film is the other knee unless metal or the image facts say otherwise. Issue 33's two knees
#: side by side, each cut as its radiographer cuts it: the head, judging each half alone, refused
#: one half of 5 of 50 such images (0.56–0.84 against its threshold 0.85) beside a sure knee.
MATE_MIN = 0.5


def accepted(probabilities: list[float], head: KneeHead) -> bool:
    """Whether the head accepts a candidate set (its regions' knee probabilities): every region
    at its threshold, or a right/left pair with one knee it is sure of and the other at least
    ``MATE_MIN``."""
    if not probabilities:
        return False
    if min(probabilities) >= head.threshold:
        return True
    return len(probabilities) == 2 and max(probabilities) >= head.doubt and min(probabilities) >= MATE_MIN


def as_mate(note: str | None, reasons: dict, mate_reasons: dict, stats: ScopeStats | None) -> ScopeVerdict | None:
    """The verdict on a knee the head alone refused (``note`` and ``reasons`` from ``assess``) as
    one of a right/left pair whose other knee (``mate_reasons``, in scope) the head is sure of,
    when it scores at least ``MATE_MIN`` (``accepted``); None when the refusal stands. A refusal
    for metal, a blank or noisy region or a lateral view always stands."""
    head = stats.head if stats is not None else None
    p, q = reasons.get("knee_probability"), mate_reasons.get("knee_probability")
    if head is None or note != NOTE_NOT_KNEE or p is None or q is None or not accepted([p, q], head):
        return None
    return _graded(dict(reasons, mate_knee_probability=q), reasons.get("feature_distance"), stats)


def _graded(reasons: dict, distance: float | None, stats: ScopeStats) -> ScopeVerdict:
    """An accepted knee's verdict: in scope, with a note when its features lie ``distance`` from
    the training images', beyond the statistics' threshold (a note on a grade, never a refusal)."""
    return ScopeVerdict(True, NOTE_UNUSUAL if distance is not None and distance > stats.threshold else None, reasons)


def most_knee_like(set_probabilities: list[list[float]], head: KneeHead, pairs_first: bool = False,
                   small: bool = False) -> int:
    """Which candidate set of regions a film holds, by the knee head (``knee_candidates``' sets,
    the scan's decision first; each set's knee probabilities): one knee, or a right/left pair.

    A set is as knee-like as its least knee-like region. The scan's decision stands when the head
    is sure of it (``head.doubt``), or, for a right/left pair, accepts it (``accepted``: both
    knees at ``head.threshold``, or one sure and its mate at ``MATE_MIN``); unless it is one knee
    on an image wide enough for two knees side by side (``pairs_first``) and the head accepts a
    pair there: each half of two knees is a knee to the head, and so are the image of both and a
    small window on one (while on one squashed knee's film, half a knee is one too). Otherwise a set the head is sure of wins, with
    ``pairs_first`` a pair before one knee. Failing that, the most knee-like set the head accepts,
    when it beats the decision by ``SWITCH_MARGIN``. A candidate the head refuses never beats one
    it accepts; when the head accepts none, the decision stands (and is refused with its reason),
    unless ``pairs_first`` and a pair holds a knee the head accepts: that pair.
    ``small``: the decision holds a region under ``SMALL_REGION_PX``, which the head's certainty
    does not keep; refused with nothing accepted, it gives way to the most knee-like single region."""
    scores = [min(ps) if ps else 0.0 for ps in set_probabilities]
    if not scores:
        return 0
    sure = [i for i, score in enumerate(scores) if score >= head.doubt]
    if pairs_first and len(set_probabilities[0]) == 1:
        # One knee on an image wide enough for two: the head is as sure of a small window (a part
        # of one knee), or of the image of both, as of each half, so a pair it accepts wins.
        pairs = [i for i, ps in enumerate(set_probabilities) if len(ps) == 2 and accepted(ps, head)]
        if pairs:
            return max(pairs, key=lambda i: (scores[i], -i))
    # A right/left pair the scan decided on stands when the head accepts both knees: replacing it
    # by one of its own knees, however sure, would lose the other.
    accepted_pair = len(set_probabilities[0]) == 2 and accepted(set_probabilities[0], head)
    if not small and (scores[0] >= head.doubt or accepted_pair):
        return 0
    if sure:
        return max(sure, key=lambda i: (pairs_first and len(set_probabilities[i]), scores[i], -i))
    taken = [i for i, ps in enumerate(set_probabilities) if accepted(ps, head)]
    best = max(taken, key=lambda i: (scores[i], -i)) if taken else 0
    if taken and scores[best] >= scores[0] + SWITCH_MARGIN:
        return best
    if pairs_first:
        # Two knees side by side, the head accepting no set: a pair with one knee it accepts,
        # which is graded while the other keeps its record, refused with its reason (the pair
        # whose other knee the head doubts least), rather than a window it refuses.
        halves = [i for i, ps in enumerate(set_probabilities) if len(ps) == 2 and max(ps) >= head.threshold]
        if halves:
            return max(halves, key=lambda i: (scores[i], max(set_probabilities[i]), -i))
    if small:
        # A small window refused and nothing accepted: the film is refused as the most knee-like
        # single region (the whole of a tight knee's film), not as a corner of it.
        ones = [i for i, ps in enumerate(set_probabilities) if len(ps) == 1]
        if ones:
            one = max(ones, key=lambda i: (scores[i], -i))
            if scores[one] > scores[0]:
                return one
    return 0


def fit_stats(features: np.ndarray, k: int = 32, shrinkage: float = 0.1,
              weights: np.ndarray | None = None) -> ScopeStats:
    """PCA statistics of training features (N, D); thresholds are set later (``with_thresholds``).

    Shrinkage pulls each variance towards the mean variance, so a direction that happens to be
    nearly constant on the training images does not make every new image look infinitely far.
    ``weights`` (N,) let rare images (severe OA) count more, so that they are not the ones
    that look unusual.
    """
    x = np.asarray(features, np.float64)
    w = np.ones(len(x)) if weights is None else np.asarray(weights, np.float64)
    w = w / w.sum()
    mean = w @ x
    centred = (x - mean) * np.sqrt(w)[:, None]
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    eig = s ** 2 * len(x) / max(len(x) - 1, 1)
    k = int(min(k, len(eig) - 1, x.shape[1] - 1))
    average = eig.mean()
    variances = (1.0 - shrinkage) * eig[:k] + shrinkage * average
    residual_variance = float(eig[k:].sum() / max(x.shape[1] - k, 1))
    residual_variance = (1.0 - shrinkage) * residual_variance + shrinkage * average
    return ScopeStats(mean=mean, components=vt[:k], variances=variances,
                      residual_variance=max(residual_variance, 1e-12), threshold=np.inf, doubt=np.inf)


def with_thresholds(stats: ScopeStats, threshold: float, doubt: float, model_tag: str = "",
                    head: KneeHead | None = None) -> ScopeStats:
    return ScopeStats(stats.mean, stats.components, stats.variances, stats.residual_variance,
                      float(threshold), float(doubt), model_tag, head)


def save_stats(stats: ScopeStats, weights_dir: str | os.PathLike) -> Path:
    """Write ``scope.npz`` into ``weights_dir`` atomically (temporary file, then rename)."""
    target = Path(weights_dir) / STATS_FILE
    head = stats.head
    extra = {} if head is None else dict(
        head_centre=head.centre.astype(np.float32), head_weights=head.weights.astype(np.float64),
        head_bias=np.float64(head.bias), head_threshold=np.float64(head.threshold),
        head_doubt=np.float64(head.doubt))
    with atomic_path(target, suffix=".npz") as (_tmp, handle):
        np.savez_compressed(
            handle, version=np.int64(STATS_VERSION if head is not None else 1), mean=stats.mean.astype(np.float32),
            components=stats.components.astype(np.float32), variances=stats.variances,
            residual_variance=np.float64(stats.residual_variance),
            threshold=np.float64(stats.threshold), doubt=np.float64(stats.doubt),
            model_tag=np.str_(stats.model_tag), **extra)
    return target


def load_stats(weights_dir: str | os.PathLike | None) -> ScopeStats | None:
    """The statistics beside a model, or None when there are none (or they are unreadable).

    A missing or damaged file is not an error the user caused; the check then falls back to the
    image facts alone and says so in ``reasons``.
    """
    if weights_dir is None:
        return None
    path = Path(weights_dir) / STATS_FILE
    try:
        with np.load(path, allow_pickle=False) as data:
            version = int(data["version"])
            if version not in (1, STATS_VERSION):
                return None
            head = None
            if version >= 2:
                head = KneeHead(centre=data["head_centre"].astype(np.float64),
                                weights=data["head_weights"].astype(np.float64),
                                bias=float(data["head_bias"]), threshold=float(data["head_threshold"]),
                                doubt=float(data["head_doubt"]))
                if head.centre.shape != head.weights.shape or head.centre.shape != data["mean"].shape:
                    return None
            return ScopeStats(
                mean=data["mean"].astype(np.float64), components=data["components"].astype(np.float64),
                variances=data["variances"].astype(np.float64),
                residual_variance=float(data["residual_variance"]), threshold=float(data["threshold"]),
                doubt=float(data["doubt"]), model_tag=str(data["model_tag"]), head=head)
    except (OSError, KeyError, ValueError):
        return None


def _working_copy(pixels: np.ndarray) -> np.ndarray:
    """The region as float32 at WORK_SIDE, scaled so its robust gray range is [0, 1]."""
    x = np.asarray(pixels)
    if x.ndim != 2:
        raise ValueError("the scope check expects a 2-D gray image")
    x = x.astype(np.float32)
    h, w = x.shape
    scale = WORK_SIDE / max(h, w)
    if scale < 1.0:  # only ever shrink: enlarging a small crop invents no evidence
        x = cv2.resize(x, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    lo, hi = np.percentile(x, [1.0, 99.9])
    return (x - lo) / max(hi - lo, 1e-6)


def image_facts(pixels: np.ndarray, inner_metal_only: bool = False) -> dict:
    """Facts from the raw pixels alone: metal, blankness and noise (plain floats for ``reasons``).
    ``inner_metal_only``: metal cut by the region's edge is left to the context (see ``assess``)."""
    raw = np.asarray(pixels)
    # Blank: the robust gray range is a sliver of the brightest value present. Relative to the
    # image itself, because 12-bit data in a 16-bit container uses a sixteenth of the type's range.
    lo, hi = (float(v) for v in percentiles(raw, [1.0, 99.9]))
    spread = (hi - lo) / max(float(raw.max()), 1.0)
    x = _working_copy(raw)
    plateaus = metal_plateaus(x)
    metal, pieces = metal_share(plateaus, inner_metal_only)
    sphere = sphere_px(plateaus, x.shape[1] / raw.shape[1])
    # Radiographs are smooth at the pixel scale; noise (or a random picture of texture) is not.
    fine = x - cv2.GaussianBlur(x, (0, 0), 1.5)
    coarse = float(x.std())
    noise = float(fine.std() / coarse) if coarse > 1e-6 else 0.0
    facts = {"metal_fraction": round(metal, 5), "metal_plateaus": pieces,
             "gray_spread": round(spread, 5), "noise_ratio": round(noise, 4)}
    if sphere:  # a calibration sphere: a fact about the film (its size gives the scale), not metal
        facts["calibration_sphere_px"] = sphere
    return facts


def holds_implant(pixels: np.ndarray, context: np.ndarray | None = None) -> bool:
    """Whether ``assess`` refuses a region (its pixels and the film around it) as a replaced joint:
    a knee's region beside a native knee that does is the other knee, replaced (``pipeline``: it
    keeps its record, refused, rather than vanish or lose the native knee's grade)."""
    return assess(pixels, context=context).note == NOTE_IMPLANT


def assess(pixels: np.ndarray, features: np.ndarray | None = None, stats: ScopeStats | None = None,
           localiser_score: float | None = None, view_position: str | None = None,
           context: np.ndarray | None = None) -> ScopeVerdict:
    """Decide whether a region (its raw uint8/uint16 pixels) is something the model may grade.

    ``features`` are the region's pooled network features (``Prediction.features``), ``stats``
    the model's ``scope.npz`` (``load_stats``); without either only the image facts count.
    ``localiser_score`` is the knee finder's score for the region, if any; ``view_position`` the
    DICOM ViewPosition, if any. ``context`` is the film around the region (the region enlarged):
    metal there counts too, because the knee finder may frame a replaced joint a little off —
    on a stem or a plate — and a prosthesis is never a reason to grade the joint beside it.
    """
    # Metal cut by the region's edge is judged on the film around it, where it is whole: a
    # sphere at the region's edge is a disc there, a stem or a plate is metal there.
    reasons = image_facts(pixels, inner_metal_only=context is not None and context.size > 0)
    if context is not None and context.size > 0:
        around = _working_copy(context)
        plateaus = metal_plateaus(around)
        reasons["context_metal_fraction"] = round(metal_share(plateaus)[0], 5)
        sphere = sphere_px(plateaus, around.shape[1] / context.shape[1])
        if sphere and "calibration_sphere_px" not in reasons:
            reasons["calibration_sphere_px"] = sphere
    distance = None
    if features is not None and stats is not None and np.size(features) == stats.dims:
        distance = float(stats.distance(np.ravel(features))[0])
        reasons.update(feature_distance=round(distance, 4), distance_threshold=round(stats.threshold, 4))
    else:
        reasons["feature_distance"] = None
        reasons["feature_check"] = ("no statistics for this model" if stats is None else
                                    "no features" if features is None else "features do not match the statistics")
    if localiser_score is not None:
        reasons["localiser_score"] = round(float(localiser_score), 4)
    view = (view_position or "").strip().upper()
    if view:
        reasons["view_position"] = view

    if reasons["gray_spread"] < BLANK_SPREAD or reasons["noise_ratio"] > NOISE_RATIO:
        return ScopeVerdict(False, NOTE_NOT_KNEE, reasons)
    if max(reasons["metal_fraction"], reasons.get("context_metal_fraction", 0.0)) >= METAL_MIN_FRACTION:
        return ScopeVerdict(False, NOTE_IMPLANT, reasons)
    if view in LATERAL_VIEWS:
        return ScopeVerdict(False, NOTE_LATERAL, reasons)
    unlike_knee = localiser_score is not None and float(localiser_score) < LOCALISER_MIN
    head = stats.head if distance is not None else None
    if head is not None:
        # The head asks "is this a knee PA/AP view?"; the distance only "is this like OAI?", so
        # far from OAI is a note on a grade, never a refusal of a knee.
        p = float(head.probability(np.ravel(features))[0])
        reasons["knee_probability"] = round(p, 4)
        # The head alone decides: it learnt from every region the scan proposes on films of other
        # body parts, and the detector's "unlike a knee" (which once settled a doubtful head)
        # refused the tight and squashed knees that HOG cannot read but the network can.
        if p < head.threshold:
            # Telling a lateral view from "something else" needs evidence we do not have (no
            # lateral films to learn from); the general sentence is the one that is never wrong.
            return ScopeVerdict(False, NOTE_NOT_KNEE, reasons)
        return _graded(reasons, distance, stats)
    # Version-1 statistics (no head): the distance alone refuses.
    # A joint the knee finder is sure of (its own trained measure of a PA knee joint) needs more
    # than a somewhat unusual look to be refused: another site's framing and processing move the
    # network's features, and the finder's HOG score hardly cares about them.
    sure_knee = localiser_score is not None and float(localiser_score) >= LOCALISER_SURE
    far = distance is not None and distance > stats.threshold * (SURE_KNEE_MARGIN if sure_knee else 1.0)
    # The localiser was built for PA knees at film scale; on its own its score is too coarse to
    # overrule the features, but it settles a region the features already doubt.
    doubtful = distance is not None and distance > stats.doubt
    if far or (unlike_knee and doubtful):
        return ScopeVerdict(False, NOTE_NOT_KNEE, reasons)
    return ScopeVerdict(True, None, reasons)
