"""Shared fixtures: the dataset location, one real radiograph, and the shipped predictor."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Tests never read or write the real user's downloaded models or log: each run gets its own.
if "KNEEOA_DATA_DIR" not in os.environ or "KNEEOA_LOG_DIR" not in os.environ:
    import atexit
    import shutil
    import tempfile

    _scratch = Path(tempfile.mkdtemp(prefix="kneeoa-tests-"))
    atexit.register(shutil.rmtree, _scratch, ignore_errors=True)
    os.environ.setdefault("KNEEOA_DATA_DIR", str(_scratch / "data"))
    os.environ.setdefault("KNEEOA_LOG_DIR", str(_scratch / "log"))

REPO = Path(__file__).resolve().parents[1]
#: kneeKL224 (``$KNEEOA_DATA``, else ../shared/data/kneeKL224); the real out-of-scope films lie
#: beside it (``$KNEEOA_OUT_OF_SCOPE``, else <its parent>/out-of-scope), as in ../shared/data.
DATA_DIR = Path(os.environ.get("KNEEOA_DATA", REPO.parent / "shared" / "data" / "kneeKL224"))
OUT_OF_SCOPE = Path(os.environ.get("KNEEOA_OUT_OF_SCOPE", DATA_DIR.parent / "out-of-scope"))
IMPLANTS = OUT_OF_SCOPE / "implants"
HAVE_DATA = (DATA_DIR / "val").is_dir()
HAVE_IMPLANTS = any(IMPLANTS.glob("*.jpg"))
needs_data = pytest.mark.skipif(not HAVE_DATA, reason=f"dataset not found at {DATA_DIR} "
                                "(set KNEEOA_DATA to a kneeKL224-shaped folder)")
needs_implants = pytest.mark.skipif(not HAVE_IMPLANTS, reason=f"real implant films not found at {IMPLANTS} "
                                    "(set KNEEOA_OUT_OF_SCOPE to the out-of-scope folder)")


def pytest_configure(config):
    """In CI the data lies beside the checkout: missing data there is a broken set-up, said at
    once, not a run whose data tests all skip and pass."""
    if os.environ.get("CI") and not (HAVE_DATA and HAVE_IMPLANTS):
        missing = [str(p) for p, ok in ((DATA_DIR, HAVE_DATA), (IMPLANTS, HAVE_IMPLANTS)) if not ok]
        raise pytest.UsageError(f"CI: the shared data is missing ({', '.join(missing)}); "
                                "set KNEEOA_DATA / KNEEOA_OUT_OF_SCOPE or put ../shared beside the checkout")


@pytest.fixture(scope="session")
def knee_png(tmp_path_factory) -> Path:
    """One real 224×224 8-bit radiograph (from val), or a synthetic one without the dataset."""
    if HAVE_DATA:
        # A clear KL0 and KL4 are graded confidently, which makes "same grade" checks meaningful.
        return sorted((DATA_DIR / "val" / "4").glob("*.png"))[0]
    import cv2

    path = tmp_path_factory.mktemp("synthetic") / "knee.png"
    from .samples import synthetic_knee

    cv2.imwrite(str(path), synthetic_knee(224))
    return path


@pytest.fixture(scope="session")
def knee_pixels(knee_png) -> np.ndarray:
    import cv2

    return cv2.imread(str(knee_png), cv2.IMREAD_GRAYSCALE)


@pytest.fixture
def tiny_dataset(tmp_path, knee_png, knee_pixels):
    """train/ and val/ with three images per grade (mirror and shifted copies of one radiograph)."""
    import cv2

    root = tmp_path / "tiny"
    for split in ("train", "val"):
        for grade in range(5):
            folder = root / split / str(grade)
            folder.mkdir(parents=True)
            for i in range(3):
                img = np.roll(knee_pixels, 7 * i + grade, axis=1)
                cv2.imwrite(str(folder / f"{grade}{i}.png"), img[:, ::-1] if i % 2 else img)
    return root


@pytest.fixture(scope="session")
def single_weights(tmp_path_factory) -> Path:
    """The bundled model's first network alone, as a one-network model folder (for tests of one
    network's mechanics: its conversion cache, its flip, its damaged file)."""
    import shutil
    from dataclasses import replace

    from kneeoa_desktop.core.model.manifest import load_manifest

    shipped = load_manifest()
    target = tmp_path_factory.mktemp("single-network")
    shutil.copy(shipped.model_path, target / shipped.file)
    replace(shipped, members=(), ensemble_temperature=1.0, metrics={}, directory=target).save()
    return target


