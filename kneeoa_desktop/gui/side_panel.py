"""The panel beside the radiograph: knee tabs, verdict, overlay controls, what was graded, disclaimer.

It draws the ``ViewerState`` (the shown film, its selected knee and evidence grade) and passes
the user's choices on through its parts' signals (``knee_tabs.knee_selected``, the overlay
controls' signals); it grades nothing and keeps nothing of its own. Its look comes from
``resources/styles/side_panel.qss``.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QVBoxLayout, QWidget

from . import i18n
from .knee_tabs import KneeTab, KneeTabs
from .overlay_controls import OverlayControls
from .resources import stylesheet
from .verdict_pane import VerdictPane
from .viewer_state import ViewerState


class SidePanel(QScrollArea):
    def __init__(self, state: ViewerState, parent=None):
        super().__init__(parent)
        self._state = state
        self.knee_tabs = KneeTabs()
        self.verdict = VerdictPane()
        self.controls = OverlayControls()

        self.source_caption = QLabel()
        self.source_caption.setObjectName("caption")
        self.source_info = QLabel()
        self.source_info.setWordWrap(True)
        self.source_info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.disclaimer = QLabel()
        self.disclaimer.setObjectName("disclaimer")
        self.disclaimer.setWordWrap(True)
        self.disclaimer.setAlignment(Qt.AlignmentFlag.AlignCenter)

        side = QWidget()
        side.setObjectName("sidePanel")
        layout = QVBoxLayout(side)
        layout.setContentsMargins(18, 16, 18, 14)
        layout.setSpacing(10)
        layout.addWidget(self.knee_tabs)
        layout.addWidget(self.verdict)
        layout.addSpacing(4)
        layout.addWidget(self.controls)
        layout.addWidget(self.source_caption)
        layout.addWidget(self.source_info)
        layout.addStretch(1)
        layout.addWidget(self.disclaimer)
        side.setStyleSheet(stylesheet("side_panel"))
        self.setWidget(side)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # The panel is never narrower than its content: nothing in it may be clipped.
        self.setMinimumWidth(side.minimumSizeHint().width() + self.verticalScrollBar().sizeHint().width())
        self.retranslate()

    def show_film(self) -> None:
        """A new film is shown: one tab per knee, then the selected knee's verdict."""
        shown = self._state.shown
        self.knee_tabs.set_knees([KneeTab(k.side, k.in_scope) for k in shown.knees], shown.selected)
        self.show_knee()

    def select_knee(self) -> None:
        """The user chose another knee of the same film."""
        self.knee_tabs.select(self._state.shown.selected)
        self.show_knee()

    def show_knee(self) -> None:
        """The selected knee's verdict, evidence thumbnails and evidence grade."""
        shown = self._state.shown
        knee = shown.knee
        self.verdict.show_prediction(knee.prediction, knee.in_scope, knee.scope_note)
        self.controls.set_result(knee.prediction.grade, shown.thumbnails)
        self.controls.select_grade(self._state.evidence_grade, notify=False)

    def show_source(self) -> None:
        """What was graded: the file, its size and depth, the region, the evidence shown."""
        shown = self._state.shown
        if shown is None:
            self.source_info.setText(self.tr("No image open."))
            return
        image, roi = shown.image, shown.prediction.roi
        lines = [shown.path.name,
                 self.tr("{0}×{1} pixels, {2}, {3}-bit").format(image.width, image.height, image.format,
                                                                image.bit_depth)]
        if roi is None:
            lines.append(self.tr("Graded: the whole image"))
        else:
            lines.append(self.tr("Graded: region {0}×{1} at ({2}, {3})").format(roi[2], roi[3], roi[0], roi[1]))
        lines.append(self.tr("Evidence shown: {0}").format(i18n.grade_title(self._state.evidence_grade)))
        self.source_info.setText("\n".join(lines))

    def retranslate(self) -> None:
        self.source_caption.setText(self.tr("Radiograph"))
        self.disclaimer.setText(i18n.disclaimer())
        self.show_source()

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
