"""Help ▸ Open a sample radiograph: the real radiographs shipped with the program, for a first try."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QMenu

from ..core.film.samples import samples


def _titles() -> dict[str, str]:
    # Spelled out here (not taken from core) so that Qt's lupdate finds them for translation.
    return {
        "kneeKL224-KL0-9006140R.png": QCoreApplication.translate("Samples", "Single knee, no osteoarthritis (KL0)"),
        "kneeKL224-KL2-9015402R.png": QCoreApplication.translate("Samples", "Single knee, minimal osteoarthritis (KL2)"),
        "kneeKL224-KL4-9070207R.png": QCoreApplication.translate("Samples", "Single knee, severe osteoarthritis (KL4)"),
        "implants-bilateral-howmedica-waldius.jpg": QCoreApplication.translate(
            "Samples", "Both knees replaced (out of scope)"),
    }


def fill_samples_menu(menu: QMenu, open_path: Callable[[str], object]) -> None:
    """(Re)build the menu: one entry per shipped sample, in the current language."""
    menu.clear()
    titles = _titles()
    for sample in samples():
        action = menu.addAction(titles.get(sample.path.name, sample.title))
        action.setData(str(sample.path))
        action.triggered.connect(lambda _checked=False, p=str(sample.path): open_path(p))
    menu.setEnabled(bool(menu.actions()))
