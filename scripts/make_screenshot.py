#!/usr/bin/env python3
"""Make docs/screenshot.png: the real window, grading a real radiograph from the val split.

Run under a virtual display so that the window is painted by the real platform plugin:

    xvfb-run -s "-screen 0 1400x900x24" .venv/bin/python scripts/make_screenshot.py [IMAGE]

It opens IMAGE (default: the first KL3 radiograph of kneeKL224/val), waits for the grading,
lets the window settle, and saves what the window shows (QWidget.grab). The user's own
settings are not touched: a temporary settings file is used.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DATA = REPO.parent / "shared" / "data" / "kneeKL224" / "val"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image", nargs="?", type=Path)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshot.png")
    parser.add_argument("--size", default="1280x800", help="window size WxH (default %(default)s)")
    parser.add_argument("--language", default="en", choices=("en", "ru"))
    parser.add_argument("--grade", type=int, help="show this grade's evidence instead of the predicted one")
    parser.add_argument("--site-profile", type=Path, help="grade with this site profile (Settings ▸ Site calibration)")
    args = parser.parse_args()
    image = args.image or sorted((DATA / "3").glob("*.png"))[0]
    width, height = (int(v) for v in args.size.lower().split("x"))

    from PySide6.QtCore import QSettings, QTimer

    from kneeoa_desktop.gui.app import launch
    from kneeoa_desktop.gui.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(QSettings(str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat))
        if args.site_profile:
            settings.site_profile = str(args.site_profile.resolve())
        app, window, _ = launch([str(image), "--language", args.language], settings=settings)
        window.resize(width, height)
        outcome = {}

        def save():
            args.out.parent.mkdir(parents=True, exist_ok=True)
            outcome["saved"] = window.grab().save(str(args.out))
            app.quit()

        def on_result(_result):
            if args.grade is not None:
                window.show_evidence_for(args.grade)
            QTimer.singleShot(800, save)  # let layouts and the status bar settle

        def on_error(text):
            outcome["error"] = text
            app.quit()

        window.result_shown.connect(on_result)
        window.error_shown.connect(on_error)
        QTimer.singleShot(120_000, app.quit)
        app.exec()
        window.close()
    if "error" in outcome:
        print(f"make_screenshot: {outcome['error']}", file=sys.stderr)
        return 1
    if not outcome.get("saved"):
        print("make_screenshot: no result within two minutes, or the PNG could not be written", file=sys.stderr)
        return 1
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
