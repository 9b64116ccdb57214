"""Settings ▸ Site calibration: load or clear a department's site profile (from `kneeoa calibrate`).

The profile itself is checked and applied on the grading thread (``GradingWorker.set_site_profile``:
a profile for another model, or a damaged one, is refused there with one sentence); this
controller owns the menu, remembers the profile in the settings (and hands it to every model the
worker loads), regrades the film on screen, and words the "Calibrated for …" line that the
verdict pane shows under a grade made with it. No image or model logic here.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog

from . import i18n


class SiteController(QObject):
    def __init__(self, window, settings, grader, help_menu):
        super().__init__(window)
        self._window, self._settings, self._grader = window, settings, grader
        self.profile = None  # the SiteProfile in use, as the worker last reported it
        self._asked = ""  # the path last handed to the worker
        self.menu = window.menuBar().addMenu("")
        window.menuBar().insertMenu(help_menu.menuAction(), self.menu)
        self.load_action = QAction(window)
        self.load_action.triggered.connect(self.choose)
        self.clear_action = QAction(window)
        self.clear_action.triggered.connect(self.clear)
        self.menu.addAction(self.load_action)
        self.menu.addAction(self.clear_action)
        # Queued from the worker thread: these run on the GUI thread, in the order sent.
        grader.worker.profile_changed.connect(self._on_changed)
        grader.worker.profile_failed.connect(self._on_failed)
        if settings.site_profile:
            self._ask(settings.site_profile, regrade=False)
        self.retranslate()

    def choose(self) -> None:
        folder = str(Path(self._asked).parent) if self._asked else self._settings.last_folder
        path, _ = QFileDialog.getOpenFileName(self._window, self.tr("Site calibration"), folder,
                                              self.tr("Site profiles (*.json);;All files (*)"))
        if path:
            self.use(path)

    def use(self, path: str) -> None:
        """Grade with the profile at ``path`` from now on (checked on the grading thread)."""
        self._ask(str(path))

    def clear(self) -> None:
        self._settings.site_profile = ""
        self._ask("")

    def _ask(self, path: str, regrade: bool = True) -> None:
        self._asked = path
        self._grader.set_site_profile(path)
        shown = self._window.state.shown
        if regrade and shown is not None:  # queued behind the profile: the film on screen follows it
            self._window.grade_region(shown.knee.region if shown.manual else None)

    def _on_changed(self, profile) -> None:
        self.profile = profile
        if profile is not None:
            self._settings.site_profile = self._asked
        self.clear_action.setEnabled(profile is not None)
        self._window.verdict.set_site_text(self.describe())

    def _on_failed(self, message) -> None:
        self._settings.site_profile = ""  # never again at the next start
        self._asked = ""
        self._window.show_error(i18n.core_message(message))

    def describe(self) -> str:
        """"Calibrated for SITE (N films, date)", translated ("" without a profile)."""
        p = self.profile
        if p is None:
            return ""
        return self.tr("Calibrated for {0} ({1} films, {2})").format(p.name, p.films, p.created)

    def retranslate(self) -> None:
        self.menu.setTitle(self.tr("&Settings"))
        self.load_action.setText(self.tr("Site &calibration…"))
        self.load_action.setStatusTip(self.tr("Grade as calibrated for your site (a profile written by "
                                              "kneeoa calibrate)"))
        self.clear_action.setText(self.tr("Clear site calibration"))
        self.clear_action.setEnabled(self.profile is not None)
        self._window.verdict.set_site_text(self.describe())
