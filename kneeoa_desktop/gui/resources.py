"""The window's own files from ``resources/``: its SVG icons and its Qt stylesheets.

Both are found through ``core.paths.resources_dir()``, so they load the same from a source
checkout and from the PyInstaller bundle (``build.spec`` copies all of ``resources/``).
"""

from __future__ import annotations

import logging

from PySide6.QtGui import QIcon

from ..core.paths import resources_dir

log = logging.getLogger("kneeoa.gui")


def icon(name: str) -> QIcon:
    """An icon from resources/icons (SVG, drawn for this program)."""
    return QIcon(str(resources_dir() / "icons" / f"{name}.svg"))


def stylesheet(name: str) -> str:
    """The Qt stylesheet resources/styles/``name``.qss; empty (Qt's plain look) if it cannot be read."""
    path = resources_dir() / "styles" / f"{name}.qss"
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:  # a damaged install looks plainer but still works
        log.warning("stylesheet %s cannot be read (%s)", path, exc)
        return ""
