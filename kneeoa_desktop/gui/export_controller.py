"""File ▸ Export annotated PNG: what the window shows, written through ``core.outputs.export``.

The PNG holds the film, the evidence overlay at the grades and brightness on screen, and the
verdict of every knee, exactly as the window shows them (from the ``ViewerState``); the core
writes it atomically and never over the source radiograph. A failure becomes one sentence
(``failed``); a bug is logged with its traceback and the user's film stays on screen.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QApplication

from ..core.errors import KneeOAError
from ..core.outputs.export import default_export_name, export_result
from . import i18n
from .settings import Settings
from .viewer_state import ViewerState

log = logging.getLogger("kneeoa.gui")


class ExportController(QObject):
    failed = Signal(str, str)  # one sentence for the user, the target file's name
    exported = Signal(str)  # one line for the status bar

    def __init__(self, state: ViewerState, settings: Settings, parent: QObject | None = None):
        super().__init__(parent)
        self._state = state
        self._settings = settings

    def proposed_path(self) -> Path | None:
        """Beside the last export (else beside the source), named after the source."""
        shown = self._state.shown
        if shown is None:
            return None
        folder = self._settings.export_folder or str(shown.path.absolute().parent)
        return Path(folder) / default_export_name(shown.image.source_name or shown.path.name)

    def export_to(self, target: str | Path, *, patient: bool = False) -> Path | None:
        """Write the annotated PNG of what is shown; returns the path written, None on failure.

        ``patient``: print the DICOM patient details too (the user's explicit choice).
        """
        state = self._state
        shown = state.shown
        if shown is None:
            return None
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            written = export_result(
                shown.result, target, source_path=shown.path,
                evidence_grades=state.evidence_grades, brightness=state.shown_brightness,
                source_name=shown.image.source_name or shown.path.name, overlay=state.overlay,
                patient=shown.image.patient if patient and shown.image.patient else None)
        except KneeOAError as exc:
            self.failed.emit(i18n.core_message(exc), Path(target).name)
            return None
        except Exception as exc:  # a bug must not take the user's work with it
            log.error("unexpected error while exporting %s", Path(target).name, exc_info=exc)
            self.failed.emit(self.tr("The export failed unexpectedly ({0}).").format(type(exc).__name__),
                             Path(target).name)
            return None
        finally:
            QApplication.restoreOverrideCursor()
        self._settings.export_folder = str(written.absolute().parent)
        self.exported.emit(self.tr("Exported {0}").format(str(written)))
        return written
