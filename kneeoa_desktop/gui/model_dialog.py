"""Help ▸ Check for model update…: which model is in use, and how to download another one.

A clinic's IT pastes the address (https URL or Google Drive file id) and the SHA-256 checksum of
a newer model from its release notes; the fields start with what the bundled model card names,
if it names a download at all. The download runs on a ``ModelDownload`` thread behind a
progress dialog with a working Cancel; the core checks and installs the file, and only then
does the window switch models (``installed``). *Restore bundled model* goes back to the model
that came with the program; downloaded files stay on disk and nothing in ``weights/`` is written.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (QDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QMessageBox,
                               QProgressDialog, QPushButton, QVBoxLayout)

from ..core.errors import DownloadError, KneeOAError
from ..core.model import download, model_store
from ..core.model.manifest import load_manifest
from . import i18n
from .download_worker import ModelDownload
from .message_boxes import MessageSlot

log = logging.getLogger("kneeoa.gui")

PROGRESS_STEPS = 1000  # the bar counts per mille: byte counts may not fit in Qt's int


class ModelUpdateDialog(QDialog):
    """Window-modal dialog; emits ``installed``/``restored``/``cancelled`` for the window to act on."""

    installed = Signal(object)  # core.model.manifest.ModelManifest of the model now in use
    restored = Signal()  # the bundled model is in use again
    cancelled = Signal()  # the user cancelled a download; nothing changed
    error_shown = Signal(str)  # one sentence was shown (after translation)

    def __init__(self, parent=None, *, validate=None):
        super().__init__(parent)
        # None: the core's own check, a full load of the model (seconds, on the download thread).
        self.validate = validate
        self.last_error: str | None = None
        self._job: ModelDownload | None = None
        self._progress: QProgressDialog | None = None
        self._cancel_button: QPushButton | None = None
        self._messages = MessageSlot(self)
        self._host = ""
        self.setWindowTitle(self.tr("Check for model update"))
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self._build()
        self._prefill()
        self.refresh()
        # Wrapped labels make Qt guess a height for a narrower dialog; ask for the real one.
        width = max(self.sizeHint().width(), self.minimumWidth())
        self.resize(width, self.layout().totalHeightForWidth(width))

    # --- construction --------------------------------------------------------------------------

    def _build(self) -> None:
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)

        current = QGroupBox(self.tr("Model in use"))
        form = QFormLayout(current)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.model_value = QLabel()
        self.origin_value = QLabel()
        self.origin_value.setWordWrap(True)
        self.checksum_value = QLabel()
        self.checksum_value.setFont(mono)
        for label in (self.model_value, self.origin_value, self.checksum_value):
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow(self.tr("Model:"), self.model_value)
        form.addRow(self.tr("Origin:"), self.origin_value)
        form.addRow(self.tr("SHA-256:"), self.checksum_value)

        fetch = QGroupBox(self.tr("Download a model"))
        box = QVBoxLayout(fetch)
        self.hint_label = QLabel()
        self.hint_label.setWordWrap(True)
        box.addWidget(self.hint_label)
        fields = QFormLayout()
        fields.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.source_edit = QLineEdit()
        self.source_edit.setPlaceholderText(self.tr("https://… or a Google Drive file id"))
        self.sha_edit = QLineEdit()
        self.sha_edit.setFont(mono)
        self.sha_edit.setPlaceholderText(self.tr("64 hexadecimal characters, from the release notes"))
        self.version_edit = QLineEdit()
        self.version_edit.setPlaceholderText(self.tr("optional, e.g. 0.3.0"))
        fields.addRow(self.tr("&Source:"), self.source_edit)
        fields.addRow(self.tr("SHA-&256:"), self.sha_edit)
        fields.addRow(self.tr("&Version:"), self.version_edit)
        box.addLayout(fields)
        note = QLabel(self.tr("The file is checked against its checksum and test-loaded before it replaces "
                              "the model in use; the model bundled with the program is always kept."))
        note.setWordWrap(True)
        note.setObjectName("note")
        box.addWidget(note)

        self.outcome_label = QLabel()
        self.outcome_label.setObjectName("note")
        self.outcome_label.setWordWrap(True)
        self.outcome_label.hide()

        self.restore_button = QPushButton(self.tr("&Restore bundled model"))
        self.restore_button.setToolTip(self.tr("Use the model that came with the program again; "
                                               "downloaded files are kept"))
        self.restore_button.setAutoDefault(False)
        self.restore_button.clicked.connect(self.restore_bundled)
        self.download_button = QPushButton(self.tr("&Download"))
        self.download_button.setDefault(True)
        self.download_button.clicked.connect(self.start_download)
        self.close_button = QPushButton(self.tr("Close"))
        self.close_button.setAutoDefault(False)
        self.close_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.restore_button)
        buttons.addStretch(1)
        buttons.addWidget(self.download_button)
        buttons.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.setSpacing(12)
        layout.addWidget(current)
        layout.addWidget(fetch)
        layout.addWidget(self.outcome_label)
        layout.addStretch(1)  # extra height goes below the content, not into the group boxes
        layout.addLayout(buttons)
        self.setStyleSheet("QLabel#note { color: #5f6670; }")
        self.setMinimumWidth(620)

    def _prefill(self) -> None:
        try:
            source, sha256 = download.default_source()
        except KneeOAError:
            source, sha256 = None, ""
        if source:
            self.source_edit.setText(source)
            self.sha_edit.setText(sha256)
            self.hint_label.setText(self.tr("The address and checksum named by the bundled model card are filled "
                                            "in. For a newer model, paste those given in its release notes."))
        else:
            # A checksum without its address would only invite a mismatch: both stay empty.
            self.hint_label.setText(self.tr("No download address is configured for this model. Paste the address "
                                            "and SHA-256 checksum given in the release notes of the newer model."))

    def refresh(self) -> None:
        """Show the model now in use and enable what applies to it."""
        active = model_store.active_model()
        try:
            manifest = load_manifest(active.directory)
        except KneeOAError as exc:
            self.model_value.setText(i18n.core_message(exc))
            self.checksum_value.setText("—")
            self.checksum_value.setToolTip("")
        else:
            self.model_value.setText(manifest.tag)
            self.checksum_value.setText(f"{manifest.sha256[:16]}…")
            self.checksum_value.setToolTip(manifest.sha256)
        self.origin_value.setText(i18n.describe_origin(active))
        self._set_busy(self.is_downloading())

    def _set_busy(self, busy: bool) -> None:
        for widget in (self.source_edit, self.sha_edit, self.version_edit, self.download_button):
            widget.setEnabled(not busy)
        self.restore_button.setEnabled(not busy and not model_store.active_model().bundled)

    # --- download ------------------------------------------------------------------------------

    def is_downloading(self) -> bool:
        return self._job is not None

    def start_download(self) -> bool:
        """Check the fields, then start the download on its thread; False if a field is wrong."""
        if self.is_downloading():
            return False
        source = self.source_edit.text().strip()
        sha256 = self.sha_edit.text().strip()
        version = self.version_edit.text().strip()
        if not source:
            self._field_error(self.source_edit, self.tr("Enter the address of the model file (an https URL) "
                                                        "or its Google Drive file id."))
            return False
        try:
            url = download.resolve_source(source)
        except DownloadError as exc:
            self._field_error(self.source_edit, i18n.core_message(exc))
            return False
        try:
            sha256 = download.check_sha256(sha256)
        except DownloadError as exc:
            self._field_error(self.sha_edit, i18n.core_message(exc))
            return False
        if version and not download.valid_version(version):
            self._field_error(self.version_edit, self.tr("The version may hold only letters, digits, dots, "
                                                         "dashes, plus signs and underscores (e.g. 0.3.0)."))
            return False
        self._host = urlsplit(url).hostname or source
        self.outcome_label.hide()
        job = ModelDownload(source, sha256, version or None, validate=self.validate, parent=self)
        job.progressed.connect(self._on_progress)
        job.transferred.connect(self._on_transferred)
        job.installed.connect(self._on_installed)
        job.failed.connect(self._on_failed)
        job.cancelled.connect(self._on_cancelled)
        job.finished.connect(self._on_finished)
        self._job = job
        self._set_busy(True)
        self._open_progress()
        log.info("download of a model from %s requested", source)
        job.start()
        return True

    def _open_progress(self) -> None:
        progress = QProgressDialog(self)
        progress.setWindowTitle(self.tr("Downloading model"))
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setAutoClose(False)
        progress.setAutoReset(False)
        progress.setMinimumDuration(0)
        progress.setRange(0, 0)  # a busy bar until the server says how much is coming
        progress.setLabelText(self.tr("Connecting to {0}…").format(self._host))
        self._cancel_button = QPushButton(self.tr("Cancel"))
        progress.setCancelButton(self._cancel_button)
        progress.canceled.connect(self.cancel_download)
        progress.setMinimumWidth(480)
        self._progress = progress
        progress.show()

    def progress_dialog(self) -> QProgressDialog | None:
        return self._progress

    def cancel_download(self) -> None:
        if self._job is not None:
            self._job.cancel()

    def _on_progress(self, received: int, total: int | None) -> None:
        progress = self._progress
        if progress is None:
            return
        if total:
            permille = min(PROGRESS_STEPS, received * PROGRESS_STEPS // total)
            if progress.maximum() != PROGRESS_STEPS:
                progress.setRange(0, PROGRESS_STEPS)
            progress.setValue(permille)
            # The bar itself shows the percentage.
            progress.setLabelText(self.tr("Downloading from {0}: {1} of {2}").format(
                self._host, self._size(received), self._size(total)))
        else:
            progress.setLabelText(self.tr("Downloading from {0}: {1} received").format(self._host,
                                                                                        self._size(received)))

    def _on_transferred(self) -> None:
        if self._progress is not None:
            # The core now checks the checksum and test-loads the model; that cannot be cancelled.
            self._progress.setRange(0, 0)
            self._progress.setLabelText(self.tr("Checking the downloaded model…"))
            if self._cancel_button is not None:
                self._cancel_button.setEnabled(False)

    def _close_progress(self) -> None:
        if self._progress is not None:
            self._progress.canceled.disconnect(self.cancel_download)
            self._progress.close()
            self._progress.deleteLater()
            self._progress = None
            self._cancel_button = None

    def _on_installed(self, manifest) -> None:
        self._close_progress()
        self.installed.emit(manifest)
        self.accept()

    def _on_failed(self, message: str) -> None:
        self._close_progress()
        self.show_error(i18n.core_message(message))

    def _on_cancelled(self, message: str) -> None:
        self._close_progress()
        self.outcome_label.setText(i18n.core_message(message))
        self.outcome_label.show()
        self.cancelled.emit()

    def _on_finished(self) -> None:
        job, self._job = self._job, None
        if job is not None:
            job.deleteLater()
        self._set_busy(False)

    def _stop_download(self) -> None:
        """Cancel a running download and wait for its thread (closing must not orphan it)."""
        job = self._job
        if job is not None:
            job.cancel()
            job.wait()  # the transfer stops within a chunk; a test load in progress finishes first

    # --- restore -------------------------------------------------------------------------------

    def restore_bundled(self) -> None:
        try:
            model_store.restore_bundled()
        except KneeOAError as exc:
            self.show_error(i18n.core_message(exc))
            return
        self.refresh()
        self.outcome_label.setText(self.tr("The model bundled with the program is in use again."))
        self.outcome_label.show()
        self.restored.emit()

    # --- messages and closing ------------------------------------------------------------------

    def _field_error(self, field: QLineEdit, text: str) -> None:
        field.setFocus()
        field.selectAll()
        self.show_error(text)

    def show_error(self, text: str) -> None:
        """One sentence over the dialog, without blocking it; logged for the developer too."""
        self.last_error = text
        log.info("model dialog message: %s (source %s)", text, self.source_edit.text().strip() or "none")
        box = self._messages.new(QMessageBox.Icon.Warning, self.windowTitle(), text)
        box.addButton(QMessageBox.StandardButton.Ok)
        box.open()
        self.error_shown.emit(text)

    def message_box(self) -> QMessageBox | None:
        return self._messages.box

    def done(self, result: int) -> None:
        self._stop_download()
        self._close_progress()
        self._messages.close()
        super().done(result)

    def _size(self, count: int) -> str:
        if count < 1024 * 1024:
            return self.tr("{0} KB").format(max(0, round(count / 1024)))
        return self.tr("{0} MB").format(f"{count / (1024 * 1024):.1f}")
