"""Figures of a training run: dataset summary, learning curves (matplotlib, training only)."""

from __future__ import annotations

import csv
from pathlib import Path

from ..core.grades import KL_LABELS, KL_NAMES


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt

    return plt


def plot_dataset_summary(counts: dict[str, list[int]], target: Path) -> Path:
    """Bar chart of images per KL grade for each split (as the original analysis step drew)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
    splits = list(counts)
    width = 0.8 / max(1, len(splits))
    for i, split in enumerate(splits):
        xs = [g + (i - (len(splits) - 1) / 2) * width for g in range(len(KL_LABELS))]
        bars = ax.bar(xs, counts[split], width, label=f"{split} ({sum(counts[split])})")
        ax.bar_label(bars, fontsize=8)
    ax.set_xticks(range(len(KL_LABELS)), [f"{lab}\n{name}" for lab, name in zip(KL_LABELS, KL_NAMES)])
    ax.set_ylabel("images")
    ax.set_title("Images per Kellgren–Lawrence grade")
    ax.legend()
    fig.tight_layout()
    fig.savefig(target)
    plt.close(fig)
    return target


def plot_learning_curves(log_csv: Path, target: Path) -> Path:
    """Loss and accuracy per epoch, train vs validation, plus validation kappa."""
    with open(log_csv, newline="") as handle:
        rows = list(csv.DictReader(handle))
    epochs = [int(r["epoch"]) for r in rows]
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), dpi=110)
    axes[0].plot(epochs, [float(r["loss"]) for r in rows], "o-", label="train (augmented)")
    axes[0].plot(epochs, [float(r["val_loss"]) for r in rows], "o-", label="val cross-entropy")
    axes[0].set_title("loss")
    axes[1].plot(epochs, [float(r["accuracy"]) for r in rows], "o-", label="train accuracy")
    axes[1].plot(epochs, [float(r["val_accuracy"]) for r in rows], "o-", label="val accuracy")
    axes[1].plot(epochs, [float(r["val_kappa"]) for r in rows], "s--", label="val QW kappa")
    axes[1].set_title("accuracy and kappa")
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(target)
    plt.close(fig)
    return target