@pytest.fixture(scope="session")
def single_predictor(single_weights):
    from kneeoa_desktop.core.model.predictor import Predictor

    return Predictor(single_weights)


@pytest.fixture(scope="session")
def predictor():
    from kneeoa_desktop.core.model.model_store import active_weights_dir
    from kneeoa_desktop.core.model.predictor import Predictor

    return Predictor(active_weights_dir())


# --- The quick suite: `pytest -m "not slow"` ------------------------------------------------
# A test is slow when it loads TensorFlow or the model, starts a Python process, walks the
# dataset, builds the bundle, or runs long hypothesis searches (seconds each). Tests that take
# the session's model are found by fixture; the others are named here, with the reason, so the
# quick suite stays TensorFlow-free and well under a minute while still covering the Qt-free
# core (loading, formats, DICOM, preprocessing, metrics, overlay, export, localiser, scope
# statistics, CLI usage errors, downloads against the local test server).

SLOW_FIXTURES = {"predictor", "single_predictor"}  # also reached through counting, make_window, …
SLOW_MODULES = {
    "test_bundle.py",  # builds and runs the PyInstaller bundle (minutes)
    "test_windows_installer.py",  # builds the Windows installer and runs it under Wine (minutes)
    "test_endurance.py",  # hundreds of gradings
    "test_server_live.py",  # a `kneeoa serve` process with the model, curl, DCMTK and Chromium
    "test_training.py",  # trains tiny models; the rest imports Keras
    "test_lite_engine.py",  # converts the model to TensorFlow Lite
}
SLOW_TESTS = {
    # the `kneeoa` command loading the model, or a whole `kneeoa` process
    "test_cli.py::test_predict_table_csv_and_overlays",
    "test_cli.py::test_each_bad_file_gives_one_line_and_the_rest_continue",
    "test_cli.py::test_evaluate_small_folder",
    "test_cli.py::test_source_files_are_untouched",
    "test_cli.py::test_self_test_grades_the_built_in_sample",
    "test_cli.py::test_debug_shows_the_traceback",
    "test_cli.py::test_real_process_output_is_clean",
    "test_cli.py::test_predict_prints_one_record_per_knee_with_side_region_and_scope",
    "test_logs.py::test_an_unwritable_log_folder_is_not_an_error",
    "test_logs.py::test_cli_logs_details_while_the_user_gets_one_line",
    "test_logs.py::test_info_says_where_the_log_is",
    "test_logs.py::test_patient_identifiers_never_reach_the_log",
    # Keras models built or loaded
    "test_predictor.py::test_missing_and_truncated_model",
    "test_predictor.py::test_lambda_model_is_refused_without_running_its_code",
    "test_predictor.py::test_grad_cam_for_a_model_without_a_cam_head",
    "test_ensemble.py::test_release_builds_a_measured_ensemble_and_its_card",
    "test_ensemble.py::test_gpu_member_script_runs_end_to_end_on_a_tiny_pack",
    "test_site_calibration.py::test_calibrate_and_predict_with_the_profile",
    "test_site_calibration.py::test_calibrate_refuses_what_it_cannot_fit_and_writes_nothing",
    "test_site_calibration.py::test_the_site_report_opens_in_a_real_browser",
    "test_security.py::test_a_model_file_swapped_after_the_manifest_was_written_is_refused",
    # the localiser over large noisy films; scope statistics over the dataset's crops
    "test_localise.py::test_sixteen_bit_and_noise_do_not_crash",
    "test_localise.py::test_a_leg_that_fills_a_portrait_film_across_is_framed_on_its_joint",  # 35 films each
    "test_scope.py::test_metal_is_not_seen_in_ordinary_crops",
    # the downloaded file is loaded with TensorFlow to validate it
    "test_download.py::test_a_file_that_is_no_model_is_not_installed",
    # hypothesis searches of a second or more of CPU each (cheap ones stay in the quick suite)
    "test_fuzz.py::test_mutated_valid_files",
    "test_fuzz.py::test_mutated_dicom",
    "test_fuzz.py::test_dicom_with_absurd_image_module",
    "test_fuzz.py::test_tiff_with_absurd_directory",
    "test_fuzz.py::test_png_with_absurd_header",
    "test_fuzz.py::test_bmp_with_absurd_info_header",
    "test_fuzz.py::test_jpeg_with_absurd_frame_header",
    "test_fuzz.py::test_memory_bombs_stay_bounded",  # child processes under memory limits
    # GUI processes started under each locale / as the console script; model reload
    "test_gui_i18n.py::test_the_system_locale_is_followed_unless_a_language_was_chosen",
    "test_gui_parts.py::test_console_script_and_module_start_the_gui",
    "test_gui_model.py::test_reloading_the_model_on_the_grading_thread_is_safe",
    # the lean engine against TensorFlow, in processes where TensorFlow cannot be imported
    "test_lean_engine.py::test_cli_grades_without_tensorflow_as_tensorflow_does",
    "test_lean_engine.py::test_the_window_grades_without_tensorflow_as_tensorflow_does",
    "test_lean_engine.py::test_without_runtime_files_and_without_tensorflow_one_sentence",
    "test_lean_engine.py::test_the_shipped_runtime_files_reproduce_the_keras_model",
    "test_server.py::test_cli_serve_help_and_bad_arguments",
}


