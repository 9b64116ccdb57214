"""A site profile: how one department's films are graded after `kneeoa calibrate` tuned the model.

A profile is data, never code: JSON with the site's name, the date, the number of films per
grade it was fitted on, the fingerprint of the model it belongs to (the sha256 of its file, or
of its members' files for an ensemble), the fitted numbers and the cross-validated figures. It
holds two numbers sets:

* a temperature ``T``: the model's probabilities p become softmax(log p / T), which the app
  shows (and the low-confidence warning reads);
* four increasing cut points on the expected grade E = Σ k·p_k of those probabilities: the grade
  is the number of cut points at or below E (a monotone recalibration of the grade scale, which
  is what a site whose films the model grades "one step too high" needs).

``load_profile`` refuses, with one sentence, a file that is missing, not JSON, out of range, or
fitted for another model; nothing here raises anything else. No Qt, no TensorFlow.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..atomic import write_text_atomic
from ..errors import KneeOAError
from ..json_files import read_json
from ..messages import QT_TRANSLATE_NOOP
from .ensemble import combine_probabilities
from .grades import NUM_GRADES, expected_grade, grade_by_cut_points

PROFILE_VERSION = 1
# Accepted range of a profile's temperature (a wider one is a hand-edited or broken file).
TEMPERATURE_RANGE = (0.05, 20.0)


class ProfileError(KneeOAError):
    """A site profile is missing, damaged, out of range, or belongs to another model."""


@dataclass(frozen=True)
class SiteProfile:
    name: str
    created: str  # ISO date
    model: str  # the model's tag when fitted, for people
    model_fingerprint: str  # what is checked: see ``model_fingerprint``
    films_per_grade: tuple[int, ...]
    temperature: float
    thresholds: tuple[float, ...]  # NUM_GRADES − 1 increasing cut points on the expected grade
    cross_validated: dict = field(default_factory=dict)
    version: int = PROFILE_VERSION

    @property
    def films(self) -> int:
        return int(sum(self.films_per_grade))

    def describe(self) -> str:
        """"calibrated for SITE (N films, date)", as the verdict pane and every export say it."""
        return f"calibrated for {self.name} ({self.films} films, {self.created})"

    def probabilities(self, probs: np.ndarray) -> np.ndarray:
        """The model's (N, 5) probabilities at this profile's temperature."""
        return combine_probabilities([np.atleast_2d(probs)], self.temperature)

    def grades(self, probs: np.ndarray) -> np.ndarray:
        """The grade of each row of (N, 5) probabilities *already at this profile's temperature*."""
        return grade_by_cut_points(expected_grade(probs), self.thresholds)

    def apply(self, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(probabilities as the app shows them, grades) for the model's (N, 5) probabilities."""
        calibrated = self.probabilities(probs)
        return calibrated, self.grades(calibrated)

    def to_json(self) -> str:
        data = asdict(self)
        data["films_per_grade"] = list(self.films_per_grade)
        data["thresholds"] = list(self.thresholds)
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def model_fingerprint(manifest) -> str:
    """The sha256 of the model's one file, or a sha256 over an ensemble's members' sha256s."""
    members = manifest.member_list
    if len(members) == 1:
        return members[0].sha256.lower()
    joined = "|".join(m.sha256.lower() for m in members)
    return hashlib.sha256(joined.encode()).hexdigest()


def save_profile(profile: SiteProfile, path: str | Path) -> Path:
    """Write the profile atomically: a reader sees no file or the whole file."""
    _check(profile, Path(path))
    return write_text_atomic(profile.to_json(), Path(path))


def load_profile(path: str | Path, manifest=None) -> SiteProfile:
    """Read and check a profile; with ``manifest``, it must belong to that model."""
    path = Path(path)
    data = read_json(path, ProfileError, QT_TRANSLATE_NOOP("CoreMessages", "The site profile {0} does not exist."),
                     QT_TRANSLATE_NOOP("CoreMessages", "The site profile {0} is unreadable or damaged."))
    try:
        profile = SiteProfile(
            name=str(data["name"]), created=str(data["created"]), model=str(data.get("model", "")),
            model_fingerprint=str(data["model_fingerprint"]).lower(),
            films_per_grade=tuple(int(n) for n in data["films_per_grade"]),
            temperature=float(data["temperature"]), thresholds=tuple(float(t) for t in data["thresholds"]),
            cross_validated=dict(data.get("cross_validated", {})), version=int(data["version"]))
    except (KeyError, TypeError, ValueError, AttributeError):
        raise ProfileError(QT_TRANSLATE_NOOP(
            "CoreMessages", "The site profile {0} lacks required fields."), path) from None
    _check(profile, path)
    if manifest is not None and profile.model_fingerprint != model_fingerprint(manifest):
        raise ProfileError(QT_TRANSLATE_NOOP(
            "CoreMessages", "The site profile {0} was fitted for another model ({1}); calibrate again for "
                            "this one."), path, profile.model or "unknown")
    return profile


def _check(profile: SiteProfile, path: Path) -> None:
    """Refuse numbers no fit produces: a hand-edited or damaged file must not grade anyone."""
    t = profile.thresholds
    ok = (profile.version == PROFILE_VERSION
          and 0 < len(profile.name.strip()) <= 200
          and len(profile.model_fingerprint) == 64 and all(c in "0123456789abcdef" for c in profile.model_fingerprint)
          and len(profile.films_per_grade) == NUM_GRADES and all(n >= 0 for n in profile.films_per_grade)
          and math.isfinite(profile.temperature)
          and TEMPERATURE_RANGE[0] <= profile.temperature <= TEMPERATURE_RANGE[1]
          and len(t) == NUM_GRADES - 1 and all(math.isfinite(v) and 0.0 <= v <= NUM_GRADES - 1 for v in t)
          and all(a < b for a, b in zip(t, t[1:])))
    if not ok:
        raise ProfileError(QT_TRANSLATE_NOOP(
            "CoreMessages", "The site profile {0} holds values out of range; it was not used."), path)
