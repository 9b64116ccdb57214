"""What the window shows, as plain Python: no Qt, so every transition can be tested without a display.

In the spirit of napari's viewer model under its Qt widgets, the window keeps here what it would
otherwise scatter over flags: which graded film is shown, which knee is selected and which grade's
evidence is shown over each knee, how bright the overlay is, the grading request still in flight,
and the model's status as one ``ModelStatus``. The window's parts read it rather than keep copies;
its two events redraw the status bar (``status_changed``) and the image (``overlay_changed``).

The overlays are made through the result's own calls (``GradingResult.overlay``, the preview's
``overlay_for``): changing the evidence grade or the brightness never runs the network again.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Callable

from ..core.outputs.overlay import DEFAULT_BRIGHTNESS


class Event:
    """A minimal signal: ``connect`` callbacks, ``emit`` calls them in the order they were connected."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[..., Any]] = []

    def connect(self, callback: Callable[..., Any]) -> None:
        self._callbacks.append(callback)

    def emit(self, *args: Any) -> None:
        for callback in list(self._callbacks):
            callback(*args)


class ModelStatus(Enum):
    """Where the model stands, as the window sees it through the worker's signals."""

    NOT_REQUESTED = "not requested"  # the window is up; nothing has asked for the model yet
    REQUESTED = "requested"  # asked for; the worker has not begun to load it
    LOADING = "loading"
    READY = "ready"  # ``model_info`` says which model, on which device
    FAILED = "failed"  # ``model_error`` says why
    SWITCH_REQUESTED = "switch requested"  # another model (after a download or restore); not begun
    SWITCHING = "switching"  # loading the model that replaces the previous one

    @property
    def loading(self) -> bool:
        return self in (ModelStatus.LOADING, ModelStatus.SWITCHING)

    @property
    def switching(self) -> bool:
        """A download or restore asked for this load: its success is worth a word to the user."""
        return self in (ModelStatus.SWITCH_REQUESTED, ModelStatus.SWITCHING)


@dataclass(frozen=True)
class Pending:
    """The grading request the window waits for (the newest; older ones are dropped)."""

    request_id: int
    name: str  # the file's name, for the status bar and the log


class ViewerState:
    """The shown result, the knee and evidence chosen, the overlay's brightness, the model's status.

    Events: ``status_changed`` (the model's status or the request in flight changed: the status
    bar redraws) and ``overlay_changed`` (evidence grade, brightness or visibility changed: the
    image is recomposed).
    """

    def __init__(self) -> None:
        self.model = ModelStatus.NOT_REQUESTED
        self.model_info: Any = None  # worker.ModelInfo while READY
        # Why the last load failed; kept while a retry loads, cleared once a model is ready or
        # another one is asked for.
        self.model_error: str | None = None
        self.pending: Pending | None = None
        self.shown: Any = None  # worker.GradedImage; its ``selected`` is the knee shown
        self.overlay: Any = None  # core.outputs.overlay.EvidenceOverlay of the shown film, at the chosen grades
        self.preview_overlay: Any = None  # the same over the reduced preview (large films only)
        self.evidence_grades: list[int] = []  # per knee: the grade whose evidence is shown
        self.brightness = DEFAULT_BRIGHTNESS
        self.overlay_visible = True
        self.status_changed = Event()
        self.overlay_changed = Event()

    # --- the model ---------------------------------------------------------------------------

    def request_model(self) -> bool:
        """The first call asks for the model (True: load it now); later calls change nothing."""
        if self.model is not ModelStatus.NOT_REQUESTED:
            return False
        self._set_model(ModelStatus.REQUESTED)
        return True

    def model_loading(self) -> None:
        self._set_model(ModelStatus.SWITCHING if self.model.switching else ModelStatus.LOADING)

    def model_ready(self, info: Any) -> bool:
        """A model is loaded; True when it is the one a download or restore asked for."""
        switched = self.model.switching
        self.model_info, self.model_error = info, None
        self._set_model(ModelStatus.READY)
        return switched

    def model_failed(self, error: str) -> None:
        self.model_info, self.model_error = None, error
        self._set_model(ModelStatus.FAILED)

    def switch_model(self) -> None:
        """Another model is now in use (a download or restore): the loaded one no longer counts."""
        self.model_info = self.model_error = None
        self._set_model(ModelStatus.SWITCHING if self.model.loading else ModelStatus.SWITCH_REQUESTED)

    def _set_model(self, status: ModelStatus) -> None:
        self.model = status
        self.status_changed.emit()

    # --- grading requests --------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """A grading request is in flight."""
        return self.pending is not None

    def submit(self, request_id: int, name: str) -> None:
        self.pending = Pending(request_id, name)
        self.status_changed.emit()

    def finish(self) -> Pending | None:
        """The request in flight ended without a result; returns it."""
        pending, self.pending = self.pending, None
        self.status_changed.emit()
        return pending

    def show(self, graded: Any) -> None:
        """A graded film is now shown: every knee at its predicted grade, the request ended."""
        self.shown = graded
        self.overlay = graded.overlay
        self.preview_overlay = graded.preview.overlay if graded.preview is not None else None
        self.evidence_grades = [knee.prediction.grade for knee in graded.knees]
        self.finish()

    # --- knee, evidence, overlay -------------------------------------------------------------

    def select_knee(self, index: int) -> bool:
        """Show knee ``index`` of the film; False when there is nothing to change."""
        shown = self.shown
        if shown is None or not 0 <= index < len(shown.knees) or index == shown.selected:
            return False
        shown.selected = index
        return True

    @property
    def evidence_grade(self) -> int | None:
        """The grade whose evidence is shown over the selected knee."""
        return self.evidence_grades[self.shown.selected] if self.shown is not None else None

    def show_evidence(self, grade: int) -> bool:
        """Show ``grade``'s evidence over the selected knee; False when there is nothing to change."""
        shown = self.shown
        if shown is None or grade == self.evidence_grade:
            return False
        self.evidence_grades[shown.selected] = grade
        self.overlay = shown.result.overlay(self.evidence_grades)
        if shown.preview is not None:
            self.preview_overlay = shown.preview.overlay_for(shown.knees, self.evidence_grades)
        self.overlay_changed.emit()
        return True

    def set_brightness(self, value: float) -> None:
        self.brightness = value
        self.overlay_changed.emit()

    def set_overlay_visible(self, visible: bool) -> None:
        self.overlay_visible = visible
        self.overlay_changed.emit()

    @property
    def shown_brightness(self) -> float:
        """The brightness the overlay is drawn at: none while it is hidden."""
        return self.brightness if self.overlay_visible else 0.0
