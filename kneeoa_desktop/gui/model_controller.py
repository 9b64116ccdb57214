"""The model, as the window handles it: the first load, a load that fails, Help ▸ Check for model
update…, and switching to a downloaded or the bundled model.

The worker's model signals land here, on the GUI thread, and move the ``ViewerState``'s
``ModelStatus``; the status bar draws it. A model that cannot be loaded gets its own box: a
downloaded model can be swapped for the bundled one there; a damaged bundled model can only be
reinstalled. After a download or a restore the worker reloads the model and the film on screen
is graded again, so that the verdict shown always comes from the model the status bar names.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtWidgets import QMessageBox

from ..core.errors import KneeOAError
from ..core.messages import Message
from ..core.model import model_store
from . import i18n
from .model_dialog import ModelUpdateDialog
from .viewer_state import ViewerState
from .worker import Grader, ModelInfo

log = logging.getLogger("kneeoa.gui")


class ModelController(QObject):
    """``window`` shows the messages (``message``, ``note_error``, ``show_error``, ``show_message``),
    regrades what it shows (``grade_region``) and writes news in its status bar (``status_bar``)."""

    def __init__(self, window, state: ViewerState, grader: Grader):
        super().__init__(window)
        self._window = window
        self._state = state
        self._grader = grader
        self._dialog: ModelUpdateDialog | None = None
        # Queued from the worker thread: these slots run on the GUI thread, in the order sent.
        grader.worker.model_loading.connect(self._on_loading)
        grader.worker.model_ready.connect(self._on_ready)
        grader.worker.model_failed.connect(self._on_failed)

    def start(self) -> None:
        """Load the model on the worker thread, the first time only."""
        if self._state.request_model():
            self._grader.load_model()

    @Slot()
    def _on_loading(self) -> None:
        self._state.model_loading()

    @Slot(object)
    def _on_ready(self, info: ModelInfo) -> None:
        if self._state.model_ready(info) and not self._state.busy:
            self._window.status_bar.show_news(self.tr("Now using model {0}.").format(info.tag))

    @Slot(object)
    def _on_failed(self, message: Message) -> None:
        self._state.model_failed(message)
        self.show_failure(message)  # the request that needed the model then stays quiet

    def show_failure(self, message: str) -> None:
        """The model could not be loaded: say why, and what the user can do about it."""
        text = i18n.core_message(message)
        active = model_store.active_model()
        log.warning("model %s could not be loaded: %s", active.describe(), message)
        if active.bundled:
            # Nothing inside the program can repair it, and weights/ is never written to.
            box = self._window.message(QMessageBox.Icon.Critical, text, self.tr(
                "The model that came with KneeOA Desktop is missing or damaged, so no radiograph can be "
                "graded. Please reinstall KneeOA Desktop."))
            box.addButton(QMessageBox.StandardButton.Ok)
        else:
            box = self._window.message(QMessageBox.Icon.Critical, text, self.tr(
                "The model in use was {0} and cannot be loaded, so no radiograph can be graded. Restore the model "
                "bundled with the program to go on grading; the downloaded file is kept.").format(
                    i18n.describe_origin(active)))
            restore = box.addButton(self.tr("Restore bundled model"), QMessageBox.ButtonRole.AcceptRole)
            restore.clicked.connect(self.restore_bundled)
            box.addButton(QMessageBox.StandardButton.Close)
            box.setDefaultButton(restore)
        box.open()
        self._window.note_error(text)

    def reload(self) -> None:
        """Load the model now in use (after a download or restore) and regrade what is shown.

        The shown verdict is graded again at once (a few tens of milliseconds): a clinician who
        has just switched models expects the screen, and any export, to show the new model's
        reading, not the old one's under the new model's name.
        """
        self._state.switch_model()
        self._grader.reload_model()
        shown = self._state.shown
        if shown is not None:
            # Queued behind the reload: the new model grades the same region, or finds the knees again.
            self._window.grade_region(shown.knee.region if shown.manual else None)

    def restore_bundled(self) -> None:
        """Use the bundled model again (the downloaded files stay) and load it."""
        try:
            model_store.restore_bundled()
        except KneeOAError as exc:
            self._window.show_error(i18n.core_message(exc))
            return
        self.reload()

    # --- Help ▸ Check for model update… --------------------------------------------------------

    def open_dialog(self) -> ModelUpdateDialog:
        if self._dialog is not None:
            self._dialog.raise_()
            self._dialog.activateWindow()
            return self._dialog
        dialog = ModelUpdateDialog(self._window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.installed.connect(self._on_installed)
        dialog.restored.connect(self.reload)
        dialog.cancelled.connect(lambda: self._window.status_bar.show_news(self.tr("Download cancelled.")))
        dialog.finished.connect(lambda _result, d=dialog: self._forget_dialog(d))
        self._dialog = dialog
        dialog.open()
        return dialog

    def dialog(self) -> ModelUpdateDialog | None:
        return self._dialog

    def _forget_dialog(self, dialog) -> None:
        if self._dialog is dialog:
            self._dialog = None

    def _on_installed(self, manifest) -> None:
        self.reload()
        self._window.show_message(self.tr("Model {0} is installed and in use.").format(manifest.tag),
                                  self.tr("Origin: {0}.").format(i18n.describe_origin(model_store.active_model())))
