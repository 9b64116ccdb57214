"""The main window: image pane on the left, verdict and overlay controls on the right.

It wires user actions (open, drop, recent files, region, export, language) to the grading
worker and to core calls, keeps the last shown ``GradedImage`` for overlay recomposition and
export, and reports every user error through ``show_error`` as one sentence in a
non-blocking message box, leaving the previous result on screen (and in the log file).

A model that cannot be loaded gets its own box (``show_model_failure``): a downloaded model can
be swapped for the bundled one there; a damaged bundled model can only be reinstalled. After a
download or a restore the worker reloads the model and the image on screen is graded again, so
that the verdict shown always comes from the model the status bar names.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QEvent, QRect, QSize, Qt, QUrl, Signal, Slot
from PySide6.QtGui import QAction, QActionGroup, QDesktopServices, QIcon, QKeySequence
from PySide6.QtWidgets import (QApplication, QFileDialog, QFrame, QLabel, QMainWindow, QMessageBox,
                               QProgressBar, QScrollArea, QSplitter, QVBoxLayout, QWidget)

from ..core import logs, model_store
from ..core.errors import KneeOAError
from ..core.export import default_export_name, export_result
from ..core.formats import IMAGE_SUFFIXES
from ..core.overlay import EvidenceOverlay
from . import i18n
from .about import about_html
from .image_view import ImageView, KneeMark
from .knee_tabs import KneeTab, KneeTabs
from .message_boxes import MessageSlot
from .model_dialog import ModelUpdateDialog
from .overlay_controls import OverlayControls
from .samples_menu import fill_samples_menu
from .qt_images import bgr_to_qimage
from .settings import Settings
from .verdict_pane import VerdictPane
from .worker import GradedImage, Grader, ModelInfo

log = logging.getLogger("kneeoa.gui")

APP_TITLE = "KneeOA Desktop"
SIDE_PANEL_WIDTH = 400


def icon(name: str) -> QIcon:
    """An icon from resources/icons (SVG, drawn for this program)."""
    from ..core.paths import resources_dir

    return QIcon(str(resources_dir() / "icons" / f"{name}.svg"))


def _local_files(mime) -> list[Path]:
    if not mime.hasUrls():
        return []
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]


class MainWindow(QMainWindow):
    # One sentence was shown to the user (after translation).
    error_shown = Signal(str)
    # A grading result is now on screen.
    result_shown = Signal(object)

    def __init__(self, settings: Settings | None = None, languages: i18n.LanguageSwitcher | None = None,
                 predictor_factory: Callable[[], object] | None = None):
        super().__init__()
        self._settings = settings or Settings()
        self._languages = languages or i18n.LanguageSwitcher(QApplication.instance())
        self._shown: GradedImage | None = None
        self._overlay: EvidenceOverlay | None = None
        self._preview_overlay: EvidenceOverlay | None = None
        self._evidence_grades: list[int] = []  # per knee: the grade whose evidence is shown
        self._pending_id: int | None = None
        self._pending_name = ""
        self._model_info: ModelInfo | None = None
        self._model_error: str | None = None
        self._model_loading = False
        self._started = False
        self._closed = False
        self._messages = MessageSlot(self)
        self._about_box: QMessageBox | None = None
        self._model_dialog: ModelUpdateDialog | None = None
        self._reloading = False  # the next model_ready follows a download or restore
        self.last_error: str | None = None

        self.grader = Grader(predictor_factory, self)
        worker = self.grader.worker
        worker.model_loading.connect(self._on_model_loading)
        worker.model_ready.connect(self._on_model_ready)
        worker.model_failed.connect(self._on_model_failed)
        worker.graded.connect(self._on_graded)
        worker.failed.connect(self._on_failed)

        self._build_panes()
        self._build_actions()
        self._build_menus()
        self._build_status_bar()
        self.setAcceptDrops(True)
        self.setWindowIcon(icon("kneeoa"))
        self.setMinimumSize(900, 600)
        self._restore_settings()
        self.retranslate()

    # --- construction --------------------------------------------------------------------------

    def _build_panes(self) -> None:
        self.view = ImageView()
        self.view.region_selected.connect(self._on_region_drawn)
        self.view.knee_clicked.connect(self.select_knee)
        self.knee_tabs = KneeTabs()
        self.knee_tabs.knee_selected.connect(self.select_knee)

        self.verdict = VerdictPane()
        self.controls = OverlayControls()
        self.controls.visibility_changed.connect(self._on_overlay_visibility)
        self.controls.brightness_changed.connect(self._on_brightness)
        self.controls.brightness_settled.connect(self._on_brightness)
        self.controls.grade_selected.connect(self.show_evidence_for)

        self._source_caption = QLabel()
        self._source_caption.setObjectName("caption")
        self._source_info = QLabel()
        self._source_info.setWordWrap(True)
        self._source_info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._disclaimer = QLabel()
        self._disclaimer.setObjectName("disclaimer")
        self._disclaimer.setWordWrap(True)
        self._disclaimer.setAlignment(Qt.AlignmentFlag.AlignCenter)

        side = QWidget()
        side.setObjectName("sidePanel")
        layout = QVBoxLayout(side)
        layout.setContentsMargins(18, 16, 18, 14)
        layout.setSpacing(10)
        layout.addWidget(self.knee_tabs)
        layout.addWidget(self.verdict)
        layout.addSpacing(4)
        layout.addWidget(self.controls)
        layout.addWidget(self._source_caption)
        layout.addWidget(self._source_info)
        layout.addStretch(1)
        layout.addWidget(self._disclaimer)
        side.setStyleSheet(
            "QWidget#sidePanel { background: #fafafa; }"
            "QLabel#caption { color: #5f6670; font-weight: 600; }"
            "QLabel#disclaimer { color: #a01414; font-weight: 600; border-top: 1px solid #e3e5e8;"
            " padding-top: 8px; }"
            "QGroupBox { font-weight: 600; border: 1px solid #dfe2e6; border-radius: 6px;"
            " margin-top: 10px; padding: 10px 8px 6px 8px; background: #ffffff; }"
            "QGroupBox::title { subcontrol-origin: margin; left: 10px; padding: 0 4px; color: #3c4249; }")
        scroll = QScrollArea()
        scroll.setWidget(side)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # The panel is never narrower than its content: nothing in it may be clipped.
        scroll.setMinimumWidth(side.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width())
        self._side = scroll

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.view)
        self.splitter.addWidget(scroll)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 0)
        self.splitter.setCollapsible(0, False)
        self.splitter.setCollapsible(1, False)
        self.splitter.setSizes([900, max(SIDE_PANEL_WIDTH, scroll.minimumWidth())])
        self.setCentralWidget(self.splitter)

    def _action(self, slot, shortcut=None, icon_name: str | None = None, checkable=False) -> QAction:
        action = QAction(self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if icon_name:
            action.setIcon(icon(icon_name))
        action.setCheckable(checkable)
        (action.toggled if checkable else action.triggered).connect(slot)
        return action

    def _build_actions(self) -> None:
        self.open_action = self._action(self.open_dialog, QKeySequence.StandardKey.Open, "open")
        self.export_action = self._action(self.export_dialog, "Ctrl+E", "export")
        self.quit_action = self._action(self.close, QKeySequence.StandardKey.Quit)
        self.clear_recent_action = self._action(self._clear_recent)
        self.patient_action = QAction(self)
        self.patient_action.setCheckable(True)  # deliberately not remembered: privacy by default
        self.region_action = self._action(self.view.set_region_mode, "Ctrl+R", "region", checkable=True)
        self.view.region_mode_changed.connect(self._sync_region_action)
        self.clear_region_action = self._action(self.clear_region, "Ctrl+Shift+R", "clear-region")
        self.fit_action = self._action(self.view.fit_to_window, "Ctrl+0", "fit")
        self.zoom_in_action = self._action(lambda: self.view.zoom_by(1.25), QKeySequence.StandardKey.ZoomIn, "zoom-in")
        self.zoom_out_action = self._action(lambda: self.view.zoom_by(0.8), QKeySequence.StandardKey.ZoomOut, "zoom-out")
        self.overlay_action = self._action(self.controls.show_box.setChecked, "O", checkable=True)
        self.controls.show_box.toggled.connect(self.overlay_action.setChecked)
        self.about_action = self._action(self.show_about)
        self.update_action = self._action(self.open_model_dialog)
        self.log_folder_action = self._action(self.show_log_folder)
        self.about_qt_action = self._action(QApplication.aboutQt)

        self.language_group = QActionGroup(self)
        self.language_actions: dict[str, QAction] = {}
        for code in (i18n.SYSTEM, *i18n.LANGUAGES):
            action = QAction(self.language_group)
            action.setCheckable(True)
            action.setData(code)
            action.triggered.connect(lambda _checked=False, c=code: self.set_language(c))
            self.language_actions[code] = action
            if code:
                action.setText(i18n.LANGUAGES[code])
        self._update_enabled()

    def _build_menus(self) -> None:
        bar = self.menuBar()
        self.file_menu = bar.addMenu("")
        self.file_menu.addAction(self.open_action)
        self.recent_menu = self.file_menu.addMenu("")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self.file_menu.addAction(self.export_action)
        self.file_menu.addAction(self.patient_action)
        self.file_menu.addSeparator()
        self.file_menu.addAction(self.quit_action)

        self.view_menu = bar.addMenu("")
        for action in (self.fit_action, self.zoom_in_action, self.zoom_out_action):
            self.view_menu.addAction(action)
        self.view_menu.addSeparator()
        self.view_menu.addAction(self.overlay_action)
        self.view_menu.addSeparator()
        self.language_menu = self.view_menu.addMenu("")
        for action in self.language_actions.values():
            self.language_menu.addAction(action)

        self.region_menu = bar.addMenu("")
        self.region_menu.addAction(self.region_action)
        self.region_menu.addAction(self.clear_region_action)

        self.help_menu = bar.addMenu("")
        self.samples_menu = self.help_menu.addMenu("")
        self.help_menu.addSeparator()
        self.help_menu.addAction(self.update_action)
        self.help_menu.addAction(self.log_folder_action)
        self.help_menu.addSeparator()
        self.help_menu.addAction(self.about_action)
        self.help_menu.addAction(self.about_qt_action)

        self.toolbar = self.addToolBar("")
        self.toolbar.setObjectName("mainToolbar")
        self.toolbar.setMovable(False)
        self.toolbar.setIconSize(QSize(20, 20))
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for action in (self.open_action, self.export_action, None, self.region_action, self.clear_region_action,
                       None, self.fit_action, self.zoom_in_action, self.zoom_out_action):
            if action is None:
                self.toolbar.addSeparator()
            else:
                self.toolbar.addAction(action)
        self._fill_recent_menu()

    def _build_status_bar(self) -> None:
        status = self.statusBar()
        status.setStyleSheet("QStatusBar QLabel { padding: 0 8px; color: #444a52; }")
        self._busy = QProgressBar()
        self._busy.setRange(0, 0)
        self._busy.setFixedSize(90, 12)
        self._busy.setTextVisible(False)
        self._busy.hide()
        self.device_label = QLabel()
        self.model_label = QLabel()
        self.timing_label = QLabel()
        status.addPermanentWidget(self._busy)
        for label in (self.device_label, self.model_label, self.timing_label):
            status.addPermanentWidget(label)

    def _restore_settings(self) -> None:
        s = self._settings
        self.controls.set_brightness(s.brightness)
        self.controls.show_box.setChecked(s.overlay_visible)
        self.overlay_action.setChecked(s.overlay_visible)
        if s.geometry is None or not self.restoreGeometry(s.geometry):
            self.resize(1320, 860)
        if s.window_state is not None:
            self.restoreState(s.window_state)
        if s.splitter_state is not None:
            self.splitter.restoreState(s.splitter_state)
        current = s.language if s.language in i18n.LANGUAGES else i18n.SYSTEM
        self.language_actions[current].setChecked(True)

    def save_settings(self) -> None:
        s = self._settings
        s.brightness = self.controls.brightness()
        s.overlay_visible = self.controls.overlay_visible()
        s.geometry = self.saveGeometry()
        s.window_state = self.saveState()
        s.splitter_state = self.splitter.saveState()
        s.sync()

    # --- start, open, grade --------------------------------------------------------------------

    def start(self) -> None:
        """Begin loading the model on the worker thread (call once the window is on screen)."""
        if not self._started:
            self._started = True
            self.grader.load_model()

    def open_path(self, path: str | Path) -> int:
        """Grade the file at ``path`` in the background; returns the request id."""
        path = Path(path)
        self.view.set_region_mode(False)
        request_id = self.grader.grade_file(path)
        self._set_pending(request_id, path.name)
        return request_id

    def open_dialog(self) -> None:
        path = self.ask_open_path()
        if path:
            self.open_path(path)

    def ask_open_path(self) -> str | None:
        patterns = " ".join(f"*{suffix}" for suffix in IMAGE_SUFFIXES)
        filters = ";;".join([
            self.tr("Radiographs ({0})").format(patterns),
            self.tr("DICOM files ({0})").format("*.dcm *.dicom"),
            self.tr("All files ({0})").format("*"),
        ])
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Open radiograph"), self._settings.last_folder, filters)
        return path or None

    def grade_region(self, roi: tuple[int, int, int, int] | None) -> int | None:
        """Regrade the shown image: only ``roi`` (x, y, w, h) of it, or all of it when None."""
        if self._shown is None:
            return None
        request_id = self.grader.grade_region(self._shown, roi)
        self._set_pending(request_id, self._shown.path.name)
        return request_id

    def clear_region(self) -> None:
        """Forget the user's region: the knees are found automatically again."""
        if self._shown is not None and self._shown.manual:
            self.grade_region(None)

    @Slot(QRect)
    def _on_region_drawn(self, rect: QRect) -> None:
        self.grade_region((rect.x(), rect.y(), rect.width(), rect.height()))

    def _sync_region_action(self, enabled: bool) -> None:
        self.region_action.blockSignals(True)
        self.region_action.setChecked(enabled)
        self.region_action.blockSignals(False)

    def _set_pending(self, request_id: int, name: str) -> None:
        self._pending_id = request_id
        self._pending_name = name
        self._busy.show()
        self._show_status()

    def _show_status(self, text: str | None = None) -> None:
        if text is None:
            if self._model_loading:
                text = self.tr("Loading model…")
            elif self._pending_id is not None:
                text = self.tr("Grading {0}…").format(self._pending_name)
            elif self._model_info is None and self._model_error is not None:
                text = self.tr("Model unavailable")
            else:
                text = self.tr("Ready")
        self.statusBar().showMessage(text)

    def is_busy(self) -> bool:
        return self._pending_id is not None

    # --- worker signals ------------------------------------------------------------------------

    @Slot()
    def _on_model_loading(self) -> None:
        self._model_loading = True
        self._busy.show()
        self._show_status()

    @Slot(object)
    def _on_model_ready(self, info: ModelInfo) -> None:
        self._model_loading = False
        self._model_info = info
        self._model_error = None
        if self._pending_id is None:
            self._busy.hide()
        self._retranslate_status()
        if self._reloading and self._pending_id is None:
            self._show_status(self.tr("Now using model {0}.").format(info.tag))
        else:
            self._show_status()
        self._reloading = False

    @Slot(str)
    def _on_model_failed(self, message: str) -> None:
        self._model_loading = False
        self._model_info = None
        self._model_error = message
        self._reloading = False
        self._retranslate_status()
        if self._pending_id is None:
            self._busy.hide()
        self.show_model_failure(message)  # the request that needed the model then stays quiet
        self._show_status()

    def reload_model(self) -> None:
        """Load the model now in use (after a download or restore) and regrade what is shown.

        The shown verdict is graded again at once (a few tens of milliseconds): a clinician who
        has just switched models expects the screen, and any export, to show the new model's
        reading, not the old one's under the new model's name.
        """
        self._started = True
        self._reloading = True
        self._model_info = None
        self._model_error = None
        self.grader.reload_model()
        self._retranslate_status()
        if self._shown is not None:
            # Queued behind the reload: the new model grades the same region, or finds the knees again.
            self.grade_region(self._shown.knee.region if self._shown.manual else None)
        else:
            self._show_status()

    def restore_bundled_model(self) -> None:
        """Use the bundled model again (the downloaded files stay) and load it."""
        try:
            model_store.restore_bundled()
        except KneeOAError as exc:
            self.show_error(i18n.core_message(str(exc)))
            return
        self.reload_model()

    @Slot(object)
    def _on_graded(self, result: GradedImage) -> None:
        if not self.grader.is_latest(result.request_id) or self._closed:
            return  # the user has asked for something newer since: never show a stale result
        self._pending_id = None
        self._busy.hide()
        previous = self._shown
        self._shown = result
        self._overlay = result.overlay
        self._preview_overlay = result.preview.overlay if result.preview is not None else None
        self._evidence_grades = [k.prediction.grade for k in result.knees]
        same_picture = previous is not None and previous.image is result.image
        self.view.set_image(self._composed(), fit=not same_picture)
        self.view.set_knees([KneeMark(None if k.whole_image and k.prediction.roi is None else k.visible,
                                      k.side_letter, k.in_scope) for k in result.knees], result.selected)
        self.knee_tabs.set_knees([KneeTab(k.side, k.in_scope) for k in result.knees], result.selected)
        self._show_selected_knee()
        self._settings.add_recent(result.path)
        self._settings.last_folder = str(result.path.absolute().parent)
        self._fill_recent_menu()
        self._update_enabled()
        self._retranslate_result()
        self._show_status(self.tr("Graded {0}").format(result.path.name))
        log.info("graded %s (%d knee%s) in %.0f ms with %s", result.path.name, len(result.knees),
                 "" if len(result.knees) == 1 else "s", 1000 * result.seconds, result.prediction.model)
        self.result_shown.emit(result)

    @Slot(int, str)
    def _on_failed(self, request_id: int, message: str) -> None:
        if not self.grader.is_latest(request_id) or self._closed:
            return
        name = self._pending_name
        self._pending_id = None
        self._busy.hide()
        self._show_status()
        if self._model_info is None and message == self._model_error:
            return  # the model could not be loaded: the model-failure box already says so
        self.show_error(i18n.core_message(message), file=name)

    # --- overlay -------------------------------------------------------------------------------

    def _composed(self, overlay: EvidenceOverlay | None = None):
        brightness = self.controls.brightness() if self.controls.overlay_visible() else 0.0
        return bgr_to_qimage((overlay or self._overlay).compose(brightness))

    def _recompose(self) -> None:
        if self._overlay is None:
            return
        if self._preview_overlay is not None and self.controls.dragging():
            self.view.update_image(self._composed(self._preview_overlay), self._shown.preview.scale)
        else:
            self.view.update_image(self._composed())

    @Slot(float)
    def _on_brightness(self, _value: float) -> None:
        self._recompose()

    @Slot(bool)
    def _on_overlay_visibility(self, _visible: bool) -> None:
        self._recompose()

    @Slot(int)
    def select_knee(self, index: int) -> None:
        """Show the verdict, thumbnails and evidence choice of knee ``index`` (no new grading)."""
        shown = self._shown
        if shown is None or not 0 <= index < len(shown.knees) or index == shown.selected:
            return
        shown.selected = index
        self.view.select_knee(index)
        self.knee_tabs.select(index)
        self._show_selected_knee()
        self._retranslate_result()

    def _show_selected_knee(self) -> None:
        knee = self._shown.knee
        self.verdict.show_prediction(knee.prediction, knee.in_scope, knee.scope_note)
        self.controls.set_result(knee.prediction.grade, self._shown.thumbnails)
        self.controls.select_grade(self.evidence_grade(), notify=False)

    @Slot(int)
    def show_evidence_for(self, grade: int) -> None:
        """Show the evidence map of ``grade`` over the selected knee (the network is not run again)."""
        if self._shown is None or grade == self.evidence_grade():
            return
        shown = self._shown
        self._evidence_grades[shown.selected] = grade
        self._overlay = shown.result.overlay(self._evidence_grades)
        if shown.preview is not None:
            self._preview_overlay = shown.preview.overlay_for(shown.knees, self._evidence_grades)
        self.controls.select_grade(grade, notify=False)
        self._recompose()
        self._retranslate_result()

    def evidence_grade(self) -> int | None:
        """The grade whose evidence is shown over the selected knee."""
        return self._evidence_grades[self._shown.selected] if self._shown is not None else None

    def evidence_grades(self) -> list[int]:
        return list(self._evidence_grades)

    def shown(self) -> GradedImage | None:
        return self._shown

    # --- export --------------------------------------------------------------------------------

    def proposed_export_path(self) -> Path | None:
        if self._shown is None:
            return None
        folder = self._settings.export_folder or str(self._shown.path.absolute().parent)
        return Path(folder) / default_export_name(self._shown.image.source_name or self._shown.path.name)

    def export_dialog(self) -> None:
        proposal = self.proposed_export_path()
        if proposal is None:
            return
        target = self.ask_save_path(proposal)
        if target:
            self.export_to(target)

    def ask_save_path(self, proposal: Path) -> str | None:
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Export annotated PNG"), str(proposal),
                                              self.tr("PNG images ({0})").format("*.png"))
        return path or None

    def export_to(self, target: str | Path) -> Path | None:
        """Write the annotated PNG of what is shown; returns the path written, None on failure."""
        shown = self._shown
        if shown is None:
            return None
        brightness = self.controls.brightness() if self.controls.overlay_visible() else 0.0
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            written = export_result(
                shown.result, target, source_path=shown.path,
                evidence_grades=self._evidence_grades, brightness=brightness,
                source_name=shown.image.source_name or shown.path.name, overlay=self._overlay,
                patient=shown.image.patient if self.patient_action.isChecked() and shown.image.patient else None)
        except KneeOAError as exc:
            self.show_error(i18n.core_message(str(exc)), file=Path(target).name)
            return None
        except Exception as exc:  # a bug must not take the user's work with it
            log.error("unexpected error while exporting %s", Path(target).name, exc_info=exc)
            self.show_error(self.tr("The export failed unexpectedly ({0}).").format(type(exc).__name__),
                            file=Path(target).name)
            return None
        finally:
            QApplication.restoreOverrideCursor()
        self._settings.export_folder = str(written.absolute().parent)
        self._show_status(self.tr("Exported {0}").format(str(written)))
        return written

    # --- recent files --------------------------------------------------------------------------

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = self._settings.recent_files
        for index, name in enumerate(files, 1):
            path = Path(name)
            action = self.recent_menu.addAction(f"&{index}  {path.name}  —  {path.parent}")
            action.setToolTip(name)
            action.triggered.connect(lambda _checked=False, p=name: self.open_recent(p))
        if files:
            self.recent_menu.addSeparator()
        self.recent_menu.addAction(self.clear_recent_action)
        self.clear_recent_action.setEnabled(bool(files))
        self.recent_menu.setEnabled(True)

    def open_recent(self, path: str) -> None:
        if not Path(path).exists():
            self._settings.remove_recent(path)
            self._fill_recent_menu()
        self.open_path(path)  # a missing file is reported by the core, in its words

    def _clear_recent(self) -> None:
        self._settings.clear_recent()
        self._fill_recent_menu()

    # --- drag and drop (anywhere on the window: no child accepts drops itself) -----------------

    def dragEnterEvent(self, event) -> None:
        if _local_files(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:
        files = _local_files(event.mimeData())
        if not files:
            event.ignore()
            return
        event.acceptProposedAction()
        self.open_path(files[0])

    # --- messages and dialogs ------------------------------------------------------------------

    def show_error(self, text: str, file: str | None = None) -> None:
        """Tell the user one sentence, without blocking: the window stays usable behind it.

        The sentence also goes to the log, with the file's name (never DICOM patient details).
        """
        log.info("told the user: %s%s", text, f" (file {file})" if file else "")
        self.last_error = text
        box = self._show_box(QMessageBox.Icon.Warning, text)
        box.addButton(QMessageBox.StandardButton.Ok)
        box.open()
        self.error_shown.emit(text)

    def _show_box(self, kind: QMessageBox.Icon, text: str, informative: str = "") -> QMessageBox:
        return self._messages.new(kind, APP_TITLE, text, informative)

    def show_model_failure(self, message: str) -> None:
        """The model could not be loaded: say why, and what the user can do about it."""
        text = i18n.core_message(message)
        active = model_store.active_model()
        log.warning("model %s could not be loaded: %s", active.describe(), message)
        self.last_error = text
        if active.bundled:
            # Nothing inside the program can repair it, and weights/ is never written to.
            box = self._show_box(QMessageBox.Icon.Critical, text, self.tr(
                "The model that came with KneeOA Desktop is missing or damaged, so no radiograph can be "
                "graded. Please reinstall KneeOA Desktop."))
            box.addButton(QMessageBox.StandardButton.Ok)
        else:
            box = self._show_box(QMessageBox.Icon.Critical, text, self.tr(
                "The model in use was {0} and cannot be loaded, so no radiograph can be graded. Restore the model "
                "bundled with the program to go on grading; the downloaded file is kept.").format(
                    i18n.describe_origin(active)))
            restore = box.addButton(self.tr("Restore bundled model"), QMessageBox.ButtonRole.AcceptRole)
            restore.clicked.connect(self.restore_bundled_model)
            box.addButton(QMessageBox.StandardButton.Close)
            box.setDefaultButton(restore)
        box.open()
        self.error_shown.emit(text)

    def show_message(self, text: str, informative: str = "") -> None:
        """A piece of good news, in the same non-blocking way."""
        box = self._show_box(QMessageBox.Icon.Information, text, informative)
        box.addButton(QMessageBox.StandardButton.Ok)
        box.open()

    def message_box(self) -> QMessageBox | None:
        return self._messages.box

    def show_about(self) -> None:
        if self._about_box is not None:
            self._about_box.close()
        box = QMessageBox(self)
        box.setWindowTitle(self.tr("About {0}").format(APP_TITLE))
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setText(about_html(self._model_info))
        box.setIconPixmap(self.windowIcon().pixmap(72, 72))
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.destroyed.connect(lambda *_: setattr(self, "_about_box", None))
        self._about_box = box
        box.open()

    def about_box(self) -> QMessageBox | None:
        return self._about_box

    # --- model updates and the log folder ------------------------------------------------------

    def open_model_dialog(self) -> ModelUpdateDialog:
        """Help ▸ Check for model update…"""
        if self._model_dialog is not None:
            self._model_dialog.raise_()
            self._model_dialog.activateWindow()
            return self._model_dialog
        dialog = ModelUpdateDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.installed.connect(self._on_model_installed)
        dialog.restored.connect(self.reload_model)
        dialog.cancelled.connect(lambda: self._show_status(self.tr("Download cancelled.")))
        dialog.finished.connect(lambda _result, d=dialog: self._forget_model_dialog(d))
        self._model_dialog = dialog
        dialog.open()
        return dialog

    def _forget_model_dialog(self, dialog) -> None:
        if self._model_dialog is dialog:
            self._model_dialog = None

    def model_dialog(self) -> ModelUpdateDialog | None:
        return self._model_dialog

    def _on_model_installed(self, manifest) -> None:
        self.reload_model()
        self.show_message(self.tr("Model {0} is installed and in use.").format(manifest.tag),
                          self.tr("Origin: {0}.").format(i18n.describe_origin(model_store.active_model())))

    def log_folder_url(self) -> QUrl:
        return QUrl.fromLocalFile(str(logs.log_dir()))

    def show_log_folder(self) -> None:
        """Help ▸ Show log folder: the file a developer asks for when something went wrong."""
        folder = logs.log_dir()
        try:
            folder.mkdir(parents=True, exist_ok=True)  # a folder that does not exist yet cannot be shown
        except OSError:
            self.show_error(self.tr("The log folder {0} cannot be created.").format(str(folder)))
            return
        if not QDesktopServices.openUrl(self.log_folder_url()):
            self.show_error(self.tr("No program is set up to open folders; the log folder is {0}.").format(
                str(folder)))

    # --- language ------------------------------------------------------------------------------

    def set_language(self, code: str) -> None:
        """'en', 'ru' or '' (system locale); remembered for the next start."""
        self._settings.language = code
        self._languages.apply(code)
        self.language_actions.get(code, self.language_actions[i18n.SYSTEM]).setChecked(True)

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def retranslate(self) -> None:
        self.file_menu.setTitle(self.tr("&File"))
        self.recent_menu.setTitle(self.tr("Open &Recent"))
        self.view_menu.setTitle(self.tr("&View"))
        self.language_menu.setTitle(self.tr("&Language"))
        self.region_menu.setTitle(self.tr("&Region"))
        self.help_menu.setTitle(self.tr("&Help"))
        self.samples_menu.setTitle(self.tr("Open a &sample radiograph"))
        fill_samples_menu(self.samples_menu, self.open_path)
        self.toolbar.setWindowTitle(self.tr("Main toolbar"))
        texts = {
            self.open_action: (self.tr("&Open…"), self.tr("Open a radiograph (PNG, JPEG, BMP, TIFF, DICOM)")),
            self.export_action: (self.tr("&Export annotated PNG…"),
                                 self.tr("Save the radiograph, evidence overlay and verdict as a PNG")),
            self.quit_action: (self.tr("&Quit"), None),
            self.clear_recent_action: (self.tr("&Clear list"), None),
            self.patient_action: (self.tr("Include DICOM &patient details in exports"), None),
            self.region_action: (self.tr("&Select knee region"),
                                 self.tr("Drag a square around one knee joint; only that region is graded")),
            self.clear_region_action: (self.tr("&Clear region"),
                                       self.tr("Forget the drawn region and find the knees automatically again")),
            self.fit_action: (self.tr("&Reset zoom (fit to window)"), self.tr("Fit the whole image into the pane")),
            self.zoom_in_action: (self.tr("Zoom &in"), None),
            self.zoom_out_action: (self.tr("Zoom &out"), None),
            self.overlay_action: (self.tr("Show evidence &overlay"), None),
            self.about_action: (self.tr("&About KneeOA Desktop"), None),
            self.update_action: (self.tr("Check for model &update…"),
                                 self.tr("Download a newer model, or go back to the one bundled with the program")),
            self.log_folder_action: (self.tr("Show &log folder"),
                                     self.tr("Open the folder holding the program's log file")),
            self.about_qt_action: (self.tr("About &Qt"), None),
        }
        for action, (text, tip) in texts.items():
            action.setText(text)
            action.setIconText(text.replace("&", "").rstrip("…"))
            action.setStatusTip(tip or "")
            action.setToolTip(tip or text.replace("&", ""))
        short = {self.export_action: self.tr("Export"), self.region_action: self.tr("Select region"),
                 self.clear_region_action: self.tr("Clear region"), self.fit_action: self.tr("Fit")}
        for action, text in short.items():
            action.setIconText(text)
        self.language_actions[i18n.SYSTEM].setText(self.tr("System default"))
        self.view.set_placeholder(self.tr("Open a knee radiograph (Ctrl+O)\nor drop an image or DICOM file here\n\n"
                                          "No radiograph at hand? Help ▸ Open a sample radiograph"))
        self._source_caption.setText(self.tr("Radiograph"))
        self._disclaimer.setText(i18n.disclaimer())
        self._retranslate_status()
        self._retranslate_result()
        self._fill_recent_menu()
        self._show_status()

    def _retranslate_status(self) -> None:
        info = self._model_info
        if info is not None:
            self.device_label.setText(self.tr("Device: {0}").format(info.device))
            if info.origin is not None and not info.origin.bundled:
                self.model_label.setText(self.tr("Model: {0} (downloaded)").format(info.tag))
            else:
                self.model_label.setText(self.tr("Model: {0}").format(info.tag))
            self.model_label.setToolTip(i18n.describe_origin(info.origin) if info.origin is not None else "")
        elif self._model_error is not None:
            self.device_label.setText(self.tr("Device: —"))
            self.model_label.setText(self.tr("Model: unavailable"))
            self.model_label.setToolTip(i18n.core_message(self._model_error))
        else:
            self.device_label.setText(self.tr("Device: —"))
            self.model_label.setText(self.tr("Model: loading…"))
            self.model_label.setToolTip("")

    def _retranslate_result(self) -> None:
        shown = self._shown
        title = APP_TITLE if shown is None else f"{shown.path.name} — {APP_TITLE}"
        self.setWindowTitle(title)
        if shown is None:
            self.timing_label.setText(self.tr("Last grading: —"))
            self._source_info.setText(self.tr("No image open."))
            return
        self.timing_label.setText(self.tr("Last grading: {0} ms").format(f"{1000 * shown.seconds:.0f}"))
        image, roi = shown.image, shown.prediction.roi
        lines = [shown.path.name,
                 self.tr("{0}×{1} pixels, {2}, {3}-bit").format(image.width, image.height, image.format,
                                                                image.bit_depth)]
        if roi is None:
            lines.append(self.tr("Graded: the whole image"))
        else:
            lines.append(self.tr("Graded: region {0}×{1} at ({2}, {3})").format(roi[2], roi[3], roi[0], roi[1]))
        lines.append(self.tr("Evidence shown: {0}").format(i18n.grade_title(self.evidence_grade())))
        self._source_info.setText("\n".join(lines))

    def _update_enabled(self) -> None:
        has_result = self._shown is not None
        self.export_action.setEnabled(has_result)
        self.region_action.setEnabled(has_result)
        self.clear_region_action.setEnabled(has_result and self._shown.manual)
        for action in (self.fit_action, self.zoom_in_action, self.zoom_out_action):
            action.setEnabled(has_result)

    # --- closing -------------------------------------------------------------------------------

    def closeEvent(self, event) -> None:
        if not self._closed:
            self._closed = True
            self.save_settings()
            self._messages.close()
            for box in (self._model_dialog, self._about_box):
                if box is not None:
                    box.close()
            self.hide()  # the wait below may last while a model loads; the user sees nothing hang
            self.grader.shutdown()
        event.accept()
