"""Grade simulated sites through the whole pipeline and count what a clinician there would see.

For each site transform (``sites.SITE_TRANSFORMS``) every crop becomes that site's film, goes
through ``GradingPipeline`` exactly as a file opened in the app (knee finding, framing, network,
scope check), and is counted: refused (out of scope, by note), more than one record, one record
graded whole, and the grade's agreement with kneeKL224's (every film counted: a refused film's
probabilities count too, as they are printed). Two-knee images (``sites.two_knees``) are counted
for two records, one in each half. ``scripts/measure_sites.py`` prints it; a test holds it.

Issue 33's real films rebuilt as simulated cases (``CASES``: tight films, one cut and cut as
many hands cut them, two knees side by side, portrait films with shafts, standing films of both legs, with sclerotic knees, at true
proportions: ``long_leg``, with one knee replaced: ``replaced``) are graded and counted here too, each from fixed val crops:
``tests/test_real_film_cases.py`` holds each against issue 33's bar for the matching real films
and ``scripts/measure_real_film_cases.py`` prints them (the README's table).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ..core.film.imaging import LoadedImage
from ..core.verdict.metrics import classification_report
from . import sites
from .long_leg import REPLACED_KNEES, long_leg_film, replaced_knee
from .sites import SITE_TRANSFORMS, site_film, two_knees


def centred_on(region: tuple[int, int, int, int], centre: tuple[float, float], tolerance: float = 0.2) -> bool:
    """Whether a region (x, y, width, height) is centred on a simulated film's true joint: its
    centre within ``tolerance`` of its own width and height of ``centre``, both ways."""
    x, y, w, h = region
    return abs(x + w / 2 - centre[0]) <= tolerance * w and abs(y + h / 2 - centre[1]) <= tolerance * h


@dataclass
class SiteFigures:
    name: str
    films: int
    refused: int  # at least one record out of scope
    notes: dict = field(default_factory=dict)  # scope note → records
    unusual: int = 0  # in scope but with a note ("unusual image; check the grade")
    multiple: int = 0  # more than one record
    whole: int = 0  # one record, the whole image
    kappa: float = float("nan")
    accuracy: float = float("nan")
    oa_auc: float = float("nan")
    ms_per_film: float = 0.0

    def line(self) -> str:
        notes = ", ".join(f"{n.split(':')[0].split(';')[0][:28]} {c}" for n, c in self.notes.items())
        return (f"{self.name:26s} {self.films:4d} films | refused {100 * self.refused / self.films:5.1f} % "
                f"| >1 record {100 * self.multiple / self.films:5.1f} % | whole {100 * self.whole / self.films:5.1f} % "
                f"| unusual {100 * self.unusual / self.films:5.1f} % | kappa {self.kappa:.3f} acc {self.accuracy:.3f} "
                f"OA AUC {self.oa_auc:.3f} | {self.ms_per_film:.0f} ms" + (f" | {notes}" if notes else ""))


def as_film(pixels: np.ndarray, name: str) -> LoadedImage:
    """Pixels as the pipeline takes a file it loaded (16-bit when stored in a uint16)."""
    depth = 16 if pixels.dtype == np.uint16 else 8
    return LoadedImage(pixels=pixels, source_name=name, format="PNG", bit_depth=depth)


def grade_site(pipeline, raws, grades, name: str, seed: int = 0) -> SiteFigures:
    """``raws`` (uint8 crops) through site ``name``, graded by ``pipeline``; ``grades`` their KL."""
    figures = SiteFigures(name, len(raws), 0)
    probs, start = [], time.perf_counter()
    for i, raw in enumerate(raws):
        result = pipeline(as_film(site_film(raw, name, seed + i), f"{name} {i}"))
        knees = result.knees
        figures.refused += any(not k.in_scope for k in knees)
        figures.unusual += any(k.in_scope and k.scope_note for k in knees)
        for k in knees:
            if k.scope_note:
                figures.notes[k.scope_note] = figures.notes.get(k.scope_note, 0) + 1
        figures.multiple += len(knees) > 1
        figures.whole += len(knees) == 1 and knees[0].whole_image
        probs.append(knees[0].prediction.probabilities)
    figures.ms_per_film = (time.perf_counter() - start) * 1000.0 / max(1, len(raws))
    if grades is not None and len(raws):
        report = classification_report(np.asarray(grades), np.stack(probs))
        figures.kappa = report["quadratic_weighted_kappa"]
        figures.accuracy = report["accuracy"]
        figures.oa_auc = report.get("oa_auc", float("nan"))
    return figures


def grade_sites(pipeline, raws, grades, names=None, seed: int = 0):
    """``grade_site`` for each site in turn (a generator: a caller may print as they come)."""
    for name in names or SITE_TRANSFORMS:
        yield grade_site(pipeline, raws, grades, name, seed)


@dataclass
class PairFigures:
    images: int
    two_in_halves: int  # two records, right on the image's left half and left on its right half
    both_in_scope: int
    records: dict = field(default_factory=dict)  # number of records → images


def grade_two_knees(pipeline, rights, lefts) -> PairFigures:
    """Two crops side by side on a 640×161 image (``sites.two_knees``), each graded on its own."""
    figures = PairFigures(0, 0, 0)
    for i, (right, left) in enumerate(zip(rights, lefts)):
        image = two_knees(right, left)
        knees = pipeline(as_film(image, f"two knees {i}")).knees
        figures.images += 1
        figures.records[len(knees)] = figures.records.get(len(knees), 0) + 1
        half = image.shape[1] / 2
        if len(knees) == 2:
            (a, b) = knees
            ok = (a.side, b.side) == ("right", "left") and a.region[0] + a.region[2] / 2 < half \
                and b.region[0] + b.region[2] / 2 >= half
            figures.two_in_halves += ok
            figures.both_in_scope += ok and a.in_scope and b.in_scope
    return figures


# --- Issue 33's real films, rebuilt ---------------------------------------------------------

def val_crops(data_dir: Path, step: int, grades: str = "01234") -> tuple[list[Path], list[np.ndarray]]:
    """Every ``step``-th kneeKL224 val crop (paths and uint8 pixels), of the given grades only."""
    paths = [p for p in sorted((Path(data_dir) / "val").glob("[0-4]/*.png"))[::step] if p.parent.name in grades]
    return paths, [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in paths]


def _sides(paths, raws, count: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The first ``count`` right knees and the first ``count`` left knees (by file name)."""
    rights = [r for p, r in zip(paths, raws) if p.stem.endswith("R")][:count]
    lefts = [r for p, r in zip(paths, raws) if p.stem.endswith("L")][:count]
    return rights, lefts


