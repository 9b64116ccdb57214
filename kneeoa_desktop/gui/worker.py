"""Loading, grading and overlay preparation on a QThread, so that the window never freezes.

``Grader`` lives on the GUI thread and hands requests to a ``GradingWorker`` that lives on
its own QThread. The worker owns the ``Predictor``: it is created there, lazily, on the first
request (or on ``load_model``), because importing TensorFlow and loading the model takes
seconds. Every request carries an increasing id; the worker skips any request that a newer
one has replaced before its turn came, and the window drops any result whose id is not the
latest, so an image the user has already replaced is never shown.

``reload_model`` drops the predictor and builds a new one from the factory (after a model
download or a restore): it is queued like a grading request, so every request submitted after
it is graded by the new model. Faults that are bugs go to the log file with their traceback.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
from PySide6.QtCore import QObject, QRect, Qt, QThread, QT_TRANSLATE_NOOP, Signal, Slot
from PySide6.QtGui import QImage

from ..core import model_store
from ..core.errors import KneeOAError
from ..core.grades import NUM_GRADES
from ..core.imaging import LoadedImage, load_image
from ..core.overlay import DEFAULT_BRIGHTNESS, EvidenceOverlay
from ..core.predictor import Prediction
from .qt_images import bgr_to_qimage, gray_to_qimage, qimage_to_gray

# Side of the per-grade evidence thumbnails, in pixels (drawn at about half that on screen,
# so they stay sharp on high-density displays).
THUMBNAIL_SIDE = 128
# Images larger than this (longest side) also get a preview overlay at this size, which the
# window recomposes while the brightness slider is dragged: a full-size composition of a
# large film costs tens of milliseconds, more than a smooth drag allows.
PREVIEW_SIDE = 1024
# Worker sentences are English, like the core's; the window translates them (context CoreMessages).
NO_MEMORY = QT_TRANSLATE_NOOP("CoreMessages", "There is not enough memory to grade this image.")
# The details (message, traceback) of a bug are for the log file, not for the clinician.
UNEXPECTED = "An unexpected error occurred while grading ({0}); details are in the log file."

log = logging.getLogger("kneeoa.gui")


def default_predictor_factory():
    from ..core.predictor import Predictor  # TensorFlow arrives with the first Predictor

    return Predictor()


@dataclass(frozen=True)
class ModelInfo:
    """What the status bar and the About box say about the loaded model."""

    tag: str  # "name@version"
    device: str  # "CPU" or the GPU's name
    evidence_method: str
    load_seconds: float
    origin: model_store.ActiveModel | None = None  # None: a model from outside the model store


def origin_of(predictor) -> model_store.ActiveModel | None:
    """Which store entry (bundled or downloaded) the predictor's files come from, if any."""
    directory = getattr(getattr(predictor, "manifest", None), "directory", None)
    if directory is None:
        return None
    for candidate in (model_store.active_model(), model_store.bundled_model()):
        try:
            if Path(directory).resolve() == Path(candidate.directory).resolve():
                return candidate
        except OSError:
            continue
    return None


@dataclass
class GradeRequest:
    request_id: int
    path: Path
    image: LoadedImage | None = None  # already loaded (regrading a region): no second read
    display: np.ndarray | None = None
    roi: tuple[int, int, int, int] | None = None


@dataclass
class GradedImage:
    """One finished grading, everything the window needs to show and export it."""

    request_id: int
    path: Path
    image: LoadedImage  # the whole radiograph, even when a region was graded
    display: np.ndarray  # ``image.display_u8()``, computed once
    prediction: Prediction  # ``prediction.roi`` is the graded region, or None
    overlay: EvidenceOverlay  # for the predicted grade, ready to compose at any brightness
    thumbnails: list[QImage] = field(default_factory=list)  # evidence per grade, of the graded region
    seconds: float = 0.0  # reading + grading, without the one-off model load
    preview: "Preview | None" = None  # for large images only


