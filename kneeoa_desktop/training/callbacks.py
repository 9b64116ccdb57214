"""Keras callbacks of a training run: validation figures into the epoch logs, and a progress log."""

from __future__ import annotations

import time

import keras
import numpy as np

from ..core.verdict.grades import NUM_GRADES
from ..core.verdict.metrics import classification_report


def predict_probabilities(model, images, batch_size: int = 64) -> np.ndarray:
    out = [np.asarray(model(images[i:i + batch_size], training=False))
           for i in range(0, int(images.shape[0]), batch_size)]
    return np.concatenate(out, 0)


class ValidationMetrics(keras.callbacks.Callback):
    """Adds val figures to each epoch's logs, the loss measured as in training (same loss, weights).

    ``val_shift_*`` are the same figures on the site proxy (val re-processed as other hospitals'
    films look, ``augment.site_proxy``); ``val_frame_*``, when a framing proxy is given, on val cut
    to other crop shapes (``augment.framing_proxy``). ``val_select``, the mean of the kappas,
    chooses the checkpoint, so that a model that only fits this cohort's look is not preferred.
    """

    def __init__(self, inputs, grades, sample_weight, proxy, loss, framing=None):
        super().__init__()
        self.inputs, self.grades, self.weight, self.proxy, self.loss = inputs, grades, sample_weight, proxy, loss
        self.framing = framing

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.time()

    def on_epoch_end(self, epoch, logs=None):
        probs = predict_probabilities(self.model, self.inputs)
        report = classification_report(self.grades, probs)
        shifted = classification_report(self.grades, predict_probabilities(self.model, self.proxy))
        y = np.eye(NUM_GRADES, dtype=np.float32)[self.grades]
        losses = np.asarray(self.loss.call(y, probs.astype(np.float32)))
        logs["val_loss"] = float(np.sum(losses * self.weight) / len(losses))
        logs["val_accuracy"] = report["accuracy"]
        logs["val_kappa"] = report["quadratic_weighted_kappa"]
        logs["val_mae"] = report["mae"]
        logs["val_oa_auc"] = report["oa_auc"]
        logs["val_shift_accuracy"] = shifted["accuracy"]
        logs["val_shift_kappa"] = shifted["quadratic_weighted_kappa"]
        kappas = [report["quadratic_weighted_kappa"], shifted["quadratic_weighted_kappa"]]
        if self.framing is not None:
            framed = classification_report(self.grades, predict_probabilities(self.model, self.framing))
            logs["val_frame_accuracy"] = framed["accuracy"]
            logs["val_frame_kappa"] = framed["quadratic_weighted_kappa"]
            kappas.append(framed["quadratic_weighted_kappa"])
        logs["val_select"] = float(np.mean(kappas))
        logs["seconds"] = time.time() - self.start


class ProgressLog(keras.callbacks.Callback):
    """A line per 50 steps and per epoch, for a log file a person can follow."""

    def __init__(self, log, steps: int):
        super().__init__()
        self.log, self.steps = log, steps

    def on_epoch_begin(self, epoch, logs=None):
        self.start, self.epoch = time.time(), epoch

    def on_train_batch_end(self, batch, logs=None):
        if (batch + 1) % 50 == 0:
            self.log(f"  epoch {self.epoch + 1} step {batch + 1}/{self.steps}: loss "
                     f"{float(logs.get('loss', 0)):.4f} ({time.time() - self.start:.0f} s)")

    def on_epoch_end(self, epoch, logs=None):
        self.log(f"epoch {epoch + 1}: loss {logs['loss']:.4f} acc {logs['accuracy']:.3f} | val loss "
                 f"{logs['val_loss']:.4f} acc {logs['val_accuracy']:.3f} kappa {logs['val_kappa']:.3f} "
                 f"mae {logs['val_mae']:.3f} | site proxy acc {logs['val_shift_accuracy']:.3f} kappa "
                 f"{logs['val_shift_kappa']:.3f}{self._framing(logs)} ({time.time() - self.start:.0f} s)")

    @staticmethod
    def _framing(logs) -> str:
        if "val_frame_kappa" not in logs:
            return ""
        return f" | other shapes acc {logs['val_frame_accuracy']:.3f} kappa {logs['val_frame_kappa']:.3f}"
