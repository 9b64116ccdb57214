"""Shared fixtures: the dataset location, one real radiograph, and the shipped predictor."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Tests never read or write the real user's downloaded models or log: each run gets its own.
if "KNEEOA_DATA_DIR" not in os.environ or "KNEEOA_LOG_DIR" not in os.environ:
    import atexit
    import shutil
    import tempfile

    _scratch = Path(tempfile.mkdtemp(prefix="kneeoa-tests-"))
    atexit.register(shutil.rmtree, _scratch, ignore_errors=True)
    os.environ.setdefault("KNEEOA_DATA_DIR", str(_scratch / "data"))
    os.environ.setdefault("KNEEOA_LOG_DIR", str(_scratch / "log"))

REPO = Path(__file__).resolve().parents[1]
DATA_DIR = Path(os.environ.get("KNEEOA_DATA", REPO.parent / "shared" / "data" / "kneeKL224"))
HAVE_DATA = (DATA_DIR / "val").is_dir()
needs_data = pytest.mark.skipif(not HAVE_DATA, reason=f"dataset not found at {DATA_DIR} "
                                "(set KNEEOA_DATA to a kneeKL224-shaped folder)")


@pytest.fixture(scope="session")
def knee_png(tmp_path_factory) -> Path:
    """One real 224×224 8-bit radiograph (from val), or a synthetic one without the dataset."""
    if HAVE_DATA:
        # A clear KL0 and KL4 are graded confidently, which makes "same grade" checks meaningful.
        return sorted((DATA_DIR / "val" / "4").glob("*.png"))[0]
    import cv2

    path = tmp_path_factory.mktemp("synthetic") / "knee.png"
    from .samples import synthetic_knee

    cv2.imwrite(str(path), synthetic_knee(224))
    return path


@pytest.fixture(scope="session")
def knee_pixels(knee_png) -> np.ndarray:
    import cv2

    return cv2.imread(str(knee_png), cv2.IMREAD_GRAYSCALE)


@pytest.fixture(scope="session")
def predictor():
    from kneeoa_desktop.core.predictor import Predictor

    return Predictor()
