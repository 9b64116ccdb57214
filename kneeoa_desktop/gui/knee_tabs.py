"""The knee tabs above the verdict: one per knee found on a film, hidden when there is one.

A bilateral film gives two tabs, "Right knee (R)" and "Left knee (L)" (the patient's right
first, as the core orders them); a knee the model cannot grade carries a warning sign. The
tabs only choose which knee's verdict is shown; they never start a grading.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, Signal
from PySide6.QtWidgets import QTabBar


@dataclass(frozen=True)
class KneeTab:
    side: str | None  # "right", "left" or None
    in_scope: bool = True


class KneeTabs(QTabBar):
    knee_selected = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._knees: list[KneeTab] = []
        self.setExpanding(True)
        self.setDrawBase(False)
        self.setDocumentMode(True)
        self.currentChanged.connect(self._on_current)
        self.setStyleSheet(
            "QTabBar::tab { padding: 6px 12px; border: 1px solid #dfe2e6; border-bottom: 2px solid #dfe2e6;"
            " background: #f0f1f3; color: #3c4249; }"
            "QTabBar::tab:selected { background: #ffffff; border-bottom: 2px solid #b8237f; font-weight: 600; }")
        self.hide()

    def set_knees(self, knees: list[KneeTab], current: int = 0) -> None:
        """New knees (a new grading): one tab each, ``current`` selected, no signal sent."""
        self.blockSignals(True)
        while self.count():
            self.removeTab(0)
        self._knees = list(knees)
        for _ in self._knees:
            self.addTab("")
        if self._knees:
            self.setCurrentIndex(current)
        self.blockSignals(False)
        self.setVisible(len(self._knees) >= 2)
        self.retranslate()

    def select(self, index: int) -> None:
        """Show ``index`` as the current tab without sending ``knee_selected``."""
        self.blockSignals(True)
        self.setCurrentIndex(index)
        self.blockSignals(False)

    def tab_texts(self) -> list[str]:
        return [self.tabText(i) for i in range(self.count())]

    def _on_current(self, index: int) -> None:
        if index >= 0:
            self.knee_selected.emit(index)

    def retranslate(self) -> None:
        for i, knee in enumerate(self._knees):
            if knee.side == "right":
                text = self.tr("Right knee (R)")
            elif knee.side == "left":
                text = self.tr("Left knee (L)")
            else:
                text = self.tr("Knee {0}").format(i + 1)
            self.setTabText(i, text if knee.in_scope else f"⚠ {text}")
            self.setTabToolTip(i, "" if knee.in_scope else self.tr("Not graded: outside what the model can grade"))

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
