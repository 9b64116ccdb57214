"""The model in the window: Help ▸ Check for model update… end to end against a real HTTP server
on 127.0.0.1, the model-failure box (restore a downloaded model, or reinstall a damaged bundled
one), the About box, the log folder, uncaught exceptions, and DICOM privacy in title, status
bar and log file.

Each test has its own user data folder, so downloads never leak into other tests. The server
speaks plain http, which the core allows only to the loopback address with
$KNEEOA_ALLOW_LOOPBACK_HTTP=1 (set here).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from kneeoa_desktop.core.model import download, model_store
from kneeoa_desktop.core import logs
from kneeoa_desktop.core.errors import ModelError
from kneeoa_desktop.core.model.manifest import DEFAULT_WEIGHTS_DIR
from kneeoa_desktop.core.messages import QT_TRANSLATE_NOOP
from kneeoa_desktop.gui import i18n
from kneeoa_desktop.gui.worker import default_predictor_factory

from . import samples
from .gui_helpers import (GRADING_TIMEOUT_MS, CountingPredictor, counting, gui_settings, make_window,  # noqa: F401
                          wait_for_result)

from .model_server import (BUNDLED, DOWNLOADED_TAG, MODEL_BYTES, server, snapshot,  # noqa: F401,E402
                           unchanged_bundle)

MODEL_SHA = hashlib.sha256(MODEL_BYTES).hexdigest()
SOURCE = "https://models.example.org/kneeoa-kl-cnn.keras"


@pytest.fixture(autouse=True)
def fresh_store(tmp_path, monkeypatch):
    """No downloaded model at the start of each test, and never the real user's folder."""
    monkeypatch.setenv("KNEEOA_DATA_DIR", str(tmp_path / "userdata"))
    yield tmp_path / "userdata"


def install_downloaded_copy(tmp_path: Path) -> Path:
    """Make a downloaded copy of the bundled model the model in use, as a finished download would."""
    staged = tmp_path / "staged.keras"
    staged.write_bytes(MODEL_BYTES)
    one_network = replace(BUNDLED, directory=tmp_path, file=staged.name, members=(), ensemble_temperature=1.0)
    manifest = model_store.install_model(staged, one_network, SOURCE)
    assert model_store.active_model().origin == "downloaded"
    return manifest.model_path


def button(box: QMessageBox, text: str):
    matches = [b for b in box.buttons() if b.text().replace("&", "") == text]
    return matches[0] if matches else None


def wait_model(qtbot, window, text: str) -> None:
    qtbot.waitUntil(lambda: window.model_label.text() == text, timeout=GRADING_TIMEOUT_MS)


# --- Help ▸ Check for model update… --------------------------------------------------------------

def test_a_download_installs_the_model_and_the_window_regrades_with_it(qtbot, make_window, server, knee_png,
                                                                       unchanged_bundle):
    window = make_window(factory=default_predictor_factory)  # the real program's factory: the model in use
    wait_model(qtbot, window, f"Model: {BUNDLED.tag}")
    window.open_path(knee_png)
    first = wait_for_result(qtbot, window, knee_png)
    assert window.update_action in window.help_menu.actions()
    window.update_action.trigger()
    dialog = window.model_dialog()
    assert dialog is not None and dialog.isVisible()
    assert dialog.model_value.text() == BUNDLED.tag
    assert dialog.origin_value.text() == "bundled with the program"
    assert dialog.checksum_value.text() == MODEL_SHA[:16] + "…"
    assert not dialog.restore_button.isEnabled()  # nothing to restore: the bundled model is in use
    configured, sha = download.default_source()
    assert dialog.source_edit.text() == (configured or "")
    assert dialog.sha_edit.text() == (sha if configured else "")

    dialog.source_edit.setText(server.url)
    dialog.sha_edit.setText(MODEL_SHA.upper())  # as pasted from release notes: case does not matter
    qtbot.mouseClick(dialog.download_button, Qt.MouseButton.LeftButton)
    assert dialog.progress_dialog() is not None and dialog.progress_dialog().isVisible()
    assert not dialog.download_button.isEnabled()
    # The core's own check (a full load with the Predictor) runs on the download thread.
    qtbot.waitUntil(lambda: window.model_label.text() == f"Model: {DOWNLOADED_TAG} (downloaded)",
                    timeout=GRADING_TIMEOUT_MS)
    active = model_store.active_model()
    assert active.origin == "downloaded" and active.source == server.url
    assert window.model_dialog() is None  # the dialog closed itself
    box = window.message_box()
    assert box is not None and box.isVisible()
    assert box.text() == f"Model {DOWNLOADED_TAG} is installed and in use."
    assert server.url in box.informativeText()
    assert server.url in window.model_label.toolTip()
    # The image on screen is graded again, by the new model.
    second = wait_for_result(qtbot, window, knee_png)
    assert second.request_id > first.request_id
    box.close()

    window.about_action.trigger()
    about = window.about_box().text()
    assert f"downloaded from {server.url} on {active.installed[:10]}" in about
    window.about_box().close()

    # And back: the update dialog offers the bundled model again.
    dialog = window.open_model_dialog()
    assert dialog.restore_button.isEnabled() and server.url in dialog.origin_value.text()
    dialog.restore_button.click()
    assert model_store.active_model().bundled and not dialog.restore_button.isEnabled()
    assert dialog.origin_value.text() == "bundled with the program"
    wait_model(qtbot, window, f"Model: {BUNDLED.tag}")
    assert active.directory.is_dir()  # restoring deletes nothing
    dialog.close()


