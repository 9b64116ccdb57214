"""Fixtures and helpers for the GUI tests (pytest-qt, offscreen).

One model is loaded per test session (conftest's ``predictor``) and handed to each window
through a predictor factory that the worker thread calls, as it calls ``Predictor`` in the
real program. Settings live in a temporary INI file, never in the user's own settings.
Every window is closed at teardown, and its worker thread must have stopped.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PySide6.QtCore import QMimeData, QPoint, QPointF, QSettings, Qt, QUrl  # noqa: E402
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage, QMouseEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from kneeoa_desktop.gui.settings import Settings  # noqa: E402

GRADING_TIMEOUT_MS = 60_000  # the first grading may include loading the model on a busy machine


def qimage_to_bgr(image: QImage) -> np.ndarray:
    """Any QImage as an (h, w, 3) uint8 BGR array (a copy): to compare what is shown with what
    the core made (the program itself only converts numpy → QImage)."""
    image = image.convertToFormat(QImage.Format.Format_BGR888)
    height, width, stride = image.height(), image.width(), image.bytesPerLine()
    rows = np.frombuffer(image.constBits(), np.uint8, count=stride * height).reshape(height, stride)
    return rows[:, :width * 3].reshape(height, width, 3).copy()


class CountingPredictor:
    """The real predictor, counting network runs (and optionally slowed down to test superseding).

    The pipeline runs the network once per film, through ``predict_array`` (every knee in one batch).
    """

    def __init__(self, inner, delay: float = 0.0):
        self._inner = inner
        self.delay = delay
        self.calls = 0
        self.threads: list[int] = []

    def __getattr__(self, name):  # manifest, device, evidence_method, … of the real one
        return getattr(self._inner, name)

    def predict_array(self, batch, with_features=False):
        self.calls += 1
        self.threads.append(threading.get_ident())
        if self.delay:
            time.sleep(self.delay)
        return self._inner.predict_array(batch, with_features=with_features)


@pytest.fixture
def gui_settings(tmp_path) -> Settings:
    return Settings(QSettings(str(tmp_path / "kneeoa-settings.ini"), QSettings.Format.IniFormat))


@pytest.fixture
def counting(predictor) -> CountingPredictor:
    return CountingPredictor(predictor)


@pytest.fixture
def make_window(qtbot, counting, gui_settings):
    """make_window(**options) -> a shown MainWindow whose worker uses the session's model."""
    from kneeoa_desktop.gui import i18n
    from kneeoa_desktop.gui.main_window import MainWindow

    windows = []
    languages = i18n.LanguageSwitcher(QApplication.instance())
    languages.apply("en")

    def make(settings: Settings | None = None, factory=None, start: bool = True):
        window = MainWindow(settings or gui_settings, languages, factory or (lambda: counting))
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        if start:
            window.start()
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.close()
        assert not window.grader.thread.isRunning(), "the worker thread must stop with the window"
    languages.apply("en")  # the next test starts in English whatever this one chose


def wait_for_result(qtbot, window, path: Path | None = None, roi="any"):
    """Wait until nothing is pending and the shown result is for ``path`` (and ``roi``)."""
    def done():
        shown = window.shown()
        return (not window.is_busy() and shown is not None
                and (path is None or shown.path == Path(path))
                and (roi == "any" or shown.prediction.roi == roi))
    qtbot.waitUntil(done, timeout=GRADING_TIMEOUT_MS)
    return window.shown()


def core_probabilities(predictor, path, roi=None) -> np.ndarray:
    """What the core says for this file (and region), computed here independently of the GUI."""
    from kneeoa_desktop.core.film.imaging import load_image

    image = load_image(path)
    if roi is not None:
        image = image.crop(*roi)
    return predictor.predict(image).probabilities


def assert_bars_match(window, probabilities) -> None:
    shown = np.array(window.verdict.probabilities())
    np.testing.assert_allclose(shown, probabilities, rtol=0, atol=1e-6)


def widget_accepting_drop(window, point: QPoint):
    """The widget Qt would deliver a drop at ``point`` (window coordinates) to: the first
    widget under the point, or its nearest ancestor, that accepts drops."""
    widget = window.childAt(point) or window
    while widget is not None and not widget.acceptDrops():
        widget = widget.parentWidget()
    return widget


def drop_files(widget, paths, point: QPoint | None = None) -> tuple[bool, bool]:
    """Send a drag-enter and a drop of ``paths`` to ``widget``; returns (enter accepted, drop accepted)."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return drop_mime(widget, mime, point)


def drop_mime(widget, mime: QMimeData, point: QPoint | None = None) -> tuple[bool, bool]:
    point = point or widget.rect().center()
    enter = QDragEnterEvent(QPointF(point), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, enter)
    if not enter.isAccepted():
        return False, False
    drop = QDropEvent(QPointF(point), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, drop)
    return True, drop.isAccepted()


def mouse_drag(widget, start: QPoint, end: QPoint, steps: int = 5) -> None:
    """Press, move (with the button held) and release the left button on ``widget``."""
    def send(kind, pos, button, buttons):
        local = QPointF(pos)
        event = QMouseEvent(kind, local, QPointF(widget.mapToGlobal(pos)), button, buttons,
                            Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(widget, event)

    left = Qt.MouseButton.LeftButton
    send(QMouseEvent.Type.MouseButtonPress, start, left, left)
    for i in range(1, steps + 1):
        pos = start + (end - start) * (i / steps)
        send(QMouseEvent.Type.MouseMove, pos, Qt.MouseButton.NoButton, left)
    send(QMouseEvent.Type.MouseButtonRelease, end, left, Qt.MouseButton.NoButton)
