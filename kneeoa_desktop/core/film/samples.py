"""The sample radiographs shipped with the program (``resources/samples``), for a first try."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..paths import resources_dir


@dataclass(frozen=True)
class Sample:
    path: Path
    title: str  # English; front doors translate it


#: File name → what a new user sees in the menu.
SAMPLES = (
    ("kneeKL224-KL0-9006140R.png", "Single knee, no osteoarthritis (KL0)"),
    ("kneeKL224-KL2-9015402R.png", "Single knee, minimal osteoarthritis (KL2)"),
    ("kneeKL224-KL4-9070207R.png", "Single knee, severe osteoarthritis (KL4)"),
    ("implants-bilateral-howmedica-waldius.jpg", "Both knees replaced (out of scope)"),
)


def samples() -> list[Sample]:
    """The shipped samples that are present, in menu order."""
    folder = resources_dir() / "samples"
    return [Sample(folder / name, title) for name, title in SAMPLES if (folder / name).is_file()]
