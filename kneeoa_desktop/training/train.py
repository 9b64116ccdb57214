"""Train the KL-grade model on a kneeKL224-shaped folder and write a shippable model + manifest.

Observable and resumable: one run directory holds the config, a per-epoch CSV log, a backup
of the last epoch (model and optimizer) and the best checkpoint (by ``val_select``, see
``callbacks.ValidationMetrics``).
"""

from __future__ import annotations

import csv
import json
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from ..core.atomic import atomic_path, write_bytes_atomic, write_text_atomic
from ..core.knees.preprocess import preprocess
from ..core.model.manifest import ModelManifest, sha256_of
from ..core.verdict.grades import KL_LABELS, NUM_GRADES
from .config import TrainConfig
from .dataset import load_split


def class_weights(grades: np.ndarray, power: float) -> dict[int, float]:
    counts = np.bincount(grades, minlength=NUM_GRADES).astype(np.float64)
    weights = (counts.sum() / np.maximum(counts, 1) / NUM_GRADES) ** power
    weights /= (weights * counts).sum() / counts.sum()  # mean weight per sample = 1
    return {g: float(w) for g, w in enumerate(weights)}


def train(config: TrainConfig, log=print) -> Path:
    """Run (or resume) training; return the path of the best model in the run directory.

    The Keras way: ``fit`` with callbacks. ``ValidationMetrics`` adds the validation figures to
    the epoch's logs, then the stock ``CSVLogger``, ``ModelCheckpoint`` (best by ``val_select``)
    and ``BackupAndRestore`` (resume after an interruption) do the rest.
    """
    from ..core.model.architecture import build_model
    from ..core.model.runtime import tensorflow_runtime
    from .augment import augment_image, augment_site, framing_proxy, site_proxy
    from .callbacks import ProgressLog, ValidationMetrics
    from .losses import OrdinalCrossEntropy
    from .sites import site_proxy as wide_site_proxy

    runtime = tensorflow_runtime()  # quiet import, GPU memory growth
    tf, keras = runtime.tf, runtime.keras

    run_dir = Path(config.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    write_text_atomic(json.dumps(asdict(config), indent=2) + "\n", run_dir / "config.json")
    keras.utils.set_random_seed(config.seed)
    best_path, log_path = run_dir / "best.keras", run_dir / "log.csv"
    done = _epochs_logged(log_path)
    if done >= config.epochs and best_path.is_file():
        log(f"training already finished ({done} epochs in {log_path})")
        return best_path

    data_dir = Path(config.data_dir)
    size = tuple(config.input_size)
    t0 = time.time()
    raw_train, y_train, _ = load_split(data_dir / "train", size, config.cache_dir, config.limit_per_grade, raw=True)
    raw_val, y_val, _ = load_split(data_dir / "val", size, config.cache_dir, config.limit_per_grade, raw=True)
    val_inputs = np.stack([preprocess(x, size) for x in raw_val])
    site_recipe = config.augmentation == "site"
    if config.augmentation not in ("standard", "site"):
        raise ValueError(f"unknown augmentation {config.augmentation!r} (standard or site)")
    proxy_inputs = (wide_site_proxy if site_recipe else site_proxy)(raw_val, seed=config.seed)
    # A run trained for crops of other shapes is also chosen by how it grades them.
    framing_inputs = framing_proxy(raw_val) if config.squared_rate > 0 else None
    log(f"data: train {len(y_train)} {np.bincount(y_train, minlength=5).tolist()}, "
        f"val {len(y_val)} {np.bincount(y_val, minlength=5).tolist()} ({time.time() - t0:.0f} s)")

    weights = class_weights(y_train, config.class_weight_power)
    sample_weight = np.array([weights[g] for g in y_train], np.float32)
    one_hot = np.eye(NUM_GRADES, dtype=np.float32)

    def augment(index, counter):
        # One generator per (seed, draw): the same run draws the same augmentations,
        # whatever order the parallel map calls arrive in.
        rng = np.random.default_rng([config.seed, int(counter)])
        if site_recipe:
            return augment_site(raw_train[int(index)], rng)
        return augment_image(raw_train[int(index)], rng, config.squared_rate)

    def load(counter, index):
        image = tf.numpy_function(augment, [index, counter], tf.float32, stateful=False)
        image.set_shape((*size, 1))
        return image, tf.gather(one_hot, tf.gather(y_train, index)), tf.gather(sample_weight, index)

    batch = config.batch_size
    train_ds = (tf.data.Dataset.range(len(y_train))
                .shuffle(len(y_train), seed=config.seed, reshuffle_each_iteration=True)
                .repeat()
                .enumerate()
                .map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
                .batch(batch, drop_remainder=True)
                .prefetch(2))
    steps = config.steps_per_epoch or max(1, len(y_train) // batch)

    model = build_model(config.architecture, size, widths=tuple(config.widths))
    if config.init_from:
        # A private copy: --out may overwrite the starting model, and a resumed run must not notice.
        start_file = run_dir / "init.keras"
        if not start_file.is_file():
            write_bytes_atomic(Path(config.init_from).read_bytes(), start_file)
        copied = copy_weights(start_file, model)
        log(f"started from {config.init_from} ({copied} layers' weights)")
    elif config.architecture.startswith("lite") and config.pretrained:
        from .pretrained import load_lite_imagenet

        load_lite_imagenet(model, config.architecture)
    if config.architecture.startswith("lite") and config.freeze_through >= 0:
        from .pretrained import freeze_through

        freeze_through(model, config.freeze_through)
    total = config.epochs * steps
    warmup = min(steps, total // 10)
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps=total - warmup, warmup_target=config.learning_rate, warmup_steps=warmup)
    loss = OrdinalCrossEntropy(config.label_smoothing, config.ordinal_weight)
    model.compile(optimizer=keras.optimizers.AdamW(schedule, weight_decay=config.weight_decay),
                  loss=loss, metrics=["accuracy"], jit_compile=config.jit_compile)

    val_weight = np.array([weights[g] for g in y_val], np.float32)
    previous_best = max((float(r["val_select"]) for r in _log_rows(log_path)), default=None)
    callbacks = [
        ValidationMetrics(val_inputs, y_val, val_weight, proxy_inputs, loss, framing_inputs),
        keras.callbacks.CSVLogger(str(log_path), append=done > 0),
        keras.callbacks.ModelCheckpoint(str(best_path), monitor="val_select", mode="max",
                                        save_best_only=True, initial_value_threshold=previous_best),
        keras.callbacks.BackupAndRestore(str(run_dir / "backup")),
        ProgressLog(log, steps),
    ]
    if done:
        log(f"resuming after epoch {done}")
    model.fit(train_ds, epochs=config.epochs, steps_per_epoch=steps, callbacks=callbacks, verbose=0,
              shuffle=False)
    return best_path


def copy_weights(source: str | Path, model) -> int:
    """Copy every weighted layer of the `.keras` file ``source`` into ``model`` by layer name.

    Names, not order, so a clean exported model (with its temperature layer) and a training
    checkpoint both serve. A layer of ``model`` with weights but no namesake in ``source``
    (another architecture) is an error, not a silent partial start.
    """
    import keras

    trained = keras.saving.load_model(source, compile=False, safe_mode=True)
    by_name = {layer.name: layer for layer in trained.layers}
    copied, missing = 0, []
    for layer in model.layers:
        if not layer.weights:
            continue
        twin = by_name.get(layer.name)
        if twin is None or [w.shape for w in twin.weights] != [w.shape for w in layer.weights]:
            missing.append(layer.name)
            continue
        layer.set_weights(twin.get_weights())
        copied += 1
    if missing:
        raise ValueError(f"{source} does not match this architecture (e.g. layer {missing[0]!r}).")
    return copied


def _log_rows(log_path: Path) -> list[dict]:
    if not log_path.is_file():
        return []
    with log_path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _epochs_logged(log_path: Path) -> int:
    return len(_log_rows(log_path))


def export_model(checkpoint: Path, out_dir: Path, config: TrainConfig, metrics: dict,
                 description: str = "", temperature: float = 1.0) -> ModelManifest:
    """Save the checkpoint's weights as a clean, inference-only `.keras` plus manifest.

    ``temperature`` (fitted on val after training) is written into the model's fixed
    ``temperature`` layer, so every front door gets calibrated probabilities.
    """
    import keras

    from ..core.model.architecture import build_model

    trained = keras.saving.load_model(checkpoint, compile=False)
    clean = build_model(config.architecture, tuple(config.input_size), widths=tuple(config.widths),
                        temperature=temperature)
    clean.set_weights(trained.get_weights())
    out_dir.mkdir(parents=True, exist_ok=True)
    file_name = f"{config.model_name}.keras"
    with atomic_path(out_dir / file_name, suffix=".keras") as (tmp, handle):
        handle.close()  # Keras writes the file by name
        clean.save(tmp)
    manifest = ModelManifest(
        name=config.model_name, version=config.model_version, file=file_name,
        sha256=sha256_of(out_dir / file_name), input_size=tuple(config.input_size),
        labels=KL_LABELS, metrics=metrics, description=description,
        training={k: v for k, v in asdict(config).items() if k not in ("cache_dir", "run_dir")},
        directory=out_dir)
    manifest.save()
    return manifest
