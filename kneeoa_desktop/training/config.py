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
    architecture: str = "lite0"  # "lite0" (ImageNet-pretrained) or "cnn" (from scratch; tiny tests)
    pretrained: bool = True  # start lite0 from its ImageNet weights
    freeze_through: int = 4  # lite0: stem and blocks 0…N stay frozen (-1: none)
    # A second stage: start from a finished model's weights (e.g. the shipped .keras) instead of
    # ImageNet, typically with fewer blocks frozen and a lower learning rate.
    init_from: str | None = None
    widths: tuple[int, ...] = (24, 48, 96, 192)  # cnn only
    epochs: int = 10
    batch_size: int = 32
    learning_rate: float = 1e-3
    weight_decay: float = 1e-2
    label_smoothing: float = 0.05
    ordinal_weight: float = 1.0  # weight of the squared-EMD term (0: plain cross-entropy)
    class_weight_power: float = 0.5  # 0: none; 1: inverse frequency; 0.5: inverse sqrt
    seed: int = 1234
    # Share of training crops cut to a band of another shape and squared on black, as the pipeline
    # frames another hospital's wide or tall crop; above 0 the checkpoint is also chosen by val
    # cut to such shapes (augment.framing_proxy). 1.0.0 was trained without (0.0). Such a band is
    # resized to the square input, as the pipeline frames it (1.3.0 squared it on black).
    squared_rate: float = 0.0
    # "standard" (1.0.0's augment_image) or "site" (augment.augment_site, the wider site shift of
    # issue "Model 1.1"; the checkpoint is then also chosen on sites.site_proxy).
    augmentation: str = "standard"
    limit_per_grade: int | None = None  # tiny runs for tests
    steps_per_epoch: int | None = None
    # XLA doubles the small CNN's speed but makes depthwise convolutions ~7× slower on CPU.
    jit_compile: bool = False
    model_name: str = "kneeoa-kl-lite0"
    model_version: str = "1.0.0"
    cache_dir: str | None = None
