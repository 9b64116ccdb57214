"""The status bar: a busy indicator, the device and model in use, the last grading's time, and one
line saying what the program is doing.

It draws the ``ViewerState`` and keeps nothing of its own: whenever the model's status or the
request in flight changes, the indicator, the labels and the line are drawn again from it. The
window still writes one-off news over the line (``show_news``: "Graded …", "Exported …").
"""

from __future__ import annotations

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar

from . import i18n
from .resources import stylesheet
from .viewer_state import ModelStatus, ViewerState


class StatusBar(QStatusBar):
    def __init__(self, state: ViewerState, parent=None):
        super().__init__(parent)
        self._state = state
        self._grading_seconds: float | None = None
        self.setStyleSheet(stylesheet("status_bar"))
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setFixedSize(90, 12)
        self.busy.setTextVisible(False)
        self.busy.hide()
        self.device_label = QLabel()
        self.model_label = QLabel()
        self.timing_label = QLabel()
        self.addPermanentWidget(self.busy)
        for label in (self.device_label, self.model_label, self.timing_label):
            self.addPermanentWidget(label)
        state.status_changed.connect(self.redraw)
        self.redraw()
        self._show_timing()

    def redraw(self) -> None:
        """Indicator, model labels and the line, from the state."""
        self.busy.setVisible(self._state.busy or self._state.model.loading)
        self._show_model()
        self.show_news(None)

    def show_news(self, text: str | None) -> None:
        """Say ``text`` on the line, or (None) what the program is doing now."""
        if text is None:
            state = self._state
            if state.model.loading:
                text = self.tr("Loading model…")
            elif state.pending is not None:
                text = self.tr("Grading {0}…").format(state.pending.name)
            elif state.model is ModelStatus.FAILED:
                text = self.tr("Model unavailable")
            else:
                text = self.tr("Ready")
        self.showMessage(text)

    def set_grading_time(self, seconds: float | None) -> None:
        """The shown result took ``seconds`` to read and grade (None: nothing is shown)."""
        self._grading_seconds = seconds
        self._show_timing()

    def _show_model(self) -> None:
        info = self._state.model_info
        if info is not None:  # the state keeps it only while the model is ready
            self.device_label.setText(self.tr("Device: {0}").format(info.device))
            if info.origin is not None and not info.origin.bundled:
                self.model_label.setText(self.tr("Model: {0} (downloaded)").format(info.tag))
            else:
                self.model_label.setText(self.tr("Model: {0}").format(info.tag))
            self.model_label.setToolTip(i18n.describe_origin(info.origin) if info.origin is not None else "")
        elif self._state.model_error is not None:  # failed, or a retry after a failure still loading
            self.device_label.setText(self.tr("Device: —"))
            self.model_label.setText(self.tr("Model: unavailable"))
            self.model_label.setToolTip(i18n.core_message(self._state.model_error))
        else:
            self.device_label.setText(self.tr("Device: —"))
            self.model_label.setText(self.tr("Model: loading…"))
            self.model_label.setToolTip("")

    def _show_timing(self) -> None:
        if self._grading_seconds is None:
            self.timing_label.setText(self.tr("Last grading: —"))
        else:
            self.timing_label.setText(self.tr("Last grading: {0} ms").format(f"{1000 * self._grading_seconds:.0f}"))

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.redraw()
            self._show_timing()
        super().changeEvent(event)
