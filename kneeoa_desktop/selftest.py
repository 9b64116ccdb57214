"""``KneeOA --self-test``: prove, headless, that an installed copy can grade a radiograph.

It loads the shipped model through the core ``Predictor`` (sha256 check, safe mode), grades
the synthetic radiograph shipped in ``resources/samples/`` (drawn by
``scripts/make_sample_radiograph.py``, not a patient), composes the evidence overlay, renders
the annotated export in memory (which needs the bundled fonts), and checks that the files the
window needs (icons, translations) are present. It prints one line and returns 0, or one line
starting ``KneeOA self-test FAILED:`` and returns 1.

Qt is never imported, so it runs with no display (a server, a CI runner, an SSH session):
``gui.app.main_entry`` dispatches here before any PySide6 import.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

from . import __version__

SAMPLE_NAME = "synthetic-knee.png"
#: Files the window loads at start; a bundle missing them starts but looks broken.
_REQUIRED_RESOURCES = ("icons/kneeoa.svg", "icons/open.svg", "translations/kneeoa_ru.qm",
                       "fonts/DejaVuSans.ttf", "fonts/DejaVuSans-Bold.ttf",
                       "kneeloc/knee_joint_hog_svm.npz", "kneeloc/LICENSE.txt")


class SelfTestError(Exception):
    """One failed check; the message is the sentence printed after ``FAILED:``."""


@dataclass
class SelfTestResult:
    model: str
    device: str
    engine: str
    probabilities: list[float]
    grade: int
    overlay_size: tuple[int, int]  # (width, height)
    seconds: float

    def summary(self) -> str:
        probs = ", ".join(f"{p:.3f}" for p in self.probabilities)
        width, height = self.overlay_size
        return (f"KneeOA {__version__} self-test passed: model {self.model} on {self.device} "
                f"({self.engine}), "
                f"KL probabilities [{probs}], "
                f"overlay {width}x{height}, {self.seconds:.1f} s")


def sample_path() -> Path:
    from .core.paths import resources_dir

    return resources_dir() / "samples" / SAMPLE_NAME


def run(image: str | Path | None = None, weights: str | Path | None = None) -> SelfTestResult:
    """Run every check; raise ``SelfTestError`` (one sentence) at the first that fails."""
    import numpy as np

    from .core.errors import KneeOAError
    from .core.paths import resources_dir

    start = time.perf_counter()
    missing = [name for name in _REQUIRED_RESOURCES if not (resources_dir() / name).is_file()]
    if missing:
        raise SelfTestError(f"resource files are missing from {resources_dir()}: {', '.join(missing)}")
    path = Path(image) if image is not None else sample_path()
    try:
        from .core.film.imaging import load_image
        from .core.model.model_store import active_weights_dir
        from .core.model.predictor import Predictor
        from .core.outputs.export import render_result
        from .core.pipeline import GradingPipeline

        try:
            loaded = load_image(path)
        except KneeOAError as exc:
            raise SelfTestError(f"{path}: {exc}") from exc
        result = GradingPipeline(Predictor(weights if weights is not None else active_weights_dir()))(loaded)
    except KneeOAError as exc:  # a missing or damaged model: already one sentence
        raise SelfTestError(f"{exc}") from exc
    except ImportError as exc:  # a bundle that lost a module
        raise SelfTestError(f"a program module is missing ({exc})") from exc

    if not result.knees:
        raise SelfTestError("the grading pipeline returned no region")
    prediction = result.knees[0].prediction
    probs = np.asarray(prediction.probabilities, dtype=np.float64)
    if probs.shape != (5,) or not np.all(np.isfinite(probs)) or abs(probs.sum() - 1.0) > 1e-4 or probs.min() < 0:
        raise SelfTestError(f"the model returned invalid probabilities {probs.tolist()}")
    evidence = prediction.evidence
    if evidence.ndim != 3 or evidence.shape[2] != 5 or not np.all(np.isfinite(evidence)):
        raise SelfTestError(f"the model returned an invalid evidence map of shape {evidence.shape}")

    gray = result.display
    overlay = result.overlay()
    composed = overlay.compose(1.0)
    if composed.shape != (*gray.shape, 3) or composed.dtype != np.uint8:
        raise SelfTestError("the evidence overlay could not be composed")
    annotated = render_result(result, overlay=overlay, source_name=path.name)
    if annotated.ndim != 3 or annotated.shape[1] <= composed.shape[1]:
        raise SelfTestError("the annotated export could not be rendered")

    return SelfTestResult(model=prediction.model, device=prediction.device, engine=prediction.engine,
                          probabilities=[float(p) for p in probs], grade=prediction.grade,
                          overlay_size=(composed.shape[1], composed.shape[0]),
                          seconds=time.perf_counter() - start)


def main(image: str | Path | None = None) -> int:
    """Print the one-line verdict; 0 when every check passed, 1 otherwise."""
    try:
        result = run(image)
    except SelfTestError as exc:
        print(f"KneeOA self-test FAILED: {exc}", flush=True)
        return 1
    except Exception as exc:  # a bug or a broken bundle: still one line, never a traceback
        print(f"KneeOA self-test FAILED: unexpected error ({type(exc).__name__}: {exc})", flush=True)
        return 1
    print(result.summary(), flush=True)
    return 0


if __name__ == "__main__":  # python -m kneeoa_desktop.selftest
    sys.exit(main())
