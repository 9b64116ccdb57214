"""The window's actions, menus and toolbar: what each command is called, its shortcut and icon,
where it sits, and when it is enabled.

``WindowActions`` only builds and labels; each action calls the window's (or the image view's)
own method, so every command can also be run from code and from tests. The recent-files menu
is rebuilt from the settings each time it opens, so it never lists a stale order.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QSize, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QApplication, QMainWindow

from . import i18n
from .resources import icon
from .samples_menu import fill_samples_menu
from .settings import Settings


class WindowActions(QObject):
    """Builds ``window``'s menus and toolbar; ``window`` provides the slots (open_dialog, …)."""

    def __init__(self, window: QMainWindow, settings: Settings):
        super().__init__(window)
        self._window = window
        self._settings = settings
        self._build_actions(window)
        self._build_menus(window)

    def _action(self, slot, shortcut=None, icon_name: str | None = None, checkable=False) -> QAction:
        action = QAction(self._window)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if icon_name:
            action.setIcon(icon(icon_name))
        action.setCheckable(checkable)
        (action.toggled if checkable else action.triggered).connect(slot)
        return action

    def _build_actions(self, w) -> None:
        view, controls = w.view, w.controls
        self.open_action = self._action(w.open_dialog, QKeySequence.StandardKey.Open, "open")
        self.export_action = self._action(w.export_dialog, "Ctrl+E", "export")
        self.quit_action = self._action(w.close, QKeySequence.StandardKey.Quit)
        self.clear_recent_action = self._action(self._clear_recent)
        self.patient_action = QAction(w)
        self.patient_action.setCheckable(True)  # deliberately not remembered: privacy by default
        self.region_action = self._action(view.set_region_mode, "Ctrl+R", "region", checkable=True)
        view.region_mode_changed.connect(self._sync_region_action)
        self.clear_region_action = self._action(w.clear_region, "Ctrl+Shift+R", "clear-region")
        self.fit_action = self._action(view.fit_to_window, "Ctrl+0", "fit")
        self.zoom_in_action = self._action(lambda: view.zoom_by(1.25), QKeySequence.StandardKey.ZoomIn, "zoom-in")
        self.zoom_out_action = self._action(lambda: view.zoom_by(0.8), QKeySequence.StandardKey.ZoomOut, "zoom-out")
        self.overlay_action = self._action(controls.show_box.setChecked, "O", checkable=True)
        controls.show_box.toggled.connect(self.overlay_action.setChecked)
        self.about_action = self._action(w.show_about)
        self.update_action = self._action(w.open_model_dialog)
        self.log_folder_action = self._action(w.show_log_folder)
        self.about_qt_action = self._action(QApplication.aboutQt)

        self.language_group = QActionGroup(w)
        self.language_actions: dict[str, QAction] = {}
        for code in (i18n.SYSTEM, *i18n.LANGUAGES):
            action = QAction(self.language_group)
            action.setCheckable(True)
            action.setData(code)
            action.triggered.connect(lambda _checked=False, c=code: w.set_language(c))
            self.language_actions[code] = action
            if code:
                action.setText(i18n.LANGUAGES[code])
        self.update_enabled(None)

    def _build_menus(self, w) -> None:
        bar = w.menuBar()
        self.file_menu = bar.addMenu("")
        self.file_menu.addAction(self.open_action)
        self.recent_menu = self.file_menu.addMenu("")
        self.recent_menu.aboutToShow.connect(self.fill_recent_menu)
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

        self.toolbar = w.addToolBar("")
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
        self.fill_recent_menu()

    # --- state ---------------------------------------------------------------------------------

    def update_enabled(self, shown) -> None:
        """Commands that need a graded film are enabled only while one (``shown``) is on screen."""
        has_result = shown is not None
        self.export_action.setEnabled(has_result)
        self.region_action.setEnabled(has_result)
        self.clear_region_action.setEnabled(has_result and shown.manual)
        for action in (self.fit_action, self.zoom_in_action, self.zoom_out_action):
            action.setEnabled(has_result)

    def check_language(self, code: str) -> None:
        self.language_actions.get(code, self.language_actions[i18n.SYSTEM]).setChecked(True)

    def _sync_region_action(self, enabled: bool) -> None:
        self.region_action.blockSignals(True)
        self.region_action.setChecked(enabled)
        self.region_action.blockSignals(False)

    # --- recent files --------------------------------------------------------------------------

    def fill_recent_menu(self) -> None:
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
            self.fill_recent_menu()
        self._window.open_path(path)  # a missing file is reported by the core, in its words

    def _clear_recent(self) -> None:
        self._settings.clear_recent()
        self.fill_recent_menu()

    # --- language ------------------------------------------------------------------------------

    def retranslate(self) -> None:
        self.file_menu.setTitle(self.tr("&File"))
        self.recent_menu.setTitle(self.tr("Open &Recent"))
        self.view_menu.setTitle(self.tr("&View"))
        self.language_menu.setTitle(self.tr("&Language"))
        self.region_menu.setTitle(self.tr("&Region"))
        self.help_menu.setTitle(self.tr("&Help"))
        self.samples_menu.setTitle(self.tr("Open a &sample radiograph"))
        fill_samples_menu(self.samples_menu, self._window.open_path)
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
        self.fill_recent_menu()
