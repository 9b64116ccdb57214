"""Augmentation for knee radiographs, done in tf.data so the model itself stays XLA-compilable.

Left/right flip (left and right knees mirror each other), small rotation, scale and shift,
brightness, contrast and gamma. Operates on batches of float images in [0, 1].
"""

from __future__ import annotations

import math


def augment_batch(images, seed_pair, max_rotation_deg=8.0, scale_range=(0.92, 1.08),
                  max_shift=0.06, brightness=0.08, contrast=(0.85, 1.15), gamma=(0.8, 1.25)):
    """Randomly transform a batch (B, H, W, 1); ``seed_pair`` is a stateless (2,) int seed."""
    import tensorflow as tf

    batch = tf.shape(images)[0]
    height = tf.cast(tf.shape(images)[1], tf.float32)
    width = tf.cast(tf.shape(images)[2], tf.float32)
    seeds = tf.random.experimental.stateless_split(seed_pair, num=8)

    def uniform(i, lo, hi):
        return tf.random.stateless_uniform([batch], seeds[i], lo, hi)

    flip = uniform(0, 0.0, 1.0) < 0.5
    images = tf.where(flip[:, None, None, None], tf.reverse(images, axis=[2]), images)

    angle = uniform(1, -max_rotation_deg, max_rotation_deg) * (math.pi / 180.0)
    scale = uniform(2, *scale_range)
    tx = uniform(3, -max_shift, max_shift) * width
    ty = uniform(4, -max_shift, max_shift) * height
    # Inverse map output → input coordinates: rotate and scale about the image centre.
    cos, sin = tf.cos(angle) / scale, tf.sin(angle) / scale
    cx, cy = (width - 1.0) / 2.0, (height - 1.0) / 2.0
    a0, a1 = cos, -sin
    b0, b1 = sin, cos
    a2 = cx - a0 * cx - a1 * cy - tx
    b2 = cy - b0 * cx - b1 * cy - ty
    zeros = tf.zeros_like(a0)
    transforms = tf.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)
    images = tf.raw_ops.ImageProjectiveTransformV3(
        images=images, transforms=transforms, output_shape=tf.shape(images)[1:3],
        interpolation="BILINEAR", fill_mode="REFLECT", fill_value=0.0)

    g = uniform(5, math.log(gamma[0]), math.log(gamma[1]))
    images = tf.pow(tf.clip_by_value(images, 1e-6, 1.0), tf.exp(g)[:, None, None, None])
    c = uniform(6, *contrast)[:, None, None, None]
    mean = tf.reduce_mean(images, axis=[1, 2, 3], keepdims=True)
    images = (images - mean) * c + mean
    images = images + uniform(7, -brightness, brightness)[:, None, None, None]
    return tf.clip_by_value(images, 0.0, 1.0)
