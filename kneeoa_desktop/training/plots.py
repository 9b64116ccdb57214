"""Figures of a training run: dataset summary, learning curves (matplotlib, training only)."""

from __future__ import annotations

import csv
from pathlib import Path

from ..core.verdict.grades import KL_LABELS, KL_NAMES


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
    epochs = [int(r["epoch"]) + 1 for r in rows]  # Keras' CSVLogger counts from 0
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), dpi=110)
    axes[0].plot(epochs, [float(r["loss"]) for r in rows], "o-", label="train (augmented)")
    axes[0].plot(epochs, [float(r["val_loss"]) for r in rows], "o-", label="val (same loss and class weights)")
    axes[0].set_title("loss")
    axes[1].plot(epochs, [float(r["accuracy"]) for r in rows], "o-", label="train accuracy")
    axes[1].plot(epochs, [float(r["val_accuracy"]) for r in rows], "o-", label="val accuracy")
    axes[1].plot(epochs, [float(r["val_kappa"]) for r in rows], "s--", label="val QW kappa")
    if rows and "val_shift_kappa" in rows[0]:
        axes[1].plot(epochs, [float(r["val_shift_kappa"]) for r in rows], "^:",
                     label="val kappa, site-like changes")
    axes[1].set_title("accuracy and kappa")
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(target)
    plt.close(fig)
    return target


def plot_evidence_examples(raws, grades, predictor, target: Path, per_grade: int = 2,
                           shown=(0, 2, 3, 4)) -> Path:
    """Val radiographs of a few grades with their evidence maps for the true grade (model card)."""
    import numpy as np

    from ..core.knees.preprocess import preprocess
    from ..core.outputs.overlay import compose_overlay

    plt = _pyplot()
    fig, axes = plt.subplots(per_grade, len(shown), figsize=(2.6 * len(shown), 2.8 * per_grade), dpi=110)
    axes = np.atleast_2d(axes).reshape(per_grade, len(shown))
    for col, grade in enumerate(shown):
        picks = np.flatnonzero(np.asarray(grades) == grade)[:per_grade]
        for row in range(per_grade):
            ax = axes[row, col]
            ax.axis("off")
            if row >= len(picks):
                continue
            raw = raws[picks[row]]
            probs, cams = predictor.predict_array(preprocess(raw, predictor.input_size))
            overlay = compose_overlay(raw, cams[0][:, :, grade])
            ax.imshow(overlay[:, :, ::-1])
            ax.set_title(f"true {KL_LABELS[grade]}, P = {probs[0][grade]:.2f}", fontsize=8)
    fig.suptitle("Evidence for the true grade on val images (14×14 map, upsampled)", fontsize=9)
    fig.tight_layout()
    fig.savefig(target)
    plt.close(fig)
    return target
