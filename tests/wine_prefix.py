"""A fresh Wine prefix for tests/test_windows_installer.py: run Windows programs, read its registry.

Wine's rules that shape this helper (docs/BUILDING.md, "Windows under Wine"): a Windows CPython
dies at start when its stdout is a regular file, so every program's output goes to a pipe;
variables named ``QT_*`` never reach a Windows program; Inno Setup's installer and uninstaller
need an X display even when silent (``xvfb-run``); the registry reaches ``system.reg`` and
``user.reg`` only when the wineserver has written it (``wineserver -w`` waits for that).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path, PureWindowsPath

#: Inno Setup's uninstall key is named after the installer's AppId (packaging/windows/kneeoa.iss).
UNINSTALL_KEY = r"Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\{497300B3-F5B5-45F0-9478-AD3E16835537}_is1"


def winpath(path: Path | str) -> str:
    """A Linux path as Windows programs under Wine see it (drive Z: is /)."""
    return "Z:" + str(Path(path).resolve()).replace("/", "\\")


class WinePrefix:
    """One 64-bit Wine prefix (Windows 10), made from nothing in ``folder``."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "QT_", "WINE", "DISPLAY"))},
            "WINEPREFIX": str(folder), "WINEARCH": "win64", "WINEDEBUG": "-all",
            # No prompts for Mono or Gecko, and no Linux menu entries made from the Start menu
            # (winemenubuilder would write into this machine's ~/.local/share/applications).
            "WINEDLLOVERRIDES": "mscoree,mshtml=;winemenubuilder.exe=d",
        }
        self.drive_c = folder / "drive_c"

    def create(self) -> None:
        self._call(["wineboot", "-i"], timeout=300)
        self.wait()

    def _call(self, args: list[str], *, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run(args, env={**self.env, **(env or {})}, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, errors="replace", timeout=timeout)

    def run(self, exe: Path | str, *args: str, env: dict | None = None, timeout: float = 600,
            display: bool = False) -> subprocess.CompletedProcess:
        """Run a Windows program (a Linux path or a C:\\ path); with ``display``, under Xvfb."""
        target = exe if isinstance(exe, str) and ":" in exe[:3] else str(exe)
        command = ["wine", target, *args]
        if display:
            command = [shutil.which("xvfb-run"), "-a", "-s", "-screen 0 1280x800x24", *command]
        return self._call(command, env=env, timeout=timeout)

    def wait(self) -> None:
        """Wait until every program of the prefix has ended and the registry is on disk."""
        self._call(["wineserver", "-w"], timeout=120)

    def registry(self, hive: str) -> str:
        """The text of ``system.reg`` (HKLM) or ``user.reg`` (HKCU), after ``wait()``."""
        self.wait()
        return (self.folder / hive).read_text(encoding="utf-8", errors="replace")

    def has_key(self, hive: str, key: str) -> bool:
        """Whether ``key`` (written with doubled backslashes, as .reg files do) is in ``hive``."""
        return re.search(r"^\[" + re.escape(key) + r"\]", self.registry(hive), re.MULTILINE | re.IGNORECASE) is not None

    def unix(self, windows_path: str) -> Path:
        """A C:\\ path of this prefix as a Linux path."""
        parts = PureWindowsPath(windows_path).parts
        assert parts[0].upper() == "C:\\", windows_path
        return self.drive_c.joinpath(*parts[1:])

    def user_folder(self) -> Path:
        """C:\\users\\<name>: Wine names the Windows user after the Linux one."""
        users = [p for p in (self.drive_c / "users").iterdir() if p.name not in ("Public", "public")]
        assert len(users) == 1, users
        return users[0]
