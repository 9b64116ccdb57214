"""Loading, grading and overlay preparation on a QThread, so that the window never freezes.

``Grader`` lives on the GUI thread and hands requests to a ``GradingWorker`` that lives on
its own QThread. The worker owns the ``Predictor`` and the ``GradingPipeline`` built on it:
they are created there, lazily, on the first request (or on ``load_model``), because importing
TensorFlow and loading the model takes seconds. A request grades every knee the localiser finds
on the film, or the user's region alone; thumbnails and the preview are made here too. Every request carries an increasing id; the worker skips any request that a newer
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
from PySide6.QtCore import QT_TRANSLATE_NOOP, QObject, QThread, Signal, Slot
from PySide6.QtGui import QImage

from ..core.errors import KneeOAError
from ..core.film.imaging import LoadedImage, load_image
from ..core.messages import Message
from ..core.model import model_store
from ..core.outputs import thumbnails
from ..core.outputs.overlay import EvidenceOverlay
from ..core.outputs.thumbnails import PREVIEW_SIDE, THUMBNAIL_SIDE  # noqa: F401  (re-exported for scripts and tests)
from ..core.pipeline import GradingPipeline, GradingResult, KneeResult
from ..core.verdict.prediction import Prediction
from .qt_images import bgr_to_qimage

# Worker sentences are English templates, like the core's (``core.messages``); the window
# translates them (context CoreMessages) and fills in the values.
NO_MEMORY = QT_TRANSLATE_NOOP("CoreMessages", "There is not enough memory to grade this image.")
# The details (message, traceback) of a bug are for the log file, not for the clinician.
UNEXPECTED = QT_TRANSLATE_NOOP("CoreMessages", "An unexpected error occurred while grading ({0}); "
                                               "details are in the log file.")
MODEL_UNLOADABLE = QT_TRANSLATE_NOOP("CoreMessages", "The model could not be loaded ({0}).")

log = logging.getLogger("kneeoa.gui")


def default_predictor_factory():
    from ..core.model.predictor import Predictor  # TensorFlow arrives with the first Predictor

    return Predictor(model_store.active_weights_dir())


class ModelUnavailable(KneeOAError):
    """The model could not be loaded; the message is the load's own sentence (model_failed sent it)."""


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
    roi: tuple[int, int, int, int] | None = None  # the user's region; None: find the knees


@dataclass
class GradedImage:
    """One finished grading of a film (every knee on it), everything the window needs to show and export it."""

    request_id: int
    path: Path
    result: GradingResult
    overlay: EvidenceOverlay  # every knee at its predicted grade, ready to compose at any brightness
    knee_thumbnails: list[list[QImage]] = field(default_factory=list)  # per knee: evidence per grade, of that knee
    seconds: float = 0.0  # reading + grading, without the one-off model load
    preview: "Preview | None" = None  # for large images only
    selected: int = 0  # index of the knee whose verdict is shown

    @property
    def image(self) -> LoadedImage:
        return self.result.image  # the whole radiograph, even when a region was graded

    @property
    def display(self):
        return self.result.display

    @property
    def knees(self) -> list[KneeResult]:
        return self.result.knees

    @property
    def knee(self) -> KneeResult:
        return self.result.knees[self.selected]

    @property
    def prediction(self) -> Prediction:
        """The selected knee's prediction; ``roi`` is its region, or None for a whole image."""
        return self.knee.prediction

    @property
    def thumbnails(self) -> list[QImage]:
        """The selected knee's evidence thumbnails, one per grade."""
        return self.knee_thumbnails[self.selected]

    @property
    def manual(self) -> bool:
        """The user drew the region that was graded."""
        return any(k.manual for k in self.result.knees)


@dataclass
class Preview:
    """A reduced copy of the radiograph, to recompose the overlay quickly while a slider moves."""

    gray: np.ndarray  # uint8
    scale: float  # full-size pixels per preview pixel
    overlay: EvidenceOverlay | None = None  # for the grades shown when it was built

    @classmethod
    def build(cls, result: GradingResult, side: int = PREVIEW_SIDE) -> "Preview | None":
        reduced = thumbnails.reduce(result.display, side)
        if reduced is None:
            return None
        preview = cls(*reduced)
        preview.overlay = preview.overlay_for(result.knees, [None] * len(result.knees))
        return preview

    def overlay_for(self, knees: list[KneeResult], grades: list[int | None]) -> EvidenceOverlay:
        return thumbnails.overlay_at_scale(self.gray, self.scale, knees, grades)


