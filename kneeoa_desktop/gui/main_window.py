"""The main window: the radiograph on the left, the side panel on the right, assembled here.

What is shown lives in a Qt-free ``ViewerState`` (``viewer_state.py``): the window feeds it the
grading worker's results and the user's choices, and its parts draw it: the image view, the side
panel (``side_panel.py``) and the status bar (``status_bar.py``). The menus and toolbar are built
by ``actions.py``, the annotated PNG is written by ``export_controller.py``, and the model's
loading, failures and updates are handled by ``model_controller.py``.

Every user error is reported through ``show_error`` as one sentence in a non-blocking message box,
leaving the previous result on screen (and in the log file).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QEvent, QRect, Qt, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QFileDialog, QMainWindow, QMessageBox, QSplitter

from ..core import logs
from ..core.film.formats import IMAGE_SUFFIXES
from ..core.messages import Message
from ..core.outputs.overlay import EvidenceOverlay
from . import i18n
from .about import about_html
from .actions import WindowActions
from .export_controller import ExportController
from .image_view import ImageView, KneeMark
from .message_boxes import MessageSlot
from .model_controller import ModelController
from .model_dialog import ModelUpdateDialog
from .qt_images import bgr_to_qimage
from .resources import icon
from .settings import Settings
from .side_panel import SidePanel
from .site_controller import SiteController
from .status_bar import StatusBar
from .viewer_state import ViewerState
from .worker import GradedImage, Grader

log = logging.getLogger("kneeoa.gui")

APP_TITLE = "KneeOA Desktop"
SIDE_PANEL_WIDTH = 400


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
        self.state = ViewerState()
        self._closed = False
        self._messages = MessageSlot(self)
        self._about_box: QMessageBox | None = None
        self.last_error: str | None = None

        self.grader = Grader(predictor_factory, self)
        # Queued from the worker thread: the slots run on the GUI thread, in the order sent.
        self.grader.worker.graded.connect(self._on_graded)
        self.grader.worker.failed.connect(self._on_failed)
        self.model_controller = ModelController(self, self.state, self.grader)

        self._build_panes()
        self.status_bar = StatusBar(self.state)
        self.setStatusBar(self.status_bar)
        self.window_actions = WindowActions(self, self._settings)
        self.site_controller = SiteController(self, self._settings, self.grader, self.window_actions.help_menu)
        self.exporter = ExportController(self.state, self._settings, self)
        self.exporter.failed.connect(self.show_error)
        self.exporter.exported.connect(self.status_bar.show_news)
        self.state.overlay_changed.connect(self._recompose)
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
        self.side_panel = side = SidePanel(self.state)
        self.knee_tabs, self.verdict, self.controls = side.knee_tabs, side.verdict, side.controls
        self.knee_tabs.knee_selected.connect(self.select_knee)
        self.controls.visibility_changed.connect(self.state.set_overlay_visible)
        self.controls.brightness_changed.connect(self.state.set_brightness)
        self.controls.brightness_settled.connect(self._recompose)  # the full image again after a drag
        self.controls.grade_selected.connect(self.show_evidence_for)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.view)
        self.splitter.addWidget(side)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 0)
        self.splitter.setCollapsible(0, False)
        self.splitter.setCollapsible(1, False)
        self.splitter.setSizes([900, max(SIDE_PANEL_WIDTH, side.minimumWidth())])
        self.setCentralWidget(self.splitter)

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
        self.window_actions.check_language(s.language if s.language in i18n.LANGUAGES else i18n.SYSTEM)

    def save_settings(self) -> None:
        s = self._settings
        s.brightness = self.controls.brightness()
        s.overlay_visible = self.controls.overlay_visible()
        s.geometry = self.saveGeometry()
        s.window_state = self.saveState()
        s.splitter_state = self.splitter.saveState()
        s.sync()

    # --- start, open, grade --------------------------------------------------------------------

    def open_path(self, path: str | Path) -> int:
        """Grade the file at ``path`` in the background; returns the request id."""
        path = Path(path)
        self.view.set_region_mode(False)
        request_id = self.grader.grade_file(path)
        self.state.submit(request_id, path.name)
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
        shown = self.state.shown
        if shown is None:
            return None
        request_id = self.grader.grade_region(shown, roi)
        self.state.submit(request_id, shown.path.name)
        return request_id

    def clear_region(self) -> None:
        """Forget the user's region: the knees are found automatically again."""
        if self.state.shown is not None and self.state.shown.manual:
            self.grade_region(None)

    @Slot(QRect)
    def _on_region_drawn(self, rect: QRect) -> None:
        self.grade_region((rect.x(), rect.y(), rect.width(), rect.height()))

    def is_busy(self) -> bool:
        return self.state.busy

    # --- the model (model_controller.py) ------------------------------------------------------

    def start(self) -> None:
        """Begin loading the model on the worker thread (call once the window is on screen)."""
        self.model_controller.start()

    def reload_model(self) -> None:
        """Load the model now in use (after a download or restore) and grade what is shown again."""
        self.model_controller.reload()

    def restore_bundled_model(self) -> None:
        self.model_controller.restore_bundled()

    def show_model_failure(self, message: str) -> None:
        self.model_controller.show_failure(message)

    def open_model_dialog(self) -> ModelUpdateDialog:
        """Help ▸ Check for model update…"""
        return self.model_controller.open_dialog()

    def model_dialog(self) -> ModelUpdateDialog | None:
        return self.model_controller.dialog()

    # --- results -------------------------------------------------------------------------------

    @Slot(object)
    def _on_graded(self, result: GradedImage) -> None:
        if not self.grader.is_latest(result.request_id) or self._closed:
            return  # the user has asked for something newer since: never show a stale result
        previous = self.state.shown
        self.state.show(result)
        same_picture = previous is not None and previous.image is result.image
        self.view.set_image(self._composed(), fit=not same_picture)
        self.view.set_knees([KneeMark(None if k.whole_image and k.prediction.roi is None else k.visible,
                                      k.side_letter, k.in_scope) for k in result.knees], result.selected)
        self.side_panel.show_film()
        self._settings.add_recent(result.path)
        self._settings.last_folder = str(result.path.absolute().parent)
        self.window_actions.fill_recent_menu()
        self.window_actions.update_enabled(result)
        self._retranslate_result()
        self.status_bar.show_news(self.tr("Graded {0}").format(result.path.name))
        log.info("graded %s (%d knee%s) in %.0f ms with %s", result.path.name, len(result.knees),
                 "" if len(result.knees) == 1 else "s", 1000 * result.seconds, result.prediction.model)
        self.result_shown.emit(result)

    @Slot(int, object, bool)
    def _on_failed(self, request_id: int, message: Message, model_unavailable: bool = False) -> None:
        if not self.grader.is_latest(request_id) or self._closed:
            return
        pending = self.state.finish()
        if model_unavailable:
            return  # the model could not be loaded: the model-failure box already says so
        self.show_error(i18n.core_message(message), file=pending.name if pending else None)

    # --- overlay and knees ---------------------------------------------------------------------

    def _composed(self, overlay: EvidenceOverlay | None = None):
        return bgr_to_qimage((overlay or self.state.overlay).compose(self.state.shown_brightness))

    def _recompose(self, *_args) -> None:
        state = self.state
        if state.overlay is None:
            return
        if state.preview_overlay is not None and self.controls.dragging():
            self.view.update_image(self._composed(state.preview_overlay), state.shown.preview.scale)
        else:
            self.view.update_image(self._composed())

    @Slot(int)
    def select_knee(self, index: int) -> None:
        """Show the verdict, thumbnails and evidence choice of knee ``index`` (no new grading)."""
        if not self.state.select_knee(index):
            return
        self.view.select_knee(index)
        self.side_panel.select_knee()
        self._retranslate_result()

    @Slot(int)
    def show_evidence_for(self, grade: int) -> None:
        """Show the evidence map of ``grade`` over the selected knee (the network is not run again)."""
        if self.state.show_evidence(grade):  # recomposed through state.overlay_changed
            self.controls.select_grade(grade, notify=False)
            self._retranslate_result()

    def evidence_grade(self) -> int | None:
        """The grade whose evidence is shown over the selected knee."""
        return self.state.evidence_grade

    def evidence_grades(self) -> list[int]:
        return list(self.state.evidence_grades)

    def shown(self) -> GradedImage | None:
        return self.state.shown

    # --- export --------------------------------------------------------------------------------

    def proposed_export_path(self) -> Path | None:
        return self.exporter.proposed_path()

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
        return self.exporter.export_to(target, patient=self.patient_action.isChecked())

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
        box = self.message(QMessageBox.Icon.Warning, text)
        box.addButton(QMessageBox.StandardButton.Ok)
        box.open()
        self.note_error(text)

    def message(self, kind: QMessageBox.Icon, text: str, informative: str = "") -> QMessageBox:
        """A new message box, replacing the one still open; the caller adds buttons, then opens it."""
        return self._messages.new(kind, APP_TITLE, text, informative)

    def note_error(self, text: str) -> None:
        """``text`` has just been shown to the user as an error."""
        self.last_error = text
        self.error_shown.emit(text)

    def show_message(self, text: str, informative: str = "") -> None:
        """A piece of good news, in the same non-blocking way."""
        box = self.message(QMessageBox.Icon.Information, text, informative)
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
        box.setText(about_html(self.state.model_info, site=self.site_controller.describe()))
        box.setIconPixmap(self.windowIcon().pixmap(72, 72))
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.destroyed.connect(lambda *_: setattr(self, "_about_box", None))
        self._about_box = box
        box.open()

    def about_box(self) -> QMessageBox | None:
        return self._about_box

    # --- the log folder -------------------------------------------------------------------

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
        self.window_actions.check_language(code)

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def retranslate(self) -> None:
        """The window's own texts; its parts (status bar, side panel, …) retranslate themselves."""
        self.window_actions.retranslate()
        self.site_controller.retranslate()
        self.view.set_placeholder(self.tr("Open a knee radiograph (Ctrl+O)\nor drop an image or DICOM file here\n\n"
                                          "No radiograph at hand? Help ▸ Open a sample radiograph"))
        self._retranslate_result()

    def _retranslate_result(self) -> None:
        shown = self.state.shown
        self.setWindowTitle(APP_TITLE if shown is None else f"{shown.path.name} — {APP_TITLE}")
        self.status_bar.set_grading_time(None if shown is None else shown.seconds)
        self.side_panel.show_source()

    # --- closing -------------------------------------------------------------------------------

    def closeEvent(self, event) -> None:
        if not self._closed:
            self._closed = True
            self.save_settings()
            self._messages.close()
            for box in (self.model_controller.dialog(), self._about_box):
                if box is not None:
                    box.close()
            self.hide()  # the wait below may last while a model loads; the user sees nothing hang
            self.grader.shutdown()
        event.accept()


def _part(owner: str, name: str) -> property:
    return property(lambda self: getattr(getattr(self, owner), name), doc=f"The window's ``{owner}.{name}``.")


# The actions, menus and status labels live in their parts (actions.py, status_bar.py); the window
# keeps offering them under the names it has always had (``window.open_action``, ``window.model_label``).
for _name in ("open_action", "export_action", "quit_action", "clear_recent_action", "patient_action",
              "region_action", "clear_region_action", "fit_action", "zoom_in_action", "zoom_out_action",
              "overlay_action", "about_action", "update_action", "log_folder_action", "about_qt_action",
              "language_group", "language_actions", "file_menu", "recent_menu", "view_menu", "language_menu",
              "region_menu", "help_menu", "samples_menu", "toolbar"):
    setattr(MainWindow, _name, _part("window_actions", _name))
for _name in ("device_label", "model_label", "timing_label"):
    setattr(MainWindow, _name, _part("status_bar", _name))
del _name
