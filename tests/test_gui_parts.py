"""The GUI's small parts on their own: image conversion, the verdict pane, settings, the worker's
thread discipline, and the entry points."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import tomllib
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QImage

from kneeoa_desktop.core.verdict.grades import LOW_CONFIDENCE
from kneeoa_desktop.core.verdict.prediction import Prediction
from kneeoa_desktop.gui.qt_images import bgr_to_qimage, gray_to_qimage
from kneeoa_desktop.gui.settings import MAX_RECENT, Settings

from .gui_helpers import GRADING_TIMEOUT_MS, counting, gui_settings, qimage_to_bgr  # noqa: F401

REPO = Path(__file__).resolve().parents[1]


def _prediction(probabilities) -> Prediction:
    probabilities = np.asarray(probabilities, np.float64)
    return Prediction(probabilities, np.zeros((7, 7, 5), np.float32), "test@0", "CPU")


# --- numpy ↔ QImage ------------------------------------------------------------------------------

@pytest.mark.parametrize("width", [64, 65, 67, 224])  # odd widths: Qt pads rows to 4 bytes
def test_gray_and_colour_conversions_round_trip(width):
    def qimage_to_gray(image):  # the GUI never reads pixels back; tests compare through BGR
        bgr = qimage_to_bgr(image)
        assert (bgr == bgr[:, :, :1]).all()
        return bgr[:, :, 0]

    rng = np.random.default_rng(width)
    gray = rng.integers(0, 256, (50, width), dtype=np.uint8)
    image = gray_to_qimage(gray)
    assert (image.width(), image.height(), image.format()) == (width, 50, QImage.Format.Format_Grayscale8)
    np.testing.assert_array_equal(qimage_to_gray(image), gray)
    bgr = rng.integers(0, 256, (40, width, 3), dtype=np.uint8)
    np.testing.assert_array_equal(qimage_to_bgr(bgr_to_qimage(bgr)), bgr)
    # A non-contiguous view (a crop, a flip) converts to exactly what it shows.
    view = gray[5:45:2, ::-1]
    np.testing.assert_array_equal(qimage_to_gray(gray_to_qimage(view)), view)


def test_converted_images_own_their_pixels():
    gray = np.full((64, 64), 77, np.uint8)
    image = gray_to_qimage(gray)
    gray[:] = 0
    del gray
    assert qimage_to_bgr(image).min() == 77


def test_conversions_refuse_wrong_arrays():
    with pytest.raises(ValueError):
        gray_to_qimage(np.zeros((10, 10), np.uint16))
    with pytest.raises(ValueError):
        bgr_to_qimage(np.zeros((10, 10), np.uint8))


# --- verdict pane ------------------------------------------------------------------------------

def test_low_confidence_follows_the_core_threshold():
    assert _prediction([0.1, 0.2, 0.45, 0.15, 0.1]).low_confidence
    assert not _prediction([0.02, 0.03, 0.9, 0.03, 0.02]).low_confidence
    assert LOW_CONFIDENCE == 0.5


def test_verdict_pane_shows_the_prediction(qtbot):
    from kneeoa_desktop.gui.verdict_pane import VerdictPane

    pane = VerdictPane()
    qtbot.addWidget(pane)
    pane.show()
    assert pane.probabilities() == (0.0,) * 5 and pane.grade_text() == "—"
    unsure = _prediction([0.1, 0.2, 0.45, 0.15, 0.1])
    pane.show_prediction(unsure)
    assert pane.grade_text() == "KL2" and pane._grade_name.text() == "minimal"
    assert pane.probabilities() == tuple(unsure.probabilities)
    assert pane._oa_value.text() == "70.0 %"
    assert pane.warning_visible() and "45.0 %" in pane.warning_text()
    assert [pane._values[g].text() for g in range(5)] == ["10.0 %", "20.0 %", "45.0 %", "15.0 %", "10.0 %"]
    assert pane._codes[2].font().bold() and not pane._codes[1].font().bold()
    sure = _prediction([0.01, 0.01, 0.03, 0.05, 0.9])
    pane.show_prediction(sure)
    assert pane.grade_text() == "KL4" and pane._grade_name.text() == "severe"
    assert not pane.warning_visible()
    assert [pane._labels[g].text() for g in range(5)] == ["none", "doubtful", "minimal", "moderate", "severe"]


def test_an_unusual_image_keeps_its_grade_with_the_note_beside_it(qtbot):
    from kneeoa_desktop.core.verdict.scope import NOTE_NOT_KNEE, NOTE_UNUSUAL
    from kneeoa_desktop.gui.verdict_pane import VerdictPane

    pane = VerdictPane()
    qtbot.addWidget(pane)
    pane.show()
    p = _prediction([0.01, 0.01, 0.03, 0.05, 0.9])
    pane.show_prediction(p, True, NOTE_UNUSUAL)
    assert pane.grade_text() == "KL4" and pane._scope.isVisible()
    assert pane._scope.text() == "Unusual image for this model; check the grade."
    pane.show_prediction(p, True, None)
    assert not pane._scope.isVisible()
    pane.show_prediction(p, False, NOTE_NOT_KNEE)  # refused: no grade at all
    assert pane._grade_name.text() == "Not graded" and NOTE_NOT_KNEE in pane._scope.text()


# --- settings ----------------------------------------------------------------------------------

def test_settings_survive_odd_values_and_keep_recent_files_short(tmp_path):
    store = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    store.setValue("overlay/brightness", "bright")
    store.setValue("paths/last_folder", str(tmp_path / "gone"))
    settings = Settings(store)
    assert settings.brightness == 1.0
    assert settings.last_folder == str(Path.home())
    settings.brightness = 9.0
    assert settings.brightness == 4.0
    for i in range(MAX_RECENT + 3):
        settings.add_recent(tmp_path / f"{i}.png")
    settings.add_recent(tmp_path / "3.png")
    files = settings.recent_files
    assert len(files) == MAX_RECENT and files[0] == str(tmp_path / "3.png") and len(set(files)) == len(files)
    settings.sync()
    again = Settings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    assert again.recent_files == files
    again.clear_recent()
    again.add_recent(tmp_path / "only.png")  # a one-item list must come back as a list
    assert Settings(again.store).recent_files == [str(tmp_path / "only.png")]


# --- worker --------------------------------------------------------------------------------------

def test_worker_builds_the_model_on_its_own_thread_and_skips_replaced_requests(qtbot, counting, knee_png):
    from kneeoa_desktop.gui.worker import Grader

    made_on = []

    def factory():
        made_on.append(threading.get_ident())
        return counting

    grader = Grader(factory)
    results, failures = [], []
    grader.worker.graded.connect(lambda r: results.append(r.request_id))
    grader.worker.failed.connect(lambda i, m: failures.append((i, m)))
    try:
        missing = grader.grade_file(knee_png.parent / "no-such-file.png")
        qtbot.waitUntil(lambda: bool(failures), timeout=GRADING_TIMEOUT_MS)
        assert failures == [(missing, "The file does not exist.")]
        ids = [grader.grade_file(knee_png) for _ in range(4)]
        qtbot.waitUntil(lambda: ids[-1] in results, timeout=GRADING_TIMEOUT_MS)
        assert made_on and made_on[0] != threading.get_ident()
        assert counting.calls < len(ids)  # requests replaced before their turn were skipped
        assert all(t != threading.get_ident() for t in counting.threads)
    finally:
        grader.shutdown()
    assert not grader.thread.isRunning()


# --- entry points ----------------------------------------------------------------------------

def test_console_script_and_module_start_the_gui():
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["scripts"]["kneeoa-desktop"] == "kneeoa_desktop.gui.app:main_entry"
    assert any(dep.startswith("PySide6-Essentials") for dep in project["dependencies"])
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = subprocess.run([sys.executable, "-m", "kneeoa_desktop", "--help"], capture_output=True, text=True,
                         env=env, cwd=REPO, timeout=60)
    assert out.returncode == 0 and out.stdout.startswith("usage: kneeoa-desktop") and "FILE" in out.stdout
