"""One non-blocking message box per window: a new sentence replaces the box still showing.

Boxes are window-modal and opened with ``open()``, not ``exec()``: the event loop (the grading
worker's results, a download's progress, the tests) goes on behind them.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget


class MessageSlot:
    """The message box its owner shows now, if any."""

    def __init__(self, owner: QWidget):
        self._owner = owner
        self.box: QMessageBox | None = None

    def new(self, kind: QMessageBox.Icon, title: str, text: str, informative: str = "") -> QMessageBox:
        """Close the current box and make the next one; the caller adds buttons, then calls open()."""
        self.close()
        box = QMessageBox(kind, title, text, QMessageBox.StandardButton.NoButton, self._owner)
        if informative:
            box.setInformativeText(informative)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(lambda _result, b=box: self._forget(b))
        self.box = box
        return box

    def close(self) -> None:
        if self.box is not None:
            self.box.close()

    def _forget(self, box: QMessageBox) -> None:
        if self.box is box:
            self.box = None
