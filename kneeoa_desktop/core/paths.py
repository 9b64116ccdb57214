"""Where the program's own files live, from a source checkout or a PyInstaller bundle."""

from __future__ import annotations

import os
import sys
from pathlib import Path

#: The folder name under the platform's per-user data and log folders.
APP_NAME = "KneeOA"


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


def user_dir(kind: str, override_env: str) -> Path:
    """The per-user ``kind`` folder ("data" or "log") from platformdirs, unless ``$override_env``
    names another (tests; an IT department's managed install)."""
    override = os.environ.get(override_env)
    if override:
        return Path(override)
    import platformdirs

    return Path(getattr(platformdirs, f"user_{kind}_dir")(APP_NAME, appauthor=False))
