"""Endurance: many gradings in one process must not leak memory, crash or show a stale result.

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/endurance.py [--count 1000] [--drops 200] [--images DIR]

Three runs, one figure line each:

- core:   COUNT gradings through the core (load_image, Predictor.predict, the evidence overlay
          composed at two brightnesses, render_annotated into memory);
- worker: COUNT gradings through the GUI's Grader / GradingWorker QThread, one after another;
- drops:  DROPS rapid file drops onto the main window (kneeoa_desktop.gui.app.launch), alternating
          between different images without waiting for results; the window must end showing
          the last image dropped, with the core's probabilities for it.

Resident memory (VmRSS) is read after a warm-up of 20 gradings and at the end; growth above
--max-growth-mb (default 50) fails the run (exit status 1). Images: --images DIR (searched
recursively), else the dataset's val/ split, else synthetic radiographs from tests/samples.py.
The functions are reused by tests/test_endurance.py with smaller counts.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

WARM_UP = 20
DATA_DIR = Path(os.environ.get("KNEEOA_DATA", REPO.parent / "shared" / "data" / "kneeKL224"))
SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".dcm")


def rss_mb() -> float:
    """Current resident memory: /proc (Linux), else psutil, else the peak from getrusage."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    try:
        import psutil

        return psutil.Process().memory_info().rss / 2**20
    except ImportError:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes on macOS, kB elsewhere


@dataclass
class Figure:
    name: str
    count: int
    rss_start: float
    rss_end: float
    seconds: float
    note: str = ""
    failures: int = 0

    @property
    def growth(self) -> float:
        return self.rss_end - self.rss_start

    def line(self) -> str:
        per = 1000 * self.seconds / max(1, self.count)
        return (f"{self.name}: {self.count} {'drops' if self.name == 'drops' else 'gradings'}, "
                f"RSS {self.rss_start:.1f} -> {self.rss_end:.1f} MB ({self.growth:+.1f} MB), "
                f"{per:.1f} ms/{'drop' if self.name == 'drops' else 'grading'}" + (f", {self.note}" if self.note else ""))


