"""Train candidate ensemble members on a lent GPU machine (Keras 3 on JAX), within a time budget.

The recipe is `kneeoa train`'s (the same network builder, augmentations, ordinal loss, class
weights, AdamW with warm-up and cosine decay, checkpoint chosen by the mean of val kappa and the
simulated-sites kappa), run as a plain loop so that it needs neither TensorFlow nor tf.data:
the GPU machine has JAX, not TensorFlow. Augmentation runs in a pool of worker processes forked
before OpenCV's and JAX's threads start. The number of epochs of each member is set after its second epoch from the
measured speed, so that every member's cosine schedule ends inside its share of the budget.

Each finished member is written at once as ``MEMBER.keras`` (files over 15 MB split in
``.partN`` pieces, the device's return limit), and its record (recipe, seed, epochs, per-epoch
figures on the packed val) is added to ``members.json``. Those val figures are on WebP-packed images: the figures
that count are measured afterwards on the real PNGs (`scripts/compare_models.py`).

    KERAS_BACKEND=jax python scripts/train_members_gpu.py --pack .gpu --out OUT --budget 470

``--plan`` names the members (see ``PLANS``); ``--limit-per-grade`` and ``--max-epochs`` make a
tiny run to test the script on a CPU.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kneeoa_desktop.core.verdict.grades import NUM_GRADES  # noqa: E402
from kneeoa_desktop.core.verdict.metrics import classification_report  # noqa: E402
from kneeoa_desktop.core.knees.preprocess import preprocess  # noqa: E402
from kneeoa_desktop.training.augment import augment_image, augment_site  # noqa: E402
from kneeoa_desktop.training.sites import site_proxy  # noqa: E402
from kneeoa_desktop.training.train import class_weights  # noqa: E402

#: The candidate members, in order of priority (a member that does not fit the budget is skipped).
#: init: "imagenet" or a .keras path (relative to the repository).
PLANS = {
    "lite0-gpu-site": dict(architecture="lite0", init="imagenet", augmentation="site", freeze_through=0,
                           learning_rate=1e-3, max_epochs=30, seed=3101, share=0.28),
    "lite2-gpu-site": dict(architecture="lite2", init="imagenet", augmentation="site", freeze_through=0,
                           learning_rate=1e-3, max_epochs=30, seed=3102, share=0.36),
    "lite0-gpu-ftsite": dict(architecture="lite0", init="weights/kneeoa-kl-lite0.keras", augmentation="site",
                             freeze_through=-1, learning_rate=3e-4, max_epochs=12, seed=3103, share=0.16),
    # The second lent hour's run: one member given the whole budget (compiling costs ~70 s).
    "lite2-gpu-site-long": dict(architecture="lite2", init="imagenet", augmentation="site", freeze_through=0,
                                learning_rate=1e-3, max_epochs=40, seed=3105, share=1.0),
    "lite0-gpu-std": dict(architecture="lite0", init="imagenet", augmentation="standard", freeze_through=0,
                          learning_rate=1e-3, max_epochs=30, seed=3104, share=0.20),
}
SPLIT_BYTES = 15 * 1024 * 1024

_TRAIN: np.ndarray | None = None  # raw uint8 train crops, decoded in each worker


def decode_pack(path: Path, limit_per_grade: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    with np.load(path) as pack:
        data, offsets, grades = pack["bytes"], pack["offsets"], pack["grades"].astype(np.int64)
    keep = np.arange(len(grades))
    if limit_per_grade:
        keep = np.concatenate([np.flatnonzero(grades == g)[:limit_per_grade] for g in range(NUM_GRADES)])
    images = np.stack([cv2.imdecode(data[offsets[i]:offsets[i + 1]], cv2.IMREAD_GRAYSCALE) for i in keep])
    return images, grades[keep]


def _init_worker(pack: Path, limit_per_grade: int | None) -> None:
    global _TRAIN
    cv2.setNumThreads(1)  # one process per core already
    _TRAIN, _ = decode_pack(pack / "train.npz", limit_per_grade)


def _batch(task) -> np.ndarray:
    """One augmented batch (uint8: the network input × 255 is exact, and four times lighter)."""
    recipe, seed, epoch, step, indices = task
    rng = np.random.default_rng([seed, epoch, step])
    out = np.empty((len(indices), *_TRAIN.shape[1:]), np.uint8)
    for k, i in enumerate(indices):
        image = (augment_site if recipe == "site" else augment_image)(_TRAIN[i], rng)
        out[k] = np.rint(image[:, :, 0] * 255.0).astype(np.uint8)
    return out


def _lr(step: int, total: int, warmup: int, peak: float) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return 0.5 * peak * (1.0 + math.cos(math.pi * progress))


def _probabilities(model, inputs: np.ndarray, batch: int = 256) -> np.ndarray:
    return np.concatenate([np.asarray(model.predict_on_batch(inputs[i:i + batch]))
                           for i in range(0, len(inputs), batch)])


def _save(model_factory, weights, path: Path) -> list[str]:
    """Save a clean inference model (no optimizer) and split it for the return trip if large."""
    clean = model_factory()
    clean.set_weights(weights)
    clean.save(path)
    if path.stat().st_size <= SPLIT_BYTES:
        return [path.name]
    data, names = path.read_bytes(), []
    for k in range(0, len(data), SPLIT_BYTES):
        part = path.with_name(f"{path.name}.part{k // SPLIT_BYTES}")
        part.write_bytes(data[k:k + SPLIT_BYTES])
        names.append(part.name)
    path.unlink()
    return names


def train_member(name: str, plan: dict, ctx: dict, deadline: float, log) -> dict | None:
    import keras

    from kneeoa_desktop.core.model.architecture import build_model
    from kneeoa_desktop.training.losses import OrdinalCrossEntropy
    from kneeoa_desktop.training.pretrained import freeze_through, load_lite_imagenet

    start = time.time()
    if deadline - start < 60:
        log(f"{name}: skipped, {deadline - start:.0f} s left")
        return None
    arch, seed, batch = plan["architecture"], plan["seed"], ctx["batch"]
    keras.utils.set_random_seed(seed)
    model = build_model(arch)
    if plan["init"] == "imagenet":
        load_lite_imagenet(model, arch, ctx["pack"] / f"imagenet-{arch}.npz")
    else:
        from kneeoa_desktop.training.train import copy_weights

        copy_weights(ROOT / plan["init"], model)
    if plan["freeze_through"] >= 0:
        freeze_through(model, plan["freeze_through"])
    loss = OrdinalCrossEntropy(0.05, 1.0)
    model.compile(optimizer=keras.optimizers.AdamW(plan["learning_rate"], weight_decay=1e-2), loss=loss)

    y_train, weights = ctx["y_train"], class_weights(ctx["y_train"], 0.5)
    sample_weight = np.array([weights[g] for g in y_train], np.float32)
    one_hot = np.eye(NUM_GRADES, dtype=np.float32)
    steps = max(1, len(y_train) // batch)
    epochs = min(plan["max_epochs"], ctx["max_epochs"] or plan["max_epochs"])
    warmup = steps
    history, best, best_select, step_count, epoch = [], None, -1.0, 0, 0
    order_rng = np.random.default_rng(seed)
    while epoch < epochs:
        t0 = time.time()
        order = order_rng.permutation(len(y_train))
        tasks = [(plan["augmentation"], seed, epoch, s, order[s * batch:(s + 1) * batch]) for s in range(steps)]
        losses = []
        waited = 0.0
        batches = ctx["pool"].imap(_batch, tasks)
        for s in range(steps):
            w0 = time.time()
            images = next(batches)
            waited += time.time() - w0
            idx = tasks[s][4]
            model.optimizer.learning_rate.assign(_lr(step_count, epochs * steps, warmup, plan["learning_rate"]))
            x = images[..., None].astype(np.float32) * (1.0 / 255.0)
            out = model.train_on_batch(x, one_hot[y_train[idx]], sample_weight=sample_weight[idx])
            losses.append(float(out if np.isscalar(out) else np.ravel(out)[0]))
            step_count += 1
            if epoch == 0 and s in (0, 9):
                log(f"{name}: step {s + 1} done at {time.time() - t0:.1f} s")
        trained = time.time() - t0
        val = classification_report(ctx["y_val"], _probabilities(model, ctx["val_inputs"]))
        site = classification_report(ctx["y_val"], _probabilities(model, ctx["site_inputs"]))
        select = float(np.mean([val["quadratic_weighted_kappa"], site["quadratic_weighted_kappa"]]))
        seconds = time.time() - t0
        history.append({"epoch": epoch + 1, "loss": float(np.mean(losses)), "val_accuracy": val["accuracy"],
                        "val_kappa": val["quadratic_weighted_kappa"], "val_mae": val["mae"],
                        "site_accuracy": site["accuracy"], "site_kappa": site["quadratic_weighted_kappa"],
                        "select": select, "seconds": seconds})
        log(f"{name} epoch {epoch + 1}/{epochs}: loss {np.mean(losses):.4f} | val acc {val['accuracy']:.3f} "
            f"kappa {val['quadratic_weighted_kappa']:.3f} mae {val['mae']:.3f} | sites acc "
            f"{site['accuracy']:.3f} kappa {site['quadratic_weighted_kappa']:.3f} ({seconds:.1f} s: train "
            f"{trained:.1f}, of it waiting for augmentation {waited:.1f})")
        if select > best_select:
            best_select, best = select, [np.array(w) for w in model.get_weights()]
            history[-1]["best"] = True
        epoch += 1
        if epoch == 2:  # steady speed known: fit the schedule to this member's share of the budget
            left = min(start + plan["share_seconds"], deadline) - time.time() - 10.0  # 10 s to save
            epochs = max(epoch, min(epochs, epoch + int(left // seconds)))
            log(f"{name}: {seconds:.1f} s per epoch → {epochs} epochs")
        if time.time() + seconds > deadline and epoch < epochs:
            log(f"{name}: stopped after epoch {epoch}, the budget is spent")
            break
    files = _save(lambda: build_model(arch), best, ctx["out"] / f"{name}.keras")
    if ctx.get("save_last") and history and not history[-1].get("best"):
        # The end of the cosine schedule, too: the choice by the noisy proxy is measured later.
        files += _save(lambda: build_model(arch), model.get_weights(), ctx["out"] / f"{name}-last.keras")
    record = {"member": name, **{k: v for k, v in plan.items() if k != "share_seconds"}, "epochs": epochs,
              "batch_size": batch, "best_epoch": int(max(history, key=lambda h: h["select"])["epoch"]),
              "files": files, "seconds": time.time() - start, "history": history,
              "note": "val figures on WebP-packed images; measure again on the real PNGs"}
    # One file for all members (the device returns at most 8 files).
    records_file = ctx["out"] / "members.json"
    records = json.loads(records_file.read_text()) if records_file.is_file() else []
    records_file.write_text(json.dumps([*records, record], indent=1) + "\n")
    log(f"{name}: best epoch {record['best_epoch']} (select {best_select:.3f}), {record['seconds']:.0f} s, {files}")
    return record


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pack", type=Path, default=Path(".gpu"))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--budget", type=float, default=470.0, help="seconds for all members")
    parser.add_argument("--plan", nargs="*", default=[n for n in PLANS if not n.endswith("-long")],
                        choices=list(PLANS))
    parser.add_argument("--limit-per-grade", type=int)
    parser.add_argument("--max-epochs", type=int)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--save-last", action="store_true", help="also save the last epoch's weights")
    parser.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2) - 1))
    args = parser.parse_args(argv)
    began = time.time()
    deadline = began + args.budget
    args.out.mkdir(parents=True, exist_ok=True)
    log_file = (args.out / "train.log").open("a")

    def log(line: str) -> None:
        stamped = f"[{time.time() - began:6.1f} s] {line}"
        print(stamped, flush=True)
        log_file.write(stamped + "\n")
        log_file.flush()

    # Fork first, before OpenCV's or JAX's threads exist: a child forked from a process whose
    # thread pools have started can hang on their locks. Each worker decodes its own copy.
    pool = mp.get_context("fork").Pool(args.workers, _init_worker, (args.pack, args.limit_per_grade))
    _, y_train = decode_pack(args.pack / "train.npz", args.limit_per_grade)
    raw_val, y_val = decode_pack(args.pack / "val.npz", args.limit_per_grade)
    val_inputs = np.stack([preprocess(x, (224, 224)) for x in raw_val])
    site_inputs = site_proxy(raw_val, seed=0)
    log(f"data: train {len(y_train)}, val {len(y_val)}; {args.workers} augmentation workers")
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras

    log(f"keras {keras.__version__} on {keras.backend.backend()}")
    ctx = {"pack": args.pack, "out": args.out, "pool": pool, "y_train": y_train, "y_val": y_val,
           "val_inputs": val_inputs, "site_inputs": site_inputs, "batch": args.batch_size,
           "max_epochs": args.max_epochs, "save_last": args.save_last}
    names = [n for n in args.plan if n in PLANS]
    total_share = sum(PLANS[n]["share"] for n in names)
    done = []
    for k, name in enumerate(names):
        plan = dict(PLANS[name])
        # Each member's share of what is left, so that time one member saves goes to the next.
        left_share = sum(PLANS[n]["share"] for n in names[k:])
        plan["share_seconds"] = (deadline - time.time()) * plan["share"] / left_share
        try:
            record = train_member(name, plan, ctx, deadline, log)
        except Exception as error:  # one member's failure must not lose the others
            import traceback

            log(f"{name}: FAILED {error!r}\n{traceback.format_exc()}")
            continue
        if record:
            done.append(record["member"])
    pool.terminate()
    log(f"done: {done} in {time.time() - began:.0f} s (shares {total_share:.2f})")
    return 0 if done else 1


if __name__ == "__main__":
    raise SystemExit(main())
