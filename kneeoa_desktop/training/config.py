"""The training configuration: every knob of a run, saved beside its checkpoints and in the manifest."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: The shared dataset beside the repository, where CI and developers find it.
DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "kneeKL224"


@dataclass
class TrainConfig:
    data_dir: str = str(DEFAULT_DATA_DIR)
    run_dir: str = "runs/default"
    input_size: tuple[int, int] = (224, 224)
    widths: tuple[int, ...] = (24, 48, 96, 192)
    epochs: int = 20
    batch_size: int = 32
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    label_smoothing: float = 0.05
    ordinal_weight: float = 1.0  # weight of the squared-EMD term (0: plain cross-entropy)
    class_weight_power: float = 0.5  # 0: none; 1: inverse frequency; 0.5: inverse sqrt
    seed: int = 1234
    limit_per_grade: int | None = None  # tiny runs for tests
    steps_per_epoch: int | None = None
    jit_compile: bool = True
    model_name: str = "kneeoa-kl-cnn"
    model_version: str = "0.2.0"
    cache_dir: str | None = None
