#!/usr/bin/env python3
"""Render resources/icons/kneeoa.svg (the application icon, drawn by hand) to PNG sizes.

The SVG is the source; the PNGs serve desktop entries and installers that want bitmaps.
Usage: python scripts/make_icon.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ICONS = Path(__file__).resolve().parents[1] / "resources" / "icons"
SIZES = (16, 32, 48, 64, 128, 256)


def main() -> int:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication(sys.argv[:1])  # noqa: F841 - painting needs an application object
    renderer = QSvgRenderer(str(ICONS / "kneeoa.svg"))
    if not renderer.isValid():
        sys.exit("kneeoa.svg is not a valid SVG")
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        target = ICONS / f"kneeoa-{size}.png"
        image.save(str(target))
        print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
