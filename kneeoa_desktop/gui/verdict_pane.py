"""The verdict: predicted KL grade, the five probability bars, OA probability, confidence.

Shows a ``Prediction`` exactly as the core computed it; nothing is recalculated here except
turning probabilities into percentages for reading. A region the core judged outside what the
model can grade (lateral view, implant, not a knee) gets no grade: "Not graded", the core's
reason as a warning, and grey bars that show the probabilities without endorsing any of them.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from ..core.verdict.grades import KL_LABELS, LOW_CONFIDENCE, NUM_GRADES
from ..core.verdict.prediction import Prediction
from . import i18n

ACCENT = QColor("#b8237f")  # the overlay's magenta, darkened for text on white
NEUTRAL_BAR = QColor("#8d96a0")
TRACK = QColor("#e6e8eb")



#: The scope box: red when the region is refused, amber for a note beside a grade that is shown.
_REFUSED_STYLE = ("QLabel#outOfScope { background: #fdecec; color: #8a1010; border: 1px solid #e07b7b;"
                  " border-radius: 4px; padding: 6px 8px; }")
_CAUTION_STYLE = ("QLabel#outOfScope { background: #fff4d6; color: #6b4800; border: 1px solid #e6b84d;"
                  " border-radius: 4px; padding: 6px 8px; }")

class ProbabilityBar(QWidget):
    """A thin horizontal bar for one probability; the predicted grade's bar is in the accent colour."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._value = 0.0
        self._highlight = False
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(80)

    def sizeHint(self) -> QSize:
        return QSize(160, 14)

    def value(self) -> float:
        return self._value

    def highlighted(self) -> bool:
        return self._highlight

    def set_value(self, value: float, highlight: bool = False) -> None:
        self._value = float(value)
        self._highlight = highlight
        self.update()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        track = QRectF(self.rect()).adjusted(0, 2, 0, -2)
        radius = track.height() / 2
        painter.setBrush(TRACK)
        painter.drawRoundedRect(track, radius, radius)
        share = min(max(self._value, 0.0), 1.0)
        if share > 0:
            filled = QRectF(track.left(), track.top(), max(track.height(), track.width() * share), track.height())
            painter.setBrush(ACCENT if self._highlight else NEUTRAL_BAR)
            painter.drawRoundedRect(filled, radius, radius)


def _percent(p: float) -> str:
    return f"{100 * p:.1f} %"


