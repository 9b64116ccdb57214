"""The main window end to end: start-up, opening (drop, command line, recent files), background
grading, superseded requests, overlay controls, region of interest, export and user errors."""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from kneeoa_desktop.core.errors import KneeOAError, ModelError
from kneeoa_desktop.core.outputs.export import default_export_name
from kneeoa_desktop.core.film.imaging import load_image
from kneeoa_desktop.core.outputs.overlay import EvidenceOverlay
from kneeoa_desktop.core.pipeline import GradingPipeline

from . import samples
from .gui_helpers import (GRADING_TIMEOUT_MS, CountingPredictor, assert_bars_match, core_probabilities,  # noqa: F401
                          counting, drop_files, drop_mime, gui_settings, make_window, mouse_drag,
                          qimage_to_bgr, wait_for_result, widget_accepting_drop)


@pytest.fixture
def variants(tmp_path, knee_pixels) -> list[Path]:
    """Five different radiographs made from one: the model grades each differently."""
    images = [knee_pixels, cv2.flip(knee_pixels, 1), cv2.rotate(knee_pixels, cv2.ROTATE_180),
              cv2.convertScaleAbs(knee_pixels, alpha=0.7, beta=20), cv2.GaussianBlur(knee_pixels, (5, 5), 2)]
    paths = []
    for i, pixels in enumerate(images):
        path = tmp_path / f"variant_{i}.png"
        cv2.imwrite(str(path), pixels)
        paths.append(path)
    return paths


@pytest.fixture
def bilateral(tmp_path, knee_pixels) -> Path:
    """A wide film with two different knees side by side, as a bilateral radiograph would show."""
    path = tmp_path / "bilateral.png"
    cv2.imwrite(str(path), cv2.hconcat([cv2.flip(knee_pixels, 1), cv2.GaussianBlur(knee_pixels, (9, 9), 3)]))
    return path


def shown_pixels(window) -> np.ndarray:
    return qimage_to_bgr(window.view.shown_image())


# --- start-up ------------------------------------------------------------------------------------

def test_window_appears_before_the_model_which_loads_on_the_worker_thread(qtbot, make_window, predictor):
    release = threading.Event()
    factory_threads = []

    def slow_factory():
        factory_threads.append(threading.get_ident())
        release.wait(30)
        return predictor

    window = make_window(factory=slow_factory)
    assert window.isVisible() and "KneeOA" in window.windowTitle()
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() == "Loading model…", timeout=5000)
    assert window.model_label.text() == "Model: loading…"
    release.set()
    qtbot.waitUntil(lambda: predictor.manifest.tag in window.model_label.text(), timeout=GRADING_TIMEOUT_MS)
    assert factory_threads and factory_threads[0] != threading.get_ident()
    assert window.device_label.text() == f"Device: {predictor.device}, {predictor.engine}"
    assert window.statusBar().currentMessage() == "Ready"


def test_a_model_that_fails_to_load_is_reported_and_the_app_keeps_working(qtbot, make_window, knee_png):
    def broken():
        raise ModelError("The model file kneeoa-kl-cnn.keras is missing from /nowhere.")

    window = make_window(factory=broken)
    with qtbot.waitSignal(window.error_shown, timeout=10_000) as shown:
        pass
    assert shown.args[0] == "The model file kneeoa-kl-cnn.keras is missing from /nowhere."
    assert window.model_label.text() == "Model: unavailable"
    with qtbot.waitSignal(window.error_shown, timeout=10_000):
        window.open_path(knee_png)  # retried, reported again, nothing crashes
    # the failure box comes from the model's signal; the request is closed by the one that follows
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=10_000)
    assert window.shown() is None


# --- opening and grading -------------------------------------------------------------------------