def test_wrong_input_or_checksum_is_one_sentence_and_nothing_changes(qtbot, make_window, server):
    window = make_window()
    dialog = window.open_model_dialog()
    dialog.validate = lambda manifest: None  # the transfer is under test here, not the model
    cases = [("", MODEL_SHA, "Enter the address of the model file (an https URL) or its Google Drive file id."),
             ("http://example.com/model.keras", MODEL_SHA, "Model downloads must use https; plain http is refused."),
             ("ftp://example.com/m.keras", MODEL_SHA,
              "'ftp://example.com/m.keras' is neither an https URL nor a Google Drive file id."),
             (server.url, "abc123", "The SHA-256 checksum must be 64 hexadecimal characters.")]
    for source, sha, sentence in cases:
        dialog.source_edit.setText(source)
        dialog.sha_edit.setText(sha)
        with qtbot.waitSignal(dialog.error_shown, timeout=5000) as shown:
            assert dialog.start_download() is False  # refused before any thread starts
        assert shown.args[0] == sentence and dialog.message_box().text() == sentence
        assert not dialog.is_downloading()
    dialog.sha_edit.setText(MODEL_SHA)
    dialog.version_edit.setText("../../etc")
    with qtbot.waitSignal(dialog.error_shown, timeout=5000):
        assert dialog.start_download() is False
    dialog.version_edit.clear()

    dialog.sha_edit.setText(hashlib.sha256(b"another release").hexdigest())
    with qtbot.waitSignal(dialog.error_shown, timeout=30_000) as shown:
        qtbot.mouseClick(dialog.download_button, Qt.MouseButton.LeftButton)
    assert shown.args[0] == ("The downloaded file does not match the expected SHA-256 checksum; "
                             "it was deleted and the model in use is unchanged.")
    samples.check_one_sentence(shown.args[0])
    assert dialog.isVisible() and dialog.progress_dialog() is None
    assert model_store.active_model().bundled
    assert not model_store.models_dir().exists() or not any(model_store.models_dir().iterdir())
    qtbot.waitUntil(lambda: dialog.download_button.isEnabled(), timeout=5000)
    assert window.model_label.text() == f"Model: {BUNDLED.tag}"


def test_cancel_during_a_slow_transfer_stops_it_and_installs_nothing(qtbot, make_window, server):
    server.mode = "trickle"  # 2.8 MB at 320 KB/s: nine seconds unless cancelled
    window = make_window()
    dialog = window.open_model_dialog()
    dialog.source_edit.setText(server.url)
    dialog.sha_edit.setText(MODEL_SHA)
    started = time.monotonic()
    qtbot.mouseClick(dialog.download_button, Qt.MouseButton.LeftButton)
    progress = dialog.progress_dialog()
    qtbot.waitUntil(lambda: progress.value() > 0, timeout=20_000)  # bytes are arriving, with a known total
    assert progress.maximum() == 1000
    assert progress.labelText().startswith("Downloading from 127.0.0.1: ")
    assert progress.labelText().endswith(f" of {len(MODEL_BYTES) / 2**20:.1f} MB")
    assert window.isEnabled()  # the GUI thread is free: events are processed while bytes arrive
    clicked = time.monotonic()
    dialog._cancel_button.click()
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() == "Download cancelled.", timeout=10_000)
    assert time.monotonic() - clicked < 3 and time.monotonic() - started < 8  # well before the last byte
    assert dialog.outcome_label.text() == "The download was cancelled; the model in use is unchanged."
    qtbot.waitUntil(lambda: not dialog.is_downloading(), timeout=5000)
    assert dialog.download_button.isEnabled() and dialog.message_box() is None
    assert model_store.active_model().bundled
    assert not (model_store.models_dir() / model_store.ACTIVE_NAME).exists()
    assert window.model_label.text() == f"Model: {BUNDLED.tag}"