def tight(grader, data_dir: Path, bits: int) -> tuple[int, int, int]:
    """Another hospital's tight films (``sites.tight_film``), every 24th crop: (graded whole,
    flagged, films)."""
    _, raws = val_crops(data_dir, 24)
    rng = np.random.default_rng(0)
    knees = []
    for raw in raws:
        knees.append(grader(as_film(sites.tight_film(raw.astype(np.float32), rng, bits), "tight")).knees)
    whole = sum(len(k) == 1 and k[0].whole_image for k in knees)
    flagged = sum(any(not q.in_scope for q in k) for k in knees)
    return whole, flagged, len(raws)


def tight_cuts(grader, data_dir: Path, cuts=None, step: int = 12) -> tuple[int, int, int]:
    """Tight films cut as a hospital's radiographers frame them, not all alike: each crop (every
    ``step``-th) with its own ``sites.TightCut.drawn`` (tighter or looser, the joint off centre,
    turned), 16- and 8-bit in turn; or every crop with each of ``cuts``. (graded whole, flagged,
    films)."""
    _, raws = val_crops(data_dir, step)
    rng = np.random.default_rng(1)
    whole = flagged = films = 0
    for k, raw in enumerate(raws):
        for cut in cuts or [sites.TightCut.drawn(rng)]:
            film = sites.tight_film(raw.astype(np.float32), rng, 8 if k % 2 else 16, cut)
            knees = grader(as_film(film, "tight")).knees
            whole += len(knees) == 1 and knees[0].whole_image and knees[0].in_scope
            flagged += any(not q.in_scope for q in knees)
            films += 1
    return whole, flagged, films