def test_drop_anywhere_on_the_window_grades_like_the_core(qtbot, make_window, knee_png, predictor):
    window = make_window()
    # Qt delivers a drop to the first widget under the cursor, or its ancestor, that accepts
    # drops: wherever the file lands (image pane, verdict, toolbar), that must be the window.
    for widget in (window.view.viewport(), window.verdict, window.controls.slider, window.toolbar):
        point = widget.mapTo(window, widget.rect().center())
        assert widget_accepting_drop(window, point) is window
    entered, dropped = drop_files(window, [knee_png], window.view.mapTo(window, window.view.rect().center()))
    assert entered and dropped
    shown = wait_for_result(qtbot, window, knee_png)
    expected = core_probabilities(predictor, knee_png)
    assert_bars_match(window, expected)
    assert window.verdict.grade_text() == f"KL{int(np.argmax(expected))}"
    assert shown.prediction.grade == int(np.argmax(expected))
    assert knee_png.name in window.windowTitle()
    assert window.verdict.warning_visible() == (expected.max() < 0.5)


def test_a_drag_without_files_is_refused(make_window):
    window = make_window()
    mime = QMimeData()
    mime.setText("not a file")
    assert drop_mime(window, mime) == (False, False)
    assert not window.is_busy()


def test_command_line_path_is_graded(qtbot, counting, gui_settings, knee_png, predictor):
    from kneeoa_desktop.gui.app import launch

    _app, window, args = launch([str(knee_png), "--language", "en"], predictor_factory=lambda: counting,
                                settings=gui_settings)
    qtbot.addWidget(window)
    try:
        assert args.file == str(knee_png) and window.isVisible()
        wait_for_result(qtbot, window, knee_png)
        assert_bars_match(window, core_probabilities(predictor, knee_png))
        assert window.timing_label.text().startswith("Last grading: ")
        assert window.model_label.text() == f"Model: {predictor.manifest.tag}"
    finally:
        window.close()
    assert not window.grader.thread.isRunning()


def test_recent_files_reopen_and_settings_remember(qtbot, make_window, gui_settings, variants, predictor):
    window = make_window()
    window.open_path(variants[0])
    wait_for_result(qtbot, window, variants[0])
    window.open_path(variants[1])
    wait_for_result(qtbot, window, variants[1])
    assert gui_settings.recent_files[:2] == [str(variants[1]), str(variants[0])]
    assert gui_settings.last_folder == str(variants[0].parent)
    window.controls.set_brightness(2.5)
    total = sum(window.splitter.sizes())
    window.splitter.setSizes([total - 470, 470])
    sizes = window.splitter.sizes()
    window.close()
    assert gui_settings.geometry is not None  # (the offscreen screen is too small to check the size)

    again = make_window()
    assert again.controls.brightness() == pytest.approx(2.5)
    assert again.splitter.sizes()[1] == sizes[1] == 470  # the verdict pane keeps its width
    again.window_actions.fill_recent_menu()
    entries = [a for a in again.recent_menu.actions() if a.toolTip() == str(variants[0])]
    assert len(entries) == 1
    entries[0].trigger()
    wait_for_result(qtbot, again, variants[0])
    assert_bars_match(again, core_probabilities(predictor, variants[0]))
    assert gui_settings.recent_files[0] == str(variants[0])


def test_open_dialog_path_is_used(qtbot, make_window, monkeypatch, knee_png):
    window = make_window()
    monkeypatch.setattr(window, "ask_open_path", lambda: str(knee_png))
    window.open_action.trigger()
    wait_for_result(qtbot, window, knee_png)
    assert window.open_action.shortcut().toString() == "Ctrl+O"


# --- user errors --------------------------------------------------------------------------------

def test_bad_files_give_one_sentence_and_the_previous_result_stays(qtbot, make_window, tmp_path, knee_png,
                                                                   variants, predictor):
    window = make_window()
    window.open_path(knee_png)
    wait_for_result(qtbot, window, knee_png)
    before = window.verdict.probabilities()
    pixels_before = shown_pixels(window)
    for name, bad in samples.bad_files(tmp_path / "bad", knee_png).items():
        with pytest.raises(KneeOAError) as core_error:
            load_image(bad)
        with qtbot.waitSignal(window.error_shown, timeout=10_000) as shown:
            window.open_path(bad)
        assert shown.args[0] == str(core_error.value), name
        box = window.message_box()
        assert box is not None and box.isVisible() and box.text() == str(core_error.value)
        assert window.verdict.probabilities() == before, name
        assert window.shown().path == knee_png
        np.testing.assert_array_equal(shown_pixels(window), pixels_before)
        assert not window.is_busy()
    window.open_path(variants[1])  # the app still grades the next one
    wait_for_result(qtbot, window, variants[1])
    assert_bars_match(window, core_probabilities(predictor, variants[1]))


