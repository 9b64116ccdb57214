"""The lean engine grades without TensorFlow, and as TensorFlow does.

With ``tensorflow``, ``keras`` and ``tf2onnx`` made unimportable (a meta-path blocker in a fresh
process: ``tests/lean_probe.py``), ``kneeoa predict --json`` and the window grade a film with
the probabilities of the TensorFlow engine (within 1e-4), the same grade and region, and
evidence maps and overlays that match; TensorFlow is never imported. The runtime file is
trusted like the model (sha256), a GPU provider that fails falls back to the CPU, and the
release's export check refuses a graph that does not reproduce its network.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from kneeoa_desktop.core.model import onnx_engine
from kneeoa_desktop.core.model.manifest import load_manifest

REPO = Path(__file__).resolve().parents[1]
PROBE = REPO / "tests" / "lean_probe.py"


def _probe(*args, env_extra=None, timeout=300) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("KNEEOA_ENGINE", None)  # the default engine unless the test asks for one
    env.update(env_extra or {})
    return subprocess.run([sys.executable, str(PROBE), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO, env=env)


def _imported(result) -> list[str]:
    line = [x for x in result.stderr.splitlines() if x.startswith("lean-probe imported: ")][-1]
    return json.loads(line.split(": ", 1)[1])


@pytest.fixture(scope="module")
def film(tmp_path_factory, knee_png) -> Path:
    """A real radiograph framed as another hospital sends it: a wider film, the knee off centre."""
    pixels = cv2.imread(str(knee_png), cv2.IMREAD_GRAYSCALE)
    canvas = np.full((300, 360), int(pixels.min()), np.uint8)
    canvas[40:264, 90:314] = pixels
    path = tmp_path_factory.mktemp("lean") / "hidden film.png"
    cv2.imwrite(str(path), canvas)
    return path


def test_cli_grades_without_tensorflow_as_tensorflow_does(film, tmp_path):
    lean_dir, tf_dir = tmp_path / "lean", tmp_path / "tf"
    lean = _probe("--block", "cli", "predict", "--json", "--overlay-dir", lean_dir, film)
    assert lean.returncode == 0, lean.stderr
    assert _imported(lean) == []
    reference = _probe("cli", "--engine", "tensorflow-graph", "predict", "--json", "--overlay-dir", tf_dir, film)
    assert reference.returncode == 0, reference.stderr
    assert "tensorflow" in _imported(reference)
    a, b = (json.loads(r.stdout.strip().splitlines()[0]) for r in (lean, reference))
    assert a["engine"].startswith("ONNX Runtime") and b["engine"] == "TensorFlow"
    np.testing.assert_allclose(a["probabilities"], b["probabilities"], atol=1e-4)
    assert a["grade"] == b["grade"] and a["region"] == b["region"] and a["in_scope"] == b["in_scope"]
    [lean_png], [tf_png] = sorted(lean_dir.iterdir()), sorted(tf_dir.iterdir())
    lean_img, tf_img = (cv2.imread(str(p)).astype(np.int16) for p in (lean_png, tf_png))
    assert lean_img.shape == tf_img.shape
    # The film with its overlay and knee boxes, left of the text panel (whose "Date" line, to the
    # minute, differs when the two runs straddle a minute): the same pixels, to rounding.
    film_width = lean_img.shape[1] - int(lean_img.shape[0] / 36.0 * 20)  # core.outputs.export's panel width
    difference = np.abs(lean_img[:, :film_width] - tf_img[:, :film_width])
    assert difference.mean() < 0.05 and difference.max() <= 3


def test_the_window_grades_without_tensorflow_as_tensorflow_does(film, tmp_path):
    lean = _probe("--block", "gui", film, tmp_path / "lean.npz")
    assert lean.returncode == 0, lean.stderr[-3000:]
    assert _imported(lean) == []
    reference = _probe("gui", film, tmp_path / "tf.npz", env_extra={"KNEEOA_ENGINE": "tensorflow-graph"})
    assert reference.returncode == 0, reference.stderr[-3000:]
    with np.load(tmp_path / "lean.npz") as a, np.load(tmp_path / "tf.npz") as b:
        np.testing.assert_allclose(a["probabilities"], b["probabilities"], atol=1e-4)
        assert np.argmax(a["probabilities"]) == np.argmax(b["probabilities"])
        np.testing.assert_array_equal(a["region"], b["region"])
        np.testing.assert_allclose(a["evidence"], b["evidence"], atol=1e-3)
        shown_a, shown_b = a["shown"].astype(np.int16), b["shown"].astype(np.int16)
        assert shown_a.shape == shown_b.shape and np.abs(shown_a - shown_b).max() <= 3
        # The status bar says what graded, and on what.
        assert "ONNX Runtime" in str(a["device"]) and "CPU" in str(a["device"])
        assert "TensorFlow" in str(b["device"])


def test_without_runtime_files_and_without_tensorflow_one_sentence(tmp_path, knee_png):
    """A model with no exported graphs cannot be graded without TensorFlow: the user is told how."""
    manifest = load_manifest()
    target = tmp_path / "keras-only"
    target.mkdir()
    for member in manifest.member_list:
        shutil.copy(manifest.directory / member.file, target / member.file)
    data = json.loads((manifest.directory / "manifest.json").read_text())
    for member in data["members"]:
        member.pop("onnx_file"), member.pop("onnx_sha256")
    (target / "manifest.json").write_text(json.dumps(data))
    result = _probe("--block", "cli", "--weights", target, "predict", "--json", knee_png)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    [line] = [x for x in result.stderr.splitlines() if x.startswith("kneeoa: ")]
    assert "no runtime file" in line and 'pip install "kneeoa-desktop[tensorflow]"' in line


def test_a_gpu_provider_that_fails_falls_back_to_the_cpu(monkeypatch, caplog):
    import onnxruntime as ort

    manifest = load_manifest()
    member = manifest.member_list[0]
    real_session = ort.InferenceSession
    tried = []

    def session(path, sess_options=None, providers=None):
        tried.append(list(providers))
        if providers[0] != onnx_engine.CPU_PROVIDER:
            raise RuntimeError("CUDA driver version is insufficient for CUDA runtime version\nmore detail")
        return real_session(path, sess_options=sess_options, providers=providers)

    monkeypatch.setattr(ort, "get_available_providers", lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"])
    monkeypatch.setattr(ort, "InferenceSession", session)
    caplog.set_level(logging.WARNING, logger="kneeoa_desktop.core.model.onnx_engine")
    network = onnx_engine.OnnxNetwork(manifest.directory / member.onnx_file, manifest.input_size)
    assert tried == [["CUDAExecutionProvider", "CPUExecutionProvider"], ["CPUExecutionProvider"]]
    assert network.device == "CPU" and network.device_kind == "CPU"
    [record] = caplog.records
    assert "grading on the CPU" in record.getMessage() and "\n" not in record.getMessage()
    probs, cams, pooled = network(np.zeros((1, *manifest.input_size, 1), np.float32))
    assert probs.shape == (1, 5) and cams.shape[-1] == 5 and pooled.ndim == 2

    monkeypatch.setenv(onnx_engine.DEVICE_ENV, "cpu")
    assert onnx_engine.choose_providers(ort) == ["CPUExecutionProvider"]


def test_a_runtime_file_that_does_not_fit_is_refused(tmp_path):
    """A graph whose inputs differ from the manifest's (another model's file, sha256 re-pinned)."""
    from kneeoa_desktop.core.errors import ModelError

    manifest = load_manifest()
    with pytest.raises(ModelError, match="does not fit its manifest"):
        onnx_engine.OnnxNetwork(manifest.directory / manifest.member_list[0].onnx_file, (256, 256))
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"not a graph" * 100)
    with pytest.raises(ModelError, match="cannot be loaded"):
        onnx_engine.OnnxNetwork(garbage, manifest.input_size)


def test_the_export_check_refuses_a_graph_that_does_not_reproduce_its_network():
    from kneeoa_desktop.training.runtime_export import TOLERANCES, ExportMismatch, agreement

    rng = np.random.default_rng(1)
    reference = (rng.dirichlet(np.ones(5), 4), rng.random((4, 14, 14, 5)) * 3, rng.random((4, 1280)))
    figures = agreement([r + 1e-7 for r in reference], reference)
    assert all(figures[k] <= TOLERANCES[k] for k in figures)
    with pytest.raises(ExportMismatch, match="probabilities"):
        agreement([reference[0] + 2e-4, *reference[1:]], reference)
    with pytest.raises(ExportMismatch, match="evidence"):
        agreement([reference[0], reference[1] * 1.01, reference[2]], reference)
    with pytest.raises(ExportMismatch, match="shape"):
        agreement([reference[0][:1], *reference[1:]], reference)


def test_the_shipped_runtime_files_reproduce_the_keras_model():
    """What the release step checked, checked again: every exported graph against its `.keras`
    network, and the whole model through both engines' Predictor."""
    from kneeoa_desktop.training.runtime_export import TOLERANCES, check_predictors, probes

    manifest = load_manifest()
    assert manifest.has_onnx
    manifest.verify(onnx=True)
    figures = check_predictors(manifest)
    assert all(figures[k] <= TOLERANCES[k] for k in TOLERANCES)
    assert manifest.training["onnx_export"]["probes"] == probes(manifest.input_size).shape[0]