#: Named cuts of the tight film (``scripts/measure_real_film_cases.py --sweep``), each on every crop.
TIGHT_SWEEP = {
    "as the case (75 % across, 55 % down)": sites.TightCut(),
    "looser (90 %, 70 %)": sites.TightCut(0.9, 0.7),
    "tighter (65 %, 45 %)": sites.TightCut(0.65, 0.45),
    "tightest (60 %, 38 %)": sites.TightCut(0.6, 0.38),
    "joint low (cut 10 % up)": sites.TightCut(dy=-0.1),
    "joint high (cut 10 % down)": sites.TightCut(dy=0.1),
    "joint to one side (10 %)": sites.TightCut(dx=0.1),
    "turned 8°": sites.TightCut(turn=8.0),
    "turned −8°": sites.TightCut(turn=-8.0),
}


def two_tight(grader, data_dir: Path, drawn: bool = False) -> tuple[int, int, int]:
    """Two such knees side by side (``sites.two_tight_knees``), 25 images from every 12th crop;
    with ``drawn``, 50 from every 6th, each knee cut as its radiographer cuts it
    (``sites.TightCut.drawn``), 8- and 16-bit in turn: (images with one in-scope knee per half,
    images graded whole as one knee in scope, images)."""
    rights, lefts = _sides(*val_crops(data_dir, 6 if drawn else 12), 50 if drawn else 25)
    rng = np.random.default_rng(5)
    good = whole = 0
    for k, (right, left) in enumerate(zip(rights, lefts)):
        cuts = (sites.TightCut.drawn(rng), sites.TightCut.drawn(rng)) if drawn else (None, None)
        image = sites.two_tight_knees(right, left, cuts, 16 if drawn and k % 2 else 8, rng)
        knees = grader(as_film(image, "two tight knees")).knees
        good += (len(knees) == 2 and knees[0].region[0] < image.shape[1] // 4
                 and knees[1].region[0] >= image.shape[1] // 2 - 20 and all(k.in_scope for k in knees))
        whole += any(k.in_scope and k.region == (0, 0, image.shape[1], image.shape[0]) for k in knees)
    return good, whole, len(rights)


def shafts(grader, data_dir: Path, joint_at: float, length: float = 6.0) -> tuple[int, int]:
    """Portrait single-knee films with long shafts (``sites.shaft_film``, ``length`` crops tall),
    every 24th crop: (films with one in-scope knee on the joint, films)."""
    _, raws = val_crops(data_dir, 24)
    good = 0
    for raw in raws:
        film, centre = sites.shaft_film(raw.astype(np.float32), joint_at, length)
        knees = grader(as_film(sites._u8(film), "shafts")).knees
        good += len(knees) == 1 and centred_on(knees[0].region, centre) and knees[0].in_scope
    return good, len(raws)


def _both_placed(knees, centres) -> bool:
    """A right and a left record, each centred on its true joint."""
    return [k.side for k in knees] == ["right", "left"] and all(
        centred_on(k.region, c) for k, c in zip(knees, centres))


def _knee_pairs(data_dir: Path, sclerosis: bool, rng: np.random.Generator):
    """(k, right, left): eight right and left crops from every 24th val crop or, with
    ``sclerosis``, from every 4th crop of KL 3–4 with dense subchondral sclerosis on one
    compartment, then both, by turns (drawn from ``rng`` before the k-th film is built)."""
    paths, raws = val_crops(data_dir, 4, "34") if sclerosis else val_crops(data_dir, 24)
    for k, (right, left) in enumerate(zip(*_sides(paths, raws, 8))):
        if sclerosis:
            right, left = (sites._u8(sites.sclerotic(x, rng, 1 + k % 2)) for x in (right, left))
        yield k, right, left


def _both_graded(grader, films, name: str) -> tuple[int, int, int]:
    """(films with both knees on their joints, of their knees graded in scope, films) of
    (film, true joint centres) pairs."""
    placed = graded = count = 0
    for film, centres in films:
        knees = grader(as_film(film, name)).knees
        count += 1
        if _both_placed(knees, centres):
            placed += 1
            graded += sum(k.in_scope for k in knees)
    return placed, graded, count


def standing(grader, data_dir: Path, sphere: str | None, sclerosis: bool = False) -> tuple[int, int, int]:
    """Standing films of both legs (``sites.standing_film``) of ``_knee_pairs``' crops (with
    ``sclerosis`` on a high-contrast film): (films with both knees on their joints, of their
    knees graded in scope, films)."""
    rng = np.random.default_rng(0)
    films = (sites.standing_film(right, left, sphere, heavy=sclerosis)
             for _, right, left in _knee_pairs(data_dir, sclerosis, rng))
    return _both_graded(grader, films, "standing")


def long_leg_films(data_dir: Path, share: float, sclerosis: bool = False, drop: float = 0.0, tilt: float = 0.0,
                   apart: float = 1.0):
    """(film, true joint centres) of eight standing hip-to-ankle films at true proportions
    (``long_leg_film``, each knee ``share`` of the film's width) of ``_knee_pairs``' crops (with
    ``sclerosis`` on a high-contrast film), the calibration sphere between the knees and beside
    the right one by turns; the knees in ``tilt``° of varus, the left one ``drop`` knees lower and
    higher by turns (a tilted pelvis), ``apart`` times as far from the midline (under 1: knock
    knees)."""
    rng = np.random.default_rng(1)
    for k, right, left in _knee_pairs(data_dir, sclerosis, rng):
        yield long_leg_film(right, left, rng, share, ("between", "beside right")[k % 2], heavy=sclerosis,
                            drop=drop if k % 2 == 0 else -drop, tilt=tilt, apart=apart)


def long_leg(grader, data_dir: Path, share: float, sclerosis: bool = False, drop: float = 0.0,
             tilt: float = 0.0, apart: float = 1.0) -> tuple[int, int, int]:
    """``long_leg_films`` graded: (films with both knees on their joints, of their knees graded in
    scope, films)."""
    return _both_graded(grader, long_leg_films(data_dir, share, sclerosis, drop, tilt, apart), "long leg")


#: (share of the width, drop, tilt, apart) of the long-leg films ``scripts/measure_real_film_cases.py
#: --sweep`` grades: smaller and larger patients, a tilted pelvis, varus and valgus, knock knees
#: and knees wide apart.
LONG_LEG_SWEEP = ((0.15, 0.0, 0.0, 1.0), (0.17, 0.0, 0.0, 1.0), (0.26, 0.0, 0.0, 1.0), (0.21, 0.3, 0.0, 1.0),
                  (0.21, 0.0, 6.0, 1.0), (0.21, 0.0, -6.0, 1.0), (0.2, 0.2, 8.0, 1.0), (0.24, 0.0, 0.0, 0.8),
                  (0.18, 0.0, 0.0, 1.3))


def replaced_films(data_dir: Path, implants: Path | None = None):
    """(film, true joint centres, which is replaced) of standing hip-to-ankle films at true
    proportions with one replaced knee: each of ``REPLACED_KNEES`` (real AP films of
    shared/data/out-of-scope/implants, beside kneeKL224) as the right knee and as the left, the
    other a val crop (every 24th); each knee 0.22 or 0.19 of the width, the sphere between the
    knees, beside the right one or absent, every other film high-contrast."""
    implants = data_dir.parent / "out-of-scope" / "implants"
    paths, raws = val_crops(data_dir, 24)
    rights, lefts = _sides(paths, raws, len(REPLACED_KNEES))
    rng = np.random.default_rng(3)
    for k, (name, box) in enumerate(REPLACED_KNEES.items()):
        metal = replaced_knee(cv2.imread(str(implants / name), cv2.IMREAD_GRAYSCALE), box)
        for which in (0, 1):
            right, left = (metal, lefts[k]) if which == 0 else (rights[k], metal)
            film, centres = long_leg_film(right, left, rng, (0.22, 0.19)[k % 2],
                                          ("between", "beside right", None)[k % 3], heavy=bool(k % 2))
            yield film, centres, which


def replaced(grader, data_dir: Path, implants: Path | None = None) -> tuple[int, int, int]:
    """``replaced_films`` graded: (films whose replaced knee is flagged — a record on it, within
    half its size, none graded in scope —, films whose native knee is graded in scope on its
    joint, films). Issue 33: 7 of 8 replaced knees flagged on the real standing films."""
    flagged = native = count = 0
    for film, centres, which in replaced_films(data_dir, implants):
        knees = grader(as_film(film, "long leg, one knee replaced")).knees
        count += 1
        on_metal = [k for k in knees if centred_on(k.region, centres[which], 0.5)]
        flagged += bool(on_metal) and not any(k.in_scope for k in on_metal)
        native += any(k.in_scope and centred_on(k.region, centres[1 - which]) for k in knees)
    return flagged, native, count


def teaching(grader, data_dir: Path, fracture: bool, step: int = 20) -> tuple[int, int, int]:
    """Teaching-collection films of one knee (``sites.teaching_film``: its shafts, enlarged to
    1,000–2,400 px across, sharpened, a side marker and an arrow burnt in beside the joint), every
    ``step``-th crop, with an avulsion fracture (``sites.avulsion``) or without: (films with one
    in-scope knee on the joint, films with a record off it (farther than half its size: on the
    arrow, the marker), films)."""
    paths, raws = val_crops(data_dir, step)
    rng = np.random.default_rng(1)
    good = off = 0
    for raw in raws:
        x = raw.astype(np.float32)
        film, centre = sites.teaching_film(sites.avulsion(x, rng) if fracture else x, rng,
                                                int(rng.uniform(1000, 2400)))
        knees = grader(as_film(film, "teaching")).knees
        good += len(knees) == 1 and knees[0].in_scope and centred_on(knees[0].region, centre)
        off += any(not centred_on(k.region, centre, 0.5) for k in knees)
    return good, off, len(raws)


#: name → (what it counts, how to count it on a grader and the kneeKL224 folder).
CASES = {
    "tight film, 16-bit": ("graded whole, flagged, films", lambda g, d: tight(g, d, 16)),
    "tight film, 8-bit": ("graded whole, flagged, films", lambda g, d: tight(g, d, 8)),
    "tight film, cut as each radiographer cuts": ("graded whole, flagged, films", tight_cuts),
    "two tight knees side by side": ("one in-scope knee per half, graded whole, images", two_tight),
    "two tight knees, each cut as its radiographer cuts": ("one in-scope knee per half, graded whole, images",
                                                           lambda g, d: two_tight(g, d, True)),
    "portrait with shafts, joint high": ("one knee on the joint in scope, films", lambda g, d: shafts(g, d, 0.15)),
    "portrait with shafts, joint middle": ("one knee on the joint in scope, films", lambda g, d: shafts(g, d, 0.5)),
    "portrait with shafts, joint low": ("one knee on the joint in scope, films", lambda g, d: shafts(g, d, 0.85)),
    "shafts, film 3 crops tall, joint high": ("one knee on the joint in scope, films",
                                               lambda g, d: shafts(g, d, 0.15, 3.0)),
    "shafts, film 3 crops tall, joint low": ("one knee on the joint in scope, films",
                                              lambda g, d: shafts(g, d, 0.85, 3.0)),
    "shafts, film 2 crops tall, joint high": ("one knee on the joint in scope, films",
                                               lambda g, d: shafts(g, d, 0.15, 2.0)),
    "shafts, film 2 crops tall, joint low": ("one knee on the joint in scope, films",
                                              lambda g, d: shafts(g, d, 0.85, 2.0)),
    "standing, no sphere": ("films placed, knees graded, films", lambda g, d: standing(g, d, None)),
    "standing, sphere between": ("films placed, knees graded, films", lambda g, d: standing(g, d, "between")),
    "standing, sphere beside right": ("films placed, knees graded, films", lambda g, d: standing(g, d, "beside right")),
    "standing, sclerotic, high contrast": ("films placed, knees graded, films",
                                           lambda g, d: standing(g, d, "between", True)),
    "long-leg, knee 0.22 of the width": ("films placed, knees graded, films", lambda g, d: long_leg(g, d, 0.22)),
    "long-leg, knee 0.19 of the width": ("films placed, knees graded, films", lambda g, d: long_leg(g, d, 0.19)),
    "long-leg 0.2, sclerotic, high contrast": ("films placed, knees graded, films",
                                               lambda g, d: long_leg(g, d, 0.2, True)),
    "long-leg 0.17, varus, pelvis tilted": ("films placed, knees graded, films",
                                            lambda g, d: long_leg(g, d, 0.17, drop=0.25, tilt=6.0)),
    "long-leg, one knee replaced": ("replaced knee flagged, native one graded, films", replaced),
    "teaching film with an arrow": ("one knee on the joint in scope, a record off it, films",
                                    lambda g, d: teaching(g, d, False)),
    "the same with an avulsion fracture": ("one knee on the joint in scope, a record off it, films",
                                           lambda g, d: teaching(g, d, True)),
}