# --- background work ----------------------------------------------------------------------------

def test_rapid_loads_end_with_the_last_image(qtbot, make_window, variants, predictor, counting):
    window = make_window()
    qtbot.waitUntil(lambda: window.model_label.text() != "Model: loading…", timeout=GRADING_TIMEOUT_MS)
    shown = []
    window.result_shown.connect(lambda result: shown.append(result.path))
    for path in variants:
        window.open_path(path)
    wait_for_result(qtbot, window, variants[-1])
    qtbot.wait(200)  # anything still in flight has time to arrive, and must be dropped
    assert shown == [variants[-1]]
    assert_bars_match(window, core_probabilities(predictor, variants[-1]))
    assert counting.calls < len(variants)  # replaced requests were skipped, not graded
    assert all(t != threading.get_ident() for t in counting.threads)  # inference off the GUI thread


def test_a_result_for_a_replaced_image_is_never_shown(qtbot, make_window, predictor, variants):
    slow = CountingPredictor(predictor, delay=0.6)
    window = make_window(factory=lambda: slow)
    qtbot.waitUntil(lambda: window.model_label.text() != "Model: loading…", timeout=GRADING_TIMEOUT_MS)
    shown = []
    window.result_shown.connect(lambda result: shown.append(result.path))
    window.open_path(variants[0])
    qtbot.waitUntil(lambda: slow.calls == 1, timeout=10_000)  # the network is now busy with it
    window.open_path(variants[1])
    assert window.is_busy()
    wait_for_result(qtbot, window, variants[1])
    qtbot.wait(200)
    assert slow.calls == 2 and shown == [variants[1]]
    assert_bars_match(window, core_probabilities(predictor, variants[1]))


# --- overlay ------------------------------------------------------------------------------------

def test_slider_recomposes_the_overlay_without_a_second_inference(qtbot, make_window, knee_png, counting):
    window = make_window()
    window.open_path(knee_png)
    shown = wait_for_result(qtbot, window, knee_png)
    calls = counting.calls
    grade = shown.prediction.grade
    core = EvidenceOverlay(shown.image.display_u8(), shown.prediction.evidence_map(grade), None)
    np.testing.assert_array_equal(shown_pixels(window), core.compose(window.controls.brightness()))
    before = shown_pixels(window)
    window.controls.slider.setValue(35)
    after = shown_pixels(window)
    assert not np.array_equal(before, after)
    np.testing.assert_array_equal(after, core.compose(3.5))
    window.controls.show_box.setChecked(False)  # hidden overlay: the plain radiograph
    np.testing.assert_array_equal(shown_pixels(window), core.compose(0.0))
    assert not window.controls.slider.isEnabled()
    window.overlay_action.trigger()
    assert window.controls.overlay_visible()
    np.testing.assert_array_equal(shown_pixels(window), core.compose(3.5))
    assert counting.calls == calls


def test_choosing_a_grade_shows_its_evidence(qtbot, make_window, knee_png, counting):
    window = make_window()
    window.open_path(knee_png)
    shown = wait_for_result(qtbot, window, knee_png)
    calls = counting.calls
    predicted = shown.prediction.grade
    assert window.evidence_grade() == predicted == window.controls.selected_grade()
    assert window.controls.thumbnails.checkedId() == predicted
    assert len(shown.thumbnails) == 5 and all(not t.isNull() for t in shown.thumbnails)
    other = (predicted + 2) % 5
    window.controls.thumbnails.button(other).click()
    assert window.evidence_grade() == other == window.controls.selected_grade()
    core = EvidenceOverlay(shown.image.display_u8(), shown.prediction.evidence_map(other), None)
    np.testing.assert_array_equal(shown_pixels(window), core.compose(window.controls.brightness()))
    window.controls.grade_combo.setCurrentIndex(predicted)
    assert window.evidence_grade() == predicted and window.controls.thumbnails.checkedId() == predicted
    assert counting.calls == calls


