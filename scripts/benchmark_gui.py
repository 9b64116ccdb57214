#!/usr/bin/env python3
"""Print the desktop application's speed figures (issue 4) and check them against the targets.

Usage: python scripts/benchmark_gui.py [IMAGE] [--runs N] [--large SIDE]
Run it under the display you care about, e.g. ``xvfb-run -s "-screen 0 1400x900x24" …``;
without a display it uses Qt's offscreen platform.

1. Window visible: from starting a fresh ``python -m kneeoa_desktop IMAGE`` process to the
   window's first exposure on screen (target ≤ 1.0 s). Median and worst of N cold launches.
2. First grading: from the same start to the first result on screen, the engine's start and
   the model load included (target ≤ 2.0 s; the window loads the model in the background as
   soon as it is on screen). ``KNEEOA_ENGINE=tensorflow`` measures the TensorFlow engine.
3. Brightness slider: one step of a slider drag → overlay recomposed → image pane repainted,
   timed synchronously (target < 30 ms), for IMAGE and for a large SIDE×SIDE radiograph
   (which is recomposed at display resolution during the drag), plus the full-resolution
   recomposition when the slider is let go.
Each launch uses a temporary settings folder, so the user's settings are not touched.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DATA = REPO.parent / "shared" / "data" / "kneeKL224" / "val"
TARGET_VISIBLE_S, TARGET_FIRST_GRADING_S, TARGET_SLIDER_MS = 1.0, 2.0, 30.0


def _default_image() -> Path:
    images = sorted((DATA / "2").glob("*.png"))
    if not images:
        sys.exit("no IMAGE given and the kneeKL224 dataset is not beside the repository")
    return images[0]


def _platform_env(config_home: str) -> dict:
    env = dict(os.environ, XDG_CONFIG_HOME=config_home, HOME=os.environ.get("HOME", config_home))
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
    return env


def cold_launch(image: Path) -> tuple[float, float]:
    """Seconds from process start to (window exposed, first result shown)."""
    with tempfile.TemporaryDirectory() as config_home:
        env = _platform_env(config_home)
        start = time.time()
        proc = subprocess.run([sys.executable, "-m", "kneeoa_desktop", str(image), "--timing", "--language", "en"],
                              cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    stamps = {}
    for line in proc.stdout.splitlines():
        parts = line.split()
        if line.startswith("kneeoa-desktop timing error"):
            sys.exit(f"benchmark_gui: the app reported an error: {line}")
        if line.startswith("kneeoa-desktop timing ") and len(parts) >= 4:
            stamps[parts[2]] = float(parts[3])
    if "window-exposed" not in stamps or "first-result" not in stamps:
        sys.exit(f"benchmark_gui: the app did not report its timings (exit {proc.returncode})\n{proc.stderr[-2000:]}")
    return stamps["window-exposed"] - start, stamps["first-result"] - start


def slider_timings(image: Path, sweeps: int = 2) -> tuple[list[float], list[float]]:
    """Milliseconds per step of a slider drag (each repainted synchronously, in this process),
    and per release of the slider (full-resolution recomposition)."""
    from PySide6.QtCore import QEventLoop, QSettings, QTimer

    from kneeoa_desktop.gui.app import launch
    from kneeoa_desktop.gui.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(QSettings(str(Path(tmp) / "s.ini"), QSettings.Format.IniFormat))
        app, window, _ = launch([str(image), "--language", "en"], settings=settings)
        window.resize(1280, 800)
        loop = QEventLoop()
        window.result_shown.connect(lambda _r: loop.quit())
        window.error_shown.connect(lambda text: (print(f"benchmark_gui: {text}"), loop.quit()))
        QTimer.singleShot(180_000, loop.quit)
        loop.exec()
        if window.shown() is None:
            window.close()
            sys.exit("benchmark_gui: the image was not graded")
        app.processEvents()
        slider, viewport = window.controls.slider, window.view.viewport()
        steps = list(range(slider.minimum() + 1, slider.maximum() + 1)) + list(range(slider.maximum() - 1, 0, -1))
        times, releases = [], []
        for _ in range(sweeps):
            slider.setSliderDown(True)  # as while the user drags the handle
            for value in steps:
                start = time.perf_counter()
                slider.setValue(value)
                viewport.repaint()
                times.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            slider.setSliderDown(False)  # let go: the full-resolution overlay is drawn
            viewport.repaint()
            releases.append((time.perf_counter() - start) * 1000)
        window.close()
        # Delete the window (and with it its worker and model) now, while Python still runs:
        # left to the interpreter's final garbage collection, two windows' worth of PySide6 and
        # ONNX Runtime objects were torn down in an order that aborted the process at exit.
        window.deleteLater()
        app.sendPostedEvents(None, 0)
        app.processEvents()
    return times, releases


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image", nargs="?", type=Path)
    parser.add_argument("--runs", type=int, default=3, help="cold launches to time (default %(default)s)")
    parser.add_argument("--large", type=int, default=2048, help="side of the large test image (0: skip)")
    args = parser.parse_args()
    image = args.image or _default_image()
    platform = "offscreen" if not os.environ.get("DISPLAY") else f"X display {os.environ['DISPLAY']}"
    print(f"image: {image}  ({platform}, {os.cpu_count()} CPUs)")

    visible, first = [], []
    for run in range(args.runs):
        v, f = cold_launch(image)
        visible.append(v)
        first.append(f)
        print(f"  launch {run + 1}: window visible {v:.2f} s, first grading shown {f:.2f} s")

    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    slider = {f"{image.name}": slider_timings(image)}
    if args.large:
        import cv2

        from kneeoa_desktop.core.film.imaging import load_image

        with tempfile.TemporaryDirectory() as tmp:
            big = Path(tmp) / f"large_{args.large}.png"
            pixels = load_image(image).display_u8()
            cv2.imwrite(str(big), cv2.resize(pixels, (args.large, args.large), interpolation=cv2.INTER_CUBIC))
            slider[f"{args.large}×{args.large} (same radiograph, upscaled)"] = slider_timings(big, sweeps=2)

    ok = True

    def verdict(good: bool) -> str:
        nonlocal ok
        ok &= good
        return "OK" if good else "MISSED"

    print()
    print(f"window visible after launch : median {statistics.median(visible):.2f} s, worst {max(visible):.2f} s"
          f"  (target ≤ {TARGET_VISIBLE_S:.1f} s) {verdict(max(visible) <= TARGET_VISIBLE_S)}")
    print(f"first grading after launch  : median {statistics.median(first):.2f} s, worst {max(first):.2f} s"
          f"  (target ≤ {TARGET_FIRST_GRADING_S:.1f} s) {verdict(max(first) <= TARGET_FIRST_GRADING_S)}")
    for name, (times, releases) in slider.items():
        p95 = sorted(times)[int(0.95 * (len(times) - 1))]
        print(f"slider step + repaint       : median {statistics.median(times):.1f} ms, 95th pct {p95:.1f} ms, "
              f"worst {max(times):.1f} ms over {len(times)} steps — {name}"
              f"  (target < {TARGET_SLIDER_MS:.0f} ms) {verdict(p95 < TARGET_SLIDER_MS)}")
        print(f"  full-resolution repaint on release: median {statistics.median(releases):.1f} ms")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
