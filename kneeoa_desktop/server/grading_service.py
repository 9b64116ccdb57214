"""One model, one queue: grades bytes on a single worker thread and keeps the annotated PNGs.

The HTTP app and the DICOM node never touch the model themselves: they submit a job here and
wait for its future. One worker thread means one grading at a time on the one model (the
network already uses every core, and TensorFlow's GPU, if present), requests are answered in
the order they came, and nothing is lost while others wait. Annotated images are written
atomically into ``<out>/results/<id>.png`` with an unguessable id, so a reader sees a whole
file or none, and an id can never name a file outside that folder; they are deleted after
``keep_hours`` (24 by default), the DICOM objects in ``<out>`` are left for the PACS side.
"""

from __future__ import annotations

import logging
import secrets
import string
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.errors import ExportError, KneeOAError
from .memory import trim

log = logging.getLogger("kneeoa.server")

DEFAULT_KEEP_HOURS = 24.0  # how long an annotated PNG stays fetchable at /results/<id>.png
PRUNE_EVERY_S = 60.0
ID_BYTES = 16  # 128 random bits, written as 32 lowercase hex digits
_HEX = frozenset(string.hexdigits.lower())


class ServiceClosedError(KneeOAError):
    """The server is shutting down and takes no new work."""


class QueueFullError(KneeOAError):
    """More gradings are waiting than the server accepts at once."""


@dataclass
class ServiceResult:
    """What one grading gives the front doors: per-knee records, the PNG and the result itself."""

    id: str
    records: list[dict]  # one per knee, exactly as `kneeoa predict --json` prints them
    png_path: Path
    result: object  # pipeline.GradingResult (the DICOM node builds its objects from it)
    rgb: np.ndarray  # the annotated image, for the DICOM Secondary Capture

    @property
    def payload(self) -> list[list[float]]:
        """The original service's ``payload``: one list of probabilities per knee."""
        return [record["probabilities"] for record in self.records]


def is_result_id(text: str) -> bool:
    """True for a well-formed result id (and nothing that could walk out of the folder)."""
    return len(text) == 2 * ID_BYTES and all(c in _HEX for c in text)


class GradingService:
    """Owns the pipeline and the output folder; ``submit`` queues a grading and returns a future."""

    def __init__(self, pipeline, out_dir: str | Path, *, max_pending: int = 1000,
                 keep_hours: float = DEFAULT_KEEP_HOURS):
        self.pipeline = pipeline
        self.out_dir = Path(out_dir)
        self.results_dir = self.out_dir / "results"
        self.results_dir.mkdir(parents=True, exist_ok=True)
        self.max_pending = max_pending
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kneeoa-grading")
        self._lock = threading.Lock()
        self._pending = 0
        self._closed = False
        self.graded = 0
        self.failed = 0
        self.keep_seconds = keep_hours * 3600.0
        self._last_prune = 0.0

    @property
    def model(self) -> str:
        return self.pipeline.predictor.manifest.tag

    @property
    def pending(self) -> int:
        return self._pending

    def submit(self, data: bytes, source_name: str, *, brightness: float | None = None) -> Future:
        """Queue ``data`` (the file's bytes) for grading; the future gives a ``ServiceResult``."""
        with self._lock:
            if self._closed:
                raise ServiceClosedError("The server is shutting down; try again in a moment.")
            if self._pending >= self.max_pending:
                raise QueueFullError(f"More than {self.max_pending} gradings are waiting; try again later.")
            self._pending += 1
        future = self._pool.submit(self._grade, data, source_name, brightness)
        future.add_done_callback(self._done)
        return future

    def grade(self, data: bytes, source_name: str, *, brightness: float | None = None) -> ServiceResult:
        """Queue and wait (for callers on their own threads, like the DICOM node's handlers)."""
        return self.submit(data, source_name, brightness=brightness).result()

    def _done(self, future: Future) -> None:
        with self._lock:
            self._pending -= 1
            idle = self._pending == 0
            if future.exception() is None:
                self.graded += 1
            else:
                self.failed += 1
        if idle:  # a burst is over: hand the freed heap back to the system
            trim()

    def _grade(self, data: bytes, source_name: str, brightness: float | None) -> ServiceResult:
        from ..core.film.imaging import decode_image
        from ..core.outputs.export import render_result, write_png_atomic
        from ..core.outputs.overlay import DEFAULT_BRIGHTNESS

        image = decode_image(data, source_name)
        result = self.pipeline(image)
        rgb = render_result(result, brightness=DEFAULT_BRIGHTNESS if brightness is None else brightness,
                            source_name=source_name)
        result_id = secrets.token_hex(ID_BYTES)
        self._prune()
        path = write_png_atomic(rgb, self.results_dir / f"{result_id}.png")
        records = [knee.as_dict() for knee in result.knees]
        return ServiceResult(result_id, records, path, result, rgb)

    def _prune(self) -> None:
        """Delete annotated PNGs older than ``keep_hours`` (at most once a minute), so that a
        server running for months does not fill its disk with images clients fetched long ago."""
        now = time.time()
        if now - self._last_prune < PRUNE_EVERY_S:
            return
        self._last_prune = now
        removed = 0
        for path in self.results_dir.glob("*.png"):
            try:
                if now - path.stat().st_mtime > self.keep_seconds:
                    path.unlink()
                    removed += 1
            except OSError:  # gone already, or not ours to delete: leave it
                pass
        if removed:
            log.info("removed %d annotated image(s) older than %.0f h", removed, self.keep_seconds / 3600)

    def result_path(self, result_id: str) -> Path | None:
        """The PNG of ``result_id``, or None when the id is malformed or unknown."""
        if not is_result_id(result_id):
            return None
        path = self.results_dir / f"{result_id}.png"
        return path if path.is_file() else None

    def write(self, data: bytes, name: str) -> Path:
        """Write ``data`` atomically as ``<out>/name`` (the DICOM node's SC and SR files)."""
        from ..core.atomic import write_bytes_atomic

        target = self.out_dir / name
        if target.parent != self.out_dir:  # names are made by us; refuse anything with a path
            raise ExportError("An output name must not contain a folder.")
        return write_bytes_atomic(data, target)

    def close(self, wait: bool = True) -> None:
        """Take no new work; with ``wait``, finish what is queued (nothing is left half-written)."""
        with self._lock:
            self._closed = True
        self._pool.shutdown(wait=wait, cancel_futures=not wait)
