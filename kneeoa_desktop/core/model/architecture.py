"""The networks: EfficientNet-Lite0/1/2 (the shipped members) and a compact CNN (tiny test runs).

Both end in global-average-pooling + a dense ``head`` that gives logits, then a fixed
``temperature`` scaling (fitted on val after training) and a softmax. That head makes class
activation maps (CAM) exact and nearly free: the evidence for grade g is the last feature map
(layer ``features``) weighted by the dense weights of g. Layer names ``features`` and ``head``
are the contract the predictor relies on; every layer is a standard Keras layer, so the saved
model loads with ``safe_mode=True``.
"""

from __future__ import annotations

#: EfficientNet-Lite0 stages: (kernel, stride, expand ratio, output channels, repeats).
LITE0_STAGES = ((3, 1, 1, 16, 1), (3, 2, 6, 24, 2), (5, 2, 6, 40, 2), (3, 2, 6, 80, 3),
                (5, 1, 6, 112, 3), (5, 2, 6, 192, 4), (3, 1, 6, 320, 1))
#: Lite1 and Lite2 scale the widths and repeats (not the stem, the top, the first and last
#: stage: EfficientNet-Lite keeps them fixed); read off the official ImageNet files.
LITE_STAGES = {
    "lite0": LITE0_STAGES,
    "lite1": ((3, 1, 1, 16, 1), (3, 2, 6, 24, 3), (5, 2, 6, 40, 3), (3, 2, 6, 80, 4),
              (5, 1, 6, 112, 4), (5, 2, 6, 192, 5), (3, 1, 6, 320, 1)),
    "lite2": ((3, 1, 1, 16, 1), (3, 2, 6, 24, 3), (5, 2, 6, 48, 3), (3, 2, 6, 88, 4),
              (5, 1, 6, 120, 4), (5, 2, 6, 208, 5), (3, 1, 6, 352, 1)),
}
LITE0_STEM, LITE0_TOP = 32, 1280
ARCHITECTURES = ("lite0", "lite1", "lite2", "cnn")


def build_model(architecture: str = "lite0", input_size: tuple[int, int] = (224, 224),
                widths=(24, 48, 96, 192), dropout: float = 0.3, num_classes: int = 5,
                temperature: float = 1.0):
    """Build the KL-grade classifier (one gray channel in [0, 1], ``num_classes`` probabilities out)."""
    import keras
    from keras import layers

    inputs = keras.Input((*input_size, 1), name="radiograph")
    if architecture in LITE_STAGES:
        features, name = _lite_features(inputs, LITE_STAGES[architecture]), f"kneeoa_kl_{architecture}"
    elif architecture == "cnn":
        features, name = _cnn_features(inputs, widths), "kneeoa_kl_cnn"
    else:
        raise ValueError(f"unknown architecture {architecture!r} (choose from {', '.join(ARCHITECTURES)})")
    x = layers.GlobalAveragePooling2D(name="gap")(features)
    x = layers.Dropout(dropout, name="dropout")(x)
    logits = layers.Dense(num_classes, name="head")(x)
    scaled = layers.Rescaling(1.0 / float(temperature), name="temperature")(logits)
    outputs = layers.Softmax(name="probabilities")(scaled)
    return keras.Model(inputs, outputs, name=name)


def _lite_features(inputs, stages=LITE0_STAGES):
    """EfficientNet-Lite (ReLU6, no squeeze-excitation) with a 14×14 evidence map.

    Lite0's last map is 7×7 at 224 px, too coarse for an evidence map, and running its last
    stride-2 stage at stride 1 costs more than the whole rest of the network on a laptop CPU.
    Instead the 7×7 top features are upsampled (bilinear) and added to a 1×1 projection of the
    14×14 stage-5 map: the layer before the global pool (``features``) is then 14×14, so the
    CAM stays exact and at least as fine as before. The projection starts at zero, so training
    begins from the pretrained network unchanged.
    """
    from keras import layers

    # ImageNet input convention (x − 127) / 128 on 0–255; the gray channel stands for R = G = B.
    x = layers.Rescaling(255.0 / 128.0, offset=-127.0 / 128.0, name="imagenet_scale")(inputs)
    x = _conv_bn(x, LITE0_STEM, 3, 2, "stem", act=True)
    block, channels = 0, LITE0_STEM
    for stage, (kernel, stride, expand, out, repeats) in enumerate(stages):
        if stage == 5:
            mid = x  # 14×14 (112 channels in Lite0), the last map before the final stride-2 stage
        for r in range(repeats):
            x = _mbconv(x, channels, out, kernel, stride if r == 0 else 1, expand, f"b{block}")
            channels, block = out, block + 1
    x = _conv_bn(x, LITE0_TOP, 1, 1, "top", act=True)
    x = layers.UpSampling2D(2, interpolation="bilinear", name="top_up")(x)
    lateral = layers.Conv2D(LITE0_TOP, 1, kernel_initializer="zeros", name="lateral_conv")(mid)
    return layers.Add(name="features")([x, lateral])


def _mbconv(x, channels_in, channels_out, kernel, stride, expand, name):
    from keras import layers

    shortcut = x
    if expand != 1:
        x = _conv_bn(x, channels_in * expand, 1, 1, f"{name}_expand", act=True)
    x = layers.DepthwiseConv2D(kernel, strides=stride, padding="same", use_bias=False, name=f"{name}_dw")(x)
    x = layers.BatchNormalization(epsilon=1e-3, name=f"{name}_dw_bn")(x)
    x = layers.ReLU(6.0, name=f"{name}_dw_relu")(x)
    x = _conv_bn(x, channels_out, 1, 1, f"{name}_project", act=False)
    if stride == 1 and channels_in == channels_out:
        x = layers.Add(name=f"{name}_add")([shortcut, x])
    return x


def _conv_bn(x, filters, kernel, stride, name, act):
    from keras import layers

    x = layers.Conv2D(filters, kernel, strides=stride, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(epsilon=1e-3, name=f"{name}_bn")(x)
    return layers.ReLU(6.0, name=f"{name}_relu")(x) if act else x


def _cnn_features(inputs, widths):
    """A compact from-scratch CNN: four stages of 3×3 convolutions (fast; for tiny test runs)."""
    from keras import layers

    x = inputs
    for stage, width in enumerate(widths):
        # The first stage downsamples with a strided conv; later ones with max-pooling.
        if stage == 0:
            x = _conv(x, width, stride=2, name="stem")
        else:
            x = layers.MaxPooling2D(2, name=f"pool{stage}")(x)
            x = _conv(x, width, name=f"s{stage}a")
        x = _conv(x, width, name=f"s{stage}b", last=(stage == len(widths) - 1))
    return x


def _conv(x, width, stride=1, name="", last=False):
    from keras import layers

    x = layers.Conv2D(width, 3, strides=stride, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.ReLU(name="features" if last else f"{name}_relu")(x)