# --- region of interest, zoom and pan -----------------------------------------------------------

def _view_point(window, x: float, y: float) -> QPoint:
    return window.view.mapFromScene(QPointF(x, y))


def test_region_of_interest_is_graded_and_outlined(qtbot, make_window, bilateral, predictor, tmp_path):
    window = make_window()
    window.open_path(bilateral)
    wait_for_result(qtbot, window, bilateral)  # the knees the localiser found (tests/test_gui_knees.py)
    assert not window.shown().manual and not window.clear_region_action.isEnabled()
    window.region_action.trigger()
    assert window.view.region_mode()
    viewport = window.view.viewport()
    mouse_drag(viewport, _view_point(window, 236, 20), _view_point(window, 436, 200))
    qtbot.waitUntil(lambda: window.shown().manual and not window.is_busy(), timeout=GRADING_TIMEOUT_MS)
    shown = window.shown()
    assert len(shown.knees) == 1  # the drawn region overrides the localiser
    x, y, w, h = shown.prediction.roi
    assert w == h and abs(x - 236) <= 2 and abs(y - 20) <= 2 and abs(w - 200) <= 3  # the dragged square
    assert not window.view.region_mode() and not window.region_action.isChecked()
    assert_bars_match(window, core_probabilities(predictor, bilateral, shown.prediction.roi))
    outline = window.view.graded_region()
    assert (outline.x(), outline.y(), outline.width(), outline.height()) == shown.prediction.roi
    assert window.clear_region_action.isEnabled()
    exported = window.export_to(tmp_path / "region.png")
    assert exported is not None and cv2.imread(str(exported)) is not None

    window.clear_region_action.trigger()  # back to the knees found automatically
    qtbot.waitUntil(lambda: not window.shown().manual and not window.is_busy(), timeout=GRADING_TIMEOUT_MS)
    found = GradingPipeline(predictor)(bilateral).knees
    assert [k.region for k in window.shown().knees] == [k.region for k in found]
    assert_bars_match(window, found[0].prediction.probabilities)


def test_a_too_small_region_is_refused_with_a_sentence(qtbot, make_window, bilateral):
    window = make_window()
    window.open_path(bilateral)
    wait_for_result(qtbot, window, bilateral)
    before = window.verdict.probabilities()
    with qtbot.waitSignal(window.error_shown, timeout=10_000) as shown:
        window.grade_region((10, 10, 30, 30))
    assert "64×64" in shown.args[0]
    assert window.verdict.probabilities() == before and not window.shown().manual


def test_wheel_zooms_drag_pans_and_fit_resets(qtbot, make_window, knee_png):
    window = make_window()
    window.open_path(knee_png)
    wait_for_result(qtbot, window, knee_png)
    view = window.view
    assert view.zoom() == pytest.approx(1.0)
    centre = QPointF(view.viewport().rect().center())
    wheel = QWheelEvent(centre, QPointF(view.viewport().mapToGlobal(centre.toPoint())), QPoint(0, 0),
                        QPoint(0, 360), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view.viewport(), wheel)
    assert view.zoom() == pytest.approx(1.2 ** 3, rel=1e-3)
    start = (view.horizontalScrollBar().value(), view.verticalScrollBar().value())
    mouse_drag(view.viewport(), view.viewport().rect().center(), view.viewport().rect().center() + QPoint(-60, -40))
    assert (view.horizontalScrollBar().value(), view.verticalScrollBar().value()) != start
    window.fit_action.trigger()
    assert view.zoom() == pytest.approx(1.0)


# --- export -------------------------------------------------------------------------------------

