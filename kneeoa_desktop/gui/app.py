"""Start the desktop application: ``kneeoa-desktop [FILE]`` or ``python -m kneeoa_desktop [FILE]``.

The window is shown first; the model is loaded on the worker thread only once the window is
on screen, so TensorFlow's import never delays the first paint. A FILE given on the command
line is graded as soon as the model is ready.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Callable

from .. import __version__

_STARTED = time.time()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kneeoa-desktop",
        description="KneeOA Desktop: Kellgren–Lawrence grading of knee radiographs "
                    "(decision support only — not a diagnosis).")
    parser.add_argument("file", nargs="?", metavar="FILE", help="a radiograph to open (PNG, JPEG, BMP, TIFF, DICOM)")
    parser.add_argument("--language", choices=("en", "ru"), help="interface language for this session "
                        "(default: the one chosen in View ▸ Language, else the system's)")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--self-test", action="store_true", help="check, without opening a window, that the model "
                        "loads and grades the built-in sample radiograph; prints one line (exit 0 passed, 1 failed)")
    # For scripts/benchmark_gui.py: print when the window is exposed and the first result is
    # shown (seconds since the epoch), and quit after the first result.
    parser.add_argument("--timing", action="store_true", help=argparse.SUPPRESS)
    # For tests/test_windows_installer.py: Qt's platform plugin (e.g. offscreen), for systems
    # where QT_QPA_PLATFORM cannot be set (Wine does not pass QT_* variables to Windows
    # programs), and a PNG of the window saved once the first result is shown (then it quits).
    parser.add_argument("--qt-platform", metavar="NAME", help=argparse.SUPPRESS)
    parser.add_argument("--screenshot", metavar="PNG", help=argparse.SUPPRESS)
    return parser


def configure_application(app) -> None:
    from PySide6.QtGui import QGuiApplication

    from .resources import icon
    from .settings import APPLICATION, ORGANIZATION

    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationVersion(__version__)
    app.setWindowIcon(icon("kneeoa"))
    QGuiApplication.setDesktopFileName("kneeoa-desktop")
    app.setStyle("Fusion")  # one predictable look on every platform; the palette follows the system


def launch(argv: list[str] | None = None, *, predictor_factory: Callable[[], object] | None = None,
           settings=None):
    """Create (or reuse) the QApplication and show the window; returns (app, window, args).

    Tests pass a ``predictor_factory`` that hands back an already loaded model and their own
    ``settings``; the real program loads the shipped model inside the worker thread.
    """
    from PySide6.QtWidgets import QApplication

    from . import i18n
    from .main_window import MainWindow
    from .settings import Settings

    args = build_parser().parse_args(argv)
    _choose_platform(args.qt_platform)
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "kneeoa-desktop"])
    configure_application(app)
    settings = settings or Settings()
    languages = i18n.LanguageSwitcher(app)
    languages.apply(args.language or settings.language)
    window = MainWindow(settings, languages, predictor_factory)
    if args.timing:
        _report_timing(window)
    if args.screenshot:
        _save_screenshot(window, Path(args.screenshot))
    _start_when_exposed(window)
    window.show()
    if args.file:
        window.open_path(Path(args.file))
    return app, window, args


def _choose_platform(name: str | None) -> None:
    """Set Qt's platform before the QApplication exists; give Windows' offscreen one fonts.

    Qt's offscreen platform on Windows reads fonts only from QT_QPA_FONTDIR (it has no
    fontconfig and does not ask Windows); without it every label is blank. The bundled
    DejaVu fonts are the ones the annotated export uses too.
    """
    import os

    if name:
        os.environ["QT_QPA_PLATFORM"] = name
    if sys.platform == "win32" and os.environ.get("QT_QPA_PLATFORM") == "offscreen":
        from ..core.paths import resources_dir

        os.environ.setdefault("QT_QPA_FONTDIR", str(resources_dir() / "fonts"))


def _save_screenshot(window, path: Path) -> None:
    """Once the first result is shown and the layout has settled, save the window and quit."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    window.resize(1280, 800)  # the size of docs/screenshot.png

    def save():
        saved = window.grab().save(str(path))
        print(f"kneeoa-desktop screenshot {path} {'saved' if saved else 'FAILED'}", flush=True)
        QApplication.instance().exit(0 if saved else 1)

    window.result_shown.connect(lambda _result: QTimer.singleShot(800, save))
    window.error_shown.connect(lambda text: (print(f"kneeoa-desktop screenshot error {text}", flush=True),
                                             QApplication.instance().exit(1)))


def _start_when_exposed(window) -> None:
    """Load the model once the window has been painted, not before: the import holds the GIL."""
    from PySide6.QtCore import QEvent, QObject, QTimer

    class _Exposed(QObject):
        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.Expose and obj.isExposed():
                obj.removeEventFilter(self)
                QTimer.singleShot(0, window.start)
            return False

    window.winId()  # creates the native window, so that its expose event can be watched
    handle = window.windowHandle()
    watcher = _Exposed(window)
    handle.installEventFilter(watcher)
    # If the platform never reports an exposure (some headless ones), start anyway.
    QTimer.singleShot(1500, window.start)


def _report_timing(window) -> None:
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication

    def say(what: str) -> None:
        print(f"kneeoa-desktop timing {what} {time.time():.3f} started {_STARTED:.3f}", flush=True)

    class _Exposed(QObject):
        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.Expose and obj.isExposed():
                obj.removeEventFilter(self)
                say("window-exposed")
            return False

    window.winId()
    window.windowHandle().installEventFilter(_Exposed(window))

    def on_result(_result):
        say("first-result")
        QTimer.singleShot(0, QApplication.instance().quit)

    def on_error(text):
        print(f"kneeoa-desktop timing error {text}", flush=True)
        QTimer.singleShot(0, QApplication.instance().quit)

    window.result_shown.connect(on_result)
    window.error_shown.connect(on_error)


def main(argv: list[str] | None = None) -> int:
    app, window, _args = launch(argv)
    code = app.exec()
    window.close()  # saves settings and stops the worker thread if the loop ended otherwise
    return code


def main_entry() -> None:
    """Console-script entry point (``kneeoa-desktop``)."""
    if build_parser().parse_args().self_test:  # before any PySide6 import: runs with no display
        from ..selftest import main as self_test

        sys.exit(self_test())
    from ..core.logs import setup_logging
    from .unexpected import install_exception_hook

    # Before the window (it is cheap): the first faults of a session are worth a record too.
    install_exception_hook(setup_logging("gui"))
    sys.exit(main())