class GradingWorker(QObject):
    """Lives on the worker thread; every slot runs there."""

    model_loading = Signal()
    model_ready = Signal(object)  # ModelInfo
    model_failed = Signal(object)  # core.messages.Message (a str): one sentence, template and values
    started = Signal(int)  # request id
    graded = Signal(object)  # GradedImage
    # Request id, one sentence (a core.messages.Message), and whether the cause was a model that
    # could not be loaded (then model_failed has already said so). Slots may take the first two only.
    failed = Signal(int, object, bool)
    # The site profile now in use (a core.verdict.site_profile.SiteProfile, or None), or why one was refused.
    profile_changed = Signal(object)
    profile_failed = Signal(object)  # core.messages.Message

    def __init__(self, predictor_factory: Callable[[], object], latest_id: Callable[[], int]):
        super().__init__()
        self._factory = predictor_factory
        self._latest_id = latest_id
        self._predictor = None
        self._pipeline: GradingPipeline | None = None
        self._profile_path = ""  # applied to every model this worker loads

    def _ensure_predictor(self):
        if self._predictor is None:
            self.model_loading.emit()
            start = time.perf_counter()
            try:
                predictor = self._factory()
            except KneeOAError as exc:
                self.model_failed.emit(exc.message)
                raise ModelUnavailable(exc.message) from exc
            except Exception as exc:
                _log_bug(exc)
                message = Message(MODEL_UNLOADABLE, type(exc).__name__)
                self.model_failed.emit(message)
                raise ModelUnavailable(message) from exc
            self._predictor = predictor
            self._pipeline = GradingPipeline(predictor)
            self._apply_profile()
            engine = getattr(predictor, "engine", None)
            device = f"{predictor.device}, {engine}" if engine else str(predictor.device)
            info = ModelInfo(predictor.manifest.tag, device,
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
        self._predictor = self._pipeline = None
        self.load_model()

    @Slot(str)
    def set_site_profile(self, path: str) -> None:
        """Use the site profile at ``path`` ("" for none) from the next grading on."""
        self._profile_path = path
        if self._predictor is not None:
            self._apply_profile()
        elif not path:
            self.profile_changed.emit(None)

    def _apply_profile(self) -> None:
        """Check the profile against the model just loaded (or in use): a profile for another
        model, or a damaged one, is dropped with its one sentence, never half applied."""
        from ..core.verdict.site_profile import load_profile

        self._predictor.site_profile = None
        if not self._profile_path:
            self.profile_changed.emit(None)
            return
        try:
            self._predictor.site_profile = load_profile(self._profile_path, self._predictor.manifest)
        except KneeOAError as exc:
            self._profile_path = ""
            self.profile_failed.emit(exc.message)
            self.profile_changed.emit(None)
            return
        self.profile_changed.emit(self._predictor.site_profile)

    @Slot(object)
    def grade(self, request: GradeRequest) -> None:
        if request.request_id != self._latest_id():
            return  # replaced while it waited in the queue: not worth a second of CPU
        self.started.emit(request.request_id)
        try:
            result = self._grade(request)
        except KneeOAError as exc:
            self.failed.emit(request.request_id, exc.message, isinstance(exc, ModelUnavailable))
        except MemoryError:
            self.failed.emit(request.request_id, Message(NO_MEMORY), False)
        except Exception as exc:  # a bug must not kill the worker thread; the window keeps working
            _log_bug(exc)
            self.failed.emit(request.request_id, Message(UNEXPECTED, type(exc).__name__), False)
        else:
            if result is not None:
                self.graded.emit(result)

    def _grade(self, request: GradeRequest) -> GradedImage | None:
        start = time.perf_counter()
        image = load_image(request.path) if request.image is None else request.image
        reading = time.perf_counter() - start
        self._ensure_predictor()
        if request.request_id != self._latest_id():
            return None  # the model load took long enough for the user to move on
        result = self._pipeline(image, region=request.roi)  # region None: find the knees
        # Everything the window shows is computed here, off the GUI thread: it only paints.
        return GradedImage(request.request_id, request.path, result, result.overlay(),
                           [[bgr_to_qimage(t) for t in thumbnails.evidence_thumbnails(result.display, knee)]
                            for knee in result.knees],
                           reading + result.seconds, Preview.build(result))


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
    _profile_requested = Signal(str)

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
        self._profile_requested.connect(self.worker.set_site_profile)
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

    def set_site_profile(self, path: str) -> None:
        """Queued like a grading: every request submitted after it is graded with the profile."""
        self._profile_requested.emit(str(path or ""))

    def grade_file(self, path: str | Path) -> int:
        return self._submit(GradeRequest(0, Path(path)))

    def grade_region(self, shown: GradedImage, roi: tuple[int, int, int, int] | None) -> int:
        """Grade ``roi`` (x, y, w, h) of an image already shown, or find its knees again when None."""
        return self._submit(GradeRequest(0, shown.path, shown.image, roi))

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
