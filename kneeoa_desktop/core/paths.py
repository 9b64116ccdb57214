"""Where the program's own files live, from a source checkout or a PyInstaller bundle."""

from __future__ import annotations

import sys
from pathlib import Path


def app_root() -> Path:
    """The folder holding ``resources/`` and ``weights/``."""
    bundle = getattr(sys, "_MEIPASS", None)  # set by PyInstaller in a frozen bundle
    if bundle:
        return Path(bundle)
    return Path(__file__).resolve().parents[2]


def resources_dir() -> Path:
    return app_root() / "resources"


def weights_dir() -> Path:
    return app_root() / "weights"