class VerdictPane(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self._prediction: Prediction | None = None
        self._in_scope = True
        self._scope_note: str | None = None

        self._caption = QLabel()
        self._caption.setObjectName("caption")
        self._grade = QLabel("—")
        self._grade.setObjectName("grade")
        big = QFont(self.font())
        big.setPointSizeF(big.pointSizeF() * 2.6)
        big.setBold(True)
        self._grade.setFont(big)
        self._grade_name = QLabel()
        name_font = QFont(self.font())
        name_font.setPointSizeF(name_font.pointSizeF() * 1.35)
        self._grade_name.setFont(name_font)
        headline = QHBoxLayout()
        headline.setSpacing(10)
        headline.addWidget(self._grade, 0, Qt.AlignmentFlag.AlignBaseline)
        headline.addWidget(self._grade_name, 1, Qt.AlignmentFlag.AlignBaseline)

        self._oa_caption = QLabel()
        self._oa_value = QLabel("—")
        strong = QFont(self.font())
        strong.setBold(True)
        strong.setPointSizeF(strong.pointSizeF() * 1.15)
        self._oa_value.setFont(strong)
        oa_row = QHBoxLayout()
        oa_row.addWidget(self._oa_caption, 1)
        oa_row.addWidget(self._oa_value, 0, Qt.AlignmentFlag.AlignRight)

        self._warning = QLabel()
        self._warning.setObjectName("lowConfidence")
        self._warning.setWordWrap(True)
        self._warning.setStyleSheet(
            "QLabel#lowConfidence { background: #fff4d6; color: #6b4800; border: 1px solid #e6b84d;"
            " border-radius: 4px; padding: 6px 8px; }")
        self._warning.hide()
        self._scope = QLabel()
        self._scope.setObjectName("outOfScope")
        self._scope.setWordWrap(True)
        self._scope.setStyleSheet(_REFUSED_STYLE)
        self._scope.hide()
        # "Calibrated for SITE (N films, date)" under a grade made with a site profile.
        self._site = QLabel()
        self._site.setObjectName("siteProfile")
        self._site.setWordWrap(True)
        self._site.setStyleSheet("QLabel#siteProfile { color: #4a5560; }")
        self._site.hide()
        self._site_text = ""

        self._bars_caption = QLabel()
        self._bars_caption.setObjectName("caption")
        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(6)
        grid.setColumnStretch(2, 1)
        self._codes: list[QLabel] = []
        self._labels: list[QLabel] = []
        self._bars: list[ProbabilityBar] = []
        self._values: list[QLabel] = []
        for g in range(NUM_GRADES):
            code, label, bar, value = QLabel(KL_LABELS[g]), QLabel(), ProbabilityBar(), QLabel("—")
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            value.setMinimumWidth(value.fontMetrics().horizontalAdvance("100.0 %") + 4)
            grid.addWidget(code, g, 0)
            grid.addWidget(label, g, 1)
            grid.addWidget(bar, g, 2)
            grid.addWidget(value, g, 3)
            self._codes.append(code)
            self._labels.append(label)
            self._bars.append(bar)
            self._values.append(value)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self._caption)
        layout.addLayout(headline)
        layout.addWidget(self._site)
        layout.addLayout(oa_row)
        layout.addWidget(self._warning)
        layout.addWidget(self._scope)
        layout.addSpacing(8)
        rule = QFrame()
        rule.setFrameShape(QFrame.Shape.HLine)
        rule.setStyleSheet("color: #dfe2e6;")
        layout.addWidget(rule)
        layout.addWidget(self._bars_caption)
        layout.addLayout(grid)
        self.retranslate()

    # --- what tests and the window read back -------------------------------------------------

    def probabilities(self) -> tuple[float, ...]:
        return tuple(bar.value() for bar in self._bars)

    def grade_text(self) -> str:
        return self._grade.text()

    def warning_visible(self) -> bool:
        return not self._warning.isHidden()

    def warning_text(self) -> str:
        return self._warning.text()

    def scope_warning_visible(self) -> bool:
        return not self._scope.isHidden()

    def scope_warning_text(self) -> str:
        return self._scope.text()

    def site_text(self) -> str:
        """The "calibrated for" line as shown ("" when hidden)."""
        return "" if self._site.isHidden() else self._site.text()

    def set_site_text(self, text: str) -> None:
        """The translated "calibrated for" line, shown under grades made with a site profile."""
        self._site_text = text
        self._refresh()

    def highlighted_grade(self) -> int | None:
        """The grade whose bar is in the accent colour (None: no grade is endorsed)."""
        return next((g for g, bar in enumerate(self._bars) if bar.highlighted()), None)

    # --- content -------------------------------------------------------------------------------

    def show_prediction(self, prediction: Prediction | None, in_scope: bool = True,
                        scope_note: str | None = None) -> None:
        """Show ``prediction``; ``in_scope`` False shows it as not graded, for ``scope_note``'s reason."""
        self._prediction = prediction
        self._in_scope = in_scope
        self._scope_note = scope_note
        self._refresh()

    def _refresh(self) -> None:
        p = self._prediction
        self._grade.show()
        self._grade_name.setStyleSheet("")
        if p is None:
            self._grade.setText("—")
            self._grade.setStyleSheet("")
            self._grade_name.setText(self.tr("no image graded yet"))
            self._oa_value.setText("—")
            self._warning.hide()
            self._scope.hide()
            self._site.hide()
            for g in range(NUM_GRADES):
                self._bars[g].set_value(0.0)
                self._values[g].setText("—")
                self._set_row_text(g, False)
            return
        if not self._in_scope:  # described, never shown as a confident grade
            self._scope.setStyleSheet(_REFUSED_STYLE)
            self._grade.setText("")  # no big grade at all: nothing to misread at a glance
            self._grade.hide()
            self._grade_name.setText(self.tr("Not graded"))
            self._grade_name.setStyleSheet("color: #8a1010; font-weight: 600;")
            self._oa_value.setText("—")
            self._warning.hide()
            self._site.hide()
            note = i18n.core_message(self._scope_note) if self._scope_note else ""
            self._scope.setText("\n".join(filter(None, (
                self.tr("Outside what the model can grade:"), note,
                self.tr("The probabilities below are shown for reference only.")))))
            self._scope.show()
            for g in range(NUM_GRADES):
                self._bars[g].set_value(float(p.probabilities[g]), False)
                self._values[g].setText(_percent(float(p.probabilities[g])))
                self._set_row_text(g, False, muted=True)
            return
        # In scope with a note ("unusual image; check the grade"): the grade is shown, and the
        # note beside it.
        if self._scope_note:
            self._scope.setText(i18n.core_message(self._scope_note))
            self._scope.setStyleSheet(_CAUTION_STYLE)  # a caution, not a refusal: amber, not red
            self._scope.show()
        else:
            self._scope.hide()
        grade = p.grade
        self._site.setText(self._site_text or p.site)
        self._site.setVisible(bool(p.site))
        self._grade.setText(KL_LABELS[grade])
        self._grade.setStyleSheet(f"color: {ACCENT.name()};")
        self._grade_name.setText(i18n.grade_name(grade))
        self._oa_value.setText(_percent(p.oa_probability))
        self._warning.setText(self.tr(
            "Low confidence: no grade has more than {0} probability (below {1}). "
            "Weigh this result with particular care.").format(
                _percent(p.confidence), f"{100 * LOW_CONFIDENCE:.0f} %"))
        self._warning.setVisible(p.low_confidence)
        for g in range(NUM_GRADES):
            chosen = g == grade
            self._bars[g].set_value(float(p.probabilities[g]), chosen)
            self._values[g].setText(_percent(float(p.probabilities[g])))
            self._set_row_text(g, chosen)

    def _set_row_text(self, grade: int, chosen: bool, muted: bool = False) -> None:
        self._labels[grade].setText(i18n.grade_name(grade))
        for label in (self._codes[grade], self._labels[grade], self._values[grade]):
            font = label.font()
            font.setBold(chosen)
            label.setFont(font)
            label.setStyleSheet(f"color: {NEUTRAL_BAR.name()};" if muted else "")

    def retranslate(self) -> None:
        self._caption.setText(self.tr("Predicted Kellgren–Lawrence grade"))
        self._oa_caption.setText(self.tr("Osteoarthritis (KL ≥ 2) probability"))
        self._bars_caption.setText(self.tr("Probability of each grade"))
        self._refresh()

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