RELOAD_SCRIPT = """
import sys, time
from PySide6.QtCore import QSettings
from kneeoa_desktop.gui.app import launch
from kneeoa_desktop.gui.settings import Settings

app, window, _ = launch([], settings=Settings(QSettings(sys.argv[1], QSettings.Format.IniFormat)))
window.start()

def ready():
    end = time.time() + 120
    while window.state.model_info is None and time.time() < end:
        app.processEvents()
        time.sleep(0.01)
    return window.state.model_info is not None

assert ready(), window.model_label.text()
for _ in range(3):
    window.reload_model()
    assert ready(), window.model_label.text()
print("RELOADED", window.model_label.text())
window.close()
"""


def test_reloading_the_model_on_the_grading_thread_is_safe(tmp_path):
    """A fresh process, so that TensorFlow is first imported on the grading thread, as in the real
    program: a reload used to crash there (a Python thread state freed under pybind11)."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", TF_CPP_MIN_LOG_LEVEL="3")
    out = subprocess.run([sys.executable, "-c", RELOAD_SCRIPT, str(tmp_path / "s.ini")], capture_output=True,
                         text=True, env=env, timeout=240, cwd=str(DEFAULT_WEIGHTS_DIR.parent))
    assert out.returncode == 0, (out.returncode, out.stderr[-2000:])
    assert f"RELOADED Model: {BUNDLED.tag}" in out.stdout


# --- the model-failure box -----------------------------------------------------------------------

def test_a_damaged_download_offers_the_bundled_model_and_grading_works_again(qtbot, make_window, tmp_path,
                                                                              knee_png, unchanged_bundle):
    installed = install_downloaded_copy(tmp_path)
    installed.write_bytes(MODEL_BYTES[: len(MODEL_BYTES) // 2])  # truncated on disk
    window = make_window(factory=default_predictor_factory, start=False)
    with qtbot.waitSignal(window.error_shown, timeout=GRADING_TIMEOUT_MS) as shown:
        window.start()
    sentence = f"The model file {installed.name} is damaged or was altered (its checksum does not match the manifest)."
    assert shown.args[0] == sentence
    box = window.message_box()
    assert box.isVisible() and box.text() == sentence and box.isModal()
    assert f"downloaded from {SOURCE}" in box.informativeText()
    assert button(box, "Restore bundled model") is not None
    assert window.model_label.text() == "Model: unavailable"

    # Grading without a model: the same clear box again, no crash, no result.
    with qtbot.waitSignal(window.error_shown, timeout=GRADING_TIMEOUT_MS) as shown:
        window.open_path(knee_png)
    assert shown.args[0] == sentence
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=5000)
    assert window.shown() is None
    box = window.message_box()
    button(box, "Restore bundled model").click()
    wait_model(qtbot, window, f"Model: {BUNDLED.tag}")
    assert model_store.active_model().bundled
    assert installed.is_file()  # restoring deletes nothing
    window.open_path(knee_png)
    assert wait_for_result(qtbot, window, knee_png).prediction.model == BUNDLED.tag


def test_a_damaged_bundled_model_says_reinstall_and_nothing_is_written(qtbot, make_window, tmp_path, monkeypatch,
                                                                        knee_png, unchanged_bundle):
    bundle = tmp_path / "weights"
    shutil.copytree(DEFAULT_WEIGHTS_DIR, bundle)
    # The file the default (lean) engine reads: the first network's exported graph.
    model_file = bundle / BUNDLED.member_list[0].onnx_file
    model_file.write_bytes(model_file.read_bytes()[:-1000])
    monkeypatch.setattr(model_store, "DEFAULT_WEIGHTS_DIR", bundle)
    before = snapshot(bundle)
    window = make_window(factory=default_predictor_factory, start=False)
    with qtbot.waitSignal(window.error_shown, timeout=GRADING_TIMEOUT_MS) as shown:
        window.start()
    assert "is damaged or was altered" in shown.args[0]
    box = window.message_box()
    assert "reinstall KneeOA Desktop" in box.informativeText()
    assert button(box, "Restore bundled model") is None and button(box, "OK") is not None
    with qtbot.waitSignal(window.error_shown, timeout=GRADING_TIMEOUT_MS):
        window.open_path(knee_png)
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=5000)
    assert window.shown() is None and window.statusBar().currentMessage() == "Model unavailable"
    dialog = window.open_model_dialog()
    assert not dialog.restore_button.isEnabled()
    dialog.close()
    assert snapshot(bundle) == before


# --- About, log folder, unexpected errors ----------------------------------------------------------

def test_about_names_the_model_origin_and_the_log_file(qtbot, make_window, predictor):
    window = make_window()
    wait_model(qtbot, window, f"Model: {predictor.manifest.tag}")
    window.about_action.trigger()
    text = window.about_box().text()
    assert "Model origin" in text and "bundled with the program" in text
    assert "Log file" in text and str(logs.log_file()) in text
    window.about_box().close()


def test_show_log_folder_opens_the_log_directory(make_window, monkeypatch, tmp_path):
    from kneeoa_desktop.gui import main_window

    monkeypatch.setenv("KNEEOA_LOG_DIR", str(tmp_path / "logs here"))
    opened = []
    monkeypatch.setattr(main_window.QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    window = make_window()
    assert window.log_folder_action in window.help_menu.actions()
    assert window.log_folder_action.text() == "Show &log folder"
    window.log_folder_action.trigger()
    assert [url.toLocalFile() for url in opened] == [str(tmp_path / "logs here")]
    assert (tmp_path / "logs here").is_dir()


class _Buggy(CountingPredictor):
    def predict_array(self, batch, with_features=False):
        raise RuntimeError("a bug, with details only a developer needs")


def test_bugs_go_to_the_log_and_the_user_reads_one_sentence(qtbot, make_window, monkeypatch, tmp_path, predictor,
                                                             knee_png):
    from kneeoa_desktop.gui import unexpected

    monkeypatch.setenv("KNEEOA_LOG_DIR", str(tmp_path / "log"))
    logs.shutdown_logging()
    path = logs.setup_logging("gui")
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # restored after the test
    try:
        window = make_window(factory=lambda: _Buggy(predictor))
        with qtbot.waitSignal(window.error_shown, timeout=GRADING_TIMEOUT_MS) as shown:
            window.open_path(knee_png)
        assert shown.args[0] == ("An unexpected error occurred while grading (RuntimeError); "
                                 "details are in the log file.")
        # An exception no slot caught, as PySide6 hands it to sys.excepthook.
        hook = unexpected.install_exception_hook(path)
        assert sys.excepthook is hook
        try:
            {}["missing"]
        except KeyError:
            hook(*sys.exc_info())
        box = unexpected.message_box()
        assert box is not None and box.isVisible()
        assert box.text() == f"An unexpected error occurred; details are in the log file {path}."
        box.close()
        assert window.isVisible()  # the program keeps running
        text = path.read_text(encoding="utf-8")
        assert "a bug, with details only a developer needs" in text and "RuntimeError" in text
        assert "Traceback" in text and "KeyError: 'missing'" in text
        assert f"told the user: {shown.args[0]} (file {knee_png.name})" in text
    finally:
        logs.shutdown_logging()


# --- privacy -------------------------------------------------------------------------------------

def test_dicom_patient_details_stay_out_of_title_status_bar_and_log(qtbot, make_window, monkeypatch, tmp_path,
                                                                     knee_pixels):
    import pydicom

    monkeypatch.setenv("KNEEOA_LOG_DIR", str(tmp_path / "log"))
    logs.shutdown_logging()
    path = logs.setup_logging("gui")
    try:
        dicom = samples.write_dicom(knee_pixels, tmp_path / "knee.dcm", patient_name="DOE^JOHN",
                                    patient_id="PID-98765")
        ds = pydicom.dcmread(dicom)
        ds.PatientBirthDate = "19450101"
        ds.save_as(dicom)
        window = make_window()
        window.open_path(dicom)
        wait_for_result(qtbot, window, dicom)
        window.export_to(tmp_path / "export.png")  # the export line goes to the status bar too
        shown = [window.windowTitle(), window.statusBar().currentMessage(), window.side_panel.source_info.text()]
        shown += [label.text() + label.toolTip() for label in (window.device_label, window.model_label,
                                                             window.timing_label)]
        logs.shutdown_logging()  # flushes and closes the file
        log_text = path.read_text(encoding="utf-8")
        assert "graded knee.dcm" in log_text  # the log does name the file
        for secret in ("DOE^JOHN", "DOE", "JOHN", "PID-98765", "98765", "19450101"):
            for text in shown:
                assert secret not in text, (secret, text)
            assert secret not in log_text, secret
    finally:
        logs.shutdown_logging()


# --- Russian -------------------------------------------------------------------------------------

def test_the_model_dialog_and_download_sentences_speak_russian(make_window):
    window = make_window()
    window.set_language("ru")
    try:
        dialog = window.open_model_dialog()
        assert dialog.windowTitle() == "Проверка обновления модели"
        assert dialog.origin_value.text() == "поставляется с программой"
        # One core sentence quoted inside another: both are translated.
        why = ModelError(QT_TRANSLATE_NOOP("CoreMessages", "The model file {0} cannot be loaded ({1})."),
                         "m.keras", "ValueError")
        nested = download.unusable(why)
        assert str(nested) == ("The downloaded model cannot be used (The model file m.keras cannot be loaded "
                               "(ValueError)); the model in use is unchanged.")
        for message in (nested, str(nested)):
            assert i18n.core_message(message) == ("Загруженную модель нельзя использовать (Файл модели m.keras не "
                                                  "удаётся загрузить (ValueError)); текущая модель не изменилась.")
        dialog.close()
    finally:
        window.set_language("en")