def test_export_proposes_a_name_and_writes_a_png(qtbot, make_window, tmp_path, knee_png, monkeypatch):
    window = make_window()
    source = tmp_path / "колено.png"  # a Cyrillic name must survive the whole way
    source.write_bytes(knee_png.read_bytes())
    window.open_path(source)
    wait_for_result(qtbot, window, source)
    proposals = []
    target = tmp_path / "out" / "annotated.png"
    target.parent.mkdir()

    def ask(proposal):
        proposals.append(proposal)
        return str(target)

    monkeypatch.setattr(window, "ask_save_path", ask)
    window.export_action.trigger()
    assert proposals == [source.parent / default_export_name(source.name)]
    assert proposals[0].name == "колено_kneeoa.png"
    written = cv2.imread(str(target))
    assert written is not None and written.shape[0] >= 640 and written.shape[1] > written.shape[0]
    assert source.read_bytes() == knee_png.read_bytes()
    assert window.export_action.shortcut().toString() == "Ctrl+E"
    # The next proposal is in the folder the user exported to.
    window.export_action.trigger()
    assert proposals[1] == target.parent / "колено_kneeoa.png"


def test_failed_exports_say_why_and_nothing_is_lost(qtbot, make_window, tmp_path, knee_png):
    window = make_window()
    source = tmp_path / "knee.png"
    source.write_bytes(knee_png.read_bytes())
    window.open_path(source)
    wait_for_result(qtbot, window, source)
    before = window.verdict.probabilities()
    with qtbot.waitSignal(window.error_shown) as shown:
        assert window.export_to(source) is None
    assert shown.args[0] == "The export would overwrite the source radiograph; choose another name."
    assert source.read_bytes() == knee_png.read_bytes()
    with qtbot.waitSignal(window.error_shown) as shown:
        assert window.export_to(tmp_path / "missing" / "x.png") is None
    assert "does not exist" in shown.args[0]
    assert window.verdict.probabilities() == before and window.shown().path == source
    assert window.export_to(tmp_path / "ok.png") == tmp_path / "ok.png"


def test_export_includes_patient_details_only_when_asked(qtbot, make_window, tmp_path, knee_pixels):
    window = make_window()
    dicom = samples.write_dicom(knee_pixels, tmp_path / "p.dcm")
    window.open_path(dicom)
    wait_for_result(qtbot, window, dicom)
    assert "Doe" not in window.side_panel.source_info.text()
    plain = cv2.imread(str(window.export_to(tmp_path / "plain.png")))
    window.patient_action.setChecked(True)
    named = cv2.imread(str(window.export_to(tmp_path / "named.png")))
    assert plain.shape == named.shape and not np.array_equal(plain, named)


# --- about ---------------------------------------------------------------------------------------

def test_about_box_shows_the_model_card_and_the_disclaimer(qtbot, make_window, predictor):
    window = make_window()
    window.about_action.trigger()
    box = window.about_box()
    assert box is not None and box.isVisible()
    assert "Decision support only — not a diagnosis" in box.text()
    assert predictor.manifest.name in box.text() and predictor.manifest.version in box.text()
    assert all(f"{m.name} {m.version}" in box.text() for m in predictor.manifest.members)
    box.close()


def test_large_films_preview_while_dragging_and_sharpen_on_release(qtbot, make_window, tmp_path, knee_pixels,
                                                                   counting):
    from kneeoa_desktop.gui.worker import PREVIEW_SIDE

    big = tmp_path / "large.png"
    # square, so that it is graded whole (a crop of another shape is framed as a padded square)
    cv2.imwrite(str(big), cv2.resize(knee_pixels, (1600, 1600), interpolation=cv2.INTER_CUBIC))
    window = make_window()
    window.open_path(big)
    shown = wait_for_result(qtbot, window, big)
    calls = counting.calls
    assert shown.preview is not None and max(shown.preview.gray.shape) == PREVIEW_SIDE
    slider = window.controls.slider
    slider.setSliderDown(True)
    slider.setValue(30)
    preview = window.view.shown_image()
    assert preview.width() == PREVIEW_SIDE and window.view.shown_scale() == pytest.approx(1600 / PREVIEW_SIDE)
    np.testing.assert_array_equal(qimage_to_bgr(preview), shown.preview.overlay.compose(3.0))
    slider.setSliderDown(False)
    assert window.view.shown_scale() == 1.0
    core = EvidenceOverlay(shown.image.display_u8(), shown.prediction.evidence_map(shown.prediction.grade), None)
    np.testing.assert_array_equal(shown_pixels(window), core.compose(3.0))
    assert counting.calls == calls
