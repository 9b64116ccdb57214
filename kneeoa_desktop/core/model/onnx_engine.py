"""The lean engine: a network's exported ONNX graph run by ONNX Runtime, without TensorFlow.

The release step (``training.runtime_export``) exports each network's forward pass (one gray
radiograph in; probabilities (B, 5), evidence maps (B, h, w, 5) and pooled features (B, C) out,
by name) and records the file's sha256 in the manifest after checking that it reproduces the
Keras model on fixed probes; it also records the Keras network's probabilities on one probe
(``probe_input``), which the graph must give again at every load: a graph damaged inside its
weights loads without complaint, so a checksum made to match would otherwise go unnoticed.

Device: the first GPU execution provider this ONNX Runtime build offers (CUDA on Linux, DirectML
on Windows, CoreML on macOS; each comes with its own ONNX Runtime wheel, see docs/INSTALL.md),
else the CPU. ``KNEEOA_DEVICE=cpu`` keeps the CPU. A GPU provider that fails to start is logged
in one line and the CPU is used instead: slower, never a crash. No Qt here.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import numpy as np

from ..errors import ModelError
from ..messages import QT_TRANSLATE_NOOP

log = logging.getLogger(__name__)

#: Names of the exported graph's input and outputs (the contract with ``training.runtime_export``).
INPUT_NAME = "radiograph"
OUTPUT_NAMES = ("probabilities", "evidence", "features")
#: GPU execution providers, in order of preference, with the name shown to the user.
GPU_PROVIDERS = {
    "CUDAExecutionProvider": "GPU (CUDA)",
    "DmlExecutionProvider": "GPU (DirectML)",
    "CoreMLExecutionProvider": "GPU (CoreML)",
}
CPU_PROVIDER = "CPUExecutionProvider"
#: Environment variable: "cpu" keeps the CPU even when a GPU provider is offered.
DEVICE_ENV = "KNEEOA_DEVICE"


def _threads() -> int:
    # As many as the knee finder and the laptop leave sensible: more than 4 buys nothing here.
    return max(1, min(4, os.cpu_count() or 1))


def _session(ort, path: Path, providers: list[str], spinning: bool = False):
    options = ort.SessionOptions()
    options.intra_op_num_threads = _threads()
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only: its warnings are not for the user
    # No busy-waiting between calls: an ensemble runs one session per member, and a pool spinning
    # after its member finished took a core from the next member and from the knee finder
    # (on 2 cores, two knees through both members: 54 ms with spinning, 28 ms without;
    # ``scripts/benchmark_inference.py`` prints both).
    for pool in ("intra_op", "inter_op"):
        options.add_session_config_entry(f"session.{pool}.allow_spinning", "1" if spinning else "0")
    return ort.InferenceSession(str(path), sess_options=options, providers=providers)


def choose_providers(ort) -> list[str]:
    """The GPU provider to try first (if offered and not turned off), then the CPU."""
    offered = set(ort.get_available_providers())
    if os.environ.get(DEVICE_ENV, "").strip().lower() == "cpu":
        return [CPU_PROVIDER]
    gpus = [p for p in GPU_PROVIDERS if p in offered]
    return gpus[:1] + [CPU_PROVIDER]


#: How far the probabilities on the probe may be from the Keras network's (the release's tolerance).
PROBE_TOLERANCE = 1e-4


def probe_input(input_size: tuple[int, int]) -> np.ndarray:
    """The fixed probe (1, H, W, 1): uniform noise from seed 0, the same on every machine."""
    return np.random.default_rng(0).random((1, *input_size, 1), dtype=np.float32)


def _unloadable(path: Path, exc: BaseException) -> ModelError:
    return ModelError(QT_TRANSLATE_NOOP("CoreMessages", "The runtime file {0} cannot be loaded ({1})."),
                      path.name, type(exc).__name__)


class OnnxNetwork:
    """One network's exported graph: ``(batch) -> (probs, cams, pooled)`` as numpy arrays.

    ``probe``: the Keras network's probabilities on ``probe_input`` (from the manifest); the
    graph is refused unless it gives them again."""

    evidence_method = "CAM"  # the export computes the exact class activation map

    def __init__(self, path: Path, input_size: tuple[int, int], probe: tuple[float, ...] = ()):
        import onnxruntime as ort

        self.path, self.input_size = Path(path), tuple(input_size)
        self.version = ort.__version__
        self._start(ort, choose_providers(ort))
        self._check_signature()
        # One call at a time: the GUI's worker and the server's threads share one network.
        self._lock = threading.Lock()
        expected = np.asarray(probe, np.float64)
        agrees = not probe or self._probe_agrees(expected)
        if not agrees and self.device_kind == "GPU":
            # A GPU may compute in reduced precision (TF32 convolutions, say): its verdict is then
            # not the released model's. The CPU's is, or the file itself is damaged.
            log.warning("ONNX Runtime on %s does not reproduce the model's results on the release's probe; "
                        "grading on the CPU", self.device)
            self._start(ort, [CPU_PROVIDER])
            agrees = self._probe_agrees(expected)
        if not agrees:
            raise ModelError(QT_TRANSLATE_NOOP("CoreMessages", "The runtime file {0} cannot be loaded (it no "
                                               "longer gives its model's results on the release's probe)."),
                             self.path.name)

    def _start(self, ort, providers: list[str]) -> None:
        """A session on ``providers``, and the device it runs on; a GPU provider that cannot start
        (driver, memory) gives way to the CPU with one log line, and a file even the CPU cannot
        load is refused."""
        try:
            self._session = _session(ort, self.path, providers)
        except Exception as exc:
            if providers == [CPU_PROVIDER]:
                raise _unloadable(self.path, exc) from exc
            log.warning("ONNX Runtime could not start %s (%s: %s); grading on the CPU",
                        providers[0], type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "")
            return self._start(ort, [CPU_PROVIDER])
        used = self._session.get_providers()[0]
        self.device = GPU_PROVIDERS.get(used, "CPU")
        self.device_kind = "CPU" if used == CPU_PROVIDER else "GPU"

    @property
    def engine(self) -> str:
        return f"ONNX Runtime {self.version}"

    def _check_signature(self) -> None:
        inputs = self._session.get_inputs()
        outputs = {o.name for o in self._session.get_outputs()}
        ok = (len(inputs) == 1 and inputs[0].name == INPUT_NAME and set(OUTPUT_NAMES) <= outputs
              and list(inputs[0].shape[1:]) == [*self.input_size, 1])
        if not ok:
            raise ModelError(QT_TRANSLATE_NOOP("CoreMessages", "The runtime file {0} does not fit its manifest "
                                               "(its inputs or outputs differ)."), self.path.name)

    def _probe_agrees(self, expected: np.ndarray) -> bool:
        try:
            probs = self(probe_input(self.input_size))[0][0]
        except Exception as exc:  # a graph that loads but cannot run
            raise _unloadable(self.path, exc) from exc
        return probs.shape == expected.shape and float(np.abs(probs - expected).max()) <= PROBE_TOLERANCE

    def __call__(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        batch = np.ascontiguousarray(batch, np.float32)
        with self._lock:
            probs, cams, pooled = self._session.run(list(OUTPUT_NAMES), {INPUT_NAME: batch})
        return probs, cams, pooled
