"""Settings ▸ Site calibration in the window: a profile is loaded, shown under the grade, kept for
the next start, cleared; a profile for another model is refused with one sentence."""

from __future__ import annotations

import json

import numpy as np

from kneeoa_desktop.core.verdict.site_profile import save_profile
from kneeoa_desktop.training.site_calibration import build_profile

from .gui_helpers import (GRADING_TIMEOUT_MS, counting, gui_settings, make_window,  # noqa: F401
                          wait_for_result)
from .test_site_calibration import _site


def test_site_calibration_is_loaded_shown_remembered_and_cleared(qtbot, make_window, gui_settings, predictor,
                                                                  knee_png, tmp_path):
    probs, y = _site(shift=1, n=200)
    profile = build_profile(probs, y, predictor.manifest, "Test Site")
    path = save_profile(profile, tmp_path / "site.json")
    window = make_window()
    window.open_path(knee_png)
    wait_for_result(qtbot, window, knee_png)
    assert window.verdict.site_text() == "" and not window.site_controller.clear_action.isEnabled()

    window.site_controller.use(str(path))  # what the file dialog hands over
    qtbot.waitUntil(lambda: window.site_controller.profile is not None and not window.is_busy()
                    and bool(window.shown().prediction.site), timeout=GRADING_TIMEOUT_MS)
    prediction = window.shown().prediction
    assert window.verdict.site_text() == f"Calibrated for Test Site (200 films, {profile.created})"
    assert prediction.grade == int(profile.grades(np.array([prediction.probabilities]))[0])
    assert gui_settings.site_profile == str(path) and window.site_controller.clear_action.isEnabled()
    window.about_action.trigger()  # the About box says which calibration is in use
    assert "Calibrated for Test Site" in window.about_box().text()
    window.about_box().close()

    # The next start finds it again and grades with it.
    second = make_window()
    second.open_path(knee_png)
    qtbot.waitUntil(lambda: second.shown() is not None and bool(second.shown().prediction.site),
                    timeout=GRADING_TIMEOUT_MS)
    assert second.verdict.site_text().startswith("Calibrated for Test Site")

    window.site_controller.clear()
    qtbot.waitUntil(lambda: window.site_controller.profile is None and not window.is_busy()
                    and not window.shown().prediction.site, timeout=GRADING_TIMEOUT_MS)
    assert window.verdict.site_text() == "" and gui_settings.site_profile == ""

    other = tmp_path / "other.json"
    other.write_text(json.dumps({**json.loads(path.read_text()), "model_fingerprint": "e" * 64}))
    window.site_controller.use(str(other))
    qtbot.waitUntil(lambda: window.last_error is not None and "another model" in window.last_error,
                    timeout=GRADING_TIMEOUT_MS)
    assert "\n" not in window.last_error and gui_settings.site_profile == ""
    assert window.site_controller.profile is None and window.verdict.site_text() == ""
