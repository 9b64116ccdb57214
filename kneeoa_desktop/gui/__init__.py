"""The desktop front door: a Qt (PySide6) window onto ``kneeoa_desktop.core``.

Only painting and reacting live here; loading, grading, overlays and export are core calls.
Slow work (TensorFlow import, model load, inference) runs in ``worker.GradingWorker`` on its
own QThread. Start it with ``kneeoa-desktop [FILE]`` or ``python -m kneeoa_desktop``.
"""
