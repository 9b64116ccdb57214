"""The last line of defence on the GUI thread: an exception no code caught.

PySide6 hands an exception raised in a slot or a virtual method (paintEvent, …) to
``sys.excepthook`` and then carries on. The hook installed here writes the traceback to the log
file and tells the user one sentence; the program keeps running. It is installed by the
``kneeoa-desktop`` entry point only, never by ``launch()``, so that pytest-qt's own capture of
such exceptions keeps working in the tests.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt
from PySide6.QtWidgets import QApplication, QMessageBox

log = logging.getLogger("kneeoa.gui")

WITH_LOG = QT_TRANSLATE_NOOP("Unexpected", "An unexpected error occurred; details are in the log file {0}.")
WITHOUT_LOG = QT_TRANSLATE_NOOP("Unexpected", "An unexpected error occurred ({0}); the program goes on.")

_box: QMessageBox | None = None


def install_exception_hook(log_path: Path | None):
    """Route uncaught exceptions to the log and a one-sentence box; returns the hook."""
    previous = sys.excepthook

    def hook(kind, value, tb) -> None:
        if issubclass(kind, (KeyboardInterrupt, SystemExit)):
            previous(kind, value, tb)
            return
        try:
            log.error("unexpected error on the GUI thread", exc_info=(kind, value, tb))
            _tell_user(log_path, kind.__name__)
        except Exception:  # the hook must never raise: that would end in a second hook call, or worse
            previous(kind, value, tb)

    sys.excepthook = hook
    return hook


def _tell_user(log_path: Path | None, kind: str) -> None:
    global _box
    app = QApplication.instance()
    if app is None:
        return
    if _box is not None and _box.isVisible():
        return  # one box at a time: a fault in a paint event would otherwise pile them up
    if log_path is not None:
        text = QCoreApplication.translate("Unexpected", WITH_LOG).format(str(log_path))
    else:
        text = QCoreApplication.translate("Unexpected", WITHOUT_LOG).format(kind)
    box = QMessageBox(QMessageBox.Icon.Warning, "KneeOA Desktop", text, QMessageBox.StandardButton.Ok,
                      app.activeWindow())
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.destroyed.connect(_forget)
    _box = box
    box.open()


def _forget(*_args) -> None:
    global _box
    _box = None


def message_box() -> QMessageBox | None:
    return _box
