"""Import TensorFlow quietly and on demand, and choose the device (GPU if listed, else CPU).

TensorFlow costs seconds to import, so nothing imports it at module level: front doors call
``tensorflow_runtime()`` from a worker thread (GUI) or just before grading (CLI).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

from ..native_stderr import redirect_native_stderr

_lock = threading.Lock()
_runtime: "Runtime | None" = None


@dataclass(frozen=True)
class Runtime:
    tf: object
    keras: object
    device: str  # "CPU" or the GPU's name
    device_kind: str  # "CPU" or "GPU"
    startup_messages: str = ""  # what TensorFlow's C++ side printed while starting, for the log

    @property
    def versions(self) -> dict:
        return {"tensorflow": self.tf.__version__, "keras": self.keras.__version__}


def tensorflow_runtime() -> Runtime:
    """Import TensorFlow once (thread-safe), enable GPU memory growth, report the device."""
    global _runtime
    with _lock:
        if _runtime is None:
            # Silence TensorFlow's C++ start-up chatter (CUDA probing, CPU feature notes):
            # users see our one-line messages, not library logs.
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
            os.environ.setdefault("KERAS_BACKEND", "tensorflow")
            with redirect_native_stderr(capture=True) as captured:
                import keras
                import tensorflow as tf

                tf.get_logger().setLevel("ERROR")
                gpus = tf.config.list_physical_devices("GPU")
            device, kind = "CPU", "CPU"
            for gpu in gpus:
                try:
                    tf.config.experimental.set_memory_growth(gpu, True)
                except (RuntimeError, ValueError):  # already initialised: growth cannot change
                    pass
            if gpus:
                kind = "GPU"
                try:
                    device = tf.config.experimental.get_device_details(gpus[0]).get("device_name") or "GPU"
                except (RuntimeError, ValueError):
                    device = "GPU"
            _runtime = Runtime(tf, keras, device, kind, captured.text)
        return _runtime