@dataclass
class Preview:
    """A reduced copy of the radiograph, to recompose the overlay quickly while a slider moves."""

    gray: np.ndarray
    scale: float  # full-size pixels per preview pixel
    overlay: EvidenceOverlay | None = None  # for the grade shown when it was built

    @classmethod
    def build(cls, display: np.ndarray, prediction: Prediction, grade: int, side: int = PREVIEW_SIDE) -> "Preview | None":
        height, width = display.shape
        if max(height, width) <= side:
            return None
        small = qimage_to_gray(gray_to_qimage(display).scaled(
            side, side, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))
        preview = cls(small, width / small.shape[1])
        preview.overlay = preview.overlay_for(prediction, grade)
        return preview

    def overlay_for(self, prediction: Prediction, grade: int) -> EvidenceOverlay:
        roi = None
        if prediction.roi is not None:
            height, width = self.gray.shape
            x, y, w, h = (round(v / self.scale) for v in prediction.roi)
            x, y = min(x, width - 1), min(y, height - 1)
            roi = (x, y, max(1, min(w, width - x)), max(1, min(h, height - y)))
        return EvidenceOverlay(self.gray, prediction.evidence_map(grade), roi)


class GradingWorker(QObject):
    """Lives on the worker thread; every slot runs there."""

    model_loading = Signal()
    model_ready = Signal(object)  # ModelInfo
    model_failed = Signal(str)
    started = Signal(int)  # request id
    graded = Signal(object)  # GradedImage
    failed = Signal(int, str)  # request id, one sentence

    def __init__(self, predictor_factory: Callable[[], object], latest_id: Callable[[], int]):
        super().__init__()
        self._factory = predictor_factory
        self._latest_id = latest_id
        self._predictor = None

    def _ensure_predictor(self):
        if self._predictor is None:
            self.model_loading.emit()
            start = time.perf_counter()
            try:
                predictor = self._factory()
            except KneeOAError as exc:
                self.model_failed.emit(str(exc))
                raise
            except Exception as exc:
                _log_bug(exc)
                message = f"The model could not be loaded ({type(exc).__name__})."
                self.model_failed.emit(message)
                raise KneeOAError(message) from exc
            self._predictor = predictor
            info = ModelInfo(predictor.manifest.tag, str(predictor.device),
                             str(getattr(predictor, "evidence_method", "")), time.perf_counter() - start,
                             origin_of(predictor))
            log.info("model %s loaded on %s in %.1f s (%s)", info.tag, info.device, info.load_seconds,
                     info.origin.describe() if info.origin else "outside the model store")
            self.model_ready.emit(info)
        return self._predictor

    @Slot()
    def load_model(self) -> None:
        try:
            self._ensure_predictor()
        except KneeOAError:
            pass  # already reported through model_failed

    @Slot(object)
    def reload_model(self, factory: Callable[[], object] | None) -> None:
        """Forget the loaded model and build the one now in use (or ``factory``'s)."""
        if factory is not None:
            self._factory = factory
        # Let go of the old model first: two models need not fit in memory at once.
        self._predictor = None
        self.load_model()

    @Slot(object)
    def grade(self, request: GradeRequest) -> None:
        if request.request_id != self._latest_id():
            return  # replaced while it waited in the queue: not worth a second of CPU
        self.started.emit(request.request_id)
        try:
            result = self._grade(request)
        except KneeOAError as exc:
            self.failed.emit(request.request_id, str(exc))
        except MemoryError:
            self.failed.emit(request.request_id, NO_MEMORY)
        except Exception as exc:  # a bug must not kill the worker thread; the window keeps working
            _log_bug(exc)
            self.failed.emit(request.request_id, UNEXPECTED.format(type(exc).__name__))
        else:
            if result is not None:
                self.graded.emit(result)

    def _grade(self, request: GradeRequest) -> GradedImage | None:
        start = time.perf_counter()
        if request.image is None:
            image = load_image(request.path)
            display = image.display_u8()
        else:
            image, display = request.image, request.display if request.display is not None else request.image.display_u8()
        target = image if request.roi is None else image.crop(*request.roi)
        reading = time.perf_counter() - start
        predictor = self._ensure_predictor()
        if request.request_id != self._latest_id():
            return None  # the model load took long enough for the user to move on
        start = time.perf_counter()
        prediction = predictor.predict(target)
        seconds = reading + time.perf_counter() - start
        overlay = EvidenceOverlay(display, prediction.evidence_map(prediction.grade), prediction.roi)
        return GradedImage(request.request_id, request.path, image, display, prediction, overlay,
                           evidence_thumbnails(display, prediction), seconds,
                           Preview.build(display, prediction, prediction.grade))