def find_images(folder: Path | None, limit: int = 40) -> list[Path]:
    """Different radiographs to alternate between: from ``folder``, the val split, or synthetic."""
    for root in ([folder] if folder else []) + [DATA_DIR / "val"]:
        if root and root.is_dir():
            found = sorted(p for p in root.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file())
            if found:
                step = max(1, len(found) // limit)  # spread over the grades' subfolders
                return found[::step][:limit]
    import cv2

    from tests.samples import synthetic_knee

    out = Path(tempfile.mkdtemp(prefix="kneeoa-endurance-"))
    paths = []
    for i in range(8):
        path = out / f"synthetic_{i}.png"
        cv2.imwrite(str(path), synthetic_knee(224, seed=i))
        paths.append(path)
    return paths


def measure(grade, count: int, settle=lambda: None) -> tuple[float, float, float]:
    """Warm up with ``WARM_UP`` gradings, then run ``count``: (RSS before, RSS after, seconds).

    ``settle`` runs before each RSS reading (e.g. to deliver queued Qt events), after which
    garbage is collected, so both readings see the same kind of quiet process.
    """
    for i in range(WARM_UP):
        grade(i)
    settle()
    gc.collect()
    start_rss, start = rss_mb(), time.perf_counter()
    for i in range(count):
        grade(i)
    seconds = time.perf_counter() - start
    settle()
    gc.collect()
    return start_rss, rss_mb(), seconds


# --- (a) the core --------------------------------------------------------------------------------

def core_run(predictor, images: list[Path], count: int) -> Figure:
    from kneeoa_desktop.core.outputs.export import render_annotated
    from kneeoa_desktop.core.film.imaging import load_image
    from kneeoa_desktop.core.outputs.overlay import EvidenceOverlay

    def grade(i: int) -> None:
        image = load_image(images[i % len(images)])
        prediction = predictor.predict(image)
        display = image.display_u8()
        overlay = EvidenceOverlay(display, prediction.evidence_map(prediction.grade), prediction.roi)
        overlay.compose(0.5)
        overlay.compose(2.5)
        render_annotated(display, prediction, overlay=overlay, brightness=1.5)

    return Figure("core", count, *measure(grade, count))


# --- (b) the GUI worker thread -------------------------------------------------------------------

def _app():
    from PySide6.QtWidgets import QApplication

    return QApplication.instance() or QApplication(["kneeoa-endurance"])


def worker_run(predictor, images: list[Path], count: int, timeout_s: float = 120.0) -> Figure:
    """Grade one file at a time through Grader and wait for each result on the GUI thread."""
    from PySide6.QtCore import QEventLoop, QObject, QTimer, Slot

    from kneeoa_desktop.gui.worker import Grader

    app = _app()

    class Receiver(QObject):  # lives on the GUI thread: the worker's signals arrive queued
        def __init__(self):
            super().__init__()
            self.loop = QEventLoop()
            self.done: dict[int, int | str] = {}

        @Slot(object)
        def graded(self, result) -> None:
            self.done[result.request_id] = result.prediction.grade
            self.loop.quit()

        @Slot(int, str)
        def failed(self, request_id: int, message: str) -> None:
            self.done[request_id] = message
            self.loop.quit()

    grader = Grader(lambda: predictor)
    receiver = Receiver()
    grader.worker.graded.connect(receiver.graded)
    grader.worker.failed.connect(receiver.failed)
    guard = QTimer()
    guard.setSingleShot(True)
    guard.timeout.connect(receiver.loop.quit)
    failures: list[str] = []

    def grade(i: int) -> None:
        request = grader.grade_file(images[i % len(images)])
        guard.start(int(timeout_s * 1000))
        while request not in receiver.done and guard.isActive():
            receiver.loop.exec()
        guard.stop()
        outcome = receiver.done.pop(request, "no result in time")
        if isinstance(outcome, str):
            failures.append(f"{images[i % len(images)].name}: {outcome}")

    try:
        start_rss, end_rss, seconds = measure(grade, count, settle=app.processEvents)
    finally:
        grader.shutdown()
    return Figure("worker", count, start_rss, end_rss, seconds,
                  f"{len(failures)} failed" + (f" (first: {failures[0]})" if failures else ""), len(failures))


# --- (c) rapid drops onto the main window --------------------------------------------------------

def drop(window, path: Path) -> bool:
    """Drag-enter and drop ``path`` on the window, as a file manager would."""
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    point = QPointF(window.rect().center())
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    enter = QDragEnterEvent(point, *args)
    QApplication.sendEvent(window, enter)
    if not enter.isAccepted():
        return False
    event = QDropEvent(point, *args)
    QApplication.sendEvent(window, event)
    return event.isAccepted()


def drops_run(predictor, images: list[Path], count: int, timeout_s: float = 120.0) -> tuple[Figure, list[str]]:
    """Drop ``count`` files quickly; return the figure and a list of problems (empty when all is well)."""
    import numpy as np
    from PySide6.QtCore import QSettings

    from kneeoa_desktop.core.film.imaging import load_image
    from kneeoa_desktop.gui.app import launch
    from kneeoa_desktop.gui.settings import Settings

    app = _app()
    problems: list[str] = []
    calls = {"n": 0}

    class Counting:  # the real model, counting how many drops were actually graded
        def __getattr__(self, name):
            return getattr(predictor, name)

        def predict(self, image):
            calls["n"] += 1
            return predictor.predict(image)

    with tempfile.TemporaryDirectory(prefix="kneeoa-endurance-settings-") as folder:
        settings = Settings(QSettings(str(Path(folder) / "settings.ini"), QSettings.Format.IniFormat))
        _, window, _ = launch(["--language", "en"], predictor_factory=Counting, settings=settings)
        try:
            window.start()
            deadline = time.monotonic() + timeout_s
            while window.model_label.text().endswith("loading…") and time.monotonic() < deadline:
                app.processEvents()
                time.sleep(0.01)
            shown: list[Path] = []
            window.result_shown.connect(lambda result: shown.append(result.path))
            pair = [images[0], images[len(images) // 2]] if len(images) > 1 else images * 2
            start_rss, start = rss_mb(), time.perf_counter()
            last = None
            for i in range(count):
                last = pair[i % 2] if i % 5 else images[i % len(images)]  # mostly two, sometimes others
                if not drop(window, last):
                    problems.append(f"drop {i} of {last.name} was refused")
                app.processEvents()  # results of earlier drops may arrive between drops
                if i % 10 == 9:
                    time.sleep(0.02)  # now and then the worker gets far enough to finish one
                    app.processEvents()
            deadline = time.monotonic() + timeout_s
            while (window.is_busy() or window.shown() is None) and time.monotonic() < deadline:
                app.processEvents()
                time.sleep(0.005)
            settle = time.monotonic() + 0.5  # anything still in flight arrives, and must be dropped
            while time.monotonic() < settle:
                app.processEvents()
                time.sleep(0.005)
            seconds = time.perf_counter() - start
            end_rss = rss_mb()
            result = window.shown()
            if result is None or result.path != last:
                problems.append(f"the window shows {getattr(result, 'path', None)}, not the last drop {last}")
            if last.name not in window.windowTitle():
                problems.append(f"the title {window.windowTitle()!r} does not name {last.name}")
            expected = predictor.predict(load_image(last)).probabilities
            bars = np.array(window.verdict.probabilities())
            if bars.shape != expected.shape or not np.allclose(bars, expected, atol=1e-6):
                problems.append(f"the bars {bars} are not the core's {expected} for {last.name}")
            if shown and shown[-1] != last:
                problems.append(f"the last result shown was {shown[-1]}")
        finally:
            window.close()
            if window.grader.thread.isRunning():
                problems.append("the worker thread did not stop with the window")
    note = f"{calls['n']} graded, {len(shown)} shown, final display {'matches' if not problems else 'WRONG'}"
    return Figure("drops", count, start_rss, end_rss, seconds, note, len(problems)), problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000, help="gradings for the core and worker runs")
    parser.add_argument("--drops", type=int, default=200, help="rapid drops onto the window")
    parser.add_argument("--images", type=Path, help="folder of radiographs (default: the val split)")
    parser.add_argument("--max-growth-mb", type=float, default=50.0)
    args = parser.parse_args(argv)

    from kneeoa_desktop.core.model.model_store import active_weights_dir
    from kneeoa_desktop.core.model.predictor import Predictor

    images = find_images(args.images)
    predictor = Predictor(active_weights_dir())
    print(f"images: {len(images)} from {images[0].parent.parent if len(images) > 1 else images[0].parent}; "
          f"model {predictor.manifest.tag} on {predictor.device}", flush=True)
    failed = False
    for run in (lambda: core_run(predictor, images, args.count),
                lambda: worker_run(predictor, images, args.count)):
        figure = run()
        print(figure.line(), flush=True)
        failed = failed or figure.growth > args.max_growth_mb or figure.failures > 0
    figure, problems = drops_run(predictor, images, args.drops)
    print(figure.line(), flush=True)
    for problem in problems:
        print(f"  problem: {problem}", flush=True)
    failed = failed or bool(problems) or figure.growth > args.max_growth_mb
    print("FAILED: a limit was exceeded" if failed else f"OK: RSS growth within {args.max_growth_mb:g} MB everywhere")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
