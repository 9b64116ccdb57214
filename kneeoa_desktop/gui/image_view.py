"""The left pane: the radiograph with its evidence overlay, zoom, pan and region drawing.

Fits the image to the pane until the user zooms (wheel) or pans (drag); "Fit to window"
returns to fitting. In region mode a drag draws a square (a knee joint is roughly square and
the network's input is), and releasing the button reports it in image pixels.

Every graded knee stays outlined and labelled R or L (nothing when the side is unknown): the
selected one with a heavier line, a knee outside what the model can grade in the warning
colour. A click on a knee (outside region mode) reports its index.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (QFrame, QGraphicsItem, QGraphicsPixmapItem, QGraphicsRectItem, QGraphicsScene,
                               QGraphicsSimpleTextItem, QGraphicsView)

BACKGROUND = QColor("#1d1f22")
REGION_COLOUR = QColor(255, 215, 0)  # the export marks the graded region in the same gold
OUT_OF_SCOPE_COLOUR = QColor(230, 60, 60)  # and a knee it cannot grade in the same red
DRAWING_COLOUR = QColor(0, 200, 255)
SELECTED_WIDTH, OTHER_WIDTH = 3.0, 1.5
# Zoom limits relative to "fit to window".
MIN_ZOOM, MAX_ZOOM = 0.25, 40.0
# One wheel notch (120 units) zooms by about 20 %.
WHEEL_STEP = 1.2 ** (1 / 120)
# A drag shorter than this (screen pixels) is a click, not a region.
MIN_DRAG = 6


@dataclass(frozen=True)
class KneeMark:
    """What the view draws for one knee: its outline (image pixels; None: the whole image,
    not outlined), its side letter and whether the model can grade it."""

    rect: tuple[int, int, int, int] | None
    label: str = ""
    in_scope: bool = True


class ImageView(QGraphicsView):
    region_selected = Signal(QRect)  # image pixels
    region_mode_changed = Signal(bool)
    knee_clicked = Signal(int)  # index of the knee under a click

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self._pixmap = QGraphicsPixmapItem()
        self._pixmap.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene().addItem(self._pixmap)
        self._marks: list[KneeMark] = []
        self._mark_items: list[tuple[QGraphicsRectItem, QGraphicsSimpleTextItem]] = []
        self._selected = 0
        self._click: QPointF | None = None
        self._drawing = self._outline(DRAWING_COLOUR, Qt.PenStyle.DashLine)
        self._has_image = False
        self._fitting = True
        self._region_mode = False
        self._anchor: QPointF | None = None
        self._placeholder = ""
        self.setBackgroundBrush(BACKGROUND)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setRenderHints(QPainter.RenderHint.SmoothPixmapTransform | QPainter.RenderHint.Antialiasing)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        # Drops are the main window's business wherever they land, the image included.
        self.setAcceptDrops(False)
        self.viewport().setAcceptDrops(False)
        self.setMinimumSize(320, 320)

    def _outline(self, colour: QColor, style: Qt.PenStyle) -> QGraphicsRectItem:
        pen = QPen(colour, 2, style)
        pen.setCosmetic(True)  # same width at every zoom
        item = QGraphicsRectItem()
        item.setPen(pen)
        item.setZValue(1)
        item.hide()
        self.scene().addItem(item)
        return item

    # --- content ---------------------------------------------------------------------------

    def set_placeholder(self, text: str) -> None:
        self._placeholder = text
        self.viewport().update()

    def set_image(self, image: QImage, *, fit: bool = True) -> None:
        """Show a new picture; ``fit`` re-fits the view (a new file), else keeps zoom and pan."""
        self._pixmap.setPixmap(QPixmap.fromImage(image))
        self._pixmap.setScale(1.0)
        self.scene().setSceneRect(QRectF(self._pixmap.pixmap().rect()))
        self._has_image = True
        if fit:
            self.fit_to_window()
        self.viewport().update()

    def update_image(self, image: QImage, scale: float = 1.0) -> None:
        """Replace the picture's pixels, keeping zoom and pan: the slider's path. A reduced
        preview is drawn ``scale`` times larger, so that it covers the same scene area."""
        self._pixmap.setPixmap(QPixmap.fromImage(image))
        self._pixmap.setScale(scale)

    def shown_image(self) -> QImage:
        return self._pixmap.pixmap().toImage()

    def shown_scale(self) -> float:
        return self._pixmap.scale()

    def has_image(self) -> bool:
        return self._has_image

    def set_knees(self, marks: list[KneeMark], selected: int = 0) -> None:
        """Outline every knee; ``selected`` is drawn emphasised."""
        for outline, label in self._mark_items:
            self.scene().removeItem(outline)
            self.scene().removeItem(label)
        self._marks, self._mark_items = list(marks), []
        for mark in self._marks:
            outline = QGraphicsRectItem()
            outline.setZValue(1)
            label = QGraphicsSimpleTextItem(mark.label)
            label.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)  # legible at any zoom
            label.setZValue(2)
            font = QFont(self.font())
            font.setBold(True)
            font.setPointSizeF(font.pointSizeF() * 1.6)
            label.setFont(font)
            self.scene().addItem(outline)
            self.scene().addItem(label)
            if mark.rect is None:
                outline.hide()
                label.hide()
            else:
                outline.setRect(QRectF(*mark.rect))
                label.setPos(mark.rect[0], mark.rect[1])
                label.setVisible(bool(mark.label))
            self._mark_items.append((outline, label))
        self.select_knee(selected)

    def select_knee(self, index: int) -> None:
        self._selected = index
        for i, (mark, (outline, label)) in enumerate(zip(self._marks, self._mark_items)):
            chosen = i == index
            colour = REGION_COLOUR if mark.in_scope else OUT_OF_SCOPE_COLOUR
            if not chosen and len(self._marks) > 1:
                colour = QColor(colour)
                colour.setAlphaF(0.75)
            pen = QPen(colour, SELECTED_WIDTH if chosen else OTHER_WIDTH,
                       Qt.PenStyle.SolidLine if chosen else Qt.PenStyle.DashLine)
            pen.setCosmetic(True)  # same width at every zoom
            outline.setPen(pen)
            label.setBrush(colour)
            label.setPen(QPen(QColor(0, 0, 0, 160), 0.6))  # a dark rim keeps the letter readable on bone
            label.setOpacity(1.0 if chosen else 0.8)

    def knee_marks(self) -> list[tuple[QRect, str, bool, bool]]:
        """(outline, label, in scope, selected) of every outlined knee, for tests and the curious."""
        return [(outline.rect().toRect(), label.text() if label.isVisible() else "", mark.in_scope,
                 i == self._selected)
                for i, (mark, (outline, label)) in enumerate(zip(self._marks, self._mark_items))
                if outline.isVisible()]

    def graded_region(self) -> QRect | None:
        """The selected knee's outline, or None when the whole image was graded."""
        if 0 <= self._selected < len(self._mark_items):
            outline = self._mark_items[self._selected][0]
            return outline.rect().toRect() if outline.isVisible() else None
        return None

    def knee_at(self, point: QPointF) -> int | None:
        """Index of the knee outlined under ``point`` (scene coordinates); the smallest wins."""
        hits = [(m.rect[2] * m.rect[3], i) for i, m in enumerate(self._marks)
                if m.rect is not None and QRectF(*m.rect).contains(point)]
        return min(hits)[1] if hits else None

    # --- zoom and pan ------------------------------------------------------------------------

    def fit_to_window(self) -> None:
        self._fitting = True
        if self._has_image:
            self.fitInView(self._pixmap, Qt.AspectRatioMode.KeepAspectRatio)

    def zoom(self) -> float:
        """Current scale relative to fitting the image into the pane."""
        return self.transform().m11() / self._fit_scale() if self._has_image else 1.0

    def zoom_by(self, factor: float) -> None:
        if not self._has_image:
            return
        target = min(max(self.zoom() * factor, MIN_ZOOM), MAX_ZOOM)
        factor = target / self.zoom()
        if abs(factor - 1.0) > 1e-9:
            self._fitting = False
            self.scale(factor, factor)

    def _fit_scale(self) -> float:
        rect = self.sceneRect()  # the full image, even while a reduced preview is drawn
        if rect.isEmpty():
            return 1.0
        view = self.viewport().rect().adjusted(2, 2, -2, -2)  # fitInView keeps a 2-pixel margin
        return max(1e-6, min(view.width() / rect.width(), view.height() / rect.height()))

    def wheelEvent(self, event) -> None:
        steps = event.angleDelta().y() or event.angleDelta().x()
        if steps and self._has_image:
            self.zoom_by(WHEEL_STEP ** steps)
            event.accept()
        else:
            super().wheelEvent(event)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._fitting:
            self.fit_to_window()

    # --- region drawing ----------------------------------------------------------------------

    def region_mode(self) -> bool:
        return self._region_mode

    def set_region_mode(self, enabled: bool) -> None:
        if enabled == self._region_mode:
            return
        self._region_mode = enabled
        self._anchor = None
        self._drawing.hide()
        if enabled:
            self.setDragMode(QGraphicsView.DragMode.NoDrag)
            self.viewport().setCursor(Qt.CursorShape.CrossCursor)
        else:
            self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
            self.viewport().unsetCursor()
        self.region_mode_changed.emit(enabled)

    def _clamped(self, point: QPointF) -> QPointF:
        bounds = self.sceneRect()
        return QPointF(min(max(point.x(), bounds.left()), bounds.right()),
                       min(max(point.y(), bounds.top()), bounds.bottom()))

    def _square(self, anchor: QPointF, point: QPointF) -> QRectF:
        """The largest square from ``anchor`` towards ``point`` that stays inside the image."""
        bounds = self.sceneRect()
        dx, dy = point.x() - anchor.x(), point.y() - anchor.y()
        room_x = bounds.right() - anchor.x() if dx >= 0 else anchor.x() - bounds.left()
        room_y = bounds.bottom() - anchor.y() if dy >= 0 else anchor.y() - bounds.top()
        side = min(max(abs(dx), abs(dy)), room_x, room_y)
        x = anchor.x() if dx >= 0 else anchor.x() - side
        y = anchor.y() if dy >= 0 else anchor.y() - side
        return QRectF(x, y, side, side)

    def mousePressEvent(self, event) -> None:
        if not self._region_mode and event.button() == Qt.MouseButton.LeftButton:
            self._click = event.position()  # a click, unless it turns into a pan
        if self._region_mode and self._has_image and event.button() == Qt.MouseButton.LeftButton:
            self._anchor = self._clamped(self.mapToScene(event.position().toPoint()))
            self._press = event.position()
            self._drawing.setRect(QRectF(self._anchor, self._anchor))
            self._drawing.show()
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if self._region_mode and self._anchor is not None:
            self._drawing.setRect(self._square(self._anchor, self.mapToScene(event.position().toPoint())))
            event.accept()
            return
        if event.buttons() & Qt.MouseButton.LeftButton and not self._region_mode:
            self._fitting = False  # the user pans: stop re-fitting on resize
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if self._region_mode and self._anchor is not None and event.button() == Qt.MouseButton.LeftButton:
            square = self._square(self._anchor, self.mapToScene(event.position().toPoint()))
            moved = (event.position() - self._press).manhattanLength()
            self._anchor = None
            self._drawing.hide()
            if moved >= MIN_DRAG and square.width() >= 1:
                side = round(square.width())
                self.set_region_mode(False)
                self.region_selected.emit(QRect(round(square.x()), round(square.y()), side, side))
            event.accept()
            return
        click, self._click = self._click, None
        super().mouseReleaseEvent(event)
        if (click is not None and event.button() == Qt.MouseButton.LeftButton and self._has_image
                and (event.position() - click).manhattanLength() < MIN_DRAG):
            index = self.knee_at(self.mapToScene(event.position().toPoint()))
            if index is not None:
                self.knee_clicked.emit(index)

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Escape and self._region_mode:
            self.set_region_mode(False)
            event.accept()
            return
        super().keyPressEvent(event)

    # --- empty state -------------------------------------------------------------------------

    def drawForeground(self, painter: QPainter, rect) -> None:
        super().drawForeground(painter, rect)
        if self._has_image or not self._placeholder:
            return
        painter.save()
        painter.resetTransform()
        painter.setPen(QColor("#9aa0a6"))
        font = painter.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        painter.setFont(font)
        area = self.viewport().rect().adjusted(40, 40, -40, -40)
        painter.drawText(area, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._placeholder)
        painter.restore()

    def clear(self) -> None:
        self._pixmap.setPixmap(QPixmap())
        self._has_image = False
        self.set_knees([])
        self.resetTransform()
        self.viewport().update()