def test_a_gpu_that_does_not_reproduce_the_probe_grades_on_the_cpu(monkeypatch, caplog):
    """A GPU computing in reduced precision gives other probabilities than the released model:
    the CPU grades instead (one log line); a graph the CPU cannot reproduce either is refused."""
    import onnxruntime as ort

    from kneeoa_desktop.core.errors import ModelError

    manifest = load_manifest()
    member = manifest.member_list[0]
    real_session = ort.InferenceSession

    class ImpreciseGpu:  # the CPU's session, posing as CUDA, its probabilities off by 1e-3
        def __init__(self, session):
            self._session = session

        def __getattr__(self, name):
            return getattr(self._session, name)

        def get_providers(self):
            return ["CUDAExecutionProvider", "CPUExecutionProvider"]

        def run(self, names, feed):
            probs, *rest = self._session.run(names, feed)
            return [probs + np.array([1e-3, -1e-3, 0, 0, 0], np.float32), *rest]

    def session(path, sess_options=None, providers=None):
        real = real_session(path, sess_options=sess_options, providers=["CPUExecutionProvider"])
        return ImpreciseGpu(real) if providers[0] != onnx_engine.CPU_PROVIDER else real

    monkeypatch.setattr(ort, "get_available_providers", lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"])
    monkeypatch.setattr(ort, "InferenceSession", session)
    caplog.set_level(logging.WARNING, logger="kneeoa_desktop.core.model.onnx_engine")
    path = manifest.directory / member.onnx_file
    network = onnx_engine.OnnxNetwork(path, manifest.input_size, member.onnx_probe)
    assert network.device == "CPU" and "does not reproduce" in caplog.text and len(caplog.records) == 1
    assert onnx_engine.OnnxNetwork(path, manifest.input_size).device == "GPU (CUDA)"  # no probe: trusted
    wrong = tuple(p + 0.01 for p in member.onnx_probe)
    with pytest.raises(ModelError, match="release's probe"):
        onnx_engine.OnnxNetwork(path, manifest.input_size, wrong)
