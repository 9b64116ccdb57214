"""Overlay controls: show/hide, brightness, and which grade's evidence to show.

The strip of five thumbnails shows each grade's evidence over the graded region; a click
selects that grade, as does the drop-down list (kept for keyboard users). Only signals leave
this widget; the window recomposes the overlay through the core.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QComboBox, QGridLayout, QGroupBox, QHBoxLayout, QLabel, QSlider,
                               QToolButton, QVBoxLayout)

from ..core.outputs.overlay import DEFAULT_BRIGHTNESS, MAX_BRIGHTNESS, MIN_BRIGHTNESS
from ..core.verdict.grades import KL_LABELS, NUM_GRADES
from . import i18n

# Slider steps per unit of brightness (the slider is integer).
STEPS = 10
THUMBNAIL_ICON = QSize(48, 48)


class OverlayControls(QGroupBox):
    visibility_changed = Signal(bool)
    brightness_changed = Signal(float)
    brightness_settled = Signal(float)  # the slider was let go
    grade_selected = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._predicted: int | None = None

        self.show_box = QCheckBox()
        self.show_box.setChecked(True)
        self.show_box.toggled.connect(self._on_visibility)

        self._brightness_label = QLabel()
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(round(MIN_BRIGHTNESS * STEPS), round(MAX_BRIGHTNESS * STEPS))
        self.slider.setPageStep(STEPS // 2)
        self.slider.setValue(round(DEFAULT_BRIGHTNESS * STEPS))
        self._brightness_value = QLabel()
        self._brightness_value.setMinimumWidth(self._brightness_value.fontMetrics().horizontalAdvance("4.0×") + 6)
        self._brightness_value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.slider.valueChanged.connect(self._on_slider)
        self.slider.sliderReleased.connect(lambda: self.brightness_settled.emit(self.brightness()))

        self._grade_label = QLabel()
        self.grade_combo = QComboBox()
        for _ in range(NUM_GRADES):
            self.grade_combo.addItem("")
        self.grade_combo.currentIndexChanged.connect(self._on_combo)

        self._strip_caption = QLabel()
        self._strip_caption.setObjectName("caption")
        self.thumbnails = QButtonGroup(self)
        self.thumbnails.setExclusive(True)
        strip = QHBoxLayout()
        strip.setSpacing(4)
        for g in range(NUM_GRADES):
            button = QToolButton()
            button.setCheckable(True)
            button.setText(KL_LABELS[g])
            button.setIconSize(THUMBNAIL_ICON)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
            button.setAutoRaise(True)
            self.thumbnails.addButton(button, g)
            strip.addWidget(button)
        self.thumbnails.idClicked.connect(self._on_thumbnail)

        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.addWidget(self._brightness_label, 0, 0)
        grid.addWidget(self.slider, 0, 1)
        grid.addWidget(self._brightness_value, 0, 2)
        grid.addWidget(self._grade_label, 1, 0)
        grid.addWidget(self.grade_combo, 1, 1, 1, 2)
        grid.setColumnStretch(1, 1)

        layout = QVBoxLayout(self)
        layout.setSpacing(8)
        layout.addWidget(self.show_box)
        layout.addLayout(grid)
        layout.addWidget(self._strip_caption)
        layout.addLayout(strip)
        self.setStyleSheet(
            "QToolButton { border: 2px solid transparent; border-radius: 4px; padding: 2px; }"
            "QToolButton:checked { border-color: #b8237f; background: #f8e9f3; }"
            "QToolButton:hover:!checked { border-color: #c9ced4; }")
        self.set_result(None, [])
        self.retranslate()

    # --- state ---------------------------------------------------------------------------------

    def brightness(self) -> float:
        return self.slider.value() / STEPS

    def set_brightness(self, value: float) -> None:
        self.slider.setValue(round(value * STEPS))

    def dragging(self) -> bool:
        return self.slider.isSliderDown()

    def overlay_visible(self) -> bool:
        return self.show_box.isChecked()

    def selected_grade(self) -> int:
        return self.grade_combo.currentIndex()

    def set_result(self, predicted: int | None, thumbnails: list[QImage]) -> None:
        """A new grading: thumbnails per grade, and the predicted grade selected."""
        self._predicted = predicted
        for g in range(NUM_GRADES):
            button = self.thumbnails.button(g)
            if g < len(thumbnails):
                button.setIcon(QIcon(QPixmap.fromImage(thumbnails[g])))
            else:
                button.setIcon(QIcon())
        enabled = predicted is not None
        for widget in (self.grade_combo, self.slider, self.show_box):
            widget.setEnabled(enabled)
        for button in self.thumbnails.buttons():
            button.setEnabled(enabled)
        self._retranslate_grades()
        if predicted is not None:
            self.select_grade(predicted, notify=False)

    def select_grade(self, grade: int, *, notify: bool = True) -> None:
        changed = grade != self.grade_combo.currentIndex()
        self.grade_combo.blockSignals(True)
        self.grade_combo.setCurrentIndex(grade)
        self.grade_combo.blockSignals(False)
        self.thumbnails.button(grade).setChecked(True)
        if notify and changed:
            self.grade_selected.emit(grade)

    # --- reactions -----------------------------------------------------------------------------

    def _on_visibility(self, visible: bool) -> None:
        self.slider.setEnabled(visible and self._predicted is not None)
        self.visibility_changed.emit(visible)

    def _on_slider(self, _value: int) -> None:
        self._brightness_value.setText(f"{self.brightness():.1f}×")
        self.brightness_changed.emit(self.brightness())

    def _on_combo(self, grade: int) -> None:
        if grade >= 0:
            self.thumbnails.button(grade).setChecked(True)
            self.grade_selected.emit(grade)

    def _on_thumbnail(self, grade: int) -> None:
        self.select_grade(grade)

    def retranslate(self) -> None:
        self.setTitle(self.tr("Evidence overlay"))
        self.show_box.setText(self.tr("Show evidence overlay"))
        self._brightness_label.setText(self.tr("Brightness"))
        self._brightness_value.setText(f"{self.brightness():.1f}×")
        self._grade_label.setText(self.tr("Evidence for"))
        self._strip_caption.setText(self.tr("Evidence of each grade (click to show)"))
        self._retranslate_grades()

    def _retranslate_grades(self) -> None:
        for g in range(NUM_GRADES):
            text = i18n.grade_title(g)
            if g == self._predicted:
                text = self.tr("{0} — predicted").format(text)
            self.grade_combo.setItemText(g, text)
            self.thumbnails.button(g).setToolTip(self.tr("Show the evidence for {0}").format(i18n.grade_title(g)))

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