_IMPORTED_TENSORFLOW: list[str] = []
_STALE_SLOW_NAMES: list[str] = []


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(config, items):
    seen, modules = set(), set()
    for item in items:
        name = f"{item.path.name}::{getattr(item, 'originalname', item.name)}"
        seen.add(name)
        modules.add(item.path.name)
        if (item.path.name in SLOW_MODULES or name in SLOW_TESTS
                or SLOW_FIXTURES & set(getattr(item, "fixturenames", ()))):
            item.add_marker(pytest.mark.slow)
    # A renamed test would silently drop back into the quick suite: say so.
    _STALE_SLOW_NAMES[:] = sorted(n for n in SLOW_TESTS - seen if n.split("::")[0] in modules)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """Note a test that is not marked slow but imports TensorFlow: it belongs in the slow set.

    Only the first such test of a run can be seen (a module is imported once per process)."""
    import sys

    before = "tensorflow" in sys.modules
    yield
    if not before and "tensorflow" in sys.modules and item.get_closest_marker("slow") is None:
        _IMPORTED_TENSORFLOW.append(item.nodeid)


def pytest_terminal_summary(terminalreporter):
    if _STALE_SLOW_NAMES:
        terminalreporter.section("SLOW_TESTS names no collected test")
        for name in _STALE_SLOW_NAMES:
            terminalreporter.line(f"{name} (tests/conftest.py): renamed or removed?")
    if _IMPORTED_TENSORFLOW:
        terminalreporter.section("tests that should be marked slow")
        for nodeid in _IMPORTED_TENSORFLOW:
            terminalreporter.line(f"{nodeid} imported TensorFlow but is not marked slow "
                                  "(add it to SLOW_TESTS in tests/conftest.py)")