def evidence_thumbnails(display: np.ndarray, prediction: Prediction, side: int = THUMBNAIL_SIDE) -> list[QImage]:
    """One small overlay per grade, of the graded region only (QImage is safe off the GUI thread)."""
    region = gray_to_qimage(display)
    if prediction.roi is not None:
        region = region.copy(QRect(*prediction.roi))
    small = qimage_to_gray(region.scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio,
                                         Qt.TransformationMode.SmoothTransformation))
    return [bgr_to_qimage(EvidenceOverlay(small, prediction.evidence_map(grade)).compose(DEFAULT_BRIGHTNESS))
            for grade in range(NUM_GRADES)]


def _log_bug(exc: BaseException) -> None:
    """A bug's traceback goes to the log file (to stderr too when no log file is set up)."""
    log.error("unexpected error on the grading thread", exc_info=exc)


class WorkerThread(QThread):
    """A QThread whose event loop runs inside one Python call, so all its slots share one thread state.

    Under a plain QThread, PySide creates a Python thread state for each slot call and deletes it
    afterwards, while pybind11 (inside TensorFlow) keeps the thread state of the thread where it
    was first used. TensorFlow is imported here, so building a second model on this thread in a
    later slot (a reload after a download) would use a deleted thread state and crash at random.
    """

    def run(self) -> None:
        self.exec()


class Grader(QObject):
    """The GUI thread's handle on the worker: issues request ids, owns the thread."""

    _load_requested = Signal()
    _reload_requested = Signal(object)
    _grade_requested = Signal(object)

    def __init__(self, predictor_factory: Callable[[], object] | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self._latest = 0
        self.thread = WorkerThread()
        self.thread.setObjectName("kneeoa-grading")
        self.worker = GradingWorker(predictor_factory or default_predictor_factory, lambda: self._latest)
        self.worker.moveToThread(self.thread)
        # Queued across threads: the slots run on the worker thread, in order of request.
        self._load_requested.connect(self.worker.load_model)
        self._reload_requested.connect(self.worker.reload_model)
        self._grade_requested.connect(self.worker.grade)
        self.thread.finished.connect(self.worker.deleteLater)
        self.thread.start()

    @property
    def latest_id(self) -> int:
        return self._latest

    def is_latest(self, request_id: int) -> bool:
        return request_id == self._latest

    def load_model(self) -> None:
        self._load_requested.emit()

    def reload_model(self, factory: Callable[[], object] | None = None) -> None:
        """Replace the worker's model (after a download or restore); queued behind earlier requests."""
        self._reload_requested.emit(factory)

    def grade_file(self, path: str | Path) -> int:
        return self._submit(GradeRequest(0, Path(path)))

    def grade_region(self, shown: GradedImage, roi: tuple[int, int, int, int] | None) -> int:
        """Grade ``roi`` (x, y, w, h) of an image already shown, or the whole of it when None."""
        return self._submit(GradeRequest(0, shown.path, shown.image, shown.display, roi))

    def _submit(self, request: GradeRequest) -> int:
        self._latest += 1  # only the GUI thread writes; the worker only reads
        request.request_id = self._latest
        self._grade_requested.emit(request)
        return request.request_id

    def shutdown(self) -> None:
        """Stop the thread after the work in hand; pending requests are dropped."""
        if self.thread.isRunning():
            self._latest += 1  # everything queued is now superseded and skipped
            self.thread.quit()
            self.thread.wait()
