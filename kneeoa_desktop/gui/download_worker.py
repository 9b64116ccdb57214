"""A model download on its own QThread, so that the window keeps painting while bytes arrive.

``ModelDownload.run`` calls ``core.model.download.download_model`` (fetch, sha256 check, a test load
of the model, installation) and reports back through signals, which Qt queues to the GUI
thread. ``cancel()`` sets the Event that the core checks between chunks; whatever happens, the
model in use changes only when the core has installed the new one and ``installed`` fires.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from PySide6.QtCore import QT_TRANSLATE_NOOP, QThread, Signal

from ..core.errors import DownloadCancelledError, KneeOAError
from ..core.messages import Message

log = logging.getLogger("kneeoa.gui")

# Progress reports are throttled: gdown reports every chunk, the progress bar needs ~20 a second.
PROGRESS_INTERVAL_S = 0.05
# English like the core's sentences; the window translates it (context CoreMessages).
UNEXPECTED = QT_TRANSLATE_NOOP("CoreMessages", "The download failed unexpectedly; details are in the log file.")


class ModelDownload(QThread):
    """One download of one model; start() it, connect its signals, cancel() it at will."""

    progressed = Signal(object, object)  # bytes received, total bytes or None (object: may exceed 2**31)
    transferred = Signal()  # every byte is in: the file is now checked and test-loaded (seconds)
    installed = Signal(object)  # core.model.manifest.ModelManifest of the model now in use
    failed = Signal(object)  # one sentence (a core.messages.Message); the model in use is unchanged
    cancelled = Signal(object)  # one sentence (a core.messages.Message); the model in use is unchanged

    def __init__(self, source: str, sha256: str, version: str | None = None, *,
                 validate: Callable | None = None, download: Callable | None = None, parent=None):
        super().__init__(parent)
        self.setObjectName("kneeoa-download")
        self.source, self.sha256, self.version = source, sha256, version
        self._validate = validate  # None: the core's own check (a full load with the Predictor)
        self._download = download
        self._cancel = threading.Event()
        self._last_report = 0.0
        self._transferred = False

    def cancel(self) -> None:
        """Ask the transfer to stop; ``cancelled`` follows unless the file is already complete."""
        self._cancel.set()

    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def run(self) -> None:
        download = self._download
        if download is None:
            from ..core.model.download import download_model as download
        try:
            manifest = download(self.source, self.sha256, version=self.version, progress=self._progress,
                                cancel=self._cancel, validate=self._validate)
        except DownloadCancelledError as exc:
            self.cancelled.emit(exc.message)
        except KneeOAError as exc:
            self.failed.emit(exc.message)
        except Exception:  # a bug must not take the thread (or the window) with it
            log.exception("unexpected error while downloading a model from %s", self.source)
            self.failed.emit(Message(UNEXPECTED))
        else:
            log.info("model %s downloaded from %s and in use", manifest.tag, self.source)
            self.installed.emit(manifest)

    def _progress(self, received: int, total: int | None) -> None:
        """Called by gdown on this thread for every chunk."""
        complete = bool(total) and received >= total
        now = time.monotonic()
        if complete or now - self._last_report >= PROGRESS_INTERVAL_S:
            self._last_report = now
            self.progressed.emit(int(received), int(total) if total else None)
        if complete and not self._transferred:
            self._transferred = True
            self.transferred.emit()
