"""Grade simulated sites through the whole pipeline and count what a clinician there would see.

For each site transform (``sites.SITE_TRANSFORMS``) every crop becomes that site's film, goes
through ``GradingPipeline`` exactly as a file opened in the app (knee finding, framing, network,
scope check), and is counted: refused (out of scope, by note), more than one record, one record
graded whole, and the grade's agreement with kneeKL224's (every film counted: a refused film's
probabilities count too, as they are printed). Two-knee images (``sites.two_knees``) are counted
for two records, one in each half. ``scripts/measure_sites.py`` prints it; a test holds it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..core.film.imaging import LoadedImage
from ..core.verdict.metrics import classification_report
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
