"""The network: a compact convolutional classifier with a global-pool + dense head.

That head makes class activation maps (CAM) exact and nearly free: the evidence for grade g
is the last feature map weighted by the dense weights of g. Layer names ``features`` and
``head`` are the contract the predictor relies on.
"""

from __future__ import annotations


def build_model(input_size: tuple[int, int] = (224, 224), widths=(24, 48, 96, 192),
                dropout: float = 0.3, num_classes: int = 5):
    """Build the KL-grade classifier (one gray channel in, ``num_classes`` probabilities out)."""
    import keras
    from keras import layers

    inputs = keras.Input((*input_size, 1), name="radiograph")
    x = inputs
    for stage, width in enumerate(widths):
        # The first stage downsamples with a strided conv; later ones with max-pooling.
        if stage == 0:
            x = _conv(x, width, stride=2, name="stem")
        else:
            x = layers.MaxPooling2D(2, name=f"pool{stage}")(x)
            x = _conv(x, width, name=f"s{stage}a")
        x = _conv(x, width, name=f"s{stage}b", last=(stage == len(widths) - 1))
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="head")(x)
    return keras.Model(inputs, outputs, name="kneeoa_kl_cnn")


def _conv(x, width, stride=1, name="", last=False):
    from keras import layers

    x = layers.Conv2D(width, 3, strides=stride, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.ReLU(name="features" if last else f"{name}_relu")(x)
