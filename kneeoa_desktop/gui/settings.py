"""What the window remembers between sessions, stored with QSettings.

Last folder, last export folder, overlay brightness and visibility, window geometry,
language and recent files. Tests hand in a QSettings on a temporary INI file so that they
never touch the user's real settings.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from ..core.outputs.overlay import DEFAULT_BRIGHTNESS, MAX_BRIGHTNESS, MIN_BRIGHTNESS

ORGANIZATION = "KneeOA"
APPLICATION = "KneeOA Desktop"
MAX_RECENT = 8


class Settings:
    def __init__(self, store: QSettings | None = None):
        self.store = store if store is not None else QSettings(ORGANIZATION, APPLICATION)

    def _text(self, key: str, default: str = "") -> str:
        value = self.store.value(key, default)
        return value if isinstance(value, str) else default

    def _bytes(self, key: str) -> QByteArray | None:
        value = self.store.value(key)
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    @property
    def last_folder(self) -> str:
        folder = self._text("paths/last_folder")
        return folder if folder and Path(folder).is_dir() else str(Path.home())

    @last_folder.setter
    def last_folder(self, folder: str) -> None:
        self.store.setValue("paths/last_folder", str(folder))

    @property
    def export_folder(self) -> str | None:
        folder = self._text("paths/export_folder")
        return folder if folder and Path(folder).is_dir() else None

    @export_folder.setter
    def export_folder(self, folder: str) -> None:
        self.store.setValue("paths/export_folder", str(folder))

    @property
    def site_profile(self) -> str:
        """The site profile in use (a path; "" for none): checked again whenever a model loads."""
        return self._text("calibration/site_profile")

    @site_profile.setter
    def site_profile(self, path: str) -> None:
        self.store.setValue("calibration/site_profile", str(path or ""))

    @property
    def brightness(self) -> float:
        try:
            value = float(self.store.value("overlay/brightness", DEFAULT_BRIGHTNESS))
        except (TypeError, ValueError):  # a hand-edited settings file must not stop the program
            return DEFAULT_BRIGHTNESS
        return min(max(value, MIN_BRIGHTNESS), MAX_BRIGHTNESS)

    @brightness.setter
    def brightness(self, value: float) -> None:
        self.store.setValue("overlay/brightness", float(value))

    @property
    def overlay_visible(self) -> bool:
        return str(self.store.value("overlay/visible", "true")).lower() not in ("false", "0")

    @overlay_visible.setter
    def overlay_visible(self, visible: bool) -> None:
        self.store.setValue("overlay/visible", bool(visible))

    @property
    def language(self) -> str:
        """'en', 'ru', or '' to follow the system locale."""
        return self._text("ui/language")

    @language.setter
    def language(self, code: str) -> None:
        self.store.setValue("ui/language", code)

    @property
    def geometry(self) -> QByteArray | None:
        return self._bytes("window/geometry")

    @geometry.setter
    def geometry(self, data: QByteArray) -> None:
        self.store.setValue("window/geometry", data)

    @property
    def window_state(self) -> QByteArray | None:
        return self._bytes("window/state")

    @window_state.setter
    def window_state(self, data: QByteArray) -> None:
        self.store.setValue("window/state", data)

    @property
    def splitter_state(self) -> QByteArray | None:
        return self._bytes("window/splitter")

    @splitter_state.setter
    def splitter_state(self, data: QByteArray) -> None:
        self.store.setValue("window/splitter", data)

    @property
    def recent_files(self) -> list[str]:
        value = self.store.value("paths/recent_files", [])
        if isinstance(value, str):  # QSettings' INI format returns a one-item list as a string
            value = [value]
        if not isinstance(value, list):
            return []
        return [str(item) for item in value if item][:MAX_RECENT]

    def add_recent(self, path: str | Path) -> None:
        path = str(Path(path).absolute())
        files = [path] + [item for item in self.recent_files if item != path]
        self.store.setValue("paths/recent_files", files[:MAX_RECENT])

    def remove_recent(self, path: str | Path) -> None:
        path = str(path)
        self.store.setValue("paths/recent_files", [item for item in self.recent_files if item != path])

    def clear_recent(self) -> None:
        self.store.setValue("paths/recent_files", [])

    def sync(self) -> None:
        self.store.sync()
