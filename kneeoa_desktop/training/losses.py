"""Training losses that respect the order of KL grades.

Cross-entropy treats "KL0 called KL4" like "KL0 called KL1". The squared earth mover's
distance between predicted and true grade distributions (Hou et al., 2016) penalises a
mistake by how far it lands, which is what kappa and MAE measure.
"""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="kneeoa")
class OrdinalCrossEntropy(keras.losses.Loss):
    """Cross-entropy (with label smoothing) + ``ordinal_weight`` × squared EMD over grade CDFs."""

    def __init__(self, label_smoothing: float = 0.05, ordinal_weight: float = 1.0,
                 name: str = "ordinal_cross_entropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.label_smoothing = float(label_smoothing)
        self.ordinal_weight = float(ordinal_weight)
        self._ce = keras.losses.CategoricalCrossentropy(label_smoothing=self.label_smoothing,
                                                        reduction=None)

    def call(self, y_true, y_pred):
        ce = self._ce(y_true, y_pred)
        if self.ordinal_weight == 0.0:
            return ce
        cdf_gap = ops.cumsum(y_pred, axis=-1) - ops.cumsum(y_true, axis=-1)
        emd2 = ops.sum(ops.square(cdf_gap), axis=-1)
        return ce + self.ordinal_weight * emd2

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing,
                "ordinal_weight": self.ordinal_weight}
