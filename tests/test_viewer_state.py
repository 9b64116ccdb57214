"""The window's Qt-free state: the model's status through its transitions, the request in flight,
the shown film, the chosen knee and evidence grade, and the overlay's brightness."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from kneeoa_desktop.gui.viewer_state import Event, ModelStatus, Pending, ViewerState

S = ModelStatus


class Recorder:
    def __init__(self, state: ViewerState):
        self.state = state
        self.status: list[ModelStatus] = []
        self.overlays = 0
        state.status_changed.connect(lambda: self.status.append(state.model))
        state.overlay_changed.connect(self._overlay)

    def _overlay(self):
        self.overlays += 1


@pytest.fixture
def state() -> ViewerState:
    return ViewerState()


def graded(grades=(2, 3), preview=True, manual=False):
    """A stand-in for worker.GradedImage: knees with predicted grades, overlays that remember their grades."""
    knees = [SimpleNamespace(prediction=SimpleNamespace(grade=g)) for g in grades]
    result = SimpleNamespace(overlay=lambda gs: ("full", tuple(gs)))
    film = SimpleNamespace(knees=knees, selected=0, result=result, overlay=("full", tuple(grades)), manual=manual)
    film.preview = SimpleNamespace(overlay=("preview", tuple([None] * len(grades))),
                                   overlay_for=lambda ks, gs: ("preview", tuple(gs))) if preview else None
    return film


def test_the_state_needs_no_qt():
    """Importable, and so testable, without Qt (and without TensorFlow)."""
    code = ("import sys, kneeoa_desktop.gui.viewer_state; "
            "print(sorted(m for m in sys.modules if m.startswith(('PySide6', 'tensorflow'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         cwd=str(Path(__file__).resolve().parents[1]))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_event_calls_its_callbacks_in_order():
    event, calls = Event(), []
    event.connect(lambda x: calls.append(("a", x)))
    event.connect(lambda x: calls.append(("b", x)))
    event.emit(1)
    assert calls == [("a", 1), ("b", 1)]


def test_first_load_ready(state):
    seen = Recorder(state)
    assert state.model is S.NOT_REQUESTED and not state.model.loading
    assert state.request_model()
    assert not state.request_model()  # a second start asks for nothing
    state.model_loading()
    assert state.model.loading
    info = SimpleNamespace(tag="m@1")
    assert state.model_ready(info) is False  # the first load is no news worth announcing
    assert state.model is S.READY and state.model_info is info and state.model_error is None
    assert seen.status == [S.REQUESTED, S.LOADING, S.READY]


def test_a_failed_load_keeps_its_reason_while_a_retry_loads(state):
    state.request_model()
    state.model_loading()
    state.model_failed("The model file x is missing from y.")
    assert state.model is S.FAILED and state.model_info is None
    state.model_loading()  # a grading request tries again
    assert state.model is S.LOADING and state.model_error == "The model file x is missing from y."
    state.model_failed("again")
    assert state.model is S.FAILED and state.model_error == "again"
    state.model_loading()
    state.model_ready(SimpleNamespace(tag="m@1"))
    assert state.model is S.READY and state.model_error is None


def test_switching_models_is_announced_once(state):
    state.request_model()
    state.model_loading()
    state.model_ready(SimpleNamespace(tag="old"))
    state.switch_model()
    assert state.model is S.SWITCH_REQUESTED and state.model_info is None and not state.model.loading
    assert not state.request_model()  # start() after a switch does not load a second time
    state.model_loading()
    assert state.model is S.SWITCHING and state.model.loading and state.model.switching
    assert state.model_ready(SimpleNamespace(tag="new")) is True
    assert state.model is S.READY and not state.model.switching


def test_a_switch_asked_for_while_loading_counts_the_load_under_way(state):
    state.request_model()
    state.model_loading()
    state.switch_model()
    assert state.model is S.SWITCHING
    assert state.model_ready(SimpleNamespace(tag="first")) is True
    state.model_loading()  # then the switch's own load
    assert state.model is S.LOADING


def test_a_failed_switch_is_a_failure(state):
    state.request_model()
    state.model_failed("broken")
    state.switch_model()
    assert state.model is S.SWITCH_REQUESTED and state.model_error is None
    state.model_loading()
    state.model_failed("still broken")
    assert state.model is S.FAILED and not state.model.switching


def test_requests_in_flight(state):
    seen = Recorder(state)
    assert not state.busy and state.finish() is None
    state.submit(1, "a.png")
    state.submit(2, "b.png")  # the newest request replaces the one before
    assert state.busy and state.pending == Pending(2, "b.png")
    assert state.finish() == Pending(2, "b.png")
    assert not state.busy
    assert len(seen.status) == 4


def test_showing_a_film_ends_the_request_and_starts_at_the_predicted_grades(state):
    state.submit(7, "film.png")
    film = graded((2, 3))
    state.show(film)
    assert not state.busy and state.shown is film
    assert state.evidence_grades == [2, 3] and state.evidence_grade == 2
    assert state.overlay == ("full", (2, 3)) and state.preview_overlay == ("preview", (None, None))


def test_knee_and_evidence_choices(state):
    assert not state.select_knee(0) and not state.show_evidence(1)  # nothing shown yet
    assert state.evidence_grade is None
    seen = Recorder(state)
    state.show(graded((2, 3)))
    assert not state.select_knee(0) and not state.select_knee(5)
    assert state.select_knee(1) and state.evidence_grade == 3
    assert not state.show_evidence(3)  # already shown: nothing to recompose
    assert seen.overlays == 0
    assert state.show_evidence(0)
    assert state.evidence_grades == [2, 0] and state.evidence_grade == 0
    assert state.overlay == ("full", (2, 0)) and state.preview_overlay == ("preview", (2, 0))
    assert seen.overlays == 1
    state.select_knee(0)
    assert state.evidence_grade == 2  # each knee keeps its own choice


def test_a_small_film_has_no_preview_overlay(state):
    state.show(graded((1,), preview=False))
    state.show_evidence(4)
    assert state.overlay == ("full", (4,)) and state.preview_overlay is None


def test_brightness_and_visibility(state):
    seen = Recorder(state)
    assert state.shown_brightness == pytest.approx(1.0)
    state.set_brightness(2.5)
    assert state.shown_brightness == pytest.approx(2.5)
    state.set_overlay_visible(False)
    assert state.shown_brightness == 0.0 and state.brightness == pytest.approx(2.5)
    state.set_overlay_visible(True)
    assert state.shown_brightness == pytest.approx(2.5)
    assert seen.overlays == 3
