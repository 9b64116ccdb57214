"""Train the KL-grade model on a kneeKL224-shaped folder and write a shippable model + manifest.

Observable and resumable: one run directory holds the config, a per-epoch CSV log, the last
checkpoint (every epoch) and the best one (by validation quadratic-weighted kappa).
"""

from __future__ import annotations

import csv
import json
import os
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from ..core.grades import KL_LABELS, NUM_GRADES
from ..core.manifest import ModelManifest, sha256_of
from ..core.metrics import classification_report
from .config import TrainConfig
from .dataset import load_split


def class_weights(grades: np.ndarray, power: float) -> dict[int, float]:
    counts = np.bincount(grades, minlength=NUM_GRADES).astype(np.float64)
    weights = (counts.sum() / np.maximum(counts, 1) / NUM_GRADES) ** power
    weights /= (weights * counts).sum() / counts.sum()  # mean weight per sample = 1
    return {g: float(w) for g, w in enumerate(weights)}


def train(config: TrainConfig, log=print) -> Path:
    """Run (or resume) training; return the path of the best model in the run directory."""
    from ..core.architecture import build_model
    from ..core.runtime import tensorflow_runtime
    from .augment import augment_batch
    from .losses import OrdinalCrossEntropy

    runtime = tensorflow_runtime()  # quiet import, GPU memory growth
    tf, keras = runtime.tf, runtime.keras

    run_dir = Path(config.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.json").write_text(json.dumps(asdict(config), indent=2) + "\n")
    keras.utils.set_random_seed(config.seed)

    data_dir = Path(config.data_dir)
    size = tuple(config.input_size)
    t0 = time.time()
    x_train, y_train, _ = load_split(data_dir / "train", size, config.cache_dir, config.limit_per_grade)
    x_val, y_val, _ = load_split(data_dir / "val", size, config.cache_dir, config.limit_per_grade)
    log(f"data: train {len(y_train)} {np.bincount(y_train, minlength=5).tolist()}, "
        f"val {len(y_val)} {np.bincount(y_val, minlength=5).tolist()} ({time.time() - t0:.0f} s)")

    weights = class_weights(y_train, config.class_weight_power)
    sample_weight = np.array([weights[g] for g in y_train], np.float32)
    one_hot = np.eye(NUM_GRADES, dtype=np.float32)

    def to_float(images):
        return tf.cast(images[..., None], tf.float32) / 255.0

    batch = config.batch_size
    train_ds = (tf.data.Dataset.from_tensor_slices((x_train, one_hot[y_train], sample_weight))
                .shuffle(len(y_train), seed=config.seed, reshuffle_each_iteration=True)
                .repeat()
                .batch(batch, drop_remainder=True)
                .enumerate()
                .map(lambda i, b: (augment_batch(to_float(b[0]), tf.stack([tf.cast(i, tf.int32), config.seed])),
                                   b[1], b[2]), num_parallel_calls=tf.data.AUTOTUNE)
                .prefetch(2))
    val_images = to_float(x_val)
    steps = config.steps_per_epoch or max(1, len(y_train) // batch)

    last_path, best_path = run_dir / "last.keras", run_dir / "best.keras"
    log_path = run_dir / "log.csv"
    initial_epoch, best_kappa = 0, -np.inf
    if last_path.is_file() and log_path.is_file():
        rows = list(csv.DictReader(log_path.open()))
        initial_epoch = len(rows)
        best_kappa = max((float(r["val_kappa"]) for r in rows), default=-np.inf)
        model = keras.saving.load_model(last_path)
        log(f"resuming after epoch {initial_epoch} (best val kappa {best_kappa:.4f})")
    else:
        model = build_model(size, widths=tuple(config.widths))
        schedule = keras.optimizers.schedules.CosineDecay(
            0.0, decay_steps=config.epochs * steps - min(steps, config.epochs * steps // 10),
            warmup_target=config.learning_rate, warmup_steps=min(steps, config.epochs * steps // 10))
        model.compile(
            optimizer=keras.optimizers.AdamW(schedule, weight_decay=config.weight_decay),
            loss=OrdinalCrossEntropy(config.label_smoothing, config.ordinal_weight),
            metrics=["accuracy"], jit_compile=config.jit_compile)
        log_path.unlink(missing_ok=True)

    class EpochEnd(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            nonlocal best_kappa
            probs = predict_probabilities(self.model, val_images)
            report = classification_report(y_val, probs)
            val_loss = float(np.mean(-np.log(np.maximum(probs[np.arange(len(y_val)), y_val], 1e-7))))
            row = {"epoch": epoch + 1, "loss": logs.get("loss"), "accuracy": logs.get("accuracy"),
                   "val_loss": val_loss, "val_accuracy": report["accuracy"],
                   "val_kappa": report["quadratic_weighted_kappa"], "val_mae": report["mae"],
                   "val_oa_auc": report["oa_auc"], "seconds": time.time() - self.start}
            new = not log_path.is_file()
            with log_path.open("a", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=list(row))
                if new:
                    writer.writeheader()
                writer.writerow(row)
            self.model.save(last_path)
            if report["quadratic_weighted_kappa"] > best_kappa:
                best_kappa = report["quadratic_weighted_kappa"]
                self.model.save(best_path)
            log(f"epoch {epoch + 1}: loss {row['loss']:.4f} acc {row['accuracy']:.3f} | val acc "
                f"{row['val_accuracy']:.3f} kappa {row['val_kappa']:.3f} mae {row['val_mae']:.3f} "
                f"auc {row['val_oa_auc']:.3f} ({row['seconds']:.0f} s)")

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.time()
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if (batch + 1) % 50 == 0:
                log(f"  epoch {self.epoch + 1} step {batch + 1}/{steps}: loss {logs.get('loss', 0):.4f} "
                    f"({time.time() - self.start:.0f} s)")

    if initial_epoch < config.epochs:
        model.fit(train_ds, epochs=config.epochs, initial_epoch=initial_epoch, steps_per_epoch=steps,
                  callbacks=[EpochEnd()], verbose=0, shuffle=False)
    return best_path


def predict_probabilities(model, images, batch_size: int = 64) -> np.ndarray:
    out = [np.asarray(model(images[i:i + batch_size], training=False))
           for i in range(0, int(images.shape[0]), batch_size)]
    return np.concatenate(out, 0)


def export_model(checkpoint: Path, out_dir: Path, config: TrainConfig, metrics: dict,
                 description: str = "") -> ModelManifest:
    """Save the checkpoint's weights as a clean, inference-only `.keras` plus manifest."""
    import keras

    from ..core.architecture import build_model

    trained = keras.saving.load_model(checkpoint, compile=False)
    clean = build_model(tuple(config.input_size), widths=tuple(config.widths))
    clean.set_weights(trained.get_weights())
    out_dir.mkdir(parents=True, exist_ok=True)
    file_name = f"{config.model_name}.keras"
    tmp = out_dir / f".{file_name}.tmp.keras"
    clean.save(tmp)
    os.replace(tmp, out_dir / file_name)
    manifest = ModelManifest(
        name=config.model_name, version=config.model_version, file=file_name,
        sha256=sha256_of(out_dir / file_name), input_size=tuple(config.input_size),
        labels=KL_LABELS, metrics=metrics, description=description,
        training={k: v for k, v in asdict(config).items() if k not in ("cache_dir", "run_dir")},
        directory=out_dir)
    (out_dir / "manifest.json").write_text(manifest.to_json(), encoding="utf-8")
    return manifest
